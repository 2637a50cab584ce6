// Pieces of the instance logical units without a cluster: instance names, the
// set-params modification lists of 2.x and 3.x clients and their indices, the hooks
// environment of an instance, and the time format of progress lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OpPrereqError } from '../../src/core/errors.ts';
import { validateOpcode } from '../../src/core/opcodes.ts';
import { buildInstanceHookEnv } from '../../src/master/hooks.ts';
import { checkInstanceExistence, normalizeHostname } from '../../src/master/cmdlib/instance-create.ts';
import { indexForAdd, indexOfItem, upgradeMods } from '../../src/master/cmdlib/instance-set-params.ts';
import { formatSeconds, updatedParams, upgradeBeParams } from '../../src/master/cmdlib/instance-utils.ts';

const prereq = (msg: string) => (e: unknown) => e instanceof OpPrereqError && e.message === msg;

test('instance names are normalized as netutils.Hostname.GetNormalizedName', () => {
  assert.equal(normalizeHostname('Web1.Example.COM.'), 'web1.example.com');
  for (const bad of ['a b', '.lead', 'double..dot', '', 'x'.repeat(256), 'über']) {
    assert.throws(() => normalizeHostname(bad), prereq(`Invalid hostname '${bad.toLowerCase()}'`));
  }
  const data = { instances: { u1: { name: 'web1' } } } as never;
  assert.throws(() => checkInstanceExistence(data, 'web1'), prereq("Instance 'web1' is already in the cluster"));
  checkInstanceExistence(data, 'web2');
});

test('set-params modifications: 2.x pairs are upgraded, 3.x triples kept', () => {
  assert.deepEqual(upgradeMods('disk', [['add', { size: 1024 }]]), [['add', -1, { size: 1024 }]]);
  assert.deepEqual(upgradeMods('NIC', [[0, { ip: '192.0.2.1' }], ['remove', {}]]), [['modify', 0, { ip: '192.0.2.1' }], ['remove', -1, {}]]);
  assert.throws(() => upgradeMods('disk', [['add', {}], ['remove', {}]]), prereq('Only one disk add/attach/remove/detach operation is supported at a time'));
  assert.deepEqual(upgradeMods('disk', [['modify', 'data', { mode: 'ro' }]]), [['modify', 'data', { mode: 'ro' }]]);
  assert.deepEqual(upgradeMods('disk', []), []);
  assert.throws(() => upgradeMods('disk', [['grow', 0, {}]]), OpPrereqError);
});

test('set-params indices: -1 appends or means the last, names and uuids find items', () => {
  assert.equal(indexForAdd('disk', -1, 2), 2);
  assert.equal(indexForAdd('disk', '1', 2), 1);
  assert.throws(() => indexForAdd('disk', 3, 2), prereq('Got disk index 3, but there are only 2'));
  assert.throws(() => indexForAdd('disk', 'x', 2), prereq('Only positive integer or -1 is accepted'));
  const items = [{ name: 'a', uuid: 'u1' }, { name: null, uuid: 'u2' }];
  assert.equal(indexOfItem('NIC', -1, items), 1);
  assert.equal(indexOfItem('NIC', 'a', items), 0);
  assert.equal(indexOfItem('NIC', 'u2', items), 1);
  assert.throws(() => indexOfItem('NIC', 2, items), prereq('Got NIC index 2, but there are only 2'));
  assert.throws(() => indexOfItem('NIC', 'zz', items), prereq('Cannot find NIC with identifier zz'));
});

test('parameter updates: "default" resets, legacy memory becomes maxmem/minmem', () => {
  assert.deepEqual(updatedParams({ a: 1, b: 2 }, { a: 'default', c: 3 }), { b: 2, c: 3 });
  assert.deepEqual(updatedParams({ a: 1 }, { a: null }, true, true), {});
  const be: Record<string, unknown> = { memory: 512, vcpus: 2 };
  upgradeBeParams(be);
  assert.deepEqual(be, { vcpus: 2, maxmem: 512, minmem: 512 });
});

