// Allocation logical units: OP_INSTANCE_MULTI_ALLOC (upstream's LUInstanceMultiAlloc:
// one allocator run places every instance, then one OP_INSTANCE_CREATE job per placed
// instance is submitted; the result names the allocatable and the failed instances and
// the jobs) and OP_TEST_ALLOCATOR (LUTestAllocator: the allocator's input or raw answer).
import { ECODE, OpPrereqError, ProgrammerError } from '../../core/errors.ts';
import { validateOpcode, type OpInput } from '../../core/opcodes.ts';
import { BES_PARAMETER_TYPES, forceDictType } from '../../core/params.ts';
import { secondaryNodes } from '../config/instance-params.ts';
import type { ConfigData } from '../config/model.ts';
import { buildInput } from '../iallocator/input.ts';
import { chooseAllocator, multiAllocate, runIAllocatorRequest, type AllocRequest, type IARequest } from '../iallocator/index.ts';
import { expandNode, submitChildJobs, type LockPlan, type LUContext, type LUFactory, type LogicalUnit } from './base.ts';
import { computeNics } from './instance-nics.ts';
import { computeDisks } from './instance-storage.ts';
import { upgradeBeParams } from './instance-utils.ts';
import { expandInstance } from './tags.ts';

type Dict = Record<string, unknown>;

/** ComputeFullBeParams: "auto" values and missing keys from the cluster's defaults. */
function fullBeParams(data: ConfigData, op: Dict): Dict {
  const defaults = (((data.cluster as Dict).beparams as Record<string, Dict> | undefined)?.default) ?? {};
  const be = { ...((op.beparams as Dict | undefined) ?? {}) };
  for (const [k, v] of Object.entries(be)) if (v === 'auto') be[k] = defaults[k];
  upgradeBeParams(be);
  forceDictType(be, BES_PARAMETER_TYPES);
  return { ...defaults, ...be };
}

/** CreateInstanceAllocRequest for one instance-create opcode. */
function allocRequest(data: ConfigData, op: Dict): AllocRequest {
  const c = data.cluster as ConfigData['cluster'] & Dict;
  const template = (op.disk_template as string | null | undefined) ?? c.enabled_disk_templates[0];
  const be = fullBeParams(data, op);
  const nicDefaults = ((c.nicparams as Record<string, Dict> | undefined)?.default) ?? {};
  return {
    name: op.instance_name as string,
    disk_template: template,
    group_name: (op.group_name as string | null | undefined) ?? null,
    tags: (op.tags as string[] | undefined) ?? [],
    os: (op.os_type as string | null | undefined) ?? '',
    vcpus: Number(be.vcpus),
    memory: Number(be.maxmem),
    spindle_use: Number(be.spindle_use),
    disks: computeDisks((op.disks as Dict[]) ?? [], template, (c.volume_group_name as string | null | undefined) ?? null).map((d) => ({ ...d })),
    nics: computeNics((op.nics as Dict[]) ?? [], nicDefaults, { nameCheck: false, defaultIp: null, usedMacs: new Set() }).map((n) => ({ ...n })),
    hypervisor: (op.hypervisor as string | null | undefined) ?? c.enabled_hypervisors[0],
    node_whitelist: null,
  };
}

/** OP_INSTANCE_MULTI_ALLOC */
export function instanceMultiAlloc(op: OpInput, ctx: LUContext): LogicalUnit {
  let instances: OpInput[] = [];
  let allocation: { allocated: Array<[string, string[]]>; failed: string[] } | null = null;

  return {
    checkArguments() {
      instances = (op.instances as Dict[]).map((raw) => {
        const inst = validateOpcode({ OP_ID: 'OP_INSTANCE_CREATE', ...raw });
        if (inst.OP_ID !== 'OP_INSTANCE_CREATE') {
          throw new OpPrereqError(`Expected an OP_INSTANCE_CREATE opcode, got ${inst.OP_ID}`, ECODE.INVAL);
        }
        return inst;
      });
      const nodes: boolean[] = [];
      for (const inst of instances) {
        if (inst.iallocator !== undefined && inst.iallocator !== null) {
          throw new OpPrereqError('iallocator are not allowed to be set on instance objects', ECODE.INVAL);
        }
        nodes.push(Boolean(inst.pnode));
        if (inst.disk_template === 'drbd') nodes.push(Boolean(inst.snode));
      }
      const hasNodes = nodes.some(Boolean);
      if (nodes.every(Boolean) !== hasNodes) {
        throw new OpPrereqError('There are instance objects providing pnode/snode while others do not', ECODE.INVAL);
      }
      if (!hasNodes && !op.iallocator) {
        const def = chooseAllocator(ctx, null);
        if (!def) {
          throw new OpPrereqError('No iallocator or nodes on the instances given and no cluster-wide default iallocator found; ' +
            'please specify either an iallocator or nodes on the instances or set a cluster-wide default iallocator', ECODE.INVAL);
        }
        op.iallocator = def;
      }
      if (op.opportunistic_locking && !op.iallocator) {
        throw new OpPrereqError('Opportunistic locking is only available in combination with an instance allocator', ECODE.INVAL);
      }
      const seen = new Set<string>();
      const dups = new Set<string>();
      for (const inst of instances) {
        const name = inst.instance_name as string;
        if (seen.has(name)) dups.add(name);
        seen.add(name);
      }
      if (dups.size > 0) throw new OpPrereqError(`There are duplicate instance names: ${[...dups].join(', ')}`, ECODE.INVAL);
    },

    expandNames() {
      if (op.iallocator) return;
      for (const inst of instances) {
        const p = expandNode(ctx, (inst.pnode_uuid as string | undefined) ?? (inst.pnode as string));
        inst.pnode_uuid = p.uuid;
        inst.pnode = p.name;
        if (inst.snode) {
          const s = expandNode(ctx, (inst.snode_uuid as string | undefined) ?? (inst.snode as string));
          inst.snode_uuid = s.uuid;
          inst.snode = s.name;
        }
      }
    },

    locks(): LockPlan {
      const names = op.iallocator ? null
        : [...new Set(instances.flatMap((i) => [i.pnode_uuid as string, i.snode_uuid as string | undefined]).filter((u): u is string => Boolean(u)))];
      return {
        bglShared: true,
        levels: {
          node: { names, shared: true },
          'node-res': { names: names === null ? null : [...names], shared: true },
        },
      };
    },

    async checkPrereq() {
      if (!op.iallocator) return;
      const data = ctx.config.data;
      allocation = await multiAllocate(ctx, op.iallocator as string, instances.map((i) => allocRequest(data, i)));
    },

    async exec() {
      const jobs: OpInput[][] = [];
      let allocatable: string[];
      let failed: string[];
      if (allocation) {
        const byName = new Map(instances.map((i) => [i.instance_name as string, i]));
        for (const [name, nodeNames] of allocation.allocated) {
          const inst = byName.get(name);
          if (!inst) throw new ProgrammerError(`Iallocator did return an unknown instance: ${name}`);
          byName.delete(name);
          const p = expandNode(ctx, nodeNames[0]);
          inst.pnode_uuid = p.uuid;
          inst.pnode = p.name;
          if (nodeNames.length > 1) {
            const s = expandNode(ctx, nodeNames[1]);
            inst.snode_uuid = s.uuid;
            inst.snode = s.name;
          }
          jobs.push([inst]);
        }
        const missing = [...byName.keys()].filter((n) => !allocation!.failed.includes(n));
        if (missing.length > 0) throw new ProgrammerError(`Iallocator did return incomplete result: ${missing.join(', ')}`);
        allocatable = allocation.allocated.map(([n]) => n);
        failed = allocation.failed;
      } else {
        jobs.push(...instances.map((i) => [i]));
        allocatable = instances.map((i) => i.instance_name as string);
        failed = [];
      }
      return { allocatable, failed, jobs: await submitChildJobs(ctx, op, jobs) };
    },
  };
}

