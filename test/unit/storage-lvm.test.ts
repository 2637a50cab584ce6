// `plain` disks and LVM storage units, three ways:
//  * replayed: the node procedures against recorded lvm2 sessions (test/fixtures/lvm/,
//    see its README for what is real and what is crafted);
//  * real, on a loop-backed volume group: what works without device-mapper (vgs, pvs,
//    the failing lvcreate), and recording fixtures;
//  * real logical volumes: the whole lifecycle, skipped (saying why) where device-mapper
//    is missing.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { BACKEND } from '../../src/node/backend.ts';
import type { NodeContext } from '../../src/node/context.ts';
import { nodePaths } from '../../src/util/paths.ts';
import { loadFixtures, realStorageRunner, recordingRunner, replayRunner } from '../../src/node/storage/commands.ts';
import { pvInfo, vgInfo } from '../../src/node/storage/lvm.ts';
import { LIFECYCLE_STEPS, LV, MISSING_LV_STEPS, VG, VG_INFO_STEPS, plainDisk, type Step } from '../fixtures/lvm/steps.ts';
import { createLoopVg, deviceMapperUnavailable, loopVgUnavailable } from '../fixtures/lvm/loop-vg.ts';

const FIXTURES = path.resolve('test/fixtures/lvm');
const DEV = `/dev/${VG}/${LV}`;
const temps: string[] = [];
after(() => {
  delete process.env.GANETI_LVM_REPLAY;
  for (const d of temps) fs.rmSync(d, { recursive: true, force: true });
});

function tempDir(prefix: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  temps.push(d);
  return d;
}

function nodeContext(): NodeContext {
  return { paths: nodePaths(path.join(tempDir('gnt-lvm-'), 'node1')), hostname: 'node1', log: pino({ level: 'silent' }) };
}

/** A fresh copy of a recorded session (replay state is per directory). */
function replay(session: string): void {
  const dir = path.join(tempDir('gnt-replay-'), session);
  fs.cpSync(path.join(FIXTURES, session), dir, { recursive: true });
  process.env.GANETI_LVM_REPLAY = dir;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: string };

