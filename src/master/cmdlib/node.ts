// Node opcodes: add, remove, modify (roles and parameters), with the master-candidate
// pool kept as upstream keeps it (spec/core.md §3.3). The node's key exchange happens
// before OP_NODE_ADD, in `gnt-node add` (src/cli/commands/node-add.ts): the job only
// checks that the node answers with the cluster's key and the right protocol version.
import crypto from 'node:crypto';
import net from 'node:net';
import { PROTOCOL_VERSION } from '../../core/constants.ts';
import { nodedPort } from '../../util/services.ts';
import { ECODE, OpExecError, OpPrereqError } from '../../core/errors.ts';
import type { OpInput } from '../../core/opcodes.ts';
import { resolveHost } from '../../util/resolve.ts';
import type { NodeObject } from '../config/model.ts';
import { decideSelfPromotion, nodesToPromote, poolStats } from './candidates.ts';
import { forceDictType, NDS_PARAMETER_TYPES } from '../../core/params.ts';
import { expandNode, logInfo, raiseOnFailure, rpcTarget, type HookSpec, type LogicalUnit, type LUContext } from './base.ts';

const py = (b: unknown) => (b ? 'True' : 'False');

/** Upstream's _GetUpdatedParams + ForceDictType: "default" (or null) drops a key; values get their types. */
function updatedNdparams(current: Record<string, unknown>, changes: Record<string, unknown>): Record<string, unknown> {
  const next: Record<string, unknown> = { ...current };
  for (const [k, v] of Object.entries(changes)) {
    if (v === 'default' || v === null) delete next[k];
    else next[k] = v;
  }
  forceDictType(next, NDS_PARAMETER_TYPES);
  return next;
}

function logWarning(ctx: LUContext, message: string): void {
  ctx.feedback(` - WARNING: ${message}`);
}

function instancesOn(ctx: LUContext, uuid: string): string[] {
  return Object.values(ctx.config.data.instances).filter((i) => i.primary_node === uuid).map((i) => i.name);
}

/** Promote nodes to fill the pool (after a change that removed candidates); their seeding follows. */
async function seedPromoted(ctx: LUContext, promoted: NodeObject[]): Promise<void> {
  if (promoted.length === 0) return;
  logInfo(ctx, `Promoted nodes to master candidate role: ${promoted.map((n) => n.name).join(', ')}`);
  for (const n of promoted) {
    try {
      await ctx.master.seedCandidate(n);
    } catch (err) {
      logWarning(ctx, (err as Error).message);
    }
  }
}

function promoteInTx(data: { nodes: Record<string, NodeObject> }, promote: NodeObject[], modified: (o: NodeObject) => void): void {
  for (const n of promote) {
    data.nodes[n.uuid].master_candidate = true;
    modified(data.nodes[n.uuid]);
  }
}