test('the instance hooks environment has upstream\'s variables', () => {
  const env = buildInstanceHookEnv({
    name: 'web1', primaryNode: 'node1', secondaryNodes: [], osType: 'noop', status: 'up', minmem: 128, maxmem: 256, vcpus: 1,
    nics: [{ name: null, uuid: 'n1', ip: null, mac: 'aa:00:00:01:02:03', mode: 'bridged', link: 'br0', vlan: '', network: null }],
    diskTemplate: 'file', disks: [{ uuid: 'd1', dev_type: 'file', logical_id: ['loop', '/srv/f'], size: 1024, mode: 'rw', name: 'root' }],
    bep: { auto_balance: true, maxmem: 256 }, hvp: { migration_mode: 'live' }, hypervisor: 'fake', tags: ['a', 'b'],
  });
  assert.deepEqual(env, {
    OP_TARGET: 'web1', INSTANCE_NAME: 'web1', INSTANCE_PRIMARY: 'node1', INSTANCE_SECONDARIES: '', INSTANCE_OS_TYPE: 'noop',
    INSTANCE_STATUS: 'up', INSTANCE_MINMEM: 128, INSTANCE_MAXMEM: 256, INSTANCE_MEMORY: 256, INSTANCE_VCPUS: 1,
    INSTANCE_DISK_TEMPLATE: 'file', INSTANCE_HYPERVISOR: 'fake',
    INSTANCE_NIC0_UUID: 'n1', INSTANCE_NIC0_IP: '', INSTANCE_NIC0_MAC: 'aa:00:00:01:02:03', INSTANCE_NIC0_MODE: 'bridged',
    INSTANCE_NIC0_LINK: 'br0', INSTANCE_NIC0_VLAN: '', INSTANCE_NIC0_BRIDGE: 'br0', INSTANCE_NIC_COUNT: 1,
    INSTANCE_DISK0_DRIVER: 'loop', INSTANCE_DISK0_ID: '/srv/f', INSTANCE_DISK0_DEV_TYPE: 'file', INSTANCE_DISK0_NAME: 'root',
    INSTANCE_DISK0_UUID: 'd1', INSTANCE_DISK0_SIZE: 1024, INSTANCE_DISK0_MODE: 'rw', INSTANCE_DISK_COUNT: 1,
    INSTANCE_TAGS: 'a b', INSTANCE_BE_auto_balance: true, INSTANCE_BE_maxmem: 256, INSTANCE_HV_migration_mode: 'live',
  });
});

test('progress times as utils.FormatSeconds', () => {
  assert.equal(formatSeconds(0), '0s');
  assert.equal(formatSeconds(59.6), '1m 0s');
  assert.equal(formatSeconds(3600 + 5), '1h 0m 5s');
  assert.equal(formatSeconds(90061), '1d 1h 1m 1s');
});

test('the instance opcodes take what real 3.0 and 2.x clients submit', () => {
  const create = validateOpcode({
    OP_ID: 'OP_INSTANCE_CREATE', instance_name: 'x', mode: 'create', disks: [{ size: 16 }], nics: [{}], disk_template: 'file',
    os_type: 'noop', pnode: 'node1', name_check: true, ip_check: true, hvparams: {}, beparams: {}, start: true,
  });
  assert.equal(create.helper_startup_timeout, 300);
  assert.equal(create.compress, 'none');
  assert.equal(create.wait_for_sync, true);
  assert.throws(() => validateOpcode({ OP_ID: 'OP_INSTANCE_REBOOT', instance_name: 'x', reboot_type: 'warm' }), OpPrereqError);
  assert.throws(() => validateOpcode({ OP_ID: 'OP_INSTANCE_GROW_DISK', instance_name: 'x', disk: 16, amount: 1 }), OpPrereqError);
  const mod = validateOpcode({ OP_ID: 'OP_INSTANCE_SET_PARAMS', instance_name: 'x', disks: [['add', { size: 1 }]], hotplug_if_possible: true });
  assert.equal(mod.hotplug, true);
  const exp = validateOpcode({ OP_ID: 'OP_BACKUP_EXPORT', instance_name: 'x', target_node: 'node2' });
  assert.equal(exp.mode, 'local');
  assert.equal(exp.shutdown, true);
});
