// The master's job queue (spec/core.md §2): ids from a durable serial, one file per job,
// statuses, cancel, priorities, dependencies, archive, WaitForJobChange, and recovery
// after a crash. Execution is the executor's (executor.ts); this module stores, hands
// out and reports jobs.
import fs from 'node:fs';
import path from 'node:path';
import { EventEmitter } from 'node:events';
import {
  JOB_NOTCHANGED, JOB_QUEUE_SIZE_HARD_LIMIT, JOB_QUEUE_VERSION, JOBS_FINALIZED, JOBS_PER_ARCHIVE_DIRECTORY,
  OP_PRIO_SUBMIT_VALID, RS_NORMAL, RS_UNAVAIL, RS_UNKNOWN,
} from '../../core/constants.ts';
import { ECODE, GenericError, JobQueueError, JobQueueFull, OpExecError, OpPrereqError } from '../../core/errors.ts';
import { isFinalized, jobStatus, lastLogSerial, newJob, parseJob, serializeJob, splitTime, type Job, type LogEntry } from '../../core/jobs.ts';
import { rawJson } from '../../core/json.ts';
import type { OpInput } from '../../core/opcodes.ts';
import { compileFilter, runQuery, type Filter, type QueryResponse } from '../../core/query.ts';
import { readFileOrNull, removeStaleTemps, setFlagFile, writeFileAtomicSync } from '../../util/fs.ts';
import type { Logger } from '../../util/log.ts';
import type { NodePaths } from '../../util/paths.ts';
import { JOB_FIELDS, type JobView } from './fields.ts';
import { jobFileName, JobStore } from './store.ts';

/** How long WaitForJobChange holds back a change that is not the job's end (see waitForChange). */
const PROGRESS_COALESCE_MS = 20;
/**
 * How long a look at the drain flag file stays valid. Our own SetDrainFlag takes effect at
 * once; a flag file an operator creates by hand, within this time.
 */
const DRAIN_CHECK_MS = 500;

/** One job of a submission: its id, or the error that refused it. */
export type SubmitResult = [true, number] | [false, Error];
export type Answer = [boolean, string];

/** What the executor does for a job the queue was asked to cancel. */
export interface CancelHooks {
  /** Abort a job that waits (for locks or dependencies), or a running one when killing. */
  abort(job: Job, kill: boolean): boolean;
}

/** A copy of a job's state: the parts the executor changes later are copied, inputs shared. */
function snapshot(job: Job): Job {
  return { ...job, ops: job.ops.map((op) => ({ ...op, log: op.log.slice() })) };
}

/** The job ids a filter asks for by name: ["|", ["=", "id", N], ...] (what the CLI sends). */
function requestedJobIds(filter: Filter): number[] {
  if (!Array.isArray(filter) || filter[0] !== '|') return [];
  const ids: number[] = [];
  for (const f of filter.slice(1)) {
    if (!Array.isArray(f) || (f[0] !== '=' && f[0] !== '==') || f[1] !== 'id') return [];
    const id = Number(f[2]);
    if (!Number.isInteger(id)) return [];
    ids.push(id);
  }
  return ids;
}

function archivePath(dir: string, id: number): string {
  return path.join(dir, 'archive', String(Math.floor(id / JOBS_PER_ARCHIVE_DIRECTORY)), jobFileName(id));
}

export class JobQueue {
  readonly store: JobStore;
  private readonly paths: NodePaths;
  private readonly log: Logger;
  private jobs = new Map<number, Job>();
  /** Finished jobs whose final state is in the queue directory: only their files can go missing. */
  private settled = new WeakSet<Job>();
  /**
   * The last durable state of each live job. Clients and dependency checks see only
   * this, never a state the executor set in memory that a crash could still undo.
   */
  private durable = new Map<number, Job>();
  /**
   * Jobs handed to the executor before their submission is durable, with that submission's
   * outcome. They are unknown to clients until it resolves (see commit); a job of the same
   * submission may depend on them.
   */
  private admitting = new Map<number, { job: Job; admitted: Promise<void> }>();
  /** Jobs whose submission failed: never acknowledged, never recorded again. */
  private abandoned = new WeakSet<Job>();
  private drainChecked: { at: number; drained: boolean } | null = null;
  private lastSerial = 0;
  private accepting = true;
  private readonly changes = new EventEmitter();
  /** Jobs that became runnable; the executor takes them. */
  onRunnable: ((job: Job) => void) | null = null;
  cancelHooks: CancelHooks | null = null;

