// Durable queue files with group commit through an append-only journal.
//
// A save is acknowledged once its record is in the journal and one fdatasync covers
// every record of the batch, however many jobs it holds. Right after, the job's file in
// the queue directory (the format Ganeti's tools read) is replaced atomically (temp +
// rename, on a worker thread) without an fsync of its own; only archive moves are in
// place before they are acknowledged, since archived jobs are read from there. The
// journal is rotated when it grows: the old generation's files are made durable in the
// background (one syncfs) and only then is it deleted. After a crash, replay() rewrites
// every file from the journal records (latest wins), so a job file that was not yet on
// disk, or was torn, is never taken as valid.
//
// Journal line: "<crc32 hex> <JSON [op, name, arg]>\n" with op "w" (write: arg is the
// file's text) or "a" (archive: arg is the file's path below the queue directory). A
// line whose checksum does not match (a torn tail) ends the replay; it was never
// acknowledged. So do the zeros the journal is extended with ahead of its records.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import zlib from 'node:zlib';
import { isFinalized, serializeJob, type Job } from '../../core/jobs.ts';
import { syncDir } from '../../util/fs.ts';
import { applyViewOps, ViewWriter, type ViewOp } from './view-writer.ts';

interface Pending {
  /** New content, or null when only a move is pending. */
  text: string | null;
  /**
   * A job whose content is taken when the batch is written: a job saved several times
   * before then (submitted, then started) is serialized once, in its latest state.
   */
  job: Job | null;
  /** Archive destination (relative to the queue directory), once archived. */
  archiveTo: string | null;
  /** Write the queue directory's copy at once (a final state), else coalesced a little later. */
  viewNow: boolean;
  waiters: Array<{ resolve(): void; reject(e: unknown): void }>;
}

/** How long an intermediate state's view write may wait to be coalesced with the next. */
const VIEW_DELAY_MS = 50;

/** Journal size that triggers a rotation. */
const ROTATE_BYTES = 8 * 1024 * 1024;
/**
 * The journal grows by this much zero-filled space at a time. Records are then written
 * inside the file's size, and a batch's fdatasync has no size to record: about a third
 * cheaper here, in time and CPU, than appending. Replay stops at the zeros as at a torn
 * record.
 */
const JOURNAL_CHUNK = 1024 * 1024;
const ZEROS = Buffer.alloc(JOURNAL_CHUNK);
/**
 * The journal's fdatasync runs on the event loop itself while it takes less than this:
 * through the thread pool it costs two thread hand-offs per batch, which on this kind of
 * machine cost more than the sync (10–15% fewer jobs/s here). One slower sync sends the
 * next ones through the thread pool for a while, so a slow disk never stalls the loop
 * (LUXI queries, timers) for long.
 */
const INLINE_SYNC_LIMIT_MS = 10;
const SLOW_DISK_BACKOFF_MS = 10_000;
/**
 * Journal syncs in flight at once. One: more gained nothing measurable here, and a later
 * sync that fails could not vouch for the batches before it.
 */
const MAX_INFLIGHT_SYNCS = 1;
/** How long an acknowledgement waits for the master candidates' copies at most. */
const REPLICATION_WAIT_MS = 10_000;
const JOURNAL_RE = /^journal\.(\d+)$/;

/** One durable change, as replicated to the master candidates. */
export interface StoreChange {
  name: string;
  text: string | null;
  archiveTo: string | null;
}

export function jobFileName(id: number): string {
  return `job-${id}`;
}

/**
 * syncfs(2) of the file system holding dir, through coreutils' `sync -f`: one call makes a
 * whole journal generation's files durable, where an fsync each would cost thousands of
 * calls. False when it cannot be run (the caller then syncs file by file).
 */
function syncFileSystem(dir: string): Promise<boolean> {
  return new Promise((resolve) => {
    execFile('sync', ['-f', dir], { timeout: 10 * 60_000 }, (err) => resolve(err === null));
  });
}

