// Instance NICs on the master side: the NIC dicts of an opcode checked and turned into
// NIC objects (upstream's ComputeNics), MAC addresses validated or generated from the
// cluster's prefix and unique in the cluster, and the VLAN syntax.
import crypto from 'node:crypto';
import net from 'node:net';
import { ConfigurationError, ECODE, OpPrereqError } from '../../core/errors.ts';
import { forceDictType, NICS_PARAMETER_TYPES, type TypeTable } from '../../core/params.ts';
import { pyRepr } from '../../core/pyrepr.ts';
import { AddressPool, AddressPoolError } from '../config/address-pool.ts';
import type { ConfigData, InstanceObject, NetworkObject, NicObject, NodeObject } from '../config/model.ts';
import type { ConfigTx } from '../config/store.ts';
import type { LogicalUnit } from './base.ts';
import { lookupNetwork } from './tags.ts';

type Dict = Record<string, unknown>;

/** constants.INIC_PARAMS_TYPES: what a NIC dict of an opcode may hold. */
export const INIC_PARAMS_TYPES: TypeTable = {
  mac: 'string', ip: 'maybe-string', mode: 'string', link: 'string', network: 'maybe-string',
  name: 'maybe-string', vlan: 'maybe-string', bridge: 'maybe-string',
};
export const NIC_MODES = ['bridged', 'routed', 'openvswitch'];
/** MACs still to be chosen: "auto" (or "generate") in an opcode. */
export const MAC_AUTO = 'auto';
export const MAC_GENERATE = 'generate';

/** utils.NormalizeAndValidateMac */
export function normalizeMac(mac: string): string {
  if (!/^([0-9a-f]{2}(:|$)){6}$/i.test(mac)) throw new OpPrereqError(`Invalid MAC address '${mac}'`, ECODE.INVAL);
  return mac.toLowerCase();
}

/** Every MAC the configuration's instances use. */
export function clusterMacs(data: ConfigData): Set<string> {
  const macs = new Set<string>();
  for (const inst of Object.values(data.instances)) for (const nic of inst.nics) macs.add(nic.mac.toLowerCase());
  return macs;
}

/**
 * config.GenerateMAC: the cluster's mac_prefix plus three random bytes, not in `taken`
 * (which it is added to, so one opcode's NICs never share one).
 */
export function generateMac(prefix: string, taken: Set<string>, randomBytes: (n: number) => Uint8Array = crypto.randomBytes): string {
  for (let attempt = 0; attempt < 64; attempt++) {
    const bytes = randomBytes(3);
    const mac = `${prefix}:${[...bytes].map((b) => b.toString(16).padStart(2, '0')).join(':')}`.toLowerCase();
    if (!taken.has(mac)) {
      taken.add(mac);
      return mac;
    }
  }
  throw new ConfigurationError("Can't generate unique MAC");
}

function validateTrunkVlan(vlan: string): void {
  if (!vlan.slice(1).split(':').every((v) => /^\d+$/.test(v))) {
    throw new OpPrereqError(`Specified VLAN parameter is invalid : ${vlan}`, ECODE.INVAL);
  }
}

/** LUInstanceCreate._CheckVLANArguments: ".N[:M...]" untagged (+ trunk), ":N:M" trunk, "N" becomes ".N". */
export function normalizeVlan(vlan: string): string {
  if (!vlan) return vlan;
  if (vlan[0] === '.') {
    if (!/^\d+$/.test(vlan.slice(1))) validateTrunkVlan(vlan);
    return vlan;
  }
  if (vlan[0] === ':') {
    validateTrunkVlan(vlan);
    return vlan;
  }
  if (/^\d+$/.test(vlan)) return `.${vlan}`;
  throw new OpPrereqError(`Specified VLAN parameter is invalid : ${vlan}`, ECODE.INVAL);
}

/** objects.NIC.CheckParameterSyntax on filled nicparams. */
export function checkNicParams(filled: Dict): void {
  const mode = filled.mode;
  if (!NIC_MODES.includes(String(mode)) && mode !== 'auto') throw new ConfigurationError(`Invalid NIC mode '${String(mode)}'`);
  if (mode === 'bridged' && !filled.link) throw new ConfigurationError('Missing bridged NIC link');
}

/** A NIC being created: mac may still be "auto"/"generate" until CheckPrereq picks one. */
export type NewNic = Omit<NicObject, 'uuid'> & { uuid: string };

/**
 * ComputeNics: the opcode's NIC dicts (already type-checked) as NIC objects. `usedMacs`
 * are the MACs in use; an explicit MAC among them is refused.
 */
