// Networks without a cluster: the address pool (upstream's lib/network.py AddressPool:
// bitmaps, reservations, messages), IP syntax checks, the network opcodes' validation and
// the query fields; gnt-network modify's pool changes against instances committing meanwhile.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OpPrereqError } from '../../src/core/errors.ts';
import { serializeConfig } from '../../src/core/config-journal.ts';
import { isIPv4Address, isIPv4Network, isIPv6Address, isIPv6Network } from '../../src/core/netaddr.ts';
import { validateOpcode } from '../../src/core/opcodes.ts';
import { runQuery } from '../../src/core/query.ts';
import { AddressPool, AddressPoolError, type NetworkObject } from '../../src/master/config/address-pool.ts';
import { NETWORK_FIELDS, type NetworkView } from '../../src/master/config/network-fields.ts';
import type { ConfigData } from '../../src/master/config/model.ts';
import { networkSetParams, normalizeMacPrefix } from '../../src/master/cmdlib/network.ts';
import { reserveNicIps } from '../../src/master/cmdlib/instance-nics.ts';
import type { LUContext } from '../../src/master/cmdlib/base.ts';
import { ConfigStore } from '../../src/master/config/store.ts';

function net(network: string, extra: Partial<NetworkObject> = {}): NetworkObject {
  return { name: 'n1', network, uuid: 'u1', serial_no: 1, ctime: 0, mtime: 0, tags: [], ...extra };
}

test('IP syntax as Python ipaddress accepts it', () => {
  for (const a of ['10.0.0.1', '0.0.0.0', '255.255.255.255']) assert.ok(isIPv4Address(a), a);
  for (const a of ['10.0.0', '10.0.0.256', '010.0.0.1', '1.2.3.4/24', '', 'a.b.c.d']) assert.ok(!isIPv4Address(a), a);
  for (const n of ['10.0.0.0/24', '10.0.0.0', '192.168.1.0/30']) assert.ok(isIPv4Network(n), n);
  for (const n of ['10.0.0.0/33', '10.0.0.0/', '10.0.0.0/24/1', 'x/24']) assert.ok(!isIPv4Network(n), n);
  for (const a of ['::1', '2001:db8::1', 'fe80::']) assert.ok(isIPv6Address(a), a);
  for (const a of ['10.0.0.1', '2001:db8::g', '::1%eth0']) assert.ok(!isIPv6Address(a), a);
  assert.ok(isIPv6Network('2001:db8::/64'));
  assert.ok(!isIPv6Network('2001:db8::/129'));
});

test('a new pool reserves network, broadcast and gateway externally; the bitmaps are strings of 0 and 1', () => {
  const n = net('10.0.0.0/28', { gateway: '10.0.0.1' });
  const pool = AddressPool.initialize(n);
  assert.equal(n.reservations, '0'.repeat(16));
  assert.equal(n.ext_reservations, '1100000000000001');
  assert.equal(pool.freeCount(), 13);
  assert.equal(pool.reservedCount(), 3);
  assert.equal(pool.map(), 'XX.............X');
  assert.deepEqual(pool.externalReservations(), ['10.0.0.0', '10.0.0.1', '10.0.0.15']);
  assert.equal(pool.generateFree(), '10.0.0.2');
  assert.equal(pool.generateFree(new Set(['10.0.0.2'])), '10.0.0.3');
});

test('reserve and release, internal and external, with upstream\'s messages', () => {
  const n = net('192.168.0.0/30');
  const pool = AddressPool.initialize(n);
  pool.reserve('192.168.0.1');
  assert.equal(n.reservations, '0100');
  assert.throws(() => pool.reserve('192.168.0.1'), { message: 'IP 192.168.0.1 is already used by an instance' });
  assert.throws(() => pool.reserve('192.168.0.0', true), { message: 'IP 192.168.0.0 is already externally reserved' });
  assert.throws(() => pool.release('192.168.0.2'), { message: 'IP 192.168.0.2 is not used by an instance' });
  assert.throws(() => pool.release('192.168.0.2', true), { message: 'IP 192.168.0.2 is not externally reserved' });
  assert.throws(() => pool.reserve('10.0.0.1'), { message: '192.168.0.0/30 does not contain 10.0.0.1' });
  pool.reserve('192.168.0.2');
  assert.ok(pool.isFull());
  assert.throws(() => pool.generateFree(), { message: '192.168.0.0/30 is full' });
  pool.release('192.168.0.1');
  assert.equal(n.reservations, '0010');
  assert.equal(pool.generateFree(), '192.168.0.1');
  // A pool read back from the object sees the same state.
  assert.equal(new AddressPool(n).map(), 'X.XX');
});