  constructor(paths: NodePaths, log: Logger) {
    this.paths = paths;
    this.log = log;
    this.store = new JobStore(paths.queueDir);
    this.changes.setMaxListeners(0);
  }

  /**
   * Load the queue directory and recover from an unclean stop: the journal is replayed,
   * queued jobs stay queued, waiting jobs are re-queued, running (and canceling) jobs
   * fail with "Unclean master daemon shutdown". Returns the jobs to run.
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
      const job = this.readJobFile(path.join(dir, jobFileName(id)), id, true);
      if (!job) continue;
      this.lastSerial = Math.max(this.lastSerial, id);
      this.jobs.set(id, job);
      this.durable.set(id, snapshot(job));
      if (isFinalized(job)) this.settled.add(job);
      const status = jobStatus(job);
      if (status === 'queued') {
        runnable.push(job);
      } else if (status === 'waiting') {
        for (const op of job.ops) if (op.status === 'waiting') op.status = 'queued';
        repaired.push(job);
        runnable.push(job);
      } else if (status === 'running' || status === 'canceling') {
        this.failUnfinished(job, new OpExecError('Unclean master daemon shutdown'));
        this.settled.add(job);
        repaired.push(job);
      }
    }
    for (const job of repaired) {
      writeFileAtomicSync(path.join(dir, jobFileName(job.id)), serializeJob(job));
      this.durable.set(job.id, snapshot(job));
    }
    this.log.info({ jobs: this.jobs.size, runnable: runnable.length, repaired: repaired.length, replayed, serial: this.lastSerial }, 'job queue opened');
    return runnable;
  }

  /**
   * A job file, or null when it is missing or damaged; never taken as valid then. At
   * start-up (after the journal replay) a damaged file is set aside for the operator.
   */
  private readJobFile(file: string, id: number, setAside = false): Job | null {
    try {
      const job = parseJob(fs.readFileSync(file, 'utf8'));
      if (job.id !== id) throw new Error(`file holds job ${job.id}`);
      return job;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      this.log.error({ file, err: (err as Error).message }, 'ignoring corrupt job file');
      if (setAside) {
        try {
          fs.renameSync(file, `${file}.corrupt`);
        } catch { /* already gone */ }
      }
      return null;
    }
  }

  /** Mark every unfinished opcode with a final status and finalize the job. */
  finalizeUnfinished(job: Job, status: 'error' | 'canceled', result: unknown): void {
    const now = splitTime();
    for (const op of job.ops) {
      if (JOBS_FINALIZED.has(op.status)) continue;
      op.status = status;
      op.result = result;
      op.end_timestamp = now;
    }
    job.end_timestamp = now;
  }

  failUnfinished(job: Job, err: { encode(): [string, unknown[]] }): void {
    this.finalizeUnfinished(job, 'error', err.encode());
  }

  /** The highest job id handed out (a job filter rule's watermark). */
  get serial(): number {
    return this.lastSerial;
  }

  get drained(): boolean {
    const now = Date.now();
    if (this.drainChecked === null || now - this.drainChecked.at > DRAIN_CHECK_MS) {
      this.drainChecked = { at: now, drained: fs.existsSync(this.paths.queueDrain) };
    }
    return this.drainChecked.drained;
  }

  stopAccepting(): void {
    this.accepting = false;
  }

