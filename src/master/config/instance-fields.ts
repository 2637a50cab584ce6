// The `instance` query resource: every instance field of Ganeti 3.0 (names, titles, kinds
// and docs as `gnt-instance list-fields` shows them, golden 056), with upstream's value
// rules (luxid's Query/Instance.hs): per-index disk and NIC fields, hv/ and be/ parameter
// fields, and the live fields (status, oper_state, oper_ram, oper_vcpus, console), which
// come from `all_instances_info` on the instances' primary nodes only when a requested
// or filtered field needs them.
import { RS_NODATA, RS_OFFLINE, RS_UNAVAIL } from '../../core/constants.ts';
import { ECODE, OpPrereqError } from '../../core/errors.ts';
import { compileFilter, type Field, type FieldKind, type Filter } from '../../core/query.ts';
import type { RpcClient, RpcResult } from '../../rpc/client.ts';
import { rpcTarget } from '../cmdlib/base.ts';
import {
  diskTemplateOf, filledBeParams, filledHvParams, filledNicParams, filledOsParams, instanceRpcDict, MAX_DISKS, MAX_NICS,
  secondaryNodes,
} from './instance-params.ts';
import type { ConfigData, DiskObject, InstanceObject, NicObject, NodeObject } from './model.ts';
import { filterFields, requestedNames, resultStatus } from './node-fields.ts';
import { niceSort } from './ssconf.ts';

type Dict = Record<string, unknown>;

const NODATA = resultStatus(RS_NODATA);
const UNAVAIL = resultStatus(RS_UNAVAIL);

/** What a hypervisor reports for a running instance (`all_instances_info`). */
export interface LiveInstanceInfo {
  memory?: unknown;
  vcpus?: unknown;
  /** "running", or "shutdown" when the guest shut itself down. */
  state?: unknown;
  time?: unknown;
}

/**
 * The live side of one instance (upstream's Runtime): either the primary node could not
 * be asked (and the instance runs nowhere else we asked), with the cell status that
 * failure gives, or what was found: the hypervisor's data (null when the instance runs
 * nowhere), whether it came from the primary node, and the console description.
 */
export type InstanceRuntime =
  | { ok: false; status: number }
  | { ok: true; info: LiveInstanceInfo | null; onPrimary: boolean; console: unknown };

export interface InstanceView {
  inst: InstanceObject;
  config: ConfigData;
  /** Absent when no requested or filtered field needed live data. */
  runtime?: InstanceRuntime;
}

export type InstanceStatus =
  | 'running' | 'ADMIN_down' | 'ADMIN_offline' | 'ERROR_up' | 'ERROR_down' | 'ERROR_wrongnode'
  | 'ERROR_nodedown' | 'ERROR_nodeoffline' | 'USER_down';

/** Upstream's extra DRBD metadata per disk, in MiB (constants.DRBD_META_SIZE). */
const DRBD_META_SIZE = 128;

// --- the status rules (upstream's determineInstanceStatus) ---------------------------

/** Whether a guest's own shutdown counts as a user shutdown (not an error) for this instance. */
export function userShutdownAllowed(config: ConfigData, inst: InstanceObject): boolean {
  if (!config.cluster.enabled_user_shutdown) return false;
  return inst.hypervisor !== 'kvm' || filledHvParams(config, inst).user_shutdown === true;
}

/**
 * The `status` of an instance from its configuration and what the nodes said: an offline
 * primary first, then an unreachable one, then what runs where.
 */
export function instanceStatus(config: ConfigData, inst: InstanceObject, runtime: InstanceRuntime): InstanceStatus {
  if (config.nodes[inst.primary_node]?.offline) return 'ERROR_nodeoffline';
  if (!runtime.ok) return 'ERROR_nodedown';
  const admin = inst.admin_state;
  if (runtime.info) {
    if (!runtime.onPrimary) return 'ERROR_wrongnode';
    if (runtime.info.state !== 'shutdown') return admin === 'up' ? 'running' : 'ERROR_up';
    if (admin === 'up') return userShutdownAllowed(config, inst) ? 'USER_down' : 'ERROR_down';
    return 'ADMIN_down';
  }
  switch (admin) {
    case 'up': return 'ERROR_down';
    case 'offline': return 'ADMIN_offline';
    default:
      return inst.admin_state_source === 'user' && config.cluster.enabled_user_shutdown ? 'USER_down' : 'ADMIN_down';
  }
}

