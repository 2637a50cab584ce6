// Cluster initialisation and destruction. These are not jobs: `gnt-cluster init` runs
// in-process on the future master (as upstream's bootstrap.InitCluster), writes the
// configuration, keys, ssconf and queue, then starts noded and masterd.
import fs from 'node:fs';
import net from 'node:net';
import { resolveHost as resolve } from '../util/resolve.ts';
import crypto from 'node:crypto';
import {
  CONFIG_VERSION, DEFAULT_MAX_RUNNING_JOBS, DEFAULT_MAX_TRACKED_JOBS, DISK_TEMPLATES, HYPERVISORS, JOB_QUEUE_VERSION,
} from '../core/constants.ts';
import { ECODE, OpPrereqError } from '../core/errors.ts';
import { ssconfText } from '../core/ssconf.ts';
import { mkdirs, writeFileAtomicSync } from '../util/fs.ts';
import type { NodeEnv, NodePaths } from '../util/paths.ts';
import { deriveNodeKey, encodeKey, generateClusterSecret } from '../rpc/auth.ts';
import { newClusterCertificate, writeClusterTransport } from '../rpc/transport.ts';
import { writeRapiCertificate } from '../rapi/certificate.ts';
import * as D from './config/defaults.ts';
import { nowFloat, type ConfigData } from './config/model.ts';
import { writeConfigFileSync } from './config/store.ts';
import { ssconfValues } from './config/ssconf.ts';
import { vgInfo, volumeGroupProblem } from '../node/storage/lvm.ts';
import { storageRunner } from '../node/storage/commands.ts';

export interface InitOptions {
  clusterName: string;
  primaryIp?: string;
  secondaryIp?: string;
  masterIp?: string;
  masterNetdev?: string;
  masterNetmask?: number;
  enabledHypervisors?: string[];
  enabledDiskTemplates?: string[];
  nicParams?: Record<string, string>;
  candidatePoolSize?: number;
  macPrefix?: string;
  fileStorageDir?: string;
  sharedFileStorageDir?: string;
  /** The LVM volume group of plain disks (gnt-cluster init --vg-name). */
  vgName?: string;
}

const DEFAULT_VG = 'xenvg';
const HOSTNAME_RE = /^[a-z0-9]([a-z0-9-]{0,62})(\.[a-z0-9]([a-z0-9-]{0,62}))*\.?$/i;

function checkIp(value: string, what: string): string {
  if (net.isIP(value) === 0) throw new OpPrereqError(`Invalid ${what} '${value}'`, ECODE.INVAL);
  return value;
}

function checkList(given: string[], known: readonly string[], what: string): string[] {
  if (given.length === 0) throw new OpPrereqError(`At least one ${what} must be enabled`, ECODE.INVAL);
  for (const g of given) if (!known.includes(g)) throw new OpPrereqError(`Unknown ${what} '${g}' (known: ${known.join(', ')})`, ECODE.INVAL);
  return given;
}

/**
 * The cluster's volume group: the one given (or upstream's default "xenvg" when an
 * lvm-based template is enabled), checked on this node as bootstrap.InitCluster does; null
 * without lvm-based templates and no --vg-name.
 */
async function initialVolumeGroup(given: string | undefined, templates: string[]): Promise<string | null> {
  const vg = given || (templates.some((t) => t === 'plain' || t === 'drbd') ? DEFAULT_VG : null);
  if (!vg) return null;
  const vgs = await vgInfo(storageRunner(), [], false);
  const problem = volumeGroupProblem(Object.fromEntries((vgs ?? []).map((v) => [v.name, Math.floor(v.size)])), vg);
  if (problem) throw new OpPrereqError(`Error: ${problem}`, ECODE.ENVIRON);
  return vg;
}