  /**
   * Create jobs from validated opcode lists. Ids are acknowledged only once the serial
   * and the job files are durable. Relative dependencies (negative ids) resolve against
   * the batch, as SubmitManyJobs does; a job may depend only on earlier, known jobs.
   */
  async submit(jobsOps: OpInput[][], opts: { ignoreDrain?: boolean } = {}): Promise<SubmitResult[]> {
    if (!this.accepting) throw new JobQueueError('Job queue is shutting down, refusing job');
    if (!opts.ignoreDrain && this.drained) throw new GenericError('Queue drained');
    if (this.jobs.size + this.admitting.size + jobsOps.length > JOB_QUEUE_SIZE_HARD_LIMIT) throw new JobQueueFull();
    const first = this.lastSerial + 1;
    const now = splitTime();
    const tsNs = rawJson((BigInt(now[0]) * 1_000_000_000n + BigInt(now[1]) * 1000n).toString());
    const results: SubmitResult[] = [];
    const created: Job[] = [];
    jobsOps.forEach((ops, idx) => {
      const id = first + idx;
      try {
        for (const op of ops) this.resolveDependencies(op, id, first);
      } catch (err) {
        results.push([false, err as Error]);
        return;
      }
      ops.forEach((op, opIdx) => {
        const source = `gnt:opcode:${op.OP_ID.replace(/^OP_/, '').toLowerCase()}`;
        op.reason = [...(op.reason as unknown[]), [source, `job=${id};index=${opIdx}`, tsNs]];
      });
      created.push(newJob(id, ops, now));
      results.push([true, id]);
    });
    // Nothing accepted, nothing changed. Otherwise every job of the batch keeps its id,
    // as upstream: a refused one leaves a gap.
    if (created.length === 0) return results;
    this.lastSerial = first + jobsOps.length - 1;
    // The serial file's own copy may lag: the journal holds it, and recovery also takes the
    // highest job id found.
    const states = created.map(snapshot);
    const admitted = Promise.all([this.store.saveFile('serial', `${this.lastSerial}\n`, false), ...created.map((j) => this.store.saveJob(j))])
      .then(() => {
        created.forEach((job, i) => {
          this.admitting.delete(job.id);
          this.jobs.set(job.id, job);
          this.durable.set(job.id, states[i]);
        });
      }, (err: unknown) => {
        for (const job of created) {
          this.admitting.delete(job.id);
          this.abandoned.add(job);
        }
        throw err;
      });
    // The executor may take the jobs now: a job that can start at once records "running"
    // in the same journal batch as its submission, one sync instead of two (see commit).
    for (const job of created) this.admitting.set(job.id, { job, admitted });
    for (const job of created) this.onRunnable?.(job);
    await admitted;
    return results;
  }

  /** Turn relative dependencies into ids and refuse self, future and unknown jobs. */
  private resolveDependencies(op: OpInput, id: number, batchStart: number): void {
    if (!Array.isArray(op.depends)) return;
    op.depends = (op.depends as Array<[number | string, string[]]>).map(([dep, statuses]) => {
      const n = Number(dep);
      const target = n < 0 ? id + n : n;
      if (n === 0 || target === id) throw new OpPrereqError(`Job ${id} cannot depend on itself`, ECODE.INVAL);
      if (n < 0 && target < batchStart) throw new OpPrereqError(`Relative dependency ${n} of job ${id} points before its batch`, ECODE.INVAL);
      if (target > id) throw new OpPrereqError(`Job ${id} cannot depend on the later job ${target}`, ECODE.INVAL);
      if (target < batchStart && !this.jobs.has(target) && !fs.existsSync(archivePath(this.paths.queueDir, target))) {
        throw new OpPrereqError(`Job ${id} depends on unknown job ${target}`, ECODE.NOENT);
      }
      for (const s of statuses) {
        if (!JOBS_FINALIZED.has(s)) throw new OpPrereqError(`Invalid dependency status '${s}' (must be a final status)`, ECODE.INVAL);
      }
      return [target, statuses];
    });
  }

  /**
   * A job by id. A job whose file an operator removed by hand is unknown from then on:
   * it is dropped here rather than trusted from memory.
   */
  get(id: number): Job | undefined {
    const job = this.jobs.get(id);
    if (job && this.fileExpected(job) && !fs.existsSync(path.join(this.paths.queueDir, jobFileName(id)))) {
      this.forget(id, 'job file removed from the queue directory');
      return undefined;
    }
    return job;
  }