const STATUS_DOC = 'Instance status; "running" if instance is set to be running and actually is, "ADMIN_down" if ' +
  'instance is stopped and is not running, "ERROR_wrongnode" if instance running, but not on its designated primary ' +
  'node, "ERROR_up" if instance should be stopped, but is actually running, "ERROR_down" if instance should run, but ' +
  'doesn\'t, "ERROR_nodedown" if instance\'s primary node is down, "ERROR_nodeoffline" if instance\'s primary node is ' +
  'marked offline, "ADMIN_offline" if instance is offline and does not use dynamic resources';

// --- configuration helpers ----------------------------------------------------------

/** The instance's disks in index order, or null when one is missing from the configuration. */
function disksOf(v: InstanceView): DiskObject[] | null {
  const disks = v.inst.disks.map((uuid) => v.config.disks[uuid]);
  return disks.every((d) => d !== undefined) ? disks : null;
}

/** Space the disks take on the nodes (ComputeDiskSize): DRBD adds its metadata, diskless and blockdev take none. */
export function diskUsage(disks: DiskObject[]): number {
  let sum = 0;
  for (const d of disks) {
    if (d.dev_type === 'drbd') sum += d.size + DRBD_META_SIZE;
    else if (d.dev_type !== 'diskless' && d.dev_type !== 'blockdev') sum += d.size;
  }
  return sum;
}

function sortedDict(d: unknown): Dict {
  const o = (d !== null && typeof d === 'object' && !Array.isArray(d) ? d : {}) as Dict;
  return Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]]));
}

/** Filled hypervisor parameters without the cluster-wide ones, keys sorted (luxid's map). */
function instanceHvParams(v: InstanceView): Dict {
  return sortedDict(filledHvParams(v.config, v.inst, true));
}

// luxid serializes filled backend parameters in its record's order.
const BEPARAM_ORDER = ['minmem', 'maxmem', 'vcpus', 'auto_balance', 'always_failover', 'spindle_use'];

function instanceBeParams(v: InstanceView): Dict {
  const p = filledBeParams(v.config, v.inst);
  const out: Dict = {};
  for (const k of BEPARAM_ORDER) if (p[k] !== undefined) out[k] = p[k];
  for (const [k, val] of Object.entries(p)) if (!(k in out) && k !== 'memory') out[k] = val;
  return out;
}

const nicParams = (v: InstanceView, nic: NicObject) => filledNicParams(v.config, nic);

/** A bridged NIC's bridge is its link; other modes have none. */
function nicBridge(p: Dict): unknown {
  return p.mode === 'bridged' ? p.link : null;
}

/** Only Open vSwitch NICs have a VLAN. */
function nicVlan(p: Dict): unknown {
  return p.mode === 'openvswitch' ? p.vlan ?? '' : null;
}

function networkName(v: InstanceView, uuid: string | null | undefined): unknown {
  if (!uuid) return null;
  return (v.config.networks[uuid] as { name?: string } | undefined)?.name ?? uuid;
}

function primaryNode(v: InstanceView): NodeObject | undefined {
  return v.config.nodes[v.inst.primary_node];
}

/** Nodes other than the primary that hold the instance's disks (those in the configuration). */
function secondaryNodeObjects(v: InstanceView): NodeObject[] {
  return secondaryNodes(v.config, v.inst).map((uuid) => v.config.nodes[uuid]).filter((n): n is NodeObject => n !== undefined);
}

function orNoData<T>(x: T | undefined | null, fn: (x: T) => unknown): unknown {
  return x === undefined || x === null ? NODATA : fn(x);
}

/** A value for an optional cell: null and undefined are "not applicable". */
function orUnavail(x: unknown): unknown {
  return x === null || x === undefined ? UNAVAIL : x;
}

// --- field definitions --------------------------------------------------------------

const f = (name: string, title: string, kind: FieldKind, doc: string, get: (v: InstanceView) => unknown): Field<InstanceView> =>
  ({ name, title, kind, doc, get });

/** "1st", "2nd", "3rd", "4th", …, "11th" (utils.FormatOrdinal). */
export function formatOrdinal(n: number): string {
  const teen = n % 100 >= 11 && n % 100 <= 13;
  const suffix = teen ? 'th' : ({ 1: 'st', 2: 'nd', 3: 'rd' } as Record<number, string>)[n % 10] ?? 'th';
  return `${n}${suffix}`;
}

