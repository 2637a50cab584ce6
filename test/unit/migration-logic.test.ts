// Pure parts of migration: which disk templates may move, the progress lines of the
// status polling, the allocator/node choice, the fake hypervisor's migration calls, and
// the node evacuation plan's handling.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OpPrereqError } from '../../src/core/errors.ts';
import { validateOpcode, type OpInput } from '../../src/core/opcodes.ts';
import { checkIAllocatorOrNode, migrationProgressLine, migrationTemplateError } from '../../src/master/cmdlib/instance-migration.ts';
import { checkReplaceDisksArguments } from '../../src/master/cmdlib/instance-replace-disks.ts';
import { FAIL_MIGRATION, FakeHypervisor } from '../../src/node/hypervisor/fake.ts';
import { bridgeExists } from '../../src/node/migration-backend.ts';
import { nodePaths } from '../../src/util/paths.ts';
import type { LUContext } from '../../src/master/cmdlib/base.ts';

test('only mirrored templates may migrate or fail over, with upstream texts', () => {
  for (const t of [[], ['sharedfile'], ['blockdev', 'blockdev'], ['rbd'], ['ext'], ['gluster'], ['drbd']]) {
    assert.equal(migrationTemplateError(t, false), null, t.join(','));
  }
  const m = migrationTemplateError(['file'], false)!;
  assert.ok(m instanceof OpPrereqError);
  assert.equal(m.message, "Instance's disk layout 'file' does not allow migrations");
  assert.equal(migrationTemplateError(['plain', 'plain'], true)!.message, "Instance's disk layout 'plain' does not allow failovers");
  assert.equal(migrationTemplateError(['plain', 'file', 'sharedfile'], true)!.message, "Instance's disk layout 'plain, file' does not allow failovers");
});

test('status polling: progress lines only when the hypervisor reports the amounts', () => {
  assert.equal(migrationProgressLine({ status: 'active', transferred_ram: 512, total_ram: 2048 }), '* memory transfer progress: 25.00 %');
  assert.equal(migrationProgressLine({ status: 'active', transferred_ram: 1, total_ram: 3 }), '* memory transfer progress: 33.33 %');
  assert.equal(migrationProgressLine({ status: 'active' }), null);
  assert.equal(migrationProgressLine({ status: 'active', transferred_ram: 5, total_ram: 0 }), null);
  assert.equal(migrationProgressLine(null), null);
});

test('CheckIAllocatorOrNode: one of both, else the cluster default, else upstream\'s error', () => {
  const ctx = (def: string | null) => ({ config: { cluster: { default_iallocator: def } } }) as unknown as LUContext;
  const op = (o: Record<string, unknown>): OpInput => ({ OP_ID: 'OP_INSTANCE_MIGRATE', ...o });
  assert.throws(() => checkIAllocatorOrNode(ctx(null), op({ iallocator: 'hail', target_node: 'n2' }), 'iallocator', 'target_node'),
    /Do not specify both, iallocator and node/);
  const a = op({ target_node: null, iallocator: null });
  checkIAllocatorOrNode(ctx('hail'), a, 'iallocator', 'target_node');
  assert.equal(a.iallocator, 'hail');
  const dot = op({ iallocator: '.' });
  checkIAllocatorOrNode(ctx('hail'), dot, 'iallocator', 'target_node');
  assert.equal(dot.iallocator, 'hail');
  assert.throws(() => checkIAllocatorOrNode(ctx(''), op({}), 'iallocator', 'target_node'),
    /No iallocator or node given and no cluster-wide default iallocator found; please specify either an iallocator or a node, or set a cluster-wide default iallocator/);
  const n = op({ target_node: 'n2' });
  checkIAllocatorOrNode(ctx(null), n, 'iallocator', 'target_node');
  assert.equal(n.iallocator, undefined);
});

test('replace-disks argument rules', () => {
  assert.throws(() => checkReplaceDisksArguments('replace_new_secondary', null, null), /either an iallocator script must be used or the new node given/);
  assert.throws(() => checkReplaceDisksArguments('replace_new_secondary', 'n', 'hail'), /Give either the iallocator or the new secondary, not both/);
  assert.throws(() => checkReplaceDisksArguments('replace_auto', 'n', null), /can only be used when changing the secondary node/);
  checkReplaceDisksArguments('replace_auto', null, null);
  checkReplaceDisksArguments('replace_new_secondary', 'n', null);
});

