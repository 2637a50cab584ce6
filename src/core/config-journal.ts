// config.data on disk, kept cheap to change: a change is one small record appended to
// config.journal and covered by one fdatasync, and config.data (Ganeti's format, what
// Ganeti's own tools read) is rewritten from memory shortly after, when changes pause.
// Loading reads config.data and replays the journal records that are newer than it.
// The master and every master candidate's replica use the same files and the same
// records: the master sends each record to the candidates (config_update).
//
// Crash safety: config.data is only ever replaced by rename, so it is the old or the new
// snapshot; a record counts once its fdatasync returned, and a torn last record (the
// crash hit the append) was never acknowledged, so replay stops there.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { CONFIG_VERSION } from './constants.ts';
import { ConfigurationError, ConfigVersionMismatch } from './errors.ts';
import { parseJson, sortKeys } from './json.ts';
import { syncDir, syncDirSync, writeFileAtomic, writeFileAtomicSync } from '../util/fs.ts';
import type { ClusterObject, ConfigData, ConfigObject } from '../master/config/model.ts';
import path from 'node:path';

/** The config.data sections that hold objects by uuid. */
export const SECTIONS = ['nodes', 'nodegroups', 'instances', 'networks', 'disks', 'filters'] as const;
export type Section = (typeof SECTIONS)[number];

/** One change: the new serial and mtime, the objects written whole, the ones removed. */
export interface ConfigDelta {
  serial: number;
  mtime: number;
  cluster?: ClusterObject;
  set?: Array<[Section, ConfigObject]>;
  del?: Array<[Section, string]>;
}

/**
 * When config.data is rewritten: after a quiet time without changes, or once the journal
 * holds this many records even while changes continue. The master's copy is what
 * Ganeti's own tools read, so it follows quickly; a candidate's copy only has to be
 * complete (its journal counts as much), and rewriting a large configuration on every
 * candidate at once costs the disk they may share.
 */
export interface SnapshotPolicy {
  quietMs: number;
  maxRecords: number;
}
export const MASTER_SNAPSHOTS: SnapshotPolicy = { quietMs: 300, maxRecords: 200 };
export const REPLICA_SNAPSHOTS: SnapshotPolicy = { quietMs: 2000, maxRecords: 1000 };

/** Serialized objects by identity, valid while their serial_no is unchanged. */
const objectText = new WeakMap<object, { serial: number; text: string }>();

function cachedText(obj: ConfigObject): string {
  const serial = obj.serial_no;
  const hit = objectText.get(obj);
  if (hit && hit.serial === serial) return hit.text;
  const text = JSON.stringify(sortKeys(obj));
  if (typeof serial === 'number') objectText.set(obj, { serial, text });
  return text;
}

/** Keys in the order JSON.stringify emits them for an object built with sorted keys. */
function emittedOrder(keys: string[]): string[] {
  return Object.keys(Object.fromEntries(keys.sort().map((k) => [k, 0])));
}

/**
 * config.data's canonical text: JSON.stringify(sortKeys(data)), one line. Objects in the
 * sections reuse their text while their serial_no is unchanged (every change bumps it,
 * through ConfigTx.modified or a replaced object), so that rewriting a 10,000-instance
 * configuration does not serialize 10,000 unchanged instances again.
 */
export function serializeConfig(data: ConfigData): string {
  const record = data as unknown as Record<string, unknown>;
  const parts: string[] = [];
  for (const key of emittedOrder(Object.keys(record))) {
    const value = record[key];
    if (value === undefined) continue;
    let text: string;
    if (isSection(key) && value !== null && typeof value === 'object') {
      const objects = value as Record<string, ConfigObject>;
      const inner = emittedOrder(Object.keys(objects)).filter((k) => objects[k] !== undefined).map((k) => `${JSON.stringify(k)}:${cachedText(objects[k])}`);
      text = `{${inner.join(',')}}`;
    } else {
      text = JSON.stringify(sortKeys(value));
    }
    parts.push(`${JSON.stringify(key)}:${text}`);
  }
  return `{${parts.join(',')}}\n`;
}

export function parseConfig(text: string, file: string): ConfigData {
  let data: ConfigData;
  try {
    data = parseJson(text) as ConfigData;
  } catch (err) {
    throw new ConfigurationError(`Cannot parse the configuration file ${file}: ${(err as Error).message}`);
  }
  if (!data || typeof data !== 'object' || !data.cluster || !data.nodes) throw new ConfigurationError(`Configuration file ${file} is incomplete`);
  if (data.version !== CONFIG_VERSION) throw new ConfigVersionMismatch(CONFIG_VERSION, data.version);
  return data;
}

