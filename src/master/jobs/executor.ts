// The processor: runs jobs from the queue on a pool of concurrent slots (Ganeti's
// max_running_jobs), highest priority first, and each job's opcodes in order through
// their logical units. The first failing opcode fails the rest of the job.
import { ELOG_MESSAGE } from '../../core/constants.ts';
import { GanetiError, OpCodeUnknown, OpExecError, encodeError } from '../../core/errors.ts';
import { jobPriority, splitTime, type Job } from '../../core/jobs.ts';
import type { Logger } from '../../util/log.ts';
import type { RpcClient } from '../../rpc/client.ts';
import type { ConfigStore } from '../config/store.ts';
import { LOGICAL_UNITS } from '../cmdlib/index.ts';
import type { LUContext } from '../cmdlib/base.ts';
import type { JobQueue } from './queue.ts';

export class JobExecutor {
  private runnable: Job[] = [];
  private running = 0;
  private idleWaiters: Array<() => void> = [];

  private readonly queue: JobQueue;
  private readonly config: ConfigStore;
  private readonly rpc: RpcClient;
  private readonly log: Logger;
  private readonly maxRunning: () => number;

  constructor(queue: JobQueue, config: ConfigStore, rpc: RpcClient, log: Logger, maxRunning: () => number) {
    this.queue = queue;
    this.config = config;
    this.rpc = rpc;
    this.log = log;
    this.maxRunning = maxRunning;
    queue.onRunnable = (job) => this.enqueue(job);
  }

  enqueue(job: Job): void {
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

  get runningCount(): number {
    return this.running;
  }

  /** Resolves when no job is running (shutdown waits for this). */
  whenIdle(): Promise<void> {
    if (this.running === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /** Stop starting new jobs; queued ones stay on disk for the next start. */
  stop(): void {
    this.runnable = [];
  }

  private pump(): void {
    while (this.running < Math.max(1, this.maxRunning()) && this.runnable.length > 0) {
      const job = this.runnable.shift()!;
      this.running++;
      this.runJob(job)
        .catch((err) => this.log.error({ job: job.id, err: String(err) }, 'job processing failed'))
        .finally(() => {
          this.running--;
          if (this.running === 0) for (const w of this.idleWaiters.splice(0)) w();
          this.pump();
        });
    }
  }

  private async runJob(job: Job): Promise<void> {
    for (let i = 0; i < job.ops.length; i++) {
      const op = job.ops[i];
      if (op.status !== 'queued') continue;
      const ok = await this.runOpcode(job, i);
      if (!ok) {
        const now = splitTime();
        for (const later of job.ops.slice(i + 1)) {
          later.status = 'error';
          later.result = new OpExecError('Preceding opcode failed').encode();
          later.end_timestamp = now;
        }
        break;
      }
    }
    job.end_timestamp = splitTime();
    await this.queue.commit(job);
  }

  /** Runs one opcode; returns false when it failed. The caller commits the final state. */
  private async runOpcode(job: Job, index: number): Promise<boolean> {
    const op = job.ops[index];
    const now = splitTime();
    op.status = 'waiting';
    op.start_timestamp = now;
    job.start_timestamp ??= now;
    const ctx: LUContext = {
      config: this.config,
      rpc: this.rpc,
      log: this.log,
      feedback: (message) => {
        this.queue.appendLog(job, index, ELOG_MESSAGE, message);
        void this.queue.commit(job).catch(() => undefined);
      },
    };
    try {
      const factory = LOGICAL_UNITS[op.input.OP_ID];
      if (!factory) throw new OpCodeUnknown(`No logical unit for opcode ${op.input.OP_ID}`);
      const lu = factory(op.input, ctx);
      lu.checkArguments?.();
      lu.expandNames?.();
      await lu.checkPrereq?.();
      op.status = 'running';
      op.exec_timestamp = splitTime();
      await this.queue.commit(job);
      op.result = (await lu.exec()) ?? null;
      op.status = 'success';
      op.end_timestamp = splitTime();
      return true;
    } catch (err) {
      op.status = 'error';
      op.result = encodeError(err);
      op.end_timestamp = splitTime();
      if (!(err instanceof GanetiError)) this.log.error({ job: job.id, op: op.input.OP_ID, err: String((err as Error)?.stack ?? err) }, 'unexpected error in opcode');
      return false;
    }
  }
}
