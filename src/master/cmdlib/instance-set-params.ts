// OP_INSTANCE_SET_PARAMS (upstream's LUInstanceSetParams): backend, hypervisor and OS
// parameters, NICs and disks added/modified/removed, runtime memory, offline/online.
// Changes take effect at the instance's next start; the result lists [what, new value].
// Disk template conversion and moving to another primary node are not offered.
import crypto from 'node:crypto';
import net from 'node:net';
import { ECODE, OpExecError, OpPrereqError } from '../../core/errors.ts';
import type { OpInput } from '../../core/opcodes.ts';
import { BES_PARAMETER_TYPES, forceDictType, HVS_PARAMETER_TYPES, NICS_PARAMETER_TYPES, type TypeTable } from '../../core/params.ts';
import {
  filledBeParams, instanceDiskTemplate, instanceDisks, MAX_DISKS, MAX_NICS, osBaseName,
} from '../config/instance-params.ts';
import { AddressPool, AddressPoolError } from '../config/address-pool.ts';
import type { DiskObject, InstanceObject, NetworkObject, NicObject } from '../config/model.ts';
import type { ConfigTx } from '../config/store.ts';
import { logInfo, type HookSpec, type LogicalUnit, type LUContext } from './base.ts';
import {
  addressPicked, checkNicParams, clusterMacs, dropPick, generateMac, groupNetParams, holdAddress, INIC_PARAMS_TYPES, networkOfIpInGroup, normalizeMac,
  pickPoolAddress,
} from './instance-nics.ts';
import { lookupNetwork } from './tags.ts';
import { groupIpolicy, ipolicyViolations } from './instance-ipolicy.ts';
import { checkHypervisorParams } from './hv-validate.ts';
import {
  calculateFileStorageDir, createDisks, DEFAULT_FILE_DRIVER, DISK_ACCESS_MODES, forceDiskParams, generateDisks,
  MODIFIABLE_IDISK_PARAMS_TYPES, removeDisks, shutdownInstanceDisks, undoCreateDisks, validateDeviceNames, waitForSync,
  wipeDisks,
} from './instance-storage.ts';
import {
  callNode, checkHvParamsNotGlobal, checkInstanceState, checkNodeFreeMemory, checkOsParams, clusterHvParamsFor, hookNic,
  INSTANCE_NOT_RUNNING, type InstanceEnvOverride, instanceHooks, instanceLU, instanceNodes, instDict, logWarning,
  markInstanceDown, nodeInfoParts, nodeName, raiseRpc, setInstanceStatus, updatedParams, upgradeBeParams,
} from './instance-utils.ts';

type Dict = Record<string, unknown>;
type Action = 'add' | 'attach' | 'modify' | 'remove' | 'detach';
/** One container modification: action, index (or name/uuid), parameters. */
export type Mod = [Action, number | string, Dict];

const ACTIONS: readonly string[] = ['add', 'attach', 'modify', 'remove', 'detach'];

/**
 * _UpgradeDiskNicMods: 2.x clients send [op or index, params] pairs (one add/remove at
 * most); 3.x sends [action, index or name, params] triples.
 */
export function upgradeMods(kind: 'disk' | 'NIC', mods: unknown[]): Mod[] {
  if (mods.length === 0) return [];
  const bad = () => new OpPrereqError(`Invalid ${kind} modifications: ${JSON.stringify(mods)}`, ECODE.INVAL);
  if (!mods.every((m) => Array.isArray(m) && (m.length === 2 || m.length === 3))) throw bad();
  if ((mods[0] as unknown[]).length === 2) {
    let addRemove = 0;
    return (mods as Array<[unknown, unknown]>).map(([op, params]) => {
      if (params === null || typeof params !== 'object' || Array.isArray(params)) throw bad();
      if (typeof op === 'string' && ['add', 'attach', 'remove', 'detach'].includes(op)) {
        addRemove += 1;
        if (addRemove > 1) throw new OpPrereqError(`Only one ${kind} add/attach/remove/detach operation is supported at a time`, ECODE.INVAL);
        return [op as Action, -1, params as Dict];
      }
      if (typeof op !== 'number' && !(typeof op === 'string' && /^-?\d+$/.test(op))) throw bad();
      return ['modify', Number(op), params as Dict];
    });
  }
  return (mods as Array<[unknown, unknown, unknown]>).map(([op, idx, params]) => {
    if (typeof op !== 'string' || !ACTIONS.includes(op)) throw bad();
    if (typeof idx !== 'number' && typeof idx !== 'string') throw bad();
    if (params === null || typeof params !== 'object' || Array.isArray(params)) throw bad();
    return [op as Action, idx, params as Dict];
  });
}

/** GetIndexFromIdentifier (add): -1 appends; a position at most the container's length. */
export function indexForAdd(kind: string, identifier: number | string, length: number): number {
  const idx = Number(identifier);
  if (!Number.isInteger(idx)) throw new OpPrereqError('Only positive integer or -1 is accepted', ECODE.INVAL);
  if (idx === -1) return length;
  if (idx < 0) throw new OpPrereqError('Not accepting negative indices other than -1', ECODE.INVAL);
  if (idx > length) throw new OpPrereqError(`Got ${kind} index ${idx}, but there are only ${length}`, ECODE.INVAL);
  return idx;
}

