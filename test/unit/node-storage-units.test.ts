// Storage units apart from lvm2: file storage directories on the node (storage_list),
// the master's checks (which storage types a cluster's disk templates allow, the storage
// arguments, output fields), and gnt-node list-storage's table, whose expected lines were
// produced by Ganeti 3.0's own cli.GenerateTable with the same rows.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { BACKEND } from '../../src/node/backend.ts';
import type { NodeContext } from '../../src/node/context.ts';
import { nodePaths } from '../../src/util/paths.ts';
import { directorySizeBytes } from '../../src/node/storage/containers.ts';
import { checkOutputFields, checkStorageTypeEnabled, storageTypeArgs, VALID_STORAGE_FIELDS } from '../../src/master/cmdlib/node-storage.ts';
import { convertStorageType, generateStorageTable, storageCell } from '../../src/cli/commands/node-storage.ts';
import { OpPrereqError } from '../../src/core/errors.ts';
import type { ClusterObject } from '../../src/master/config/model.ts';

const temps: string[] = [];
after(() => {
  for (const d of temps) fs.rmSync(d, { recursive: true, force: true });
});

function nodeContext(): NodeContext {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'gnt-su-file-'));
  temps.push(base);
  return { paths: nodePaths(path.join(base, 'node1')), hostname: 'node1', log: pino({ level: 'silent' }) };
}

const MiB = 1024 * 1024;

test('file storage: name, used (apparent sizes, rounded MiB), size and free of the file system, always allocatable', async () => {
  const ctx = nodeContext();
  const dir = ctx.paths.fileStorageDir;
  fs.mkdirSync(path.join(dir, 'inst1'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'inst1', 'disk0'), '');
  fs.truncateSync(path.join(dir, 'inst1', 'disk0'), 3 * MiB + MiB / 2); // sparse: counted in full, 3.5 → 4
  fs.writeFileSync(path.join(dir, 'inst1', 'small'), Buffer.alloc(MiB / 2)); // 4 MiB in all
  fs.mkdirSync(path.join(ctx.paths.root, 'elsewhere'));
  fs.writeFileSync(path.join(ctx.paths.root, 'elsewhere', 'big'), Buffer.alloc(2 * MiB));
  fs.symlinkSync(path.join(ctx.paths.root, 'elsewhere'), path.join(dir, 'linked-dir')); // not followed
  assert.equal(directorySizeBytes(dir), 4 * MiB);

  const st = fs.statfsSync(dir);
  const rows = await BACKEND.storage_list(ctx, ['file', [['/srv/ganeti/file-storage']], null, ['name', 'used', 'allocatable', 'size', 'free']]) as unknown[][];
  assert.equal(rows.length, 1);
  const [name, used, allocatable, size, free] = rows[0];
  assert.deepEqual([name, used, allocatable], ['/srv/ganeti/file-storage', 4, true]);
  assert.equal(size, Math.round((st.blocks * st.bsize) / MiB));
  assert.ok(Math.abs((free as number) - (st.bavail * st.bsize) / MiB) < 64, `free ${String(free)}`);

  // A name lists that directory only; only what is asked is computed.
  assert.deepEqual(await BACKEND.storage_list(ctx, ['file', [['/srv/ganeti/file-storage']], '/srv/ganeti/file-storage/inst1', ['used', 'name']]),
    [[4, '/srv/ganeti/file-storage/inst1']]);
  // sharedfile lists every directory it is given.
  fs.mkdirSync(ctx.paths.sharedFileStorageDir, { recursive: true });
  const shared = await BACKEND.storage_list(ctx, ['sharedfile', [['/srv/ganeti/shared-file-storage']], null, ['name', 'used']]);
  assert.deepEqual(shared, [['/srv/ganeti/shared-file-storage', 0]]);
});

test('file storage: directories outside the storage directories are refused; a missing one fails as statvfs does', async () => {
  const ctx = nodeContext();
  await assert.rejects(async () => BACKEND.storage_list(ctx, ['file', [['/etc']], null, ['name']]), { message: "Path '/etc' uses a forbidden prefix" });
  await assert.rejects(async () => BACKEND.storage_list(ctx, ['file', [['/var/tmp']], null, ['name']]),
    { message: "Path '/var/tmp' is not acceptable for file storage" });
  await assert.rejects(async () => BACKEND.storage_list(ctx, ['file', [['/srv/ganeti/file-storage']], null, ['name', 'free']]),
    { message: "[Errno 2] No such file or directory: '/srv/ganeti/file-storage'" });
  // Without size or free, a missing directory is just empty (os.walk finds nothing).
  assert.deepEqual(await BACKEND.storage_list(ctx, ['file', [['/srv/ganeti/file-storage']], null, ['name', 'used']]),
    [['/srv/ganeti/file-storage', 0]]);
  await assert.rejects(async () => BACKEND.storage_list(ctx, ['file', [['/srv/ganeti/file-storage']], null, ['node']]), { message: "Unknown field: 'node'" });
  await assert.rejects(async () => BACKEND.storage_modify(ctx, ['file', [['/srv/ganeti/file-storage']], '/srv/ganeti/file-storage', { allocatable: false }]),
    { message: "Unable to modify the following fields: ['allocatable']" });
});

const cluster = (templates: string[]) => ({
  enabled_disk_templates: templates, file_storage_dir: '/srv/ganeti/file-storage',
  shared_file_storage_dir: '/srv/ganeti/shared-file-storage', gluster_storage_dir: '/var/run/ganeti/gluster',
}) as unknown as ClusterObject;

