// gnt-node: node administration (Ganeti 3.0's list, list-fields, info, modify, remove,
// powercycle, the tag commands and add; migrate and evacuate are in ./node-migrate.ts,
// list-storage, modify-storage and repair-storage in ./node-storage.ts).
// Not yet: failover, volumes, ...
import { RS_NORMAL } from '../../core/constants.ts';
import { ParameterError } from '../../core/errors.ts';
import { rawToBigInt } from '../../core/json.ts';
import type { QueryResponse } from '../../core/query.ts';
import { toolMain, type Command, type CommandContext } from '../framework.ts';
import { LIST_FIELDS_OPTIONS, LIST_OPTIONS, UNITS_OPTION, runList, runListFields } from '../list.ts';
import { makeNameFilter } from '../filter-parser.ts';
import { DRY_RUN_OPT, JOB_OPTIONS, PRIORITY_OPT, submitAndWait } from '../jobs.ts';
import { formatInfo, pairs, type InfoEntry, type InfoValue } from '../format/info.ts';
import { pyStr } from '../../core/pyrepr.ts';
import { tagCommands } from './tags.ts';
import { parseIdentKeyVal, parseKeyVal } from '../keyvalue.ts';
import { add } from './node-add.ts';
import { askUser } from '../confirm.ts';
import { nodeMoveCommands } from './node-migrate.ts';
import { nodeStorageCommands } from './node-storage.ts';

export const LIST_DEFAULT_FIELDS = ['name', 'dtotal', 'dfree', 'mtotal', 'mnode', 'mfree', 'pinst_cnt', 'sinst_cnt'];

const list: Command = {
  name: 'list',
  usage: '[<node-name>...]',
  description: `Lists the nodes in the cluster. The available fields can be shown using the "list-fields" command (see the man page for details). The default field list is (in order): ${LIST_DEFAULT_FIELDS.join(', ')}.`,
  args: { min: 0, max: null },
  options: [...LIST_OPTIONS, UNITS_OPTION],
  run: (ctx) => runList(ctx, {
    resource: 'node',
    defaultFields: LIST_DEFAULT_FIELDS,
    joinedFields: ['pinst_list', 'sinst_list', 'tags'],
    filter: (c) => makeNameFilter(c.args, { forceFilter: Boolean(c.opts.force_filter) }),
  }),
};

const listFields: Command = {
  name: 'list-fields',
  usage: '[<fields>...]',
  description: 'Lists all available fields for nodes',
  args: { min: 0, max: null },
  options: LIST_FIELDS_OPTIONS,
  run: (ctx) => runListFields(ctx, 'node'),
};

const INFO_FIELDS = ['name', 'pip', 'sip', 'pinst_list', 'sinst_list', 'master_candidate', 'drained', 'offline',
  'master_capable', 'vm_capable', 'powered', 'ndparams', 'custom_ndparams'];

/** Parameters as `info` shows them: own values as they are, inherited ones as "default (value)". */
export function formatParamsDictInfo(custom: Record<string, unknown>, actual: Record<string, unknown>): Record<string, InfoValue> {
  const out: Record<string, InfoValue> = {};
  for (const [key, value] of Object.entries(actual)) {
    if (value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length > 0) {
      out[key] = formatParamsDictInfo((custom[key] as Record<string, unknown> | undefined) ?? {}, value as Record<string, unknown>);
    } else {
      out[key] = key in custom ? pyStr(custom[key]) : `default (${pyStr(value)})`;
    }
  }
  return out;
}

/** One node's `info` entry; the row holds INFO_FIELDS' values (null where the cell was not normal). */
export function nodeInfoEntry(row: unknown[]): InfoValue {
  const [name, pip, sip, pinst, sinst, mc, drained, offline, masterCapable, vmCapable, powered, ndparams, custom] = row;
  const entries: InfoEntry[] = [
    ['Node name', name as InfoValue],
    ['primary ip', pip as InfoValue],
    ['secondary ip', sip as InfoValue],
    ['master candidate', mc as InfoValue],
    ['drained', drained as InfoValue],
    ['offline', offline as InfoValue],
  ];
  if (powered !== null && powered !== undefined) entries.push(['powered', powered as InfoValue]);
  entries.push(['master_capable', masterCapable as InfoValue], ['vm_capable', vmCapable as InfoValue]);
  if (vmCapable) {
    entries.push(['primary for instances', (pinst as string[] | null) ?? []], ['secondary for instances', (sinst as string[] | null) ?? []]);
  }
  entries.push(['node parameters', formatParamsDictInfo((custom as Record<string, unknown> | null) ?? {}, (ndparams as Record<string, unknown> | null) ?? {})]);
  return pairs(...entries);
}

