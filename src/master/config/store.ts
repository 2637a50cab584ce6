// The configuration as the master holds it: loaded once, kept in memory as the
// authority, written back atomically with a bumped serial number on every change.
import fs from 'node:fs';
import { CONFIG_VERSION } from '../../core/constants.ts';
import { ConfigurationError, ConfigVersionMismatch } from '../../core/errors.ts';
import { parseJson, sortKeys } from '../../core/json.ts';
import { writeFileAtomic, writeFileAtomicSync } from '../../util/fs.ts';
import { nowFloat, type ConfigData, type NodeObject } from './model.ts';

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

  masterNode(): NodeObject {
    const m = this.data.nodes[this.data.cluster.master_node];
    if (!m) throw new ConfigurationError(`Master node ${this.data.cluster.master_node} is not in the configuration`);
    return m;
  }

  masterCandidates(): NodeObject[] {
    return this.nodes().filter((n) => n.master_candidate);
  }

  /** Apply a change and write it durably; changes are serialized in submission order. */
  async update(change: (data: ConfigData) => void): Promise<void> {
    const run = async () => {
      change(this.data);
      this.data.serial_no += 1;
      this.data.mtime = nowFloat();
      await writeFileAtomic(this.file, serializeConfig(this.data), { mode: 0o640 });
    };
    const p = this.writing.then(run);
    this.writing = p.catch(() => undefined);
    return p;
  }
}
