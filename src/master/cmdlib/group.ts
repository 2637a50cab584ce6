// Node-group opcodes: add, modify, remove, rename, assign nodes (upstream's
// lib/cmdlib/group.py): the same checks in the same order, with the same errors.
import crypto from 'node:crypto';
import { DISK_TEMPLATES } from '../../core/constants.ts';
import { ECODE, OpExecError, OpPrereqError } from '../../core/errors.ts';
import type { OpInput } from '../../core/opcodes.ts';
import { pyStr } from '../../core/pyrepr.ts';
import { DISK_DT_TYPES, ISPECS_PARAMETER_TYPES, NDS_PARAMETER_TYPES, typedDict } from '../../core/params.ts';
import { DEFAULT_DISKPARAMS } from '../config/defaults.ts';
import type { ConfigData, NodeGroupObject, NodeObject } from '../config/model.ts';
import { niceSort } from '../config/ssconf.ts';
import { expandNode, type HookSpec, type LockPlan, type LogicalUnit, type LUContext } from './base.ts';

type Dict = Record<string, unknown>;

const VALUE_DEFAULT = 'default';

/** config.LookupNodeGroup: a group by uuid or name; null means "the only group". */
export function lookupNodeGroup(data: ConfigData, target: string | null | undefined): string {
  const groups = Object.values(data.nodegroups);
  if (target === null || target === undefined) {
    if (groups.length !== 1) throw new OpPrereqError('More than one node group exists. Target group must be specified explicitly.');
    return groups[0].uuid;
  }
  if (Object.hasOwn(data.nodegroups, target)) return target;
  const g = groups.find((x) => x.name === target);
  if (!g) throw new OpPrereqError(`Node group '${target}' not found`, ECODE.NOENT);
  return g.uuid;
}

/** utils.VerifyDictOptions: every key (and nested key) must exist in the defaults. */
function verifyDictOptions(options: Dict, defaults: Dict): void {
  const missing = (path: string, opts: Dict, defs: Dict): string[] => Object.entries(opts).flatMap(([k, v]) => {
    const p = path ? `${path}/${k}` : k;
    if (!Object.hasOwn(defs, k)) return [p];
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? missing(p, v as Dict, (defs[k] ?? {}) as Dict) : [];
  });
  const invalid = missing('', options, defaults);
  if (invalid.length > 0) {
    // upstream formats the inner OpPrereqError with str(), which shows its argument tuple.
    const inner = `Provided option keys not supported: ${invalid.join(', ')}`;
    throw new OpPrereqError(`While verify diskparams options: ('${inner}', '${ECODE.INVAL}')`, ECODE.INVAL);
  }
}

/** GetUpdatedParams: "default" removes a key (so the cluster's value applies), anything else sets it. */
function updatedParams(old: Dict, update: Dict): Dict {
  const out: Dict = structuredClone(old);
  for (const [k, v] of Object.entries(update)) {
    if (v === VALUE_DEFAULT) delete out[k];
    else out[k] = v;
  }
  return out;
}

function dict(v: unknown): Dict {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? v as Dict : {};
}

const IPOLICY_PARAMETERS = ['vcpu-ratio', 'spindle-ratio'];
const IPOLICY_ALL_KEYS = ['minmax', 'std', 'disk-templates', ...IPOLICY_PARAMETERS];