export function computeNics(nics: Dict[], clusterNicParams: Dict, opts: { nameCheck: boolean; defaultIp: string | null; usedMacs: Set<string>; data?: ConfigData }): NewNic[] {
  return nics.map((nic) => {
    const modeReq = (nic.mode as string | undefined) ?? null;
    const mode = modeReq === null || modeReq === 'auto' ? String(clusterNicParams.mode) : modeReq;
    let network = (nic.network as string | null | undefined) ?? null;
    const link = (nic.link as string | undefined) ?? null;
    const ip = (nic.ip as string | null | undefined) ?? null;
    const vlan = (nic.vlan as string | null | undefined) ?? null;
    if (network === null || network.toLowerCase() === 'none') {
      network = null;
    } else {
      if (modeReq !== null || link !== null) throw new OpPrereqError('If network is given, no mode or link is allowed to be passed', ECODE.INVAL);
    }
    let nicIp: string | null;
    if (ip === null || ip.toLowerCase() === 'none') {
      nicIp = null;
    } else if (ip.toLowerCase() === 'auto') {
      if (!opts.nameCheck) throw new OpPrereqError('IP address set to auto but name checks have been skipped', ECODE.INVAL);
      nicIp = opts.defaultIp;
    } else {
      // ip=pool is resolved once the primary node is known (checkNicNetworks).
      if (ip.toLowerCase() === 'pool') {
        if (network === null) throw new OpPrereqError('if ip=pool, parameter network must be passed too', ECODE.INVAL);
      } else if (net.isIP(ip) === 0) {
        throw new OpPrereqError(`Invalid IP address '${ip}'`, ECODE.INVAL);
      }
      nicIp = ip;
    }
    if (mode === 'routed' && !nicIp && !network) {
      throw new OpPrereqError('Routed nic mode requires an ip address if not attached to a network', ECODE.INVAL);
    }
    let mac = (nic.mac as string | undefined) ?? MAC_AUTO;
    if (mac !== MAC_AUTO && mac !== MAC_GENERATE) {
      mac = normalizeMac(mac);
      if (opts.usedMacs.has(mac)) throw new OpPrereqError(`MAC address ${mac} already in use in cluster`, ECODE.NOTUNIQUE);
      opts.usedMacs.add(mac);
    }
    const nicparams: Dict = {};
    if (modeReq) nicparams.mode = mode;
    if (link) nicparams.link = link;
    if (vlan) nicparams.vlan = vlan;
    forceDictType({ ...nicparams }, NICS_PARAMETER_TYPES);
    checkNicParams({ ...clusterNicParams, ...nicparams });
    let name = (nic.name as string | null | undefined) ?? null;
    if (name !== null && name.toLowerCase() === 'none') name = null;
    const obj: NewNic = { mac, nicparams, uuid: crypto.randomUUID() };
    // config.LookupNetwork, after the parameter checks as upstream (ip=pool stays "pool" until checkNicNetworks).
    if (network !== null) obj.network = opts.data ? lookupNetwork(opts.data, network) : missingNetwork(network);
    if (nicIp !== null) obj.ip = nicIp;
    if (name !== null) obj.name = name;
    return obj;
  });
}

/** Replace "auto"/"generate" MACs by generated ones (LUInstanceCreate.CheckPrereq). */
export function assignMacs(nics: NewNic[], prefix: string, taken: Set<string>): void {
  for (const nic of nics) if (nic.mac === MAC_AUTO || nic.mac === MAC_GENERATE) nic.mac = generateMac(prefix, taken);
}

/** A caller that does not pass the configuration cannot resolve networks. */
function missingNetwork(network: string): never {
  throw new OpPrereqError(`Network '${network}' not found`, ECODE.NOENT);
}

/**
 * Addresses picked from pools (ip=pool) or asked for by jobs that have not committed their
 * instance yet (upstream's temporary reservations in WConfd): network uuid → address →
 * expiry (ms). A pick is dropped when its instance is committed or its job fails, at the
 * latest after ten minutes.
 */
const picked = new Map<string, Map<string, number>>();
const PICK_TTL_MS = 10 * 60_000;

function pendingPicks(netUuid: string): Set<string> {
  const m = picked.get(netUuid);
  if (!m) return new Set();
  const now = Date.now();
  for (const [ip, expiry] of m) if (expiry < now) m.delete(ip);
  return new Set(m.keys());
}

/**
 * An address of the network's pool for ip=pool (the first free one that no other job
 * picked meanwhile, nor in `exclude`), remembered until committed. AddressPoolError when
 * the pool is full.
 */
export function pickPoolAddress(net: NetworkObject, exclude: ReadonlySet<string> = new Set()): string {
  const ip = new AddressPool(structuredClone(net)).generateFree(new Set([...pendingPicks(net.uuid), ...exclude]));
  holdAddress(net.uuid, ip);
  return ip;
}

