// The processor: runs jobs from the queue on a pool of concurrent slots (Ganeti's
// max_running_jobs), most important first, and each job's opcodes in order through
// their logical units: dependencies → checkArguments → expandNames → locks (level by
// level, with upstream's timeout schedule and priority escalation) → checkPrereq →
// pre hooks → exec → post hooks (src/master/hooks.ts). The first failing opcode fails
// the rest of the job.
import { ELOG_MESSAGE, OP_PRIO_HIGHEST } from '../../core/constants.ts';
import { GanetiError, OpCodeUnknown, OpExecError, encodeError } from '../../core/errors.ts';
import { isFinalized, jobPriority, splitTime, type Job } from '../../core/jobs.ts';
import type { Logger } from '../../util/log.ts';
import type { RpcClient } from '../../rpc/client.ts';
import type { ConfigStore } from '../config/store.ts';
import { LOGICAL_UNITS } from '../cmdlib/index.ts';
import { EXCLUSIVE_BGL, type LockPlan, type LUContext, type MasterServices } from '../cmdlib/base.ts';
import { HooksMaster } from '../hooks.ts';
import { LEVELS, LockTimeout, lockAttemptTimeouts, type LockManager } from '../locking/manager.ts';
import { JobFilterGate } from './filters.ts';
import type { JobQueue } from './queue.ts';

/** Thrown inside a job that is being cancelled. */
class Canceled extends Error {}
/** Thrown inside a waiting job when the master shuts down: it stays queued for the next start. */
class Requeue extends Error {}

interface Active {
  controller: AbortController;
  phase: 'waiting' | 'running';
}

const CANCEL_RESULT = 'Job canceled by request';

export class JobExecutor {
  private readonly queue: JobQueue;
  private readonly config: ConfigStore;
  private readonly rpc: RpcClient;
  private readonly locks: LockManager;
  private readonly log: Logger;
  private readonly maxRunning: () => number;
  private readonly services: MasterServices;
  private runnable: Job[] = [];
  private running = 0;
  private active = new Map<number, Active>();
  /** The jobs handed to runJob and not finished (what job filters' rate limits count). */
  private started = new Map<number, Job>();
  private idleWaiters: Array<() => void> = [];
  /** Shutting down: nothing new starts or waits; it stays queued for the next start. */
  private stopping = false;

  constructor(queue: JobQueue, config: ConfigStore, rpc: RpcClient, locks: LockManager, log: Logger, maxRunning: () => number, services: MasterServices) {
    this.services = services;
    this.queue = queue;
    this.config = config;
    this.rpc = rpc;
    this.locks = locks;
    this.log = log;
    this.maxRunning = maxRunning;
    queue.onRunnable = (job) => this.enqueue(job);
    queue.cancelHooks = { abort: (job, kill) => this.abort(job, kill) };
  }

  enqueue(job: Job): void {
    if (this.stopping) return;
    const prio = jobPriority(job);
    // Keep the list ordered by (priority, id): lower numbers run first.
    let i = this.runnable.length;
    while (i > 0) {
      const other = this.runnable[i - 1];
      const p = jobPriority(other);
      if (p < prio || (p === prio && other.id < job.id)) break;
      i--;
    }
    this.runnable.splice(i, 0, job);
    this.pump();
  }

