// gnt-cluster master-failover, run on the master candidate that takes over (upstream's
// bootstrap.MasterFailover). It needs no running master: it works from this node's own
// replica of the configuration and the cluster key every candidate holds.
//
// Safety: unless --no-voting, more than half of the nodes must answer, they must name
// the old master, and no reachable node may hold a newer configuration than this one
// (the new master hands over the newest configuration, never a stale one). The old
// master is stopped first where it answers (so it can change nothing more); then the new
// configuration (master_node = this node, serial + 1) is written here and sent to every
// reachable candidate, and ssconf to every node. From then on the nodes vote for this
// node, so the old master cannot start again.
import fs from 'node:fs';
import path from 'node:path';
import { ECODE, OpPrereqError } from '../../core/errors.ts';
import { DurableConfig, loadConfig, serializeConfig } from '../../core/config-journal.ts';
import { readSsconf } from '../../core/ssconf.ts';
import { loadKey } from '../../rpc/auth.ts';
import { encodeBlob, RpcClient, type RpcResult } from '../../rpc/client.ts';
import { clusterTransport, type RpcTransport } from '../../rpc/transport.ts';
import { startDaemon } from '../../daemons/control.ts';
import type { NodePaths } from '../../util/paths.ts';
import { nowFloat, type ConfigData } from '../config/model.ts';
import { ssconfValues } from '../config/ssconf.ts';
import { rpcTarget } from '../cmdlib/base.ts';
import { masterIpParams } from './master-ip.ts';
import { gatherVotes } from './voting.ts';

export interface FailoverOptions {
  noVoting: boolean;
  ignoreOfflineNodes: boolean;
  /** Progress and warnings, for stderr. */
  say(message: string): void;
}

function notACandidate(paths: NodePaths): OpPrereqError {
  const candidates = readSsconf(paths.ssconfFile('master_candidates')) ?? [];
  const master = readSsconf(paths.ssconfFile('master_node'))?.[0];
  return new OpPrereqError('This node is not among the nodes marked as master candidates. Only these nodes can become masters. ' +
    `Current list of master candidates is:\n${candidates.filter((c) => c !== master).join('\n')}`, ECODE.STATE);
}

/** The checks of a voting failover; throws what refuses it. */
async function checkVotes(rpc: RpcClient, data: ConfigData, self: string, oldMaster: string, ignoreOffline: boolean): Promise<void> {
  const others = Object.values(data.nodes).filter((n) => n.name !== self && !(ignoreOffline && n.offline));
  const ballots = await gatherVotes(rpc, others.map(rpcTarget));
  const answered = ballots.filter((b) => b.vote !== null);
  const voters = others.length + 1;
  if (2 * (answered.length + 1) <= voters) {
    const silent = ballots.filter((b) => b.vote === null).map((b) => b.node);
    throw new OpPrereqError(`Master failover with voting is only possible if the majority of nodes are still healthy: ` +
      `${answered.length + 1} of ${voters} nodes answer (no answer from ${silent.join(', ')}). Use --no-voting only after ` +
      'making sure by other means that the old master is down and stays down.', ECODE.ENVIRON);
  }
  const newer = answered.find((b) => b.vote!.serial !== null && b.vote!.serial > data.serial_no);
  if (newer) {
    throw new OpPrereqError(`Node ${newer.node} has a newer configuration (serial ${newer.vote!.serial}) than this node ` +
      `(serial ${data.serial_no}): this node would hand over a stale configuration. Fail over to ${newer.node}, ` +
      'or bring this node up to date first (gnt-cluster redist-conf on the master).', ECODE.STATE);
  }
  const tally = new Map<string, number>();
  for (const b of answered) tally.set(b.vote!.master ?? '(none)', (tally.get(b.vote!.master ?? '(none)') ?? 0) + 1);
  const [top] = [...tally.entries()].sort((a, b) => b[1] - a[1]);
  if (top && top[0] !== oldMaster) {
    throw new OpPrereqError(`I have a wrong configuration, I believe the master is ${oldMaster} but the other nodes voted ${top[0]}. ` +
      'Please resync the configuration of this node.', ECODE.STATE);
  }
}

