// The master's job queue (spec/core.md §2): ids from a durable serial, one file per job,
// statuses, WaitForJobChange, and recovery after a crash. Execution is the executor's
// (executor.ts); this module only stores, hands out and reports jobs.
import fs from 'node:fs';
import path from 'node:path';
import { EventEmitter } from 'node:events';
import {
  JOB_NOTCHANGED, JOB_QUEUE_SIZE_HARD_LIMIT, JOB_QUEUE_VERSION, JOBS_FINALIZED, JOBS_PENDING,
} from '../../core/constants.ts';
import { GenericError, JobQueueError, JobQueueFull, OpExecError } from '../../core/errors.ts';
import { isFinalized, jobStatus, newJob, parseJob, serializeJob, splitTime, type Job, type LogEntry } from '../../core/jobs.ts';
import type { OpInput } from '../../core/opcodes.ts';
import { runQuery, type Filter, type QueryResponse } from '../../core/query.ts';
import { readFileOrNull, removeStaleTemps, writeFileAtomicSync } from '../../util/fs.ts';
import type { Logger } from '../../util/log.ts';
import type { NodePaths } from '../../util/paths.ts';
import { JOB_FIELDS, type JobView } from './fields.ts';
import { jobFileName, JobStore } from './store.ts';
import { rawJson } from '../../core/json.ts';

export type SubmitResult = [true, number] | [false, string];

export class JobQueue {
  readonly store: JobStore;
  private jobs = new Map<number, Job>();
  private lastSerial = 0;
  private accepting = true;
  private readonly changes = new EventEmitter();
  /** Jobs that became runnable, in submission order; the executor drains it. */
  onRunnable: ((job: Job) => void) | null = null;

  private readonly paths: NodePaths;
  private readonly log: Logger;

  constructor(paths: NodePaths, log: Logger) {
    this.paths = paths;
    this.log = log;
    this.store = new JobStore(paths.queueDir);
    this.changes.setMaxListeners(0);
  }

  /**
   * Load the queue directory and recover from an unclean stop: queued jobs stay queued,
   * waiting jobs are re-queued, running (and canceling) jobs fail with
   * "Unclean master daemon shutdown". Returns the jobs to run.
   */
  open(): Job[] {
    const dir = this.paths.queueDir;
    fs.mkdirSync(path.join(dir, 'archive'), { recursive: true, mode: 0o750 });
    removeStaleTemps(dir);
    const replayed = this.store.replay();
    const version = readFileOrNull(this.paths.queueVersion);
    if (version === null) writeFileAtomicSync(this.paths.queueVersion, `${JOB_QUEUE_VERSION}\n`);
    else if (version.trim() !== String(JOB_QUEUE_VERSION)) throw new JobQueueError(`Found job queue version ${version.trim()}, expected ${JOB_QUEUE_VERSION}`);
    if (!fs.existsSync(this.paths.queueLock)) fs.writeFileSync(this.paths.queueLock, '', { mode: 0o640 });
    const serialText = readFileOrNull(this.paths.queueSerial);
    this.lastSerial = serialText === null ? 0 : Number.parseInt(serialText.trim(), 10) || 0;

    const runnable: Job[] = [];
    const repaired: Job[] = [];
    for (const id of this.store.listJobIds()) {
      const file = path.join(dir, jobFileName(id));
      let job: Job;
      try {
        job = parseJob(fs.readFileSync(file, 'utf8'));
        if (job.id !== id) throw new Error(`file holds job ${job.id}`);
      } catch (err) {
        // Never take a damaged file as valid; keep it aside for the operator.
        this.log.error({ file, err: (err as Error).message }, 'ignoring corrupt job file');
        fs.renameSync(file, `${file}.corrupt`);
        continue;
      }
      this.lastSerial = Math.max(this.lastSerial, id);
      this.jobs.set(id, job);
      const status = jobStatus(job);
      if (status === 'queued') {
        runnable.push(job);
      } else if (status === 'waiting') {
        for (const op of job.ops) if (op.status === 'waiting') op.status = 'queued';
        repaired.push(job);
        runnable.push(job);
      } else if (status === 'running' || status === 'canceling') {
        this.failUnfinished(job, new OpExecError('Unclean master daemon shutdown'));
        repaired.push(job);
      }
    }
    for (const job of repaired) writeFileAtomicSync(path.join(dir, jobFileName(job.id)), serializeJob(job));
    this.log.info({ jobs: this.jobs.size, runnable: runnable.length, repaired: repaired.length, replayed, serial: this.lastSerial }, 'job queue opened');
    return runnable;
  }

  /** Mark every unfinished opcode failed and finalize the job. */
  failUnfinished(job: Job, err: { encode(): [string, unknown[]] }): void {
    const now = splitTime();
    for (const op of job.ops) {
      if (JOBS_FINALIZED.has(op.status)) continue;
      op.status = 'error';
      op.result = err.encode();
      op.end_timestamp = now;
    }
    job.end_timestamp = now;
  }

  get drained(): boolean {
    return fs.existsSync(this.paths.queueDrain);
  }

  stopAccepting(): void {
    this.accepting = false;
  }

