// NICs of new and modified instances without a cluster: MAC validation and generation
// from the cluster prefix (unique in the cluster), VLAN syntax, and the NIC dicts of an
// opcode turned into NIC objects with upstream's errors; NIC addresses in networks held,
// checked against each other and reserved all or nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { ConfigurationError, OpPrereqError } from '../../src/core/errors.ts';
import {
  addressPicked, assignMacs, checkNicNetworks, computeNics, dropPicks, dropPicksOnFailure, generateMac, normalizeMac, normalizeVlan,
  reserveNicIps, type NewNic,
} from '../../src/master/cmdlib/instance-nics.ts';
import { AddressPool } from '../../src/master/config/address-pool.ts';
import type { ConfigData, ConfigObject, NetworkObject, NodeObject } from '../../src/master/config/model.ts';
import type { ConfigTx } from '../../src/master/config/store.ts';

const DEFAULTS = { mode: 'bridged', link: 'gnt0', vlan: '' };

test('MACs are validated and lower-cased as utils.NormalizeAndValidateMac', () => {
  assert.equal(normalizeMac('AA:00:00:0B:CD:EF'), 'aa:00:00:0b:cd:ef');
  for (const bad of ['aa:00:00:0b:cd', 'aa:00:00:0b:cd:ef:01', 'aa-00-00-0b-cd-ef', 'zz:00:00:0b:cd:ef', '']) {
    assert.throws(() => normalizeMac(bad), (e: unknown) => e instanceof OpPrereqError && e.message === `Invalid MAC address '${bad}'`);
  }
});

test('generated MACs carry the cluster prefix, avoid taken ones and are remembered', () => {
  const bytes = [[1, 2, 3], [1, 2, 3], [4, 5, 6]];
  let i = 0;
  const random = () => Uint8Array.from(bytes[i++]);
  const taken = new Set(['aa:00:00:01:02:03']);
  assert.equal(generateMac('aa:00:00', taken, random), 'aa:00:00:04:05:06');
  assert.ok(taken.has('aa:00:00:04:05:06'));
  // Nothing free: upstream's ConfigurationError.
  assert.throws(() => generateMac('aa:00:00', taken, () => Uint8Array.from([1, 2, 3])), ConfigurationError);
  const real = new Set<string>();
  for (let n = 0; n < 200; n++) assert.match(generateMac('52:54:00', real), /^52:54:00(:[0-9a-f]{2}){3}$/);
  assert.equal(real.size, 200);
});

test('VLANs: "N" becomes ".N", dotted and trunk forms are checked', () => {
  assert.equal(normalizeVlan('100'), '.100');
  assert.equal(normalizeVlan('.100'), '.100');
  assert.equal(normalizeVlan('.100:200:300'), '.100:200:300');
  assert.equal(normalizeVlan(':200:300'), ':200:300');
  for (const bad of ['abc', ':a', '.1:x']) {
    assert.throws(() => normalizeVlan(bad), (e: unknown) => e instanceof OpPrereqError && e.message === `Specified VLAN parameter is invalid : ${bad}`);
  }
});