/** GetItemFromContainer (modify/remove): an index (-1 = the last), a name or a uuid. */
export function indexOfItem<T extends { name?: string | null; uuid: string }>(kind: string, identifier: number | string, items: T[]): number {
  const asNumber = typeof identifier === 'number' ? identifier : /^-?\d+$/.test(identifier) ? Number(identifier) : null;
  if (asNumber !== null) {
    if (asNumber === -1 && items.length > 0) return items.length - 1;
    if (asNumber < 0) throw new OpPrereqError('Not accepting negative indices other than -1', ECODE.INVAL);
    if (asNumber >= items.length) throw new OpPrereqError(`Got ${kind} index ${asNumber}, but there are only ${items.length}`, ECODE.INVAL);
    return asNumber;
  }
  const i = items.findIndex((it) => it.uuid === identifier || it.name === identifier);
  if (i < 0) throw new OpPrereqError(`Cannot find ${kind} with identifier ${identifier}`, ECODE.NOENT);
  return i;
}

/** _CheckMods: the parameters' types, and no parameters for removals. */
function checkMods(kind: string, mods: Mod[], types: TypeTable | null): void {
  for (const [op, , params] of mods) {
    if (types) forceDictType(params, types);
    if ((op === 'remove' || op === 'detach') && Object.keys(params).length > 0) {
      throw new OpPrereqError(`No settings should be passed when removing or detaching a ${kind}`, ECODE.INVAL);
    }
  }
}

/** _VerifyNicModification */
function verifyNicModification(op: Action, params: Dict): void {
  if (op === 'attach' || op === 'detach') throw new OpPrereqError(`${op === 'attach' ? 'Attach' : 'Detach'} operation is not supported for NICs`, ECODE.INVAL);
  if (op !== 'add' && op !== 'modify') return;
  const name = params.name as string | null | undefined;
  if (typeof name === 'string' && name.toLowerCase() === 'none') params.name = null;
  let network = (params.network as string | null | undefined) ?? null;
  if (network !== null) {
    if (network.toLowerCase() === 'none') {
      params.network = null;
      network = null;
    } else if ((params.link ?? null) !== null || (params.mode ?? null) !== null) {
      throw new OpPrereqError('If network is given mode or link should not', ECODE.INVAL);
    }
  }
  if (op === 'add' && params.mac === undefined) params.mac = 'auto';
  const ip = params.ip as string | null | undefined;
  if (ip !== undefined && ip !== null) {
    if (ip.toLowerCase() === 'none') params.ip = null;
    else if (ip.toLowerCase() === 'pool') {
      if (op === 'add' && network === null) throw new OpPrereqError('If ip=pool, parameter network cannot be none', ECODE.INVAL);
    } else if (net.isIP(ip) === 0) {
      throw new OpPrereqError(`Invalid IP address '${ip}'`, ECODE.INVAL);
    }
  }
  if (params.mac !== undefined && params.mac !== null) {
    let mac = params.mac as string;
    if (mac !== 'auto' && mac !== 'generate') mac = normalizeMac(mac);
    if (op === 'modify' && mac === 'auto') throw new OpPrereqError("'auto' is not a valid MAC address when modifying an existing NIC", ECODE.INVAL);
    params.mac = mac;
  }
}

type Change = [string, unknown];

