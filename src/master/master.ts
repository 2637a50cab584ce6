// The master daemon's state and lifecycle: configuration, job queue, executor, node
// RPC client and LUXI server, wired together.
import path from 'node:path';
import { EXIT_NOTCLUSTER, EXIT_NOTMASTER } from '../core/constants.ts';
import { RpcClient, encodeBlob, type RpcResult, type RpcTarget } from '../rpc/client.ts';
import { loadKey } from '../rpc/auth.ts';
import type { Logger } from '../util/log.ts';
import type { NodePaths } from '../util/paths.ts';
import { ConfigStore } from './config/store.ts';
import { ssconfValues } from './config/ssconf.ts';
import { JobQueue } from './jobs/queue.ts';
import type { StoreChange } from './jobs/store.ts';
import { JobExecutor } from './jobs/executor.ts';
import { LockManager, type Level } from './locking/manager.ts';
import { LuxiServer } from './luxi/server.ts';
import { luxiMethods } from './luxi/methods.ts';
import { rpcTarget, type MasterServices } from './cmdlib/base.ts';
import type { NodeObject } from './config/model.ts';
import type { OpInput } from '../core/opcodes.ts';

export class StartupError extends Error {
  readonly exitCode: number;

  constructor(message: string, exitCode: number) {
    super(message);
    this.exitCode = exitCode;
  }
}

export class Master implements MasterServices {
  readonly config: ConfigStore;
  readonly queue: JobQueue;
  readonly rpc: RpcClient;
  readonly executor: JobExecutor;
  readonly locks: LockManager;
  private luxi: LuxiServer | null = null;
  private replication = new Map<string, Promise<void>>();
  private secretKey: Uint8Array | null = null;

  readonly paths: NodePaths;
  readonly hostname: string;

  readonly log: Logger;

  constructor(paths: NodePaths, hostname: string, log: Logger) {
    this.paths = paths;
    this.hostname = hostname;

    this.log = log;
    try {
      this.config = ConfigStore.load(paths.configFile);
    } catch (err) {
      throw new StartupError(`${(err as Error).message}`, EXIT_NOTCLUSTER);
    }
    const masterName = this.config.masterNode().name;
    if (masterName !== hostname) {
      throw new StartupError(`This node (${hostname}) is not the master node according to its configuration (the master is ${masterName})`, EXIT_NOTMASTER);
    }
    this.rpc = new RpcClient(() => {
      this.secretKey ??= loadKey(paths.clusterKey, 'cluster key');
      return this.secretKey;
    });
    this.queue = new JobQueue(paths, log);
    this.locks = new LockManager((level) => this.lockNames(level));
    this.executor = new JobExecutor(this.queue, this.config, this.rpc, this.locks, log, () => this.config.cluster.max_running_jobs, this);
    this.queue.store.onFlushed = (files) => this.replicateQueueFiles(files);
  }

  /** The current members of each lock level. */
  private lockNames(level: Level): string[] {
    const d = this.config.data;
    switch (level) {
      case 'cluster': return ['BGL'];
      case 'node-alloc': return ['NAL'];
      case 'node':
      case 'node-res': return Object.keys(d.nodes);
      case 'nodegroup': return Object.keys(d.nodegroups);
      case 'instance': return Object.keys(d.instances);
      case 'network': return Object.keys(d.networks);
    }
  }

  get socketPaths(): string[] {
    return [this.paths.masterSocket, this.paths.querySocket];
  }

  async start(): Promise<void> {
    const runnable = this.queue.open();
    this.luxi = new LuxiServer(luxiMethods(this), this.log);
    await this.luxi.listen(this.socketPaths);
    for (const job of runnable) this.executor.enqueue(job);
    void this.distributeSsconf();
    this.log.info({ cluster: this.config.cluster.cluster_name }, 'master daemon started');
  }