  /**
   * Create jobs from validated opcode lists. Ids are acknowledged only once the serial
   * and the job files are durable. Relative dependencies (negative ids) resolve against
   * the batch, as SubmitManyJobs does.
   */
  async submit(jobsOps: OpInput[][], opts: { ignoreDrain?: boolean } = {}): Promise<SubmitResult[]> {
    if (!this.accepting) throw new JobQueueError('Job queue is shutting down, refusing job');
    if (!opts.ignoreDrain && this.drained) throw new GenericError('Queue drained');
    if (this.jobs.size + jobsOps.length > JOB_QUEUE_SIZE_HARD_LIMIT) throw new JobQueueFull();
    const first = this.lastSerial + 1;
    this.lastSerial += jobsOps.length;
    const now = splitTime();
    const tsNs = rawJson((BigInt(now[0]) * 1_000_000_000n + BigInt(now[1]) * 1000n).toString());
    const created: Job[] = [];
    const results: SubmitResult[] = [];
    jobsOps.forEach((ops, idx) => {
      const id = first + idx;
      ops.forEach((op, opIdx) => {
        const source = `gnt:opcode:${op.OP_ID.replace(/^OP_/, '').toLowerCase()}`;
        op.reason = [...(op.reason as unknown[]), [source, `job=${id};index=${opIdx}`, tsNs]];
        if (Array.isArray(op.depends)) {
          op.depends = (op.depends as Array<[number | string, string[]]>).map(([dep, st]) => {
            const n = Number(dep);
            return [n < 0 ? id + n : n, st];
          });
        }
      });
      const job = newJob(id, ops, now);
      created.push(job);
      results.push([true, id]);
    });
    const durable = [this.store.saveFile('serial', `${this.lastSerial}\n`), ...created.map((j) => this.store.saveJob(j))];
    await Promise.all(durable);
    for (const job of created) {
      this.jobs.set(job.id, job);
      this.onRunnable?.(job);
    }
    return results;
  }

  get(id: number): Job | undefined {
    return this.jobs.get(id);
  }

  /** Record a change: durable first, then reported to waiting clients. */
  async commit(job: Job): Promise<void> {
    await this.store.saveJob(job);
    this.changes.emit(String(job.id));
  }

  appendLog(job: Job, opIndex: number, type: string, message: unknown): LogEntry {
    let serial = 0;
    for (const op of job.ops) for (const l of op.log) serial = Math.max(serial, l[0]);
    const entry: LogEntry = [serial + 1, splitTime(), type, message];
    job.ops[opIndex].log.push(entry);
    return entry;
  }

  private view(job: Job): JobView {
    return { job, archived: false };
  }

  query(fields: string[], filter: Filter): QueryResponse {
    return runQuery(JOB_FIELDS, fields, [...this.jobs.values()].map((j) => this.view(j)), filter);
  }

  /** QueryJobs: one row of plain values per requested id; null for unknown ids. */
  queryJobs(ids: number[] | null, fields: string[]): Array<unknown[] | null> {
    const list = ids ?? [...this.jobs.keys()].sort((a, b) => a - b);
    return list.map((id) => {
      const job = this.jobs.get(id);
      if (!job) return null;
      return fields.map((name) => JOB_FIELDS.get(name)?.get(this.view(job)) ?? null);
    });
  }

  private jobInfo(job: Job, fields: string[]): unknown[] {
    return fields.map((name) => JOB_FIELDS.get(name)?.get(this.view(job)) ?? null);
  }

  /**
   * WaitForJobChange (spec/core.md §2.8): answer at once when the job is finalized, its
   * fields differ from prevInfo or it has log entries newer than prevSerial; else wait for
   * a change until the timeout and answer "nochange". Unknown jobs answer null.
   */
  async waitForChange(id: number, fields: string[], prevInfo: unknown, prevSerial: number | null, timeoutSec: number): Promise<unknown> {
    const compute = (job: Job) => {
      const info = this.jobInfo(job, fields);
      const logs: LogEntry[] = [];
      for (const op of job.ops) for (const l of op.log) if (prevSerial === null || l[0] > prevSerial) logs.push(l);
      logs.sort((a, b) => a[0] - b[0]);
      return { info, logs };
    };
    const ready = (job: Job) => {
      const { info, logs } = compute(job);
      const changed = JSON.stringify(info) !== JSON.stringify(prevInfo) || logs.length > 0;
      return isFinalized(job) || changed ? [info, logs] : null;
    };
    const job = this.jobs.get(id);
    if (!job) return null;
    const now = ready(job);
    if (now) return now;
    return new Promise((resolve) => {
      const key = String(id);
      const onChange = () => {
        const j = this.jobs.get(id);
        const r = j ? ready(j) : null;
        if (!j || r) {
          cleanup();
          resolve(r);
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        resolve(JOB_NOTCHANGED);
      }, Math.max(0, Math.min(timeoutSec, 3600)) * 1000);
      const cleanup = () => {
        clearTimeout(timer);
        this.changes.off(key, onChange);
      };
      this.changes.on(key, onChange);
    });
  }

  pendingCount(): number {
    let n = 0;
    for (const j of this.jobs.values()) if (JOBS_PENDING.has(jobStatus(j)) || jobStatus(j) === 'running') n++;
    return n;
  }
}