  /**
   * A finished job whose file is in the queue directory by now (not one still being
   * written): its file missing means an operator removed it.
   */
  private fileExpected(job: Job): boolean {
    return this.settled.has(job) && !this.store.viewPending(jobFileName(job.id));
  }

  private forget(id: number, why: string): void {
    this.jobs.delete(id);
    this.durable.delete(id);
    this.log.warn({ job: id }, why);
    this.changes.emit(String(id));
  }

  /** A live (its durable state) or archived job, for queries. */
  private lookup(id: number): JobView | null {
    if (this.get(id)) return { job: this.durable.get(id)!, archived: false };
    const archived = this.readJobFile(archivePath(this.paths.queueDir, id), id);
    return archived ? { job: archived, archived: true } : null;
  }

  /** True for a job whose submission failed (the executor drops it). */
  isAbandoned(job: Job): boolean {
    return this.abandoned.has(job);
  }

  /**
   * Record a change: durable first, then reported to waiting clients. A change to a job
   * whose submission is not durable yet joins the submission's journal record when that
   * has not been written yet (the two become durable together); otherwise it waits for the
   * submission first, so that a failed submission never leaves a later record behind.
   */
  async commit(job: Job): Promise<void> {
    if (this.abandoned.has(job)) throw new JobQueueError(`Job ${job.id} was not accepted: its submission could not be recorded`);
    const pending = this.admitting.get(job.id);
    const admission = pending?.job === job ? pending.admitted : undefined;
    if (admission && !this.store.isPending(jobFileName(job.id))) await admission;
    const state = snapshot(job);
    await this.store.saveJob(job);
    if (admission) await admission;
    if (this.jobs.get(job.id) === job) this.durable.set(job.id, state);
    if (isFinalized(state)) this.settled.add(job);
    this.changes.emit(String(job.id));
  }

  /** Subscribe to changes of one job (dependency waits); returns the unsubscribe function. */
  onChange(id: number, fn: () => void): () => void {
    const key = String(id);
    this.changes.on(key, fn);
    return () => this.changes.off(key, fn);
  }

  appendLog(job: Job, opIndex: number, type: string, message: unknown): LogEntry {
    const entry: LogEntry = [lastLogSerial(job) + 1, splitTime(), type, message];
    job.ops[opIndex].log.push(entry);
    return entry;
  }

  /** Finalized status of a job (live or archived), or null while it is pending or unknown. */
  finalStatus(id: number): string | null | undefined {
    if (this.admitting.has(id)) return null;
    const v = this.lookup(id);
    if (!v) return undefined;
    const s = jobStatus(v.job);
    return JOBS_FINALIZED.has(s) ? s : null;
  }

  private usesArchived(fields: string[], filter: Filter): boolean {
    return fields.includes('archived') || JSON.stringify(filter ?? []).includes('"archived"');
  }

  private archivedViews(): JobView[] {
    const base = path.join(this.paths.queueDir, 'archive');
    const views: JobView[] = [];
    for (const sub of fs.existsSync(base) ? fs.readdirSync(base) : []) {
      for (const name of fs.readdirSync(path.join(base, sub))) {
        const m = /^job-(\d+)$/.exec(name);
        const job = m ? this.readJobFile(path.join(base, sub, name), Number(m[1])) : null;
        if (job) views.push({ job, archived: true });
      }
    }
    return views;
  }

