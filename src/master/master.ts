// The master daemon's state and lifecycle: configuration, job queue, executor, node
// RPC client and LUXI server, wired together.
import fs from 'node:fs';
import path from 'node:path';
import { EXIT_NOTCLUSTER, EXIT_NOTMASTER } from '../core/constants.ts';
import { RpcClient, encodeBlob } from '../rpc/client.ts';
import { loadKey } from '../rpc/auth.ts';
import type { Logger } from '../util/log.ts';
import type { NodePaths } from '../util/paths.ts';
import { ConfigStore } from './config/store.ts';
import { ssconfValues } from './config/ssconf.ts';
import { JobQueue } from './jobs/queue.ts';
import { JobExecutor } from './jobs/executor.ts';
import { LuxiServer } from './luxi/server.ts';
import { luxiMethods } from './luxi/methods.ts';
import { rpcTarget } from './cmdlib/base.ts';

export class StartupError extends Error {
  readonly exitCode: number;

  constructor(message: string, exitCode: number) {
    super(message);
    this.exitCode = exitCode;
  }
}

export class Master {
  readonly config: ConfigStore;
  readonly queue: JobQueue;
  readonly rpc: RpcClient;
  readonly executor: JobExecutor;
  private luxi: LuxiServer | null = null;
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
    this.executor = new JobExecutor(this.queue, this.config, this.rpc, log, () => this.config.cluster.max_running_jobs);
    this.queue.store.onFlushed = (files) => this.replicateQueueFiles(files);
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

  /** Push the ssconf files to every online node (the master's own noded included). */
  async distributeSsconf(): Promise<void> {
    const values = ssconfValues(this.config.data);
    const targets = this.config.nodes().filter((n) => !n.offline).map(rpcTarget);
    const results = await this.rpc.callMany(targets, 'write_ssconf_files', [values]);
    for (const r of results.values()) if (!r.ok) this.log.warn({ node: r.node, err: r.error }, 'could not write ssconf files');
  }

  /** Copy job-queue files to the other master candidates (they may become master). */
  private replicateQueueFiles(files: Array<[string, string]>): void {
    const targets = this.config.masterCandidates().filter((n) => n.name !== this.hostname && !n.offline).map(rpcTarget);
    if (targets.length === 0) return;
    for (const [name, text] of files) {
      const virtual = `/${path.relative(this.paths.root, path.join(this.paths.queueDir, name))}`;
      void this.rpc.callMany(targets, 'jobqueue_update', [virtual, encodeBlob(text)]).then((res) => {
        for (const r of res.values()) if (!r.ok) this.log.warn({ node: r.node, file: name, err: r.error }, 'job queue replication failed');
      });
    }
  }
}

export function masterIsConfigured(paths: NodePaths): boolean {
  return fs.existsSync(paths.configFile);
}