/**
 * Upstream asks with the classic QueryNodes call, which returns the named nodes in the
 * order asked and silently skips unknown names (`gnt-node info nosuch` prints an empty
 * line and succeeds); names match exactly or as the first labels of a node's name.
 */
function selectNodes(rows: unknown[][], names: string[]): unknown[][] {
  if (names.length === 0) return rows;
  const out: unknown[][] = [];
  for (const wanted of names) {
    const exact = rows.find((r) => r[0] === wanted);
    const partial = rows.filter((r) => String(r[0]).startsWith(`${wanted}.`));
    const row = exact ?? (partial.length === 1 ? partial[0] : undefined);
    if (row) out.push(row);
  }
  return out;
}

const info: Command = {
  name: 'info',
  aliases: ['show'],
  usage: '[<node-name>...]',
  description: 'Show information about the node(s)',
  args: { min: 0, max: null },
  options: [],
  async run(ctx) {
    const client = await ctx.client();
    const response = rawToBigInt(await client.call('Query', ['node', INFO_FIELDS, null])) as QueryResponse;
    const rows = response.data.map((row) => row.map(([status, value]) => (status === RS_NORMAL ? value : null)));
    for (const line of formatInfo(selectNodes(rows, ctx.args).map(nodeInfoEntry))) ctx.out(`${line}\n`);
    return 0;
  },
};

/** Ganeti's yes/no option values. */
export function parseYesNo(value: string): boolean {
  const v = value.toLowerCase();
  if (v === 'no' || v === 'false') return false;
  if (v === 'yes' || v === 'true') return true;
  throw new ParameterError(`Invalid boolean value '${v}'`);
}

/** "a/b" idents become nested dictionaries (utils.FlatToDict). */
function flatToDict(items: Array<[string, unknown]>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of items) {
    const path = key.split('/');
    let d = out;
    for (const p of path.slice(0, -1)) d = (d[p] ??= {}) as Record<string, unknown>;
    d[path[path.length - 1]] = value;
  }
  return out;
}

const yesNo = (flags: string[], dest: string, help: string) => ({ flags, dest, type: 'string' as const, metavar: 'yes|no', help });

/** The lines `modify` prints from OP_NODE_SET_PARAMS' result, a list of [parameter, new value]. */
export function formatModifyResult(node: string, result: unknown): string[] {
  if (!Array.isArray(result) || result.length === 0) return [];
  return [`Modified node ${node}`, ...result.map((entry) => {
    const [param, data] = entry as [unknown, unknown];
    return ` - ${pyStr(param).padEnd(5)} -> ${pyStr(data)}`;
  })];
}