/** GetUpdatedIPolicy for a group: empty or "default" values drop the key; ratios are floats. */
function updatedGroupIpolicy(old: Dict, update: Dict): Dict {
  const ipolicy: Dict = structuredClone(old);
  for (const [key, value] of Object.entries(update)) {
    if (!IPOLICY_ALL_KEYS.includes(key)) throw new OpPrereqError(`Invalid key in new ipolicy: ${key}`, ECODE.INVAL);
    const empty = value === null || value === undefined || value === false || value === 0 || value === '' ||
      (Array.isArray(value) && (value.length === 0 || (value.length === 1 && value[0] === VALUE_DEFAULT))) ||
      (typeof value === 'object' && !Array.isArray(value) && Object.keys(value as Dict).length === 0) || value === VALUE_DEFAULT;
    if (empty) {
      delete ipolicy[key];
    } else if (IPOLICY_PARAMETERS.includes(key)) {
      const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : typeof value === 'number' ? value : Number.NaN;
      if (Number.isNaN(n)) {
        throw new OpPrereqError(`Invalid value for attribute '${key}': '${pyStr(value)}', error: could not convert string to float: ${pyStr(String(value))}`, ECODE.INVAL);
      }
      ipolicy[key] = n;
    } else if (key === 'minmax') {
      if (!Array.isArray(value)) throw new OpPrereqError(`Invalid instance policy: ${key} must be a list`, ECODE.INVAL);
      ipolicy[key] = value.map((mm) => Object.fromEntries(Object.entries(dict(mm)).map(([k, spec]) => [k, typedDict(spec, ISPECS_PARAMETER_TYPES)])));
    } else if (key === 'std') {
      throw new OpPrereqError(`${key} cannot appear in group instance specs`, ECODE.INVAL);
    } else {
      ipolicy[key] = Array.isArray(value) ? [...value] : [value];
    }
  }
  return ipolicy;
}

/** CheckIpolicyVsDiskTemplates: an ipolicy may only allow templates the cluster has enabled. */
function checkIpolicyVsDiskTemplates(data: ConfigData, ipolicy: Dict): void {
  const filled = { ...dict(data.cluster.ipolicy), ...ipolicy };
  const enabled = new Set(data.cluster.enabled_disk_templates);
  const notEnabled = [...new Set((filled['disk-templates'] as string[] | undefined) ?? [])].filter((t) => !enabled.has(t));
  if (notEnabled.length > 0) {
    throw new OpPrereqError(`The following disk templates are allowed by the ipolicy, but not enabled on the cluster: ${notEnabled.join(', ')}`, ECODE.INVAL);
  }
}

/** Disk parameters from an opcode: per-template type checks, then known keys only. */
function checkDiskParams(diskparams: Dict): Dict {
  const out: Dict = { ...diskparams };
  for (const t of DISK_TEMPLATES) if (Object.hasOwn(out, t)) out[t] = typedDict(out[t], DISK_DT_TYPES);
  verifyDictOptions(out, DEFAULT_DISKPARAMS as Dict);
  return out;
}

function masterName(ctx: LUContext): string {
  return ctx.config.masterNode().name;
}

function groupObject(ctx: LUContext, uuid: string, name: string): NodeGroupObject {
  const g = ctx.config.data.nodegroups[uuid];
  if (!g) throw new OpExecError(`Could not retrieve group '${name}' (UUID: ${uuid})`);
  return g;
}

const hasValue = (v: unknown) => v !== null && v !== undefined;
const nonEmpty = (v: unknown) => hasValue(v) && !(typeof v === 'object' && Object.keys(v as object).length === 0);

