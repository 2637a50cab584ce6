// The `export` query resource (Ganeti 3.0's export fields): one row per instance export
// that a node's `export_list` reports, and one row without an export name for a node
// that could not be asked (its status: offline or no data), as luxid's Query/Export.hs.
import { RS_NODATA, RS_OFFLINE } from '../../core/constants.ts';
import type { Field, FieldKind } from '../../core/query.ts';
import type { RpcClient } from '../../rpc/client.ts';
import { rpcTarget } from '../cmdlib/base.ts';
import type { ConfigData } from './model.ts';
import { resultStatus } from './node-fields.ts';
import { niceSort } from './ssconf.ts';

export interface ExportView {
  node: string;
  /** The export's name, or the status marker of a node that did not answer. */
  export: unknown;
}

const f = (name: string, title: string, kind: FieldKind, doc: string, get: (v: ExportView) => unknown): Field<ExportView> =>
  ({ name, title, kind, doc, get });

export const EXPORT_FIELDS: ReadonlyMap<string, Field<ExportView>> = new Map([
  // Equality on a host name also matches its first labels.
  Object.assign(f('node', 'Node', 'text', 'Node name', (v) => v.node), { hostname: true }),
  f('export', 'Export', 'text', 'Export name', (v) => v.export),
].map((x) => [x.name, x]));

/** Every export on every node (nodes nicely sorted, each node's exports as it lists them). */
export async function exportViews(config: { data: ConfigData }, rpc: Pick<RpcClient, 'callMany'>): Promise<ExportView[]> {
  const byName = new Map(Object.values(config.data.nodes).map((n) => [n.name, n]));
  const nodes = niceSort([...byName.keys()]).map((n) => byName.get(n)!);
  const results = nodes.length === 0 ? new Map() : await rpc.callMany(nodes.map(rpcTarget), 'export_list', []);
  return nodes.flatMap((node): ExportView[] => {
    const r = results.get(node.name);
    if (!r?.ok) return [{ node: node.name, export: resultStatus(r?.offline ? RS_OFFLINE : RS_NODATA) }];
    return (Array.isArray(r.payload) ? r.payload : []).map((e: unknown) => ({ node: node.name, export: String(e) }));
  });
}

/**
 * OP_BACKUP_QUERY's and QueryExports' answer: node name → its exports, or false for a
 * node that could not be asked; nodes without exports are left out (upstream's old-style
 * query over the export rows).
 */
export function exportsByNode(views: ExportView[], nodes: string[] | null): Record<string, string[] | false> {
  const wanted = nodes && nodes.length > 0 ? new Set(nodes) : null;
  const out: Record<string, string[] | false> = {};
  for (const v of views) {
    if (wanted && !wanted.has(v.node) && ![...wanted].some((w) => v.node.startsWith(`${w}.`))) continue;
    if (typeof v.export !== 'string') out[v.node] = false;
    else (out[v.node] ||= []).push(v.export);
  }
  return out;
}