  /**
   * Query("job"). Like luxid: a filter naming job ids looks those up, archived ones
   * included, and unknown ids still get a row (the id, every other cell unavailable:
   * "Job ID N not found" in gnt-job info). Otherwise all live jobs whose files are
   * present, and archived ones only when the archived field is asked for.
   */
  query(fields: string[], filter: Filter): QueryResponse {
    compileFilter(JOB_FIELDS, filter);
    const requested = requestedJobIds(filter);
    let views: JobView[];
    if (requested.length > 0) {
      views = requested.map((id) => this.lookup(id)).filter((v): v is JobView => v !== null);
    } else {
      const present = new Set(this.store.listJobIds());
      for (const [id, job] of this.jobs) {
        if (!present.has(id) && this.fileExpected(job)) this.forget(id, 'job file removed from the queue directory');
      }
      views = [...this.durable.values()].map((job) => ({ job, archived: false }));
      if (this.usesArchived(fields, filter)) views.push(...this.archivedViews());
    }
    views.sort((a, b) => a.job.id - b.job.id);
    const response = runQuery(JOB_FIELDS, fields, views, filter);
    const known = new Set(views.map((v) => v.job.id));
    const missing = requested.filter((id) => !known.has(id));
    if (missing.length === 0) return response;
    for (const id of missing) {
      response.data.push(fields.map((name): [number, unknown] =>
        name === 'id' ? [RS_NORMAL, id] : [JOB_FIELDS.has(name) ? RS_UNAVAIL : RS_UNKNOWN, null]));
    }
    const idAt = fields.indexOf('id');
    if (idAt >= 0) response.data.sort((a, b) => Number(a[idAt][1]) - Number(b[idAt][1]));
    return response;
  }

  /** QueryJobs: one row of plain values per requested id; null for unknown ids. */
  queryJobs(ids: number[] | null, fields: string[]): Array<unknown[] | null> {
    const list = ids ?? [...this.jobs.keys()].sort((a, b) => a - b);
    return list.map((id) => {
      const v = this.lookup(id);
      return v ? fields.map((name) => JOB_FIELDS.get(name)?.get(v) ?? null) : null;
    });
  }

  /**
   * WaitForJobChange (spec/core.md §2.8): answer at once when the job is finalized, its
   * fields differ from prevInfo or it has log entries newer than prevSerial; else wait for
   * a change until the timeout and answer "nochange". Unknown jobs answer null.
   */
  async waitForChange(id: number, fields: string[], prevInfo: unknown, prevSerial: number | null, timeoutSec: number): Promise<unknown> {
    const ready = (v: JobView) => {
      const info = fields.map((name) => JOB_FIELDS.get(name)?.get(v) ?? null);
      const logs: LogEntry[] = [];
      for (const op of v.job.ops) for (const l of op.log) if (prevSerial === null || l[0] > prevSerial) logs.push(l);
      logs.sort((a, b) => a[0] - b[0]);
      const changed = JSON.stringify(info) !== JSON.stringify(prevInfo) || logs.length > 0;
      return isFinalized(v.job) || changed ? [info, logs] : null;
    };
    const view = this.lookup(id);
    if (!view) return null;
    const now = ready(view);
    const holdMs = Math.min(PROGRESS_COALESCE_MS, Math.max(0, timeoutSec) * 1000);
    if (view.archived || isFinalized(view.job) || (now && holdMs < PROGRESS_COALESCE_MS)) return now ?? JOB_NOTCHANGED;
    return new Promise((resolve) => {
      const finish = (value: unknown) => {
        clearTimeout(timer);
        clearTimeout(coalescing);
        unsubscribe();
        resolve(value);
      };
      // A change short of the end is answered after PROGRESS_COALESCE_MS, with the state
      // then: a job that ends meanwhile costs its waiter one answer instead of one per step
      // (queued → running → success), and a person watching sees no difference.
      let coalescing: NodeJS.Timeout | undefined;
      const check = () => {
        coalescing = undefined;
        const job = this.durable.get(id);
        if (!job) return finish(null);
        const r = ready({ job, archived: false });
        if (r) finish(r);
      };
      const unsubscribe = this.onChange(id, () => {
        const job = this.durable.get(id);
        if (!job || isFinalized(job)) return check();
        coalescing ??= setTimeout(check, PROGRESS_COALESCE_MS);
      });
      const timer = setTimeout(() => finish(JOB_NOTCHANGED), Math.max(0, Math.min(timeoutSec, 3600)) * 1000);
      // A change already there (a first call has no previous state) is held the same way.
      if (now) coalescing = setTimeout(check, holdMs);
    });
  }

