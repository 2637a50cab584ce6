// Writes the queue directory's job files on one worker thread: a whole batch is one
// message, instead of four thread-pool round trips (open, write, close, rename) per file,
// whose hand-offs cost the master more than the writes themselves. Batches are written
// in the order they are sent, so an older state never lands after a newer one.
import { Worker } from 'node:worker_threads';

export interface ViewOp {
  /** Content to write (through a temp file and a rename), or null for a move only. */
  text: string | null;
  /** Where the file is now (its queue-directory path). */
  from: string;
  /** Where it must end up (the same path, or its archive path). */
  to: string;
  tmp: string;
}

/**
 * Apply view operations in order; returns the ops that failed, with why. The worker runs
 * this very function (from its source text, so it may use nothing but its arguments), and
 * start-up replay calls it directly.
 */
export function applyViewOps(ops: ViewOp[], fs: typeof import('node:fs'), path: typeof import('node:path')): Array<[string, string]> {
  const failed: Array<[string, string]> = [];
  for (const op of ops) {
    try {
      if (op.to !== op.from) fs.mkdirSync(path.dirname(op.to), { recursive: true, mode: 0o750 });
      if (op.text !== null) {
        fs.writeFileSync(op.tmp, op.text, { mode: 0o640 });
        fs.renameSync(op.tmp, op.to);
        if (op.to !== op.from) fs.rmSync(op.from, { force: true });
      } else if (op.to !== op.from) {
        try {
          fs.renameSync(op.from, op.to);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        }
      }
    } catch (e) {
      failed.push([op.from, (e as Error).message]);
    }
  }
  return failed;
}

// The worker is eval'd (inside the single executable a worker cannot load a file).
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const applyViewOps = ${applyViewOps.toString()};
parentPort.on('message', ({ id, ops }) => {
  const failed = applyViewOps(ops, require('node:fs'), require('node:path')).map(([from]) => from);
  parentPort.postMessage({ id, failed });
});
`;

export class ViewWriter {
  private worker: Worker | null = null;
  private nextId = 0;
  private waiting = new Map<number, (failed: string[]) => void>();

  private start(): Worker {
    if (!this.worker) {
      const worker = new Worker(WORKER_SOURCE, { eval: true });
      worker.on('message', ({ id, failed }: { id: number; failed: string[] }) => {
        this.waiting.get(id)?.(failed);
        this.waiting.delete(id);
      });
      worker.on('error', () => this.fail(worker));
      worker.on('exit', () => this.fail(worker));
      worker.unref();
      this.worker = worker;
    }
    return this.worker;
  }

  /** A dead worker: its unanswered batches count as failed (the journal still holds them). */
  private fail(worker: Worker): void {
    if (this.worker === worker) this.worker = null;
    for (const [id, resolve] of this.waiting) {
      resolve(['*']);
      this.waiting.delete(id);
    }
  }

  /** Write a batch; resolves with the source paths whose update failed. */
  write(ops: ViewOp[]): Promise<string[]> {
    if (ops.length === 0) return Promise.resolve([]);
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.start().postMessage({ id, ops });
    });
  }

  async close(): Promise<void> {
    await this.worker?.terminate();
    this.worker = null;
  }
}
