// Constants shared by every role. Values are Ganeti 3.0's (spec/core.md §0), so that
// real Ganeti clients and tools see the numbers they expect.

declare const __GANETI_VERSION__: string | undefined;

/** Ganeti release we are wire-compatible with. */
export const RELEASE_VERSION: string =
  typeof __GANETI_VERSION__ === 'string' ? __GANETI_VERSION__ : '3.0.2';
export const VCS_VERSION = `(ganeti-ts) version ${RELEASE_VERSION}`;

export function buildVersion(major: number, minor: number, revision: number): number {
  return 1000000 * major + 10000 * minor + revision;
}
const [MAJOR, MINOR] = RELEASE_VERSION.split('.').map(Number);
export const PROTOCOL_VERSION = buildVersion(MAJOR, MINOR, 0);
export const CONFIG_VERSION = PROTOCOL_VERSION;
export const LUXI_VERSION = PROTOCOL_VERSION;
export const OS_API_VERSION = 20;
export const EXPORT_VERSION = 0;
export const JOB_QUEUE_VERSION = 1;

export const DEFAULT_NODED_PORT = 1811;
export const DEFAULT_RAPI_PORT = 5080;

export const EXIT_SUCCESS = 0;
export const EXIT_FAILURE = 1;
export const EXIT_OPTPARSE = 2;
export const EXIT_NOTCLUSTER = 5;
export const EXIT_NOTMASTER = 11;
export const EXIT_NODESETUP_ERROR = 12;
export const EXIT_CONFIRMATION = 13;
export const EXIT_UNKNOWN_FIELD = 14;

/** LUXI end-of-message byte. */
export const LUXI_EOM = 0x03;
/** Largest LUXI message we accept; a bigger one is refused, not buffered without end. */
export const LUXI_MAX_MESSAGE = 64 * 1024 * 1024;
export const LUXI_DEF_CTMO = 30;
export const LUXI_DEF_RWTO = 180;
export const LUXI_WFJC_TIMEOUT = Math.floor((LUXI_DEF_RWTO - 1) / 2);
export const JOB_NOTCHANGED = 'nochange';

export const JOB_QUEUE_SIZE_HARD_LIMIT = 5000;
export const JOBS_PER_ARCHIVE_DIRECTORY = 10000;
export const DEFAULT_MAX_RUNNING_JOBS = 20;
export const DEFAULT_MAX_TRACKED_JOBS = 25;

export const OP_PRIO_LOWEST = 19;
export const OP_PRIO_HIGHEST = -20;
export const OP_PRIO_LOW = 10;
export const OP_PRIO_NORMAL = 0;
export const OP_PRIO_HIGH = -10;
export const OP_PRIO_SUBMIT_VALID = [OP_PRIO_LOW, OP_PRIO_NORMAL, OP_PRIO_HIGH];
export const PRIORITY_NAMES: Record<string, number> = { low: OP_PRIO_LOW, normal: OP_PRIO_NORMAL, high: OP_PRIO_HIGH };

export const JOB_STATUS = {
  QUEUED: 'queued',
  WAITING: 'waiting',
  CANCELING: 'canceling',
  RUNNING: 'running',
  CANCELED: 'canceled',
  SUCCESS: 'success',
  ERROR: 'error',
} as const;
export type JobStatus = (typeof JOB_STATUS)[keyof typeof JOB_STATUS];
export const JOBS_FINALIZED: ReadonlySet<string> = new Set(['canceled', 'success', 'error']);
export const JOBS_PENDING: ReadonlySet<string> = new Set(['queued', 'waiting', 'canceling']);

export const ELOG_MESSAGE = 'message';

/** Query result cell statuses (RS_*). */
export const RS_NORMAL = 0;
export const RS_UNKNOWN = 1;
export const RS_NODATA = 2;
export const RS_UNAVAIL = 3;
export const RS_OFFLINE = 4;

/** RPC read timeouts per class, seconds (spec/core.md §4.1). */
export const RPC_TMO = { URGENT: 60, FAST: 300, NORMAL: 900, SLOW: 3600, FOUR_HRS: 14400, ONE_DAY: 86400 } as const;
export const RPC_CONNECT_TIMEOUT = 5;
/** How far a signed RPC request's clock may be from the node's before it is refused. */
export const RPC_MAX_CLOCK_SKEW_MS = 60_000;

export const HT_FAKE = 'fake';
export const HYPERVISORS = ['xen-pvm', 'xen-hvm', 'kvm', 'fake', 'chroot', 'lxc'] as const;
export const DISK_TEMPLATES = ['diskless', 'file', 'sharedfile', 'plain', 'blockdev', 'drbd', 'rbd', 'ext', 'gluster'] as const;

