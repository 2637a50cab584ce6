// Network logical units (upstream's lib/cmdlib/network.py): add, remove, modify, connect
// to and disconnect from node groups, with the same checks, order, messages and hooks.
import crypto from 'node:crypto';
import { ECODE, OpExecError, OpPrereqError } from '../../core/errors.ts';
import type { OpInput } from '../../core/opcodes.ts';
import { AddressPool, AddressPoolError } from '../config/address-pool.ts';
import type { ConfigData, InstanceObject, NetworkObject, NicObject } from '../config/model.ts';
import { niceSort } from '../config/ssconf.ts';
import { logInfo, type HookSpec, type LockPlan, type LogicalUnit, type LUContext, type LUFactory } from './base.ts';
import { lookupNodeGroup } from './group.ts';
import { checkNicParams } from './instance-nics.ts';
import { instanceNodes, logWarning } from './instance-utils.ts';
import { lookupNetwork, validateTag } from './tags.ts';

type Dict = Record<string, unknown>;

const VALUE_NONE = 'none';

/** utils.NormalizeAndValidateThreeOctetMacPrefix */
export function normalizeMacPrefix(prefix: string): string {
  if (!/^[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}$/i.test(prefix)) throw new OpPrereqError(`Invalid MAC address prefix '${prefix}'`, ECODE.INVAL);
  return prefix.toLowerCase();
}

/** _BuildNetworkHookEnv: only the values that are set. */
function networkHookEnv(v: { name?: string | null; subnet?: string | null; gateway?: string | null; network6?: string | null; gateway6?: string | null; macPrefix?: string | null; tags?: string[] | null }): Record<string, string> {
  const env: Record<string, string> = {};
  if (v.name) env.NETWORK_NAME = v.name;
  if (v.subnet) env.NETWORK_SUBNET = v.subnet;
  if (v.gateway) env.NETWORK_GATEWAY = v.gateway;
  if (v.network6) env.NETWORK_SUBNET6 = v.network6;
  if (v.gateway6) env.NETWORK_GATEWAY6 = v.gateway6;
  if (v.macPrefix) env.NETWORK_MAC_PREFIX = v.macPrefix;
  if (v.tags && v.tags.length > 0) env.NETWORK_TAGS = v.tags.join(' ');
  return env;
}

function masterName(ctx: LUContext): string {
  return ctx.config.masterNode().name;
}

function poolError(err: unknown): never {
  if (err instanceof AddressPoolError) throw new OpExecError(err.message);
  throw err;
}

/** The instances with a node in the group (GetNodeGroupInstances), by uuid. */
export function groupInstances(data: ConfigData, groupUuid: string): InstanceObject[] {
  return Object.values(data.instances).filter((i) => instanceNodes(data, i).some((n) => data.nodes[n]?.group === groupUuid));
}

/** CheckNodeGroupInstances: the group's instances must be the ones locked. */
function checkGroupInstances(data: ConfigData, groupUuid: string, locked: string[]): void {
  const wanted = groupInstances(data, groupUuid).map((i) => i.uuid).sort();
  const have = [...locked].sort();
  if (wanted.join(',') !== have.join(',')) {
    const names = (uuids: string[]) => uuids.map((u) => data.instances[u]?.name ?? u).join(', ');
    throw new OpPrereqError(`Instances in node group '${groupUuid}' changed since locks were acquired, wanted '${names(wanted)}', have '${names(have)}'; retry the operation`, ECODE.STATE);
  }
}

/** _NetworkConflictCheck: NICs for which `conflicts` holds make the operation fail, after a warning naming them. */
function networkConflictCheck(ctx: LUContext, networkName: string, groupName: string, action: string, instances: InstanceObject[], conflicts: (nic: NicObject) => boolean): void {
  const found: Array<[string, Array<[number, string | null | undefined]>]> = [];
  for (const inst of instances) {
    const nics = inst.nics.map((nic, idx): [number, string | null | undefined, boolean] => [idx, nic.ip, conflicts(nic)]).filter(([, , c]) => c);
    if (nics.length > 0) found.push([inst.name, nics.map(([idx, ip]) => [idx, ip])]);
  }
  if (found.length === 0) return;
  const details = found.map(([name, nics]) => `${name}: ${nics.map(([idx, ip]) => `nic${idx}/${ip ?? 'None'}`).join(', ')}`).join(', ');
  logWarning(ctx, `IP addresses from network '${networkName}', which is about to ${action} node group '${groupName}', are in use: ${details}`);
  throw new OpPrereqError('Conflicting IP addresses found;  remove/modify the corresponding network interfaces', ECODE.STATE);
}