/** OP_INSTANCE_SET_PARAMS */
export function instanceSetParams(op: OpInput, ctx: LUContext): LogicalUnit {
  let inst: InstanceObject;
  let diskMods: Mod[] = [];
  let nicMods: Mod[] = [];
  let hotplug = false;
  let beNew: Dict = {};
  let beInst: Dict = {};
  let hvInst: Dict = {};
  let osInst: Dict = {};
  let osPrivInst: Dict = {};
  let newNics: NicObject[] | null = null;
  let nicChanges: Change[] = [];
  /** Pool addresses ([network uuid, address]) the NIC changes give back and take. */
  const ipReleases: Array<[string, string]> = [];
  const ipReserves: Array<[string, string]> = [];
  const warnings: string[] = [];
  const has = (v: unknown) => v !== null && v !== undefined && !(typeof v === 'object' && Object.keys(v as object).length === 0);

  return instanceLU(op, ctx, { nodeRes: 'all' }, (current) => { inst = current; }, {
    checkArguments() {
      if (!(has(op.nics) || has(op.disks) || has(op.disk_template) || has(op.hvparams) || has(op.beparams) || has(op.os_name) ||
        has(op.osparams) || (op.offline !== undefined && op.offline !== null) || has(op.runtime_mem) || has(op.pnode) ||
        has(op.osparams_private) || (op.instance_communication !== undefined && op.instance_communication !== null))) {
        throw new OpPrereqError('No changes submitted', ECODE.INVAL);
      }
      if (has(op.hvparams)) checkHvParamsNotGlobal(op.hvparams as Dict);
      diskMods = upgradeMods('disk', op.disks as unknown[]);
      nicMods = upgradeMods('NIC', op.nics as unknown[]);
      if (op.disk_template) {
        if (diskMods.length > 0) throw new OpPrereqError('Disk template conversion and other disk changes not supported at the same time', ECODE.INVAL);
        throw new OpPrereqError('Disk template conversion is not supported by this cluster', ECODE.INVAL);
      }
      if (op.instance_communication) throw new OpPrereqError('Instance communication needs an instance communication network, which this cluster does not manage', ECODE.INVAL);
      checkMods('NIC', nicMods, INIC_PARAMS_TYPES);
      for (const [action, , params] of nicMods) verifyNicModification(action, params);
      if (op.pnode) throw new OpPrereqError('Changing the primary node of an instance is not supported by this cluster', ECODE.INVAL);
    },

    async checkPrereq() {
      const data = ctx.config.data;
      const c = ctx.config.cluster as Dict;
      const pnode = inst.primary_node;
      const nodes = instanceNodes(data, inst);
      const disks = instanceDisks(data, inst);

      // _CheckHotplug: only KVM can hotplug; elsewhere the change waits for the next start.
      hotplug = op.hotplug === true || op.hotplug_if_possible === true;
      if (hotplug) {
        logWarning(ctx, 'Hotplug is not supported by this hypervisor');
        hotplug = false;
        logInfo(ctx, 'Modification will take place without hotplugging.');
      }

      // _PreCheckDisks
      if (diskMods.length > 0 && instanceDiskTemplate(data, inst) === 'diskless') {
        throw new OpPrereqError('Disk operations not supported for diskless instances', ECODE.INVAL);
      }
      checkMods('disk', diskMods, null);
      const names = disks.map((d) => ({ name: d.name ?? null, uuid: d.uuid }));
      const newSizes: number[] = [];
      for (const mod of diskMods) {
        const [action, , params] = mod;
        if (action === 'attach' || action === 'detach') throw new OpPrereqError(`Disk ${action} is not supported by this cluster`, ECODE.INVAL);
        if (action === 'add') {
          forceDiskParams(params);
          const mode = (params.mode as string | undefined) ?? 'rw';
          params.mode = mode;
          if (!DISK_ACCESS_MODES.includes(mode)) throw new OpPrereqError(`Invalid disk access mode '${mode}'`, ECODE.INVAL);
          if (params.size === undefined || params.size === null) throw new OpPrereqError("Required disk parameter 'size' missing", ECODE.INVAL);
          const size = Math.trunc(Number(params.size));
          if (!(size > 0)) throw new OpPrereqError(`Invalid disk size '${String(params.size)}'`, ECODE.INVAL);
          params.size = size;
          if (typeof params.name === 'string' && params.name.toLowerCase() === 'none') params.name = null;
          if (params.spindles !== undefined && params.spindles !== null) {
            throw new OpPrereqError('Spindles in instance disks cannot be specified when exclusive storage is not active', ECODE.INVAL);
          }
          if (!op.wait_for_sync && !inst.disks_active) {
            throw new OpPrereqError("Can't add a disk to an instance with deactivated disks and --no-wait-for-sync given", ECODE.INVAL);
          }
          const at = indexForAdd('disk', mod[1], names.length);
          mod[1] = at;
          names.splice(at, 0, { name: (params.name as string | null | undefined) ?? null, uuid: '' });
          newSizes.push(size);
        } else if (action === 'modify') {
          if (Object.hasOwn(params, 'size')) throw new OpPrereqError('Disk size change not possible, use grow-disk', ECODE.INVAL);
          forceDictType(params, MODIFIABLE_IDISK_PARAMS_TYPES);
          if (params.mode !== undefined && !DISK_ACCESS_MODES.includes(String(params.mode))) {
            throw new OpPrereqError(`Invalid disk access mode '${String(params.mode)}'`, ECODE.INVAL);
          }
          if (typeof params.name === 'string' && params.name.toLowerCase() === 'none') params.name = null;
          const at = indexOfItem('disk', mod[1], names as Array<{ name: string | null; uuid: string }>);
          mod[1] = at;
          if (Object.hasOwn(params, 'name')) names[at] = { ...names[at], name: (params.name as string | null) ?? null };
        } else {
          if (!hotplug) await checkInstanceState(ctx, inst, INSTANCE_NOT_RUNNING, "can't remove volume from a running instance without using hotplug");
          const at = indexOfItem('disk', mod[1], names as Array<{ name: string | null; uuid: string }>);
          mod[1] = at;
          names.splice(at, 1);
        }
      }
      validateDeviceNames('disk', names.map((n) => n.name));
      if (names.length > MAX_DISKS) throw new OpPrereqError(`Instance has too many disks (${MAX_DISKS}), cannot add more`, ECODE.STATE);
      if (op.offline !== undefined && op.offline !== null) {
        const msg = op.offline ? "can't change to offline without being down first" : "can't change to online (down) without being offline first";
        await checkInstanceState(ctx, inst, INSTANCE_NOT_RUNNING, msg);
      }

      // _ProcessHVParams
      if (has(op.hvparams)) {
        hvInst = updatedParams(inst.hvparams ?? {}, op.hvparams as Dict);
        forceDictType(hvInst, HVS_PARAMETER_TYPES);
        // CheckHVParams: the nodes' hypervisor must accept the new values (kvm: this qemu).
        await checkHypervisorParams(ctx, nodes, inst.hypervisor, hvInst);
      }
      // _ProcessBeParams
      const beOld = filledBeParams(data, inst);
      if (has(op.beparams)) {
        beInst = updatedParams(inst.beparams ?? {}, op.beparams as Dict, true, true);
        upgradeBeParams(beInst);
        forceDictType(beInst, BES_PARAMETER_TYPES);
        beNew = { ...(((c.beparams as Record<string, Dict> | undefined)?.default) ?? {}), ...beInst };
      }
      const beProposed = has(op.beparams) ? beNew : beOld;

      // _ProcessOsParams
      const osName = op.os_name && !op.force ? (op.os_name as string) : inst.os;
      if (op.os_name && !op.force) await checkNodeHasOs(ctx, pnode, op.os_name as string, op.force_variant === true);
      if (has(op.osparams) || has(op.osparams_private)) {
        const pub = (op.osparams as Dict | undefined) ?? {};
        const priv = (op.osparams_private as Dict | undefined) ?? {};
        const dupes = Object.keys(pub).filter((k) => Object.hasOwn(priv, k));
        if (dupes.length > 0) throw new OpPrereqError(`OS parameters repeated multiple times: ${dupes.join(', ')}`);
        osInst = updatedParams(inst.osparams ?? {}, pub);
        osPrivInst = updatedParams(inst.osparams_private ?? {}, priv);
        await checkOsParams(ctx, true, nodes, osName, { ...osInst, ...osPrivInst }, op.force_variant === true);
      }

      // _ProcessMem
      const beparams = (op.beparams as Dict | undefined) ?? {};
      if (Object.hasOwn(beparams, 'maxmem') && !op.force && Number(beNew.maxmem) > Number(beOld.maxmem)) {
        const hvp = clusterHvParamsFor(ctx, inst.hypervisor);
        const [ni, ii] = await Promise.all([
          callNode(ctx, pnode, 'node_info', [[], [[inst.hypervisor, hvp]]]),
          callNode(ctx, pnode, 'instance_info', [inst.name, inst.hypervisor, hvp]),
        ]);
        if (!ni.ok) warnings.push(`Can't get info from primary node ${nodeName(ctx, pnode)}: ${ni.error}`);
        else {
          const free = nodeInfoParts(ni.payload).hv?.memory_free;
          if (typeof free !== 'number') warnings.push(`Node data from primary node ${nodeName(ctx, pnode)} doesn't contain free memory information`);
          else if (!ii.ok) warnings.push(`Can't get instance runtime information: ${ii.error}`);
          else {
            const info = ii.payload as Dict | null;
            const current = info && Object.keys(info).length > 0 ? Number(info.memory) : 0;
            const missing = Number(beNew.maxmem) - current - free;
            if (missing > 0) {
              throw new OpPrereqError(`This change will prevent the instance from starting, due to ${missing} MB of memory missing on its primary node`, ECODE.NORES);
            }
          }
        }
      }
      if (op.runtime_mem) {
        const hvp = clusterHvParamsFor(ctx, inst.hypervisor);
        const r = await callNode(ctx, pnode, 'instance_info', [inst.name, inst.hypervisor, hvp]);
        const info = raiseRpc(r, `Error checking node ${nodeName(ctx, pnode)}`, true) as Dict | null;
        if (!info || Object.keys(info).length === 0) throw new OpPrereqError(`Instance ${inst.name} is not running`, ECODE.STATE);
        const mem = op.runtime_mem as number;
        if (!op.force && (mem > Number(beProposed.maxmem) || mem < Number(beProposed.minmem))) {
          throw new OpPrereqError(`Instance ${inst.name} must have memory between ${String(beProposed.minmem)} and ${String(beProposed.maxmem)} MB of memory unless --force is given`, ECODE.INVAL);
        }
        const delta = mem - Number(info.memory);
        if (delta > 0) await checkNodeFreeMemory(ctx, pnode, `ballooning memory for instance ${inst.name}`, delta, inst.hypervisor, hvp);
      }

      try {
        // NIC changes, prepared on copies (the hooks see the result); the pool addresses
        // to take and give back are committed with the instance in exec.
        if (nicMods.length > 0) {
          const nics: NicObject[] = inst.nics.map((n) => structuredClone(n));
          const changes: Change[] = [];
          const macs = clusterMacs(data);
          for (const [action, ident, params] of nicMods) {
            if (action === 'add') {
              const at = indexForAdd('NIC', ident, nics.length);
              // _PrepareNicCreate + _CreateNewNic
              const { filled, netUuid } = prepareNicModification(params, null, null, {}, macs);
              const mac = params.mac as string;
              const ip = (params.ip as string | null | undefined) ?? null;
              const nic: NicObject = { mac, nicparams: filled, uuid: crypto.randomUUID() };
              if (ip !== null) nic.ip = ip;
              if (netUuid !== null) nic.network = netUuid;
              if (params.name) nic.name = params.name as string;
              nics.splice(at, 0, nic);
              changes.push([`nic.${at}`, `add:mac=${mac},ip=${pyNone(ip)},mode=${String(filled.mode)},link=${String(filled.link)},network=${pyNone(params.network)}`]);
            } else if (action === 'modify') {
              const at = indexOfItem('NIC', ident, nics);
              const nic = nics[at];
              // _PrepareNicMod + _ApplyNicMods
              const { filled, netUuid } = prepareNicModification(params, nic.ip ?? null, nic.network ?? null, nic.nicparams, macs);
              for (const key of ['mac', 'ip', 'name'] as const) {
                if (!Object.hasOwn(params, key)) continue;
                changes.push([`nic.${key}/${at}`, params[key]]);
                if (params[key] === null) delete nic[key];
                else (nic as unknown as Dict)[key] = params[key];
              }
              if (netUuid !== (nic.network ?? null)) {
                changes.push([`nic.network/${at}`, Object.hasOwn(params, 'network') ? params.network : netUuid]);
                if (netUuid === null) delete nic.network;
                else nic.network = netUuid;
              }
              nic.nicparams = filled;
              for (const [k, v] of Object.entries(filled)) changes.push([`nic.${k}/${at}`, v]);
            } else {
              const at = indexOfItem('NIC', ident, nics);
              // _PrepareNicRemove: the address goes back to its network's pool.
              const [removed] = nics.splice(at, 1);
              if (removed.network && removed.ip) ipReleases.push([removed.network, removed.ip]);
              changes.push([`NIC/${at}`, 'remove']);
            }
          }
          validateDeviceNames('NIC', nics.map((n) => n.name));
          if (nics.length > MAX_NICS) throw new OpPrereqError(`Instance has too many network interfaces (${MAX_NICS}), cannot add more`, ECODE.STATE);
          newNics = nics;
          nicChanges = changes;
        }

        if (!op.ignore_ipolicy) {
          const group = data.nodegroups[ctx.config.node(pnode)?.group ?? ''];
          const ipolicy = groupIpolicy(data, group);
          const sizes = [...disks.map((d) => d.size)];
          const kept = sizes.filter((_, i) => !diskMods.some(([a, at]) => a === 'remove' && at === i));
          const spec = {
            diskCount: kept.length + newSizes.length, diskSizes: [...kept, ...newSizes],
            nicCount: (newNics ?? inst.nics).length, spindleUse: beNew.spindle_use, cpuCount: beNew.vcpus,
          };
          const template = instanceDiskTemplate(data, inst);
          const res = [
            ...ipolicyViolations(ipolicy, { ...spec, memorySize: beNew.maxmem }, template),
            ...ipolicyViolations(ipolicy, { ...spec, memorySize: beNew.minmem }, template),
          ];
          if (res.length > 0) {
            throw new OpPrereqError(`Instance allocation to group ${group?.uuid ?? ''} (${group?.name ?? ''}) violates policy: ${[...new Set(res)].join(', ')}`, ECODE.INVAL);
          }
        }
      } catch (err) {
        // The addresses picked from pools (ip=pool) go back for other jobs.
        dropPoolPicks();
        throw err;
      }
      // A dry run ends after the checks: nothing will commit what they hold.
      if (op.dry_run === true) dropPoolPicks();
    },

    hooks(): HookSpec {
      const data = ctx.config.data;
      const override: InstanceEnvOverride = {};
      if (Object.hasOwn(beNew, 'minmem')) override.minmem = beNew.minmem;
      if (Object.hasOwn(beNew, 'maxmem')) override.maxmem = beNew.maxmem;
      if (Object.hasOwn(beNew, 'vcpus')) override.vcpus = beNew.vcpus;
      if (newNics) override.nics = newNics.map((n) => hookNic(data, n));
      const extra: HookSpec['env'] = {};
      if (op.runtime_mem) extra.RUNTIME_MEMORY = op.runtime_mem as number;
      return instanceHooks(ctx, 'instance-modify', data.instances[inst.uuid] ?? inst, extra, override);
    },

    async exec() {
      try {
        return await execChanges();
      } finally {
        dropPoolPicks();
      }
    },
  });

  /** Exec: the changes in order; the result lists [what, new value]. */
  async function execChanges(): Promise<Change[]> {
    for (const w of warnings) ctx.feedback(`WARNING: ${w}`);
    const result: Change[] = [];
    if (op.runtime_mem) {
      const r = await callNode(ctx, inst.primary_node, 'instance_balloon_memory', [instDict(ctx, inst), op.runtime_mem]);
      raiseRpc(r, 'Cannot modify instance runtime memory');
      result.push(['runtime_memory', op.runtime_mem]);
    }
    for (const [action, at, params] of diskMods) {
      inst = ctx.config.data.instances[inst.uuid];
      if (action === 'add') result.push(...await addDisk(at as number, params));
      else if (action === 'modify') result.push(...await modifyDisk(at as number, params));
      else result.push(...await removeDisk(at as number));
    }
    inst = await ctx.config.update((tx) => {
      const i = tx.data.instances[inst.uuid];
      if (newNics) {
        commitNicAddresses(tx);
        i.nics = newNics;
        result.push(...nicChanges);
      }
      if (has(op.hvparams)) {
        i.hvparams = hvInst;
        for (const [k, v] of Object.entries(op.hvparams as Dict)) result.push([`hv/${k}`, v]);
      }
      if (has(op.beparams)) {
        i.beparams = beInst;
        for (const [k, v] of Object.entries(op.beparams as Dict)) result.push([`be/${k}`, v]);
      }
      if (op.os_name) i.os = op.os_name as string;
      if (has(op.osparams)) {
        i.osparams = osInst;
        for (const [k, v] of Object.entries(op.osparams as Dict)) result.push([`os/${k}`, v]);
      }
      if (has(op.osparams_private)) {
        i.osparams_private = osPrivInst;
        for (const k of Object.keys(op.osparams_private as Dict)) result.push([`os_private/${k}`, '<redacted>']);
      }
      tx.modified(i);
      return i;
    });
    if (op.offline === true) {
      inst = await setInstanceStatus(ctx, inst.uuid, { adminState: 'offline', source: 'admin', disksActive: false });
      result.push(['admin_state', 'offline']);
    } else if (op.offline === false) {
      inst = await markInstanceDown(ctx, inst.uuid);
      result.push(['admin_state', 'down']);
    }
    return result;
  }

  /** Forget this job's pool picks and held addresses (committed by now, or given up). */
  function dropPoolPicks(): void {
    for (const [uuid, ip] of ipReserves) dropPick(uuid, ip);
  }

  /**
   * _PrepareNicModification for a NIC being added (old values null/{}) or modified: the
   * network (its node group's netparams replace the NIC's own, whose link or mode may
   * then not be changed), the filled nicparams checked, the MAC (generated for
   * auto/generate, or when the NIC changes to a network of another MAC prefix), and the
   * address: ip=pool takes the pool's first free one, another address in a network must be
   * free there, one outside networks must not belong to a network of the node's group
   * (conflicts check); the old address goes back to its pool. `params` get the MAC and
   * address chosen.
   */
  function prepareNicModification(params: Dict, oldIp: string | null, oldNet: string | null, oldParams: Dict, macs: Set<string>): { filled: Dict; netUuid: string | null } {
    const data = ctx.config.data;
    const pnode = inst.primary_node;
    const c = ctx.config.cluster as Dict;
    const update: Dict = {};
    for (const k of ['mode', 'link', 'vlan']) if (Object.hasOwn(params, k)) update[k] = params[k];
    const reqLink = (update.link as string | null | undefined) ?? null;
    const reqMode = (update.mode as string | null | undefined) ?? null;

    const netRef = Object.hasOwn(params, 'network') ? (params.network as string | null) : oldNet;
    const netUuid = netRef ? lookupNetwork(data, netRef) : null;
    const net = netUuid !== null ? data.networks[netUuid] : null;
    let newParams: Dict;
    if (net) {
      const netparams = groupNetParams(data, net.uuid, pnode);
      if (netparams === null) throw new OpPrereqError(`No netparams found for the network ${net.name}, probably not connected`, ECODE.INVAL);
      newParams = netparams;
    } else {
      newParams = updatedParams(oldParams, update);
    }
    forceDictType(newParams, NICS_PARAMETER_TYPES);
    const filled = { ...(((c.nicparams as Record<string, Dict> | undefined)?.default) ?? {}), ...newParams };
    checkNicParams(filled);
    if (filled.mode === 'routed') {
      const ip = Object.hasOwn(params, 'ip') ? (params.ip as string | null) : oldIp;
      if (ip === null && !net) throw new OpPrereqError('Cannot set the NIC IP address to None on a routed NIC if not attached to a network', ECODE.INVAL);
    } else if (filled.mode === 'openvswitch') {
      logInfo(ctx, 'OVS links are currently not checked for correctness');
    }

    const macPrefix = (uuid: string | null) => (uuid !== null ? (data.networks[uuid]?.mac_prefix ?? null) : null);
    const newMac = () => generateMac(macPrefix(netUuid) ?? String(c.mac_prefix ?? 'aa:00:00'), macs);
    if (Object.hasOwn(params, 'mac')) {
      const mac = params.mac as string | null;
      if (mac === null) throw new OpPrereqError('Cannot unset the NIC MAC address', ECODE.INVAL);
      if (mac === 'auto' || mac === 'generate') {
        params.mac = newMac();
      } else {
        if (macs.has(mac)) throw new OpPrereqError(`MAC address '${mac}' already in use in cluster`, ECODE.NOTUNIQUE);
        macs.add(mac);
      }
    } else if (netUuid !== oldNet && macPrefix(netUuid) !== macPrefix(oldNet)) {
      params.mac = newMac();
    }

    const newIp = Object.hasOwn(params, 'ip') ? (params.ip as string | null) : oldIp;
    if (newIp !== oldIp || netUuid !== oldNet) {
      if (newIp) {
        if (newIp.toLowerCase() === 'pool') {
          if (!net) throw new OpPrereqError('ip=pool, but no network found', ECODE.INVAL);
          let ip: string;
          try {
            ip = pickPoolAddress(net, takenHere(net.uuid));
          } catch (err) {
            if (!(err instanceof AddressPoolError)) throw err;
            throw new OpPrereqError('Unable to get a free IP from the address pool', ECODE.STATE);
          }
          ipReserves.push([net.uuid, ip]);
          logInfo(ctx, `Chose IP ${ip} from network ${net.name}`);
          params.ip = ip;
        } else if (net) {
          if (!ipAvailable(net, newIp)) throw new OpPrereqError(`IP ${newIp} not available in network ${net.name}`, ECODE.NOTUNIQUE);
          holdAddress(net.uuid, newIp);
          ipReserves.push([net.uuid, newIp]);
          logInfo(ctx, `Reserving IP ${newIp} in network ${net.name}`);
        } else if (op.conflicts_check !== false) {
          const conflicting = networkOfIpInGroup(data, newIp, pnode);
          if (conflicting !== null) {
            throw new OpPrereqError(`The requested IP address (${newIp}) belongs to network ${conflicting}, but the target NIC does not.`, ECODE.STATE);
          }
        }
      }
      if (oldIp && oldNet) ipReleases.push([oldNet, oldIp]);
    } else if (oldNet !== null && (reqLink !== null || reqMode !== null)) {
      throw new OpPrereqError('Not allowed to change link or mode of a NIC that is connected to a network', ECODE.INVAL);
    }
    return { filled, netUuid };
  }

  /** Addresses of the network this job already takes. */
  function takenHere(netUuid: string): Set<string> {
    return new Set(ipReserves.filter(([u]) => u === netUuid).map(([, ip]) => ip));
  }

  /**
   * ReserveIp's check: the address in the network, not used by an instance (unless this
   * job gives it back), nor picked by another job or this one, nor (conflicts check)
   * reserved externally.
   */
  function ipAvailable(net: NetworkObject, ip: string): boolean {
    try {
      const pool = new AddressPool(net);
      if (pool.isReserved(ip) && !ipReleases.some(([u, a]) => u === net.uuid && a === ip)) return false;
      if (op.conflicts_check !== false && pool.isReserved(ip, true)) return false;
    } catch (err) {
      if (!(err instanceof AddressPoolError)) throw err;
      return false;
    }
    return !addressPicked(net.uuid, ip) && !takenHere(net.uuid).has(ip);
  }

  /**
   * The NIC changes' addresses given back to and taken from the pools, in the change that
   * stores the NICs (all checked on copies first: a failure leaves the configuration as it was).
   */
  function commitNicAddresses(tx: ConfigTx): void {
    const pools = new Map<string, AddressPool>();
    const poolOf = (uuid: string): AddressPool | null => {
      const net = tx.data.networks[uuid];
      if (!net) return null;
      if (!pools.has(uuid)) pools.set(uuid, new AddressPool(structuredClone(net)));
      return pools.get(uuid)!;
    };
    for (const [uuid, ip] of ipReleases) {
      try {
        poolOf(uuid)?.release(ip);
      } catch (err) {
        if (!(err instanceof AddressPoolError)) throw err;
        // Upstream only logs "Release IP ... not contained in network ...".
      }
    }
    for (const [uuid, ip] of ipReserves) {
      const pool = poolOf(uuid);
      if (!pool) throw new OpPrereqError(`Network '${uuid}' not found`, ECODE.NOENT);
      try {
        pool.reserve(ip);
      } catch (err) {
        if (!(err instanceof AddressPoolError)) throw err;
        throw new OpPrereqError(`IP ${ip} not available in network ${pool.net.name}`, ECODE.NOTUNIQUE);
      }
    }
    for (const [uuid, pool] of pools) {
      const net = tx.data.networks[uuid];
      if (net.reservations === pool.net.reservations) continue;
      net.reservations = pool.net.reservations;
      tx.modified(net);
    }
  }

  /** _CreateNewDisk + _PostAddDisk */
  async function addDisk(idx: number, params: Dict): Promise<Change[]> {
    const data = ctx.config.data;
    const template = instanceDiskTemplate(data, inst);
    const fileDir = calculateFileStorageDir(template, ctx.config.cluster, inst.name, op.file_storage_dir as string | null);
    const driver = (op.file_driver as string | undefined) ?? DEFAULT_FILE_DRIVER;
    const vgDefault = ((ctx.config.cluster as Dict).volume_group_name as string | null | undefined) ?? null;
    const [disk] = generateDisks(ctx, template, inst.primary_node, [{
      size: params.size as number, mode: params.mode as string, vg: (params.vg as string | undefined) ?? vgDefault,
      name: (params.name as string | null | undefined) ?? null,
    }], fileDir, driver, idx);
    const created = await createDisks(ctx, inst, [disk]);
    try {
      inst = await ctx.config.update((tx) => {
        const i = tx.data.instances[inst.uuid];
        tx.add('disks', disk);
        i.disks.splice(idx, 0, disk.uuid);
        renumberDisks(tx.data.disks, i.disks, (d) => tx.modified(d));
        tx.modified(i);
        return i;
      });
    } catch (err) {
      await undoCreateDisks(ctx, created);
      throw err;
    }
    if ((ctx.config.cluster as Dict).prealloc_wipe_disks === true) {
      try {
        await wipeDisks(ctx, inst, [[idx, disk, 0]]);
      } catch (err) {
        // Upstream keeps the disk in the configuration although its storage is gone.
        await undoCreateDisks(ctx, created);
        await removeDiskFromConfig(disk.uuid);
        throw err;
      }
    }
    const added = ctx.config.data.disks[disk.uuid];
    if (!(await waitForSync(ctx, inst, [added], !op.wait_for_sync))) throw new OpExecError(`Failed to sync disks of ${inst.name}`);
    if (!inst.disks_active) await shutdownInstanceDisks(ctx, inst, { disks: [added] });
    return [[`disk/${idx}`, `add:size=${added.size},mode=${added.mode}`]];
  }

  /** _ModifyDisk: mode and name. */
  async function modifyDisk(idx: number, params: Dict): Promise<Change[]> {
    const changes: Change[] = [];
    await ctx.config.update((tx) => {
      const d = tx.data.disks[tx.data.instances[inst.uuid].disks[idx]];
      if (Object.hasOwn(params, 'mode')) {
        d.mode = params.mode as DiskObject['mode'];
        changes.push([`disk.mode/${idx}`, d.mode]);
      }
      if (Object.hasOwn(params, 'name')) {
        if (params.name === null) delete d.name;
        else d.name = params.name as string;
        changes.push([`disk.name/${idx}`, params.name]);
      }
      tx.modified(d);
    });
    return changes;
  }

  /** _RemoveDisk */
  async function removeDisk(idx: number): Promise<Change[]> {
    const disk = instanceDisks(ctx.config.data, inst)[idx];
    await removeDisks(ctx, inst, [disk]);
    await removeDiskFromConfig(disk.uuid);
    return [[`disk/${idx}`, 'remove']];
  }

  /** The disk out of the instance and the configuration, the other disks renumbered. */
  async function removeDiskFromConfig(uuid: string): Promise<void> {
    inst = await ctx.config.update((tx) => {
      const i = tx.data.instances[inst.uuid];
      i.disks = i.disks.filter((u) => u !== uuid);
      tx.remove('disks', uuid);
      renumberDisks(tx.data.disks, i.disks, (d) => tx.modified(d));
      tx.modified(i);
      return i;
    });
  }
}