async function call(ctx: NodeContext, step: Step): Promise<Outcome> {
  try {
    return { ok: true, value: await BACKEND[step.procedure](ctx, step.args) };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

async function runSession(steps: Step[]): Promise<Outcome[]> {
  const ctx = nodeContext();
  const results: Outcome[] = [];
  for (const s of steps) results.push(await call(ctx, s));
  return results;
}

const storage = (r: Outcome) => (r.ok ? (r.value as unknown[])[1] : r.error);

test('replayed: node_info reports lvm-vg free/size from vgs and lvm-pv spindles from pvs (real recordings)', async () => {
  replay('vg-info');
  const [plain, exclusive, missing] = await runSession(VG_INFO_STEPS);
  assert.deepEqual(storage(plain), [
    { type: 'lvm-vg', name: VG, storage_free: 60, storage_size: 60 },
    { type: 'lvm-pv', name: VG, storage_free: 0, storage_size: 0 },
  ]);
  // Exclusive storage: free = standard PV size (60 / 1.03, rounded down) times empty PVs.
  assert.deepEqual(storage(exclusive), [
    { type: 'lvm-vg', name: VG, storage_free: 58, storage_size: 60 },
    { type: 'lvm-pv', name: VG, storage_free: 1, storage_size: 1 },
  ]);
  assert.deepEqual(storage(missing), [{ type: 'lvm-vg', name: 'nosuchvg', storage_free: null, storage_size: null }]);
});

test('replayed: a plain disk whose LV does not exist (real recordings)', async () => {
  replay('missing-lv');
  const [find, dims, remove, grow, assemble] = await runSession(MISSING_LV_STEPS);
  assert.deepEqual(find, { ok: true, value: null });
  assert.deepEqual(dims, { ok: true, value: [null] });
  assert.deepEqual(remove, { ok: true, value: null }, 'removing what is gone succeeds');
  assert.deepEqual(grow, { ok: false, error: `Cannot find block device <LogicalVolume(${DEV}, visible as /dev/disk/0, size=16m)>` });
  assert.deepEqual(assemble, { ok: false, error: `Error while assembling disk: Can't activate lv ${DEV}:   Failed to find logical volume "${VG}/${LV}"` });
});

test('replayed: lvcreate without device-mapper fails with lvm2\'s own explanation (real recording)', async () => {
  replay('no-device-mapper');
  const [create] = await runSession(LIFECYCLE_STEPS.slice(0, 1));
  assert.equal(create.ok, false);
  const error = (create as { error: string }).error;
  assert.match(error, /^Can't create block device: LV create failed \(exited with exit code 3\): /);
  assert.match(error, /\/dev\/mapper\/control: open failed: No such device/);
});

test('replayed: plain create, assemble, find, dimensions, grow, remove issue upstream\'s lvm2 commands', async () => {
  replay('plain-lifecycle');
  const results = await runSession(LIFECYCLE_STEPS);
  const status = { dev_path: DEV, major: 254, minor: 0, sync_percent: null, estimated_time: null, is_degraded: false, ldisk_status: 1 };
  assert.deepEqual(results.slice(0, 9), [
    { ok: true, value: [VG, LV] },
    { ok: true, value: [DEV, '/var/run/ganeti/instance-disks/inst1.example.com:0', null] },
    { ok: true, value: status },
    { ok: true, value: [[16 * 1048576, 1]] },
    { ok: true, value: null },
    { ok: true, value: null },
    { ok: true, value: [[24 * 1048576, 1]] },
    { ok: true, value: null },
    { ok: true, value: null },
  ]);
  assert.deepEqual(storage(results[9]), [{ type: 'lvm-vg', name: VG, storage_free: 60, storage_size: 60 }]);
});

test('replay refuses a state change the session did not record, naming both command lines', async () => {
  const run = replayRunner(loadFixtures(path.join(FIXTURES, 'plain-lifecycle')));
  await assert.rejects(run(['lvremove', '-f', `${VG}/other`]),
    new RegExp(`got \`lvremove -f ${VG}/other\` where the recorded session has \`lvcreate -L16m -n${LV} -i1 ${VG} /dev/loop0\``));
  await assert.rejects(run(['vgs', '--nosuchflag']), /no recorded output for `vgs --nosuchflag`/);
  // Reads answer as the state was: before lvcreate there is no pvs-independent LV list yet.
  assert.equal((await run(['pvs', '--noheadings', '--nosuffix', '--units=m', '--unbuffered', '--separator=|', '-opv_name,vg_name,pv_free,pv_attr,pv_size,pv_name'])).code, 0);
});

test('plain disks refuse invalid LVM names and non-plain children', async () => {
  const ctx = nodeContext();
  process.env.GANETI_LVM_REPLAY = path.join(FIXTURES, 'missing-lv');
  const bad = { ...plainDisk(16), logical_id: [VG, 'snapshot'] };
  await assert.rejects(async () => BACKEND.blockdev_create(ctx, [bad, 16, 'x', true, '', false]), /^Error: Can't create block device: Invalid LVM name 'snapshot'$/);
  const slash = { ...plainDisk(16), logical_id: [VG, '../etc'] };
  await assert.rejects(async () => BACKEND.blockdev_find(ctx, [slash]), /Invalid LVM name '\.\.\/etc'/);
  const drbd = { ...plainDisk(16), dev_type: 'drbd', children: [plainDisk(16)] };
  await assert.rejects(async () => BACKEND.blockdev_find(ctx, [drbd]), /Disks with children \(drbd\) are not supported/);
  delete process.env.GANETI_LVM_REPLAY;
});

// ---------------------------------------------------------------------------------------
// Real lvm2 on a loop device.

const noLoopVg = loopVgUnavailable();

test('real: vgs and pvs report a loop-backed VG; lvcreate failures are reported; recording writes fixtures', { skip: noLoopVg ?? false }, async () => {
  const vg = `gnttest${process.pid}`;
  const loop = createLoopVg(vg, 64);
  try {
    const vgs = await vgInfo(realStorageRunner, [vg], false);
    assert.deepEqual(vgs, [{ name: vg, free: 60, size: 60 }]);
    const pvs = await pvInfo(realStorageRunner, [vg]);
    assert.deepEqual(pvs, [{ name: loop.pv, vgName: vg, size: 60, free: 60, attributes: 'a--' }]);

    const ctx = nodeContext();
    delete process.env.GANETI_LVM_REPLAY;
    const info = await BACKEND.node_info(ctx, [[['lvm-vg', vg, [false]], ['lvm-pv', vg, [true]]], []]) as unknown[];
    assert.deepEqual(info[1], [
      { type: 'lvm-vg', name: vg, storage_free: 60, storage_size: 60 },
      { type: 'lvm-pv', name: vg, storage_free: 1, storage_size: 1 },
    ]);

    const dir = tempDir('gnt-record-');
    const recorder = recordingRunner(dir, realStorageRunner, 'recorded by the test');
    const r = await recorder(['vgs', '--noheadings', '--nosuffix', '--units=m', '--unbuffered', '--separator=|', '-ovg_name,vg_free,vg_attr,vg_size', vg]);
    assert.equal(r.code, 0);
    const [fixture] = loadFixtures(dir);
    assert.equal(fs.readdirSync(dir)[0], '001-vgs.json');
    assert.deepEqual(fixture, { argv: fixture.argv, exit_code: 0, stdout: `  ${vg}|60.00|wz--n-|60.00\n`, stderr: '', source: 'recorded by the test' });

    if (deviceMapperUnavailable()) {
      // Here lvcreate cannot work: the node says why, in lvm2's words.
      const disk = { ...plainDisk(16), logical_id: [vg, 'lv0'] };
      await assert.rejects(async () => BACKEND.blockdev_create(ctx, [disk, 16, 'inst1', true, '', false]),
        /^Error: Can't create block device: LV create failed \(exited with exit code \d+\): [\s\S]*device-mapper/);
    }
  } finally {
    loop.destroy();
  }
});

const noLvs = noLoopVg ?? deviceMapperUnavailable();

test('real LVs: create, assemble, find, wipe, grow, dimensions, remove on a loop-backed VG', { skip: noLvs ? `skipped: ${noLvs}` : false }, async () => {
  const vg = `gnttestlv${process.pid}`;
  const loop = createLoopVg(vg, 64);
  delete process.env.GANETI_LVM_REPLAY;
  const ctx = nodeContext();
  const disk = (size: number) => ({ ...plainDisk(size), logical_id: [vg, 'lv0'] });
  const dev = `/dev/${vg}/lv0`;
  try {
    assert.deepEqual(await BACKEND.blockdev_create(ctx, [disk(16), 16, 'inst1', true, 'originstname+inst1', false]), [vg, 'lv0']);
    const [devPath] = await BACKEND.blockdev_assemble(ctx, [disk(16), 'inst1', true, 0]) as unknown[];
    assert.equal(devPath, dev);
    const status = await BACKEND.blockdev_find(ctx, [disk(16)]) as Record<string, unknown>;
    assert.equal(status.dev_path, dev);
    assert.equal(status.is_degraded, false);
    assert.equal(typeof status.major, 'number');
    await BACKEND.blockdev_wipe(ctx, [disk(16), 0, 2]);
    const head = Buffer.alloc(4096, 1);
    const fd = fs.openSync(dev, 'r');
    fs.readSync(fd, head, 0, head.length, 0);
    fs.closeSync(fd);
    assert.ok(head.every((b) => b === 0), 'the wiped range reads back as zeroes');
    await BACKEND.blockdev_grow(ctx, [disk(16), 8, false, true, false]);
    assert.deepEqual(await BACKEND.blockdev_getdimensions(ctx, [[disk(24)]]), [[24 * 1048576, 1]]);
    await BACKEND.blockdev_remove(ctx, [disk(24)]);
    assert.equal(await BACKEND.blockdev_find(ctx, [disk(24)]), null);
  } finally {
    loop.destroy();
  }
});
