// Durable job files with group commit. Every save writes the job's whole file
// atomically (temp + fsync + rename); saves that arrive while a flush runs are
// collected and the next flush writes them together, with one directory fsync for the
// batch. A caller's promise resolves only once its job state is durable, so a job id
// is acknowledged, and a state change is reported, only after it survives a crash.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import crypto from 'node:crypto';
import { serializeJob, type Job } from '../../core/jobs.ts';
import { syncDir } from '../../util/fs.ts';

interface Pending {
  text: string;
  waiters: Array<{ resolve(): void; reject(e: unknown): void }>;
}

export function jobFileName(id: number): string {
  return `job-${id}`;
}

export class JobStore {
  private pending = new Map<string, Pending>();
  private flushing: Promise<void> | null = null;
  /** Called with each batch after it is durable locally (replication to candidates). */
  onFlushed: ((files: Array<[string, string]>) => void) | null = null;

  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  /** Persist a job's current state; resolves when it is durable. */
  saveJob(job: Job): Promise<void> {
    return this.saveFile(jobFileName(job.id), serializeJob(job));
  }

  /** Persist a small queue file (serial) in the same batch as job files. */
  saveFile(name: string, text: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const p = this.pending.get(name);
      if (p) {
        p.text = text;
        p.waiters.push({ resolve, reject });
      } else {
        this.pending.set(name, { text, waiters: [{ resolve, reject }] });
      }
      if (!this.flushing) this.flushing = this.flushLoop();
    });
  }

  private async flushLoop(): Promise<void> {
    // Let every save issued in this turn of the event loop join the batch.
    await new Promise((r) => setImmediate(r));
    while (this.pending.size > 0) {
      const batch = this.pending;
      this.pending = new Map();
      try {
        await this.writeBatch(batch);
        for (const p of batch.values()) for (const w of p.waiters) w.resolve();
        this.onFlushed?.([...batch.entries()].map(([name, p]) => [name, p.text]));
      } catch (err) {
        for (const p of batch.values()) for (const w of p.waiters) w.reject(err);
      }
    }
    this.flushing = null;
  }

  private async writeBatch(batch: Map<string, Pending>): Promise<void> {
    const tag = `${process.pid}.${crypto.randomBytes(4).toString('hex')}`;
    const entries = [...batch.entries()].map(([name, p]) => ({ name, text: p.text, tmp: path.join(this.dir, `.${name}.${tag}.tmp`) }));
    await Promise.all(entries.map(async (e) => {
      const fh = await fsp.open(e.tmp, 'w', 0o640);
      try {
        await fh.writeFile(e.text);
        await fh.sync();
      } finally {
        await fh.close();
      }
    }));
    await Promise.all(entries.map((e) => fsp.rename(e.tmp, path.join(this.dir, e.name))));
    await syncDir(this.dir);
  }

  /** Wait until everything saved so far is durable (shutdown). */
  async drain(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  /** Move a finished job to archive/<id // 10000>/job-<id> durably. */
  async archive(id: number, perDir: number): Promise<string> {
    const sub = path.join(this.dir, 'archive', String(Math.floor(id / perDir)));
    await fsp.mkdir(sub, { recursive: true, mode: 0o750 });
    const target = path.join(sub, jobFileName(id));
    await fsp.rename(path.join(this.dir, jobFileName(id)), target);
    await syncDir(sub);
    await syncDir(this.dir);
    return target;
  }

  listJobIds(): number[] {
    const ids: number[] = [];
    for (const name of fs.readdirSync(this.dir)) {
      const m = /^job-(\d+)$/.exec(name);
      if (m) ids.push(Number(m[1]));
    }
    return ids.sort((a, b) => a - b);
  }
}
