// Replication from the master: configuration changes and job-queue files to the other
// master candidates, ssconf to every online node, and the seeding of a node that just
// became a candidate. Each candidate has one ordered channel (a configuration lane and a
// queue lane), so it never sees an older state after a newer one; a candidate that missed
// a change gets the whole configuration next time. Failures are logged and never block the master (upstream's behaviour: the
// write is not rolled back; `gnt-cluster verify` reports differing copies).
import fs from 'node:fs';
import path from 'node:path';
import { encodeBlob, type RpcClient, type RpcResult, type RpcTarget } from '../rpc/client.ts';
import { sealKey } from '../rpc/join.ts';
import { deriveNodeKey } from '../rpc/auth.ts';
import type { ConfigDelta } from '../core/config-journal.ts';
import type { Logger } from '../util/log.ts';
import type { NodePaths } from '../util/paths.ts';
import type { ConfigStore } from './config/store.ts';
import type { NodeObject } from './config/model.ts';
import { niceSort, ssconfValues } from './config/ssconf.ts';
import type { StoreChange } from './jobs/store.ts';
import { rpcTarget } from './cmdlib/base.ts';

/** Configuration and queue work are ordered each in its own lane, so a change need not wait for job files. */
type Lane = 'config' | 'queue' | 'both';

const HEAL_INTERVAL_MS = 5000;

interface Channel {
  /** The work sent to this candidate so far, in order, per lane. */
  config: Promise<void>;
  queue: Promise<void>;
  /** It missed a configuration change (or this master just started): send it the whole configuration. */
  needsFullConfig: boolean;
}

export class Replicator {
  private readonly channels = new Map<string, Channel>();
  private lastSsconf: string | null = null;
  private readonly config: ConfigStore;
  private readonly rpc: RpcClient;
  private readonly paths: NodePaths;
  private readonly hostname: string;
  private readonly log: Logger;
  private readonly clusterSecret: () => Uint8Array;

  constructor(opts: { config: ConfigStore; rpc: RpcClient; paths: NodePaths; hostname: string; log: Logger; clusterSecret: () => Uint8Array }) {
    this.config = opts.config;
    this.rpc = opts.rpc;
    this.paths = opts.paths;
    this.hostname = opts.hostname;
    this.log = opts.log;
    this.clusterSecret = opts.clusterSecret;
  }

  private healTimer: NodeJS.Timeout | null = null;
  private healing = false;

  /**
   * Catch up, every HEAL_INTERVAL_MS, the nodes that missed something: a candidate that
   * needs the whole configuration (it was down, or this master just started) and ssconf
   * that did not reach every node. That is also how an old master that comes back learns
   * that it no longer is one, without waiting for the next change.
   */
  start(): void {
    this.healTimer = setInterval(() => void this.heal(), HEAL_INTERVAL_MS);
    this.healTimer.unref();
  }

  stop(): void {
    if (this.healTimer) clearInterval(this.healTimer);
    this.healTimer = null;
  }

  private async heal(): Promise<void> {
    if (this.healing) return;
    this.healing = true;
    try {
      const behind = this.candidates().filter((t) => this.channel(t.name).needsFullConfig);
      await Promise.all(behind.map((t) => this.send(t, 'config', 'configuration resync', async (c) => {
        if (!c.needsFullConfig) return;
        c.needsFullConfig = !(await this.uploadConfig(t)).ok;
      })));
      if (this.lastSsconf === null) await this.distributeSsconf(true);
    } finally {
      this.healing = false;
    }
  }

  /** The other master candidates, which hold replicas of the queue and configuration. */
  candidates(): RpcTarget[] {
    return this.config.masterCandidates().filter((n) => n.name !== this.hostname && !n.offline).map(rpcTarget);
  }

  private channel(name: string): Channel {
    let c = this.channels.get(name);
    if (!c) {
      // A candidate's replica is trusted only after one whole upload from this master: it
      // may come from another master (failover) or have missed changes while this one was down.
      c = { config: Promise.resolve(), queue: Promise.resolve(), needsFullConfig: true };
      this.channels.set(name, c);
    }
    return c;
  }

  /** Queue work for one candidate after everything sent to it before in its lane (both: after all of it). */
  private send(target: RpcTarget, lane: Lane, what: string, work: (c: Channel) => Promise<void>): Promise<void> {
    const c = this.channel(target.name);
    const before = lane === 'both' ? Promise.all([c.config, c.queue]) : c[lane];
    const next = before.then(() => work(c)).catch((err) => this.log.error({ node: target.name, err: String(err) }, `${what} failed`));
    if (lane !== 'queue') c.config = next;
    if (lane !== 'config') c.queue = next;
    return next;
  }

