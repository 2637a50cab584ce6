// Instance NICs on the master side: the NIC dicts of an opcode checked and turned into
// NIC objects (upstream's ComputeNics), MAC addresses validated or generated from the
// cluster's prefix and unique in the cluster, and the VLAN syntax.
import crypto from 'node:crypto';
import net from 'node:net';
import { ConfigurationError, ECODE, OpPrereqError } from '../../core/errors.ts';
import { forceDictType, NICS_PARAMETER_TYPES, type TypeTable } from '../../core/params.ts';
import type { ConfigData, NicObject } from '../config/model.ts';

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
export function computeNics(nics: Dict[], clusterNicParams: Dict, opts: { nameCheck: boolean; defaultIp: string | null; usedMacs: Set<string> }): NewNic[] {
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
      // Networks (gnt-network) are not managed by this cluster yet.
      throw new OpPrereqError(`Network '${network}' not found`, ECODE.NOENT);
    }
    let nicIp: string | null;
    if (ip === null || ip.toLowerCase() === 'none') {
      nicIp = null;
    } else if (ip.toLowerCase() === 'auto') {
      if (!opts.nameCheck) throw new OpPrereqError('IP address set to auto but name checks have been skipped', ECODE.INVAL);
      nicIp = opts.defaultIp;
    } else {
      if (ip.toLowerCase() === 'pool') throw new OpPrereqError('if ip=pool, parameter network must be passed too', ECODE.INVAL);
      if (net.isIP(ip) === 0) throw new OpPrereqError(`Invalid IP address '${ip}'`, ECODE.INVAL);
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
    if (nicIp !== null) obj.ip = nicIp;
    if (name !== null) obj.name = name;
    return obj;
  });
}

/** Replace "auto"/"generate" MACs by generated ones (LUInstanceCreate.CheckPrereq). */
export function assignMacs(nics: NewNic[], prefix: string, taken: Set<string>): void {
  for (const nic of nics) if (nic.mac === MAC_AUTO || nic.mac === MAC_GENERATE) nic.mac = generateMac(prefix, taken);
}
