// The master daemon's state and lifecycle: configuration, job queue, executor, node
// RPC client and LUXI server, wired together.
import { EXIT_NODESETUP_ERROR, EXIT_NOTCLUSTER, EXIT_NOTMASTER } from '../core/constants.ts';
import { readSsconf } from '../core/ssconf.ts';
import { RpcClient, type RpcResult } from '../rpc/client.ts';
import { loadKey } from '../rpc/auth.ts';
import { clusterTransport, type RpcTransport } from '../rpc/transport.ts';
import type { Logger } from '../util/log.ts';
import type { NodePaths } from '../util/paths.ts';
import { ConfigStore, type Section } from './config/store.ts';
import { JobQueue } from './jobs/queue.ts';
import { JobExecutor } from './jobs/executor.ts';
import { LockManager, type Level } from './locking/manager.ts';
import { LuxiServer } from './luxi/server.ts';
import { luxiMethods } from './luxi/methods.ts';
import { rpcTarget, type MasterServices } from './cmdlib/base.ts';
import { Replicator } from './replication.ts';
import { verifyMasterVotes, votingTimeoutMs } from './failover/voting.ts';
import { masterIpParams } from './failover/master-ip.ts';
import type { NodeObject } from './config/model.ts';
import type { OpInput } from '../core/opcodes.ts';

