// LVM storage units (src/node/storage/containers.ts) through noded's storage_* handlers,
// replayed from real lvm2 sessions (test/fixtures/lvm/storage-units/, vg-missing-pv/:
// a loop-backed VG of two PVs; see the README there), and the parsing rules on their own.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { BACKEND } from '../../src/node/backend.ts';
import type { NodeContext } from '../../src/node/context.ts';
import { nodePaths } from '../../src/util/paths.ts';
import type { StorageRunner } from '../../src/node/storage/commands.ts';
import { buildList, listCommand, lvmFieldsFor, parseSize, PV_FIELDS, removeMissing, VG_FIELDS } from '../../src/node/storage/containers.ts';
import { MISSING_PV_STEPS, STORAGE_UNIT_STEPS, type UnitStep } from '../fixtures/lvm/storage-units-steps.ts';

const FIXTURES = path.resolve('test/fixtures/lvm');
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

type Outcome = { ok: true; value: unknown } | { ok: false; error: string };

/** Replay a recorded session (a fresh copy: replay state is per directory) through the handlers. */
async function runSession(session: string, steps: UnitStep[]): Promise<Outcome[]> {
  const dir = path.join(tempDir('gnt-replay-'), session);
  fs.cpSync(path.join(FIXTURES, session), dir, { recursive: true });
  process.env.GANETI_LVM_REPLAY = dir;
  const ctx: NodeContext = { paths: nodePaths(path.join(tempDir('gnt-su-'), 'node1')), hostname: 'node1', log: pino({ level: 'silent' }) };
  const results: Outcome[] = [];
  let pvs: string[] = [];
  for (const step of steps) {
    try {
      const value = await BACKEND[step.procedure](ctx, step.args(pvs));
      results.push({ ok: true, value });
      // The first listing names the session's PVs (loop device names differ between machines).
      if (pvs.length === 0 && step.procedure === 'storage_list' && Array.isArray(value)) pvs = (value as unknown[][]).map((r) => String(r[0]));
    } catch (err) {
      results.push({ ok: false, error: (err as Error).message });
    }
  }
  return results;
}

test('storage-units session: lvm-pv and lvm-vg rows, allocatable flipped with pvchange, a repair of a consistent VG, missing units', async () => {
  const r = await runSession('storage-units', STORAGE_UNIT_STEPS);
  assert.deepEqual(r, [
    { ok: true, value: [['/dev/loop0', 60, 0, 60, true], ['/dev/loop1', 60, 0, 60, true]] },
    { ok: true, value: [['xenvg', 120, 0, 120, true]] },
    { ok: true, value: [[true, '/dev/loop0']] },
    { ok: true, value: null },
    { ok: true, value: [['/dev/loop0', false, 60], ['/dev/loop1', true, 60]] },
    { ok: true, value: null },
    { ok: true, value: [[0, 'xenvg']] },
    // "already consistent" is not "Wrote out consistent volume group": vgreduce runs again with --force, then vgs checks.
    { ok: true, value: null },
    { ok: false, error: "Failed to run 'pvs', command output:   Failed to find device \"/dev/nosuchpv\".\n" },
    { ok: false, error: 'Failed to modify physical volume, pvchange output:   0 physical volumes changed / 0 physical volumes not changed\n  Cannot use /dev/nosuchpv: device not found\n' },
  ]);
});

test('vg-missing-pv session: the VG misses a PV ([unknown], attr a-m) until vgreduce --removemissing drops it', async () => {
  const r = await runSession('vg-missing-pv', MISSING_PV_STEPS);
  assert.deepEqual(r, [
    { ok: true, value: [['xenvg', 120, 120]] },
    { ok: true, value: [['/dev/loop0', 60, true], ['[unknown]', 60, true]] },
    { ok: true, value: null },
    { ok: true, value: [['xenvg', 60, 60]] },
    { ok: true, value: null },
  ]);
});

test('the pvs/vgs command lines: upstream options, each lvm field once, in the order the storage fields need them', () => {
  assert.deepEqual(lvmFieldsFor(VG_FIELDS, ['used', 'name', 'size', 'allocatable']), ['vg_size', 'vg_free', 'vg_name']);
  assert.deepEqual(lvmFieldsFor(PV_FIELDS, ['allocatable', 'name']), ['pv_attr', 'pv_name']);
  assert.throws(() => lvmFieldsFor(PV_FIELDS, ['node']), /Unknown field: 'node'/);
  assert.deepEqual(listCommand('pvs', ['pv_name', 'pv_attr'], null),
    ['pvs', '--noheadings', '--units=m', '--nosuffix', '--separator', '|', '--options', 'pv_name,pv_attr']);
  assert.deepEqual(listCommand('vgs', ['vg_name'], 'xenvg'), ['vgs', '--noheadings', '--units=m', '--nosuffix', '--separator', '|', '--options', 'vg_name', 'xenvg']);
});

test('parsing: sizes rounded as Python rounds, used = size - free, allocatable from pv_attr, bad lines skipped', () => {
  assert.equal(parseSize('60.00'), 60);
  assert.equal(parseSize('20479.50'), 20480); // half to even
  assert.equal(parseSize('20478.50'), 20478);
  assert.equal(parseSize('1.51'), 2);
  assert.throws(() => parseSize('x'), /could not convert string to float: 'x'/);
  const vg = buildList('  xenvg|20476.00|1024.49\n  other|60.00\n\n', VG_FIELDS, ['name', 'used', 'allocatable', 'free'], ['vg_name', 'vg_size', 'vg_free']);
  assert.deepEqual(vg, [['xenvg', 19452, true, 1024]]);
  const pv = buildList('  /dev/sda2|a--\n  /dev/sdb1|---\n  [unknown]|a-m\n', PV_FIELDS, ['name', 'allocatable'], ['pv_name', 'pv_attr']);
  assert.deepEqual(pv, [['/dev/sda2', true], ['/dev/sdb1', false], ['[unknown]', true]]);
  assert.deepEqual(buildList('  /dev/sdc|\n', PV_FIELDS, ['allocatable'], ['pv_attr', 'pv_name']), [[false]]);
});