test('network size limits, host bits and a gateway outside the subnet', () => {
  assert.throws(() => AddressPool.initialize(net('10.0.0.0/31')), (e: Error) => e instanceof AddressPoolError &&
    e.message === 'A network with only 2 host(s) is too small, please specify at least a /30 network');
  assert.throws(() => AddressPool.initialize(net('10.0.0.0/15')), { message: 'A big network with 131072 host(s) is currently not supported. please specify at most a /16 network' });
  assert.throws(() => AddressPool.initialize(net('10.0.0.1/24')), { message: '10.0.0.1/24 has host bits set' });
  assert.throws(() => AddressPool.initialize(net('10.0.0.0/24', { gateway: '10.0.1.1' })), { message: '10.0.0.0/24 does not contain 10.0.1.1' });
  assert.throws(() => AddressPool.initialize(net('10.0.0.0/24', { gateway: '10.0.0.0' })), { message: 'IP 10.0.0.0 is already externally reserved' });
  assert.equal(AddressPool.initialize(net('10.0.0.0/16')).size, 65536);
});

test('MAC prefixes are three octets, lower-cased', () => {
  assert.equal(normalizeMacPrefix('AA:BB:0c'), 'aa:bb:0c');
  assert.throws(() => normalizeMacPrefix('aa:bb'), { message: "Invalid MAC address prefix 'aa:bb'" });
  assert.throws(() => normalizeMacPrefix('aa:bb:cc:dd'), { message: "Invalid MAC address prefix 'aa:bb:cc:dd'" });
});

test('the network opcodes check addresses and fill upstream\'s defaults', () => {
  const add = validateOpcode({ OP_ID: 'OP_NETWORK_ADD', network_name: 'net', network: '10.0.0.0/24' });
  assert.equal(add.conflicts_check, true);
  assert.deepEqual(add.tags, []);
  assert.throws(() => validateOpcode({ OP_ID: 'OP_NETWORK_ADD', network_name: 'net', network: '10.0.0/24' }), /network/);
  assert.throws(() => validateOpcode({ OP_ID: 'OP_NETWORK_ADD', network_name: 'net', network: '10.0.0.0/24', gateway: 'x' }), /gateway/);
  assert.throws(() => validateOpcode({ OP_ID: 'OP_NETWORK_ADD', network_name: 'net', network: '10.0.0.0/24', add_reserved_ips: ['10.0.0.300'] }), /add_reserved_ips/);
  const connect = validateOpcode({ OP_ID: 'OP_NETWORK_CONNECT', network_name: 'net', group_name: 'g', network_mode: 'routed', network_link: 'rt' });
  assert.equal(connect.network_vlan, '');
  assert.throws(() => validateOpcode({ OP_ID: 'OP_NETWORK_CONNECT', network_name: 'net', group_name: 'g', network_mode: 'x', network_link: 'rt' }), /network_mode/);
});

test('network query fields: unset attributes are unavailable, groups as (name, mode, link, vlan)', () => {
  const n = net('10.0.0.0/30', { uuid: 'nu' });
  AddressPool.initialize(n);
  const config = {
    nodegroups: { g: { uuid: 'g', name: 'default', networks: { nu: { mode: 'bridged', link: 'br0', vlan: '' } } } },
    instances: { i: { uuid: 'i', name: 'inst1', nics: [{ network: 'nu', ip: '10.0.0.1' }] } },
  } as unknown as ConfigData;
  const view: NetworkView = { net: n, config, stats: () => ({ free: 2, reserved: 2, map: 'X..X', external: '10.0.0.0, 10.0.0.3' }) };
  const r = runQuery(NETWORK_FIELDS, ['name', 'gateway', 'group_list', 'group_cnt', 'inst_list', 'inst_cnt', 'external_reservations'], [view], null);
  assert.deepEqual(r.data[0], [[0, 'n1'], [3, null], [0, [['default', 'bridged', 'br0', '']]], [0, 1], [0, ['inst1']], [0, 1], [0, '10.0.0.0, 10.0.0.3']]);
  assert.deepEqual(r.fields.map((f) => f.title), ['Network', 'Gateway', 'GroupList', 'NodeGroups', 'InstanceList', 'Instances', 'ExternalReservations']);
});