/** OP_NODE_ADD */
export function nodeAdd(op: OpInput, ctx: LUContext): LogicalUnit {
  const name = op.node_name as string;
  let primaryIp = '';
  let secondaryIp = '';
  let existing: NodeObject | undefined;
  let groupUuid = '';
  let becomesCandidate = false;
  let ndparams: Record<string, unknown> | null = null;
  return {
    async checkPrereq() {
      const data = ctx.config.data;
      existing = ctx.config.nodeByName(name);
      if (!op.readd && existing) throw new OpPrereqError(`Node ${name} is already in the configuration`, ECODE.EXISTS);
      if (op.readd && !existing) throw new OpPrereqError(`Node ${name} is not in the configuration`, ECODE.NOENT);
      if (existing && existing.uuid === data.cluster.master_node) throw new OpPrereqError('Cannot readd the master node', ECODE.STATE);
      primaryIp = (op.primary_ip as string | undefined) ?? existing?.primary_ip ?? (await resolveHost(name)) ?? '';
      if (!primaryIp) throw new OpPrereqError(`Cannot resolve node name '${name}'; give its address with --primary-ip`, ECODE.RESOLVER);
      if (net.isIP(primaryIp) === 0) throw new OpPrereqError(`Invalid primary IP address '${primaryIp}'`, ECODE.INVAL);
      secondaryIp = (op.secondary_ip as string | undefined) ?? existing?.secondary_ip ?? primaryIp;
      if (net.isIP(secondaryIp) === 0) throw new OpPrereqError(`Invalid secondary IP address '${secondaryIp}'`, ECODE.INVAL);
      const family = data.cluster.primary_ip_family === 10 ? 6 : 4;
      if (net.isIP(primaryIp) !== family) throw new OpPrereqError(`The node's primary IP ${primaryIp} is not an IPv${family} address like the cluster's`, ECODE.INVAL);
      for (const other of ctx.config.nodes()) {
        if (other === existing) continue;
        const theirs = [other.primary_ip, other.secondary_ip];
        if (theirs.includes(primaryIp) || theirs.includes(secondaryIp)) {
          throw new OpPrereqError(`New node ip address(es) conflict with existing node ${other.name}`, ECODE.NOTUNIQUE);
        }
      }
      if (existing && (existing.primary_ip !== primaryIp || existing.secondary_ip !== secondaryIp)) {
        throw new OpPrereqError("Readded node doesn't have the same IP address", ECODE.INVAL);
      }
      if (op.group) {
        const g = ctx.config.groupByName(op.group as string) ?? ctx.config.data.nodegroups[op.group as string];
        if (!g) throw new OpPrereqError(`Node group '${String(op.group)}' not found`, ECODE.NOENT);
        groupUuid = g.uuid;
      } else {
        groupUuid = existing?.group ?? (ctx.config.groupByName('default') ?? ctx.config.groups()[0]).uuid;
      }
      if (op.ndparams) ndparams = updatedNdparams(existing?.ndparams ?? {}, op.ndparams as Record<string, unknown>);
      const masterCapable = (op.master_capable as boolean | undefined) ?? existing?.master_capable ?? true;
      becomesCandidate = masterCapable && decideSelfPromotion(data, existing ? [existing.uuid] : []);
      // The node must answer with the cluster's key (it joined in gnt-node add) and speak our protocol.
      const r = await ctx.rpc.call({ name, address: primaryIp, port: nodedPort() }, 'version', []);
      if (!r.ok) throw new OpPrereqError(`Can't get version information from node ${name}: ${r.error}`, ECODE.ENVIRON);
      if (r.payload !== PROTOCOL_VERSION) throw new OpExecError(`Version mismatch master version ${PROTOCOL_VERSION}, node version ${String(r.payload)}`);
    },
    hooks(): HookSpec {
      const others = ctx.config.nodes().filter((n) => n.name !== name).map((n) => n.name);
      return {
        path: 'node-add',
        type: 'NODE',
        env: {
          OP_TARGET: name,
          NODE_NAME: name,
          NODE_PIP: primaryIp,
          NODE_SIP: secondaryIp,
          MASTER_CAPABLE: py((op.master_capable as boolean | undefined) ?? true),
          VM_CAPABLE: py((op.vm_capable as boolean | undefined) ?? true),
        },
        preNodes: others,
        postNodes: [...others, name],
      };
    },
    async exec() {
      if (existing) logInfo(ctx, 'Readding a node, the offline/drained flags were reset');
      if (becomesCandidate) logInfo(ctx, 'Node will be a master candidate');
      const node = await ctx.config.update((tx) => {
        const data = tx.data;
        let n: NodeObject;
        if (existing) {
          n = data.nodes[existing.uuid];
          Object.assign(n, { offline: false, drained: false, master_candidate: becomesCandidate, powered: true });
          if (op.master_capable !== undefined) n.master_capable = op.master_capable as boolean;
          if (op.vm_capable !== undefined) n.vm_capable = op.vm_capable as boolean;
          if (ndparams) n.ndparams = ndparams;
          tx.modified(n);
        } else {
          const uuid = crypto.randomUUID();
          // serial_no, ctime and mtime are set by tx.add.
          n = {
            uuid, name, primary_ip: primaryIp, secondary_ip: secondaryIp,
            master_candidate: becomesCandidate, offline: false, drained: false, group: groupUuid,
            master_capable: (op.master_capable as boolean | undefined) ?? true,
            vm_capable: (op.vm_capable as boolean | undefined) ?? true,
            ndparams: ndparams ?? {}, powered: true, tags: [],
          } as Omit<NodeObject, 'serial_no' | 'ctime' | 'mtime'> as NodeObject;
          tx.add('nodes', n);
        }
        if (n.group !== groupUuid) {
          const old = data.nodegroups[n.group];
          if (old) {
            old.members = old.members.filter((u) => u !== n.uuid);
            tx.modified(old);
          }
          n.group = groupUuid;
        }
        const group = data.nodegroups[groupUuid];
        if (!group.members.includes(n.uuid)) {
          group.members.push(n.uuid);
          tx.modified(group);
        }
        return n;
      });
      if (node.master_candidate) {
        try {
          await ctx.master.seedCandidate(node);
        } catch (err) {
          // A candidate without the key or the replicas would be unsafe to fail over to.
          logWarning(ctx, `${(err as Error).message}; the node stays a regular node`);
          await ctx.config.update((tx) => {
            tx.data.nodes[node.uuid].master_candidate = false;
            tx.modified(tx.data.nodes[node.uuid]);
          });
        }
      }
      return null;
    },
  };
}