function journalLine(op: 'w' | 'a', name: string, arg: string): string {
  const json = JSON.stringify([op, name, arg]);
  return `${zlib.crc32(json).toString(16).padStart(8, '0')} ${json}\n`;
}

/** Archive paths are `archive/<n>/job-<id>`; nothing a record names may leave the queue. */
const SAFE_NAME = /^[\w.-]+$/;
const SAFE_ARCHIVE = /^archive\/\d+\/job-\d+$/;

export class JobStore {
  readonly dir: string;
  private pending = new Map<string, Pending>();
  private scheduled = false;
  private rotating = false;
  private inflight = 0;
  private nextSeq = 0;
  /** Batches written to the journal whose sync has not completed yet, in order. */
  private unacked: Array<{ seq: number; entries: Array<[string, Pending]> }> = [];
  private idle: Array<() => void> = [];
  /** Acknowledgements, in batch order. */
  private acks: Promise<void> = Promise.resolve();
  private readonly writer = new ViewWriter();
  /** The latest batch sent to the view writer (it writes batches in order). */
  private lastViews: Promise<void> = Promise.resolve();
  /** Views whose write failed: written again before a rotation drops their journal. */
  private failedViews = new Map<string, Pending>();
  /** After a journal write error, no journal is deleted until the next start replays them. */
  private keepJournals = false;
  private tmpSeq = 0;
  private generation = 0;
  private journal: Promise<number> | null = null;
  private journalBytes = 0;
  /** Until then journal syncs go through the thread pool (see INLINE_SYNC_LIMIT_MS). */
  private slowDiskUntil = 0;
  /** The journal file's size: records go below it, zeros follow them. */
  private journalCapacity = 0;
  /** Files written since this generation's journal started (fsynced when it rotates). */
  private dirty = new Set<string>();
  /** Intermediate states whose view write waits to be coalesced. */
  private deferred = new Map<string, Pending>();
  private deferTimer: NodeJS.Timeout | null = null;
  /** Files with a view write on the worker thread, and how many. */
  private viewsInFlight = new Map<string, number>();
  private checkpoints: Promise<void> = Promise.resolve();
  /** Called with each batch after it is durable locally (replication to candidates). */
  onFlushed: ((changes: StoreChange[]) => Promise<void> | void) | null = null;

  constructor(dir: string) {
    this.dir = dir;
  }

  /**
   * Recover from the journals of an earlier run: bring every file they hold up to date
   * (latest record wins) and start a new generation. The old journals are deleted in the
   * background once those files are durable, so start-up does not wait for them.
   * Returns how many files were rewritten.
   */
  replay(): number {
    const gens = fs.readdirSync(this.dir).map((n) => JOURNAL_RE.exec(n)).filter((m) => m !== null)
      .map((m) => Number(m![1])).sort((a, b) => a - b);
    const latest = new Map<string, Pending>();
    for (const gen of gens) {
      const text = fs.readFileSync(path.join(this.dir, `journal.${gen}`), 'utf8');
      for (const line of text.split('\n')) {
        const sp = line.indexOf(' ');
        if (sp !== 8) break;
        const json = line.slice(9);
        if (zlib.crc32(json).toString(16).padStart(8, '0') !== line.slice(0, 8)) break;
        const [op, name, arg] = JSON.parse(json) as [string, string, string];
        if (!SAFE_NAME.test(name)) continue;
        const prev = latest.get(name) ?? { text: null, job: null, archiveTo: null, viewNow: true, waiters: [] };
        if (op === 'w') latest.set(name, { ...prev, text: arg, archiveTo: null });
        else if (op === 'a' && SAFE_ARCHIVE.test(arg)) latest.set(name, { ...prev, archiveTo: arg });
      }
    }
    const failed = applyViewOps([...latest].map(([name, p]) => this.viewOp(name, p)), fs, path);
    if (failed.length > 0) throw new Error(`Cannot rebuild ${failed[0][0]} from the journal: ${failed[0][1]}`);
    this.generation = gens.length > 0 ? gens[gens.length - 1] + 1 : 0;
    if (gens.length > 0) this.checkpoint(gens, this.dirty);
    this.dirty = new Set();
    return latest.size;
  }