/** The backend parameters: [name, title, kind] (constants.BES_PARAMETER_TITLES/TYPES). */
const BE_PARAMS: ReadonlyArray<[string, string, FieldKind]> = [
  ['always_failover', 'be/always_failover', 'bool'],
  ['auto_balance', 'Auto_balance', 'bool'],
  ['maxmem', 'ConfigMaxMem', 'unit'],
  ['minmem', 'ConfigMinMem', 'unit'],
  ['spindle_use', 'be/spindle_use', 'number'],
  ['vcpus', 'ConfigVCPUs', 'number'],
];

/**
 * Every hypervisor parameter of every hypervisor but the cluster-wide ones: [name, kind,
 * title]; an empty title means "hv/<name>" (constants.HVS_PARAMETER_TITLES/TYPES).
 */
const HV_PARAMS: ReadonlyArray<[string, FieldKind, string]> = [
  ['acpi', 'bool', 'ACPI'], ['blockdev_prefix', 'other', ''], ['boot_order', 'other', 'Boot_order'],
  ['bootloader_args', 'other', ''], ['bootloader_path', 'other', ''], ['cdrom2_image_path', 'other', ''],
  ['cdrom_disk_type', 'other', ''], ['cdrom_image_path', 'other', 'CDROM_image_path'], ['cpu_cap', 'number', ''],
  ['cpu_cores', 'number', ''], ['cpu_mask', 'other', ''], ['cpu_sockets', 'number', ''], ['cpu_threads', 'number', ''],
  ['cpu_type', 'other', 'cpu_type'], ['cpu_weight', 'number', ''], ['cpuid', 'other', ''], ['device_model', 'other', ''],
  ['devices', 'other', ''], ['disk_aio', 'other', ''], ['disk_cache', 'other', ''], ['disk_discard', 'other', ''],
  ['disk_type', 'other', 'Disk_type'], ['drop_capabilities', 'other', ''], ['extra_cgroups', 'other', ''],
  ['extra_config', 'other', ''], ['floppy_image_path', 'other', ''], ['init_script', 'other', ''],
  ['initrd_path', 'other', 'Initrd_path'], ['kernel_args', 'other', ''], ['kernel_path', 'other', 'Kernel_path'],
  ['keymap', 'other', ''], ['kvm_extra', 'other', ''], ['kvm_flag', 'other', ''], ['kvm_path', 'other', ''],
  ['kvm_pci_reservations', 'number', ''], ['machine_version', 'other', ''], ['mem_path', 'other', ''],
  ['migration_caps', 'other', ''], ['migration_downtime', 'number', ''], ['nic_type', 'other', 'NIC_type'],
  ['num_ttys', 'number', ''], ['pae', 'bool', 'PAE'], ['pci_pass', 'other', 'pci_pass'], ['reboot_behavior', 'other', ''],
  ['root_path', 'other', ''], ['scsi_controller_type', 'other', ''], ['security_domain', 'other', ''],
  ['security_model', 'other', ''], ['serial_console', 'bool', ''], ['serial_speed', 'number', ''], ['soundhw', 'other', ''],
  ['spice_bind', 'other', ''], ['spice_image_compression', 'other', ''], ['spice_ip_version', 'number', ''],
  ['spice_jpeg_wan_compression', 'other', ''], ['spice_password_file', 'other', ''],
  ['spice_playback_compression', 'bool', ''], ['spice_streaming_video', 'other', ''], ['spice_tls_ciphers', 'other', ''],
  ['spice_use_tls', 'bool', ''], ['spice_use_vdagent', 'bool', ''], ['spice_zlib_glz_wan_compression', 'other', ''],
  ['startup_timeout', 'number', ''], ['usb_devices', 'other', ''], ['usb_mouse', 'other', ''],
  ['use_bootloader', 'bool', ''], ['use_chroot', 'bool', ''], ['use_guest_agent', 'bool', ''],
  ['use_localtime', 'bool', ''], ['user_shutdown', 'bool', ''], ['vga', 'other', ''], ['vhost_net', 'bool', ''],
  ['vif_script', 'other', ''], ['vif_type', 'other', ''], ['viridian', 'bool', ''], ['virtio_net_queues', 'number', ''],
  ['vnc_bind_address', 'other', 'VNC_bind_address'], ['vnc_password_file', 'other', ''], ['vnc_tls', 'bool', ''],
  ['vnc_x509_path', 'other', ''], ['vnc_x509_verify', 'bool', ''], ['vnet_hdr', 'bool', ''],
];

