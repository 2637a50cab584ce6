// The `os` query resource (Ganeti 3.0's OS fields): what `os_diagnose` finds on the
// online, VM-capable nodes, merged per OS as upstream's OsQuery does. An OS is valid only
// when every node that answered has a valid first definition of it; its variants,
// parameters and API versions are those all those nodes agree on.
import type { Field, FieldKind } from '../../core/query.ts';
import type { RpcClient } from '../../rpc/client.ts';
import { rpcTarget } from '../cmdlib/base.ts';
import type { ConfigData } from './model.ts';
import { niceSort } from './ssconf.ts';

/** One OS definition as one node reports it: [path, status, message, variants, [[param, help]...], api_versions, trusted]. */
export type OsNodeEntry = [string, boolean, string, string[], Array<[string, string]>, number[], boolean];

export interface OsView {
  name: string;
  valid: boolean;
  hidden: boolean;
  blacklisted: boolean;
  variants: string[];
  parameters: Array<[string, string]>;
  apiVersions: number[];
  /** Node name → the definitions found there, first (the one used) first. */
  nodeStatus: Record<string, OsNodeEntry[]>;
  osHvp: Record<string, unknown>;
  osparams: Record<string, unknown>;
  trusted: boolean;
}

const f = (name: string, title: string, kind: FieldKind, doc: string, get: (v: OsView) => unknown): Field<OsView> =>
  ({ name, title, kind, doc, get });

const byFirst = (a: [string, string], b: [string, string]) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

export const OS_FIELDS: ReadonlyMap<string, Field<OsView>> = new Map([
  f('name', 'Name', 'text', 'Operating system name', (v) => v.name),
  f('valid', 'Valid', 'bool', 'Whether operating system definition is valid', (v) => v.valid),
  f('hidden', 'Hidden', 'bool', 'Whether operating system is hidden', (v) => v.hidden),
  f('blacklisted', 'Blacklisted', 'bool', 'Whether operating system is blacklisted', (v) => v.blacklisted),
  f('variants', 'Variants', 'other', 'Operating system variants', (v) => niceSort(v.variants)),
  f('api_versions', 'ApiVersions', 'other', 'Operating system API versions', (v) => [...v.apiVersions].sort((a, b) => a - b)),
  f('parameters', 'Parameters', 'other', 'Operating system parameters', (v) => [...v.parameters].sort(byFirst)),
  f('node_status', 'NodeStatus', 'other', 'Status from node', (v) => v.nodeStatus),
  f('os_hvp', 'OsHypervisorParams', 'other', 'Operating system specific hypervisor parameters', (v) => v.osHvp),
  f('osparams', 'OsParameters', 'other', 'Operating system specific parameters', (v) => v.osparams),
  f('trusted', 'Trusted', 'bool', 'Whether this OS is trusted', (v) => v.trusted),
].map((x) => [x.name, x]));

/** One os_diagnose row as a node entry, or null when it is malformed. */
function parseRow(row: unknown): [string, OsNodeEntry] | null {
  if (!Array.isArray(row) || row.length < 7 || typeof row[0] !== 'string') return null;
  const [, path, status, msg, variants, params, api, trusted] = row as unknown[];
  const name = row[0];
  const list = <T>(x: unknown) => (Array.isArray(x) ? x as T[] : []);
  return [name, [String(path), Boolean(status), String(msg ?? ''), list<string>(variants),
    list<unknown>(params).filter(Array.isArray).map((p) => [String(p[0]), String(p[1] ?? '')] as [string, string]),
    list<number>(api), trusted === undefined ? true : Boolean(trusted)]];
}

const sameParam = (a: [string, string], b: [string, string]) => a[0] === b[0] && a[1] === b[1];

/** Merge the nodes' answers into one view per OS (upstream's _DiagnoseByOS and OsQuery). */
export function mergeOsDiagnose(config: ConfigData, answers: Map<string, unknown[] | null>): OsView[] {
  const good = [...answers].filter(([, rows]) => rows !== null).map(([node]) => node);
  const byOs = new Map<string, Record<string, OsNodeEntry[]>>();
  for (const [node, rows] of answers) {
    for (const row of rows ?? []) {
      const parsed = parseRow(row);
      if (!parsed) continue;
      const [name, entry] = parsed;
      if (!byOs.has(name)) byOs.set(name, Object.fromEntries(good.map((n) => [n, [] as OsNodeEntry[]])));
      byOs.get(name)![node].push(entry);
    }
  }
  const c = config.cluster as ConfigData['cluster'] & Record<string, any>;
  return niceSort([...byOs.keys()]).map((name) => {
    const nodeStatus = byOs.get(name)!;
    let valid = true;
    let trusted = true;
    let variants: string[] = [];
    let parameters: Array<[string, string]> = [];
    let apiVersions: number[] = [];
    Object.values(nodeStatus).forEach((entries, idx) => {
      if (!valid) return;
      valid = entries.length > 0 && entries[0][1];
      if (!valid) return;
      const [, , , v, p, a, t] = entries[0];
      if (idx === 0) {
        [variants, parameters, apiVersions, trusted] = [[...new Set(v)], p, [...new Set(a)], t];
      } else {
        variants = variants.filter((x) => v.includes(x));
        parameters = parameters.filter((x) => p.some((y) => sameParam(x, y)));
        apiVersions = apiVersions.filter((x) => a.includes(x));
        trusted = trusted && t;
      }
    });
    return {
      name,
      valid,
      hidden: ((c.hidden_os as string[] | undefined) ?? []).includes(name),
      blacklisted: ((c.blacklisted_os as string[] | undefined) ?? []).includes(name),
      variants,
      parameters,
      apiVersions,
      nodeStatus,
      osHvp: (c.os_hvp as Record<string, Record<string, unknown>> | undefined)?.[name] ?? {},
      osparams: (c.osparams as Record<string, Record<string, unknown>> | undefined)?.[name] ?? {},
      trusted: valid && trusted,
    };
  });
}

/** Ask every online, VM-capable node for its OS definitions and merge the answers. */
export async function osViews(config: { data: ConfigData }, rpc: Pick<RpcClient, 'callMany'>): Promise<OsView[]> {
  const data = config.data;
  const nodes = Object.values(data.nodes).filter((n) => !n.offline && n.vm_capable);
  const results = nodes.length === 0 ? new Map() : await rpc.callMany(nodes.map(rpcTarget), 'os_diagnose', []);
  const answers = new Map<string, unknown[] | null>();
  for (const node of niceSort(nodes.map((n) => n.name))) {
    const r = results.get(node);
    answers.set(node, r?.ok ? (Array.isArray(r.payload) ? r.payload : []) : null);
  }
  return mergeOsDiagnose(data, answers);
}