/** OP_NETWORK_ADD */
export const networkAdd: LUFactory = (op: OpInput, ctx: LUContext): LogicalUnit => {
  const name = op.network_name as string;
  let uuid = '';
  return {
    checkArguments() {
      if (op.mac_prefix) op.mac_prefix = normalizeMacPrefix(op.mac_prefix as string);
    },
    expandNames() {
      uuid = crypto.randomUUID();
    },
    locks: (): LockPlan => ({
      bglShared: true,
      levels: {
        ...(op.conflicts_check ? { node: { names: null, shared: true } } : {}),
        network: { names: [uuid], shared: false },
      },
    }),
    checkPrereq() {
      if (op.network === null || op.network === undefined) throw new OpPrereqError('Network must be given', ECODE.INVAL);
      let existing: string | null = null;
      try {
        existing = lookupNetwork(ctx.config.data, name);
      } catch { /* the name is free */ }
      if (existing !== null) {
        throw new OpPrereqError(`Desired network name '${name}' already exists as a network (UUID: ${existing})`, ECODE.EXISTS);
      }
      for (const tag of op.tags as string[]) validateTag(tag);
    },
    hooks(): HookSpec {
      const master = masterName(ctx);
      return {
        path: 'network-add', type: 'NETWORK',
        env: networkHookEnv({
          name, subnet: op.network as string, gateway: op.gateway as string | null, network6: op.network6 as string | null,
          gateway6: op.gateway6 as string | null, macPrefix: op.mac_prefix as string | null, tags: op.tags as string[],
        }),
        preNodes: [master], postNodes: [master],
      };
    },
    async exec() {
      const nobj = {
        name, network: op.network as string, uuid, tags: [...new Set(op.tags as string[])].sort(),
        ...(op.gateway ? { gateway: op.gateway as string } : {}),
        ...(op.network6 ? { network6: op.network6 as string } : {}),
        ...(op.gateway6 ? { gateway6: op.gateway6 as string } : {}),
        ...(op.mac_prefix ? { mac_prefix: op.mac_prefix as string } : {}),
      } as Omit<NetworkObject, 'serial_no' | 'ctime' | 'mtime'> as NetworkObject;
      let pool: AddressPool;
      try {
        pool = AddressPool.initialize(nobj);
      } catch (err) {
        if (err instanceof AddressPoolError) throw new OpExecError(`Cannot create IP address pool for network '${name}': ${err.message}`);
        throw err;
      }
      // The nodes' and the master's addresses may not be given to instances (they would not work in routed mode).
      if (op.conflicts_check) {
        const data = ctx.config.data;
        for (const node of Object.values(data.nodes)) {
          for (const ip of [node.primary_ip, node.secondary_ip]) {
            try {
              if (pool.contains(ip)) {
                pool.reserve(ip, true);
                logInfo(ctx, `Reserved IP address of node '${node.name}' (${ip})`);
              }
            } catch (err) {
              if (!(err instanceof AddressPoolError)) throw err;
              logWarning(ctx, `Cannot reserve IP address '${ip}' of node '${node.name}': ${err.message}`);
            }
          }
        }
        const masterIp = data.cluster.master_ip;
        try {
          if (pool.contains(masterIp)) {
            pool.reserve(masterIp, true);
            logInfo(ctx, `Reserved cluster master IP address (${masterIp})`);
          }
        } catch (err) {
          if (!(err instanceof AddressPoolError)) throw err;
          logWarning(ctx, `Cannot reserve cluster master IP address (${masterIp}): ${err.message}`);
        }
      }
      for (const ip of (op.add_reserved_ips as string[] | null) ?? []) {
        try {
          pool.reserve(ip, true);
        } catch (err) {
          if (err instanceof AddressPoolError) throw new OpExecError(`Cannot reserve IP address '${ip}': ${err.message}`);
          throw err;
        }
      }
      await ctx.config.update((tx) => {
        if (Object.values(tx.data.networks).some((n) => n.name === name)) {
          throw new OpExecError(`Desired network name '${name}' already exists as a network`);
        }
        tx.add('networks', nobj);
      });
      return null;
    },
  };
};