/** iv_name follows the index ("disk/N") after an insertion or removal, as upstream's config does. */
function renumberDisks(all: Record<string, DiskObject>, uuids: string[], modified: (d: DiskObject) => void): void {
  uuids.forEach((u, i) => {
    const d = all[u];
    if (d && d.iv_name !== `disk/${i}`) {
      d.iv_name = `disk/${i}`;
      modified(d);
    }
  });
}

function pyNone(v: unknown): string {
  return v === null || v === undefined ? 'None' : String(v);
}

/** CheckNodeHasOS through os_diagnose: the OS must be valid on the node, with a known variant. */
async function checkNodeHasOs(ctx: LUContext, nodeUuid: string, osName: string, forceVariant: boolean): Promise<void> {
  const name = nodeName(ctx, nodeUuid);
  const r = await callNode(ctx, nodeUuid, 'os_diagnose', []);
  const list = raiseRpc(r, `OS '${osName}' not in supported OS list for node ${name}`, true, ECODE.INVAL) as unknown[][];
  const entry = (Array.isArray(list) ? list : []).find((o) => Array.isArray(o) && o[0] === osBaseName(osName));
  if (!entry || entry[2] !== true) {
    const why = entry ? String(entry[3]) : `OS dir ${osBaseName(osName)} not found in search path`;
    throw new OpPrereqError(`OS '${osName}' not in supported OS list for node ${name}: ${why}`, ECODE.INVAL);
  }
  if (forceVariant) return;
  const variant = osName.includes('+') ? osName.slice(osName.indexOf('+') + 1) : '';
  const variants = (entry[4] as string[] | null) ?? [];
  if (variants.length === 0) {
    if (variant) throw new OpPrereqError(`OS '${osBaseName(osName)}' doesn't support variants ('${variant}' passed)`, ECODE.INVAL);
    return;
  }
  if (!variant) throw new OpPrereqError('OS name must include a variant', ECODE.INVAL);
  if (!variants.includes(variant)) throw new OpPrereqError('Unsupported OS variant', ECODE.INVAL);
}
