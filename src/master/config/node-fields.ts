// The `node` query resource (Ganeti 3.0's node fields, names, titles and kinds as
// `gnt-node list-fields` shows them). Configuration fields read config.data; the live
// fields (memory, disk, CPUs, boot id) come from one `node_info` RPC per node, made in
// parallel and only when a requested field (or a filter) needs them. A cell that has no
// normal value carries its result status (RS_NODATA, RS_OFFLINE, RS_UNAVAIL) through
// `resultStatus`, as upstream's luxid reports them.
import { RS_NODATA, RS_OFFLINE, RS_UNAVAIL } from '../../core/constants.ts';
import { ECODE, OpPrereqError } from '../../core/errors.ts';
import type { Field, FieldKind, Filter } from '../../core/query.ts';
import type { RpcClient, RpcResult } from '../../rpc/client.ts';
import { rpcTarget } from '../cmdlib/base.ts';
import { DEFAULT_NDPARAMS } from './defaults.ts';
import type { ConfigData, ConfigObject, NodeObject } from './model.ts';
import { niceSort } from './ssconf.ts';

/*
 * A getter's way to say "no normal value here": an object carrying the status under a
 * registry symbol, so the generic query layer can recognise it without importing this
 * module. Serialised on its own it is null, which is what a client sees for a
 * non-normal cell's value.
 */
const RESULT_STATUS: unique symbol = Symbol.for('ganeti.query.resultStatus');

export interface ResultStatusMarker {
  readonly [RESULT_STATUS]: number;
  toJSON(): null;
}

const MARKERS = new Map<number, ResultStatusMarker>();

/** The value a field getter returns for a cell whose status is not RS_NORMAL. */
export function resultStatus(status: number): ResultStatusMarker {
  let m = MARKERS.get(status);
  if (!m) {
    m = Object.freeze({ [RESULT_STATUS]: status, toJSON: () => null });
    MARKERS.set(status, m);
  }
  return m;
}

/** The status a getter's value carries, or null for a normal value. */
export function markerStatus(value: unknown): number | null {
  if (typeof value !== 'object' || value === null) return null;
  const s = (value as Partial<ResultStatusMarker>)[RESULT_STATUS];
  return typeof s === 'number' ? s : null;
}

const NODATA = resultStatus(RS_NODATA);
const UNAVAIL = resultStatus(RS_UNAVAIL);

/** What one node answered to `node_info`, or why there is no answer. */
export type NodeRuntime =
  | { ok: true; bootId: unknown; storage: unknown[]; hv: unknown[] }
  | { ok: false; status: number };

export interface NodeView {
  node: NodeObject;
  config: ConfigData;
  /** Absent when no requested field needed live data. */
  runtime?: NodeRuntime;
}

const f = (name: string, title: string, kind: FieldKind, doc: string, get: (v: NodeView) => unknown): Field<NodeView> =>
  ({ name, title, kind, doc, get });

export function nodeRole(v: NodeView): string {
  const n = v.node;
  if (v.config.cluster.master_node === n.uuid) return 'M';
  if (n.master_candidate) return 'C';
  if (n.drained) return 'D';
  if (n.offline) return 'O';
  return 'R';
}

// Upstream's (Haskell) node parameter order: merged and custom ndparams serialise their
// keys in this order, and `gnt-node list -o ndparams` prints them so.
const NDPARAM_ORDER = ['oob_program', 'spindle_count', 'exclusive_storage', 'ovs', 'ovs_name', 'ovs_link', 'ssh_port', 'cpu_speed'];

function ordered(params: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of NDPARAM_ORDER) if (params[k] !== undefined) out[k] = params[k];
  for (const [k, v] of Object.entries(params)) if (!(k in out) && v !== undefined) out[k] = v;
  return out;
}

/** The node's parameters filled from its group's and the cluster's; null when its group is missing. */
export function filledNdParams(config: ConfigData, node: NodeObject): Record<string, unknown> | null {
  const group = config.nodegroups[node.group];
  if (!group) return null;
  return ordered({
    ...DEFAULT_NDPARAMS,
    ...(config.cluster.ndparams as Record<string, unknown> | undefined),
    ...(group.ndparams as Record<string, unknown> | undefined),
    ...node.ndparams,
  });
}

interface InstanceLike extends ConfigObject {
  name: string;
  primary_node: string;
  disks?: string[];
}