const modify: Command = {
  name: 'modify',
  usage: '<node-name>',
  description: 'Alters the parameters of a node',
  args: { min: 1, max: 1 },
  options: [
    { flags: ['-f', '--force'], dest: 'force', help: 'Force the operation' },
    yesNo(['-C', '--master-candidate'], 'master_candidate', 'Set the master_candidate flag on the node'),
    yesNo(['-D', '--drained'], 'drained', 'Set the drained flag on the node (excluded from allocation operations)'),
    yesNo(['-O', '--offline'], 'offline', 'Set the offline flag on the node (cluster does not communicate with offline nodes)'),
    yesNo(['--master-capable'], 'master_capable', 'Set the master_capable flag on the node'),
    yesNo(['--vm-capable'], 'vm_capable', 'Set the vm_capable flag on the node'),
    { flags: ['-s', '--secondary-ip'], dest: 'secondary_ip', type: 'string', metavar: 'ADDRESS', help: 'Specify the secondary ip for the node' },
    { flags: ['--auto-promote'], dest: 'auto_promote', help: 'Automatically promote master candidates if needed' },
    { flags: ['--node-parameters'], dest: 'ndparams', type: 'string', help: 'Node parameters' },
    yesNo(['--node-powered'], 'node_powered', 'Specify if the SoR for node is powered'),
    { flags: ['--hypervisor-state'], dest: 'hv_state', type: 'append', help: 'Specify hypervisor state information' },
    { flags: ['--disk-state'], dest: 'disk_state', type: 'append', help: 'Specify disk state information' },
    ...JOB_OPTIONS,
  ],
  async run(ctx) {
    const o = ctx.opts;
    const flag = (k: string) => (o[k] === null || o[k] === undefined ? null : parseYesNo(String(o[k])));
    const ndparams = o.ndparams === null || o.ndparams === undefined ? null : parseKeyVal('--node-parameters', String(o.ndparams));
    const hvState = (o.hv_state as string[]).map((v) => parseIdentKeyVal('--hypervisor-state', v));
    const diskState = (o.disk_state as string[]).map((v) => parseIdentKeyVal('--disk-state', v));
    const op: Record<string, unknown> = {
      OP_ID: 'OP_NODE_SET_PARAMS',
      node_name: ctx.args[0],
      master_candidate: flag('master_candidate'),
      offline: flag('offline'),
      drained: flag('drained'),
      master_capable: flag('master_capable'),
      vm_capable: flag('vm_capable'),
      secondary_ip: o.secondary_ip ?? null,
      force: Boolean(o.force),
      ndparams,
      auto_promote: Boolean(o.auto_promote),
      powered: flag('node_powered'),
      hv_state: Object.fromEntries(hvState),
      disk_state: flatToDict(diskState),
    };
    // As upstream, --node-powered alone is not a change worth a job.
    const changes = ['master_candidate', 'drained', 'offline', 'master_capable', 'vm_capable', 'secondary_ip', 'ndparams'];
    if (changes.every((k) => op[k] === null) && hvState.length === 0 && diskState.length === 0) {
      ctx.err('Please give at least one of the parameters.\n');
      return 1;
    }
    const [result] = await submitAndWait(ctx, [op]);
    for (const line of formatModifyResult(ctx.args[0], rawToBigInt(result))) ctx.out(`${line}\n`);
    return 0;
  },
};

const remove: Command = {
  name: 'remove',
  usage: '<node-name>',
  description: 'Removes a node from the cluster',
  args: { min: 1, max: 1 },
  options: [DRY_RUN_OPT, PRIORITY_OPT],
  async run(ctx: CommandContext) {
    await submitAndWait(ctx, [{ OP_ID: 'OP_NODE_REMOVE', node_name: ctx.args[0] }]);
    return 0;
  },
};

/** Upstream answers 2 when the operator declines the powercycle. */
const POWERCYCLE_DECLINED = 2;

const powercycle: Command = {
  name: 'powercycle',
  usage: '<node-name>',
  description: 'Tries to forcefully powercycle a node',
  args: { min: 1, max: 1 },
  options: [
    { flags: ['-f', '--force'], dest: 'force', help: 'Force the operation' },
    { flags: ['--yes'], dest: 'confirm', help: 'Do not require confirmation' },
    ...JOB_OPTIONS,
  ],
  async run(ctx: CommandContext) {
    const node = ctx.args[0];
    if (!ctx.opts.confirm && !(await askUser(`Are you sure you want to hard powercycle node ${node}?`))) return POWERCYCLE_DECLINED;
    const [result] = await submitAndWait(ctx, [{ OP_ID: 'OP_NODE_POWERCYCLE', node_name: node, force: Boolean(ctx.opts.force) }]);
    if (result) ctx.err(`${String(result)}\n`);
    return 0;
  },
};

export const main = toolMain('gnt-node', [add, info, list, listFields, modify, powercycle, remove, ...nodeMoveCommands, ...nodeStorageCommands, ...tagCommands('node')]);