/** OP_NETWORK_REMOVE: only a network no group is connected to. */
export const networkRemove: LUFactory = (op: OpInput, ctx: LUContext): LogicalUnit => {
  const name = op.network_name as string;
  let uuid = '';
  return {
    expandNames() {
      uuid = lookupNetwork(ctx.config.data, name);
    },
    locks: (): LockPlan => ({ bglShared: true, levels: { nodegroup: { names: null, shared: true }, network: { names: [uuid], shared: false } } }),
    checkPrereq() {
      const groups = ctx.config.groups().filter((g) => Object.hasOwn((g.networks ?? {}) as Dict, uuid)).map((g) => g.name);
      if (groups.length > 0) {
        logWarning(ctx, `Network '${name}' is connected to the following node groups: ${niceSort(groups).join(', ')}`);
        throw new OpPrereqError('Network still connected', ECODE.STATE);
      }
    },
    hooks(): HookSpec {
      const master = masterName(ctx);
      return { path: 'network-remove', type: 'NETWORK', env: { NETWORK_NAME: name }, preNodes: [master], postNodes: [master] };
    },
    async exec() {
      await ctx.config.update((tx) => {
        if (!tx.data.networks[uuid]) throw new OpExecError(`Network '${name}' with UUID ${uuid} disappeared`);
        tx.remove('networks', uuid);
      });
      return null;
    },
  };
};

/** OP_NETWORK_SET_PARAMS: gateway, IPv6 settings, MAC prefix and external reservations. */
export const networkSetParams: LUFactory = (op: OpInput, ctx: LUContext): LogicalUnit => {
  const name = op.network_name as string;
  let uuid = '';
  let net: NetworkObject;
  let gateway: string | null = null;
  let macPrefix: string | null = null;
  let network6: string | null = null;
  let gateway6: string | null = null;
  const orNone = (v: unknown, current: string | null): string | null => {
    if (!v) return current;
    return String(v).toLowerCase() === VALUE_NONE ? null : String(v);
  };
  return {
    checkArguments() {
      if (op.gateway && (nonEmpty(op.add_reserved_ips) || nonEmpty(op.remove_reserved_ips))) {
        throw new OpPrereqError('Cannot modify gateway and reserved ips at once', ECODE.INVAL);
      }
    },
    expandNames() {
      uuid = lookupNetwork(ctx.config.data, name);
    },
    locks: (): LockPlan => ({ bglShared: true, levels: { network: { names: [uuid], shared: false } } }),
    checkPrereq() {
      net = ctx.config.data.networks[uuid];
      if (!net) throw new OpPrereqError(`Network '${name}' not found`, ECODE.NOENT);
      const pool = new AddressPool(structuredClone(net));
      gateway = orNone(op.gateway, net.gateway ?? null);
      if (op.gateway && gateway !== null) {
        let reserved: boolean;
        try {
          reserved = pool.isReserved(gateway);
        } catch (err) {
          return poolError(err);
        }
        if (reserved) throw new OpPrereqError(`Gateway IP address '${gateway}' is already reserved`, ECODE.STATE);
      }
      macPrefix = net.mac_prefix ?? null;
      if (op.mac_prefix) macPrefix = String(op.mac_prefix).toLowerCase() === VALUE_NONE ? null : normalizeMacPrefix(op.mac_prefix as string);
      gateway6 = orNone(op.gateway6, net.gateway6 ?? null);
      network6 = orNone(op.network6, net.network6 ?? null);
    },
    hooks(): HookSpec {
      const master = masterName(ctx);
      return {
        path: 'network-modify', type: 'NETWORK',
        env: networkHookEnv({ name, subnet: net.network, gateway, network6, gateway6, macPrefix, tags: net.tags }),
        preNodes: [master], postNodes: [master],
      };
    },
    async exec() {
      // The pool changes are made on the network as it is when the change is applied:
      // instance adds and modifies reserve addresses without the network lock, and a copy
      // taken before would erase what they committed meanwhile.
      const warnings: string[] = [];
      await ctx.config.update((tx) => {
        const current = tx.data.networks[uuid];
        if (!current) throw new OpExecError(`Network '${name}' with UUID ${uuid} disappeared`);
        const next = structuredClone(current);
        const pool = new AddressPool(next);
        try {
          if (op.gateway) {
            if (gateway === (current.gateway ?? null)) {
              warnings.push(`Gateway is already ${gateway ?? 'None'}`);
            } else {
              // Checked again here: an instance may have taken the address since checkPrereq.
              if (gateway && pool.isReserved(gateway)) throw new OpPrereqError(`Gateway IP address '${gateway}' is already reserved`, ECODE.STATE);
              if (gateway) pool.reserve(gateway, true);
              if (current.gateway) pool.release(current.gateway, true);
              setOptional(next, 'gateway', gateway);
            }
          }
          for (const ip of (op.add_reserved_ips as string[] | null) ?? []) {
            try {
              pool.reserve(ip, true);
            } catch (err) {
              if (!(err instanceof AddressPoolError)) throw err;
              warnings.push(`Cannot reserve IP address ${ip}: ${err.message}`);
            }
          }
          for (const ip of (op.remove_reserved_ips as string[] | null) ?? []) {
            if (ip === current.gateway) {
              warnings.push("Cannot unreserve Gateway's IP");
              continue;
            }
            try {
              pool.release(ip, true);
            } catch (err) {
              if (!(err instanceof AddressPoolError)) throw err;
              warnings.push(`Cannot release IP address ${ip}: ${err.message}`);
            }
          }
          if (op.mac_prefix) setOptional(next, 'mac_prefix', macPrefix);
          if (op.network6) setOptional(next, 'network6', network6);
          if (op.gateway6) setOptional(next, 'gateway6', gateway6);
          pool.validate();
        } catch (err) {
          poolError(err);
        }
        // Only the pool's external reservations and the attributes change: the instances'
        // reservations stay as they are live.
        for (const key of ['gateway', 'network6', 'gateway6', 'mac_prefix', 'ext_reservations'] as const) {
          if (next[key] === undefined) delete current[key];
          else current[key] = next[key] as string;
        }
        tx.modified(current);
      });
      for (const w of warnings) logWarning(ctx, w);
      return null;
    },
  };
};