/** Instance names with the node as primary, and as secondary (a disk's other node). */
export function nodeInstances(config: ConfigData, nodeUuid: string): [string[], string[]] {
  const primary: string[] = [];
  const secondary: string[] = [];
  for (const inst of Object.values(config.instances) as InstanceLike[]) {
    if (inst.primary_node === nodeUuid) {
      primary.push(inst.name);
      continue;
    }
    const diskNodes = (inst.disks ?? []).flatMap((d) => (config.disks[d]?.nodes as string[] | undefined) ?? []);
    if (diskNodes.includes(nodeUuid)) secondary.push(inst.name);
  }
  return [niceSort(primary), niceSort(secondary)];
}

/** Title and kind of each ndp/<name> field (nodes and groups have the same ones). */
export const NDP_FIELDS: ReadonlyArray<[string, string, FieldKind]> = [
  ['cpu_speed', 'ndp/cpu_speed', 'float'],
  ['exclusive_storage', 'ExclusiveStorage', 'bool'],
  ['oob_program', 'OutOfBandProgram', 'other'],
  ['ovs', 'OpenvSwitch', 'bool'],
  ['ovs_link', 'OpenvSwitchLink', 'other'],
  ['ovs_name', 'OpenvSwitchName', 'other'],
  ['spindle_count', 'SpindleCount', 'number'],
  ['ssh_port', 'ndp/ssh_port', 'number'],
];

// Which part of the node_info answer a live field reads: the first hypervisor's data,
// the default storage unit (the first that is not lvm-pv), or the lvm-pv unit (spindles).
type LiveSource = 'boot' | 'hv' | 'storage' | 'spindles';

const LIVE_FIELDS: Array<[string, string, FieldKind, LiveSource, string, string]> = [
  ['bootid', 'BootID', 'text', 'boot', '', 'Random UUID renewed for each system reboot, can be used for detecting reboots by tracking changes'],
  ['cnodes', 'CNodes', 'number', 'hv', 'cpu_nodes', 'Number of NUMA domains on node (if exported by hypervisor)'],
  ['cnos', 'CNOs', 'number', 'hv', 'cpu_dom0', 'Number of logical processors used by the node OS (dom0 for Xen)'],
  ['csockets', 'CSockets', 'number', 'hv', 'cpu_sockets', 'Number of physical CPU sockets (if exported by hypervisor)'],
  ['ctotal', 'CTotal', 'number', 'hv', 'cpu_total', 'Number of logical processors'],
  ['dfree', 'DFree', 'unit', 'storage', 'storage_free', 'Available storage space on storage unit'],
  ['dtotal', 'DTotal', 'unit', 'storage', 'storage_size', 'Total storage space on storage unit for instance disk allocation'],
  ['spfree', 'SpFree', 'number', 'spindles', 'storage_free', 'Available spindles in volume group (exclusive storage only)'],
  ['sptotal', 'SpTotal', 'number', 'spindles', 'storage_size', 'Total spindles in volume group (exclusive storage only)'],
  ['mfree', 'MFree', 'unit', 'hv', 'memory_free', 'Memory available for instance allocations'],
  ['mnode', 'MNode', 'unit', 'hv', 'memory_dom0', 'Amount of memory used by node (dom0 for Xen)'],
  ['mtotal', 'MTotal', 'unit', 'hv', 'memory_total', 'Total amount of memory of physical machine'],
];

const LIVE_SOURCE = new Map(LIVE_FIELDS.map(([name, , , source]) => [name, source]));

function attr(obj: unknown, key: string): unknown {
  if (typeof obj !== 'object' || obj === null) return NODATA;
  const v = (obj as Record<string, unknown>)[key];
  return v === null || v === undefined ? NODATA : v;
}

function liveValue(v: NodeView, source: LiveSource, key: string): unknown {
  const rt = v.runtime;
  if (!rt) return NODATA;
  if (!rt.ok) return resultStatus(rt.status);
  const units = rt.storage as Array<{ type?: unknown }>;
  switch (source) {
    case 'boot': return rt.bootId === null || rt.bootId === undefined ? NODATA : rt.bootId;
    case 'hv': return attr(rt.hv[0], key);
    case 'storage': return attr(units.find((u) => u?.type !== 'lvm-pv'), key);
    case 'spindles': return attr(units.find((u) => u?.type === 'lvm-pv'), key);
  }
}

function withNdParams(v: NodeView, fn: (p: Record<string, unknown>) => unknown): unknown {
  const p = filledNdParams(v.config, v.node);
  return p === null ? NODATA : fn(p);
}