test('storage types follow the enabled disk templates (lvm-pv with lvm-vg), with upstream\'s message', () => {
  checkStorageTypeEnabled(cluster(['plain']), 'lvm-vg');
  checkStorageTypeEnabled(cluster(['drbd']), 'lvm-pv');
  checkStorageTypeEnabled(cluster(['diskless', 'file']), 'file');
  checkStorageTypeEnabled(cluster(['gluster']), 'gluster');
  assert.throws(() => checkStorageTypeEnabled(cluster(['diskless', 'file']), 'lvm-pv'), (err: Error) => err instanceof OpPrereqError &&
    err.message === "No disk template of storage type 'lvm-vg' is enabled in this cluster. Enabled disk templates are: diskless,file");
  assert.throws(() => checkStorageTypeEnabled(cluster(['plain']), 'sharedfile'),
    /No disk template of storage type 'sharedfile' is enabled in this cluster\. Enabled disk templates are: plain$/);
});

test('storage arguments: the file storage directory; sharedfile and gluster directories as enabled; nothing for LVM', () => {
  assert.deepEqual(storageTypeArgs(cluster(['file']), 'file'), [['/srv/ganeti/file-storage']]);
  assert.deepEqual(storageTypeArgs(cluster(['sharedfile']), 'sharedfile'), [['/srv/ganeti/shared-file-storage']]);
  assert.deepEqual(storageTypeArgs(cluster(['sharedfile', 'gluster']), 'sharedfile'), [['/srv/ganeti/shared-file-storage', '/var/run/ganeti/gluster']]);
  assert.deepEqual(storageTypeArgs(cluster(['plain']), 'lvm-vg'), []);
  assert.deepEqual(storageTypeArgs(cluster(['plain']), 'lvm-pv'), []);
});

test('output fields: node and type are the master\'s, the rest the node\'s; anything else is refused', () => {
  checkOutputFields(VALID_STORAGE_FIELDS, ['node', 'type', 'name', 'size', 'used', 'free', 'allocatable']);
  assert.throws(() => checkOutputFields(VALID_STORAGE_FIELDS, ['name', 'bogus', 'x']), { message: 'Unknown output fields selected: bogus,x' });
});

const ROWS = [
  ['node1.example.com', 'lvm-pv', '/dev/loop0', 60, 0, 60, true],
  ['node2.example.com', 'lvm-pv', '/dev/loop1', 20480, 1000, 19480, false],
];
const FIELDS = ['node', 'type', 'name', 'size', 'used', 'free', 'allocatable'];
const cells = (fields: string[], rows: unknown[][]) => rows.map((r) => fields.map((f, i) => storageCell(f, r[i])));

test('list-storage table: human units aligned, megabytes with a separator, --units, and the title row\'s trailing blanks', () => {
  const rows = cells(FIELDS, ROWS);
  assert.deepEqual(generateStorageTable(FIELDS, rows, true, null, null), [
    'Node              Type   Name        Size  Used  Free Allocatable',
    'node1.example.com lvm-pv /dev/loop0   60M    0M   60M Y',
    'node2.example.com lvm-pv /dev/loop1 20.0G 1000M 19.0G N',
  ]);
  assert.deepEqual(generateStorageTable(FIELDS, rows, true, ':', null), [
    'Node:Type:Name:Size:Used:Free:Allocatable',
    'node1.example.com:lvm-pv:/dev/loop0:60:0:60:Y',
    'node2.example.com:lvm-pv:/dev/loop1:20480:1000:19480:N',
  ]);
  assert.deepEqual(generateStorageTable(FIELDS, rows, true, null, 'm'), [
    'Node              Type   Name        Size Used  Free Allocatable',
    'node1.example.com lvm-pv /dev/loop0    60    0    60 Y',
    'node2.example.com lvm-pv /dev/loop1 20480 1000 19480 N',
  ]);
  assert.deepEqual(generateStorageTable(FIELDS, rows, true, null, 'g'), [
    'Node              Type   Name       Size Used Free Allocatable',
    'node1.example.com lvm-pv /dev/loop0  0.1  0.0  0.1 Y',
    'node2.example.com lvm-pv /dev/loop1 20.0  1.0 19.0 N',
  ]);
  assert.deepEqual(generateStorageTable(['node', 'name'], [['n1', '/dev/loop0']], true, null, null), ['Node Name      ', 'n1   /dev/loop0']);
  assert.deepEqual(generateStorageTable(['name', 'size'], cells(['name', 'size'], [['/dev/loop0', null], ['x', 1048576]]), true, null, null),
    ['Name       Size', '/dev/loop0 None', 'x          1.0T']);
  assert.deepEqual(generateStorageTable(FIELDS, rows, false, null, null), [
    'node1.example.com lvm-pv /dev/loop0   60M    0M   60M Y',
    'node2.example.com lvm-pv /dev/loop1 20.0G 1000M 19.0G N',
  ]);
  assert.deepEqual(generateStorageTable(FIELDS, [], true, null, null), ['Node Type Name Size Used Free Allocatable']);
});

test('user storage types: the five upstream names; anything else is a prerequisite error', () => {
  for (const t of ['file', 'lvm-pv', 'lvm-vg', 'sharedfile', 'gluster']) assert.equal(convertStorageType(t), t);
  assert.throws(() => convertStorageType('diskless'), (err: Error & { args?: unknown[] }) =>
    err instanceof OpPrereqError && err.args?.[0] === 'Unknown storage type: diskless' && err.args?.[1] === 'wrong_input');
});