function indexedDiskFields(i: number): Field<InstanceView>[] {
  const nth = formatOrdinal(i + 1);
  const disk = (v: InstanceView, fn: (d: DiskObject) => unknown) => orNoData(disksOf(v), (ds) => (i < ds.length ? orUnavail(fn(ds[i])) : UNAVAIL));
  return [
    f(`disk.size/${i}`, `Disk/${i}`, 'unit', `Disk size of ${nth} disk`, (v) => disk(v, (d) => d.size)),
    f(`disk.spindles/${i}`, `DiskSpindles/${i}`, 'number', `Spindles of ${nth} disk`, (v) => disk(v, (d) => d.spindles)),
    f(`disk.name/${i}`, `DiskName/${i}`, 'text', `Name of ${nth} disk`, (v) => disk(v, (d) => d.name)),
    f(`disk.uuid/${i}`, `DiskUUID/${i}`, 'text', `UUID of ${nth} disk`, (v) => disk(v, (d) => d.uuid)),
  ];
}

function indexedNicFields(i: number): Field<InstanceView>[] {
  const nth = formatOrdinal(i + 1);
  const nic = (v: InstanceView, fn: (n: NicObject) => unknown) => (i < v.inst.nics.length ? orUnavail(fn(v.inst.nics[i])) : UNAVAIL);
  const param = (v: InstanceView, fn: (p: Dict) => unknown) => nic(v, (n) => fn(nicParams(v, n)));
  return [
    f(`nic.ip/${i}`, `NicIP/${i}`, 'text', `IP address of ${nth} network interface`, (v) => nic(v, (n) => n.ip)),
    f(`nic.uuid/${i}`, `NicUUID/${i}`, 'text', `UUID address of ${nth} network interface`, (v) => nic(v, (n) => n.uuid)),
    f(`nic.mac/${i}`, `NicMAC/${i}`, 'text', `MAC address of ${nth} network interface`, (v) => nic(v, (n) => n.mac)),
    f(`nic.name/${i}`, `NicName/${i}`, 'text', `Name address of ${nth} network interface`, (v) => nic(v, (n) => n.name)),
    f(`nic.network/${i}`, `NicNetwork/${i}`, 'text', `Network of ${nth} network interface`, (v) => nic(v, (n) => n.network)),
    f(`nic.mode/${i}`, `NicMode/${i}`, 'text', `Mode of ${nth} network interface`, (v) => param(v, (p) => p.mode)),
    f(`nic.link/${i}`, `NicLink/${i}`, 'text', `Link of ${nth} network interface`, (v) => param(v, (p) => p.link)),
    f(`nic.vlan/${i}`, `NicVLAN/${i}`, 'text', `VLAN of ${nth} network interface`, (v) => param(v, nicVlan)),
    f(`nic.network.name/${i}`, `NicNetworkName/${i}`, 'text', `Network name of ${nth} network interface`,
      (v) => nic(v, (n) => networkName(v, n.network))),
    f(`nic.bridge/${i}`, `NicBridge/${i}`, 'text', `Bridge of ${nth} network interface`, (v) => param(v, nicBridge)),
  ];
}

// --- live fields --------------------------------------------------------------------

/** The runtime of a view, or the "no data" marker when it was not collected (filters accept it). */
function live(v: InstanceView, fn: (rt: Extract<InstanceRuntime, { ok: true }>) => unknown): unknown {
  const rt = v.runtime;
  if (!rt) return NODATA;
  if (!rt.ok) return resultStatus(rt.status);
  return fn(rt);
}

function liveInfoValue(v: InstanceView, key: 'memory' | 'vcpus'): unknown {
  return live(v, (rt) => {
    if (!rt.info) return UNAVAIL;
    const x = rt.info[key];
    return x === null || x === undefined ? NODATA : x;
  });
}

/** Fields whose values come from the nodes. */
export const LIVE_FIELDS: ReadonlySet<string> = new Set(['status', 'oper_state', 'oper_ram', 'oper_vcpus', 'console']);

const LIST_PREFIX = "List containing each network interface's ";

