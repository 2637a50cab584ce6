// Disks of new instances without a cluster: the opcode's disk dicts checked and sized
// (sizes with units, "10x", 0), device names, file storage directories, space per
// volume group, upstream's disk description, and the instance policy's verdicts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OpPrereqError, TypeEnforcementError } from '../../src/core/errors.ts';
import * as D from '../../src/master/config/defaults.ts';
import type { ClusterObject, DiskObject } from '../../src/master/config/model.ts';
import {
  calculateFileStorageDir, checkDiskSizes, computeDisks, computeDiskSizePerVG, diskDescription, findDisk, forceDiskParams,
  validateDeviceNames,
} from '../../src/master/cmdlib/instance-storage.ts';
import { groupIpolicy, ipolicyViolations } from '../../src/master/cmdlib/instance-ipolicy.ts';

const prereq = (msg: string) => (e: unknown) => e instanceof OpPrereqError && e.message === msg;

test('disk sizes: units become MiB, garbage and nothing are refused', () => {
  const disk = { size: '10G', mode: 'rw', name: 'data' };
  forceDiskParams(disk);
  assert.equal(disk.size, 10240);
  assert.throws(() => forceDiskParams({ size: '10x' }),
    (e: unknown) => e instanceof TypeEnforcementError && e.message === "'size' (value 10x) is not a valid size. error: Unknown unit: x");
  assert.throws(() => forceDiskParams({ size: 1, colour: 'red' }), (e: unknown) => e instanceof TypeEnforcementError && e.message === "Unknown parameter 'colour'");
  assert.throws(() => computeDisks([{}], 'file', null), prereq('Missing disk size'));
  assert.throws(() => computeDisks([{ size: 1024, mode: 'rx' }], 'file', null), prereq("Invalid disk access mode 'rx'"));
  assert.throws(() => computeDisks([{ size: -4 }], 'file', null), prereq("Invalid disk size '-4'"));
  const zero = computeDisks([{ size: 0 }], 'file', null);
  assert.throws(() => checkDiskSizes(zero), prereq("Invalid disk size '0'"));
  assert.throws(() => computeDisks([{ size: 4, provider: 'x' }], 'file', null), prereq("The 'provider' option is only valid for the ext disk template, not file"));
  assert.throws(() => computeDisks([{ size: 4 }], 'ext', null), prereq("Missing provider for template 'ext'"));
});

test('computeDisks fills mode and volume group, drops a "none" name', () => {
  assert.deepEqual(computeDisks([{ size: 1024 }, { size: 2048, vg: 'fast', name: 'None', mode: 'ro' }], 'plain', 'xenvg'), [
    { size: 1024, mode: 'rw', vg: 'xenvg', name: null },
    { size: 2048, mode: 'ro', vg: 'fast', name: null },
  ]);
  assert.deepEqual(computeDiskSizePerVG('plain', computeDisks([{ size: 1024 }, { size: 512 }, { size: 4, vg: 'b' }], 'plain', 'a')), { a: 1536, b: 4 });
  assert.deepEqual(computeDiskSizePerVG('drbd', computeDisks([{ size: 1024 }], 'drbd', 'a')), { a: 1152 });
  assert.deepEqual(computeDiskSizePerVG('file', computeDisks([{ size: 1024 }], 'file', null)), {});
});

test('device names: not numeric, unique', () => {
  validateDeviceNames('disk', ['a', null, 'none', 'None', 'b']);
  assert.throws(() => validateDeviceNames('NIC', ['eth0', '1']), prereq("Invalid name '1'. Purely numeric NIC names are not allowed"));
  assert.throws(() => validateDeviceNames('disk', ['a', 'a']), prereq("disk name 'a' already used"));
});

test('file storage directory: cluster dir, optional subdirectory, instance name; no escapes', () => {
  const cluster = { file_storage_dir: '/srv/ganeti/file-storage', shared_file_storage_dir: '', gluster_storage_dir: '/var/run/gluster' } as ClusterObject;
  assert.equal(calculateFileStorageDir('file', cluster, 'web1', null), '/srv/ganeti/file-storage/web1');
  assert.equal(calculateFileStorageDir('file', cluster, 'web1', 'tier2'), '/srv/ganeti/file-storage/tier2/web1');
  assert.equal(calculateFileStorageDir('gluster', cluster, 'web1', null), '/var/run/gluster');
  assert.equal(calculateFileStorageDir('plain', cluster, 'web1', null), null);
  assert.throws(() => calculateFileStorageDir('sharedfile', cluster, 'web1', null), prereq("Cluster file storage dir for 'sharedfile' storage type not defined"));
  assert.throws(() => calculateFileStorageDir('file', cluster, 'web1', '../../../etc'), OpPrereqError);
});