  /** CancelJob, with Ganeti 3.0's answers. */
  async cancel(id: number, kill: boolean): Promise<Answer> {
    const job = this.get(id);
    if (!job || isFinalized(job)) return [false, `Job ${id} not found in queue`];
    const status = jobStatus(job);
    if (status === 'queued' && !job.ops.some((o) => o.status !== 'queued')) {
      this.finalizeUnfinished(job, 'canceled', 'Job canceled by request');
      await this.commit(job);
      return [true, `Dequeued job ${id}`];
    }
    if (status === 'canceling') return [true, `Job ${id} is already being canceled`];
    if (status === 'running' && !kill) return [false, `Job could not be canceled, status ${status}`];
    if (!this.cancelHooks?.abort(job, kill)) return [false, `Job could not be canceled, status ${status}`];
    const done = await new Promise<boolean>((resolve) => {
      if (this.finalStatus(id)) return resolve(true);
      const finish = (ok: boolean) => {
        clearTimeout(timer);
        off();
        resolve(ok);
      };
      const off = this.onChange(id, () => {
        if (this.finalStatus(id) !== null) finish(true);
      });
      // As luxid: wait at most (180 - 1) // 4 = 44 s for the job to act on the cancel.
      const timer = setTimeout(() => finish(false), 44_000);
    });
    return done ? [true, 'Job successfully cancelled'] : [true, `Job ${id} will be canceled`];
  }

  /** ChangeJobPriority: new priority for the opcodes still queued or waiting. */
  async changePriority(id: number, priority: number): Promise<Answer> {
    if (!OP_PRIO_SUBMIT_VALID.includes(priority)) {
      throw new OpPrereqError(`Invalid priority ${priority}, must be one of ${OP_PRIO_SUBMIT_VALID.join(', ')}`, ECODE.INVAL);
    }
    const job = this.get(id);
    if (!job) return [false, `Job ${id} not found`];
    if (isFinalized(job)) return [false, `Job ${id} is finished`];
    if (jobStatus(job) === 'canceling') return [false, `Job ${id} is being canceled`];
    const pending = job.ops.filter((o) => o.status === 'queued' || o.status === 'waiting');
    if (pending.length === 0) return [false, `Job ${id} had no pending opcodes`];
    for (const op of pending) op.priority = priority;
    await this.commit(job);
    return [true, `Priorities of pending opcodes for job ${id} have been changed to ${priority}`];
  }

  /** ArchiveJob: true when a finished job was moved to the archive. */
  async archive(ids: number[]): Promise<boolean[]> {
    const results = ids.map((id) => {
      const job = this.get(id);
      return job !== undefined && this.settled.has(job);
    });
    const moving = ids.filter((_, i) => results[i]);
    for (const id of moving) {
      this.jobs.delete(id);
      this.durable.delete(id);
    }
    await Promise.all(moving.map((id) => this.store.archiveJob(id, JOBS_PER_ARCHIVE_DIRECTORY)));
    return results;
  }

  /** AutoArchiveJobs: archive finished jobs older than age (-1 = all) until timeout. */
  async autoArchive(ageSec: number, timeoutSec: number): Promise<[number, number]> {
    const deadline = Date.now() + timeoutSec * 1000;
    const ids = [...this.jobs.keys()].sort((a, b) => a - b);
    const now = Date.now() / 1000;
    let archived = 0;
    let i = 0;
    for (; i < ids.length && Date.now() < deadline; i += 10) {
      const batch = ids.slice(i, i + 10).filter((id) => {
        const job = this.jobs.get(id);
        if (!job || !this.settled.has(job)) return false;
        const ref = job.end_timestamp ?? job.start_timestamp ?? job.received_timestamp;
        return ageSec === -1 || (ref !== null && now - ref[0] > ageSec);
      });
      archived += (await this.archive(batch)).filter(Boolean).length;
    }
    return [archived, Math.max(0, ids.length - i)];
  }

  async setDrainFlag(flag: boolean): Promise<void> {
    await setFlagFile(this.paths.queueDrain, flag ? '' : null);
    this.drainChecked = { at: Date.now(), drained: flag };
  }
}
