// The master role as a node sees it: its vote on who the master is (from its own copy of
// the configuration, or ssconf on a node without one), and starting or stopping the
// master daemon here (master failover, spec/core.md §5).
import { loadConfig } from '../core/config-journal.ts';
import { readSsconf } from '../core/ssconf.ts';
import { startDaemon, stopDaemon } from '../daemons/control.ts';
import { releaseReplica } from './config-replica.ts';
import { RpcFail, type Handler, type NodeContext } from './context.ts';

export interface MasterVote {
  /** The master this node believes in; null when it knows of none. */
  master: string | null;
  /** The serial number of this node's configuration; null without one (not a candidate). */
  serial: number | null;
}

/** This node's vote: a candidate answers from its configuration, any other node from ssconf. */
export function masterVote(ctx: NodeContext): MasterVote {
  try {
    const data = loadConfig(ctx.paths.configFile);
    return { master: data.nodes[data.cluster.master_node]?.name ?? null, serial: data.serial_no };
  } catch {
    return { master: readSsconf(ctx.paths.ssconfFile('master_node'))?.[0] ?? null, serial: null };
  }
}

export const MASTER_ROLE = {
  // upstream's 3.x procedure: the name only.
  master_node_name: (ctx) => masterVote(ctx).master,

  master_vote: (ctx) => masterVote(ctx),

  node_stop_master: async (ctx) => {
    // The remote API goes with the master daemon (upstream's daemon-util stop-master).
    await stopDaemon(ctx.paths, 'ganeti-rapi');
    await stopDaemon(ctx.paths, 'ganeti-masterd');
    return null;
  },

  node_start_master_daemons: async (ctx, args) => {
    // This node is about to own config.data: its replica must not write it any more.
    await releaseReplica(ctx);
    const r = await startDaemon('masterd', args[0] === true ? ['--no-voting', '--yes-do-it'] : []);
    if (r.code !== 0) throw new RpcFail(`Starting the master daemon failed (exit code ${r.code}): ${r.stderr.trim()}`);
    // The remote API follows the master; the master works without it, so its failure is only logged.
    const rapi = await startDaemon('rapi');
    if (rapi.code !== 0) ctx.log.warn({ code: rapi.code, err: rapi.stderr.trim() }, 'could not start ganeti-rapi');
    return null;
  },

  node_release_config: async (ctx) => {
    await releaseReplica(ctx);
    return null;
  },
} satisfies Record<string, Handler>;