export const NODE_FIELDS: ReadonlyMap<string, Field<NodeView>> = new Map([
  f('drained', 'Drained', 'bool', 'Whether node is drained', (v) => v.node.drained),
  f('master_candidate', 'MasterC', 'bool', 'Whether node is a master candidate', (v) => v.node.master_candidate),
  f('master_capable', 'MasterCapable', 'bool', 'Whether node can become a master candidate', (v) => v.node.master_capable),
  // Equality on a host name also matches its first labels ("node1" is node1.example.com).
  Object.assign(f('name', 'Node', 'text', 'Node name', (v) => v.node.name), { hostname: true }),
  f('offline', 'Offline', 'bool', 'Whether node is marked offline', (v) => v.node.offline),
  f('vm_capable', 'VMCapable', 'bool', 'Whether node can host instances', (v) => v.node.vm_capable),
  f('pip', 'PrimaryIP', 'text', 'Primary IP address', (v) => v.node.primary_ip),
  f('sip', 'SecondaryIP', 'text', 'Secondary IP address', (v) => v.node.secondary_ip),
  f('master', 'IsMaster', 'bool', 'Whether node is master', (v) => v.config.cluster.master_node === v.node.uuid),
  f('group', 'Group', 'text', 'Node group', (v) => v.config.nodegroups[v.node.group]?.name ?? NODATA),
  f('group.uuid', 'GroupUUID', 'text', 'UUID of node group', (v) => v.node.group),
  f('ndparams', 'NodeParameters', 'other', 'Merged node parameters', (v) => withNdParams(v, (p) => p)),
  f('custom_ndparams', 'CustomNodeParameters', 'other', 'Custom node parameters', (v) => ordered(v.node.ndparams ?? {})),
  f('pinst_cnt', 'Pinst', 'number', 'Number of instances with this node as primary', (v) => nodeInstances(v.config, v.node.uuid)[0].length),
  f('sinst_cnt', 'Sinst', 'number', 'Number of instances with this node as secondary', (v) => nodeInstances(v.config, v.node.uuid)[1].length),
  f('pinst_list', 'PriInstances', 'other', 'List of instances with this node as primary', (v) => nodeInstances(v.config, v.node.uuid)[0]),
  f('sinst_list', 'SecInstances', 'other', 'List of instances with this node as secondary', (v) => nodeInstances(v.config, v.node.uuid)[1]),
  f('role', 'Role', 'text', 'Node role; "M" for master, "C" for master candidate, "R" for regular, "D" for drained, "O" for offline', nodeRole),
  // Without an out-of-band program nobody knows whether the node is powered.
  f('powered', 'Powered', 'bool', 'Whether node is thought to be powered on',
    (v) => withNdParams(v, (p) => (p.oob_program ? v.node.powered : UNAVAIL))),
  // Declared for parity with upstream, which never fills them.
  f('hv_state', 'HypervisorState', 'other', 'Hypervisor state', () => UNAVAIL),
  f('disk_state', 'DiskState', 'other', 'Disk state', () => UNAVAIL),
  ...LIVE_FIELDS.map(([name, title, kind, source, key, doc]) => f(name, title, kind, doc, (v) => liveValue(v, source, key))),
  ...NDP_FIELDS.map(([param, title, kind]) => f(`ndp/${param}`, title, kind, `The "${param}" node parameter`,
    (v) => withNdParams(v, (p) => p[param] ?? NODATA))),
  f('ctime', 'CTime', 'timestamp', 'Creation timestamp', (v) => v.node.ctime),
  f('mtime', 'MTime', 'timestamp', 'Modification timestamp', (v) => v.node.mtime),
  f('uuid', 'UUID', 'text', 'Node UUID', (v) => v.node.uuid),
  f('serial_no', 'SerialNo', 'number', 'Node object serial number, incremented on each modification', (v) => v.node.serial_no),
  f('tags', 'Tags', 'other', 'Tags', (v) => [...(v.node.tags ?? [])].sort()),
].map((x) => [x.name, x]));

/** Field names a wire-form filter reads. */
export function filterFields(filter: Filter): string[] {
  const out: string[] = [];
  const walk = (x: unknown): void => {
    if (!Array.isArray(x) || x.length === 0) return;
    const [op, ...rest] = x as [unknown, ...unknown[]];
    if (op === '&' || op === '|' || op === '!') rest.forEach(walk);
    else if (typeof rest[0] === 'string') out.push(rest[0]);
  };
  walk(filter);
  return out;
}

/**
 * The names a filter asks for when it is nothing but equality tests on `name` joined by
 * "or" (what plain `gnt-node list NAME...` sends); null for any other filter. As
 * upstream, such names must exist.
 */
export function requestedNames(filter: Filter): string[] | null {
  const walk = (x: unknown): string[] | null => {
    if (!Array.isArray(x)) return null;
    if (x[0] === '|') {
      const parts = x.slice(1).map(walk);
      return parts.every((p) => p !== null) ? (parts as string[][]).flat() : null;
    }
    if ((x[0] === '==' || x[0] === '=') && x.length === 3 && x[1] === 'name') return typeof x[2] === 'string' ? [x[2]] : [];
    return null;
  };
  return filter === null || filter === undefined ? null : walk(filter);
}