  /**
   * Persist a job's current state (or a later one); resolves when it is durable. The
   * queue directory's copy follows right after: at once for a final state, coalesced for
   * intermediate ones (running, waiting), since under load most are superseded soon.
   */
  saveJob(job: Job): Promise<void> {
    return this.enqueue(jobFileName(job.id), (p) => {
      p.job = job;
      p.text = null;
      p.archiveTo = null;
    });
  }

  /** Persist a queue file (job file, serial); resolves when it is durable. */
  saveFile(name: string, text: string, viewNow = true): Promise<void> {
    return this.enqueue(name, (p) => {
      p.text = text;
      p.job = null;
      p.archiveTo = null;
      p.viewNow = viewNow;
    });
  }

  /** Move a finished job's file to archive/<id // perDir>/job-<id>; resolves when durable. */
  archiveJob(id: number, perDir: number): Promise<void> {
    return this.enqueue(jobFileName(id), (p) => {
      p.archiveTo = `archive/${Math.floor(id / perDir)}/${jobFileName(id)}`;
      p.viewNow = true;
    });
  }

  /** Resolves once the queue directory holds every final state and move acknowledged so far. */
  async viewsWritten(): Promise<void> {
    await this.acks;
    await this.lastViews;
  }

  /**
   * True while the queue directory's copy of a file is not yet up to date with its last
   * durable save (its view is being written, or waits to be coalesced).
   */
  viewPending(name: string): boolean {
    return this.viewsInFlight.has(name) || this.deferred.has(name);
  }

  /** True while a save of this file waits for the next journal batch (a new save joins it). */
  isPending(name: string): boolean {
    return this.pending.has(name);
  }

