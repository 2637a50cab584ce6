// The `node` query resource: the fields that need only the configuration. Live fields
// (memory, disk, instances) come with the nodes capability.
import type { Field, FieldKind } from '../../core/query.ts';
import type { ConfigData, NodeObject } from './model.ts';
import type { ConfigStore } from './store.ts';
import type { RpcClient } from '../../rpc/client.ts';

export interface NodeView {
  node: NodeObject;
  config: ConfigData;
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

export const NODE_FIELDS: ReadonlyMap<string, Field<NodeView>> = new Map([
  f('name', 'Node', 'text', 'Node name', (v) => v.node.name),
  f('uuid', 'UUID', 'text', 'Node UUID', (v) => v.node.uuid),
  f('pip', 'PrimaryIP', 'text', 'Primary IP address', (v) => v.node.primary_ip),
  f('sip', 'SecondaryIP', 'text', 'Secondary IP address', (v) => v.node.secondary_ip),
  f('master', 'IsMaster', 'bool', 'Whether node is master', (v) => v.config.cluster.master_node === v.node.uuid),
  f('master_candidate', 'MasterC', 'bool', 'Whether node is a master candidate', (v) => v.node.master_candidate),
  f('master_capable', 'MasterCapable', 'bool', 'Whether node can become a master candidate', (v) => v.node.master_capable),
  f('vm_capable', 'VMCapable', 'bool', 'Whether node can host instances', (v) => v.node.vm_capable),
  f('offline', 'Offline', 'bool', 'Whether node is marked offline', (v) => v.node.offline),
  f('drained', 'Drained', 'bool', 'Whether node is drained', (v) => v.node.drained),
  f('role', 'Role', 'text', 'Node role; "M" for master, "C" for master candidate, "R" for regular, "D" for drained, "O" for offline', nodeRole),
  f('group.uuid', 'GroupUUID', 'text', 'UUID of node group', (v) => v.node.group),
  f('group', 'Group', 'text', 'Node group', (v) => v.config.nodegroups[v.node.group]?.name ?? null),
  f('serial_no', 'SerialNo', 'number', 'Node object serial number, incremented on each modification', (v) => v.node.serial_no),
  f('ctime', 'CTime', 'timestamp', 'Creation timestamp', (v) => v.node.ctime),
  f('mtime', 'MTime', 'timestamp', 'Modification timestamp', (v) => v.node.mtime),
  f('tags', 'Tags', 'other', 'Tags', (v) => v.node.tags ?? []),
  f('powered', 'Powered', 'bool', 'Whether node is thought to be powered on', (v) => v.node.powered),
].map((x) => [x.name, x]));

/** The items of a node query; live data is fetched from the nodes only when a requested field needs it. */
export async function nodeViews(config: ConfigStore, _rpc: RpcClient, _fields: string[]): Promise<NodeView[]> {
  return config.nodes().map((node) => ({ node, config: config.data }));
}