  /** Stop taking jobs, let running ones finish, then close. */
  async shutdown(): Promise<void> {
    this.queue.stopAccepting();
    this.executor.stop();
    await this.executor.whenIdle();
    await this.queue.store.drain();
    await this.luxi?.close(this.socketPaths);
    this.rpc.close();
    this.log.info('Clean master daemon shutdown');
  }

  async submitJobs(jobs: OpInput[][]): Promise<Array<[boolean, number | string]>> {
    return (await this.queue.submit(jobs, { ignoreDrain: false })).map(([ok, v]) => (ok ? [true, v as number] : [false, (v as Error).message]));
  }

  async seedCandidate(_node: NodeObject): Promise<void> {
    throw new Error('not yet');
  }

  async demoteCandidate(_node: NodeObject): Promise<void> {
    throw new Error('not yet');
  }

  async redistributeConfig(): Promise<Array<{ node: string; error: string }>> {
    throw new Error('not yet');
  }

  /** Call every online node; failures are logged, and returned for the caller to report. */
  async callOnlineNodes(proc: 'set_watcher_pause', args: unknown[]): Promise<RpcResult[]> {
    const targets = this.config.nodes().filter((n) => !n.offline).map(rpcTarget);
    const results = [...(await this.rpc.callMany(targets, proc, args)).values()];
    for (const r of results) if (!r.ok) this.log.warn({ node: r.node, proc, err: r.error }, 'RPC failed');
    return results;
  }

  /** Push the ssconf files to every online node (the master's own noded included). */
  async distributeSsconf(): Promise<void> {
    const values = ssconfValues(this.config.data);
    const targets = this.config.nodes().filter((n) => !n.offline).map(rpcTarget);
    const results = await this.rpc.callMany(targets, 'write_ssconf_files', [values]);
    for (const r of results.values()) if (!r.ok) this.log.warn({ node: r.node, err: r.error }, 'could not write ssconf files');
  }

  /** The other master candidates, which hold replicas of the queue and configuration. */
  replicaTargets(): RpcTarget[] {
    return this.config.masterCandidates().filter((n) => n.name !== this.hostname && !n.offline).map(rpcTarget);
  }

  /** A queue path as the nodes see it (relative to the cluster root, upstream's virtual path). */
  virtualQueuePath(name: string): string {
    return `/${path.relative(this.paths.root, path.join(this.paths.queueDir, name))}`;
  }

  /** The drain flag on the other master candidates (it survives a failover). */
  async replicateDrainFlag(flag: boolean): Promise<void> {
    const results = await this.rpc.callMany(this.replicaTargets(), 'jobqueue_set_drain_flag', [flag]);
    for (const r of results.values()) if (!r.ok) this.log.warn({ node: r.node, err: r.error }, 'could not set the drain flag');
  }

  /** Mirror job-queue writes and archive moves on the other master candidates. */
  private replicateQueueFiles(changes: StoreChange[]): void {
    const targets = this.replicaTargets();
    if (targets.length === 0) return;
    const updates = changes.filter((c) => c.text !== null).map((c) => [this.virtualQueuePath(c.name), encodeBlob(c.text!)]);
    const renames = changes.filter((c) => c.archiveTo !== null).map((c) => [this.virtualQueuePath(c.name), this.virtualQueuePath(c.archiveTo!)]);
    for (const target of targets) {
      // Batches reach each candidate in order, so an older state never overwrites a newer one.
      const previous = this.replication.get(target.name) ?? Promise.resolve();
      const next = previous.then(async () => {
        // Contents first, then the archive moves that may concern the same files.
        const results = await Promise.all(updates.map((args) => this.rpc.call(target, 'jobqueue_update', args)));
        for (let i = 0; i < renames.length; i += 10) results.push(await this.rpc.call(target, 'jobqueue_rename', [renames.slice(i, i + 10)]));
        for (const r of results) if (!r.ok) this.log.warn({ node: r.node, err: r.error }, 'job queue replication failed');
      }).catch((err) => this.log.error({ node: target.name, err: String(err) }, 'job queue replication failed'));
      this.replication.set(target.name, next);
    }
  }
}
