// The `group` query resource (Ganeti 3.0's group fields, golden 082): the group's own
// settings, its parameters merged over the cluster's, its nodes and primary instances.
import type { Field, FieldKind } from '../../core/query.ts';
import type { ConfigData, NodeGroupObject } from './model.ts';
import { niceSort } from './ssconf.ts';
import type { ConfigStore } from './store.ts';
import { NDP_FIELDS } from './node-fields.ts';

export interface GroupView {
  group: NodeGroupObject;
  config: ConfigData;
}

type Dict = Record<string, unknown>;

const dict = (v: unknown): Dict => (v !== null && typeof v === 'object' && !Array.isArray(v) ? v as Dict : {});

/**
 * Node parameters in the order luxid serializes the filled record: `gnt-group list`
 * prints the ndparams column in this order (RAPI golden rapi-019 shows it too).
 */
export const NDPARAM_ORDER = ['oob_program', 'spindle_count', 'exclusive_storage', 'ovs', 'ovs_name', 'ovs_link', 'ssh_port', 'cpu_speed'];


/** A dictionary with `order`'s keys first (luxid's record field order), then the others. */
function ordered(d: Dict, order: string[]): Dict {
  const out: Dict = {};
  for (const k of order) if (k in d) out[k] = d[k];
  for (const k of Object.keys(d)) if (!(k in out)) out[k] = d[k];
  return out;
}

/** A dictionary with its keys sorted, as luxid's maps serialize. */
function sorted(d: Dict): Dict {
  return Object.fromEntries(Object.keys(d).sort().map((k) => [k, d[k]]));
}

const IPOLICY_ORDER = ['minmax', 'std', 'spindle-ratio', 'vcpu-ratio', 'disk-templates'];

/** The cluster's node parameters with the group's on top. */
export function groupNdParams(config: ConfigData, group: NodeGroupObject): Dict {
  return ordered({ ...dict(config.cluster.ndparams), ...dict(group.ndparams) }, NDPARAM_ORDER);
}

/**
 * The cluster's disk parameters with the group's on top, per disk template. (luxid 3.0
 * replaces a template's whole dictionary; merging per parameter is what the Python
 * config did and what the group's custom values mean.)
 */
export function groupDiskParams(config: ConfigData, group: NodeGroupObject): Dict {
  const cluster = dict(config.cluster.diskparams);
  const custom = dict(group.diskparams);
  const out: Dict = {};
  for (const t of [...new Set([...Object.keys(cluster), ...Object.keys(custom)])].sort()) {
    out[t] = sorted({ ...dict(cluster[t]), ...dict(custom[t]) });
  }
  return out;
}

/** The cluster's instance policy with the group's keys replacing the cluster's. */
export function groupIpolicy(config: ConfigData, group: NodeGroupObject): Dict {
  return ordered({ ...dict(config.cluster.ipolicy), ...dict(group.ipolicy) }, IPOLICY_ORDER);
}

/** The group's nodes, by uuid as luxid's container keeps them. */
export function groupNodes(config: ConfigData, groupUuid: string) {
  return Object.values(config.nodes).filter((n) => n.group === groupUuid).sort((a, b) => (a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0));
}

/** Instances whose primary node is in the group. */
export function groupPrimaryInstances(config: ConfigData, groupUuid: string) {
  const nodes = new Set(groupNodes(config, groupUuid).map((n) => n.uuid));
  return Object.values(config.instances).filter((i) => nodes.has(i.primary_node));
}

const f = (name: string, title: string, kind: FieldKind, doc: string, get: (v: GroupView) => unknown): Field<GroupView> =>
  ({ name, title, kind, doc, get });

export const GROUP_FIELDS: ReadonlyMap<string, Field<GroupView>> = new Map([
  f('alloc_policy', 'AllocPolicy', 'text', 'Allocation policy for group', (v) => v.group.alloc_policy),
  f('ctime', 'CTime', 'timestamp', 'Creation timestamp', (v) => v.group.ctime),
  f('custom_diskparams', 'CustomDiskParameters', 'other', 'Custom disk parameters', (v) => Object.fromEntries(Object.entries(sorted(dict(v.group.diskparams))).map(([t, p]) => [t, sorted(dict(p))]))),
  f('custom_ipolicy', 'CustomInstancePolicy', 'other', 'Custom instance policy limitations', (v) => ordered(dict(v.group.ipolicy), IPOLICY_ORDER)),
  f('custom_ndparams', 'CustomNDParams', 'other', 'Custom node parameters', (v) => ordered(dict(v.group.ndparams), NDPARAM_ORDER)),
  f('diskparams', 'DiskParameters', 'other', 'Disk parameters (merged)', (v) => groupDiskParams(v.config, v.group)),
  f('ipolicy', 'InstancePolicy', 'other', 'Instance policy limitations (merged)', (v) => groupIpolicy(v.config, v.group)),
  f('mtime', 'MTime', 'timestamp', 'Modification timestamp', (v) => v.group.mtime),
  f('name', 'Group', 'text', 'Group name', (v) => v.group.name),
  ...NDP_FIELDS.map(([p, title, kind]) =>
    f(`ndp/${p}`, title, kind, `The "${p}" node parameter`, (v) => groupNdParams(v.config, v.group)[p] ?? null)),
  f('ndparams', 'NDParams', 'other', 'Node parameters', (v) => groupNdParams(v.config, v.group)),
  f('node_cnt', 'Nodes', 'number', 'Number of nodes', (v) => groupNodes(v.config, v.group.uuid).length),
  f('node_list', 'NodeList', 'other', 'List of nodes', (v) => groupNodes(v.config, v.group.uuid).map((n) => n.name)),
  f('pinst_cnt', 'Instances', 'number', 'Number of primary instances', (v) => groupPrimaryInstances(v.config, v.group.uuid).length),
  f('pinst_list', 'InstanceList', 'other', 'List of primary instances', (v) => niceSort(groupPrimaryInstances(v.config, v.group.uuid).map((i) => i.name))),
  f('serial_no', 'SerialNo', 'number', 'Group object serial number, incremented on each modification', (v) => v.group.serial_no),
  f('tags', 'Tags', 'other', 'Tags', (v) => (Array.isArray(v.group.tags) ? v.group.tags : [])),
  f('uuid', 'UUID', 'text', 'Group UUID', (v) => v.group.uuid),
].map((x) => [x.name, x]));

/** Every group, by name as luxid lists them. */
export function groupViews(config: ConfigStore): GroupView[] {
  const groups = [...config.groups()].sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
  return groups.map((group) => ({ group, config: config.data }));
}
