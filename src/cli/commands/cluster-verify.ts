// gnt-cluster verify: submits OP_CLUSTER_VERIFY, then follows the jobs it submitted as
// upstream's cli.JobExecutor does ("Submitted jobs …", "Waiting for job N ...", each
// job's log), and exits 1 when a job failed or a verification found errors.
import { EXIT_FAILURE, EXIT_OPTPARSE, EXIT_SUCCESS } from '../../core/constants.ts';
import { JobLost } from '../../core/errors.ts';
import type { LuxiClient } from '../../luxi/client.ts';
import { formatError } from '../errors.ts';
import type { Command, CommandContext } from '../framework.ts';
import { DRY_RUN_OPT, PRIORITY_OPT, pollJob, submitAndWait } from '../jobs.ts';
import { CV_ALL_ECODES_STRINGS, VERIFY_NPLUSONE_MEM } from '../../master/cmdlib/verify.ts';

/** How many jobs upstream's _ChooseJob looks at per query. */
const CHOOSE_BATCH = 25;

/**
 * upstream's JobExecutor._ChooseJob: the first job that is neither queued, waiting nor
 * cancelling (running, finished or lost), else the first one.
 */
async function chooseJob(client: LuxiClient, pending: number[]): Promise<number> {
  const batch = pending.slice(0, CHOOSE_BATCH);
  const statuses = (await client.call('QueryJobs', [batch, ['status']])) as Array<unknown[] | null>;
  for (let i = 0; i < batch.length; i++) {
    const s = statuses[i];
    if (Array.isArray(s) && s.length > 0 && ['queued', 'waiting', 'canceling'].includes(String(s[0]))) continue;
    pending.splice(i, 1);
    return batch[i];
  }
  return pending.shift()!;
}

/** Wait for each job as upstream's JobExecutor.GetResults; results in submission order. */
export async function followJobs(ctx: CommandContext, submitted: Array<[boolean, number | string]>): Promise<Array<[boolean, unknown]>> {
  const client = await ctx.client();
  const ok = submitted.filter(([s]) => s).map(([, id]) => Number(id));
  if (ok.length) ctx.out(`Submitted jobs ${ok.join(', ')}\n`);
  const results = new Map<number, [boolean, unknown]>();
  submitted.forEach(([s, v], idx) => {
    if (!s) {
      ctx.err(`Failed to submit job: ${String(v)}\n`);
      results.set(idx, [false, v]);
    }
  });
  const pending = [...ok];
  while (pending.length) {
    const id = await chooseJob(client, pending);
    ctx.out(`Waiting for job ${id} ...\n`);
    const idx = submitted.findIndex(([s, v]) => s && Number(v) === id);
    try {
      results.set(idx, [true, await pollJob(client, id, ctx)]);
    } catch (err) {
      const [, message] = formatError(err);
      if (err instanceof JobLost) ctx.err(`Job ${id} has been archived, cannot check its result\n`);
      else ctx.err(`Job ${id} has failed: ${message}\n`);
      results.set(idx, [false, message]);
    }
  }
  return submitted.map((_, idx) => results.get(idx)!);
}

const verify: Command = {
  name: 'verify',
  usage: '',
  description: 'Does a check on the cluster configuration',
  args: { min: 0, max: 0 },
  options: [
    { flags: ['-v', '--verbose'], dest: 'verbose', help: 'Increase the verbosity of the operation' },
    { flags: ['--debug-simulate-errors'], dest: 'simulate_errors', help: 'Debugging option that makes the operation treat most runtime checks as failed' },
    { flags: ['--error-codes'], dest: 'error_codes', help: 'Enable parseable error messages' },
    { flags: ['--no-nplus1-mem'], dest: 'skip_nplusone_mem', help: 'Skip N+1 memory redundancy tests' },
    DRY_RUN_OPT,
    PRIORITY_OPT,
    { flags: ['-g', '--node-group'], dest: 'nodegroup', type: 'string', metavar: '<nodegroup>', help: 'Node group (name or uuid)' },
    { flags: ['-I', '--ignore-errors'], dest: 'ignore_errors', type: 'append', default: [], help: 'Error code to be ignored' },
    { flags: ['--verify-ssh-clutter'], dest: 'verify_clutter', help: "Verify that Ganeti did not clutter up the 'authorized_keys' file" },
  ],
  async run(ctx) {
    const ignore = (ctx.opts.ignore_errors as string[]) ?? [];
    const bad = ignore.find((c) => !CV_ALL_ECODES_STRINGS.includes(c));
    if (bad !== undefined) {
      // optparse checks -I's choices; our parser's "append" takes any value.
      const choices = [...CV_ALL_ECODES_STRINGS].sort().map((c) => `'${c}'`).join(', ');
      ctx.err(`Usage\n=====\n  gnt-cluster verify\n\ngnt-cluster: error: option -I: invalid choice: '${bad}' (choose from ${choices})\n`);
      return EXIT_OPTPARSE;
    }
    const [result] = await submitAndWait(ctx, [{
      OP_ID: 'OP_CLUSTER_VERIFY',
      verbose: Boolean(ctx.opts.verbose),
      error_codes: Boolean(ctx.opts.error_codes),
      debug_simulate_errors: Boolean(ctx.opts.simulate_errors),
      skip_checks: ctx.opts.skip_nplusone_mem ? [VERIFY_NPLUSONE_MEM] : [],
      ignore_errors: ignore,
      group_name: ctx.opts.nodegroup ?? null,
      verify_clutter: Boolean(ctx.opts.verify_clutter),
    }]);
    const jobs = (result as { jobs?: Array<[boolean, number | string]> } | null)?.jobs ?? [];
    const results = await followJobs(ctx, jobs);
    const badJobs = results.filter(([ok]) => !ok).length;
    const badResults = results.filter(([, res]) => !(Array.isArray(res) && res[0])).length;
    if (badJobs === 0 && badResults === 0) return EXIT_SUCCESS;
    if (badJobs > 0) ctx.out(`${badJobs} job(s) failed while verifying the cluster.\n`);
    return EXIT_FAILURE;
  },
};

export const verifyCommands: Command[] = [verify];