test('computeNics: defaults, explicit MACs, IPs and the routed-mode rule', () => {
  const used = new Set(['aa:00:00:00:00:01']);
  const [a, b] = computeNics([{}, { mac: 'AA:00:00:00:00:02', ip: '192.0.2.7', mode: 'routed', link: 'br1', name: 'eth1' }], DEFAULTS,
    { nameCheck: false, defaultIp: null, usedMacs: used });
  assert.equal(a.mac, 'auto');
  assert.deepEqual(a.nicparams, {});
  assert.equal(b.mac, 'aa:00:00:00:00:02');
  assert.deepEqual(b.nicparams, { mode: 'routed', link: 'br1' });
  assert.equal(b.ip, '192.0.2.7');
  assert.equal(b.name, 'eth1');
  assert.notEqual(a.uuid, b.uuid);
  assignMacs([a, b], 'aa:00:00', used);
  assert.match(a.mac, /^aa:00:00:/);
  assert.equal(b.mac, 'aa:00:00:00:00:02');

  const opts = { nameCheck: false, defaultIp: null, usedMacs: new Set(['aa:00:00:00:00:01']) };
  const err = (nics: Record<string, unknown>[], msg: string) =>
    assert.throws(() => computeNics(nics, DEFAULTS, opts), (e: unknown) => (e as Error).message === msg);
  err([{ mac: 'aa:00:00:00:00:01' }], 'MAC address aa:00:00:00:00:01 already in use in cluster');
  err([{ ip: 'nope' }], "Invalid IP address 'nope'");
  err([{ ip: 'auto' }], 'IP address set to auto but name checks have been skipped');
  err([{ ip: 'pool' }], 'if ip=pool, parameter network must be passed too');
  err([{ mode: 'routed' }], 'Routed nic mode requires an ip address if not attached to a network');
  err([{ mode: 'bogus' }], "Invalid NIC mode 'bogus'");
  err([{ network: 'net1', mode: 'bridged' }], 'If network is given, no mode or link is allowed to be passed');
  assert.equal(computeNics([{ ip: 'auto' }], DEFAULTS, { ...opts, nameCheck: true, defaultIp: '192.0.2.9' })[0].ip, '192.0.2.9');
});

/** A configuration with network N (10.0.0.0/29, gateway .1, connected to the node's group) and one node. */
function netConfig(): { data: ConfigData; node: NodeObject; net: NetworkObject } {
  const net = { name: 'N', network: '10.0.0.0/29', gateway: '10.0.0.1', uuid: 'net-1', serial_no: 1, ctime: 0, mtime: 0, tags: [] } as NetworkObject;
  AddressPool.initialize(net);
  const node = { name: 'node1', uuid: 'node-1', group: 'group-1' } as NodeObject;
  const data = {
    networks: { [net.uuid]: net }, nodes: { [node.uuid]: node }, instances: {},
    nodegroups: { 'group-1': { name: 'default', uuid: 'group-1', networks: { [net.uuid]: { mode: 'bridged', link: 'br0', vlan: '' } } } },
  } as unknown as ConfigData;
  return { data, node, net };
}

/** A transaction over plain data that records what it was told changed. */
function fakeTx(data: ConfigData): ConfigTx & { touched: ConfigObject[] } {
  const touched: ConfigObject[] = [];
  return { data, touched, modified: (o) => touched.push(o), add: () => undefined, remove: () => undefined };
}

const nic = (ip: string | null, network: string | null = 'net-1'): NewNic =>
  ({ mac: 'aa:00:00:00:00:01', nicparams: {}, uuid: crypto.randomUUID(), ...(network ? { network } : {}), ...(ip ? { ip } : {}) });

test('checkNicNetworks: one address twice in a request is refused as in use, and nothing stays held', () => {
  const { data, node } = netConfig();
  assert.throws(() => checkNicNetworks(data, [nic('10.0.0.5'), nic('10.0.0.5')], node, true, () => undefined), (err: unknown) =>
    err instanceof OpPrereqError && err.message === 'IP address 10.0.0.5 already in use or does not belong to network N');
  assert.equal(addressPicked('net-1', '10.0.0.5'), false, 'the first NIC\'s hold was given back');
  // A pool pick before the failing NIC is given back too.
  assert.throws(() => checkNicNetworks(data, [nic('pool'), nic('10.0.0.7')], node, true, () => undefined), OpPrereqError);
  assert.equal(addressPicked('net-1', '10.0.0.2'), false);
  assert.equal(data.networks['net-1'].reservations, '00000000', 'the pool itself never changes in the check');
});

