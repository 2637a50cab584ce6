// ganeti-watcher: one maintenance run per invocation, from a timer every 5 minutes on
// every node (spec/surface.md §8.1). On each node it keeps noded running and runs the
// watcher hooks; on the master it also keeps masterd running, archives old jobs and
// watches every node group (group.ts). Quiet on success: what it does goes to
// var/log/ganeti/watcher.log, and to stderr as well with -d.
import type net from 'node:net';
import fs from 'node:fs';
import { EXIT_FAILURE, EXIT_NOTMASTER, EXIT_SUCCESS, LUXI_WFJC_TIMEOUT } from '../core/constants.ts';
import { readSsconf } from '../core/ssconf.ts';
import { JobQueueFull, NoMasterError, TimeoutError } from '../core/errors.ts';
import { acquirePidFile } from '../daemons/common.ts';
import { LuxiClient } from '../luxi/client.ts';
import { createDaemonLogger, type Logger } from '../util/log.ts';
import { nodeEnv, nodePaths, type NodePaths } from '../util/paths.ts';
import { ensureDaemon, startNodeDaemon } from './daemons.ts';
import { QueueDrained, UUID_RE, watchGroup, type GroupContext } from './group.ts';
import { runWatcherHooks } from './hooks.ts';
import { parseWatcherArgs, type WatcherOptions } from './options.ts';
import { watcherPaused } from './pause.ts';

const PROG = 'ganeti-watcher';

class NotMaster extends Error {}

/** Upstream's console format for -d: "<time>: ganeti-watcher pid=N LEVEL message". */
function stderrEcho() {
  const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARNING', 50: 'ERROR', 60: 'CRITICAL' };
  return {
    write(line: string): void {
      try {
        const rec = JSON.parse(line) as { time: number; level: number; msg?: string; err?: string };
        const d = new Date(rec.time);
        const p = (n: number, w = 2) => String(n).padStart(w, '0');
        const when = `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())},${p(d.getMilliseconds(), 3)}`;
        process.stderr.write(`${when}: ${PROG} pid=${process.pid} ${LEVELS[rec.level] ?? rec.level} ${rec.msg ?? ''}\n`);
      } catch {
        process.stderr.write(line);
      }
    },
  };
}

/**
 * The LUXI connection to this node's master daemon (upstream's GetLuxiClient). A node
 * that ssconf does not name as master is not the master (nor one in no cluster); on the
 * master, a daemon that does not answer is started once when `restart` is set.
 */
async function masterClient(paths: NodePaths, hostname: string, log: Logger, restart: boolean): Promise<LuxiClient> {
  const master = readSsconf(paths.ssconfFile('master_node'))?.[0];
  if (master === undefined) throw new NotMaster('Cluster not initialized or this machine is not part of a cluster');
  if (master !== hostname) throw new NotMaster(`This is not the master node, please connect to node ${master}`);
  try {
    return await LuxiClient.connect(paths.masterSocket);
  } catch (err) {
    if (!restart || !(err instanceof NoMasterError || err instanceof TimeoutError)) throw err;
    log.warn(`Luxi daemon seems to be down (${err.message}), trying to restart`);
    if (!(await startNodeDaemon('masterd', log))) throw new Error("Can't start the master daemon", { cause: err });
    return LuxiClient.connect(paths.masterSocket);
  }
}

/** The master daemon must agree that this node is the master (upstream's _CheckMaster). */
async function checkMaster(client: LuxiClient, hostname: string): Promise<void> {
  const [master] = (await client.call('QueryConfigValues', [['master_node']])) as [string];
  if (master !== hostname) throw new NotMaster('This is not the master node');
}

/** Group UUIDs from ssconf (upstream's _LoadKnownGroups). */
function knownGroups(paths: NodePaths): string[] {
  const groups = (readSsconf(paths.ssconfFile('nodegroups')) ?? []).map((line) => line.trim().split(/\s+/)[0]).filter(Boolean);
  if (!groups.every((g) => UUID_RE.test(g))) throw new Error('Ssconf contains invalid group UUID');
  return groups;
}