/** Build config.data for a new one-node cluster. */
export async function buildInitialConfig(env: NodeEnv, opts: InitOptions): Promise<ConfigData> {
  if (!HOSTNAME_RE.test(opts.clusterName)) throw new OpPrereqError(`Invalid cluster name '${opts.clusterName}'`, ECODE.INVAL);
  const primaryIp = opts.primaryIp !== undefined ? checkIp(opts.primaryIp, 'primary IP address') : await resolve(env.hostname);
  if (!primaryIp) {
    throw new OpPrereqError(`Cannot resolve this node's name '${env.hostname}'; give its address with --primary-ip`, ECODE.RESOLVER);
  }
  const secondaryIp = opts.secondaryIp !== undefined ? checkIp(opts.secondaryIp, 'secondary IP address') : primaryIp;
  let masterIp = opts.masterIp !== undefined ? checkIp(opts.masterIp, 'master IP address') : await resolve(opts.clusterName);
  if (!masterIp && env.virtual) masterIp = primaryIp;
  if (!masterIp) {
    throw new OpPrereqError(`Cannot resolve the cluster name '${opts.clusterName}'; give the master IP address with --master-ip`, ECODE.RESOLVER);
  }
  const family = net.isIPv6(primaryIp) ? 10 : 2;
  const loopback = primaryIp.startsWith('127.') || primaryIp === '::1';
  const hypervisors = checkList(opts.enabledHypervisors ?? ['fake'], HYPERVISORS, 'hypervisor');
  const templates = checkList(opts.enabledDiskTemplates ?? ['diskless', 'file'], DISK_TEMPLATES, 'disk template');
  const now = nowFloat();
  const nodeUuid = crypto.randomUUID();
  const groupUuid = crypto.randomUUID();
  const clusterUuid = crypto.randomUUID();
  const common = (uuid: string) => ({ uuid, serial_no: 1, ctime: now, mtime: now, tags: [] as string[] });
  const nicparams = { default: { ...D.DEFAULT_NICPARAMS.default, link: loopback ? 'lo' : 'xen-br0', ...(opts.nicParams ?? {}) } };
  const ipolicy = { ...structuredClone(D.DEFAULT_IPOLICY), 'disk-templates': templates };
  return {
    version: CONFIG_VERSION,
    cluster: {
      ...common(clusterUuid),
      cluster_name: opts.clusterName,
      master_node: nodeUuid,
      master_ip: masterIp,
      master_netdev: opts.masterNetdev ?? (loopback ? 'lo' : 'xen-br0'),
      master_netmask: opts.masterNetmask ?? (family === 10 ? 128 : 32),
      use_external_mip_script: false,
      primary_ip_family: family,
      candidate_pool_size: opts.candidatePoolSize ?? 10,
      max_running_jobs: DEFAULT_MAX_RUNNING_JOBS,
      max_tracked_jobs: DEFAULT_MAX_TRACKED_JOBS,
      enabled_hypervisors: hypervisors,
      enabled_disk_templates: templates,
      hvparams: structuredClone(D.DEFAULT_HVPARAMS),
      os_hvp: {},
      beparams: structuredClone(D.DEFAULT_BEPARAMS),
      osparams: {},
      osparams_private_cluster: {},
      nicparams,
      ndparams: structuredClone(D.DEFAULT_NDPARAMS),
      diskparams: structuredClone(D.DEFAULT_DISKPARAMS),
      ipolicy,
      hv_state_static: structuredClone(D.DEFAULT_HV_STATE_STATIC),
      disk_state_static: {},
      data_collectors: structuredClone(D.DEFAULT_DATA_COLLECTORS),
      compression_tools: [...D.DEFAULT_COMPRESSION_TOOLS],
      default_iallocator: D.DEFAULT_DEFAULT_IALLOCATOR,
      default_iallocator_params: {},
      mac_prefix: opts.macPrefix ?? 'aa:00:00',
      file_storage_dir: opts.fileStorageDir ?? '/srv/ganeti/file-storage',
      shared_file_storage_dir: opts.sharedFileStorageDir ?? '/srv/ganeti/shared-file-storage',
      gluster_storage_dir: '/var/run/ganeti/gluster',
      volume_group_name: await initialVolumeGroup(opts.vgName, templates),
      reserved_lvs: [],
      drbd_usermode_helper: null,
      highest_used_port: 11000 - 1,
      tcpudp_port_pool: [],
      maintain_node_health: false,
      modify_etc_hosts: false,
      modify_ssh_setup: false,
      ssh_key_type: 'rsa',
      ssh_key_bits: 2048,
      rsahostkeypub: '',
      dsahostkeypub: '',
      uid_pool: [],
      hidden_os: [],
      blacklisted_os: [],
      prealloc_wipe_disks: false,
      candidate_certs: {},
      install_image: '',
      instance_communication_network: '',
      zeroing_image: '',
      enabled_user_shutdown: false,
    },
    nodes: {
      [nodeUuid]: {
        ...common(nodeUuid),
        name: env.hostname,
        primary_ip: primaryIp,
        secondary_ip: secondaryIp,
        master_candidate: true,
        offline: false,
        drained: false,
        group: groupUuid,
        master_capable: true,
        vm_capable: true,
        ndparams: {},
        powered: true,
      },
    },
    nodegroups: {
      [groupUuid]: {
        ...common(groupUuid),
        name: 'default',
        members: [],
        alloc_policy: 'preferred',
        ndparams: {},
        ipolicy: {},
        diskparams: {},
        networks: {},
      },
    },
    instances: {},
    networks: {},
    disks: {},
    filters: {},
    serial_no: 1,
    ctime: now,
    mtime: now,
  };
}

/**
 * Write the new cluster's files on this node. Refuses if a cluster exists; overwrites
 * nothing. `ssl`: the node RPC over TLS with a new cluster certificate (server.pem), or
 * plain HTTP (`--no-ssl`, src/rpc/transport.ts).
 */
export function writeClusterFiles(paths: NodePaths, data: ConfigData, opts: { ssl: boolean } = { ssl: true }): void {
  if (fs.existsSync(paths.configFile)) throw new OpPrereqError('Cluster is already initialised', ECODE.STATE);
  mkdirs([paths.dataDir, paths.runDir, paths.socketDir, paths.logDir, paths.confDir, paths.srvDir], 0o755);
  mkdirs([paths.queueDir, paths.queueArchive], 0o750);
  const secret = generateClusterSecret();
  writeFileAtomicSync(paths.clusterKey, encodeKey(secret), { mode: 0o600 });
  writeFileAtomicSync(paths.nodeKey, encodeKey(deriveNodeKey(secret, data.nodes[data.cluster.master_node].name)), { mode: 0o600 });
  writeClusterTransport(paths, opts.ssl ? newClusterCertificate() : null);
  // The remote API's own certificate (upstream makes it at init too), whatever the node RPC uses.
  writeRapiCertificate(paths);
  writeFileAtomicSync(paths.queueVersion, `${JOB_QUEUE_VERSION}\n`, { mode: 0o640 });
  writeFileAtomicSync(paths.queueSerial, '0\n', { mode: 0o640 });
  fs.writeFileSync(paths.queueLock, '', { mode: 0o640 });
  for (const [k, lines] of Object.entries(ssconfValues(data))) {
    writeFileAtomicSync(paths.ssconfFile(k), ssconfText(lines), { mode: 0o444, syncDir: false });
  }
  // config.data last: its presence is what says "this node is in a cluster".
  writeConfigFileSync(paths.configFile, data);
}