export function readConfigFile(file: string): ConfigData {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ConfigurationError(`Cluster configuration ${file} not found: this node is not part of a cluster`);
    throw err;
  }
  return parseConfig(text, file);
}

function isSection(s: unknown): s is Section {
  return typeof s === 'string' && (SECTIONS as readonly string[]).includes(s);
}

export function validDelta(d: unknown): d is ConfigDelta {
  if (d === null || typeof d !== 'object') return false;
  const x = d as ConfigDelta;
  return Number.isInteger(x.serial) && typeof x.mtime === 'number' &&
    (x.cluster === undefined || (typeof x.cluster === 'object' && x.cluster !== null)) &&
    (x.set === undefined || (Array.isArray(x.set) && x.set.every((e) => Array.isArray(e) && isSection(e[0]) && typeof e[1]?.uuid === 'string'))) &&
    (x.del === undefined || (Array.isArray(x.del) && x.del.every((e) => Array.isArray(e) && isSection(e[0]) && typeof e[1] === 'string')));
}

export function applyDelta(data: ConfigData, delta: ConfigDelta): void {
  if (delta.cluster) data.cluster = delta.cluster;
  for (const [section, obj] of delta.set ?? []) (data[section] as Record<string, ConfigObject>)[obj.uuid] = obj;
  for (const [section, uuid] of delta.del ?? []) delete (data[section] as Record<string, ConfigObject>)[uuid];
  data.serial_no = delta.serial;
  data.mtime = delta.mtime;
}

/** The journal that goes with a config.data (nodePaths().configJournal for a node's own). */
export function journalFileFor(configFile: string): string {
  return path.join(path.dirname(configFile), 'config.journal');
}