const BASE_FIELDS: Field<InstanceView>[] = [
  f('admin_state', 'InstanceState', 'text', 'Desired state of instance', (v) => v.inst.admin_state ?? NODATA),
  f('admin_state_source', 'InstanceStateSource', 'text', 'Who last changed the desired state of the instance',
    (v) => v.inst.admin_state_source ?? NODATA),
  f('admin_up', 'Autostart', 'bool', 'Desired state of instance', (v) => v.inst.admin_state === 'up'),
  f('disks_active', 'DisksActive', 'bool', 'Desired state of instance disks', (v) => v.inst.disks_active ?? NODATA),
  // Equality on a host name also matches its first labels ("alpha" is alpha.example.com).
  Object.assign(f('name', 'Instance', 'text', 'Instance name', (v) => v.inst.name), { hostname: true }),
  f('hypervisor', 'Hypervisor', 'text', 'Hypervisor name', (v) => v.inst.hypervisor ?? NODATA),
  f('network_port', 'Network_port', 'other', 'Instance network port if available (e.g. for VNC console)',
    (v) => orUnavail(v.inst.network_port)),
  f('os', 'OS', 'text', 'Operating system', (v) => v.inst.os ?? NODATA),
  Object.assign(f('pnode', 'Primary_node', 'text', 'Primary node', (v) => orNoData(primaryNode(v), (n) => n.name)), { hostname: true }),
  f('pnode.group', 'PrimaryNodeGroup', 'text', "Primary node's group",
    (v) => orNoData(primaryNode(v), (n) => orNoData(v.config.nodegroups[n.group], (g) => g.name))),
  f('pnode.group.uuid', 'PrimaryNodeGroupUUID', 'text', "Primary node's group UUID",
    (v) => orNoData(primaryNode(v), (n) => orNoData(v.config.nodegroups[n.group], (g) => g.uuid))),
  f('snodes', 'Secondary_Nodes', 'other', 'Secondary nodes; usually this will just be one node',
    (v) => orNoData(primaryNode(v), () => secondaryNodeObjects(v).map((n) => n.name))),
  f('snodes.group', 'SecondaryNodesGroups', 'other', 'Node groups of secondary nodes',
    (v) => orNoData(primaryNode(v), () => secondaryNodeObjects(v).flatMap((n) => v.config.nodegroups[n.group]?.name ?? []))),
  f('snodes.group.uuid', 'SecondaryNodesGroupsUUID', 'other', 'Node group UUIDs of secondary nodes',
    (v) => orNoData(primaryNode(v), () => secondaryNodeObjects(v).flatMap((n) => v.config.nodegroups[n.group]?.uuid ?? []))),

  f('hvparams', 'HypervisorParameters', 'other', 'Hypervisor parameters (merged)', instanceHvParams),
  f('beparams', 'BackendParameters', 'other', 'Backend parameters (merged)', instanceBeParams),
  f('osparams', 'OpSysParameters', 'other', 'Operating system parameters (merged)',
    (v) => sortedDict(filledOsParams(v.config, v.inst))),
  f('custom_hvparams', 'CustomHypervisorParameters', 'other', 'Custom hypervisor parameters', (v) => sortedDict(v.inst.hvparams)),
  f('custom_beparams', 'CustomBackendParameters', 'other', 'Custom backend parameters', (v) => sortedDict(v.inst.beparams)),
  f('custom_osparams', 'CustomOpSysParameters', 'other', 'Custom operating system parameters', (v) => sortedDict(v.inst.osparams)),
  f('custom_nicparams', 'CustomNicParameters', 'other', 'Custom network interface parameters',
    (v) => v.inst.nics.map((n) => sortedDict(n.nicparams))),

  ...BE_PARAMS.map(([p, title, kind]) => f(`be/${p}`, title, kind, `The "${p}" backend parameter`,
    (v) => orUnavail(filledBeParams(v.config, v.inst)[p]))),
  ...HV_PARAMS.map(([p, kind, title]) => f(`hv/${p}`, title || `hv/${p}`, kind, `The "${p}" hypervisor parameter`,
    (v) => orUnavail(instanceHvParams(v)[p]))),

  f('disk_usage', 'DiskUsage', 'unit', 'Total disk space used by instance on each of its nodes; this is not the disk size ' +
    'visible to the instance, but the usage on the node', (v) => orNoData(disksOf(v), diskUsage)),
  f('disk.count', 'Disks', 'number', 'Number of disks', (v) => v.inst.disks.length),
  f('disk.sizes', 'Disk_sizes', 'other', 'List of disk sizes', (v) => orNoData(disksOf(v), (ds) => ds.map((d) => d.size ?? null))),
  f('disk.spindles', 'Disk_spindles', 'other', 'List of disk spindles', (v) => orNoData(disksOf(v), (ds) => ds.map((d) => d.spindles ?? null))),
  f('disk.names', 'Disk_names', 'other', 'List of disk names', (v) => orNoData(disksOf(v), (ds) => ds.map((d) => d.name ?? null))),
  f('disk.uuids', 'Disk_UUIDs', 'other', 'List of disk UUIDs', (v) => orNoData(disksOf(v), (ds) => ds.map((d) => d.uuid))),
  f('disk_template', 'Disk_template', 'text', 'Instance disk template', (v) => orNoData(disksOf(v), diskTemplateOf)),
  ...Array.from({ length: MAX_DISKS }, (_, i) => indexedDiskFields(i)).flat(),

  f('nic.count', 'NICs', 'number', 'Number of network interfaces', (v) => v.inst.nics.length),
  f('nic.macs', 'NIC_MACs', 'other', `${LIST_PREFIX}MAC address`, (v) => v.inst.nics.map((n) => n.mac)),
  f('nic.ips', 'NIC_IPs', 'other', `${LIST_PREFIX}IP address`, (v) => v.inst.nics.map((n) => n.ip ?? null)),
  f('nic.names', 'NIC_Names', 'other', `${LIST_PREFIX}name`, (v) => v.inst.nics.map((n) => n.name ?? null)),
  f('nic.uuids', 'NIC_UUIDs', 'other', `${LIST_PREFIX}UUID`, (v) => v.inst.nics.map((n) => n.uuid)),
  f('nic.modes', 'NIC_modes', 'other', `${LIST_PREFIX}mode`, (v) => v.inst.nics.map((n) => nicParams(v, n).mode)),
  f('nic.vlans', 'NIC_VLANs', 'other', `${LIST_PREFIX}VLAN`, (v) => v.inst.nics.map((n) => nicVlan(nicParams(v, n)))),
  f('nic.bridges', 'NIC_bridges', 'other', `${LIST_PREFIX}bridge`, (v) => v.inst.nics.map((n) => nicBridge(nicParams(v, n)))),
  f('nic.links', 'NIC_links', 'other', `${LIST_PREFIX}link`, (v) => v.inst.nics.map((n) => nicParams(v, n).link)),
  f('nic.networks', 'NIC_networks', 'other', "List containing each interface's network", (v) => v.inst.nics.map((n) => n.network ?? null)),
  f('nic.networks.names', 'NIC_networks_names', 'other', "List containing the name of each interface's network",
    (v) => v.inst.nics.map((n) => networkName(v, n.network))),
  ...Array.from({ length: MAX_NICS }, (_, i) => indexedNicFields(i)).flat(),

  f('status', 'Status', 'text', STATUS_DOC, (v) => (v.runtime ? instanceStatus(v.config, v.inst, v.runtime) : NODATA)),
  // No answer at all is "no data", even from an offline node (upstream's operStatusExtract).
  f('oper_state', 'Running', 'bool', 'Actual state of instance', (v) => (v.runtime?.ok ? v.runtime.info !== null : NODATA)),
  f('console', 'Console', 'other', 'Instance console information', (v) => live(v, (rt) => rt.console ?? NODATA)),
  f('oper_ram', 'Memory', 'unit', 'Actual memory usage as seen by hypervisor', (v) => liveInfoValue(v, 'memory')),
  f('oper_vcpus', 'VCPUs', 'number', 'Actual number of VCPUs as seen by hypervisor', (v) => liveInfoValue(v, 'vcpus')),

  f('ctime', 'CTime', 'timestamp', 'Creation timestamp', (v) => v.inst.ctime ?? UNAVAIL),
  f('mtime', 'MTime', 'timestamp', 'Modification timestamp', (v) => v.inst.mtime ?? UNAVAIL),
  f('serial_no', 'SerialNo', 'number', 'Instance object serial number, incremented on each modification', (v) => v.inst.serial_no),
  f('uuid', 'UUID', 'text', 'Instance UUID', (v) => v.inst.uuid),
  f('forthcoming', 'Forthcoming', 'bool', 'whether the Instance is forthcoming', (v) => v.inst.forthcoming === true),
  f('tags', 'Tags', 'other', 'Tags', (v) => [...(v.inst.tags ?? [])].sort()),
];