  /** Resolves when no job is running (shutdown waits for this). */
  whenIdle(): Promise<void> {
    if (this.running === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /** Stop starting new jobs; waiting ones go back to queued, for the next start. */
  stop(): void {
    this.stopping = true;
    this.runnable = [];
    for (const a of this.active.values()) if (a.phase === 'waiting') a.controller.abort(new Requeue('master shutting down'));
  }

  /** Cancel a started job: always while it waits, while it runs only when killing. */
  private abort(job: Job, kill: boolean): boolean {
    const a = this.active.get(job.id);
    if (!a || a.controller.signal.aborted || (a.phase === 'running' && !kill)) return false;
    if (a.phase === 'waiting') {
      for (const op of job.ops) if (op.status === 'waiting' || op.status === 'queued') op.status = 'canceling';
    }
    a.controller.abort(new Canceled(CANCEL_RESULT));
    return true;
  }

  private pump(): void {
    // Job filter rules and reason rate limits (./filters.ts) decide which queued jobs start.
    const gate = new JobFilterGate(Object.values(this.config.data.filters ?? {}), this.started.values());
    if (gate.hasReject) this.runnable = this.runnable.filter((job) => gate.rule(job)?.action !== 'REJECT' || !this.reject(job));
    for (let i = 0; i < this.runnable.length && this.running < Math.max(1, this.maxRunning());) {
      const job = this.runnable[i];
      if (isFinalized(job)) {
        this.runnable.splice(i, 1);
        continue;
      }
      if (gate.decide(job) !== 'run') {
        i++;
        continue;
      }
      this.runnable.splice(i, 1);
      this.running++;
      this.started.set(job.id, job);
      this.runJob(job)
        .catch((err) => this.log.error({ job: job.id, err: String(err) }, 'job processing failed'))
        .finally(() => {
          this.running--;
          this.active.delete(job.id);
          this.started.delete(job.id);
          if (this.running === 0) for (const w of this.idleWaiters.splice(0)) w();
          this.pump();
        });
    }
  }

  /** Look at the queued jobs again: the job filter rules changed. */
  reschedule(): void {
    if (!this.stopping) this.pump();
  }

  /** A queued job a REJECT rule applies to is cancelled (upstream's cancelRejectedJobs: no result). */
  private reject(job: Job): true {
    this.queue.finalizeUnfinished(job, 'canceled', null);
    this.queue.commit(job).catch((err) => this.log.error({ job: job.id, err: String(err) }, 'cannot record a rejected job'));
    return true;
  }

  private async runJob(job: Job): Promise<void> {
    const active: Active = { controller: new AbortController(), phase: 'waiting' };
    this.active.set(job.id, active);
    for (let i = 0; i < job.ops.length; i++) {
      if (job.ops[i].status !== 'queued') continue;
      const outcome = await this.runOpcode(job, i, active);
      if (outcome === 'requeued') {
        await this.queue.commit(job);
        return;
      }
      if (outcome === 'canceled') {
        this.queue.finalizeUnfinished(job, 'canceled', CANCEL_RESULT);
        break;
      }
      if (outcome === 'error') {
        this.queue.finalizeUnfinished(job, 'error', new OpExecError('Preceding opcode failed').encode());
        break;
      }
    }
    job.end_timestamp = splitTime();
    // The final state must become durable: a full disk may heal (the operator frees space).
    for (let delay = 100; ; delay = Math.min(delay * 2, 10_000)) {
      try {
        await this.queue.commit(job);
        return;
      } catch (err) {
        if (this.queue.isAbandoned(job)) return; // its submission failed: the job never existed
        this.log.error({ job: job.id, err: String(err) }, 'cannot record the end of a job; retrying');
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  /** Runs one opcode; the caller commits the final state. */
  private async runOpcode(job: Job, index: number, active: Active): Promise<'success' | 'error' | 'canceled' | 'requeued'> {
    const op = job.ops[index];
    const owner = `job/${job.id}`;
    const now = splitTime();
    const signal = active.controller.signal;
    if (this.stopping) return 'requeued';
    op.status = 'waiting';
    op.start_timestamp = now;
    job.start_timestamp ??= now;
    active.phase = 'waiting';
    const ctx: LUContext = {
      config: this.config,
      rpc: this.rpc,
      log: this.log,
      master: this.services,
      signal,
      feedback: (message) => {
        this.queue.appendLog(job, index, ELOG_MESSAGE, message);
        void this.queue.commit(job).catch(() => undefined);
      },
      releaseLocks: (level, keep) => {
        const drop = (this.locks.owned(owner).get(level) ?? []).filter((name) => !keep.includes(name));
        if (drop.length > 0) this.locks.release(owner, level, drop);
      },
    };
    try {
      await this.waitForDependencies(job, index, signal);
      const factory = LOGICAL_UNITS[op.input.OP_ID];
      if (!factory) throw new OpCodeUnknown(`No logical unit for opcode ${op.input.OP_ID}`);
      const lu = factory(op.input, ctx);
      lu.checkArguments?.();
      lu.expandNames?.();
      await this.acquireLocks(job, index, owner, lu.locks?.() ?? EXCLUSIVE_BGL, signal);
      // upstream's write_count: the config-update hook runs after an LU that changed the config.
      const serialBefore = this.config.data.serial_no;
      await lu.checkPrereq?.();
      if (signal.aborted) throw signal.reason;
      op.status = 'running';
      op.exec_timestamp = splitTime();
      active.phase = 'running';
      await this.queue.commit(job);
      // Hooks as upstream's _ExecLU: pre after checkPrereq (the opcode is already running
      // there too), post only after a successful exec, config-update whatever exec did.
      const hooks = new HooksMaster(ctx, op.input.OP_ID, lu, op.input.dry_run === true);
      await hooks.pre(signal);
      if (op.input.dry_run === true) {
        // As upstream: the checks and the pre hooks only; nothing is executed or written.
        ctx.feedback(' - INFO: dry-run mode requested, not actually executing the operation');
        op.result = null;
        op.status = 'success';
        op.end_timestamp = splitTime();
        return 'success';
      }
      try {
        op.result = (await lu.exec()) ?? null;
        op.result = (await hooks.post(op.result, signal)) ?? null;
      } finally {
        if (this.config.data.serial_no !== serialBefore) await hooks.runConfigUpdate(signal);
      }
      op.status = 'success';
      op.end_timestamp = splitTime();
      return 'success';
    } catch (err) {
      if (err instanceof Requeue || signal.reason instanceof Requeue) {
        op.status = 'queued';
        op.start_timestamp = null;
        return 'requeued';
      }
      op.end_timestamp = splitTime();
      if (err instanceof Canceled || signal.reason instanceof Canceled) {
        op.status = 'canceled';
        op.result = CANCEL_RESULT;
        return 'canceled';
      }
      op.status = 'error';
      op.result = encodeError(err);
      if (!(err instanceof GanetiError)) this.log.error({ job: job.id, op: op.input.OP_ID, err: String((err as Error)?.stack ?? err) }, 'unexpected error in opcode');
      return 'error';
    } finally {
      this.locks.releaseAll(owner);
    }
  }

  /** spec/core.md §2.5: wait for each dependency to finish with an allowed status. */
  private async waitForDependencies(job: Job, index: number, signal: AbortSignal): Promise<void> {
    const deps = (job.ops[index].input.depends as Array<[number, string[]]> | null) ?? [];
    let committed = false;
    for (const [depId, allowed] of deps) {
      for (;;) {
        if (signal.aborted) throw signal.reason;
        const status = this.queue.finalStatus(depId);
        if (status === undefined) throw new OpExecError(`Dependency job ${depId} not found`);
        if (status === null) {
          // Subscribe before anything awaits, so a change in between is not missed.
          let off = () => {};
          const changed = new Promise<void>((resolve) => {
            const done = () => resolve();
            const unsubscribe = this.queue.onChange(depId, done);
            signal.addEventListener('abort', done, { once: true });
            off = () => {
              unsubscribe();
              signal.removeEventListener('abort', done);
            };
          });
          try {
            if (!committed) {
              committed = true;
              await this.queue.commit(job); // "waiting", durable and visible before blocking
            }
            if (this.queue.finalStatus(depId) === null && !signal.aborted) await changed;
          } finally {
            off();
          }
          continue;
        }
        if (status === 'canceled' && !allowed.includes('canceled')) throw new Canceled(`Dependency job ${depId} was cancelled`);
        if (allowed.length > 0 && !allowed.includes(status)) {
          throw new OpExecError(`Dependency job ${depId} finished with status '${status}', not one of '${allowed.join(', ')}' as required`);
        }
        break;
      }
    }
  }

  /**
   * Acquire the plan's locks level by level. Each attempt has a timeout from upstream's
   * schedule; after a timeout everything is released and acquisition starts again, and
   * once the schedule is used up the opcode's priority is raised by one (down to -20,
   * where it waits without timeout).
   */
  private async acquireLocks(job: Job, index: number, owner: string, plan: LockPlan, signal: AbortSignal): Promise<void> {
    const op = job.ops[index];
    const steps: Array<[(typeof LEVELS)[number], string[] | null, boolean]> = [['cluster', ['BGL'], plan.bglShared]];
    for (const level of LEVELS) {
      const want = plan.levels[level];
      if (level !== 'cluster' && want) steps.push([level, want.names, want.shared]);
    }
    let committed = false;
    let schedule = lockAttemptTimeouts();
    for (;;) {
      const next = schedule.next();
      if (next.done && op.priority > OP_PRIO_HIGHEST) {
        op.priority -= 1;
        schedule = lockAttemptTimeouts();
        continue;
      }
      const timeoutMs = next.done ? undefined : next.value * 1000;
      // Whatever ends this attempt early (a failed commit too) withdraws its pending request.
      const attempt = new AbortController();
      const attemptSignal = AbortSignal.any([signal, attempt.signal]);
      try {
        for (const [level, names, shared] of steps) {
          const pending = this.locks.acquire(owner, level, names, shared, op.priority, { timeoutMs, signal: attemptSignal });
          if (!committed) {
            // Only a contended lock makes the job visibly "waiting" (and costs a commit).
            // An uncontended grant is already resolved and wins the race against WAIT.
            const WAIT = Symbol('wait');
            const first = await Promise.race([pending, Promise.resolve(WAIT)]);
            if (first === WAIT) {
              committed = true;
              await this.queue.commit(job); // "waiting", durable and visible before blocking
              await pending;
            }
          } else {
            await pending;
          }
        }
        return;
      } catch (err) {
        attempt.abort();
        this.locks.releaseAll(owner);
        if (!(err instanceof LockTimeout)) throw signal.aborted ? signal.reason : err;
      }
    }
  }
}