/** OP_GROUP_ADD */
export function groupAdd(op: OpInput, ctx: LUContext): LogicalUnit {
  const name = op.group_name as string;
  let uuid = '';
  let ndparams: Dict = {};
  let diskparams: Dict = {};
  return {
    expandNames() {
      // The new group's lock is taken under its uuid before the group exists (upstream's add_locks).
      uuid = crypto.randomUUID();
    },
    locks: (): LockPlan => ({ bglShared: true, levels: { nodegroup: { names: [uuid], shared: false } } }),
    checkPrereq() {
      const data = ctx.config.data;
      let existing: string | null = null;
      try {
        existing = lookupNodeGroup(data, name);
      } catch { /* the name is free */ }
      if (existing !== null) {
        throw new OpPrereqError(`Desired group name '${name}' already exists as a node group (UUID: ${existing})`, ECODE.EXISTS);
      }
      if (nonEmpty(op.ndparams)) ndparams = typedDict(op.ndparams, NDS_PARAMETER_TYPES);
      diskparams = nonEmpty(op.diskparams) ? checkDiskParams(op.diskparams as Dict) : {};
      if (nonEmpty(op.ipolicy)) checkIpolicyVsDiskTemplates(data, updatedGroupIpolicy({}, op.ipolicy as Dict));
    },
    hooks(): HookSpec {
      const master = masterName(ctx);
      return { path: 'group-add', type: 'GROUP', env: { GROUP_NAME: name }, preNodes: [master], postNodes: [master] };
    },
    async exec() {
      const group: NodeGroupObject = {
        uuid,
        name,
        members: [],
        alloc_policy: (op.alloc_policy as string | undefined) ?? 'preferred',
        ndparams,
        diskparams,
        ipolicy: nonEmpty(op.ipolicy) ? updatedGroupIpolicy({}, op.ipolicy as Dict) : {},
        networks: {},
        tags: [],
        serial_no: 1,
        ctime: 0,
        mtime: 0,
      };
      // Ganeti writes the hypervisor and disk states only when some were given.
      if (nonEmpty(op.hv_state)) group.hv_state_static = op.hv_state;
      if (nonEmpty(op.disk_state)) group.disk_state_static = op.disk_state;
      await ctx.config.update((tx) => {
        const now = Date.now() / 1000;
        group.ctime = now;
        group.mtime = now;
        tx.add('nodegroups', group);
      });
      return null;
    },
  };
}

/** Instances that use more than one group once `changes` (node uuid → group uuid) apply; only mirrored ones count. */
function splitInstances(data: ConfigData, changes: Map<string, string>): { newSplits: string[]; previous: string[] } {
  const all = new Set<string>();
  const before = new Set<string>();
  for (const inst of Object.values(data.instances)) {
    if (inst.disk_template !== 'drbd') continue;
    const diskNodes = ((inst.disks as string[] | undefined) ?? []).flatMap((d) => (data.disks[d]?.nodes as string[] | undefined) ?? []);
    const nodes = [...new Set([inst.primary_node, ...diskNodes])].filter((n) => data.nodes[n]);
    if (new Set(nodes.map((n) => data.nodes[n].group)).size > 1) before.add(inst.uuid);
    if (new Set(nodes.map((n) => changes.get(n) ?? data.nodes[n].group)).size > 1) all.add(inst.uuid);
  }
  return { newSplits: [...all].filter((u) => !before.has(u)), previous: [...before].filter((u) => all.has(u)) };
}

/** OP_GROUP_ASSIGN_NODES (no hooks upstream). */
export function groupAssignNodes(op: OpInput, ctx: LUContext): LogicalUnit {
  const name = op.group_name as string;
  let uuid = '';
  let nodes: NodeObject[] = [];
  let sourceGroups: string[] = [];
  const instanceNames = (uuids: string[]) => niceSort(uuids.map((u) => ctx.config.data.instances[u]?.name ?? u)).join(', ');
  return {
    expandNames() {
      const data = ctx.config.data;
      uuid = lookupNodeGroup(data, name);
      const names = op.nodes as string[];
      // GetWantedNodes: no names means every node.
      nodes = names.length > 0 ? names.map((n) => expandNode(ctx, n)) : ctx.config.nodes();
      sourceGroups = [...new Set(nodes.map((n) => n.group))];
    },
    locks: (): LockPlan => ({
      bglShared: true,
      levels: {
        nodegroup: { names: [...new Set([uuid, ...sourceGroups])], shared: false },
        node: { names: nodes.map((n) => n.uuid), shared: false },
      },
    }),
    checkPrereq() {
      const data = ctx.config.data;
      // The source groups were read before their locks were held: they must not have changed.
      const expected = [...new Set([uuid, ...nodes.map((n) => data.nodes[n.uuid]?.group ?? n.group)])].sort();
      const locked = [...new Set([uuid, ...sourceGroups])].sort();
      if (expected.join(',') !== locked.join(',')) {
        throw new OpExecError(`Nodes changed groups since locks were acquired, current groups are '${expected.join(', ')}', used to be '${locked.join(', ')}'`);
      }
      groupObject(ctx, uuid, name);
      const { newSplits, previous } = splitInstances(data, new Map(nodes.map((n) => [n.uuid, uuid])));
      if (newSplits.length > 0) {
        if (!op.force) throw new OpExecError(`The following instances get split by this change and --force was not given: ${instanceNames(newSplits)}`);
        ctx.feedback(` - WARNING: This operation will split the following instances: ${instanceNames(newSplits)}`);
        if (previous.length > 0) {
          ctx.feedback(` - WARNING: In addition, these already-split instances continue to be split across groups: ${instanceNames(previous)}`);
        }
      }
    },
    async exec() {
      await ctx.config.update((tx) => {
        const data = tx.data;
        const target = data.nodegroups[uuid];
        const touched = new Set<NodeGroupObject | NodeObject>();
        for (const n of nodes) {
          const node = data.nodes[n.uuid];
          if (!node || node.group === uuid) continue;
          const old = data.nodegroups[node.group];
          node.group = uuid;
          // members as upstream keeps them: the node leaves its old group's list and joins the new one's.
          if (old) {
            old.members = (old.members ?? []).filter((m) => m !== node.uuid);
            touched.add(old);
          }
          if (!(target.members ??= []).includes(node.uuid)) target.members.push(node.uuid);
          touched.add(node);
          touched.add(target);
        }
        for (const obj of touched) tx.modified(obj);
        // upstream bumps the cluster's serial too, so that ssconf is rewritten.
        if (touched.size > 0) tx.modified(data.cluster);
      });
      return null;
    },
  };
}