/** Upstream's name lookup: a uuid, the exact name, or a unique prefix ending at a dot ("node1" for node1.example.com). */
export function lookupNode(nodes: NodeObject[], name: string): NodeObject {
  const byUuid = nodes.find((n) => n.uuid === name);
  if (byUuid) return byUuid;
  const exact = nodes.find((n) => n.name === name);
  if (exact) return exact;
  const partial = nodes.filter((n) => n.name.startsWith(`${name}.`));
  if (partial.length === 1) return partial[0];
  throw new OpPrereqError(`Node name ${name} ${partial.length > 1 ? 'has multiple matches' : 'not found'}`, ECODE.NOENT);
}

const STORAGE_FIELDS = new Set(['dtotal', 'dfree', 'spfree', 'sptotal']);
const HV_FIELDS = new Set(['mnode', 'mfree', 'mtotal', 'cnodes', 'csockets', 'cnos', 'ctotal']);

/** The storage units upstream reports for a node: one per enabled disk template with storage, then the spindles. */
function storageUnits(config: ConfigData, node: NodeObject): unknown[] {
  const c = config.cluster as ConfigData['cluster'] & { volume_group_name?: string | null };
  const vg = c.volume_group_name || null;
  const exclusive = Boolean(filledNdParams(config, node)?.exclusive_storage);
  const units: unknown[] = [];
  for (const dt of c.enabled_disk_templates ?? []) {
    if ((dt === 'plain' || dt === 'drbd') && vg) units.push(['lvm-vg', vg, [exclusive]]);
    else if (dt === 'file') units.push(['file', c.file_storage_dir, []]);
    else if (dt === 'sharedfile') units.push(['sharedfile', c.shared_file_storage_dir, []]);
  }
  if (vg) units.push(['lvm-pv', vg, [exclusive]]);
  return units;
}

function runtimeOf(r: RpcResult | undefined): NodeRuntime {
  if (!r) return { ok: false, status: RS_NODATA };
  if (!r.ok) return { ok: false, status: r.offline ? RS_OFFLINE : RS_NODATA };
  const p = r.payload;
  if (!Array.isArray(p) || p.length !== 3) return { ok: false, status: RS_NODATA };
  return { ok: true, bootId: p[0], storage: Array.isArray(p[1]) ? p[1] : [], hv: Array.isArray(p[2]) ? p[2] : [] };
}

/** Gather `node_info` from the nodes in parallel; only the parts the fields need are asked for. */
async function collectLive(config: ConfigData, rpc: Pick<RpcClient, 'callMany'>, nodes: NodeObject[], needed: Set<string>): Promise<Map<string, NodeRuntime>> {
  const c = config.cluster;
  const defaultHv = c.enabled_hypervisors?.[0];
  const hvSpecs = [...needed].some((n) => HV_FIELDS.has(n)) && defaultHv ? [[defaultHv, c.hvparams?.[defaultHv] ?? {}]] : [];
  const wantStorage = [...needed].some((n) => STORAGE_FIELDS.has(n));
  // A node whose group is gone has a broken configuration: no call, no data.
  const good = nodes.filter((n) => config.nodegroups[n.group]);
  const byName = new Map(good.map((n) => [n.name, n]));
  const results = good.length === 0 ? new Map<string, RpcResult>() :
    await rpc.callMany(good.map(rpcTarget), 'node_info', (t) => [wantStorage ? storageUnits(config, byName.get(t.name)!) : [], hvSpecs]);
  return new Map(nodes.map((n) => [n.uuid, runtimeOf(results.get(n.name))]));
}

/**
 * The items of a node query, nicely sorted by name (or in the order of the names a plain
 * name filter asks for, each of which must exist); live data is fetched from the nodes
 * only when a requested or filtered field needs it.
 */
export async function nodeViews(config: { data: ConfigData }, rpc: Pick<RpcClient, 'callMany'>, fields: string[], filter: Filter = null): Promise<NodeView[]> {
  const data = config.data;
  const all = Object.values(data.nodes);
  const wanted = requestedNames(filter);
  const nodes = wanted === null || wanted.length === 0
    ? niceSort(all.map((n) => n.name)).map((name) => all.find((n) => n.name === name)!)
    : wanted.map((name) => lookupNode(all, name));
  const needed = new Set([...fields, ...filterFields(filter)].filter((n) => LIVE_SOURCE.has(n)));
  if (needed.size === 0) return nodes.map((node) => ({ node, config: data }));
  const live = await collectLive(data, rpc, nodes, needed);
  return nodes.map((node) => ({ node, config: data, runtime: live.get(node.uuid) }));
}
