// Submitting a job and following it as Ganeti's synchronous commands do
// (spec/surface.md §3): log lines on stdout as they arrive, "JobID: N" for --submit,
// and the job's first error raised with Ganeti's formatting.
import { JOBS_FINALIZED, PRIORITY_NAMES } from '../core/constants.ts';
import { JobLost, OpExecError, decodeError, isEncodedError } from '../core/errors.ts';
import { isRawJson, nowNs, numberText } from '../core/json.ts';
import type { LuxiClient } from '../luxi/client.ts';
import { CliExit } from './errors.ts';
import type { CommandContext } from './framework.ts';
import type { OptionSpec } from './parser.ts';
import { ctime } from './format/time.ts';

export const SUBMIT_OPT: OptionSpec = { flags: ['--submit'], dest: 'submit_only', help: 'Submit the job and return the job ID, but don\'t wait for the job to finish' };
export const PRINT_JOBID_OPT: OptionSpec = { flags: ['--print-jobid'], dest: 'print_jobid', help: 'Additionally print the job as first line on stdout (for scripting).' };
export const PRIORITY_OPT: OptionSpec = { flags: ['--priority'], dest: 'priority', type: 'choice', choices: ['low', 'normal', 'high'], help: 'Priority for opcode processing' };
export const DRY_RUN_OPT: OptionSpec = { flags: ['--dry-run'], dest: 'dry_run', help: 'Do not execute the operation, just run the check steps and verify if it could be executed' };

/** The options every job-submitting command takes. */
export const JOB_OPTIONS = [SUBMIT_OPT, PRINT_JOBID_OPT, PRIORITY_OPT, DRY_RUN_OPT];

/** Fill the fields every opcode gets from the command line: reason trail, debug, priority. */
export function prepareOpcode(ctx: CommandContext, op: Record<string, unknown>): Record<string, unknown> {
  const reason: unknown[] = [];
  if (ctx.opts.reason) reason.push(['gnt:user', String(ctx.opts.reason), nowNs()]);
  reason.push([`gnt:client:${ctx.tool}`, ctx.command, nowNs()]);
  return {
    ...op,
    dry_run: Boolean(ctx.opts.dry_run),
    debug_level: Number(ctx.opts.debug ?? 0),
    priority: ctx.opts.priority ? PRIORITY_NAMES[ctx.opts.priority as string] : 0,
    reason,
  };
}

/** Submit one job; honours --print-jobid and --submit. Returns the job id. */
export async function submitJob(ctx: CommandContext, ops: Record<string, unknown>[]): Promise<number> {
  const client = await ctx.client();
  const id = Number(await client.call('SubmitJob', [ops.map((op) => prepareOpcode(ctx, op))]));
  if (ctx.opts.print_jobid) ctx.out(`${id}\n`);
  if (ctx.opts.submit_only) throw new CliExit(`JobID: ${id}`, 0);
  return id;
}

function formatLogMessage(entry: unknown[]): string {
  const [, ts, type, msg] = entry as [number, [number, number], string, unknown];
  const text = type === 'message' ? String(msg) : isRawJson(msg) ? numberText(msg) : JSON.stringify(msg);
  return `${ctime(ts[0] + ts[1] / 1e6)} ${text}`;
}

/**
 * Follow a job until it ends, printing its log; returns the opcode results or throws
 * the error the job failed with.
 */
export async function pollJob(client: LuxiClient, id: number, ctx: Pick<CommandContext, 'out' | 'err'>, opts: { quiet?: boolean } = {}): Promise<unknown[]> {
  let prevInfo: unknown = null;
  let prevSerial: number | null = null;
  let reportedWait = false;
  for (;;) {
    const result = await client.call('WaitForJobChange', [id, ['status'], prevInfo, prevSerial, 60]);
    if (result === null) throw new JobLost(`Job with id ${id} lost`);
    if (result === 'nochange') {
      if (!reportedWait) {
        reportedWait = true;
        const status = Array.isArray(prevInfo) ? prevInfo[0] : null;
        if (status === 'queued') ctx.err(`Job ${id} is waiting in queue\n`);
        else if (status === 'waiting') ctx.err(`Job ${id} is trying to acquire all necessary locks\n`);
      }
      continue;
    }
    const [info, logs] = result as [unknown[], unknown[][]];
    for (const entry of logs) {
      if (!opts.quiet) ctx.out(`${formatLogMessage(entry)}\n`);
      prevSerial = Math.max(prevSerial ?? 0, entry[0] as number);
    }
    prevInfo = info;
    if (logs.length === 0 && JOBS_FINALIZED.has(info[0] as string)) break;
  }
  const [[status, opStatus, opResult]] = (await client.call('QueryJobs', [[id], ['status', 'opstatus', 'opresult']])) as [[string, string[], unknown[]]];
  if (status === 'success') return opResult;
  if (status === 'canceled') throw new OpExecError('Job was canceled');
  let hasOk = false;
  for (let i = 0; i < opStatus.length; i++) {
    if (opStatus[i] === 'success') hasOk = true;
    else if (opStatus[i] === 'error') {
      const res = opResult[i];
      if (isEncodedError(res)) {
        const e = decodeError(res);
        if (!hasOk) throw e;
        throw new OpExecError(`partial failure (opcode ${i}): ${e.message}`);
      }
      throw new OpExecError(hasOk ? `partial failure (opcode ${i}): ${String(res)}` : String(res));
    }
  }
  throw new OpExecError(`Job ${id} finished with status ${status}`);
}

/** Submit, then follow to the end (the synchronous path of every mutating command). */
export async function submitAndWait(ctx: CommandContext, ops: Record<string, unknown>[]): Promise<unknown[]> {
  const id = await submitJob(ctx, ops);
  return pollJob(await ctx.client(), id, ctx);
}