const dirs: string[] = [];
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** A configuration store over a temporary config.data holding network net1 (10.9.0.0/28, gateway .1). */
function storeWithNetwork(): ConfigStore {
  const n = net('10.9.0.0/28', { name: 'net1', uuid: 'net-1', gateway: '10.9.0.1' });
  AddressPool.initialize(n);
  const data = {
    version: 3000000,
    cluster: { uuid: 'c1', serial_no: 1, ctime: 1, mtime: 1, cluster_name: 'c.test', master_node: 'n1', tags: [] },
    nodes: {}, nodegroups: {}, instances: {}, networks: { [n.uuid]: n }, disks: {}, filters: {},
    serial_no: 1, ctime: 1, mtime: 1,
  } as unknown as ConfigData;
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'gnt-netmod-'));
  dirs.push(d);
  fs.writeFileSync(path.join(d, 'config.data'), serializeConfig(data));
  return ConfigStore.load(path.join(d, 'config.data'));
}

/** An instance add committing its NIC's address (it takes no network lock). */
const instanceTakes = (store: ConfigStore, ip: string) =>
  store.update((tx) => reserveNicIps(tx, [{ network: 'net-1', ip, mac: 'aa:00:00:00:00:01', nicparams: {}, uuid: 'nic-1' }]));

test('network modify changes the pool as it is when applied: an address an instance took after the checks stays taken', async () => {
  const store = storeWithNetwork();
  const feedback: string[] = [];
  const ctx = { config: store, feedback: (m: string) => feedback.push(m) } as unknown as LUContext;
  const lu = networkSetParams({ OP_ID: 'OP_NETWORK_SET_PARAMS', network_name: 'net1', add_reserved_ips: ['10.9.0.9', '10.9.0.20'], remove_reserved_ips: ['10.9.0.1'] }, ctx);
  lu.checkArguments?.();
  lu.expandNames?.();
  await lu.checkPrereq?.();
  // The add's change is queued before the modify's: it lands after exec starts.
  const taking = instanceTakes(store, '10.9.0.3');
  await lu.exec();
  await taking;
  const pool = new AddressPool(store.data.networks['net-1']);
  assert.equal(pool.isReserved('10.9.0.3'), true, 'the instance\'s reservation survives');
  assert.equal(pool.isReserved('10.9.0.9', true), true);
  assert.equal(pool.isReserved('10.9.0.1', true), true, 'the gateway stays reserved');
  assert.equal(store.data.networks['net-1'].reservations, '0001000000000000');
  assert.equal(store.data.networks['net-1'].ext_reservations, '1100000001000001');
  assert.equal(feedback.length, 2, feedback.join('\n'));

  // A new gateway an instance takes after the checks is refused at the change, which then changes nothing.
  const gw = networkSetParams({ OP_ID: 'OP_NETWORK_SET_PARAMS', network_name: 'net1', gateway: '10.9.0.4' }, ctx);
  gw.checkArguments?.();
  gw.expandNames?.();
  await gw.checkPrereq?.();
  const taking4 = instanceTakes(store, '10.9.0.4');
  await assert.rejects(gw.exec(), (err: unknown) => err instanceof OpPrereqError && err.message === "Gateway IP address '10.9.0.4' is already reserved");
  await taking4;
  assert.equal(store.data.networks['net-1'].reservations, '0001100000000000');
  assert.equal(store.data.networks['net-1'].ext_reservations, '1100000001000001');
  assert.equal(store.data.networks['net-1'].gateway, '10.9.0.1');
  await store.close();
});