const BGL = ['BGL'];
const NAL = ['NAL'];
/** The configuration section whose objects are the locks of a level. */
const LEVEL_SECTIONS: Record<Exclude<Level, 'cluster' | 'node-alloc'>, Section> = {
  node: 'nodes', 'node-res': 'nodes', nodegroup: 'nodegroups', instance: 'instances', network: 'networks',
};

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
  private readonly replicator: Replicator;
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
    // A master without its cluster key or ssconf is a node whose set-up is incomplete.
    try {
      this.clusterSecret();
    } catch (err) {
      throw new StartupError(`Node set-up error: cannot read the cluster key: ${(err as Error).message}`, EXIT_NODESETUP_ERROR);
    }
    // Nor can it talk to the nodes without the cluster certificate (or the --no-ssl marker).
    let transport: RpcTransport;
    try {
      transport = clusterTransport(paths);
    } catch (err) {
      throw new StartupError(`Node set-up error: ${(err as Error).message}`, EXIT_NODESETUP_ERROR);
    }
    if (readSsconf(paths.ssconfFile('master_node')) === null) {
      throw new StartupError(`Node set-up error: the ssconf files are missing (${paths.ssconfFile('master_node')}); gnt-cluster redist-conf or a re-init restores them`, EXIT_NODESETUP_ERROR);
    }
    this.rpc = new RpcClient(() => this.clusterSecret(), () => transport);
    this.queue = new JobQueue(paths, log);
    this.locks = new LockManager((level) => this.lockNames(level));
    this.executor = new JobExecutor(this.queue, this.config, this.rpc, this.locks, log, () => this.config.cluster.max_running_jobs, this);
    this.replicator = new Replicator({ config: this.config, rpc: this.rpc, paths, hostname, log, clusterSecret: () => this.clusterSecret() });
    this.queue.store.onFlushed = (files) => this.replicator.queueChanged(files);
    this.config.onCommit = (delta) => this.replicator.configChanged(delta);
  }

  private clusterSecret(): Uint8Array {
    this.secretKey ??= loadKey(this.paths.clusterKey, 'cluster key');
    return this.secretKey;
  }

  private lockNameCache = new Map<Level, { version: number; names: string[] }>();

  /**
   * The current members of each lock level: the same array while no object of the level
   * was added or removed, so that the lock manager sorts a 10,000-instance level once.
   */
  private lockNames(level: Level): string[] {
    if (level === 'cluster') return BGL;
    if (level === 'node-alloc') return NAL;
    const section = LEVEL_SECTIONS[level];
    const version = this.config.membershipVersion(section);
    const hit = this.lockNameCache.get(level);
    if (hit?.version === version) return hit.names;
    const names = Object.keys(this.config.data[section]);
    this.lockNameCache.set(level, { version, names });
    return names;
  }

  get socketPaths(): string[] {
    return [this.paths.masterSocket, this.paths.querySocket];
  }

  /**
   * Start: unless told not to, only with more than half of the nodes voting for this one
   * (spec/core.md §5), then the master IP, the queue and LUXI.
   */
  async start(opts: { voting: boolean } = { voting: true }): Promise<void> {
    if (opts.voting) await this.checkVotes();
    else this.log.warn('started without voting (--no-voting): the nodes were not asked who the master is');
    await this.activateMasterIp();
    const runnable = this.queue.open();
    this.luxi = new LuxiServer(luxiMethods(this), this.log);
    await this.luxi.listen(this.socketPaths);
    for (const job of runnable) this.executor.enqueue(job);
    void this.replicator.distributeSsconf(true);
    this.replicator.start();
    this.log.info({ cluster: this.config.cluster.cluster_name }, 'master daemon started');
  }

  private async checkVotes(): Promise<void> {
    const others = this.config.nodes().filter((n) => n.name !== this.hostname).map(rpcTarget);
    const verdict = await verifyMasterVotes({
      rpc: this.rpc,
      nodes: others,
      self: this.hostname,
      ownSerial: this.config.data.serial_no,
      timeoutMs: votingTimeoutMs(),
      onRetry: (reason) => this.log.warn({ reason }, 'master voting not decided yet, asking again'),
    });
    if (verdict.kind !== 'won') {
      throw new StartupError(`Not starting: this node is not confirmed as the master: ${verdict.reason}`, EXIT_NOTMASTER);
    }
    this.log.info({ votes: verdict.inFavor, nodes: verdict.voters }, 'the nodes agree that this node is the master');
  }

  /** The master IP up on this node (upstream's step at masterd start); a failure is logged, not fatal. */
  private async activateMasterIp(): Promise<void> {
    const r = await this.rpc.call(rpcTarget(this.config.masterNode()), 'node_activate_master_ip', [masterIpParams(this.config.data), Boolean(this.config.cluster.use_external_mip_script)]);
    if (!r.ok) this.log.error({ err: r.error }, 'could not activate the master IP');
  }

  /** Stop taking jobs, let running ones finish, then close. */
  async shutdown(): Promise<void> {
    this.replicator.stop();
    this.queue.stopAccepting();
    this.executor.stop();
    await this.executor.whenIdle();
    await this.queue.store.drain();
    await this.luxi?.close(this.socketPaths);
    await this.config.close();
    this.rpc.close();
    this.log.info('Clean master daemon shutdown');
  }

  async submitJobs(jobs: OpInput[][]): Promise<Array<[boolean, number | string]>> {
    return (await this.queue.submit(jobs, { ignoreDrain: false })).map(([ok, v]) => (ok ? [true, v as number] : [false, (v as Error).message]));
  }

  seedCandidate(node: NodeObject): Promise<void> {
    return this.replicator.seed(node);
  }

  demoteCandidate(node: NodeObject): Promise<void> {
    return this.replicator.demote(node);
  }

  redistributeConfig(): Promise<Array<{ node: string; error: string }>> {
    return this.replicator.redistribute();
  }

  /** Call every online node; failures are logged, and returned for the caller to report. */
  async callOnlineNodes(proc: 'set_watcher_pause', args: unknown[]): Promise<RpcResult[]> {
    const targets = this.config.nodes().filter((n) => !n.offline).map(rpcTarget);
    const results = [...(await this.rpc.callMany(targets, proc, args)).values()];
    for (const r of results) if (!r.ok) this.log.warn({ node: r.node, proc, err: r.error }, 'RPC failed');
    return results;
  }

  /** The drain flag on the other master candidates (it survives a failover). */
  replicateDrainFlag(flag: boolean): Promise<void> {
    return this.replicator.drainFlag(flag);
  }
}
