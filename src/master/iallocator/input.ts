// The IAllocator input message, version 2 (spec/surface.md §7.2; upstream's
// masterd/iallocator.py IAllocator._ComputeClusterData and the IAReq* requests): the
// configuration plus live node data from node_info and all_instances_info.
import { ECODE, OpExecError, OpPrereqError } from '../../core/errors.ts';
import type { RpcResult } from '../../rpc/client.ts';
import { filledBeParams, filledNicParams, instanceDiskTemplate, instanceDisks, secondaryNodes } from '../config/instance-params.ts';
import type { ConfigData, InstanceObject, NodeObject } from '../config/model.ts';
import { filledNdParams } from '../config/node-fields.ts';
import { rpcTarget, type LUContext } from '../cmdlib/base.ts';
import { groupIpolicy } from '../cmdlib/instance-ipolicy.ts';
import { nodeInfoParts } from '../cmdlib/instance-utils.ts';

type Dict = Record<string, unknown>;

export const IALLOCATOR_VERSION = 2;
const DTS_INT_MIRROR = ['drbd'];
const DTS_MIRRORED = ['blockdev', 'diskless', 'drbd', 'ext', 'gluster', 'rbd', 'sharedfile'];
const DTS_LVM = ['plain', 'drbd'];
const DRBD_META_SIZE = 128;
/** Storage types whose space node_info reports (upstream's STS_REPORT). */
const TEMPLATE_STORAGE: Record<string, string> = { file: 'file', plain: 'lvm-vg', drbd: 'lvm-vg' };

/** One new instance (IAReqInstanceAlloc). */
export interface AllocRequest {
  name: string;
  disk_template: string;
  group_name: string | null;
  tags: string[];
  os: string;
  vcpus: number;
  memory: number;
  spindle_use: number;
  /** ComputeDisks' dicts (size, mode, vg, name, spindles...); dev_type is added. */
  disks: Dict[];
  nics: Dict[];
  hypervisor: string;
  /** Nodes that may be used (opportunistic locking); null = all. */
  node_whitelist?: string[] | null;
}

export type IARequest =
  | ({ mode: 'allocate' } & AllocRequest)
  | { mode: 'multi-allocate'; instances: AllocRequest[] }
  | { mode: 'relocate'; instUuid: string; relocateFrom: string[] }
  | { mode: 'node-evacuate'; instances: string[]; evacMode: string; ignoreSoftErrors?: boolean }
  | { mode: 'change-group'; instances: string[]; targetGroups: string[] };

/** gmi.ComputeDiskSize: the space the disks need on a node, by template. */
export function computeDiskSize(disks: Array<{ dev_type?: unknown; size?: unknown }>): number {
  let total = 0;
  for (const d of disks) {
    const size = Number(d.size ?? 0);
    switch (d.dev_type) {
      case 'diskless':
      case 'blockdev':
        break;
      case 'drbd':
        total += size + DRBD_META_SIZE;
        break;
      default:
        total += size;
    }
  }
  return total;
}

/** IAReqInstanceAlloc.RequiredNodes */
export function requiredNodes(diskTemplate: string): number {
  return DTS_INT_MIRROR.includes(diskTemplate) ? 2 : 1;
}

function allocRequestDict(r: AllocRequest): Dict {
  const disks = r.disks.map((d) => ({ ...d, dev_type: r.disk_template }));
  return {
    name: r.name, disk_template: r.disk_template, group_name: r.group_name, tags: r.tags, os: r.os, vcpus: r.vcpus,
    memory: r.memory, spindle_use: r.spindle_use, disks, disk_space_total: computeDiskSize(disks), nics: r.nics,
    required_nodes: requiredNodes(r.disk_template), hypervisor: r.hypervisor,
  };
}

const nodeName = (data: ConfigData, uuid: string) => data.nodes[uuid]?.name ?? uuid;

/** The request part of the message (GetRequest), with its type. */
function requestDict(data: ConfigData, req: IARequest): Dict {
  switch (req.mode) {
    case 'allocate': {
      const out: Dict = { ...allocRequestDict(req), type: 'allocate' };
      if (req.node_whitelist) out['restrict-to-nodes'] = req.node_whitelist;
      return out;
    }
    case 'multi-allocate':
      return { instances: req.instances.map(allocRequestDict), type: 'multi-allocate' };
    case 'relocate': {
      const inst = data.instances[req.instUuid];
      const disks = instanceDisks(data, inst);
      if (!disks.every((d) => DTS_MIRRORED.includes(d.dev_type))) {
        throw new OpPrereqError("Can't relocate non-mirrored instances", ECODE.INVAL);
      }
      if (disks.some((d) => DTS_INT_MIRROR.includes(d.dev_type)) && secondaryNodes(data, inst).length !== 1) {
        throw new OpPrereqError('Instance has not exactly one secondary node', ECODE.STATE);
      }
      return {
        name: inst.name, disk_space_total: computeDiskSize(disks.map((d) => ({ size: d.size, dev_type: d.dev_type }))),
        required_nodes: 1, relocate_from: req.relocateFrom.map((u) => nodeName(data, u)), type: 'relocate',
      };
    }
    case 'node-evacuate':
      return { instances: req.instances, evac_mode: req.evacMode, type: 'node-evacuate' };
    case 'change-group':
      return { instances: req.instances, target_groups: req.targetGroups, type: 'change-group' };
  }
}