/** A runner answering from a table of command lines (for outcomes no real session gave). */
function scripted(answers: Record<string, { code?: number; stdout?: string; stderr?: string }>): { runner: StorageRunner; calls: string[] } {
  const calls: string[] = [];
  const runner: StorageRunner = async (argv) => {
    const key = argv.join(' ');
    calls.push(key);
    const a = answers[key];
    if (!a) throw new Error(`unexpected ${key}`);
    return { code: a.code ?? 0, signal: null, stdout: a.stdout ?? '', stderr: a.stderr ?? '' };
  };
  return { runner, calls };
}

test('repair: vgreduce --force when lvm2 asks for it, and a VG that still misses a device is an error with both outputs', async () => {
  const ok = scripted({
    'vgreduce --removemissing xenvg': { code: 5, stderr: '  WARNING: Partial LV lv1 needs to be repaired or removed.\n  There are still partial LVs in VG xenvg.\n  To remove them unconditionally use: vgreduce --removemissing --force.\n' },
    'vgreduce --removemissing --force xenvg': { stdout: '  Wrote out consistent volume group xenvg.\n' },
    'vgs --noheadings --nosuffix xenvg': { stdout: '  xenvg   1   0   0 wz--n- 60.00m 60.00m\n' },
  });
  await removeMissing(ok.runner, 'xenvg');
  assert.deepEqual(ok.calls, ['vgreduce --removemissing xenvg', 'vgreduce --removemissing --force xenvg', 'vgs --noheadings --nosuffix xenvg']);

  const once = scripted({
    'vgreduce --removemissing xenvg': { stdout: '  Wrote out consistent volume group xenvg.\n' },
    'vgs --noheadings --nosuffix xenvg': { stdout: '  xenvg   1   0   0 wz--n- 60.00m 60.00m\n' },
  });
  await removeMissing(once.runner, 'xenvg');
  assert.equal(once.calls.length, 2, 'no --force run when the first one wrote the VG out');

  const bad = scripted({
    'vgreduce --removemissing xenvg': { code: 5, stderr: '  oops\n' },
    'vgreduce --removemissing --force xenvg': { code: 5, stderr: '  still oops\n' },
    'vgs --noheadings --nosuffix xenvg': { stdout: '  xenvg   2   0   0 wz-pn- 120.00m 120.00m\n', stderr: "  WARNING: Couldn't find device with uuid abc.\n" },
  });
  await assert.rejects(removeMissing(bad.runner, 'xenvg'), {
    message: "Volume group 'xenvg' still not consistent, 'vgreduce' output: '  oops\\n\\n  still oops\\n', " +
      "'vgs' output: \"  xenvg   2   0   0 wz-pn- 120.00m 120.00m\\n  WARNING: Couldn't find device with uuid abc.\\n\"",
  });
});

test('unknown storage types and operations are refused by the node', async () => {
  const ctx: NodeContext = { paths: nodePaths(path.join(tempDir('gnt-su-'), 'node1')), hostname: 'node1', log: pino({ level: 'silent' }) };
  await assert.rejects(async () => BACKEND.storage_list(ctx, ['diskless', [], null, ['name']]), { message: "Unknown storage type: 'diskless'" });
  await assert.rejects(async () => BACKEND.storage_modify(ctx, ['lvm-vg', [], 'xenvg', { allocatable: false }]),
    { message: "Unable to modify the following fields: ['allocatable']" });
  await assert.rejects(async () => BACKEND.storage_execute(ctx, ['lvm-pv', [], '/dev/sda', 'fix-consistency']),
    { message: "Operation 'fix-consistency' is not supported on this storage type" });
  await assert.rejects(async () => BACKEND.storage_execute(ctx, ['lvm-vg', [], 'xenvg', 'defrag']),
    { message: "Operation 'defrag' is not supported on this storage type" });
});

test('a unit name starting with "-" is refused before lvm2 runs (it would be read as an option)', async () => {
  const ctx: NodeContext = { paths: nodePaths(path.join(tempDir('gnt-su-'), 'node1')), hostname: 'node1', log: pino({ level: 'silent' }) };
  const bad = '--config=devices{filter=["a|.*|"]}';
  const message = `Invalid storage unit name '${bad}': it may not start with '-'`;
  await assert.rejects(async () => BACKEND.storage_list(ctx, ['lvm-pv', [], bad, ['name']]), { message });
  await assert.rejects(async () => BACKEND.storage_list(ctx, ['lvm-vg', [], '-xenvg', ['name']]),
    { message: "Invalid storage unit name '-xenvg': it may not start with '-'" });
  await assert.rejects(async () => BACKEND.storage_modify(ctx, ['lvm-pv', [], bad, { allocatable: false }]), { message });
  await assert.rejects(async () => BACKEND.storage_execute(ctx, ['lvm-vg', [], bad, 'fix-consistency']), { message });
  const none = scripted({});
  await assert.rejects(removeMissing(none.runner, '-v'), { message: "Invalid storage unit name '-v': it may not start with '-'" });
  assert.deepEqual(none.calls, [], 'no lvm2 command ran');
  assert.throws(() => listCommand('vgs', ['vg_name'], '--all'), { message: "Invalid storage unit name '--all': it may not start with '-'" });
  assert.deepEqual(listCommand('vgs', ['vg_name'], 'xenvg').at(-1), 'xenvg');
});