  private warnFailed(results: Iterable<RpcResult>, what: string): Array<{ node: string; error: string }> {
    const failed: Array<{ node: string; error: string }> = [];
    for (const r of results) {
      if (r.ok) continue;
      this.log.warn({ node: r.node, err: r.error }, `${what} failed`);
      failed.push({ node: r.node, error: r.error });
    }
    return failed;
  }

  /** The virtual path (relative to the cluster root, upstream's virtual-cluster form) of a local file. */
  private virtualPath(file: string): string {
    return `/${path.relative(this.paths.root, file)}`;
  }

  private async uploadConfig(target: RpcTarget): Promise<RpcResult> {
    const text = await this.config.durableText();
    return this.rpc.call(target, 'upload_file_single', [this.virtualPath(this.paths.configFile), encodeBlob(text), 0o640, null, null, null, null]);
  }

  /** After each committed configuration change: the candidates, then ssconf where it changed. */
  async configChanged(delta: ConfigDelta): Promise<void> {
    await Promise.all(this.candidates().map((t) => this.send(t, 'config', 'configuration replication', async (c) => {
      if (!c.needsFullConfig) {
        const r = await this.rpc.call(t, 'config_update', [delta]);
        if (r.ok && r.payload === true) return;
        if (!r.ok) this.log.warn({ node: t.name, err: r.error }, 'configuration replication failed');
      }
      const full = await this.uploadConfig(t);
      c.needsFullConfig = !full.ok;
      if (!full.ok) this.log.warn({ node: t.name, err: full.error }, 'configuration upload failed');
    })));
    if (this.ssconfMayChange(delta)) await this.distributeSsconf(false);
  }

  /** Instance names by uuid and their sorted list as ssconf last saw them (null: to be rebuilt). */
  private instanceNames = new Map<string, string>();
  private instanceList: string[] | null = null;

  /**
   * Whether a change can touch ssconf. Cheap, so that a 10,000-instance ssconf is not
   * rebuilt for a change that leaves it alone; the instance list is rebuilt only when an
   * instance is added, removed or renamed.
   */
  private ssconfMayChange(delta: ConfigDelta): boolean {
    let changed = Boolean(delta.cluster);
    for (const [section, obj] of delta.set ?? []) {
      if (section === 'instances') {
        if (this.instanceNames.get(obj.uuid) !== obj.name) this.instanceList = null;
      } else if (section !== 'disks') {
        changed = true;
      }
    }
    for (const [section] of delta.del ?? []) {
      if (section === 'instances') this.instanceList = null;
      else if (section !== 'disks') changed = true;
    }
    return changed || this.instanceList === null;
  }

  /** ssconf to every online node: always when forced, else only when the values changed. */
  async distributeSsconf(force: boolean): Promise<Array<{ node: string; error: string }>> {
    const rebuilt = this.instanceList === null;
    if (rebuilt) {
      const instances = Object.values(this.config.data.instances);
      this.instanceNames = new Map(instances.map((i) => [i.uuid, i.name]));
      this.instanceList = niceSort(instances.map((i) => i.name));
    }
    const values = ssconfValues(this.config.data, this.instanceList!);
    // Compared without the instance list, which changed exactly when it was rebuilt.
    const text = JSON.stringify({ ...values, instance_list: null });
    if (!force && !rebuilt && text === this.lastSsconf) return [];
    this.lastSsconf = text;
    const targets = this.config.nodes().filter((n) => !n.offline).map(rpcTarget);
    const failed = this.warnFailed((await this.rpc.callMany(targets, 'write_ssconf_files', [values])).values(), 'writing the ssconf files');
    // A node that missed them gets them with the next change.
    if (failed.length > 0) this.lastSsconf = null;
    return failed;
  }

  /**
   * The remote API's certificate and users file, for a candidate to serve RAPI once it is
   * the master. Upstream ships them to every node; here only to the candidates, the nodes
   * that can become master and already hold the cluster key.
   */
  private uploadRapiFiles(target: RpcTarget): Promise<RpcResult[]> {
    const files = [this.paths.rapiCert, this.paths.rapiUsers].filter((f) => fs.existsSync(f));
    return Promise.all(files.map((f) => this.rpc.call(target, 'upload_file_single',
      [this.virtualPath(f), encodeBlob(fs.readFileSync(f, 'utf8')), 0o600, null, null, null, null])));
  }