/** OP_GROUP_SET_PARAMS; its result lists the changed parameter sets as upstream's str(dict). */
export function groupSetParams(op: OpInput, ctx: LUContext): LogicalUnit {
  const name = op.group_name as string;
  let uuid = '';
  let newNdparams: Dict | null = null;
  let newDiskparams: Dict | null = null;
  let newIpolicy: Dict | null = null;
  return {
    checkArguments() {
      const changes = [op.ndparams, op.diskparams, op.alloc_policy, op.hv_state, op.disk_state, op.ipolicy];
      if (!changes.some(hasValue)) throw new OpPrereqError('Please pass at least one modification', ECODE.INVAL);
    },
    expandNames() {
      uuid = lookupNodeGroup(ctx.config.data, name);
    },
    locks(): LockPlan {
      // The group's instances are locked shared, as upstream does to check the new ipolicy against them.
      const members = new Set(ctx.config.nodes().filter((n) => n.group === uuid).map((n) => n.uuid));
      const instances = Object.values(ctx.config.data.instances).filter((i) => members.has(i.primary_node)).map((i) => i.uuid);
      return { bglShared: true, levels: { instance: { names: instances, shared: true }, nodegroup: { names: [uuid], shared: false } } };
    },
    checkPrereq() {
      const data = ctx.config.data;
      const group = groupObject(ctx, uuid, name);
      if (nonEmpty(op.ndparams)) newNdparams = typedDict(updatedParams(dict(group.ndparams), op.ndparams as Dict), NDS_PARAMETER_TYPES);
      if (nonEmpty(op.diskparams)) {
        const old = dict(group.diskparams);
        const update = op.diskparams as Dict;
        const merged: Dict = { ...old };
        for (const t of DISK_TEMPLATES) {
          if (Object.hasOwn(update, t)) merged[t] = typedDict(updatedParams(dict(old[t]), dict(update[t])), DISK_DT_TYPES);
        }
        for (const t of Object.keys(update)) if (!Object.hasOwn(merged, t)) merged[t] = update[t];
        verifyDictOptions(merged, DEFAULT_DISKPARAMS as Dict);
        newDiskparams = merged;
      }
      if (nonEmpty(op.ipolicy)) {
        newIpolicy = updatedGroupIpolicy(dict(group.ipolicy), op.ipolicy as Dict);
        checkIpolicyVsDiskTemplates(data, newIpolicy);
      }
    },
    hooks(): HookSpec {
      const master = masterName(ctx);
      return {
        path: 'group-modify', type: 'GROUP',
        env: { GROUP_NAME: name, NEW_ALLOC_POLICY: (op.alloc_policy as string | undefined) ?? null },
        preNodes: [master], postNodes: [master],
      };
    },
    async exec() {
      const result: Array<[string, string]> = [];
      await ctx.config.update((tx) => {
        const group = tx.data.nodegroups[uuid];
        if (newNdparams) {
          group.ndparams = newNdparams;
          result.push(['ndparams', pyStr(newNdparams)]);
        }
        if (newDiskparams) {
          group.diskparams = newDiskparams;
          result.push(['diskparams', pyStr(newDiskparams)]);
        }
        if (op.alloc_policy) group.alloc_policy = op.alloc_policy as string;
        if (nonEmpty(op.hv_state)) group.hv_state_static = { ...dict(group.hv_state_static), ...dict(op.hv_state) };
        if (nonEmpty(op.disk_state)) group.disk_state_static = { ...dict(group.disk_state_static), ...dict(op.disk_state) };
        if (newIpolicy) group.ipolicy = newIpolicy;
        tx.modified(group);
      });
      return result;
    },
  };
}