/** Legacy names kept as aliases: same title, kind and doc as the field they stand for. */
const ALIASES: ReadonlyArray<[string, string]> = [
  ['vcpus', 'be/vcpus'], ['be/memory', 'be/maxmem'], ['sda_size', 'disk.size/0'], ['sdb_size', 'disk.size/1'],
  ['ip', 'nic.ip/0'], ['mac', 'nic.mac/0'], ['bridge', 'nic.bridge/0'], ['nic_mode', 'nic.mode/0'],
  ['nic_link', 'nic.link/0'], ['nic_network', 'nic.network/0'],
];

export const INSTANCE_FIELDS: ReadonlyMap<string, Field<InstanceView>> = (() => {
  const map = new Map(BASE_FIELDS.map((x) => [x.name, x]));
  for (const [alias, target] of ALIASES) map.set(alias, { ...map.get(target)!, name: alias });
  return map;
})();

// --- items and live data ------------------------------------------------------------

/** Upstream's name lookup: a uuid, the exact name, or a unique prefix ending at a dot. */
export function lookupInstance(instances: InstanceObject[], name: string): InstanceObject {
  const byUuid = instances.find((i) => i.uuid === name);
  if (byUuid) return byUuid;
  const exact = instances.find((i) => i.name === name);
  if (exact) return exact;
  const partial = instances.filter((i) => i.name.startsWith(`${name}.`));
  if (partial.length === 1) return partial[0];
  throw new OpPrereqError(`Instance name ${name} ${partial.length > 1 ? 'has multiple matches' : 'not found'}`, ECODE.NOENT);
}