/**
 * Hold an address a job asked for by name until it commits (or gives it up), so that no
 * other job's ip=pool picks it meanwhile (upstream's temporary reservation by ReserveIp).
 */
export function holdAddress(netUuid: string, ip: string): void {
  if (!picked.has(netUuid)) picked.set(netUuid, new Map());
  picked.get(netUuid)!.set(ip, Date.now() + PICK_TTL_MS);
}

/** Whether a job picked the address from the network's pool (ip=pool) and has not committed it yet. */
export function addressPicked(netUuid: string, ip: string): boolean {
  return pendingPicks(netUuid).has(ip);
}

/** Forget a pick: its address is committed to the pool, or the job gave it up. */
export function dropPick(netUuid: string, ip: string): void {
  picked.get(netUuid)?.delete(ip);
}

/** The node group's connection parameters of a network (config.GetGroupNetParams), or null. */
export function groupNetParams(data: ConfigData, netUuid: string, nodeUuid: string): Dict | null {
  const node = data.nodes[nodeUuid];
  const group = node ? data.nodegroups[node.group] : undefined;
  const p = ((group?.networks ?? {}) as Record<string, Dict>)[netUuid];
  return p ? { ...p } : null;
}

/** config.CheckIPInNodeGroup: the name of a network connected to the node's group that contains the address. */
export function networkOfIpInGroup(data: ConfigData, ip: string | null | undefined, nodeUuid: string): string | null {
  if (ip === null || ip === undefined) return null;
  const node = data.nodes[nodeUuid];
  const group = node ? data.nodegroups[node.group] : undefined;
  for (const netUuid of Object.keys((group?.networks ?? {}) as Dict)) {
    const net = data.networks[netUuid];
    if (net && new AddressPool(net).contains(ip)) return net.name;
  }
  return null;
}

/**
 * LUInstanceCreate.CheckPrereq's network part, once the primary node is known: a NIC in a
 * network takes the node group's connection parameters; ip=pool gets the first free
 * address of the pool, another address must be free in it (with conflictsCheck, not even
 * reserved externally) and not taken by another NIC of the same request (upstream's
 * temporary reservation of the first makes the second ReserveIp fail). A NIC outside
 * networks may not use an address of a network connected to the group (conflictsCheck).
 * `info` gets upstream's LogInfo lines. The addresses are held for this job (picks, see
 * holdAddress) until it commits; returns them ([network uuid, address]) for dropPicks if
 * the job fails before; when this throws, its own are already dropped.
 */
export function checkNicNetworks(data: ConfigData, nics: NewNic[], pnode: NodeObject, conflictsCheck: boolean, info: (msg: string) => void): Array<[string, string]> {
  const picks: Array<[string, string]> = [];
  // Addresses this request takes per network: the explicit ones (a pool pick skips them
  // all, wherever they come in the request) and, as they are made, the picks.
  const claimed = new Map<string, Set<string>>();
  const claimedIn = (uuid: string): Set<string> => {
    let s = claimed.get(uuid);
    if (!s) claimed.set(uuid, (s = new Set()));
    return s;
  };
  const explicit = new Map<string, Set<string>>();
  for (const nic of nics) {
    if (!nic.network || !nic.ip || nic.ip.toLowerCase() === 'pool') continue;
    if (!explicit.has(nic.network)) explicit.set(nic.network, new Set());
    explicit.get(nic.network)!.add(nic.ip);
  }
  try {
    nics.forEach((nic, idx) => {
      const netUuid = nic.network ?? null;
      if (netUuid === null) {
        if (conflictsCheck) {
          const conflicting = networkOfIpInGroup(data, nic.ip, pnode.uuid);
          if (conflicting !== null) {
            throw new OpPrereqError(`The requested IP address (${nic.ip}) belongs to network ${conflicting}, but the target NIC does not.`, ECODE.STATE);
          }
        }
        return;
      }
      const net = data.networks[netUuid];
      if (!net) throw new OpPrereqError(`Network '${netUuid}' not found`, ECODE.NOENT);
      const netparams = groupNetParams(data, netUuid, pnode.uuid);
      if (netparams === null) {
        throw new OpPrereqError(`No netparams found for network ${net.name}. Probably not connected to node's ${pnode.name} nodegroup`, ECODE.INVAL);
      }
      info(`NIC/${idx} inherits netparams ${pyRepr(Object.values(netparams))}`);
      nic.nicparams = netparams;
      if (nic.ip === undefined || nic.ip === null) return;
      const pool = new AddressPool(structuredClone(net));
      const mine = claimedIn(netUuid);
      if (nic.ip.toLowerCase() === 'pool') {
        let ip: string;
        try {
          ip = pickPoolAddress(net, new Set([...mine, ...(explicit.get(netUuid) ?? [])]));
        } catch (err) {
          if (!(err instanceof AddressPoolError)) throw err;
          throw new OpPrereqError(`Unable to get a free IP for NIC ${idx} from the address pool`, ECODE.STATE);
        }
        picks.push([netUuid, ip]);
        mine.add(ip);
        nic.ip = ip;
        info(`Chose IP ${ip} from network ${net.name}`);
      } else {
        let taken: boolean;
        try {
          taken = pool.isReserved(nic.ip) || (conflictsCheck && pool.isReserved(nic.ip, true)) || pendingPicks(netUuid).has(nic.ip) || mine.has(nic.ip);
        } catch (err) {
          if (!(err instanceof AddressPoolError)) throw err;
          taken = true;
        }
        if (taken) throw new OpPrereqError(`IP address ${nic.ip} already in use or does not belong to network ${net.name}`, ECODE.NOTUNIQUE);
        holdAddress(netUuid, nic.ip);
        picks.push([netUuid, nic.ip]);
        mine.add(nic.ip);
      }
    });
  } catch (err) {
    dropPicks(picks);
    throw err;
  }
  return picks;
}