/** _ComputeNodeGroupData */
function nodeGroups(data: ConfigData): Dict {
  const out: Dict = {};
  for (const [uuid, g] of Object.entries(data.nodegroups)) {
    out[uuid] = {
      name: g.name, alloc_policy: g.alloc_policy, networks: Object.keys((g.networks as Dict | undefined) ?? {}),
      ipolicy: groupIpolicy(data, g), tags: [...((g.tags as string[] | undefined) ?? [])],
    };
  }
  return out;
}

/** _ComputeBasicNodeData */
function basicNode(data: ConfigData, n: NodeObject): Dict {
  return {
    tags: [...(n.tags ?? [])], primary_ip: n.primary_ip, secondary_ip: n.secondary_ip, offline: n.offline, drained: n.drained,
    master_candidate: n.master_candidate, group: n.group, master_capable: n.master_capable, vm_capable: n.vm_capable,
    ndparams: filledNdParams(data, n) ?? {},
  };
}

function intAttr(hv: Dict, node: string, attr: string): number {
  if (!Object.hasOwn(hv, attr)) throw new OpExecError(`Node '${node}' didn't return attribute '${attr}'`);
  const v = hv[attr];
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new OpExecError(`Node '${node}' returned invalid value for '${attr}': ${String(v)}`);
  return v;
}

/** The storage units node_info is asked for, for one disk template on one node. */
function storageUnits(data: ConfigData, n: NodeObject, template: string): unknown[] {
  const c = data.cluster as ConfigData['cluster'] & Dict;
  const excl = Boolean(filledNdParams(data, n)?.exclusive_storage);
  if (template === 'file') return [['file', c.file_storage_dir, []]];
  if (DTS_LVM.includes(template) && c.volume_group_name) {
    return [['lvm-vg', c.volume_group_name, [excl]], ['lvm-pv', c.volume_group_name, [excl]]];
  }
  return [];
}

/** _ComputeStorageDataFromSpaceInfoByTemplate: [total_disk, free_disk, total_spindles, free_spindles]. */
function storageData(space: Dict[], node: string, template: string): [number, number, number, number] {
  const type = TEMPLATE_STORAGE[template];
  if (!type) return [0, 0, 0, 0];
  const unit = space.find((u) => u.type === type);
  if (!unit) throw new OpExecError(`Node '${node}' didn't return space info for disktemplate '${template}'`);
  let spindles: [number, number] = [0, 0];
  if (DTS_LVM.includes(template)) {
    const pv = space.find((u) => u.type === 'lvm-pv');
    if (pv) spindles = [Number(pv.storage_size ?? 0), Number(pv.storage_free ?? 0)];
  }
  return [Number(unit.storage_size ?? 0), Number(unit.storage_free ?? 0), ...spindles];
}

/** _ComputeInstanceData */
function instanceData(data: ConfigData): Dict {
  const out: Dict = {};
  for (const inst of Object.values(data.instances)) {
    const be = filledBeParams(data, inst);
    const nics = inst.nics.map((nic) => {
      const p = filledNicParams(data, nic);
      const d: Dict = { mac: nic.mac, ip: nic.ip ?? null, mode: p.mode, link: p.link };
      if (p.mode === 'bridged') d.bridge = p.link;
      return d;
    });
    const disks = instanceDisks(data, inst).map((d) => ({ dev_type: d.dev_type, size: d.size, mode: d.mode, spindles: d.spindles ?? null }));
    out[inst.name] = {
      tags: [...(inst.tags ?? [])], admin_state: inst.admin_state, vcpus: be.vcpus, memory: be.maxmem, spindle_use: be.spindle_use,
      os: inst.os, nodes: [inst.primary_node, ...secondaryNodes(data, inst)].map((u) => nodeName(data, u)), nics, disks,
      disk_template: instanceDiskTemplate(data, inst), disks_active: inst.disks_active, hypervisor: inst.hypervisor,
      disk_space_total: computeDiskSize(disks),
    };
  }
  return out;
}