/** The run on every node, then on the master the cluster-wide part and every group. */
async function globalWatcher(opts: WatcherOptions, paths: NodePaths, hostname: string, log: Logger): Promise<number> {
  // Only a cluster's node: a machine that merely has the program installed must not
  // start listening for a master (noded there hands out a join token).
  if (readSsconf(paths.ssconfFile('master_node')) !== null) await ensureDaemon(paths, 'noded', log);
  await runWatcherHooks(paths, log);

  let client: LuxiClient;
  try {
    client = await masterClient(paths, hostname, log, true);
  } catch (err) {
    if (!(err instanceof NotMaster)) throw err;
    log.debug(`Not on master node (${err.message}), exiting`);
    return EXIT_SUCCESS;
  }
  try {
    // There is no remote API daemon in this version, so there is none to keep running
    // or probe at --rapi-ip.
    await checkMaster(client, hostname);
    const [archived, left] = (await client.call('AutoArchiveJobs', [opts.jobAge, LUXI_WFJC_TIMEOUT])) as [number, number];
    log.debug(`Archived ${archived} jobs, left ${left}`);
    if (archived > 0) log.info(`Archived ${archived} jobs older than ${opts.jobAge} seconds`);

    // Upstream forks one child per group; here the groups run one after the other in
    // this process, so every run waits for all of them (--wait-children or not).
    const groups = (await client.call('Query', ['group', ['name', 'uuid'], null])) as { data: Array<Array<[number, unknown]>> };
    const ctx: GroupContext = { client, paths, log, knownGroups: knownGroups(paths) };
    let failed = false;
    for (const [[, name], [, uuid]] of groups.data) {
      log.debug(`Watching group '${String(name)}' (${String(uuid)})`);
      try {
        await watchGroup(ctx, String(uuid));
      } catch (err) {
        if (err instanceof QueueDrained) throw err;
        failed = true;
        log.error({ err: (err as Error).message }, `Watcher for node group '${String(uuid)}' failed: ${(err as Error).message}`);
      }
    }
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
  } finally {
    client.close();
  }
}

/** --node-group: one group only (upstream's child process mode). */
async function singleGroupWatcher(opts: WatcherOptions, paths: NodePaths, hostname: string, log: Logger): Promise<number> {
  const uuid = opts.nodeGroup!.toLowerCase();
  if (!UUID_RE.test(uuid)) throw new Error(`Node group parameter (--node-group) must be given a UUID, got '${uuid}'`);
  log.info(`Watcher for node group '${uuid}'`);
  const known = knownGroups(paths);
  if (!known.includes(uuid)) throw new Error(`Node group '${uuid}' is not known by ssconf`);
  const client = await masterClient(paths, hostname, log, false);
  try {
    await checkMaster(client, hostname);
    await watchGroup({ client, paths, log, knownGroups: known }, uuid);
    return EXIT_SUCCESS;
  } finally {
    client.close();
  }
}

export async function main(argv: string[]): Promise<number> {
  const parsed = parseWatcherArgs(argv);
  if ('exitCode' in parsed) return parsed.exitCode;
  const opts = parsed.options;
  const env = nodeEnv();
  const paths = nodePaths(env.root);
  const logger = createDaemonLogger(PROG, paths.logFile('watcher'), { debug: opts.debug, echo: opts.debug ? stderrEcho() : undefined });
  const log = logger.log;
  if (!opts.ignorePause && watcherPaused(paths.watcherPause, log)) {
    log.debug('Pause has been set, exiting');
    return EXIT_SUCCESS;
  }
  // One watcher at a time per node: the lock is the kernel's, released even on kill -9.
  let lock: net.Server;
  try {
    lock = await acquirePidFile(paths.pidFile(PROG), PROG);
  } catch (err) {
    log.error(`Can't acquire lock on ${paths.pidFile(PROG)}: ${(err as Error).message}`);
    return EXIT_SUCCESS;
  }
  try {
    return opts.nodeGroup === null
      ? await globalWatcher(opts, paths, env.hostname, log)
      : await singleGroupWatcher(opts, paths, env.hostname, log);
  } catch (err) {
    if (err instanceof NotMaster) {
      log.debug('Not master, exiting');
      return EXIT_NOTMASTER;
    }
    if (err instanceof QueueDrained) {
      log.error(err.message);
      return EXIT_SUCCESS;
    }
    if (err instanceof JobQueueFull) {
      log.error("Job queue is full, can't query cluster state");
      return EXIT_SUCCESS;
    }
    log.error({ err: (err as Error).stack }, (err as Error).message);
    return EXIT_FAILURE;
  } finally {
    fs.rmSync(paths.pidFile(PROG), { force: true });
    lock.close();
    logger.flush();
  }
}