/** OP_GROUP_REMOVE: only an empty group, and never the last one. */
export function groupRemove(op: OpInput, ctx: LUContext): LogicalUnit {
  const name = op.group_name as string;
  let uuid = '';
  return {
    expandNames() {
      uuid = lookupNodeGroup(ctx.config.data, name);
    },
    locks: (): LockPlan => ({ bglShared: true, levels: { nodegroup: { names: [uuid], shared: false } } }),
    checkPrereq() {
      const members = ctx.config.nodes().filter((n) => n.group === uuid).map((n) => n.uuid);
      if (members.length > 0) {
        throw new OpPrereqError(`Group '${name}' not empty, has the following nodes: ${niceSort(members).join(', ')}`, ECODE.STATE);
      }
      if (ctx.config.groups().length === 1) throw new OpPrereqError(`Group '${name}' is the only group, cannot be removed`, ECODE.STATE);
    },
    hooks(): HookSpec {
      const master = masterName(ctx);
      return { path: 'group-remove', type: 'GROUP', env: { GROUP_NAME: name }, preNodes: [master], postNodes: [master] };
    },
    async exec() {
      await ctx.config.update((tx) => {
        if (!tx.data.nodegroups[uuid]) throw new OpExecError(`Group '${name}' with UUID ${uuid} disappeared`);
        tx.remove('nodegroups', uuid);
      });
      return null;
    },
  };
}

/** OP_GROUP_RENAME; returns the new name. */
export function groupRename(op: OpInput, ctx: LUContext): LogicalUnit {
  const name = op.group_name as string;
  const newName = op.new_name as string;
  let uuid = '';
  return {
    expandNames() {
      uuid = lookupNodeGroup(ctx.config.data, name);
    },
    locks: (): LockPlan => ({ bglShared: true, levels: { nodegroup: { names: [uuid], shared: false } } }),
    checkPrereq() {
      let clash: string | null = null;
      try {
        clash = lookupNodeGroup(ctx.config.data, newName);
      } catch { /* the new name is free */ }
      if (clash !== null) {
        throw new OpPrereqError(`Desired new name '${newName}' clashes with existing node group (UUID: ${clash})`, ECODE.EXISTS);
      }
    },
    hooks(): HookSpec {
      const master = masterName(ctx);
      const nodes = [master, ...ctx.config.nodes().filter((n) => n.group === uuid && n.name !== master).map((n) => n.name)];
      return { path: 'group-rename', type: 'GROUP', env: { OLD_NAME: name, NEW_NAME: newName }, preNodes: nodes, postNodes: nodes };
    },
    async exec() {
      await ctx.config.update((tx) => {
        const group = groupObject(ctx, uuid, name);
        group.name = newName;
        tx.modified(group);
      });
      return newName;
    },
  };
}
