// gnt-job: the job queue seen from the command line.
import { JobLost } from '../../core/errors.ts';
import type { Filter } from '../../core/query.ts';
import { toolMain, type Command, type CommandContext } from '../framework.ts';
import { pollJob } from '../jobs.ts';
import { LIST_FIELDS_OPTIONS, LIST_OPTIONS, runList, runListFields } from '../list.ts';
import { formatInfo, pairs, tuple, type InfoValue } from '../format/info.ts';
import { formatTimestamp } from '../format/time.ts';
import { combineFilters, makeNameFilter } from '../filter-parser.ts';
import type { Timestamp } from '../../core/jobs.ts';
import { rawToBigInt } from '../../core/json.ts';

const STATUS_FILTERS: Record<string, string[]> = {
  pending: ['queued', 'waiting', 'canceling'],
  running: ['running'],
  error: ['error'],
  finished: ['canceled', 'success', 'error'],
};

function parseJobId(text: string): number {
  if (!/^\d+$/.test(text)) throw new JobLost(`Invalid job ID '${text}'`);
  return Number(text);
}

function jobListFilter(ctx: CommandContext): Filter {
  const selected = Object.keys(STATUS_FILTERS).filter((k) => ctx.opts[`status_${k}`]);
  const statusFilter: Filter = selected.length === 0 ? null : ['|', ...selected.flatMap((k) => STATUS_FILTERS[k]).map((s) => ['==', 'status', s])];
  return combineFilters(makeNameFilter(ctx.args, { forceFilter: Boolean(ctx.opts.force_filter), numeric: true, nameField: 'id' }), statusFilter);
}

const list: Command = {
  name: 'list',
  usage: '[<job-id>...]',
  description: 'Lists the jobs and their status. The available fields can be shown using the "list-fields" command (see the man page for details). The default field list is (in order): id, status, summary.',
  args: { min: 0, max: null },
  options: [
    ...LIST_OPTIONS,
    { flags: ['--pending'], dest: 'status_pending', help: 'Show only pending jobs' },
    { flags: ['--running'], dest: 'status_running', help: 'Show jobs currently running' },
    { flags: ['--error'], dest: 'status_error', help: 'Show failed jobs' },
    { flags: ['--finished'], dest: 'status_finished', help: 'Show finished jobs' },
    { flags: ['--archived'], dest: 'archived', help: 'Include archived jobs in list (slow and expensive)' },
  ],
  run(ctx) {
    const defaults = ['id', 'status', 'summary'];
    return runList(ctx, {
      resource: 'job',
      defaultFields: ctx.opts.archived && !ctx.opts.output ? [...defaults, 'archived'] : defaults,
      joinedFields: ['summary'],
      filter: jobListFilter,
    });
  },
};

const listFields: Command = {
  name: 'list-fields',
  usage: '[<fields>...]',
  description: 'Lists all available fields for jobs',
  args: { min: 0, max: null },
  options: LIST_FIELDS_OPTIONS,
  run: (ctx) => runListFields(ctx, 'job'),
};

type Ts = Timestamp | null;

function delta(a: Ts, b: Ts): number {
  return (b![0] - a![0]) + (b![1] - a![1]) / 1e6;
}

const INFO_FIELDS = ['id', 'status', 'ops', 'opresult', 'opstatus', 'oplog', 'opstart', 'opexec', 'opend', 'received_ts', 'start_ts', 'end_ts'];

/** One job as `gnt-job info` shows it (upstream gnt_job.ShowJobs). */
function jobInfo(requested: number, row: unknown[] | null): InfoValue {
  if (row === null) return `Job ID ${requested} not found`;
  const [id, status, ops, opresult, opstatus, oplog, opstart, opexec, opend, recv, start, end] = row as [
    number, string, Record<string, InfoValue>[], InfoValue[], string[], unknown[][][], Ts[], Ts[], Ts[], Ts, Ts, Ts];
  const times = pairs(
    ['Received', recv ? formatTimestamp(recv) : 'N/A', 'ts'],
    ['Processing start', start ? `${formatTimestamp(start)}${recv ? ` (delta ${delta(recv, start).toFixed(6)}s)` : ''}` : 'N/A', 'ts'],
    ['Processing end', end ? `${formatTimestamp(end)}${start ? ` (delta ${delta(start, end).toFixed(6)}s)` : ''}` : 'N/A', 'ts'],
  );
  const opcodes = ops.map((input, i) => pairs(
    ['Opcode', String(input.OP_ID)],
    ['Status', opstatus[i]],
    ['Processing start', opstart[i] ? formatTimestamp(opstart[i]) : 'N/A', 'ts'],
    ['Execution start', opexec[i] ? formatTimestamp(opexec[i]) : 'N/A', 'ts'],
    ['Processing end', opend[i] ? formatTimestamp(opend[i]) : 'N/A', 'ts'],
    ['Input fields', input],
    ['Result', opresult[i]],
    ['Execution log', (oplog[i] ?? []).map((entry) => {
      const [serial, ts, type, msg] = entry as [number, Timestamp, string, InfoValue];
      return pairs(['Time', formatTimestamp(ts)], ['Content', tuple(serial, type, msg)]);
    })],
  ));
  return pairs(
    ['Job ID', id],
    ['Status', status],
    ...times.entries,
    ['Total processing time', end && recv ? `${delta(recv, end).toFixed(6)} seconds` : 'N/A'],
    ['Opcodes', opcodes],
  );
}

const info: Command = {
  name: 'info',
  aliases: ['show'],
  usage: '<job-id> [<job-id>...]',
  description: 'Show detailed information about the specified jobs',
  args: { min: 1, max: null },
  options: [],
  async run(ctx) {
    const ids = ctx.args.map(parseJobId);
    const rows = (await (await ctx.client()).call('QueryJobs', [ids, INFO_FIELDS])) as Array<unknown[] | null>;
    const text = formatInfo(ids.map((id, i) => jobInfo(id, rawToBigInt(rows[i]) as unknown[] | null))).join('\n');
    ctx.out(text.endsWith('\n') ? text : `${text}\n`);
    return 0;
  },
};

const watch: Command = {
  name: 'watch',
  usage: '<job-id>',
  description: 'Follows a job and prints its output as it arrives',
  args: { min: 1, max: 1 },
  options: [],
  async run(ctx) {
    const id = parseJobId(ctx.args[0]);
    const header = `Output from job ${id} follows`;
    ctx.out(`${header}\n${'-'.repeat(header.length)}\n`);
    try {
      await pollJob(await ctx.client(), id, ctx);
    } catch (err) {
      const { formatError } = await import('../errors.ts');
      const [code, message] = formatError(err);
      ctx.err(`Job ${id} failed: ${message}\n`);
      return code;
    }
    return 0;
  },
};

export const main = toolMain('gnt-job', [info, list, listFields, watch]);