function nonEmpty(v: unknown): boolean {
  return Array.isArray(v) && v.length > 0;
}

/** A network's optional attribute: unset (left out of config.data, as None is) or a value. */
function setOptional(net: NetworkObject, key: 'gateway' | 'network6' | 'gateway6' | 'mac_prefix', value: string | null): void {
  if (value === null) delete net[key];
  else net[key] = value;
}

/** OP_NETWORK_CONNECT: the group's NICs in this network get mode, link and vlan from here. */
export const networkConnect: LUFactory = (op: OpInput, ctx: LUContext): LogicalUnit => {
  const networkName = op.network_name as string;
  const groupName = op.group_name as string;
  const mode = op.network_mode as string;
  const link = op.network_link as string;
  const vlan = (op.network_vlan as string | undefined) ?? '';
  let netUuid = '';
  let groupUuid = '';
  let lockedInstances: string[] = [];
  let connected = false;
  return {
    expandNames() {
      netUuid = lookupNetwork(ctx.config.data, networkName);
      groupUuid = lookupNodeGroup(ctx.config.data, groupName);
      lockedInstances = op.conflicts_check ? groupInstances(ctx.config.data, groupUuid).map((i) => i.uuid) : [];
    },
    locks: (): LockPlan => ({
      bglShared: true,
      levels: {
        instance: { names: lockedInstances, shared: true },
        nodegroup: { names: [groupUuid], shared: false },
        ...(op.conflicts_check ? { network: { names: [netUuid], shared: true } } : {}),
      },
    }),
    hooks(): HookSpec {
      const nodes = groupNodeNames(ctx.config.data, groupUuid);
      return {
        path: 'network-connect', type: 'NETWORK',
        env: { GROUP_NAME: groupName, GROUP_NETWORK_MODE: mode, GROUP_NETWORK_LINK: link, GROUP_NETWORK_VLAN: vlan },
        preNodes: nodes, postNodes: nodes,
      };
    },
    checkPrereq() {
      const data = ctx.config.data;
      if (op.conflicts_check) checkGroupInstances(data, groupUuid, lockedInstances);
      checkNicParams({ mode, link, vlan });
      const group = data.nodegroups[groupUuid];
      connected = false;
      if (Object.hasOwn((group.networks ?? {}) as Dict, netUuid)) {
        logWarning(ctx, `Network '${networkName}' is already mapped to group '${group.name}'`);
        connected = true;
      } else if (op.conflicts_check) {
        const pool = new AddressPool(data.networks[netUuid]);
        networkConflictCheck(ctx, networkName, group.name, 'connect to', lockedInstances.map((u) => data.instances[u]).filter(Boolean),
          (nic) => pool.contains(nic.ip));
      }
    },
    async exec() {
      if (connected) return null;
      await ctx.config.update((tx) => {
        const group = tx.data.nodegroups[groupUuid];
        group.networks = { ...((group.networks ?? {}) as Dict), [netUuid]: { mode, link, vlan } };
        tx.modified(group);
      });
      return null;
    },
  };
};

