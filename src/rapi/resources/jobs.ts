// /2/jobs and below (upstream's rlib2 R_2_jobs*): the queue's jobs, one job, cancelling
// it, and waiting for it to change.
import { LUXI_WFJC_TIMEOUT } from '../../core/constants.ts';
import { badRequest, notFound } from '../errors.ts';
import { RAPI_ACCESS_WRITE } from '../users.ts';
import type { RequestContext } from '../context.ts';
import type { Route } from '../routes.ts';
import { mapFields, uriList } from './common.ts';

/** The fields of a job in a bulk listing, and of a single job (upstream's J_FIELDS_BULK, J_FIELDS). */
export const J_FIELDS_BULK = ['id', 'ops', 'status', 'summary', 'opstatus', 'received_ts', 'start_ts', 'end_ts'] as const;
export const J_FIELDS = [...J_FIELDS_BULK, 'oplog', 'opresult'] as const;

/** How long one /wait request waits for a change (upstream's _WFJC_TIMEOUT, well below LUXI's own limit). */
const WAIT_TIMEOUT_SEC = Math.min(10, LUXI_WFJC_TIMEOUT);

const jobId = (ctx: RequestContext) => Number(ctx.items[0]);

/** Opcode parameters whose values are private (upstream's Private wrappers). */
const PRIVATE_PARAMS = ['osparams_private', 'osparams_secret'];

/**
 * A job's opcodes with the values of private parameters as null: upstream's serializer
 * writes every private value so in RAPI answers, and a secret never leaves through RAPI.
 */
export function hidePrivate(ops: unknown): unknown {
  if (!Array.isArray(ops)) return ops;
  return ops.map((op) => {
    if (op === null || typeof op !== 'object') return op;
    const out = { ...(op as Record<string, unknown>) };
    for (const p of PRIVATE_PARAMS) {
      const v = out[p];
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) out[p] = Object.fromEntries(Object.keys(v).map((k) => [k, null]));
    }
    return out;
  });
}

/** A job row as a dictionary, private values hidden. */
function jobDict(fields: readonly string[], row: readonly unknown[]): Record<string, unknown> {
  const d = mapFields(fields, row);
  if ('ops' in d) d.ops = hidePrivate(d.ops);
  return d;
}

async function listJobs(ctx: RequestContext): Promise<unknown> {
  if (ctx.bulk) {
    const rows = (await ctx.call('QueryJobs', [null, J_FIELDS_BULK])) as Array<unknown[] | null>;
    return rows.filter((r): r is unknown[] => r !== null).map((r) => jobDict(J_FIELDS_BULK, r));
  }
  const rows = (await ctx.call('QueryJobs', [null, ['id']])) as Array<unknown[] | null>;
  return uriList(rows.filter((r): r is unknown[] => r !== null).map((r) => r[0] as number), '/2/jobs/', 'id');
}

/**
 * GET /2/jobs/<id>. A job the queue does not know comes back with its id and every other
 * field null, as real Ganeti 3.0 answers (golden rapi-026), not as a 404.
 */
async function getJob(ctx: RequestContext): Promise<unknown> {
  const id = jobId(ctx);
  const [row] = (await ctx.call('QueryJobs', [[id], J_FIELDS])) as Array<unknown[] | null>;
  return jobDict(J_FIELDS, row ?? J_FIELDS.map((f) => (f === 'id' ? id : null)));
}

/** GET /2/jobs/<id>/wait: the job's fields once they differ from previous_job_info (or new log entries), else null after a while. */
async function waitForChange(ctx: RequestContext): Promise<unknown> {
  const fields = ctx.bodyParam('fields');
  const prevInfo = ctx.bodyParam('previous_job_info', null);
  const prevSerial = ctx.bodyParam('previous_log_serial', null);
  if (!Array.isArray(fields)) throw badRequest("The 'fields' parameter should be a list");
  if (!(prevInfo === null || Array.isArray(prevInfo))) throw badRequest("The 'previous_job_info' parameter should be a list");
  if (!(prevSerial === null || (typeof prevSerial === 'number' && Number.isInteger(prevSerial)))) {
    throw badRequest("The 'previous_log_serial' parameter should be a number");
  }
  const result = await ctx.call('WaitForJobChange', [jobId(ctx), fields, prevInfo, prevSerial, WAIT_TIMEOUT_SEC]);
  if (!result) throw notFound();
  if (result === 'nochange') return null;
  const [jobInfo, logEntries] = result as [unknown[], unknown];
  return { job_info: jobInfo.map((v, i) => (fields[i] === 'ops' ? hidePrivate(v) : v)), log_entries: logEntries };
}

export const JOB_ROUTES: Route[] = [
  ['/2/jobs', { name: 'jobs', GET: listJobs }],
  ['/2/jobs/{job}', {
    name: 'jobs_id',
    GET: getJob,
    DELETE: (ctx) => ctx.call('CancelJob', [jobId(ctx)]),
  }],
  ['/2/jobs/{job}/wait', { name: 'jobs_id_wait', GET: waitForChange, access: { GET: [RAPI_ACCESS_WRITE] } }],
];
