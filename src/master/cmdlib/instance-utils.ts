// What the instance logical units share (upstream's cmdlib/common.py and
// instance_utils.py): instance lookup, the node and state checks with upstream's texts,
// RPC results raised as Ganeti errors, memory and OS checks on the nodes, the hooks
// environment of an instance, locks, and the config changes of an instance's state.
import { ECODE, OpExecError, OpPrereqError, type GanetiError } from '../../core/errors.ts';
import type { OpInput } from '../../core/opcodes.ts';
import type { RpcResult } from '../../rpc/client.ts';
import type { ProcedureName } from '../../rpc/procedures.ts';
import { buildInstanceHookEnv, type HookNic } from '../hooks.ts';
import {
  filledBeParams, filledHvParams, filledNicParams, HVC_GLOBALS, instanceDiskTemplate, instanceDisks, instanceRpcDict,
  secondaryNodes, type InstanceOverrides,
} from '../config/instance-params.ts';
import type { ConfigData, InstanceObject, NicObject, NodeObject } from '../config/model.ts';
import { logInfo, rpcTarget, type HookSpec, type LockPlan, type LogicalUnit, type LUContext } from './base.ts';
import { expandInstance } from './tags.ts';

type Dict = Record<string, unknown>;

/** Admin states an operation accepts (upstream's INSTANCE_DOWN, INSTANCE_ONLINE, INSTANCE_NOT_RUNNING). */
export const INSTANCE_DOWN = ['down'] as const;
export const INSTANCE_ONLINE = ['down', 'up'] as const;
export const INSTANCE_NOT_RUNNING = ['down', 'offline'] as const;

/** LU.LogWarning: the warning line, and the hint under it when there is one. */
export function logWarning(ctx: LUContext, message: string, hint?: string): void {
  ctx.feedback(` - WARNING: ${message}`);
  if (hint) ctx.feedback(`      Hint: ${hint}`);
}

/** RpcResult.Raise: "<msg>: <failure>" as OpPrereqError (prereq) or OpExecError. */
export function raiseRpc(result: RpcResult, msg: string, prereq = false, ecode?: string): unknown {
  if (result.ok) return result.payload;
  const text = `${msg}: ${result.error}`;
  throw prereq ? new OpPrereqError(text, ecode) : new OpExecError(text);
}

/** RpcResult.Warn: the failure as a warning line; true when the call succeeded. */
export function warnRpc(ctx: LUContext, result: RpcResult, msg: string): boolean {
  if (result.ok) return true;
  logWarning(ctx, `${msg}: ${result.error}`);
  return false;
}

export function nodeOf(ctx: LUContext, uuid: string): NodeObject {
  const node = ctx.config.node(uuid);
  if (!node) throw new OpPrereqError(`Node '${uuid}' not known`, ECODE.NOENT);
  return node;
}

export function nodeName(ctx: LUContext, uuid: string): string {
  return ctx.config.node(uuid)?.name ?? uuid;
}

/** One RPC to one node of the configuration. */
export function callNode(ctx: LUContext, nodeUuid: string, proc: ProcedureName, args: unknown[]): Promise<RpcResult> {
  return ctx.rpc.call(rpcTarget(nodeOf(ctx, nodeUuid)), proc, args);
}

/** The "inst" argument of the instance RPCs, read fresh from the configuration. */
export function instDict(ctx: LUContext, inst: InstanceObject, overrides?: InstanceOverrides): Dict {
  return instanceRpcDict(ctx.config.data, inst, overrides);
}

/**
 * ExpandInstanceUuidAndName for an opcode's instance_name/instance_uuid: the instance,
 * and the opcode's fields set to its uuid and full name (as upstream stores them).
 */
function expandOpInstance(ctx: LUContext, op: OpInput): InstanceObject {
  const inst = expandInstance(ctx.config.data, op.instance_name as string);
  const expected = op.instance_uuid as string | undefined;
  if (expected !== undefined && expected !== null && expected !== inst.uuid) {
    throw new OpPrereqError(`The instances UUID '${inst.uuid}' does not match the expected UUID '${expected}' for instance ` +
      `'${inst.name}'. Maybe the instance changed since you submitted this job.`, ECODE.NOTUNIQUE);
  }
  op.instance_uuid = inst.uuid;
  op.instance_name = inst.name;
  return inst;
}

/** The locked instance, re-read after the locks were granted (it may have gone meanwhile). */
function lockedInstance(ctx: LUContext, uuid: string, name: string): InstanceObject {
  const inst = ctx.config.data.instances[uuid];
  if (!inst) throw new OpPrereqError(`Instance '${name}' not known`, ECODE.NOENT);
  return inst;
}

