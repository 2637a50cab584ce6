// Networks (upstream's OpNetworkAdd, OpNetworkRemove, OpNetworkSetParams, OpNetworkConnect,
// OpNetworkDisconnect: Ganeti 3.0's parameters, types and defaults). Job filters have no
// opcodes upstream: luxid changes them directly (LUXI ReplaceFilter/DeleteFilter).
// Only types come from ./opcodes.ts: it imports this module before its own values exist.
import type { OpcodeSpec, ParamSpec, ParamType } from './opcodes.ts';
import { isIPv4Address, isIPv4Network, isIPv6Address, isIPv6Network } from './netaddr.ts';

const t = (name: string, check: (v: unknown) => boolean): ParamType => ({ name, check });
const T = {
  bool: t('boolean', (v) => typeof v === 'boolean'),
  string: t('string', (v) => typeof v === 'string'),
  nonEmptyString: t('non-empty string', (v) => typeof v === 'string' && v.length > 0),
  ipv4Address: t('IPv4 address', isIPv4Address),
  ipv4Network: t('IPv4 network', isIPv4Network),
  ipv6Address: t('IPv6 address', isIPv6Address),
  ipv6Network: t('IPv6 network', isIPv6Network),
  ipv4List: t('list of IPv4 addresses', (v) => Array.isArray(v) && v.every(isIPv4Address)),
  tags: t('list of non-empty strings', (v) => Array.isArray(v) && v.every((x) => typeof x === 'string' && x.length > 0)),
  nicMode: t("one of 'bridged', 'routed', 'openvswitch'", (v) => typeof v === 'string' && ['bridged', 'routed', 'openvswitch'].includes(v)),
};

const maybe = (type: ParamType, doc: string): ParamSpec => ({ type, default: null, optional: true, doc });
const NETWORK_NAME: ParamSpec = { type: T.nonEmptyString, doc: 'Network name' };
const GROUP_NAME: ParamSpec = { type: T.nonEmptyString, doc: 'Group name' };
const ADDRESSES: Record<string, ParamSpec> = {
  gateway: maybe(T.ipv4Address, 'Network gateway (IPv4 address)'),
  network6: maybe(T.ipv6Network, 'Network address (IPv6 subnet)'),
  gateway6: maybe(T.ipv6Address, 'Network gateway (IPv6 address)'),
  mac_prefix: maybe(T.string, 'Network specific mac prefix (that overrides the cluster one)'),
};

export const NETWORK_OPCODES: OpcodeSpec[] = [
  {
    id: 'OP_NETWORK_ADD',
    doc: 'Add an IP network to the cluster.',
    summaryParam: 'network_name',
    params: {
      network_name: NETWORK_NAME,
      network: { type: T.ipv4Network, doc: 'Network address (IPv4 subnet)' },
      ...ADDRESSES,
      add_reserved_ips: maybe(T.ipv4List, 'Which IP addresses to reserve'),
      conflicts_check: { type: T.bool, default: true, doc: 'Whether to check for conflicting IP addresses' },
      tags: { type: T.tags, default: [], doc: 'Network tags' },
    },
  },
  {
    id: 'OP_NETWORK_REMOVE',
    doc: 'Remove an existing network from the cluster. Must not be connected to any nodegroup.',
    summaryParam: 'network_name',
    params: { network_name: NETWORK_NAME, force: { type: T.bool, default: false, doc: 'Whether to force the operation' } },
  },
  {
    id: 'OP_NETWORK_SET_PARAMS',
    doc: "Modify Network's parameters except for IPv4 subnet",
    summaryParam: 'network_name',
    params: {
      network_name: NETWORK_NAME,
      ...ADDRESSES,
      add_reserved_ips: maybe(T.ipv4List, 'Which external IP addresses to reserve'),
      remove_reserved_ips: maybe(T.ipv4List, 'Which external IP addresses to release'),
    },
  },
  {
    id: 'OP_NETWORK_CONNECT',
    doc: 'Connect a Network to a specific Nodegroup with the defined netparams (mode, link).',
    summaryParam: 'network_name',
    params: {
      group_name: GROUP_NAME,
      network_name: NETWORK_NAME,
      network_mode: { type: T.nicMode, doc: 'Network mode when connecting to a group' },
      network_link: { type: T.nonEmptyString, doc: 'Network link when connecting to a group' },
      network_vlan: { type: T.string, default: '', doc: 'Network vlan when connecting to a group' },
      conflicts_check: { type: T.bool, default: true, doc: 'Whether to check for conflicting IP addresses' },
    },
  },
  {
    id: 'OP_NETWORK_DISCONNECT',
    doc: 'Disconnect a Network from a Nodegroup.',
    summaryParam: 'network_name',
    params: { group_name: GROUP_NAME, network_name: NETWORK_NAME },
  },
];
