// gnt-node list-storage, modify-storage and repair-storage (upstream's gnt_node.py
// ListStorage, ModifyStorage, RepairStorage): OP_NODE_QUERY_STORAGE's rows printed by
// GenerateTable (sizes with --units, right-aligned; allocatable as Y/N), and the two
// single-unit opcodes with the user's storage type names checked first.
import { rawToBigInt } from '../../core/json.ts';
import { ECODE, OpPrereqError, ParameterError } from '../../core/errors.ts';
import { pyStr } from '../../core/pyrepr.ts';
import type { Command } from '../framework.ts';
import { DRY_RUN_OPT, PRINT_JOBID_OPT, PRIORITY_OPT, SUBMIT_OPT, submitAndWait } from '../jobs.ts';
import { LIST_OPTIONS, UNITS_OPTION, selectedFields } from '../list.ts';
import type { OptionSpec } from '../parser.ts';
import { formatUnit, type Units } from '../format/table.ts';

/** _LIST_STOR_DEF_FIELDS */
export const LIST_STORAGE_DEFAULT_FIELDS = ['node', 'type', 'name', 'size', 'used', 'free', 'allocatable'];
/** _LIST_STOR_HEADERS (also the list of every field, in this order). */
export const LIST_STORAGE_HEADERS: Readonly<Record<string, string>> = {
  node: 'Node', type: 'Type', name: 'Name', size: 'Size', used: 'Used', free: 'Free', allocatable: 'Allocatable',
};
/** _USER_STORAGE_TYPE: the types an operator may name, and their internal names. */
const USER_STORAGE_TYPES: Readonly<Record<string, string>> = {
  file: 'file', 'lvm-pv': 'lvm-pv', 'lvm-vg': 'lvm-vg', sharedfile: 'sharedfile', gluster: 'gluster',
};
const SIZE_FIELDS = ['size', 'used', 'free'];

/** ConvertStorageType */
export function convertStorageType(user: string): string {
  const t = Object.hasOwn(USER_STORAGE_TYPES, user) ? USER_STORAGE_TYPES[user] : undefined;
  if (!t) throw new OpPrereqError(`Unknown storage type: ${user}`, ECODE.INVAL);
  return t;
}

/**
 * cli.GenerateTable with the storage columns' number and unit fields: sizes are formatted
 * in `units` (h without a separator, m with one), right-aligned. As upstream, the title row
 * is laid out before the last column's width is dropped, so it may keep trailing blanks.
 */