/** Make this node the master. Returns the exit code (1 when a step after the takeover failed). */
export async function masterFailover(paths: NodePaths, self: string, opts: FailoverOptions): Promise<number> {
  let data: ConfigData;
  try {
    data = loadConfig(paths.configFile);
  } catch {
    throw notACandidate(paths);
  }
  const me = Object.values(data.nodes).find((n) => n.name === self);
  if (!me?.master_candidate) throw notACandidate(paths);
  const oldUuid = data.cluster.master_node;
  const oldMaster = data.nodes[oldUuid]?.name ?? oldUuid;
  if (oldUuid === me.uuid) {
    throw new OpPrereqError(`This commands must be run on the node where you want the new master to be. ${self} is already the master`, ECODE.INVAL);
  }
  let secret: Uint8Array;
  try {
    secret = loadKey(paths.clusterKey, 'cluster key');
  } catch (err) {
    throw new OpPrereqError(`This candidate has no cluster key: ${(err as Error).message}`, ECODE.STATE);
  }
  let transport: RpcTransport;
  try {
    transport = clusterTransport(paths);
  } catch (err) {
    throw new OpPrereqError(`This candidate cannot talk to the nodes: ${(err as Error).message}`, ECODE.STATE);
  }
  const rpc = new RpcClient(() => secret, () => transport);
  try {
    if (!opts.noVoting) await checkVotes(rpc, data, self, oldMaster, opts.ignoreOfflineNodes);
    let rc = 0;
    const warn = (what: string, r: RpcResult) => {
      if (r.ok) return;
      opts.say(`Warning: ${what} on node ${r.node}: ${r.error}`);
    };
    // The old master stops first (where it answers): once it is gone it can change
    // nothing more, and whatever it committed is in this node's replica.
    const old = data.nodes[oldUuid];
    if (old) {
      const target = rpcTarget(old);
      warn('could not stop the master daemon', await rpc.call(target, 'node_stop_master', []));
      warn('could not deactivate the master IP', await rpc.call(target, 'node_deactivate_master_ip', [masterIpParams(data, oldUuid), Boolean(data.cluster.use_external_mip_script)]));
    }
    // This node's noded must not write its replica over the configuration from now on.
    warn('could not release the configuration replica', await rpc.call(rpcTarget(me), 'node_release_config', []));
    data = loadConfig(paths.configFile);

    const now = nowFloat();
    data.cluster.master_node = me.uuid;
    data.cluster.serial_no += 1;
    data.cluster.mtime = now;
    data.serial_no += 1;
    data.mtime = now;
    const config = DurableConfig.load(paths.configFile);
    await config.replace(data);
    await config.close();
    opts.say(`Configuration updated: ${self} is the master (serial ${data.serial_no})`);

    const text = serializeConfig(data);
    const virtualConfig = `/${path.relative(paths.root, paths.configFile)}`;
    const candidates = Object.values(data.nodes).filter((n) => n.master_candidate && n.uuid !== me.uuid && !n.offline).map(rpcTarget);
    for (const r of (await rpc.callMany(candidates, 'upload_file_single', [virtualConfig, encodeBlob(text), 0o640, null, null, null, null])).values()) {
      warn('could not distribute the configuration', r);
    }
    const online = Object.values(data.nodes).filter((n) => !n.offline).map(rpcTarget);
    for (const r of (await rpc.callMany(online, 'write_ssconf_files', [ssconfValues(data)])).values()) warn('could not write the ssconf files', r);

    if (fs.existsSync(paths.queueDrain)) {
      opts.say('Undraining job queue');
      fs.rmSync(paths.queueDrain, { force: true });
    }
    opts.say(`Starting the master daemon on ${self}`);
    const started = await startDaemon('masterd', opts.noVoting ? ['--no-voting', '--yes-do-it'] : []);
    if (started.code !== 0) {
      opts.say(`Could not start the master daemon: ${started.stderr.trim()}`);
      rc = 1;
    } else {
      // The remote API follows the master (the old master's was stopped with its masterd).
      const rapi = await startDaemon('rapi');
      if (rapi.code !== 0) opts.say(`Warning: could not start the remote API daemon: ${rapi.stderr.trim() || `exit code ${rapi.code}`}`);
    }
    return rc;
  } finally {
    rpc.close();
  }
}
