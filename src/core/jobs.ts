// The job model and its rules (spec/core.md §2): one job = opcodes run in order; the
// job's status follows from its opcodes'. Pure data and functions; the queue that stores
// and runs jobs is in src/master/jobs/.
import { JOBS_FINALIZED, OP_PRIO_NORMAL, type JobStatus } from './constants.ts';
import type { OpInput } from './opcodes.ts';
import { parseJson, preciseNowMs, sortKeys } from './json.ts';

/** [seconds, microseconds], the job-queue timestamp format. */
export type Timestamp = [number, number];
/** [serial, timestamp, type, message] */
export type LogEntry = [number, Timestamp, string, unknown];

export interface QueuedOpCode {
  input: OpInput;
  status: JobStatus;
  result: unknown;
  log: LogEntry[];
  priority: number;
  start_timestamp: Timestamp | null;
  exec_timestamp: Timestamp | null;
  end_timestamp: Timestamp | null;
}

export interface Job {
  id: number;
  ops: QueuedOpCode[];
  received_timestamp: Timestamp | null;
  start_timestamp: Timestamp | null;
  end_timestamp: Timestamp | null;
  livelock?: string | null;
  process_id?: number | null;
}

export function splitTime(ms: number = preciseNowMs()): Timestamp {
  const usec = Math.floor(ms * 1000);
  return [Math.floor(usec / 1e6), usec % 1e6];
}

export function newJob(id: number, ops: OpInput[], now: Timestamp = splitTime()): Job {
  return {
    id,
    ops: ops.map((input) => ({
      input,
      status: 'queued',
      result: null,
      log: [],
      priority: typeof input.priority === 'number' ? input.priority : OP_PRIO_NORMAL,
      start_timestamp: null,
      exec_timestamp: null,
      end_timestamp: null,
    })),
    received_timestamp: now,
    start_timestamp: null,
    end_timestamp: null,
  };
}

/** The job status from its opcodes' statuses, walked in order. */
export function jobStatus(job: Pick<Job, 'ops'>): JobStatus {
  let status: JobStatus = 'queued';
  let allSuccess = true;
  for (const op of job.ops) {
    if (op.status === 'success') continue;
    allSuccess = false;
    switch (op.status) {
      case 'queued':
        break;
      case 'waiting':
      case 'running':
        status = op.status;
        break;
      case 'canceling':
      case 'error':
      case 'canceled':
        return op.status;
    }
  }
  return allSuccess && job.ops.length > 0 ? 'success' : status;
}

export function isFinalized(job: Pick<Job, 'ops'>): boolean {
  return JOBS_FINALIZED.has(jobStatus(job));
}

/** Job priority = the minimum priority of its unfinished opcodes. */
export function jobPriority(job: Pick<Job, 'ops'>): number {
  const pending = job.ops.filter((op) => !JOBS_FINALIZED.has(op.status));
  if (pending.length === 0) return OP_PRIO_NORMAL;
  return Math.min(...pending.map((op) => op.priority));
}

/** The largest log serial so far (serials are unique across the whole job, from 1). */
export function lastLogSerial(job: Job): number {
  let max = 0;
  for (const op of job.ops) for (const l of op.log) if (l[0] > max) max = l[0];
  return max;
}

/** Opcode parameters whose values are secret (upstream's ht.TSecret): never written anywhere. */
const SECRET_PARAMS = ['osparams_secret'];

/**
 * An opcode's input as it may leave memory (job file, journal, replicas, queries): secret
 * values replaced by "<redacted>", as upstream does. The running job keeps the real ones;
 * a job re-queued after a master restart therefore runs without them, as upstream's.
 */
export function redactSecrets(input: Record<string, unknown>): Record<string, unknown> {
  if (!SECRET_PARAMS.some((k) => input[k] && typeof input[k] === 'object' && Object.keys(input[k] as object).length > 0)) return input;
  const out = { ...input };
  for (const k of SECRET_PARAMS) {
    const v = out[k];
    if (v && typeof v === 'object') out[k] = Object.fromEntries(Object.keys(v).map((name) => [name, '<redacted>']));
  }
  return out;
}

/** The job file's bytes, as Ganeti writes them: sorted keys, one-space indent, final newline. */
export function serializeJob(job: Job): string {
  const ops = job.ops.map((op) => ({ ...op, input: redactSecrets(op.input) }));
  return `${JSON.stringify(sortKeys({ livelock: null, process_id: null, ...job, ops }), null, 1)}\n`;
}

/** Parse a job file; throws on anything that is not a complete, well-formed job. */
export function parseJob(text: string): Job {
  const v = parseJson(text) as Job;
  if (!v || typeof v !== 'object' || !Number.isInteger(v.id) || !Array.isArray(v.ops)) {
    throw new Error('not a job file');
  }
  for (const op of v.ops) {
    if (!op || typeof op !== 'object' || typeof op.status !== 'string' || !op.input || !Array.isArray(op.log)) {
      throw new Error('malformed opcode in job file');
    }
  }
  return v;
}