/** The failure of a node's RPC as a cell status: offline nodes are "offline", the rest "no data". */
function failureStatus(r: RpcResult | undefined): number {
  return r && !r.ok && r.offline ? RS_OFFLINE : RS_NODATA;
}

function answerFor(r: RpcResult | undefined, name: string): LiveInstanceInfo | null {
  if (!r?.ok || typeof r.payload !== 'object' || r.payload === null) return null;
  const info = (r.payload as Record<string, unknown>)[name];
  return info !== null && typeof info === 'object' ? info as LiveInstanceInfo : null;
}

/**
 * What the primary nodes say about the instances (upstream's collectLiveData): one
 * `all_instances_info` per primary node, in parallel; an instance found on another of
 * those nodes runs on the wrong node; `instance_console_info` only when `console` is
 * asked for.
 */
export async function collectInstanceLive(config: ConfigData, rpc: Pick<RpcClient, 'callMany'>, instances: InstanceObject[],
  withConsole: boolean): Promise<Map<string, InstanceRuntime>> {
  const c = config.cluster;
  const hypervisors = [...new Set(instances.map((i) => i.hypervisor))];
  const hvparams = Object.fromEntries(hypervisors.map((hv) => [hv, c.hvparams?.[hv] ?? {}]));
  // A node whose group is gone has a broken configuration: no call, no data.
  const nodes = [...new Set(instances.map((i) => i.primary_node))]
    .map((uuid) => config.nodes[uuid])
    .filter((n): n is NodeObject => n !== undefined && config.nodegroups[n.group] !== undefined);
  const results = nodes.length === 0 ? new Map<string, RpcResult>()
    : await rpc.callMany(nodes.map(rpcTarget), 'all_instances_info', [hypervisors, hvparams]);
  const consoles = withConsole ? await collectConsoles(config, rpc, instances, nodes) : new Map<string, unknown>();
  const out = new Map<string, InstanceRuntime>();
  // Where each running instance was found, for those not on their primary (ERROR_wrongnode):
  // one pass over the answers, not one per instance.
  let anywhere: Map<string, LiveInstanceInfo> | null = null;
  const foundElsewhere = (name: string): LiveInstanceInfo | null => {
    if (anywhere === null) {
      anywhere = new Map();
      for (const r of results.values()) {
        if (!r.ok || typeof r.payload !== 'object' || r.payload === null) continue;
        for (const n of Object.keys(r.payload)) {
          const info = answerFor(r, n);
          if (info && !anywhere.has(n)) anywhere.set(n, info);
        }
      }
    }
    return anywhere.get(name) ?? null;
  };
  for (const inst of instances) {
    const pnode = config.nodes[inst.primary_node];
    const primary = pnode ? results.get(pnode.name) : undefined;
    const console = consoles.get(inst.name) ?? null;
    const onPrimary = answerFor(primary, inst.name);
    if (onPrimary) {
      out.set(inst.uuid, { ok: true, info: onPrimary, onPrimary: true, console });
      continue;
    }
    const elsewhere = foundElsewhere(inst.name);
    if (elsewhere) out.set(inst.uuid, { ok: true, info: elsewhere, onPrimary: false, console });
    else if (!primary?.ok) out.set(inst.uuid, { ok: false, status: failureStatus(primary) });
    else out.set(inst.uuid, { ok: true, info: null, onPrimary: false, console });
  }
  return out;
}