/** Read config.data and replay the journal records after it; a torn or out-of-order tail ends the replay. */
export function loadConfig(configFile: string): ConfigData {
  const data = readConfigFile(configFile);
  let text = '';
  try {
    text = fs.readFileSync(journalFileFor(configFile), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let delta: unknown;
    try {
      delta = parseJson(line);
    } catch {
      break;
    }
    if (!validDelta(delta)) break;
    if (delta.serial <= data.serial_no) continue; // already in the snapshot
    if (delta.serial !== data.serial_no + 1) break;
    applyDelta(data, delta);
  }
  return data;
}

/**
 * A configuration held in memory and kept durable on disk. Every disk operation runs
 * in one chain, in submission order.
 */
export class DurableConfig {
  data: ConfigData;
  readonly file: string;
  private readonly journalFile: string;
  private chain: Promise<void> = Promise.resolve();
  private journalFd: number | null = null;
  /** Journal records not yet in config.data. */
  private pending: Array<{ serial: number; line: string }> = [];
  private snapshotting: Promise<void> | null = null;
  /** Bumped by replace(); a snapshot records the generation of the data it wrote. */
  private generation = 0;
  private snapshotGeneration = 0;
  private snapshotTimer: NodeJS.Timeout | null = null;
  /** Serial of the last config.data written (or read). */
  private snapshotSerial: number;

  private readonly policy: SnapshotPolicy;

  constructor(file: string, data: ConfigData, policy: SnapshotPolicy = MASTER_SNAPSHOTS) {
    this.policy = policy;
    this.file = file;
    this.journalFile = journalFileFor(file);
    this.data = data;
    this.snapshotSerial = -1; // unknown: the first snapshot always writes
  }

  /**
   * Load, and fold a leftover journal into config.data at once: appending after a torn
   * record would glue the next record to it and hide it from the next replay.
   */
  static load(file: string, policy: SnapshotPolicy = MASTER_SNAPSHOTS): DurableConfig {
    const data = loadConfig(file);
    const journal = journalFileFor(file);
    if (fs.existsSync(journal)) {
      writeFileAtomicSync(file, serializeConfig(data), { mode: 0o640 });
      fs.rmSync(journal, { force: true });
      syncDirSync(path.dirname(file));
    }
    const config = new DurableConfig(file, data, policy);
    config.snapshotSerial = data.serial_no;
    return config;
  }

  private enqueue<T>(work: () => Promise<T>): Promise<T> {
    const p = this.chain.then(work);
    this.chain = p.then(() => undefined, () => undefined);
    return p;
  }

  /** Make a change that is already applied to `data` durable. */
  commit(delta: ConfigDelta): Promise<void> {
    const line = `${JSON.stringify(delta)}\n`;
    return this.enqueue(async () => {
      this.journalFd ??= fs.openSync(this.journalFile, 'a', 0o640);
      await writeAll(this.journalFd, line);
      await new Promise<void>((resolve, reject) => fs.fdatasync(this.journalFd!, (e) => (e ? reject(e) : resolve())));
      this.pending.push({ serial: delta.serial, line });
      this.scheduleSnapshot();
    });
  }

  /** Replace the whole configuration (a full upload from the master). */
  async replace(data: ConfigData): Promise<void> {
    const generation = await this.enqueue(async () => {
      this.data = data;
      // The journal's records belong to the old data: a crash now leaves the old config.data alone.
      this.pending = [];
      if (this.journalFd !== null) {
        fs.closeSync(this.journalFd);
        this.journalFd = null;
      }
      await fsp.rm(this.journalFile, { force: true });
      return ++this.generation;
    });
    // A snapshot that was already running holds the old text: go again until one has the new.
    while (this.snapshotGeneration < generation) await this.snapshot();
  }

  private scheduleSnapshot(): void {
    if (this.pending.length >= this.policy.maxRecords) {
      void this.snapshot().catch(() => undefined);
      return;
    }
    if (this.snapshotTimer) clearTimeout(this.snapshotTimer);
    this.snapshotTimer = setTimeout(() => {
      this.snapshotTimer = null;
      void this.snapshot().catch(() => undefined);
    }, this.policy.quietMs);
    this.snapshotTimer.unref();
  }

  /**
   * Write config.data from memory and drop the journal records it covers. The text is
   * taken in the chain (it holds every change committed before it); writing and syncing
   * the file happens outside it, so that changes go on meanwhile; the rename and the new
   * journal (the records that came after the text was taken) are back in the chain.
   */
  async snapshot(): Promise<void> {
    if (this.snapshotTimer) {
      clearTimeout(this.snapshotTimer);
      this.snapshotTimer = null;
    }
    if (this.snapshotting) return this.snapshotting;
    const run = async () => {
      const taken = await this.enqueue(async () => {
        if (this.pending.length === 0 && this.snapshotSerial === this.data.serial_no && this.snapshotGeneration === this.generation) return null;
        return { serial: this.data.serial_no, generation: this.generation, text: serializeConfig(this.data) };
      });
      if (taken === null) return;
      const tmp = `${this.file}.snapshot.tmp`;
      await writeFileAtomic(tmp, taken.text, { mode: 0o640, syncDir: false });
      await this.enqueue(async () => {
        if (taken.generation !== this.generation) {
          await fsp.rm(tmp, { force: true }); // the data was replaced meanwhile
          return;
        }
        // A crash between the two renames leaves old records in the journal: replay skips
        // them (their serials are not newer than config.data's).
        await fsp.rename(tmp, this.file);
        this.pending = this.pending.filter((r) => r.serial > taken.serial);
        if (this.journalFd !== null) {
          fs.closeSync(this.journalFd);
          this.journalFd = null;
        }
        if (this.pending.length === 0) await fsp.rm(this.journalFile, { force: true });
        else await writeFileAtomic(this.journalFile, this.pending.map((r) => r.line).join(''), { mode: 0o640, syncDir: false });
        await syncDir(path.dirname(this.file));
        this.snapshotSerial = taken.serial;
        this.snapshotGeneration = taken.generation;
      });
    };
    this.snapshotting = run().finally(() => {
      this.snapshotting = null;
    });
    return this.snapshotting;
  }

  /** Flush everything to config.data (clean shutdown). */
  async close(): Promise<void> {
    await this.snapshot();
    if (this.pending.length > 0) await this.snapshot();
    if (this.journalFd !== null) fs.closeSync(this.journalFd);
    this.journalFd = null;
  }
}

function writeAll(fd: number, text: string): Promise<void> {
  const buf = Buffer.from(text, 'utf8');
  return new Promise((resolve, reject) => {
    const step = (off: number) => fs.write(fd, buf, off, buf.length - off, null, (err, n) => {
      if (err) return reject(err);
      if (off + n < buf.length) return step(off + n);
      resolve();
    });
    step(0);
  });
}