test('the opcodes take upstream\'s parameters and defaults', () => {
  const m = validateOpcode({ OP_ID: 'OP_INSTANCE_MIGRATE', instance_name: 'i1' });
  assert.equal(m.allow_runtime_changes, true);
  assert.equal(m.cleanup, false);
  assert.equal(m.allow_failover, false);
  assert.equal(m.ignore_hvversions, false);
  assert.equal(m.mode, undefined);
  assert.throws(() => validateOpcode({ OP_ID: 'OP_INSTANCE_MIGRATE', instance_name: 'i1', mode: 'fast' }), /Parameter 'mode'/);
  const f = validateOpcode({ OP_ID: 'OP_INSTANCE_FAILOVER', instance_name: 'i1' });
  assert.equal(f.shutdown_timeout, 120);
  assert.equal(f.ignore_consistency, false);
  assert.throws(() => validateOpcode({ OP_ID: 'OP_NODE_EVACUATE', node_name: 'n1' }), /Parameter 'mode' of opcode OP_NODE_EVACUATE is required/);
  assert.equal(validateOpcode({ OP_ID: 'OP_NODE_EVACUATE', node_name: 'n1', mode: 'primary-only' }).early_release, false);
  assert.throws(() => validateOpcode({ OP_ID: 'OP_INSTANCE_REPLACE_DISKS', instance_name: 'i', mode: 'replace_auto', disks: [16] }), /disk indices/);
  assert.deepEqual(validateOpcode({ OP_ID: 'OP_INSTANCE_REPLACE_DISKS', instance_name: 'i', mode: 'replace_auto' }).disks, []);
  assert.equal(validateOpcode({ OP_ID: 'OP_NODE_MIGRATE', node_name: 'n1' }).allow_runtime_changes, true);
});

test('fake hypervisor: accept, migrate, status, finalize on both sides', async () => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-migr-'));
  try {
    const mem = () => ({ memory_total: 4096, memory_free: 1024, memory_dom0: 0, cpu_total: 2, cpu_dom0: 0, cpu_nodes: 1, cpu_sockets: 1 });
    const src = new FakeHypervisor(nodePaths(path.join(base, 'n1')), mem);
    const dst = new FakeHypervisor(nodePaths(path.join(base, 'n2')), mem);
    const inst = { name: 'i1', hypervisor: 'fake', hvparams: {}, beparams: { maxmem: 256, minmem: 256, vcpus: 1 } };
    await src.start(inst, [], false);
    assert.equal(await src.validateParameters({ migration_mode: 'live' }), null);
    assert.match(String(await src.validateParameters({ migration_mode: 'warp' })), /migration_mode/);
    const info = await src.migrationInfo(inst);
    await assert.rejects(src.acceptInstance(inst, [], info, '127.0.0.1'), /Can't accept instance, already running/);
    await assert.rejects(dst.acceptInstance({ ...inst, beparams: { maxmem: 4096, minmem: 4096 } }, [], info, '127.0.0.2'), /Not enough memory to accept instance i1/);
    await dst.acceptInstance(inst, [], info, '127.0.0.2');
    assert.deepEqual(await src.getMigrationStatus(inst), { status: 'failed' }); // nothing started yet
    await src.migrateInstance('c', inst, '127.0.0.2', true);
    assert.deepEqual(await src.getMigrationStatus(inst), { status: 'completed' });
    await src.finalizeMigrationSource(inst, true, true);
    await dst.finalizeMigrationDst(inst, info, true);
    assert.deepEqual(await src.listInstances(), []);
    assert.deepEqual(await dst.listInstances(), ['i1']);
    assert.equal((await dst.instanceInfo('i1'))?.memory, 256);

    // A failing migration: the source keeps the instance, the target drops what it got.
    fs.writeFileSync(path.join(base, 'n2/var/run/ganeti/fake-hypervisor', FAIL_MIGRATION), '');
    await dst.migrateInstance('c', inst, '127.0.0.1', false);
    assert.deepEqual(await dst.getMigrationStatus(inst), { status: 'failed' });
    await src.finalizeMigrationDst(inst, info, false);
    await dst.finalizeMigrationSource(inst, false, false);
    assert.deepEqual(await dst.listInstances(), ['i1']);
    assert.deepEqual(await src.listInstances(), []);
    await dst.migrateInstance('c', inst, '127.0.0.1', false); // the record was dropped: a new attempt may start
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
});

test('bridges: a network device with a bridge/ directory', () => {
  const sys = fs.mkdtempSync(path.join(os.tmpdir(), 'sysnet-'));
  try {
    fs.mkdirSync(path.join(sys, 'br0', 'bridge'), { recursive: true });
    fs.mkdirSync(path.join(sys, 'eth0'), { recursive: true });
    assert.equal(bridgeExists('br0', sys), true);
    assert.equal(bridgeExists('eth0', sys), false);
    assert.equal(bridgeExists('nosuch', sys), false);
    assert.equal(bridgeExists('../br0', sys), false);
  } finally {
    fs.rmSync(sys, { recursive: true, force: true });
  }
});
