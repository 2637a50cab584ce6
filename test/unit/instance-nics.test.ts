// NICs of new and modified instances without a cluster: MAC validation and generation
// from the cluster prefix (unique in the cluster), VLAN syntax, and the NIC dicts of an
// opcode turned into NIC objects with upstream's errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigurationError, OpPrereqError } from '../../src/core/errors.ts';
import {
  assignMacs, computeNics, generateMac, normalizeMac, normalizeVlan,
} from '../../src/master/cmdlib/instance-nics.ts';

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