/** Forget pool picks this job made (it failed, or committed them). */
export function dropPicks(picks: ReadonlyArray<readonly [string, string]>): void {
  for (const [uuid, ip] of picks) dropPick(uuid, ip);
}

/**
 * The logical unit with the addresses its checks hold (see holdAddress) given back to
 * other jobs when its checkPrereq or exec fails, or after the checks of a dry run
 * (upstream drops a job's temporary reservations when it ends); a commit drops them
 * anyway (reserveNicIps). What else ends a job between the two (a failing pre hook, a
 * cancel) leaves them to expire.
 */
export function dropPicksOnFailure(lu: LogicalUnit, picks: () => ReadonlyArray<readonly [string, string]>, dryRun = false): LogicalUnit {
  const { checkPrereq, exec } = lu;
  return {
    ...lu,
    ...(checkPrereq ? {
      async checkPrereq() {
        try {
          await checkPrereq.call(lu);
        } catch (err) {
          dropPicks(picks());
          throw err;
        }
        if (dryRun) dropPicks(picks());
      },
    } : {}),
    async exec() {
      try {
        return await exec.call(lu);
      } catch (err) {
        dropPicks(picks());
        throw err;
      }
    },
  };
}

/**
 * Reserve the addresses of an instance's NICs in their networks' pools, in the
 * configuration change that adds the instance (what committing upstream's temporary IP
 * reservations does). All or nothing: every address is reserved on a copy of its pool
 * first (two NICs with one address fail as an address taken meanwhile does), and the
 * live networks change only when all succeeded — a failed change must leave nothing in
 * memory for the next change to save.
 */
export function reserveNicIps(tx: ConfigTx, nics: readonly NicObject[]): void {
  const pools = new Map<string, AddressPool>();
  for (const nic of nics) {
    if (!nic.network || !nic.ip) continue;
    const net = tx.data.networks[nic.network];
    if (!net) throw new ConfigurationError(`Network ${nic.network} of a NIC is not in the configuration`);
    let pool = pools.get(net.uuid);
    if (!pool) pools.set(net.uuid, (pool = new AddressPool(structuredClone(net))));
    try {
      pool.reserve(nic.ip);
    } catch (err) {
      if (!(err instanceof AddressPoolError)) throw err;
      throw new OpPrereqError(`IP address ${nic.ip} already in use or does not belong to network ${net.name}`, ECODE.NOTUNIQUE);
    }
  }
  for (const [uuid, pool] of pools) {
    const net = tx.data.networks[uuid];
    net.reservations = pool.net.reservations;
    tx.modified(net);
  }
  for (const nic of nics) if (nic.network && nic.ip) dropPick(nic.network, nic.ip);
}

/** Give the addresses of an instance's NICs back to their networks' pools (instance removal). */
export function releaseNicIps(tx: ConfigTx, inst: Pick<InstanceObject, 'nics'>): void {
  const touched = new Set<string>();
  for (const nic of inst.nics) {
    if (!nic.network || !nic.ip) continue;
    const net = tx.data.networks[nic.network];
    if (!net) continue;
    try {
      new AddressPool(net).release(nic.ip);
      touched.add(net.uuid);
    } catch (err) {
      if (!(err instanceof AddressPoolError)) throw err;
    }
  }
  for (const uuid of touched) tx.modified(tx.data.networks[uuid]);
}