/** The primary node first, then the secondaries (upstream's instance.all_nodes). */
export function instanceNodes(data: ConfigData, inst: InstanceObject): string[] {
  return [inst.primary_node, ...secondaryNodes(data, inst)];
}

export interface InstanceLockOptions {
  /** Lock the instance's nodes at level node (default true). */
  nodes?: boolean;
  /** Lock the instance's nodes at level node-res: all, the primary only, or none (default none). */
  nodeRes?: 'all' | 'primary' | false;
  /** Take the instance lock shared (console). */
  shared?: boolean;
  /** More lock names at the instance level (a rename's new name). */
  extraInstanceLocks?: string[];
}

/** An instance LU's locks: the BGL shared (REQ_BGL = False), the instance, its nodes. */
export function instanceLocks(data: ConfigData, inst: InstanceObject, opts: InstanceLockOptions = {}): LockPlan {
  const nodes = instanceNodes(data, inst);
  const plan: LockPlan = {
    bglShared: true,
    levels: { instance: { names: [inst.uuid, ...(opts.extraInstanceLocks ?? [])], shared: opts.shared ?? false } },
  };
  if (opts.nodes ?? true) plan.levels.node = { names: nodes, shared: opts.shared ?? false };
  if (opts.nodeRes === 'all') plan.levels['node-res'] = { names: nodes, shared: false };
  if (opts.nodeRes === 'primary') plan.levels['node-res'] = { names: [inst.primary_node], shared: false };
  return plan;
}

/**
 * A logical unit on one existing instance, with the phases all of them share (upstream's
 * _ExpandAndLockInstance and the re-read at the start of CheckPrereq): expandNames finds
 * the opcode's instance, locks() takes it and its nodes as `locking` says (or as the
 * function computes from the instance), and checkPrereq starts from the instance read
 * again under the locks, as it may have changed or gone while they were awaited. `use`
 * hands each of those instance objects to the unit; the unit's own expandNames and
 * checkPrereq run after it.
 */
export function instanceLU(op: OpInput, ctx: LUContext, locking: InstanceLockOptions | ((inst: InstanceObject) => LockPlan),
  use: (inst: InstanceObject) => void, unit: Omit<LogicalUnit, 'locks'>): LogicalUnit {
  let inst: InstanceObject;
  const take = (found: InstanceObject) => {
    inst = found;
    use(found);
  };
  return {
    ...unit,
    expandNames() {
      take(expandOpInstance(ctx, op));
      unit.expandNames?.();
    },
    locks: () => (typeof locking === 'function' ? locking(inst) : instanceLocks(ctx.config.data, inst, locking)),
    async checkPrereq() {
      take(lockedInstance(ctx, inst.uuid, inst.name));
      await unit.checkPrereq?.();
    },
  };
}

/** CheckNodeOnline */
export function checkNodeOnline(ctx: LUContext, nodeUuid: string, msg = "Can't use offline node"): void {
  const node = nodeOf(ctx, nodeUuid);
  if (node.offline) throw new OpPrereqError(`${msg}: ${node.name}`, ECODE.STATE);
}

/** CheckNodeNotDrained */
export function checkNodeNotDrained(ctx: LUContext, nodeUuid: string): void {
  const node = nodeOf(ctx, nodeUuid);
  if (node.drained) throw new OpPrereqError(`Can't use drained node ${node.name}`, ECODE.STATE);
}

/** CheckNodeVmCapable (upstream names the node by uuid here). */
export function checkNodeVmCapable(ctx: LUContext, nodeUuid: string): void {
  if (!nodeOf(ctx, nodeUuid).vm_capable) throw new OpPrereqError(`Can't use non-vm_capable node ${nodeUuid}`, ECODE.STATE);
}

/** The cluster's hvparams for every hypervisor (instance_list's second argument). */
function clusterHvParams(ctx: LUContext): Record<string, Dict> {
  return (ctx.config.cluster.hvparams ?? {}) as Record<string, Dict>;
}

export function clusterHvParamsFor(ctx: LUContext, hv: string): Dict {
  return clusterHvParams(ctx)[hv] ?? {};
}

/** Names of the instances running on a node, as instance_list reports them. */
export async function runningInstances(ctx: LUContext, nodeUuid: string, hypervisor: string): Promise<RpcResult> {
  return callNode(ctx, nodeUuid, 'instance_list', [[hypervisor], clusterHvParams(ctx)]);
}

/**
 * CheckInstanceState: the admin state must be one of `states`; when "up" is not among
 * them the instance must not be running on its primary (asked from the node).
 */
