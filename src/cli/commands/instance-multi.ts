// Commands that act on several instances at once (startup, shutdown, reboot, reinstall):
// the selection options (--all, --node, --primary, --instance, the tag selections…), the
// confirmation upstream asks before touching more than one instance, and the job
// executor that submits one job per instance and follows them (cli.JobExecutor).
import { ECODE, OpPrereqError } from '../../core/errors.ts';
import { askChoice } from '../confirm.ts';
import { formatError } from '../errors.ts';
import type { CommandContext } from '../framework.ts';
import { pollJob, prepareOpcode } from '../jobs.ts';
import type { OptionSpec } from '../parser.ts';

/** How the arguments select instances (gnt_instance._EXPAND_*). */
export type SelectionMode = 'cluster' | 'nodes' | 'nodes-pri' | 'nodes-sec' | 'nodes-by-tags' | 'nodes-pri-by-tags'
  | 'nodes-sec-by-tags' | 'instances' | 'instances-by-tags';

const selection = (flag: string, mode: SelectionMode, help: string): OptionSpec =>
  ({ flags: [flag], dest: 'multi_mode', type: 'const', const: mode, help });

export const FORCE_MULTI_OPT: OptionSpec = { flags: ['--force-multiple'], dest: 'force_multi', help: 'Do not ask for confirmation when more than one instance is affected' };
export const NODE_SEL_OPT = selection('--node', 'nodes', 'Filter by nodes (primary and secondary)');
export const PRI_NODE_SEL_OPT = selection('--primary', 'nodes-pri', 'Filter by nodes (primary only)');
export const SEC_NODE_SEL_OPT = selection('--secondary', 'nodes-sec', 'Filter by nodes (secondary only)');
export const ALL_SEL_OPT = selection('--all', 'cluster', 'Select all instances in the cluster');
export const INSTANCE_SEL_OPT = selection('--instance', 'instances', 'Filter by instance name [default]');
export const NODE_TAGS_SEL_OPT = selection('--node-tags', 'nodes-by-tags', 'Filter by node tag');
export const PRI_NODE_TAGS_SEL_OPT = selection('--pri-node-tags', 'nodes-pri-by-tags', 'Filter by primary node tag');
export const SEC_NODE_TAGS_SEL_OPT = selection('--sec-node-tags', 'nodes-sec-by-tags', 'Filter by secondary node tag');
export const INSTANCE_TAGS_SEL_OPT = selection('--tags', 'instances-by-tags', 'Filter by instance tag');

type Row = unknown[];

async function classic(ctx: CommandContext, method: 'QueryInstances' | 'QueryNodes', names: string[], fields: string[]): Promise<Row[]> {
  return (await (await ctx.client()).call(method, [names, fields, false])) as Row[];
}

const hasAnyTag = (tags: unknown, wanted: string[]) => Array.isArray(tags) && tags.some((t) => wanted.includes(String(t)));

/** The instance names a selection mode and the arguments stand for (_ExpandMultiNames). */
export async function expandMultiNames(ctx: CommandContext, mode: SelectionMode, names: string[]): Promise<string[]> {
  const inval = (msg: string) => new OpPrereqError(msg, ECODE.INVAL);
  switch (mode) {
    case 'cluster':
      if (names.length > 0) throw inval('Cluster filter mode takes no arguments');
      return (await classic(ctx, 'QueryInstances', [], ['name'])).map((r) => String(r[0]));
    case 'instances':
      if (names.length === 0) throw inval('No instance names passed');
      return (await classic(ctx, 'QueryInstances', names, ['name'])).map((r) => String(r[0]));
    case 'instances-by-tags':
      if (names.length === 0) throw inval('No instance tags passed');
      return (await classic(ctx, 'QueryInstances', [], ['name', 'tags'])).filter((r) => hasAnyTag(r[1], names)).map((r) => String(r[0]));
    default: {
      const byTags = mode.endsWith('-by-tags');
      if (names.length === 0) throw inval(byTags ? 'No node tags passed' : 'No node names passed');
      const rows = byTags
        ? (await classic(ctx, 'QueryNodes', [], ['name', 'pinst_list', 'sinst_list', 'tags'])).filter((r) => hasAnyTag(r[3], names))
        : await classic(ctx, 'QueryNodes', names, ['name', 'pinst_list', 'sinst_list']);
      const primaries = rows.flatMap((r) => (r[1] as string[] | null) ?? []);
      const secondaries = rows.flatMap((r) => (r[2] as string[] | null) ?? []);
      if (mode.startsWith('nodes-pri')) return primaries;
      if (mode.startsWith('nodes-sec')) return secondaries;
      return [...primaries, ...secondaries];
    }
  }
}