/** Console descriptions per instance name, asked from each instance's primary node. */
async function collectConsoles(config: ConfigData, rpc: Pick<RpcClient, 'callMany'>, instances: InstanceObject[],
  nodes: NodeObject[]): Promise<Map<string, unknown>> {
  const byNode = new Map<string, Dict>();
  for (const inst of instances) {
    const node = config.nodes[inst.primary_node];
    const group = node ? config.nodegroups[node.group] : undefined;
    if (!node || !group) continue;
    const entry = byNode.get(node.name) ?? {};
    entry[inst.name] = [instanceRpcDict(config, inst), node, group, filledHvParams(config, inst), filledBeParams(config, inst)];
    byNode.set(node.name, entry);
  }
  const targets = nodes.filter((n) => byNode.has(n.name)).map(rpcTarget);
  const out = new Map<string, unknown>();
  if (targets.length === 0) return out;
  const results = await rpc.callMany(targets, 'instance_console_info', (t) => [byNode.get(t.name)]);
  for (const r of results.values()) {
    if (!r.ok || typeof r.payload !== 'object' || r.payload === null) continue;
    for (const [name, console] of Object.entries(r.payload as Dict)) if (console !== null && console !== undefined) out.set(name, console);
  }
  return out;
}

type Maybe = (v: InstanceView) => boolean | null;

/**
 * A filter evaluated before live data is there, in three-valued logic: a test on a live
 * field is unknown (null), and unknown stays unknown through "not", "and" and "or"
 * unless the other operands decide.
 */
function withoutLiveData(filter: Filter): Maybe {
  if (filter === null || filter === undefined) return () => true;
  const build = (f: unknown): Maybe => {
    if (!Array.isArray(f)) return compileFilter(INSTANCE_FIELDS, f as Filter);
    const [op, ...rest] = f as [unknown, ...unknown[]];
    if (op === '&' || op === '|') {
      const subs = rest.map(build);
      const decisive = op === '|';
      return (v) => {
        let unknown = false;
        for (const sub of subs) {
          const r = sub(v);
          if (r === decisive) return decisive;
          if (r === null) unknown = true;
        }
        return unknown ? null : !decisive;
      };
    }
    if (op === '!') {
      const sub = build(rest[0]);
      return (v) => {
        const r = sub(v);
        return r === null ? null : !r;
      };
    }
    if (typeof rest[0] === 'string' && LIVE_FIELDS.has(rest[0])) return () => null;
    return compileFilter(INSTANCE_FIELDS, f as Filter);
  };
  return build(filter);
}

/**
 * The items of an instance query, nicely sorted by name (or in the order of the names a
 * plain name filter asks for, each of which must exist). Live data is fetched only when
 * a requested or filtered field needs it, and only for the instances the rest of the
 * filter lets through.
 */
export async function instanceViews(config: { data: ConfigData }, rpc: Pick<RpcClient, 'callMany'>, fields: string[],
  filter: Filter = null): Promise<InstanceView[]> {
  const data = config.data;
  const all = Object.values(data.instances);
  const wanted = requestedNames(filter);
  let instances: InstanceObject[];
  if (wanted === null || wanted.length === 0) {
    const byName = new Map(all.map((i) => [i.name, i]));
    instances = niceSort([...byName.keys()]).map((n) => byName.get(n)!);
  } else {
    instances = [...new Set(wanted.map((name) => lookupInstance(all, name)))];
  }
  const views: InstanceView[] = instances.map((inst) => ({ inst, config: data }));
  const liveNeeded = [...fields, ...filterFields(filter)].some((n) => LIVE_FIELDS.has(n));
  if (!liveNeeded) return views;
  // First pass without live data: only the items the filter rejects whatever the nodes say are left out.
  const maybe = withoutLiveData(filter);
  const candidates = views.filter((v) => maybe(v) !== false);
  const runtimes = await collectInstanceLive(data, rpc, candidates.map((v) => v.inst), fields.includes('console'));
  return candidates.map((v) => ({ ...v, runtime: runtimes.get(v.inst.uuid) }));
}