  private enqueue(name: string, change: (p: Pending) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      let p = this.pending.get(name);
      if (!p) {
        p = { text: null, job: null, archiveTo: null, viewNow: true, waiters: [] };
        this.pending.set(name, p);
      }
      change(p);
      p.waiters.push({ resolve, reject });
      this.schedule();
    });
  }

  /** The current journal, once its directory entry is durable (records count only then). */
  private openJournal(): Promise<number> {
    if (this.journal === null) {
      // A new generation's name is always unused ('wx': never clobber a journal).
      const fd = fs.openSync(path.join(this.dir, `journal.${this.generation}`), 'wx', 0o640);
      const opening = syncDir(this.dir).then(() => fd);
      this.journal = opening;
      opening.catch(() => {
        if (this.journal === opening) this.journal = null;
      });
      this.journalBytes = 0;
      this.journalCapacity = 0;
    }
    return this.journal;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // Let every save issued in this turn of the event loop join the batch.
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  /**
   * Write the pending batch to the journal and start its fdatasync; saves arriving
   * meanwhile form the next batch. When the sync completes the batch is durable and is
   * acknowledged (batches in order).
   */
  private async flush(): Promise<void> {
    if (this.pending.size === 0 || this.rotating || this.inflight >= MAX_INFLIGHT_SYNCS) return;
    const batch = this.pending;
    this.pending = new Map();
    const entries = [...batch.entries()];
    for (const [, p] of entries) {
      if (p.job === null) continue;
      p.text = serializeJob(p.job);
      p.viewNow = isFinalized(p.job);
      p.job = null;
    }
    const seq = this.nextSeq++;
    this.unacked.push({ seq, entries });
    this.inflight++;
    let fd: number;
    try {
      fd = await this.openJournal();
      const data = Buffer.from(entries.map(([name, p]) =>
        (p.text !== null ? journalLine('w', name, p.text) : '') + (p.archiveTo !== null ? journalLine('a', name, p.archiveTo) : '')).join(''));
      while (this.journalBytes + data.length > this.journalCapacity) {
        for (let off = 0; off < JOURNAL_CHUNK;) off += fs.writeSync(fd, ZEROS, off, JOURNAL_CHUNK - off, this.journalCapacity + off);
        this.journalCapacity += JOURNAL_CHUNK;
      }
      for (let off = 0; off < data.length;) off += fs.writeSync(fd, data, off, data.length - off, this.journalBytes + off);
      this.journalBytes += data.length;
    } catch (err) {
      // The journal may now end in a torn record, after which replay reads nothing:
      // continue in a new generation (the old one is replayed at the next start).
      this.abandonJournal();
      this.inflight--;
      this.settle(seq, err);
      return;
    }
    const synced = (err: unknown) => {
      this.inflight--;
      if (err) this.abandonJournal();
      this.settle(seq, err);
    };
    if (Date.now() < this.slowDiskUntil) {
      fs.fdatasync(fd, synced);
    } else {
      const started = performance.now();
      let err: unknown = null;
      try {
        fs.fdatasyncSync(fd);
      } catch (e) {
        err = e;
      }
      if (performance.now() - started > INLINE_SYNC_LIMIT_MS) this.slowDiskUntil = Date.now() + SLOW_DISK_BACKOFF_MS;
      synced(err);
    }
    if (this.pending.size > 0) this.schedule();
  }

  /** Stop appending to the current journal; it stays on disk until a restart replays it. */
  private abandonJournal(): void {
    if (this.journal === null) return;
    void this.journal.then((fd) => fs.closeSync(fd), () => undefined);
    this.journal = null;
    this.generation += 1;
    this.keepJournals = true;
  }

  /** A sync finished: acknowledge (or fail) every batch up to seq, in order. */
  private settle(seq: number, err: unknown): void {
    while (this.unacked.length > 0 && this.unacked[0].seq <= seq) {
      const { seq: s, entries } = this.unacked.shift()!;
      if (err && s === seq) {
        for (const [, p] of entries) for (const w of p.waiters) w.reject(err);
        continue;
      }
      const now: Array<[string, Pending]> = [];
      for (const [name, p] of entries) {
        if (p.viewNow) {
          this.deferred.delete(name);
          now.push([name, p]);
        } else {
          this.deferView(name, p);
        }
      }
      const views = this.writeViews(now);
      // An archive move is in the queue directory before it is acknowledged: archived jobs
      // are read from there. Other views follow the acknowledgement within a moment (the
      // journal holds them, and the queue does not take a file still being written as gone).
      const viewsFirst = entries.some(([, p]) => p.archiveTo !== null) ? views : undefined;
      // Acknowledge batches in order, and once the other master candidates have them
      // (bounded: a hung candidate must not stall the queue), so that a job state reported
      // to a client survives a failover.
      this.acks = this.acks.then(async () => {
        await viewsFirst;
        const replicated = this.onFlushed?.(entries.map(([name, p]) => ({ name, text: p.text, archiveTo: p.archiveTo })));
        if (replicated) await Promise.race([replicated, new Promise((r) => setTimeout(r, REPLICATION_WAIT_MS).unref())]);
        for (const [, p] of entries) for (const w of p.waiters) w.resolve();
      });
    }
    if (this.inflight === 0 && this.journalBytes >= ROTATE_BYTES && !this.rotating) {
      this.rotating = true;
      void this.rotate().catch(() => undefined).finally(() => {
        this.rotating = false;
        this.schedule();
        this.checkIdle();
      });
    } else if (this.pending.size > 0) {
      this.schedule();
    }
    this.checkIdle();
  }

  private checkIdle(): void {
    if (this.inflight === 0 && this.unacked.length === 0 && this.pending.size === 0 && !this.rotating) {
      for (const w of this.idle.splice(0)) w();
    }
  }

  /**
   * Update the queue-directory copies of a batch on the view writer's thread. Failed
   * ones are remembered and written again before any journal that holds them is dropped.
   */
  private writeViews(entries: Array<[string, Pending]>): Promise<void> {
    const ops = entries.map(([name, p]) => this.viewOp(name, p));
    for (const [name] of entries) this.viewsInFlight.set(name, (this.viewsInFlight.get(name) ?? 0) + 1);
    const done = this.writer.write(ops).then((failed) => {
      const all = failed.includes('*');
      entries.forEach(([name, p], i) => {
        const left = this.viewsInFlight.get(name)! - 1;
        if (left === 0) this.viewsInFlight.delete(name);
        else this.viewsInFlight.set(name, left);
        if (all || failed.includes(ops[i].from)) this.failedViews.set(name, p);
        else this.failedViews.delete(name);
      });
    });
    this.lastViews = done;
    return done;
  }

  private deferView(name: string, p: Pending): void {
    this.deferred.set(name, p);
    this.deferTimer ??= setTimeout(() => void this.flushDeferred(), VIEW_DELAY_MS);
  }

  /** Write the views that wait to be coalesced (also before a rotation drops their journal). */
  private flushDeferred(): Promise<void> {
    if (this.deferTimer) clearTimeout(this.deferTimer);
    this.deferTimer = null;
    const views = this.deferred;
    this.deferred = new Map();
    return this.writeViews([...views]);
  }

  /** The view operation for one file; its target is remembered for the next checkpoint. */
  private viewOp(name: string, p: Pending): ViewOp {
    const target = p.archiveTo ?? name;
    this.dirty.delete(name);
    this.dirty.add(target);
    return {
      text: p.text,
      from: path.join(this.dir, name),
      to: path.join(this.dir, target),
      tmp: `${path.join(this.dir, `.${name}`)}.${process.pid}.${this.tmpSeq++}.tmp`,
    };
  }



  /** Start a new journal; make the old generation's files durable, then drop it. */
  private async rotate(): Promise<void> {
    await this.flushDeferred();
    if (this.failedViews.size > 0) await this.writeViews([...this.failedViews]);
    await this.lastViews;
    // A view still not written (disk full?): its journal must stay, keep appending to it.
    if (this.failedViews.size > 0) return;
    const old = { gen: this.generation, fd: await this.journal!, files: this.dirty };
    this.generation += 1;
    this.journal = null;
    this.dirty = new Set();
    await this.openJournal();
    fs.closeSync(old.fd);
    this.checkpoint([old.gen], old.files);
  }

  /** In the background: make the files the journals cover durable, then delete the journals. */
  private checkpoint(gens: number[], files: Set<string>): void {
    this.checkpoints = this.checkpoints.then(async () => {
      if (!(await syncFileSystem(this.dir))) await this.syncEach(files);
      // Journals abandoned after a write error hold records no checkpoint covers here.
      if (this.keepJournals) return;
      for (const gen of gens) await fsp.rm(path.join(this.dir, `journal.${gen}`), { force: true });
      await syncDir(this.dir);
    }).catch(() => undefined);
  }

  /** fsync each file and its directory: the fallback where syncfs cannot be had. */
  private async syncEach(files: Set<string>): Promise<void> {
    await Promise.all([...files].map(async (name) => {
      try {
        const fh = await fsp.open(path.join(this.dir, name), 'r');
        try {
          await fh.sync();
        } finally {
          await fh.close();
        }
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }));
    const dirs = new Set([this.dir, ...[...files].map((f) => path.dirname(path.join(this.dir, f)))]);
    for (const d of dirs) await syncDir(d);
  }

  /** Wait until everything saved so far is durable and checkpointed (clean shutdown). */
  async drain(): Promise<void> {
    if (this.inflight > 0 || this.unacked.length > 0 || this.pending.size > 0 || this.rotating) {
      await new Promise<void>((r) => this.idle.push(r));
    }
    await this.acks;
    if (this.journalBytes > 0 && this.journal !== null) await this.rotate();
    await this.checkpoints;
    // Everything is in the job files now: a clean stop leaves no journal to replay.
    if (this.journal !== null && this.journalBytes === 0 && !this.keepJournals) {
      fs.closeSync(await this.journal);
      fs.rmSync(path.join(this.dir, `journal.${this.generation}`), { force: true });
      this.journal = null;
    }
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