test('disks are described as upstream\'s str(Disk)', () => {
  const file = { dev_type: 'file', logical_id: ['loop', '/srv/ganeti/file-storage/i/u.file.disk0'], children: [], iv_name: 'disk/0', size: 1024 } as unknown as DiskObject;
  assert.equal(diskDescription(file), "<Disk(type=file, logical_id=('loop', '/srv/ganeti/file-storage/i/u.file.disk0'), children=[], visible as /dev/disk/0, size=1024m)>");
  const lv = { dev_type: 'plain', logical_id: ['xenvg', 'u.disk0'], children: [], iv_name: 'disk/1', size: 512 } as unknown as DiskObject;
  assert.equal(diskDescription(lv), '<LogicalVolume(/dev/xenvg/u.disk0, visible as /dev/disk/1, size=512m)>');
  assert.throws(() => findDisk([file], 2), prereq('Invalid disk index: 2 (instace has disks 0 to 0'));
});

test('instance policy: the default policy refuses small disks; diskless needs no disk count', () => {
  const data = { cluster: { ipolicy: structuredClone(D.DEFAULT_IPOLICY) } } as never;
  const policy = groupIpolicy(data, { ipolicy: { 'disk-templates': ['diskless', 'file', 'plain'] } } as never);
  assert.deepEqual(policy['disk-templates'], ['diskless', 'file', 'plain']);
  assert.deepEqual(policy.minmax, D.DEFAULT_IPOLICY.minmax);
  const spec = { memorySize: 128, cpuCount: 1, diskCount: 1, diskSizes: [16], nicCount: 1, spindleUse: 1 };
  assert.deepEqual(ipolicyViolations(policy, spec, 'file'), ['disk-size/0 value 16 is not in range [1024, 1048576]']);
  assert.deepEqual(ipolicyViolations(policy, { ...spec, diskCount: 0, diskSizes: [] }, 'diskless'), []);
  assert.deepEqual(ipolicyViolations(policy, { ...spec, diskSizes: [1024], memorySize: 65536, nicCount: 9 }, 'file'),
    ['memory-size value 65536 is not in range [128, 32768]', 'nic-count value 9 is not in range [1, 8]']);
  assert.deepEqual(ipolicyViolations(policy, { ...spec, diskSizes: [1024] }, 'rbd'),
    ['Disk template rbd is not allowed (allowed templates: diskless, file, plain)']);
});

test('free space per volume group comes from node_info\'s lvm-vg unit; too little is insufficient_resources', async () => {
  const { checkNodesFreeDiskPerVG } = await import('../../src/master/cmdlib/instance-storage.ts');
  const calls: unknown[][] = [];
  const node = { uuid: 'n1', name: 'node1', primary_ip: '127.0.0.1', group: 'g1', ndparams: {}, offline: false };
  const ctx = {
    config: {
      node: (u: string) => (u === 'n1' ? node : undefined),
      data: { nodegroups: { g1: { ndparams: {} } } },
      cluster: { enabled_hypervisors: ['fake'], hvparams: { fake: {} }, ndparams: { exclusive_storage: false } },
    },
    rpc: {
      call: async (_t: unknown, proc: string, args: unknown[]) => {
        calls.push([proc, args]);
        return { node: 'node1', ok: true, payload: ['boot', [{ type: 'lvm-vg', name: 'xenvg', storage_free: 100, storage_size: 200 }], [{}]] };
      },
    },
  } as never;
  await checkNodesFreeDiskPerVG(ctx, ['n1'], { xenvg: 100 });
  assert.deepEqual(calls[0], ['node_info', [[['lvm-vg', 'xenvg', false]], [['fake', {}]]]]);
  await assert.rejects(checkNodesFreeDiskPerVG(ctx, ['n1'], { xenvg: 1024 }), (e: unknown) => e instanceof OpPrereqError &&
    e.message === 'Not enough disk space on target node node1 vg xenvg: required 1024 MiB, available 100 MiB' && e.args[1] === 'insufficient_resources');
});
