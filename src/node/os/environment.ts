// The environment of OS scripts (spec/surface.md §5.2): upstream's backend.OSCoreEnv and
// OSEnvironment. Pure functions of the instance dict the master sends (instanceRpcDict in
// src/master/config/instance-params.ts), the OS definition and the disks' node-local
// paths, which the caller resolves first (src/node/os/disks.ts).
import { pyStr } from '../../core/pyrepr.ts';
import { OS_API_V15, OS_API_VERSIONS, splitNameVariant, type OsDefinition } from './definition.ts';

type Dict = Record<string, unknown>;

/** The PATH every OS script gets (constants.HOOKS_PATH). */
export const OS_SCRIPT_PATH = '/sbin:/bin:/usr/sbin:/usr/bin';

/** Disk templates seen as block devices, and file-based ones (constants.DTS_BLOCK / DTS_FILEBASED). */
const DTS_BLOCK = new Set(['plain', 'drbd', 'blockdev', 'rbd', 'ext']);
const DTS_FILEBASED = new Set(['file', 'sharedfile', 'gluster']);

/** How a script reaches one disk on this node: a device or file path, and/or a userspace URI. */
export interface DiskAccess {
  path: string | null;
  uri: string | null;
}

function dict(v: unknown): Dict {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Dict) : {};
}

function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** The highest API version both the OS and Ganeti speak. */
export function osApiVersion(os: OsDefinition): number {
  return Math.max(...os.apiVersions.filter((v) => OS_API_VERSIONS.includes(v)));
}

/**
 * OSCoreEnv: what every script sees, verify included. `osName` is the full name as the
 * instance has it; the variant is the one named there, else the OS's first.
 */
export function osCoreEnv(osName: string, os: OsDefinition, osParams: Dict, debug: number): Record<string, string> {
  const api = osApiVersion(os);
  const env: Record<string, string> = {
    OS_API_VERSION: String(api),
    OS_NAME: os.name,
    DEBUG_LEVEL: String(Math.trunc(Number(debug) || 0)),
  };
  let variant = '';
  if (api >= OS_API_V15 && os.variants.length > 0) variant = splitNameVariant(osName)[1] || os.variants[0];
  env.OS_VARIANT = variant;
  for (const [name, value] of Object.entries(osParams)) env[`OSP_${name.toUpperCase().replace(/-/g, '_')}`] = pyStr(value);
  env.PATH = OS_SCRIPT_PATH;
  return env;
}

/** objects.Network.HooksDict: a NIC's network, when it is on one. */
function networkEnv(prefix: string, net: Dict): Record<string, string> {
  const env: Record<string, string> = {
    [`${prefix}NETWORK_NAME`]: pyStr(net.name ?? ''),
    [`${prefix}NETWORK_UUID`]: pyStr(net.uuid ?? ''),
    [`${prefix}NETWORK_TAGS`]: list(net.tags).map(String).join(' '),
  };
  const optional: Array<[string, string]> = [
    ['network', 'NETWORK_SUBNET'], ['gateway', 'NETWORK_GATEWAY'], ['network6', 'NETWORK_SUBNET6'],
    ['gateway6', 'NETWORK_GATEWAY6'], ['mac_prefix', 'NETWORK_MAC_PREFIX'],
  ];
  for (const [key, name] of optional) if (net[key]) env[`${prefix}${name}`] = pyStr(net[key]);
  return env;
}

/**
 * OSEnvironment: the core variables plus the instance, its disks (one DiskAccess per entry
 * of disks_info), NICs and filled hypervisor/backend parameters. Public, private and
 * secret OS parameters are merged, in that order of precedence (last wins).
 */
export function osEnvironment(inst: Dict, os: OsDefinition, debug: number, disks: DiskAccess[]): Record<string, string> {
  const hvparams = dict(inst.hvparams);
  // instance_os_add may carry the opcode's secret parameters beside the instance's (upstream
  // merges them into osparams before the call); they are never stored.
  const osParams = { ...dict(inst.osparams), ...dict(inst.osparams_private), ...dict(inst.osparams_secret) };
  const env = osCoreEnv(String(inst.os ?? ''), os, osParams, debug);

  env.INSTANCE_NAME = pyStr(inst.name);
  env.INSTANCE_OS = pyStr(inst.os);
  env.INSTANCE_UUID = pyStr(inst.uuid);
  env.INSTANCE_CTIME = pyStr(inst.ctime);
  env.INSTANCE_MTIME = pyStr(inst.mtime);
  // The master sends the node's name beside its uuid: scripts want a host name.
  env.INSTANCE_PRIMARY_NODE = pyStr(inst.primary_node_name ?? inst.primary_node);
  env.HYPERVISOR = pyStr(inst.hypervisor);

  const disksInfo = list(inst.disks_info).map(dict);
  const nics = list(inst.nics).map(dict);
  env.DISK_COUNT = String(disksInfo.length);
  env.NIC_COUNT = String(nics.length);
  env.INSTANCE_SECONDARY_NODES = list(inst.secondary_nodes).map(String).join(' ');

  disksInfo.forEach((disk, idx) => {
    const access = disks[idx] ?? { path: null, uri: null };
    env[`DISK_${idx}_ACCESS`] = pyStr(disk.mode);
    env[`DISK_${idx}_UUID`] = pyStr(disk.uuid);
    env[`DISK_${idx}_SIZE`] = pyStr(disk.size);
    if (access.path) env[`DISK_${idx}_PATH`] = access.path;
    if (access.uri) env[`DISK_${idx}_URI`] = access.uri;
    if (disk.name) env[`DISK_${idx}_NAME`] = pyStr(disk.name);
    if ('disk_type' in hvparams) env[`DISK_${idx}_FRONTEND_TYPE`] = pyStr(hvparams.disk_type);
    const devType = String(disk.dev_type);
    if (DTS_BLOCK.has(devType)) env[`DISK_${idx}_BACKEND_TYPE`] = 'block';
    else if (DTS_FILEBASED.has(devType)) env[`DISK_${idx}_BACKEND_TYPE`] = `file:${pyStr(list(disk.logical_id)[0])}`;
  });

  nics.forEach((nic, idx) => {
    const nicparams = dict(nic.nicparams);
    env[`NIC_${idx}_MAC`] = pyStr(nic.mac);
    env[`NIC_${idx}_UUID`] = pyStr(nic.uuid);
    if (nic.name) env[`NIC_${idx}_NAME`] = pyStr(nic.name);
    if (nic.ip) env[`NIC_${idx}_IP`] = pyStr(nic.ip);
    env[`NIC_${idx}_MODE`] = pyStr(nicparams.mode);
    if (nicparams.mode === 'bridged') env[`NIC_${idx}_BRIDGE`] = pyStr(nicparams.link);
    if (nicparams.link) env[`NIC_${idx}_LINK`] = pyStr(nicparams.link);
    if (nic.netinfo) Object.assign(env, networkEnv(`NIC_${idx}_`, dict(nic.netinfo)));
    if ('nic_type' in hvparams) env[`NIC_${idx}_FRONTEND_TYPE`] = pyStr(hvparams.nic_type);
  });

  for (const [key, value] of Object.entries(dict(inst.beparams))) env[`INSTANCE_BE_${key}`] = pyStr(value);
  for (const [key, value] of Object.entries(hvparams)) env[`INSTANCE_HV_${key}`] = pyStr(value);
  return env;
}