/** OP_TEST_ALLOCATOR */
export function testAllocator(op: OpInput, ctx: LUContext): LogicalUnit {
  let request: IARequest;
  return {
    locks: () => ({ bglShared: true, levels: {} }),
    checkPrereq() {
      const data = ctx.config.data;
      const mode = op.mode as string;
      if (mode === 'allocate' || mode === 'multi-allocate') {
        const existing = Object.values(data.instances).find((i) => i.name === op.name || i.name.split('.')[0] === op.name);
        if (existing) throw new OpPrereqError(`Instance '${existing.name}' already in the cluster`, ECODE.EXISTS);
        const disks = (op.disks as unknown[] | undefined) ?? [];
        for (const row of disks) {
          const r = row as Dict;
          if (r === null || typeof r !== 'object' || Array.isArray(r) || !Number.isInteger(r.size) || !['rw', 'ro'].includes(r.mode as string)) {
            throw new OpPrereqError("Invalid contents of the 'disks' parameter", ECODE.INVAL);
          }
        }
        op.hypervisor ??= data.cluster.enabled_hypervisors[0];
        const base = (name: string): AllocRequest => ({
          name, memory: Number(op.memory ?? 0), disks: disks.map((d) => ({ ...(d as Dict) })),
          disk_template: (op.disk_template as string | undefined) ?? data.cluster.enabled_disk_templates[0],
          group_name: (op.group_name as string | undefined) ?? null, os: (op.os as string | undefined) ?? '', tags: op.tags as string[],
          nics: (op.nics as Dict[] | undefined) ?? [], vcpus: Number(op.vcpus ?? 0), spindle_use: op.spindle_use as number,
          hypervisor: op.hypervisor as string, node_whitelist: null,
        });
        request = mode === 'allocate' ? { mode: 'allocate', ...base(op.name as string) }
          : { mode: 'multi-allocate', instances: Array.from({ length: op.count as number }, (_, i) => base(`${String(op.name)}${i}`)) };
      } else if (mode === 'relocate') {
        const inst = expandInstance(data, op.name as string);
        op.name = inst.name;
        request = { mode: 'relocate', instUuid: inst.uuid, relocateFrom: secondaryNodes(data, inst) };
      } else if (mode === 'change-group' || mode === 'node-evacuate') {
        const names = (op.instances as string[] | undefined) ?? [];
        if (names.length === 0) throw new OpPrereqError('Missing instances', ECODE.INVAL);
        const full = names.map((n) => expandInstance(data, n).name);
        request = mode === 'node-evacuate'
          ? { mode: 'node-evacuate', instances: full, evacMode: (op.evac_mode as string | undefined) ?? 'all', ignoreSoftErrors: false }
          : { mode: 'change-group', instances: full, targetGroups: (op.target_groups as string[] | undefined) ?? [] };
      } else {
        throw new OpPrereqError(`Invalid test allocator mode '${mode}'`, ECODE.INVAL);
      }
      if (op.direction === 'out' && !op.iallocator) throw new OpPrereqError('Missing allocator name', ECODE.INVAL);
    },
    async exec() {
      if (op.direction === 'in') return JSON.stringify(await buildInput(ctx, request));
      return (await runIAllocatorRequest(ctx, op.iallocator as string, request, false)).outText;
    },
  };
}

export const ALLOCATION_LUS: Readonly<Record<string, LUFactory>> = {
  OP_INSTANCE_MULTI_ALLOC: instanceMultiAlloc,
  OP_TEST_ALLOCATOR: testAllocator,
};
