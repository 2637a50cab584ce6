// The configuration as the master holds it: loaded once, kept in memory as the
// authority, written back atomically with a bumped serial number on every change.
import fs from 'node:fs';
import crypto from 'node:crypto';
import { CONFIG_VERSION } from '../../core/constants.ts';
import { ConfigurationError, ConfigVersionMismatch } from '../../core/errors.ts';
import { parseJson, sortKeys } from '../../core/json.ts';
import { writeFileAtomic, writeFileAtomicSync } from '../../util/fs.ts';
import { nowFloat, type ConfigData, type ConfigObject, type NodeGroupObject, type NodeObject } from './model.ts';

export function serializeConfig(data: ConfigData): string {
  return `${JSON.stringify(sortKeys(data))}\n`;
}

export function readConfigFile(file: string): ConfigData {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ConfigurationError(`Cluster configuration ${file} not found: this node is not part of a cluster`);
    throw err;
  }
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

export function writeConfigFileSync(file: string, data: ConfigData): void {
  writeFileAtomicSync(file, serializeConfig(data), { mode: 0o640 });
}

/** The config.data sections that hold objects by uuid. */
export const SECTIONS = ['nodes', 'nodegroups', 'instances', 'networks', 'disks', 'filters'] as const;
export type Section = (typeof SECTIONS)[number];

/** One configuration change as a logical unit makes it (ConfigStore.update). */
export interface ConfigTx {
  readonly data: ConfigData;
  /** Record that an object (the cluster, a node, a group, …) changed: bumps its serial_no and mtime. */
  modified(obj: ConfigObject): void;
  /** Add a new object to a section (serial_no 1, ctime = mtime = now unless set). */
  add(section: Section, obj: ConfigObject): void;
  /** Remove an object from a section. */
  remove(section: Section, uuid: string): void;
}

export class ConfigStore {
  private writing: Promise<void> = Promise.resolve();

  private readonly file: string;
  data: ConfigData;

  constructor(file: string, data: ConfigData) {
    this.file = file;
    this.data = data;
  }

  static load(file: string): ConfigStore {
    return new ConfigStore(file, readConfigFile(file));
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
    return crypto.createHash('sha1').update(serializeConfig(this.data)).digest('hex');
  }

  masterCandidates(): NodeObject[] {
    return this.nodes().filter((n) => n.master_candidate);
  }

  /**
   * Apply a change and make it durable; changes are serialized in submission order.
   * The change mutates tx.data in place and names what it touched through tx; the
   * configuration's serial_no and mtime are bumped once per update.
   */
  async update<T>(change: (tx: ConfigTx) => T): Promise<T> {
    const run = async () => {
      const now = nowFloat();
      const data = this.data;
      const tx: ConfigTx = {
        data,
        modified(obj) {
          obj.serial_no = (obj.serial_no ?? 0) + 1;
          obj.mtime = now;
        },
        add(section, obj) {
          obj.serial_no ??= 1;
          obj.ctime ??= now;
          obj.mtime ??= now;
          (data[section] as Record<string, ConfigObject>)[obj.uuid] = obj;
        },
        remove(section, uuid) {
          delete (data[section] as Record<string, ConfigObject>)[uuid];
        },
      };
      const result = change(tx);
      data.serial_no += 1;
      data.mtime = now;
      await writeFileAtomic(this.file, serializeConfig(data), { mode: 0o640 });
      return result;
    };
    const p = this.writing.then(run);
    this.writing = p.then(() => undefined, () => undefined);
    return p;
  }
}