export async function checkInstanceState(ctx: LUContext, inst: InstanceObject, states: readonly string[], msg?: string): Promise<void> {
  const text = msg ?? `can't use instance from outside ${states.join(', ')} states`;
  if (!states.includes(inst.admin_state)) {
    throw new OpPrereqError(`Instance '${inst.name}' is marked to be ${inst.admin_state}, ${text}`, ECODE.STATE);
  }
  if (states.includes('up')) return;
  const pnode = nodeOf(ctx, inst.primary_node);
  if (pnode.offline) {
    logWarning(ctx, 'Primary node offline, ignoring check that instance is down');
    return;
  }
  const result = await runningInstances(ctx, pnode.uuid, inst.hypervisor);
  const names = raiseRpc(result, `Can't contact node ${pnode.name} for instance information`, true, ECODE.ENVIRON);
  if (Array.isArray(names) && names.includes(inst.name)) {
    throw new OpPrereqError(`Instance ${inst.name} is running, ${text}`, ECODE.STATE);
  }
}

/** The hypervisor part of a node_info answer: [boot_id, storage units, [hv_info, ...]]. */
export function nodeInfoParts(payload: unknown): { storage: Dict[]; hv: Dict | null } {
  const [, storage, hv] = Array.isArray(payload) ? payload : [];
  return {
    storage: Array.isArray(storage) ? (storage as Dict[]) : [],
    hv: Array.isArray(hv) && hv.length > 0 && hv[0] !== null && typeof hv[0] === 'object' ? (hv[0] as Dict) : null,
  };
}

/** CheckNodeFreeMemory: the node must have `requested` MiB free for the hypervisor; returns the free memory. */
export async function checkNodeFreeMemory(ctx: LUContext, nodeUuid: string, reason: string, requested: number,
  hvName: string, hvParams: Dict): Promise<number> {
  const name = nodeName(ctx, nodeUuid);
  const result = await callNode(ctx, nodeUuid, 'node_info', [[], [[hvName, hvParams]]]);
  const payload = raiseRpc(result, `Can't get data from node ${name}`, true, ECODE.ENVIRON);
  const free = nodeInfoParts(payload).hv?.memory_free;
  if (typeof free !== 'number' || !Number.isInteger(free)) {
    throw new OpPrereqError(`Can't compute free memory on node ${name}, result was '${free === undefined ? 'None' : String(free)}'`, ECODE.ENVIRON);
  }
  if (requested > free) {
    throw new OpPrereqError(`Not enough memory on node ${name} for ${reason}: needed ${requested} MiB, available ${free} MiB`, ECODE.NORES);
  }
  return free;
}

/** Nodes that may run instances (upstream's _FilterVmNodes). */
export function vmCapable(ctx: LUContext, nodeUuids: string[]): string[] {
  return nodeUuids.filter((u) => ctx.config.node(u)?.vm_capable !== false);
}

/**
 * CheckOSParams: os_validate on the nodes. A failure is an OpExecError naming the node
 * (as upstream's result.Raise); an OS missing where it is not required is only noted.
 */
export async function checkOsParams(ctx: LUContext, required: boolean, nodeUuids: string[], osName: string,
  osParams: Dict, forceVariant: boolean): Promise<void> {
  const nodes = vmCapable(ctx, nodeUuids);
  const results = await Promise.all(nodes.map((u) =>
    callNode(ctx, u, 'os_validate', [required, osName, ['parameters'], osParams, forceVariant])));
  results.forEach((r, i) => {
    const name = nodeName(ctx, nodes[i]);
    const found = raiseRpc(r, `OS Parameters validation failed on node ${name}`);
    if (!found) logInfo(ctx, `OS ${osName} not found on node ${name}, validation skipped`);
  });
}

/** GetUpdatedParams: "default" (and, with useNone, null) drops a key, anything else sets it. */
export function updatedParams(old: Dict, update: Dict, useDefault = true, useNone = false): Dict {
  const out: Dict = structuredClone(old);
  for (const [k, v] of Object.entries(update)) {
    if ((useDefault && v === 'default') || (useNone && v === null)) delete out[k];
    else out[k] = v;
  }
  return out;
}

/** CheckParamsNotGlobal for instance hvparams. */
export function checkHvParamsNotGlobal(hvparams: Dict): void {
  const used = HVC_GLOBALS.filter((k) => Object.hasOwn(hvparams, k));
  if (used.length > 0) {
    throw new OpPrereqError('The following hypervisor parameters are global and cannot be customized at instance level, ' +
      `please modify them at cluster level: ${used.join(', ')}`, ECODE.INVAL);
  }
}

/** objects.UpgradeBeParams: the pre-2.6 "memory" becomes maxmem and minmem. */
export function upgradeBeParams(beparams: Dict): void {
  if (!Object.hasOwn(beparams, 'memory')) return;
  const mem = beparams.memory;
  delete beparams.memory;
  beparams.maxmem ??= mem;
  beparams.minmem ??= mem;
}