export function generateStorageTable(fields: readonly string[], rows: readonly (readonly string[])[], header: boolean,
  separator: string | null, units: Units | null): string[] {
  const u: Units = units ?? (separator ? 'm' : 'h');
  const numeric = (f: string) => SIZE_FIELDS.includes(f);
  const cells = rows.map((row) => row.map((val, i) => {
    if (!numeric(fields[i]) || !/^\s*[-+]?\d+\s*$/.test(val)) return val;
    return formatUnit(Number.parseInt(val, 10), u);
  }));
  const titles = fields.map((f) => LIST_STORAGE_HEADERS[f] ?? f);
  if (separator !== null) return [...(header ? [titles] : []), ...cells].map((r) => r.join(separator));
  const widths = fields.map((_, i) => cells.reduce((w, r) => Math.max(w, r[i].length), 0));
  const lay = (r: readonly string[]) => r.map((cell, i) => (numeric(fields[i]) ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join(' ');
  const out: string[] = [];
  if (header) {
    titles.forEach((t, i) => { widths[i] = Math.max(widths[i], t.length); });
    out.push(lay(titles));
  }
  if (fields.length > 0 && !numeric(fields[fields.length - 1])) widths[fields.length - 1] = 0;
  for (const r of cells) out.push(lay(r));
  return out;
}

/** cli.check_bool, the type of --allocatable (node.ts has the same; kept here to avoid an import cycle). */
function parseYesNo(value: string): boolean {
  const v = value.toLowerCase();
  if (v === 'no' || v === 'false') return false;
  if (v === 'yes' || v === 'true') return true;
  throw new ParameterError(`Invalid boolean value '${v}'`);
}

/** One value as ListStorage shows it: str(), allocatable as Y/N. */
export function storageCell(field: string, value: unknown): string {
  if (field === 'allocatable') return value ? 'Y' : 'N';
  return pyStr(value);
}

const STORAGE_TYPE_OPT: OptionSpec = {
  flags: ['-t', '--storage-type'], dest: 'user_storage_type', type: 'choice', choices: Object.keys(USER_STORAGE_TYPES), metavar: 'STORAGE_TYPE',
  help: `Storage type (${Object.keys(USER_STORAGE_TYPES).join(', ')})`,
};
const ALLOCATABLE_OPT: OptionSpec = { flags: ['--allocatable'], dest: 'allocatable', type: 'string', metavar: 'yes|no', help: 'Set the allocatable flag on a volume' };
const IGNORE_CONSIST_OPT: OptionSpec = {
  flags: ['--ignore-consistency'], dest: 'ignore_consistency',
  help: 'Ignore the consistency of the disks on the secondary. The source node must be marked offline first for this to succeed.',
};
const SUBMIT_OPTS = [SUBMIT_OPT, PRINT_JOBID_OPT];
const [NOHDR_OPT, SEP_OPT, FIELDS_OPT] = [LIST_OPTIONS[0], LIST_OPTIONS[1], LIST_OPTIONS[2]];

const listStorage: Command = {
  name: 'list-storage',
  usage: '[<node-name>...]',
  description: `List physical volumes on node(s). The available fields are (see the man page for details): ${Object.keys(LIST_STORAGE_HEADERS).join(', ')}.`,
  args: { min: 0, max: null },
  options: [NOHDR_OPT, SEP_OPT, UNITS_OPTION, FIELDS_OPT, STORAGE_TYPE_OPT, PRIORITY_OPT],
  async run(ctx) {
    const fields = selectedFields((ctx.opts.output as string | null) ?? null, LIST_STORAGE_DEFAULT_FIELDS);
    const [result] = await submitAndWait(ctx, [{
      OP_ID: 'OP_NODE_QUERY_STORAGE', nodes: ctx.args, storage_type: ctx.opts.user_storage_type ?? null, output_fields: fields,
    }]);
    const rows = ((rawToBigInt(result) as unknown[][] | null) ?? []).map((row) => fields.map((f, i) => storageCell(f, row[i])));
    const separator = (ctx.opts.separator as string | null) ?? null;
    for (const line of generateStorageTable(fields, rows, !ctx.opts.no_headers, separator, (ctx.opts.units as Units | null) ?? null)) {
      ctx.out(`${line}\n`);
    }
    return 0;
  },
};

const modifyStorage: Command = {
  name: 'modify-storage',
  usage: '<node-name> <storage-type> <volume-name>',
  description: 'Modify storage volume on a node',
  args: { min: 3, max: 3 },
  options: [ALLOCATABLE_OPT, DRY_RUN_OPT, PRIORITY_OPT, ...SUBMIT_OPTS],
  async run(ctx) {
    const [node, userType, volume] = ctx.args;
    const storageType = convertStorageType(userType);
    const changes: Record<string, unknown> = {};
    if (ctx.opts.allocatable !== null && ctx.opts.allocatable !== undefined) changes.allocatable = parseYesNo(String(ctx.opts.allocatable));
    if (Object.keys(changes).length === 0) {
      ctx.err('No changes to perform, exiting.\n');
      return 0;
    }
    await submitAndWait(ctx, [{ OP_ID: 'OP_NODE_MODIFY_STORAGE', node_name: node, storage_type: storageType, name: volume, changes }]);
    return 0;
  },
};

const repairStorage: Command = {
  name: 'repair-storage',
  usage: '<node-name> <storage-type> <volume-name>',
  description: 'Repairs a storage volume on a node',
  args: { min: 3, max: 3 },
  options: [IGNORE_CONSIST_OPT, DRY_RUN_OPT, PRIORITY_OPT, ...SUBMIT_OPTS],
  async run(ctx) {
    const [node, userType, volume] = ctx.args;
    const storageType = convertStorageType(userType);
    await submitAndWait(ctx, [{
      OP_ID: 'OP_REPAIR_NODE_STORAGE', node_name: node, storage_type: storageType, name: volume, ignore_consistency: Boolean(ctx.opts.ignore_consistency),
    }]);
    return 0;
  },
};

export const nodeStorageCommands: Command[] = [listStorage, modifyStorage, repairStorage];