/** OP_NODE_REMOVE */
export function nodeRemove(op: OpInput, ctx: LUContext): LogicalUnit {
  let node: NodeObject;
  return {
    expandNames() {
      node = expandNode(ctx, (op.node_uuid as string | undefined) ?? (op.node_name as string));
      op.node_uuid = node.uuid;
    },
    checkPrereq() {
      if (node.uuid === ctx.config.cluster.master_node) {
        throw new OpPrereqError('Node is the master node, failover to another node is required', ECODE.INVAL);
      }
      const instances = instancesOn(ctx, node.uuid);
      if (instances.length > 0) throw new OpPrereqError(`Instance ${instances[0]} is still running on the node, please remove first`, ECODE.INVAL);
    },
    hooks(): HookSpec {
      const rest = ctx.config.nodes().filter((n) => n.uuid !== node.uuid).map((n) => n.name);
      return { path: 'node-remove', type: 'NODE', env: { OP_TARGET: node.name, NODE_NAME: node.name }, preNodes: rest, postNodes: rest };
    },
    async exec() {
      const promoted = await ctx.config.update((tx) => {
        const data = tx.data;
        const group = data.nodegroups[node.group];
        if (group) {
          group.members = group.members.filter((u) => u !== node.uuid);
          tx.modified(group);
        }
        tx.remove('nodes', node.uuid);
        const promote = nodesToPromote(data);
        promoteInTx(data, promote, (n) => tx.modified(n));
        return promote;
      });
      const r = await ctx.rpc.call(rpcTarget(node), 'node_leave_cluster', [false]);
      if (!r.ok && !node.offline) logWarning(ctx, `Errors encountered on the remote node while leaving the cluster: ${r.error}`);
      await seedPromoted(ctx, promoted);
      return null;
    },
  };
}

type Role = 'candidate' | 'drained' | 'offline' | 'regular';
const ROLE_FLAGS: Record<Role, [boolean, boolean, boolean]> = {
  candidate: [true, false, false],
  drained: [false, true, false],
  offline: [false, false, true],
  regular: [false, false, false],
};
const FLAG_NAMES = ['master_candidate', 'drained', 'offline'] as const;

function roleOf(n: NodeObject): Role {
  if (n.master_candidate) return 'candidate';
  if (n.drained) return 'drained';
  if (n.offline) return 'offline';
  return 'regular';
}

