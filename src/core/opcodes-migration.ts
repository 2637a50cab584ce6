// Instance migration and failover, node migration and evacuation, replace-disks
// (upstream's OpInstanceMigrate, OpInstanceFailover, OpNodeMigrate, OpNodeEvacuate,
// OpInstanceReplaceDisks: parameters, types and defaults of src/Ganeti/OpCodes.hs and
// OpParams.hs, which the real RAPI client and gnt-* tools send).
// Only types come from ./opcodes.ts: it imports this module before its own values exist.
import type { OpcodeSpec, ParamSpec, ParamType } from './opcodes.ts';

const t = (name: string, check: (v: unknown) => boolean): ParamType => ({ name, check });
/** The checks of ./opcodes.ts's T that these opcodes use (same names, so errors read alike). */
const T = {
  bool: t('boolean', (v) => typeof v === 'boolean'),
  string: t('string', (v) => typeof v === 'string'),
  nonEmptyString: t('non-empty string', (v) => typeof v === 'string' && v.length > 0),
  nonNegInt: t('non-negative integer', (v) => typeof v === 'number' && Number.isInteger(v) && v >= 0),
};

const oneOf = (values: readonly string[]): ParamType => ({
  name: `one of ${values.map((v) => `'${v}'`).join(', ')}`,
  check: (v) => typeof v === 'string' && values.includes(v),
});

/** HT_MIGRATION_MODES */
export const MIGRATION_MODES = ['live', 'non-live'] as const;
/** NODE_EVAC_MODES (pEvacMode) */
export const NODE_EVAC_MODES = ['primary-only', 'secondary-only', 'all'] as const;
/** REPLACE_MODES (pReplaceDisksMode) */
export const REPLACE_DISK_MODES = ['replace_on_primary', 'replace_on_secondary', 'replace_new_secondary', 'replace_auto'] as const;

const optString: ParamSpec = { type: T.nonEmptyString, default: null, optional: true };
const optBool: ParamSpec = { type: T.bool, default: null, optional: true };
const INSTANCE_NAME: Record<string, ParamSpec> = { instance_name: { type: T.string }, instance_uuid: optString };
const NODE_NAME: Record<string, ParamSpec> = { node_name: { type: T.nonEmptyString }, node_uuid: optString };
const MIGRATION_MODE: ParamSpec = { type: oneOf(MIGRATION_MODES), default: null, optional: true, doc: 'Migration type (live/non-live)' };
const TARGET_NODE: Record<string, ParamSpec> = {
  target_node: { ...optString, doc: 'Target node for instance migration/failover' },
  target_node_uuid: optString,
};
const diskIndexList: ParamType = {
  name: 'list of disk indices between 0 and 15',
  check: (v) => Array.isArray(v) && v.every((i) => typeof i === 'number' && Number.isInteger(i) && i >= 0 && i < 16),
};

export const MIGRATION_OPCODES: OpcodeSpec[] = [
  {
    id: 'OP_INSTANCE_MIGRATE',
    doc: 'Migrates an instance to another node without shutting it down (live or non-live).',
    summaryParam: 'instance_name',
    params: {
      ...INSTANCE_NAME,
      mode: MIGRATION_MODE,
      live: { ...optBool, doc: "Obsolete 'live' migration mode (do not use)" },
      ...TARGET_NODE,
      allow_runtime_changes: { type: T.bool, default: true },
      ignore_ipolicy: { type: T.bool, default: false },
      cleanup: { type: T.bool, default: false, doc: 'Whether a previously failed migration should be cleaned up' },
      iallocator: optString,
      allow_failover: { type: T.bool, default: false },
      ignore_hvversions: { type: T.bool, default: false },
    },
  },
  {
    id: 'OP_INSTANCE_FAILOVER',
    doc: 'Stops an instance, changes its primary node and starts it there if it was running.',
    summaryParam: 'instance_name',
    params: {
      ...INSTANCE_NAME,
      shutdown_timeout: { type: T.nonNegInt, default: 120 },
      ignore_consistency: { type: T.bool, default: false },
      ...TARGET_NODE,
      ignore_ipolicy: { type: T.bool, default: false },
      cleanup: { type: T.bool, default: false },
      iallocator: optString,
    },
  },
  {
    id: 'OP_NODE_MIGRATE',
    doc: "Migrates all of a node's primary instances; returns {jobs: [[ok, job id], ...]}.",
    summaryParam: 'node_name',
    params: {
      ...NODE_NAME,
      mode: MIGRATION_MODE,
      live: { ...optBool, doc: "Obsolete 'live' migration mode (do not use)" },
      ...TARGET_NODE,
      allow_runtime_changes: { type: T.bool, default: true },
      ignore_ipolicy: { type: T.bool, default: false },
      iallocator: optString,
    },
  },
  {
    id: 'OP_NODE_EVACUATE',
    doc: 'Relocates the instances of a node; returns {jobs: [[ok, job id], ...]}.',
    summaryParam: 'node_name',
    params: {
      early_release: { type: T.bool, default: false },
      ...NODE_NAME,
      remote_node: optString,
      remote_node_uuid: optString,
      iallocator: optString,
      mode: { type: oneOf(NODE_EVAC_MODES), doc: 'Node evacuation mode' },
      ignore_soft_errors: optBool,
    },
  },
  {
    id: 'OP_INSTANCE_REPLACE_DISKS',
    doc: "Replaces an instance's disks (DRBD only).",
    summaryParam: 'instance_name',
    params: {
      ...INSTANCE_NAME,
      early_release: { type: T.bool, default: false },
      ignore_ipolicy: { type: T.bool, default: false },
      mode: { type: oneOf(REPLACE_DISK_MODES), doc: 'Replacement mode' },
      disks: { type: diskIndexList, default: [] },
      remote_node: optString,
      remote_node_uuid: optString,
      iallocator: optString,
    },
  },
];
