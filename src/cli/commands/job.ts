// gnt-job: the job queue seen from the command line.
import { EXIT_CONFIRMATION, LUXI_WFJC_TIMEOUT, PRIORITY_NAMES, RS_NORMAL } from '../../core/constants.ts';
import { ECODE, JobLost, OpPrereqError } from '../../core/errors.ts';
import type { Filter, QueryResponse } from '../../core/query.ts';
import { askUser } from '../confirm.ts';
import { formatError } from '../errors.ts';
import { toolMain, type Command, type CommandContext } from '../framework.ts';
import { PRIORITY_OPT, pollJob } from '../jobs.ts';
import { LIST_FIELDS_OPTIONS, LIST_OPTIONS, printQueryResult, runList, runListFields } from '../list.ts';
import type { OptionSpec } from '../parser.ts';
import { parseTimespec } from '../timespec.ts';
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
    // As upstream: a Query filtered on the ids; unknown ids come back with unavailable cells.
    const filter = makeNameFilter(ctx.args, { numeric: true, nameField: 'id' });
    const { data } = (await (await ctx.client()).call('Query', ['job', INFO_FIELDS, filter])) as QueryResponse;
    const text = formatInfo(data.map((row) => jobInfo(row[0][1] as number,
      row[1][0] === RS_NORMAL ? rawToBigInt(row.map(([, v]) => v)) as unknown[] : null))).join('\n');
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
      const [code, message] = formatError(err);
      ctx.err(`Job ${id} failed: ${message}\n`);
      return code;
    }
    return 0;
  },
};

const wait: Command = {
  name: 'wait',
  usage: '<job-id>',
  description: 'Wait for a job to finish',
  args: { min: 1, max: 1 },
  options: [],
  async run(ctx) {
    const id = parseJobId(ctx.args[0]);
    try {
      await pollJob(await ctx.client(), id, ctx, { quiet: true });
    } catch (err) {
      const [code, message] = formatError(err);
      ctx.err(`Job ${id} failed: ${message}\n`);
      return code;
    }
    return 0;
  },
};

const SELECTION_OPTIONS: OptionSpec[] = [
  { flags: ['-f', '--force'], dest: 'force', help: 'Do not ask for confirmation' },
  { flags: ['--pending'], dest: 'status_filter', type: 'const', const: ['queued', 'waiting', 'canceling'], help: 'Select jobs pending execution or being cancelled' },
  { flags: ['--queued'], dest: 'status_filter', type: 'const', const: ['queued'], help: 'Select queued jobs only' },
  { flags: ['--waiting'], dest: 'status_filter', type: 'const', const: ['waiting'], help: 'Select waiting jobs only' },
];

/**
 * cancel and change-priority: job ids, or one status selection that lists the jobs and
 * asks first (unless --force). One message per job; exit 1 if any action failed.
 */
async function multiJobAction(ctx: CommandContext, question: string, action: (id: number) => Promise<[boolean, string]>): Promise<number> {
  const statuses = ctx.opts.status_filter as string[] | null;
  let ids: number[];
  if (statuses) {
    if (ctx.args.length > 0) throw new OpPrereqError('Job IDs and status filters can not be used at the same time', ECODE.INVAL);
    const client = await ctx.client();
    const response = (await client.call('Query', ['job', ['id', 'status', 'summary'], ['|', ...statuses.map((s) => ['==', 'status', s])]])) as QueryResponse;
    if (response.data.length === 0) {
      ctx.out('No jobs with the requested status have been found\n');
      return 0;
    }
    ids = response.data.map((row) => row[0][1] as number);
    if (!ctx.opts.force) {
      printQueryResult(ctx, response, ['summary']);
      if (!(await askUser(question))) return EXIT_CONFIRMATION;
    }
  } else {
    if (ctx.args.length === 0) throw new OpPrereqError('Either job IDs or status filters must be given', ECODE.INVAL);
    ids = ctx.args.map(parseJobId);
  }
  let ok = true;
  for (const id of ids) {
    const [success, msg] = await action(id);
    if (!success) ok = false;
    if (msg) ctx.out(`${msg}\n`);
  }
  return ok ? 0 : 1;
}

const cancel: Command = {
  name: 'cancel',
  usage: '{[--force] [--kill --yes-do-it] {--pending | --queued | --waiting} | <job-id> [<job-id>...]}',
  description: 'Cancel jobs',
  args: { min: 0, max: null },
  options: [
    ...SELECTION_OPTIONS,
    { flags: ['--kill'], dest: 'kill', help: 'Kill running jobs (needs --yes-do-it)' },
    { flags: ['--yes-do-it', '--ya-rly'], dest: 'yes_do_it', help: 'Really do it' },
  ],
  async run(ctx) {
    if (ctx.opts.kill && !ctx.opts.yes_do_it) throw new OpPrereqError('The --kill option must be confirmed with --yes-do-it', ECODE.INVAL);
    const client = await ctx.client();
    return multiJobAction(ctx, 'Cancel job(s) listed above?',
      async (id) => (await client.call('CancelJob', [id, Boolean(ctx.opts.kill)])) as [boolean, string]);
  },
};

const changePriority: Command = {
  name: 'change-priority',
  usage: '--priority <priority> {[--force] {--pending | --queued | --waiting} | <job-id> [<job-id>...]}',
  description: 'Change the priority of jobs',
  args: { min: 0, max: null },
  options: [...SELECTION_OPTIONS, PRIORITY_OPT],
  async run(ctx) {
    if (!ctx.opts.priority) throw new OpPrereqError('A new priority must be given', ECODE.INVAL);
    const priority = PRIORITY_NAMES[ctx.opts.priority as string];
    const client = await ctx.client();
    return multiJobAction(ctx, `Change priority of job(s) listed above to ${ctx.opts.priority}?`,
      async (id) => (await client.call('ChangeJobPriority', [id, priority])) as [boolean, string]);
  },
};

const archive: Command = {
  name: 'archive',
  usage: '<job-id> [<job-id>...]',
  description: 'Archive specified jobs',
  args: { min: 1, max: null },
  options: [],
  async run(ctx) {
    const client = await ctx.client();
    let code = 0;
    for (const arg of ctx.args) {
      if (!(await client.call('ArchiveJob', [parseJobId(arg)]))) {
        ctx.err(`Failed to archive job with ID '${arg}'\n`);
        code = 1;
      }
    }
    return code;
  },
};

const autoarchive: Command = {
  name: 'autoarchive',
  usage: '<age>',
  description: 'Auto archive jobs older than the given age',
  args: { min: 1, max: 1 },
  options: [],
  async run(ctx) {
    const age = ctx.args[0] === 'all' ? -1 : parseTimespec(ctx.args[0]);
    const [archived, left] = (await (await ctx.client()).call('AutoArchiveJobs', [age, LUXI_WFJC_TIMEOUT])) as [number, number];
    ctx.out(`Archived ${archived} jobs, ${left} unchecked left\n`);
    return 0;
  },
};

export const main = toolMain('gnt-job', [archive, autoarchive, cancel, changePriority, info, list, listFields, wait, watch]);
