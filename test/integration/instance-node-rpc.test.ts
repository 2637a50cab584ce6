// The node side of an instance's life over the real, authenticated node RPC: a one-node
// virtual cluster's noded creates a file disk, assembles it, starts a fake instance on it,
// reports it, stops it and removes the disk, exactly as the master will drive it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { TestCluster, type VirtualNode } from './cluster.ts';
import { RpcClient, type RpcResult, type RpcTarget } from '../../src/rpc/client.ts';
import type { ProcedureName } from '../../src/rpc/procedures.ts';

let cluster: TestCluster;
let node: VirtualNode;
let rpc: RpcClient;
let target: RpcTarget;

before(() => {
  cluster = new TestCluster();
  node = cluster.init('node1');
  rpc = node.rpcClient();
  target = { name: node.name, address: node.ip, port: 1811 };
});
after(() => {
  rpc?.close();
  cluster?.destroy();
});

async function call(proc: ProcedureName, args: unknown[]): Promise<unknown> {
  const r: RpcResult = await rpc.call(target, proc, args);
  assert.ok(r.ok, `${proc}: ${r.ok ? '' : r.error}`);
  return r.payload;
}

async function callFails(proc: ProcedureName, args: unknown[]): Promise<string> {
  const r = await rpc.call(target, proc, args);
  assert.ok(!r.ok, `${proc} must fail`);
  return r.error;
}

const NAME = 'web1.example.com';
const DIR = `/srv/ganeti/file-storage/${NAME}`;
const FILE = `${DIR}/7d1c5e2a-0b9f-4c3e-8a6d-5f4e3d2c1b0a.file.disk0`;
const DISK = {
  dev_type: 'file', logical_id: ['loop', FILE], children: [], nodes: ['node-uuid'], iv_name: 'disk/0', size: 32, mode: 'rw',
  name: null, spindles: null, params: {}, uuid: '7d1c5e2a-0b9f-4c3e-8a6d-5f4e3d2c1b0a', serial_no: 1, ctime: 0, mtime: 0,
};
const INSTANCE = {
  name: NAME, uuid: '2b213469-e5aa-4956-bbd6-3c91a09a11ed', primary_node: 'node-uuid', primary_node_name: 'node1', os: 'noop',
  hypervisor: 'fake', hvparams: { migration_mode: 'live' }, beparams: { maxmem: 128, minmem: 128, vcpus: 1, auto_balance: true },
  osparams: {}, osparams_private: {}, admin_state: 'up', admin_state_source: 'admin', nics: [], disks: [DISK.uuid],
  disks_info: [DISK], disks_active: true, secondary_nodes: [], tags: [], serial_no: 1, ctime: 0, mtime: 0,
};

test('file disk and fake instance through noded: create, assemble, start, list, stop, remove', async () => {
  assert.equal(await call('file_storage_dir_create', [DIR]), null);
  assert.deepEqual(await call('blockdev_create', [DISK, 32, NAME, true, `originstname+${NAME}`, false]), ['loop', FILE]);
  assert.equal(fs.statSync(node.file(FILE)).size, 32 * 1048576);

  const [devPath, linkName, uri] = await call('blockdev_assemble', [DISK, INSTANCE, true, 0]) as unknown[];
  assert.equal(devPath, FILE);
  assert.equal(linkName, `/var/run/ganeti/instance-disks/${NAME}:0`);
  assert.equal(uri, null);
  await call('blockdev_wipe', [DISK, 0, 4]);
  assert.deepEqual(await call('blockdev_find', [DISK]), {
    dev_path: FILE, major: null, minor: null, sync_percent: null, estimated_time: null, is_degraded: false, ldisk_status: 1,
  });

  assert.equal(await call('instance_start', [INSTANCE, false, [['gnt:client:gnt-instance', 'test', 1]]]), null);
  assert.ok(fs.existsSync(node.file(`var/run/ganeti/fake-hypervisor/${NAME}`)));
  assert.deepEqual(await call('instance_list', [['fake'], { fake: {} }]), [NAME]);
  assert.deepEqual(await call('all_instances_info', [['fake'], { fake: {} }]), { [NAME]: { memory: 128, vcpus: 1, state: 'running', time: 0 } });
  const [, , [hv]] = await call('node_info', [[['file', '/srv/ganeti/file-storage', []]], [['fake', {}]]]) as [string, unknown, Array<Record<string, number>>];
  assert.ok(hv.memory_free <= hv.memory_total - 128, 'the instance\'s memory is not free');
  assert.deepEqual(await call('instance_console_info', [{ [NAME]: [INSTANCE, {}, {}, {}, {}] }]),
    { [NAME]: { instance: NAME, kind: 'msg', message: 'Console not available for fake hypervisor' } });

  // A disk path outside the node's storage directories is refused.
  assert.match(await callFails('blockdev_remove', [{ ...DISK, logical_id: ['loop', '/etc/shadow'] }]), /Path '\/etc\/shadow' uses a forbidden prefix/);

  assert.equal(await call('instance_shutdown', [INSTANCE, 120, []]), null);
  assert.deepEqual(await call('all_instances_info', [['fake'], { fake: {} }]), {});
  assert.ok(!fs.existsSync(node.file(`var/run/ganeti/instance-disks/${NAME}:0`)), 'the disk link goes with the instance');
  assert.equal(await call('instance_shutdown', [INSTANCE, 120, []]), null, 'already stopped');

  assert.equal(await call('blockdev_shutdown', [DISK]), null);
  assert.equal(await call('blockdev_remove', [DISK]), null);
  assert.ok(!fs.existsSync(node.file(FILE)));
  assert.equal(await call('blockdev_find', [DISK]), null);
  assert.equal(await call('file_storage_dir_remove', [DIR]), null);
  assert.ok(!fs.existsSync(node.file(DIR)));
  assert.deepEqual(fs.readdirSync(path.dirname(node.file(DIR))), []);
});

test('an instance cannot start before its disk exists; the failure names the disk', async () => {
  const error = await callFails('instance_start', [INSTANCE, false, []]);
  assert.match(error, /^Block device error: Block device '<Disk\(type=file, .*' is not set up\.$/);
  assert.deepEqual(await call('instance_list', [['fake'], {}]), []);
});