test('checkNicNetworks: ip=pool skips the addresses the request names, wherever they come; the holds are returned', () => {
  const { data, node } = netConfig();
  const nics = [nic('pool'), nic('10.0.0.2'), nic('pool')];
  const picks = checkNicNetworks(data, nics, node, true, () => undefined);
  assert.deepEqual(nics.map((n) => n.ip), ['10.0.0.3', '10.0.0.2', '10.0.0.4']);
  assert.deepEqual(picks, [['net-1', '10.0.0.3'], ['net-1', '10.0.0.2'], ['net-1', '10.0.0.4']]);
  for (const [, ip] of picks) assert.ok(addressPicked('net-1', ip));
  // Another job neither picks nor names them meanwhile.
  const other = [nic('pool')];
  const otherPicks = checkNicNetworks(data, other, node, true, () => undefined);
  assert.equal(other[0].ip, '10.0.0.5');
  assert.throws(() => checkNicNetworks(data, [nic('10.0.0.3')], node, true, () => undefined), OpPrereqError);
  dropPicks([...picks, ...otherPicks]);
  assert.equal(addressPicked('net-1', '10.0.0.3'), false);
});

test('reserveNicIps is all or nothing: a failing NIC leaves every pool as it was', () => {
  const { data, net } = netConfig();
  const before = net.reservations;
  const tx = fakeTx(data);
  assert.throws(() => reserveNicIps(tx, [nic('10.0.0.5'), nic('10.0.0.5')]), (err: unknown) =>
    err instanceof OpPrereqError && err.message === 'IP address 10.0.0.5 already in use or does not belong to network N');
  assert.equal(net.reservations, before, 'NIC 0\'s address is not left reserved in memory');
  assert.deepEqual(tx.touched, []);
  assert.throws(() => reserveNicIps(tx, [nic('10.0.0.3'), nic('10.1.0.9')]), OpPrereqError);
  assert.equal(net.reservations, before);

  reserveNicIps(tx, [nic('10.0.0.3'), nic('10.0.0.4'), nic(null), nic('192.0.2.1', null)]);
  assert.equal(net.reservations, '00011000');
  assert.deepEqual(tx.touched, [net], 'the network is named once');
  assert.equal(new AddressPool(net).isReserved('10.0.0.0', true), true, 'external reservations untouched');
});

test('dropPicksOnFailure: a failed checkPrereq or exec gives the held addresses back, a success keeps them for the commit', async () => {
  const { data, node } = netConfig();
  let picks: Array<[string, string]> = [];
  const lu = (fail: 'prereq' | 'exec' | null) => dropPicksOnFailure({
    checkPrereq() {
      picks = checkNicNetworks(data, [nic('pool')], node, true, () => undefined);
      if (fail === 'prereq') throw new OpPrereqError('later check failed');
    },
    async exec() {
      if (fail === 'exec') throw new Error('disks failed');
      return 'done';
    },
  }, () => picks);
  const a = lu('prereq');
  await assert.rejects(async () => a.checkPrereq!(), { message: 'later check failed' });
  assert.equal(addressPicked('net-1', '10.0.0.2'), false);
  const b = lu('exec');
  await b.checkPrereq!();
  assert.ok(addressPicked('net-1', '10.0.0.2'));
  await assert.rejects(b.exec(), { message: 'disks failed' });
  assert.equal(addressPicked('net-1', '10.0.0.2'), false);
  const c = lu(null);
  await c.checkPrereq!();
  assert.equal(await c.exec(), 'done');
  assert.ok(addressPicked('net-1', '10.0.0.2'), 'kept until the commit drops it');
  dropPicks(picks);
  // A dry run ends after the checks: nothing stays held.
  const dry = dropPicksOnFailure({ checkPrereq() {
    picks = checkNicNetworks(data, [nic('10.0.0.3')], node, true, () => undefined);
  }, exec: async () => null }, () => picks, true);
  await dry.checkPrereq!();
  assert.equal(addressPicked('net-1', '10.0.0.3'), false);
});
