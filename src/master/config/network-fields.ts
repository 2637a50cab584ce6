// The `network` query resource (Ganeti 3.0's luxid network fields: titles, kinds and
// docs of src/Ganeti/Query/Network.hs), served to LUXI Query/QueryNetworks, the CLI and RAPI.
import { RS_UNAVAIL } from '../../core/constants.ts';
import type { Field, FieldKind } from '../../core/query.ts';
import { AddressPool } from './address-pool.ts';
import type { ConfigData, NetworkObject } from './model.ts';
import { niceSort } from './ssconf.ts';
import type { ConfigStore } from './store.ts';

export interface NetworkView {
  net: NetworkObject;
  config: ConfigData;
  /** The address pool's figures, computed once per item. */
  stats(): { free: number; reserved: number; map: string; external: string };
}

const RESULT_STATUS = Symbol.for('ganeti.query.resultStatus');
/** A cell without a value (luxid's rsMaybeUnavail on an unset attribute). */
const UNAVAIL = { [RESULT_STATUS]: RS_UNAVAIL };

const maybe = (v: unknown) => (v === null || v === undefined ? UNAVAIL : v);

const byUuid = <T extends { uuid: string }>(a: T, b: T) => (a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0);

/** [group name, mode, link, vlan] of every group the network is connected to ("-" for a missing value). */
export function groupConnections(config: ConfigData, netUuid: string): Array<[string, string, string, string]> {
  return Object.values(config.nodegroups).sort(byUuid).flatMap((g) => {
    const p = ((g.networks ?? {}) as Record<string, Record<string, unknown>>)[netUuid];
    if (!p) return [];
    const s = (v: unknown) => (v === undefined || v === null ? '-' : String(v));
    return [[g.name, s(p.mode), s(p.link), s(p.vlan)]];
  });
}

/** The instances with a NIC in the network, by name. */
export function networkInstances(config: ConfigData, netUuid: string): string[] {
  return Object.values(config.instances).sort(byUuid).filter((i) => i.nics.some((n) => n.network === netUuid)).map((i) => i.name);
}

function poolStats(net: NetworkObject): ReturnType<NetworkView['stats']> {
  if (!net.reservations && !net.ext_reservations) return { free: 0, reserved: 0, map: '', external: '' };
  const pool = new AddressPool(structuredClone(net));
  return { free: pool.freeCount(), reserved: pool.reservedCount(), map: pool.map(), external: pool.externalReservations().join(', ') };
}

const f = (name: string, title: string, kind: FieldKind, doc: string, get: (v: NetworkView) => unknown): Field<NetworkView> =>
  ({ name, title, kind, doc, get });

export const NETWORK_FIELDS: ReadonlyMap<string, Field<NetworkView>> = new Map([
  f('name', 'Network', 'text', 'Name', (v) => v.net.name),
  f('network', 'Subnet', 'text', 'IPv4 subnet', (v) => v.net.network),
  f('gateway', 'Gateway', 'other', 'IPv4 gateway', (v) => maybe(v.net.gateway)),
  f('network6', 'IPv6Subnet', 'other', 'IPv6 subnet', (v) => maybe(v.net.network6)),
  f('gateway6', 'IPv6Gateway', 'other', 'IPv6 gateway', (v) => maybe(v.net.gateway6)),
  f('mac_prefix', 'MacPrefix', 'other', 'MAC address prefix', (v) => maybe(v.net.mac_prefix)),
  f('free_count', 'FreeCount', 'number', 'Number of available addresses', (v) => v.stats().free),
  f('map', 'Map', 'text', 'Actual mapping', (v) => v.stats().map),
  f('reserved_count', 'ReservedCount', 'number', 'Number of reserved addresses', (v) => v.stats().reserved),
  f('group_list', 'GroupList', 'other', 'List of nodegroups (group name, NIC mode, NIC link)', (v) => groupConnections(v.config, v.net.uuid)),
  f('group_cnt', 'NodeGroups', 'number', 'Number of nodegroups', (v) => groupConnections(v.config, v.net.uuid).length),
  f('inst_list', 'InstanceList', 'other', 'List of instances', (v) => networkInstances(v.config, v.net.uuid)),
  f('inst_cnt', 'Instances', 'number', 'Number of instances', (v) => networkInstances(v.config, v.net.uuid).length),
  f('external_reservations', 'ExternalReservations', 'text', 'External reservations', (v) => v.stats().external),
  f('ctime', 'CTime', 'timestamp', 'Creation timestamp', (v) => v.net.ctime),
  f('mtime', 'MTime', 'timestamp', 'Modification timestamp', (v) => v.net.mtime),
  f('uuid', 'UUID', 'text', 'Network UUID', (v) => v.net.uuid),
  f('serial_no', 'SerialNo', 'number', 'Network object serial number, incremented on each modification', (v) => v.net.serial_no),
  f('tags', 'Tags', 'other', 'Tags', (v) => (Array.isArray(v.net.tags) ? v.net.tags : [])),
].map((x) => [x.name, x]));

/** Every network, by name as luxid lists them. */
export function networkViews(config: ConfigStore): NetworkView[] {
  const data = config.data;
  const byName = new Map(Object.values(data.networks).map((n) => [n.name, n]));
  return niceSort([...byName.keys()]).map((name) => {
    const net = byName.get(name)!;
    let stats: ReturnType<NetworkView['stats']> | null = null;
    return { net, config: data, stats: () => (stats ??= poolStats(net)) };
  });
}