/** OP_NETWORK_DISCONNECT: only when no instance of the group has a NIC in the network. */
export const networkDisconnect: LUFactory = (op: OpInput, ctx: LUContext): LogicalUnit => {
  const networkName = op.network_name as string;
  const groupName = op.group_name as string;
  let netUuid = '';
  let groupUuid = '';
  let lockedInstances: string[] = [];
  let connected = true;
  let netparams: Dict = {};
  return {
    expandNames() {
      netUuid = lookupNetwork(ctx.config.data, networkName);
      groupUuid = lookupNodeGroup(ctx.config.data, groupName);
      lockedInstances = groupInstances(ctx.config.data, groupUuid).map((i) => i.uuid);
    },
    locks: (): LockPlan => ({
      bglShared: true,
      levels: { instance: { names: lockedInstances, shared: true }, nodegroup: { names: [groupUuid], shared: false } },
    }),
    hooks(): HookSpec {
      const nodes = groupNodeNames(ctx.config.data, groupUuid);
      const env: Record<string, string> = { GROUP_NAME: groupName };
      if (connected) {
        env.GROUP_NETWORK_MODE = String(netparams.mode);
        env.GROUP_NETWORK_LINK = String(netparams.link);
        env.GROUP_NETWORK_VLAN = String(netparams.vlan ?? '');
      }
      return { path: 'network-disconnect', type: 'NETWORK', env, preNodes: nodes, postNodes: nodes };
    },
    checkPrereq() {
      const data = ctx.config.data;
      checkGroupInstances(data, groupUuid, lockedInstances);
      const group = data.nodegroups[groupUuid];
      const networks = (group.networks ?? {}) as Dict;
      connected = true;
      if (!Object.hasOwn(networks, netUuid)) {
        logWarning(ctx, `Network '${networkName}' is not mapped to group '${group.name}'`);
        connected = false;
      } else {
        networkConflictCheck(ctx, networkName, group.name, 'disconnect from', lockedInstances.map((u) => data.instances[u]).filter(Boolean),
          (nic) => nic.network === netUuid);
        netparams = (networks[netUuid] ?? {}) as Dict;
      }
    },
    async exec() {
      if (!connected) return null;
      await ctx.config.update((tx) => {
        const group = tx.data.nodegroups[groupUuid];
        const networks = { ...((group.networks ?? {}) as Dict) };
        delete networks[netUuid];
        group.networks = networks;
        tx.modified(group);
      });
      return null;
    },
  };
};

/** The group's member nodes, by name (hooks run there). */
function groupNodeNames(data: ConfigData, groupUuid: string): string[] {
  return Object.values(data.nodes).filter((n) => n.group === groupUuid).map((n) => n.name);
}

export const NETWORK_LUS: Readonly<Record<string, LUFactory>> = {
  OP_NETWORK_ADD: networkAdd,
  OP_NETWORK_REMOVE: networkRemove,
  OP_NETWORK_SET_PARAMS: networkSetParams,
  OP_NETWORK_CONNECT: networkConnect,
  OP_NETWORK_DISCONNECT: networkDisconnect,
};