/** cli.ConfirmOperation: yes/no, with a "view the list" choice when more than 20 are affected. */
export async function confirmOperation(names: string[], listType: string, text: string, extra = ''): Promise<boolean> {
  const msg = `The ${text} will operate on ${names.length} ${listType}.\n${extra}Do you want to continue?`;
  const affected = `\nAffected ${listType}:\n${names.map((n) => `  ${n}`).join('\n')}`;
  const yes: [string, boolean | 'v', string] = ['y', true, `Yes, execute the ${text}`];
  const no: [string, boolean | 'v', string] = ['n', false, `No, abort the ${text}`];
  if (names.length <= 20) return (await askChoice(msg + affected, [yes, no])) === true;
  const choice = await askChoice<boolean | 'v'>(msg, [yes, ['v', 'v', `View the list of affected ${listType}`], no]);
  if (choice !== 'v') return choice;
  return (await askChoice(msg + affected, [yes, no])) === true;
}

/** One job's outcome: whether it succeeded, and its opcode results or the error text. */
export type JobOutcome = [ok: boolean, result: unknown];

/**
 * Submit one job per [name, opcodes] at once and follow them in order (cli.JobExecutor):
 * "Submitted jobs …" when `verbose`, then "Waiting for job N for NAME ..." and the job's
 * log for each; failures are reported on stderr and do not stop the others. With
 * --submit only "N: NAME" lines are printed.
 */
export async function runJobs(ctx: CommandContext, jobs: Array<[string, Array<Record<string, unknown>>]>, verbose: boolean): Promise<JobOutcome[]> {
  const client = await ctx.client();
  const submitted = (await client.call('SubmitManyJobs', [jobs.map(([, ops]) => ops.map((op) => prepareOpcode(ctx, op)))])) as Array<[boolean, unknown]>;
  const entries = submitted.map(([ok, data], i) => ({ ok, data, name: jobs[i][0] }));
  if (ctx.opts.submit_only) {
    for (const e of entries) {
      if (e.ok) ctx.out(`${String(e.data)}: ${e.name}\n`);
      else ctx.err(`Failure for ${e.name}: ${String(e.data)}\n`);
    }
    return entries.map((e) => [e.ok, e.data]);
  }
  const okIds = entries.filter((e) => e.ok).map((e) => String(e.data));
  if (verbose && okIds.length > 0) ctx.out(`Submitted jobs ${okIds.join(', ')}\n`);
  const outcomes: JobOutcome[] = [];
  for (const e of entries) {
    if (!e.ok) {
      ctx.err(`Failed to submit job for ${e.name}: ${String(e.data)}\n`);
      outcomes.push([false, e.data]);
      continue;
    }
    ctx.out(`Waiting for job ${String(e.data)} for ${e.name} ...\n`);
    try {
      outcomes.push([true, await pollJob(client, Number(e.data), ctx)]);
    } catch (err) {
      const [, message] = formatError(err);
      ctx.err(`Job ${String(e.data)} for ${e.name} has failed: ${message}\n`);
      outcomes.push([false, message]);
    }
  }
  return outcomes;
}

/**
 * GenericManyOps: select the instances, confirm when several are affected (unless
 * --force-multiple), run one job each; exit 1 when any failed.
 */
export async function manyOps(ctx: CommandContext, operation: string, opFor: (name: string) => Record<string, unknown>): Promise<number> {
  const mode = (ctx.opts.multi_mode as SelectionMode | null) ?? 'instances';
  const names = await expandMultiNames(ctx, mode, ctx.args);
  if (names.length === 0) {
    if (mode === 'cluster') {
      ctx.out('Cluster is empty, no instances to shutdown\n');
      return 0;
    }
    throw new OpPrereqError('Selection filter does not match any instances', ECODE.INVAL);
  }
  const multi = mode !== 'instances' || names.length > 1;
  if (multi && !ctx.opts.force_multi && !(await confirmOperation(names, 'instances', operation))) return 1;
  const outcomes = await runJobs(ctx, names.map((n) => [n, [opFor(n)]]), multi);
  return outcomes.every(([ok]) => ok) ? 0 : 1;
}
