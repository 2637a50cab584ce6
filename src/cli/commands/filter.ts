// gnt-filter: job filter rules (upstream's gnt_filter.py), through LUXI's ReplaceFilter,
// DeleteFilter and Query("filter"); they change the queue at once, never as jobs.
import { nowNs, rawToBigInt } from '../../core/json.ts';
import { pyStr } from '../../core/pyrepr.ts';
import { makeNameFilter } from '../filter-parser.ts';
import { toolMain, type Command, type CommandContext } from '../framework.ts';
import { LIST_FIELDS_OPTIONS, LIST_OPTIONS, runList, runListFields } from '../list.ts';
import type { OptionSpec } from '../parser.ts';
import { CliExit } from '../errors.ts';

const LIST_DEFAULT_FIELDS = ['uuid', 'watermark', 'priority', 'predicates', 'action', 'reason_trail'];

const PRIORITY_OPT: OptionSpec = { flags: ['--priority'], dest: 'priority', type: 'int', default: 0, help: 'Priority for filter processing' };
const PREDICATES_OPT: OptionSpec = { flags: ['--predicates'], dest: 'predicates', type: 'string', help: 'List of predicates in the Ganeti query language, given as a JSON list.' };
const ACTION_OPT: OptionSpec = {
  flags: ['--action'], dest: 'action', type: 'string', default: 'CONTINUE',
  help: "The effect of the filter. Can be one of 'ACCEPT', 'PAUSE', 'REJECT', 'CONTINUE' and '[RATE_LIMIT, n]', where n is a positive integer.",
};
const RULE_OPTIONS = [PRIORITY_OPT, PREDICATES_OPT, ACTION_OPT];

/** The rule's parts from the options: --predicates is JSON, "RATE_LIMIT n" becomes ["RATE_LIMIT", n] (check_filteraction). */
function ruleArgs(ctx: CommandContext): [number, unknown, unknown, unknown[]] {
  let predicates: unknown = [];
  if (ctx.opts.predicates !== null && ctx.opts.predicates !== undefined) {
    try {
      predicates = JSON.parse(String(ctx.opts.predicates));
    } catch (err) {
      throw new CliExit(`${ctx.tool}: error: option --predicates: invalid JSON value: ${(err as Error).message}`, 2);
    }
  }
  const raw = String(ctx.opts.action);
  const m = /^RATE_LIMIT\s+(\d+)/.exec(raw);
  const action = m ? ['RATE_LIMIT', Number.parseInt(m[1], 10)] : raw;
  const reason = ctx.opts.reason ? [['gnt:user', String(ctx.opts.reason), nowNs()]] : [];
  return [Number(ctx.opts.priority ?? 0), predicates, action, reason];
}

const add: Command = {
  name: 'add',
  usage: '',
  description: 'Adds a new filter rule',
  args: { min: 0, max: 0 },
  options: RULE_OPTIONS,
  async run(ctx) {
    const uuid = await (await ctx.client()).call('ReplaceFilter', [null, ...ruleArgs(ctx)]);
    ctx.out(`${String(uuid)}\n`);
    return 0;
  },
};

const list: Command = {
  name: 'list',
  usage: '[<filter-uuid>...]',
  description: `Lists the job filter rules. The available fields can be shown using the "list-fields" command (see the man page for details). The default list is (in order): ${LIST_DEFAULT_FIELDS.join(', ')}.`,
  args: { min: 0, max: null },
  options: LIST_OPTIONS.filter((o) => o.dest !== 'force_filter'),
  run: (ctx) => runList(ctx, {
    resource: 'filter',
    defaultFields: LIST_DEFAULT_FIELDS,
    filter: (c) => makeNameFilter(c.args, { nameField: 'uuid' }),
  }),
};

const listFields: Command = {
  name: 'list-fields',
  usage: '[<fields>...]',
  description: 'Lists all available fields for filters',
  args: { min: 0, max: null },
  options: LIST_FIELDS_OPTIONS,
  run: (ctx) => runListFields(ctx, 'filter'),
};

const info: Command = {
  name: 'info',
  usage: '[<filter-uuid>...]',
  description: 'Shows information about the filter(s)',
  args: { min: 0, max: null },
  options: [],
  async run(ctx) {
    const rows = rawToBigInt(await (await ctx.client()).call('QueryFilters', [ctx.args, ['uuid', 'watermark', 'priority', 'predicates', 'action', 'reason_trail']])) as unknown[][];
    for (const [uuid, watermark, priority, predicates, action, reasonTrail] of rows) {
      ctx.out(`UUID: ${pyStr(uuid)}\n  Watermark: ${pyStr(watermark)}\n  Priority: ${pyStr(priority)}\n  Predicates: ${pyStr(predicates)}\n` +
        `  Action: ${pyStr(action)}\n  Reason trail: ${pyStr(reasonTrail)}\n`);
    }
    return 0;
  },
};

const replace: Command = {
  name: 'replace',
  usage: '<filter-uuid>',
  description: 'Replaces a filter',
  args: { min: 1, max: 1 },
  options: RULE_OPTIONS,
  async run(ctx) {
    const uuid = await (await ctx.client()).call('ReplaceFilter', [ctx.args[0], ...ruleArgs(ctx)]);
    ctx.out(`${String(uuid)}\n`);
    return 0;
  },
};

const del: Command = {
  name: 'delete',
  usage: '<filter-uuid>',
  description: 'Removes a filter',
  args: { min: 1, max: 1 },
  options: [],
  async run(ctx) {
    await (await ctx.client()).call('DeleteFilter', [ctx.args[0]]);
    return 0;
  },
};

export const main = toolMain('gnt-filter', [add, del, info, list, listFields, replace]);
