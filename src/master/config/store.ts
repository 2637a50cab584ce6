// The configuration as the master holds it: loaded once, kept in memory as the
// authority. A change is made through a transaction that names what it touched; the
// transaction becomes one journal record (src/core/config-journal.ts), durable before
// update() returns, and is handed to the replication hook (the master candidates).
import crypto from 'node:crypto';
import { ConfigurationError } from '../../core/errors.ts';
import { DurableConfig, SECTIONS, serializeConfig, type ConfigDelta, type Section } from '../../core/config-journal.ts';
import { isRawJson } from '../../core/json.ts';
import { writeFileAtomicSync } from '../../util/fs.ts';
import { nowFloat, type ConfigData, type ConfigObject, type NodeGroupObject, type NodeObject } from './model.ts';

export { SECTIONS, serializeConfig, readConfigFile, type Section } from '../../core/config-journal.ts';

/**
 * A deep copy of JSON data. Unlike structuredClone it keeps preserved big integers
 * (src/core/json.ts's raw JSON values, e.g. the nanosecond timestamps of a job filter
 * rule's reason trail), which are immutable and shared.
 */
function cloneJson<T>(v: T): T {
  if (v === null || typeof v !== 'object' || isRawJson(v)) return v;
  if (Array.isArray(v)) return v.map(cloneJson) as T;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = cloneJson(x);
  return out as T;
}

/** Write a new cluster's config.data (gnt-cluster init). */
export function writeConfigFileSync(file: string, data: ConfigData): void {
  writeFileAtomicSync(file, serializeConfig(data), { mode: 0o640 });
}

/** One configuration change as a logical unit makes it (ConfigStore.update). */
export interface ConfigTx {
  readonly data: ConfigData;
  /** Record that an object (the cluster, a node, a group, …) changed: bumps its serial_no and mtime. */
  modified(obj: ConfigObject): void;
  /** Add (or replace) an object in a section (serial_no 1, ctime = mtime = now unless set; filter rules have none). */
  add(section: Section, obj: ConfigObject): void;
  /** Remove an object from a section. */
  remove(section: Section, uuid: string): void;
}

export class ConfigStore {
  private writing: Promise<unknown> = Promise.resolve();
  private readonly durable: DurableConfig;
  private textCache: { serial: number; text: string; sum: string | null } | null = null;
  private readonly memberships = new Map<Section, number>();

  /** Bumped whenever an object is added to or removed from the section (lock names follow it). */
  membershipVersion(section: Section): number {
    return this.memberships.get(section) ?? 0;
  }
  /** Called with every committed change, in order; update() waits for it (replication). */
  onCommit: (delta: ConfigDelta) => Promise<void> = async () => undefined;

  constructor(durable: DurableConfig) {
    this.durable = durable;
  }

  static load(file: string): ConfigStore {
    return new ConfigStore(DurableConfig.load(file));
  }

  get data(): ConfigData {
    return this.durable.data;
  }

  /**
   * The serialized configuration as committed: taken between updates, never with a
   * change that is applied in memory but not yet durable (a replica must not get ahead).
   */
  durableText(): Promise<string> {
    const p = this.writing.then(() => this.text().text);
    this.writing = p.catch(() => undefined);
    return p;
  }

  /** Write config.data now (clean shutdown). */
  close(): Promise<void> {
    return this.durable.close();
  }

  get cluster() {
    return this.data.cluster;
  }

  nodes(): NodeObject[] {
    return Object.values(this.data.nodes);
  }

  node(uuid: string): NodeObject | undefined {
    return this.data.nodes[uuid];
  }

  nodeByName(name: string): NodeObject | undefined {
    return this.nodes().find((n) => n.name === name);
  }

  groups(): NodeGroupObject[] {
    return Object.values(this.data.nodegroups);
  }

  groupByName(name: string): NodeGroupObject | undefined {
    return this.groups().find((g) => g.name === name);
  }

  masterNode(): NodeObject {
    const m = this.data.nodes[this.data.cluster.master_node];
    if (!m) throw new ConfigurationError(`Master node ${this.data.cluster.master_node} is not in the configuration`);
    return m;
  }

  /** SHA-1 of the canonical serialization (what `gnt-cluster verify` compares with the replicas). */
  checksum(): string {
    const t = this.text();
    t.sum ??= crypto.createHash('sha1').update(t.text).digest('hex');
    return t.sum;
  }

  /** The canonical text at the current serial: uploads to many candidates and verify share one. */
  private text(): { text: string; sum: string | null } {
    if (this.textCache?.serial !== this.data.serial_no) this.textCache = { serial: this.data.serial_no, text: serializeConfig(this.data), sum: null };
    return this.textCache;
  }

  masterCandidates(): NodeObject[] {
    return this.nodes().filter((n) => n.master_candidate);
  }

  /**
   * Apply a change and make it durable; changes are serialized in submission order.
   * The change mutates tx.data in place and names every object it touched through tx
   * (what is not named is neither journaled nor replicated); the configuration's
   * serial_no and mtime are bumped once per update.
   */
  async update<T>(change: (tx: ConfigTx) => T): Promise<T> {
    const run = async () => {
      const now = nowFloat();
      const data = this.data;
      const set = new Map<string, [Section, ConfigObject]>();
      const del = new Map<string, [Section, string]>();
      let cluster = false;
      const membership = new Set<Section>();
      const sectionOf = (obj: ConfigObject): Section => {
        const s = SECTIONS.find((sec) => (data[sec] as Record<string, ConfigObject>)[obj.uuid] === obj);
        if (!s) throw new ConfigurationError(`Object ${obj.uuid} is not in the configuration`);
        return s;
      };
      const tx: ConfigTx = {
        data,
        modified(obj) {
          obj.serial_no = (obj.serial_no ?? 0) + 1;
          obj.mtime = now;
          if (obj === data.cluster) cluster = true;
          else set.set(obj.uuid, [sectionOf(obj), obj]);
        },
        add(section, obj) {
          membership.add(section);
          // Filter rules carry no serial number or times (objects.FilterRule).
          if (section !== 'filters') {
            obj.serial_no ??= 1;
            obj.ctime ??= now;
            obj.mtime ??= now;
          }
          (data[section] as Record<string, ConfigObject>)[obj.uuid] = obj;
          del.delete(obj.uuid);
          set.set(obj.uuid, [section, obj]);
        },
        remove(section, uuid) {
          membership.add(section);
          delete (data[section] as Record<string, ConfigObject>)[uuid];
          set.delete(uuid);
          del.set(uuid, [section, uuid]);
        },
      };
      const result = change(tx);
      for (const section of membership) this.memberships.set(section, this.membershipVersion(section) + 1);
      data.serial_no += 1;
      data.mtime = now;
      // The record carries copies: the objects may change again before it is sent.
      const delta: ConfigDelta = cloneJson({
        serial: data.serial_no,
        mtime: now,
        ...(cluster ? { cluster: data.cluster } : {}),
        ...(set.size ? { set: [...set.values()] } : {}),
        ...(del.size ? { del: [...del.values()] } : {}),
      });
      // Durable here before any candidate sees it: a candidate never holds a change the
      // master could lose, so a vote's serial number never favours a stale master's peer.
      await this.durable.commit(delta);
      return { result, delta };
    };
    const committed = this.writing.then(run);
    this.writing = committed.catch(() => undefined);
    const { result, delta } = await committed;
    await this.onCommit(delta);
    return result;
  }
}