  /** gnt-cluster redist-conf: the whole configuration and the RAPI files to every candidate, ssconf to every node. */
  async redistribute(): Promise<Array<{ node: string; error: string }>> {
    const failed: Array<{ node: string; error: string }> = [];
    await Promise.all(this.candidates().map((t) => this.send(t, 'config', 'configuration upload', async (c) => {
      const r = await this.uploadConfig(t);
      c.needsFullConfig = !r.ok;
      if (!r.ok) failed.push({ node: t.name, error: r.error });
      for (const f of await this.uploadRapiFiles(t)) if (!f.ok) failed.push({ node: t.name, error: f.error });
    })));
    return [...failed, ...(await this.distributeSsconf(true))];
  }

  /**
   * A node that became a master candidate: the cluster key (sealed under its node key),
   * the configuration, and the job queue (serial, job files, drain flag). Throws when the
   * node could not take it: the caller reports it.
   */
  async seed(node: NodeObject): Promise<void> {
    const target = rpcTarget(node);
    if (target.offline) return;
    let error: string | null = null;
    await this.send(target, 'both', 'candidate seeding', async (c) => {
      const secret = this.clusterSecret();
      const steps: Array<() => Promise<RpcResult>> = [
        () => this.rpc.call(target, 'set_cluster_key', [sealKey(secret, deriveNodeKey(secret, node.name))]),
        () => this.uploadConfig(target),
        ...this.queueFiles().map((file) => () => this.rpc.call(target, 'jobqueue_update', [this.virtualPath(file), encodeBlob(fs.readFileSync(file, 'utf8'))])),
        () => this.rpc.call(target, 'jobqueue_set_drain_flag', [fs.existsSync(this.paths.queueDrain)]),
      ];
      for (const step of steps) {
        const r = await step();
        if (!r.ok) {
          error = r.error;
          c.needsFullConfig = true;
          return;
        }
      }
      c.needsFullConfig = false;
      // Without them the node is still a good candidate, only not yet one that can serve RAPI.
      this.warnFailed(await this.uploadRapiFiles(target), 'sending the RAPI certificate and users');
    });
    if (error !== null) throw new Error(`Could not make ${node.name} a master candidate: ${error}`);
  }

  /** The live queue files a candidate holds (the archive stays where it is, as upstream). */
  private queueFiles(): string[] {
    const names = fs.readdirSync(this.paths.queueDir).filter((n) => n === 'serial' || n === 'version' || /^job-\d+$/.test(n));
    return names.map((n) => path.join(this.paths.queueDir, n));
  }

  /** A node that is no longer a candidate gives up the cluster key and the configuration. */
  async demote(node: NodeObject): Promise<void> {
    const target = rpcTarget(node);
    if (target.offline) return;
    await this.send(target, 'both', 'candidate demotion', async () => {
      const r = await this.rpc.call(target, 'node_demote_from_mc', []);
      if (!r.ok) this.log.warn({ node: node.name, err: r.error }, 'could not demote the node (it keeps a stale replica until verify reports it)');
    });
    this.channels.delete(node.name);
  }

  /** The drain flag on the other candidates (it survives a failover). */
  async drainFlag(flag: boolean): Promise<void> {
    await Promise.all(this.candidates().map((t) => this.send(t, 'queue', 'drain flag replication', async () => {
      const r = await this.rpc.call(t, 'jobqueue_set_drain_flag', [flag]);
      if (!r.ok) this.log.warn({ node: t.name, err: r.error }, 'could not set the drain flag');
    })));
  }

  /** Job-queue writes and archive moves, mirrored on the other candidates; resolves when every candidate answered. */
  queueChanged(changes: StoreChange[]): Promise<void> {
    const targets = this.candidates();
    // No other candidate (a one-node cluster): nothing to encode or send.
    if (targets.length === 0) return Promise.resolve();
    const queuePath = (name: string) => this.virtualPath(path.join(this.paths.queueDir, name));
    const updates = changes.filter((c) => c.text !== null).map((c) => [queuePath(c.name), encodeBlob(c.text!)]);
    const renames = changes.filter((c) => c.archiveTo !== null).map((c) => [queuePath(c.name), queuePath(c.archiveTo!)]);
    return Promise.all(targets.map((target) =>
      this.send(target, 'queue', 'job queue replication', async () => {
        // Contents first, then the archive moves that may concern the same files.
        const results = await Promise.all(updates.map((args) => this.rpc.call(target, 'jobqueue_update', args)));
        for (let i = 0; i < renames.length; i += 10) results.push(await this.rpc.call(target, 'jobqueue_rename', [renames.slice(i, i + 10)]));
        this.warnFailed(results, 'job queue replication');
      }))).then(() => undefined);
  }
}