/** The hypervisor and disk template the live node data is asked for. */
function requestContext(data: ConfigData, req: IARequest): { hypervisor: string; template: string } {
  const c = data.cluster;
  let hypervisor = c.enabled_hypervisors[0];
  let template: string | null = null;
  if (req.mode === 'allocate') {
    hypervisor = req.hypervisor;
    template = req.disk_template;
  } else if (req.mode === 'relocate') {
    const inst = data.instances[req.instUuid] as InstanceObject;
    hypervisor = inst.hypervisor;
    template = instanceDiskTemplate(data, inst);
  }
  return { hypervisor, template: template ?? c.enabled_disk_templates[0] };
}

/** The whole input message (in_data) for a request. */
export async function buildInput(ctx: LUContext, req: IARequest): Promise<Dict> {
  const data = ctx.config.data;
  const c = data.cluster as ConfigData['cluster'] & Dict;
  const request = requestDict(data, req);
  const { hypervisor, template } = requestContext(data, req);
  const hvparams = (c.hvparams ?? {}) as Record<string, Dict>;
  const vmNodes = Object.values(data.nodes).filter((n) => n.vm_capable && !n.offline);
  const ask = async (proc: 'node_info' | 'all_instances_info', args: (n: NodeObject) => unknown[]) => {
    const byName = new Map(vmNodes.map((n) => [n.name, n]));
    return vmNodes.length === 0 ? new Map<string, RpcResult>()
      : ctx.rpc.callMany(vmNodes.map(rpcTarget), proc, (t) => args(byName.get(t.name)!));
  };
  const [nodeInfo, instInfo] = await Promise.all([
    ask('node_info', (n) => [storageUnits(data, n, template), [[hypervisor, hvparams[hypervisor] ?? {}]]]),
    ask('all_instances_info', () => [c.enabled_hypervisors, hvparams]),
  ]);

  const nodes: Dict = {};
  const instances = Object.values(data.instances);
  for (const n of Object.values(data.nodes)) {
    const basic = basicNode(data, n);
    if (!n.vm_capable || n.offline) {
      nodes[n.name] = basic;
      continue;
    }
    const ni = nodeInfo.get(n.name);
    if (!ni || !ni.ok) throw new OpExecError(`Can't get data for node ${n.name}: ${ni && !ni.ok ? ni.error : 'no answer'}`);
    const ii = instInfo.get(n.name);
    if (!ii || !ii.ok) throw new OpExecError(`Can't get node instance info from node ${n.name}: ${ii && !ii.ok ? ii.error : 'no answer'}`);
    const { storage, hv } = nodeInfoParts(ni.payload);
    if (hv === null) throw new OpExecError(`Node '${n.name}' didn't return attribute 'memory_free'`);
    const running = (ii.payload ?? {}) as Record<string, Dict>;
    // _ComputeInstanceMemory: memory the primary instances may still claim is not free.
    let memFree = intAttr(hv, n.name, 'memory_free');
    let iPriMem = 0;
    let iPriUpMem = 0;
    for (const inst of instances) {
      if (inst.primary_node !== n.uuid) continue;
      const maxmem = Number(filledBeParams(data, inst).maxmem ?? 0);
      iPriMem += maxmem;
      const used = running[inst.name] ? Number(running[inst.name].memory ?? 0) : 0;
      if (inst.admin_state === 'up') {
        memFree -= Math.max(0, maxmem - used);
        iPriUpMem += maxmem;
      }
    }
    const [totalDisk, freeDisk, totalSpindles, freeSpindles] = storageData(storage, n.name, template);
    nodes[n.name] = {
      total_memory: intAttr(hv, n.name, 'memory_total'), reserved_memory: intAttr(hv, n.name, 'memory_dom0'), free_memory: memFree,
      total_disk: totalDisk, free_disk: freeDisk, total_spindles: totalSpindles, free_spindles: freeSpindles,
      total_cpus: intAttr(hv, n.name, 'cpu_total'), reserved_cpus: intAttr(hv, n.name, 'cpu_dom0'),
      i_pri_memory: iPriMem, i_pri_up_memory: iPriUpMem, ...basic,
    };
  }
  return {
    version: IALLOCATOR_VERSION, cluster_name: c.cluster_name, cluster_tags: [...(c.tags ?? [])],
    enabled_hypervisors: [...c.enabled_hypervisors], ipolicy: c.ipolicy ?? {}, nodegroups: nodeGroups(data), nodes,
    instances: instanceData(data), request,
  };
}
