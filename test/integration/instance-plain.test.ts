// The `plain` disk template on a real LVM volume group (a sparse loop device; every virtual
// node of this machine sees the same host LVM): the cluster's volume group is checked on
// the nodes, the node list reports its space, and an instance gets a logical volume. Where
// the kernel has no device-mapper, lvcreate cannot work: the add must then fail with
// lvm2's reason and leave nothing behind; the full lifecycle runs where it is present.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { TestCluster } from './cluster.ts';
import { createLoopVg, deviceMapperUnavailable, loopVgUnavailable, type LoopVg } from '../fixtures/lvm/loop-vg.ts';

const noLoopVg = loopVgUnavailable();
const noDeviceMapper = deviceMapperUnavailable();
const VG = `gnttest${process.pid}`;
// Upstream refuses volume groups under 20 GiB; the loop file is sparse.
const loopVg: LoopVg | null = noLoopVg ? null : createLoopVg(VG, 20480 + 64);
const cluster = new TestCluster();
after(() => {
  cluster.destroy();
  loopVg?.destroy();
});

function lvsOf(vg: string): string[] {
  const r = spawnSync('lvs', ['--noheadings', '-o', 'lv_name', vg], { encoding: 'utf8', env: { ...process.env, PATH: `/usr/sbin:/sbin:${process.env.PATH}`, LVM_SUPPRESS_FD_WARNINGS: '1' } });
  return r.stdout.split('\n').map((l) => l.trim()).filter(Boolean);
}

test('the volume group: init and modify check it on the nodes; the node list shows its space', { skip: noLoopVg ?? false }, () => {
  const bad = cluster.addNode('node0');
  const refused = bad.run('gnt-cluster', ['init', '--primary-ip', bad.ip, '--enabled-disk-templates', 'plain,diskless', '--vg-name', `${VG}x`, 'cluster.test']);
  assert.equal(refused.code, 1, refused.stdout + refused.stderr);
  assert.match(refused.stderr, new RegExp(`volume group '${VG}x' missing`));

  const node1 = cluster.init('node1', 'cluster.test', ['--enabled-disk-templates', 'plain,diskless', '--vg-name', VG]);
  const node2 = cluster.join(node1, 'node2');
  assert.ok(node2);
  const info = node1.run('gnt-cluster', ['info']).stdout;
  assert.match(info, new RegExp(`lvm volume group: ${VG}`));
  const missing = node1.run('gnt-cluster', ['modify', '--vg-name', 'nosuchvg']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /Error on node 'node1': volume group 'nosuchvg' missing/);
  const unset = node1.run('gnt-cluster', ['modify', '--vg-name', '']);
  assert.equal(unset.code, 1);
  assert.match(unset.stderr, /Cannot unset volume group if lvm-based disk templates are or get enabled\./);
  const rows = node1.run('gnt-node', ['list', '--no-headers', '--units=m', '-o', 'name,dtotal,dfree']).stdout.trim().split('\n');
  for (const row of rows) {
    const [, total, free] = row.trim().split(/\s+/);
    assert.ok(Number(total) >= 20480 && Number(free) > 0, row);
  }
});

test('a plain instance: a logical volume on the primary (or lvm2\'s reason and nothing left without device-mapper)', { skip: noLoopVg ?? false }, () => {
  const node1 = cluster.nodes.find((n) => n.name === 'node1')!;
  const add = node1.run('gnt-instance', ['add', '--no-name-check', '--no-ip-check', '-t', 'plain', '--disk', '0:size=1G', '-o', 'noop', '-n', 'node2', 'lv1']);
  if (noDeviceMapper) {
    assert.equal(add.code, 1, `${add.stdout}${add.stderr}`);
    assert.match(add.stderr, /Can't create block device|LV create failed/);
    assert.match(add.stderr, /device-mapper|mapper/);
    assert.equal(node1.run('gnt-instance', ['list', '--no-headers', '-o', 'name']).stdout.trim(), '');
    assert.deepEqual(lvsOf(VG), [], 'no logical volume left');
    return;
  }
  assert.equal(add.code, 0, `${add.stdout}${add.stderr}`);
  const lvs = lvsOf(VG);
  assert.equal(lvs.length, 1);
  assert.match(lvs[0], /\.disk0$/);
  const row = node1.run('gnt-instance', ['list', '--no-headers', '-o', 'name,disk_template,disk.sizes,status']).stdout.trim().split(/\s+/);
  assert.deepEqual(row, ['lv1', 'plain', '1024', 'running']);
  assert.equal(node1.run('gnt-instance', ['grow-disk', 'lv1', '0', '128M']).code, 0);
  assert.equal(node1.run('gnt-instance', ['list', '--no-headers', '-o', 'disk.sizes', 'lv1']).stdout.trim(), '1152');
  assert.equal(node1.run('gnt-instance', ['remove', '-f', 'lv1']).code, 0);
  assert.deepEqual(lvsOf(VG), []);
});