/** A NIC as the hooks see it: name, uuid, ip, mac and its filled mode, link and vlan. */
export function hookNic(data: ConfigData, nic: NicObject): HookNic {
  const p = filledNicParams(data, nic);
  return {
    name: nic.name ?? null, uuid: nic.uuid, ip: nic.ip ?? null, mac: nic.mac,
    mode: String(p.mode ?? ''), link: String(p.link ?? ''), vlan: String(p.vlan ?? ''), network: nic.network ?? null,
  };
}

export interface InstanceEnvOverride {
  minmem?: unknown;
  maxmem?: unknown;
  vcpus?: unknown;
  nics?: HookNic[];
  status?: unknown;
}

/** BuildInstanceHookEnvByObject: the standard instance variables from the configuration. */
export function instanceHookEnv(data: ConfigData, inst: InstanceObject, override: InstanceEnvOverride = {}): HookSpec['env'] {
  const bep = filledBeParams(data, inst);
  const hvp = filledHvParams(data, inst);
  const disks = instanceDisks(data, inst);
  return buildInstanceHookEnv({
    name: inst.name,
    primaryNode: data.nodes[inst.primary_node]?.name ?? inst.primary_node,
    secondaryNodes: secondaryNodes(data, inst).map((u) => data.nodes[u]?.name ?? u),
    osType: inst.os,
    status: override.status ?? inst.admin_state,
    minmem: override.minmem ?? bep.minmem,
    maxmem: override.maxmem ?? bep.maxmem,
    vcpus: override.vcpus ?? bep.vcpus,
    nics: override.nics ?? inst.nics.map((n) => hookNic(data, n)),
    diskTemplate: instanceDiskTemplate(data, inst),
    disks,
    bep,
    hvp,
    hypervisor: inst.hypervisor,
    tags: inst.tags,
  });
}

/** An instance LU's hooks on the master and the instance's nodes (pre and post alike). */
export function instanceHooks(ctx: LUContext, path: string, inst: InstanceObject, extra: HookSpec['env'] = {},
  override: InstanceEnvOverride = {}): HookSpec {
  const data = ctx.config.data;
  const nodes = [ctx.config.masterNode().name, ...instanceNodes(data, inst).map((u) => data.nodes[u]?.name ?? u)];
  return { path, type: 'INSTANCE', env: { ...extra, ...instanceHookEnv(data, inst, override) }, preNodes: nodes, postNodes: nodes };
}

/**
 * The instance's admin state (and the flags upstream's _SetInstanceStatus changes with it)
 * written to the configuration; only a real change is written.
 */
export async function setInstanceStatus(ctx: LUContext, uuid: string, change: {
  adminState?: InstanceObject['admin_state'];
  source?: InstanceObject['admin_state_source'];
  disksActive?: boolean;
}): Promise<InstanceObject> {
  return ctx.config.update((tx) => {
    const inst = tx.data.instances[uuid];
    if (!inst) throw new OpExecError(`Instance ${uuid} disappeared from the configuration`);
    let changed = false;
    if (change.adminState !== undefined && inst.admin_state !== change.adminState) {
      inst.admin_state = change.adminState;
      changed = true;
    }
    if (change.source !== undefined && inst.admin_state_source !== change.source) {
      inst.admin_state_source = change.source;
      changed = true;
    }
    if (change.disksActive !== undefined && inst.disks_active !== change.disksActive) {
      inst.disks_active = change.disksActive;
      changed = true;
    }
    if (changed) tx.modified(inst);
    return inst;
  });
}

/** MarkInstanceUp: admin state up by the admin, disks active. */
export function markInstanceUp(ctx: LUContext, uuid: string): Promise<InstanceObject> {
  return setInstanceStatus(ctx, uuid, { adminState: 'up', source: 'admin', disksActive: true });
}

/** MarkInstanceDown / MarkInstanceUserDown. */
export function markInstanceDown(ctx: LUContext, uuid: string, source: InstanceObject['admin_state_source'] = 'admin'): Promise<InstanceObject> {
  return setInstanceStatus(ctx, uuid, { adminState: 'down', source });
}

/** utils.FormatSeconds: "1d 2h 3m 4s", leading zero units left out. */
export function formatSeconds(seconds: number): string {
  let secs = Math.round(seconds);
  const parts: string[] = [];
  if (secs > 0) {
    for (const [unit, one] of [['d', 86400], ['h', 3600], ['m', 60]] as const) {
      const complete = Math.floor(secs / one);
      secs %= one;
      if (complete || parts.length) parts.push(`${complete}${unit}`);
    }
  }
  parts.push(`${secs}s`);
  return parts.join(' ');
}

/** The error an LU raises when a thrown value is not one of Ganeti's. */
export function errorText(err: unknown): string {
  return (err as GanetiError)?.message ?? String(err);
}