/** OP_NODE_SET_PARAMS: role flags (at most one of candidate/drained/offline) and parameters. */
export function nodeSetParams(op: OpInput, ctx: LUContext): LogicalUnit {
  let node: NodeObject;
  let newRole: Role;
  let newNdparams: Record<string, unknown> | null = null;
  const mightDemote = op.master_candidate === false || op.offline === true || op.drained === true || op.master_capable === false;
  const adjustPool = Boolean(op.auto_promote) && mightDemote;
  return {
    checkArguments() {
      const mods = ['offline', 'master_candidate', 'drained', 'master_capable', 'vm_capable', 'secondary_ip', 'ndparams', 'hv_state', 'disk_state', 'powered'];
      if (mods.every((k) => op[k] === undefined)) throw new OpPrereqError('Please pass at least one modification', ECODE.INVAL);
      if ([op.offline, op.master_candidate, op.drained].filter((v) => v === true).length > 1) {
        throw new OpPrereqError("Can't set the node into more than one state at the same time", ECODE.INVAL);
      }
    },
    expandNames() {
      node = expandNode(ctx, (op.node_uuid as string | undefined) ?? (op.node_name as string));
      op.node_uuid = node.uuid;
    },
    async checkPrereq() {
      const data = ctx.config.data;
      if (op.ndparams) newNdparams = updatedNdparams(node.ndparams, op.ndparams as Record<string, unknown>);
      if ((op.master_candidate !== undefined || op.drained !== undefined || op.offline !== undefined) && node.uuid === data.cluster.master_node) {
        throw new OpPrereqError('The master role can be changed only via master-failover', ECODE.INVAL);
      }
      if (op.master_candidate === true && !node.master_capable && op.master_capable !== true) {
        throw new OpPrereqError(`Node ${node.name} is not master capable, cannot make it a master candidate`, ECODE.STATE);
      }
      if (op.vm_capable === false && instancesOn(ctx, node.uuid).length > 0) {
        throw new OpPrereqError(`Node ${node.name} hosts instances, cannot unset vm_capable`, ECODE.STATE);
      }
      if (node.master_candidate && mightDemote && !adjustPool) {
        const { mcNow, mcShould } = poolStats(data, [node.uuid]);
        if (mcNow < mcShould) {
          throw new OpPrereqError('Not enough master candidates, please pass auto promote option to allow promotion (--auto-promote or RAPI auto_promote=True)', ECODE.STATE);
        }
      }
      if (op.master_candidate === true && ((node.offline && op.offline !== false) || (node.drained && op.drained !== false))) {
        throw new OpPrereqError(`Node '${node.name}' is offline or drained, can't set role to master`, ECODE.STATE);
      }
      if (node.offline && op.offline === false) {
        // Leaving offline needs a node that answers (upstream asks for a re-add otherwise).
        const r = await ctx.rpc.call({ ...rpcTarget(node), offline: false }, 'version', []);
        if (!r.ok) throw new OpPrereqError(`Node ${node.name} is being de-offlined but fails to answer: ${r.error}; use gnt-node add --readd`, ECODE.ENVIRON);
      }
      // A node coming back (un-drained, un-offlined, newly master capable) joins the pool when it is short.
      if ((op.drained === false || op.offline === false || (op.master_capable === true && !node.master_capable)) &&
          op.master_candidate === undefined && decideSelfPromotion(data, [node.uuid])) {
        op.master_candidate = true;
        logInfo(ctx, 'Auto-promoting node to master candidate');
      }
      if (op.master_capable === false && node.master_candidate) {
        logInfo(ctx, 'Demoting from master candidate');
        op.master_candidate = false;
      }
      if (op.offline === true) newRole = 'offline';
      else if (op.drained === true) newRole = 'drained';
      else if (op.master_candidate === true) newRole = 'candidate';
      else if (op.master_candidate === false || op.drained === false || op.offline === false || op.master_capable === false) newRole = 'regular';
      else newRole = roleOf(node);
    },
    hooks(): HookSpec {
      const env = (v: unknown) => (v === undefined ? null : py(v));
      return {
        path: 'node-modify',
        type: 'NODE',
        env: {
          OP_TARGET: node.name,
          MASTER_CANDIDATE: env(op.master_candidate),
          OFFLINE: env(op.offline),
          DRAINED: env(op.drained),
          MASTER_CAPABLE: env(op.master_capable),
          VM_CAPABLE: env(op.vm_capable),
        },
        preNodes: [ctx.config.masterNode().name, node.name],
        postNodes: [ctx.config.masterNode().name, node.name],
      };
    },
    async exec() {
      const oldRole = roleOf(node);
      const result: Array<[string, string]> = [];
      const { promoted } = await ctx.config.update((tx) => {
        const n = tx.data.nodes[node.uuid];
        // As upstream, new node parameters and the powered flag are not in the result.
        if (newNdparams) n.ndparams = newNdparams;
        if (op.powered !== undefined) n.powered = op.powered as boolean;
        for (const attr of ['master_capable', 'vm_capable'] as const) {
          if (op[attr] !== undefined) {
            n[attr] = op[attr] as boolean;
            result.push([attr, py(n[attr])]);
          }
        }
        if (op.secondary_ip) {
          n.secondary_ip = op.secondary_ip as string;
          result.push(['secondary_ip', n.secondary_ip]);
        }
        if (newRole !== oldRole) {
          const oldFlags = ROLE_FLAGS[oldRole];
          const newFlags = ROLE_FLAGS[newRole];
          newFlags.forEach((f, i) => {
            if (f !== oldFlags[i]) result.push([FLAG_NAMES[i], py(f)]);
          });
          [n.master_candidate, n.drained, n.offline] = newFlags;
        }
        tx.modified(n);
        const promote = adjustPool ? nodesToPromote(tx.data, [n.uuid]) : [];
        promoteInTx(tx.data, promote, (o) => tx.modified(o));
        return { promoted: promote };
      });
      const updated = ctx.config.node(node.uuid)!;
      if (oldRole === 'candidate' && newRole !== 'candidate') {
        const r = await ctx.master.demoteCandidate({ ...updated, offline: newRole === 'offline' }).then(() => null, (e: Error) => e.message);
        if (r) logWarning(ctx, `Node failed to demote itself: ${r}`);
      }
      if (newRole === 'candidate' && oldRole !== 'candidate') {
        try {
          await ctx.master.seedCandidate(updated);
        } catch (err) {
          logWarning(ctx, (err as Error).message);
        }
      }
      await seedPromoted(ctx, promoted);
      return result;
    },
  };
}

/**
 * OP_NODE_POWERCYCLE: a hard reboot of a node, through its noded (offline nodes too),
 * with the cluster's default hypervisor. The master only with force. A last resort, as
 * upstream: it takes no lock, so no job can hold it up.
 */
export function nodePowercycle(op: OpInput, ctx: LUContext): LogicalUnit {
  let node: NodeObject;
  return {
    checkArguments() {
      node = expandNode(ctx, (op.node_uuid as string | undefined) ?? (op.node_name as string));
      op.node_uuid = node.uuid;
      op.node_name = node.name;
      if (node.uuid === ctx.config.cluster.master_node && !op.force) {
        throw new OpPrereqError('The node is the master and the force parameter was not set', ECODE.INVAL);
      }
    },
    locks: () => ({ bglShared: true, levels: {} }),
    async exec() {
      const cluster = ctx.config.cluster;
      const hypervisor = cluster.enabled_hypervisors[0];
      const r = await ctx.rpc.call(rpcTarget(node), 'node_powercycle', [hypervisor, cluster.hvparams[hypervisor] ?? {}]);
      return raiseOnFailure(r, 'Failed to schedule the reboot', OpExecError);
    },
  };
}
