// `file` / `sharedfile` disks through noded's procedures, on real files below a temporary
// node root: sparse creation, assemble and its symlink, find, dimensions, wipe, grow,
// rename, remove, the storage directory procedures, and the paths a node must refuse.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { BACKEND } from '../../src/node/backend.ts';
import type { NodeContext } from '../../src/node/context.ts';
import { nodePaths } from '../../src/util/paths.ts';
import { zeroRange } from '../../src/node/storage/wipe.ts';

const MIB = 1048576;
const temps: string[] = [];
after(() => {
  for (const d of temps) fs.rmSync(d, { recursive: true, force: true });
});

function node(): { ctx: NodeContext; root: string; local: (p: string) => string } {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'gnt-filestore-'));
  temps.push(base);
  const root = path.join(base, 'node1');
  fs.mkdirSync(root);
  const ctx: NodeContext = { paths: nodePaths(root), hostname: 'node1', log: pino({ level: 'silent' }) };
  return { ctx, root, local: (p: string) => path.join(root, p) };
}

const DIR = '/srv/ganeti/file-storage/inst1.example.com';
const FILE = `${DIR}/0e9d8c7b-6a5f-4e3d-2c1b-0a9f8e7d6c5b.file.disk0`;

function fileDisk(size: number, p = FILE, devType = 'file'): Record<string, unknown> {
  return { dev_type: devType, logical_id: ['loop', p], size, iv_name: 'disk/0', mode: 'rw', params: {}, children: [], nodes: ['n1'], uuid: 'd1' };
}

async function fails(promise: unknown, message: string | RegExp): Promise<void> {
  await assert.rejects(async () => promise, (err: Error) => {
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  });
}

test('create makes a sparse file of the size asked; creating it again fails and leaves it alone', async () => {
  const { ctx, local } = node();
  await BACKEND.file_storage_dir_create(ctx, [DIR]);
  assert.deepEqual(await BACKEND.blockdev_create(ctx, [fileDisk(16), 16, 'inst1.example.com', true, 'originstname+inst1.example.com', false]), ['loop', FILE]);
  const st = fs.statSync(local(FILE));
  assert.equal(st.size, 16 * MIB);
  assert.ok(st.blocks * 512 < MIB, `sparse: ${st.blocks} blocks allocated`);
  fs.writeFileSync(local(FILE), 'data', { flag: 'r+' });
  await fails(BACKEND.blockdev_create(ctx, [fileDisk(16), 16, 'inst1.example.com', true, '', false]),
    `Can't create block device: ${FILE}: can't create: [Errno 17] File exists`);
  assert.equal(fs.readFileSync(local(FILE)).subarray(0, 4).toString(), 'data');
  await fails(BACKEND.blockdev_create(ctx, [fileDisk(16), 16, 'inst1', true, '', true]), "Can't create block device: File storage does not support exclusive storage");
  await fails(BACKEND.blockdev_create(ctx, [fileDisk(16), -1, 'inst1', true, '', false]), 'Invalid disk size -1');
  await fails(BACKEND.blockdev_create(ctx, [fileDisk(16), '10x', 'inst1', true, '', false]), 'Invalid disk size "10x"');
  await fails(BACKEND.blockdev_create(ctx, [{ ...fileDisk(16), logical_id: ['nbd', FILE] }, 16, 'inst1', true, '', false]), "Can't create block device: Invalid file driver 'nbd'");
});

test('assemble links the disk for the instance; find and getdimensions describe it; missing disks are null', async () => {
  const { ctx, local, root } = node();
  await BACKEND.blockdev_create(ctx, [fileDisk(16), 16, 'inst1.example.com', true, '', false]);
  const link = '/var/run/ganeti/instance-disks/inst1.example.com:0';
  assert.deepEqual(await BACKEND.blockdev_assemble(ctx, [fileDisk(16), 'inst1.example.com', true, 0]), [FILE, link, null]);
  assert.equal(fs.readlinkSync(path.join(root, link)), local(FILE));
  // The instance dict is accepted in place of the name; secondaries have nothing to do.
  assert.deepEqual(await BACKEND.blockdev_assemble(ctx, [fileDisk(16), { name: 'inst1.example.com', hypervisor: 'fake' }, true, 0]), [FILE, link, null]);
  assert.deepEqual(await BACKEND.blockdev_assemble(ctx, [fileDisk(16), 'inst1.example.com', false, 0]), [true, true, null]);
  assert.deepEqual(await BACKEND.blockdev_find(ctx, [fileDisk(16)]), {
    dev_path: FILE, major: null, minor: null, sync_percent: null, estimated_time: null, is_degraded: false, ldisk_status: 1,
  });
  const other = fileDisk(16, `${DIR}/missing.file.disk1`);
  assert.deepEqual(await BACKEND.blockdev_getdimensions(ctx, [[fileDisk(16), other]]), [[16 * MIB, null], null]);
  assert.equal(await BACKEND.blockdev_find(ctx, [other]), null);
  await fails(BACKEND.blockdev_assemble(ctx, [other, 'inst1.example.com', true, 1]), `Error while assembling disk: ${DIR}/missing.file.disk1: No such file`);
  assert.equal(await BACKEND.blockdev_shutdown(ctx, [fileDisk(16)]), null);
  assert.equal(await BACKEND.blockdev_shutdown(ctx, [other]), null);
});

test('wipe zeroes exactly the range given and checks it against the disk size', async () => {
  const { ctx, local } = node();
  await BACKEND.blockdev_create(ctx, [fileDisk(4), 4, 'inst1', true, '', false]);
  fs.writeFileSync(local(FILE), Buffer.alloc(4 * MIB, 0xab), { flag: 'r+' });
  assert.equal(await BACKEND.blockdev_wipe(ctx, [fileDisk(4), 1, 2]), null);
  const data = fs.readFileSync(local(FILE));
  assert.equal(data.length, 4 * MIB);
  assert.ok(data.subarray(0, MIB).every((b) => b === 0xab), 'before the range: untouched');
  assert.ok(data.subarray(MIB, 3 * MIB).every((b) => b === 0), 'the range: zeroes');
  assert.ok(data.subarray(3 * MIB).every((b) => b === 0xab), 'after the range: untouched');
  await fails(BACKEND.blockdev_wipe(ctx, [fileDisk(4), 5, 0]), 'Wipe offset is bigger than device size');
  await fails(BACKEND.blockdev_wipe(ctx, [fileDisk(4), 3, 2]), 'Wipe offset and size are bigger than device size');
  await fails(BACKEND.blockdev_wipe(ctx, [fileDisk(4), -1, 1]), 'Negative offset');
  await fails(BACKEND.blockdev_wipe(ctx, [fileDisk(4), 0, -1]), 'Negative size');
  await fails(BACKEND.blockdev_wipe(ctx, [fileDisk(4, `${DIR}/nothing`), 0, 1]), 'Cannot wipe device disk/0: device not found');
});

test('pausing and resuming the sync of file disks succeeds (nothing syncs); a missing disk is reported', async () => {
  const { ctx } = node();
  await BACKEND.blockdev_create(ctx, [fileDisk(1), 1, 'inst1', true, '', false]);
  assert.deepEqual(await BACKEND.blockdev_pause_resume_sync(ctx, [[fileDisk(1), fileDisk(1, `${DIR}/other`)], true]),
    [[true, null], [false, 'Cannot change sync for device disk/0: device not found']]);
});

test('zeroRange reports its progress block by block', async () => {
  const { local } = node();
  const file = local('disk');
  fs.writeFileSync(file, Buffer.alloc(3 * MIB, 1));
  const seen: Array<[number, number]> = [];
  await zeroRange(file, '/disk', 3, 0, 3, (done, total) => seen.push([done, total]));
  assert.deepEqual(seen, [[1, 3], [2, 3], [3, 3]]);
  assert.ok(fs.readFileSync(file).every((b) => b === 0));
});

test('grow: dry run and logical-only calls change nothing; a real grow extends the file', async () => {
  const { ctx, local } = node();
  await BACKEND.blockdev_create(ctx, [fileDisk(16), 16, 'inst1', true, '', false]);
  await BACKEND.blockdev_grow(ctx, [fileDisk(16), 8, true, true, false]);
  await BACKEND.blockdev_grow(ctx, [fileDisk(16), 8, false, false, false]);
  assert.equal(fs.statSync(local(FILE)).size, 16 * MIB);
  await BACKEND.blockdev_grow(ctx, [fileDisk(16), 8, false, true, false]);
  assert.equal(fs.statSync(local(FILE)).size, 24 * MIB);
  await fails(BACKEND.blockdev_grow(ctx, [fileDisk(16), -8, false, true, false]), 'Invalid grow amount -8');
  await fails(BACKEND.blockdev_grow(ctx, [fileDisk(16, `${DIR}/gone`), 8, false, true, false]),
    `Cannot find block device <Disk(type=file, logical_id=('loop', '${DIR}/gone'), children=[], visible as /dev/disk/0, size=16m)>`);
});

test('rename moves the file inside the storage directories; remove deletes it and is idempotent', async () => {
  const { ctx, local } = node();
  await BACKEND.blockdev_create(ctx, [fileDisk(1), 1, 'inst1', true, '', false]);
  const renamed = '/srv/ganeti/file-storage/inst2.example.com/renamed.file.disk0';
  assert.equal(await BACKEND.blockdev_rename(ctx, [[[fileDisk(1), ['loop', renamed]]]]), null);
  assert.ok(!fs.existsSync(local(FILE)));
  assert.equal(fs.statSync(local(renamed)).size, MIB);
  await fails(BACKEND.blockdev_rename(ctx, [[[fileDisk(1), ['loop', renamed]]]]),
    `Can't find device <Disk(type=file, logical_id=('loop', '${FILE}'), children=[], visible as /dev/disk/0, size=1m)> in rename`);
  await fails(BACKEND.blockdev_rename(ctx, [[[fileDisk(1, renamed), ['loop', '/tmp/out']]]]), /Can't rename device .*: Path '\/tmp\/out' is not acceptable for file storage$/);
  assert.equal(await BACKEND.blockdev_remove(ctx, [fileDisk(1, renamed)]), null);
  assert.ok(!fs.existsSync(local(renamed)));
  assert.equal(await BACKEND.blockdev_remove(ctx, [fileDisk(1, renamed)]), null);
});

test('paths outside the storage directories, forbidden ones and symlinks out of them are refused', async () => {
  const { ctx, root } = node();
  const create = (p: unknown, devType = 'file') => BACKEND.blockdev_create(ctx, [{ ...fileDisk(1), dev_type: devType, logical_id: ['loop', p] }, 1, 'i', true, '', false]);
  await fails(create('/etc/passwd'), "Can't create block device: Path '/etc/passwd' uses a forbidden prefix");
  await fails(create('/srv/ganeti/elsewhere/disk0'), "Can't create block device: Path '/srv/ganeti/elsewhere/disk0' is not acceptable for file storage");
  await fails(create('srv/ganeti/file-storage/x'), "Can't create block device: File storage path must be absolute, got 'srv/ganeti/file-storage/x'");
  await fails(create('/srv/ganeti/file-storage/../../../etc/x'), "Can't create block device: Path '/srv/ganeti/file-storage/../../../etc/x' is not acceptable for file storage");
  await fails(create('/srv/ganeti/file-storage'), "Can't create block device: Path '/srv/ganeti/file-storage' is not acceptable for file storage");
  // A sharedfile disk belongs in the shared directory, a file disk in the other one.
  await fails(create('/srv/ganeti/file-storage/i/d', 'sharedfile'), /is not acceptable for file storage/);
  assert.deepEqual(await create('/srv/ganeti/shared-file-storage/i/d', 'sharedfile'), ['loop', '/srv/ganeti/shared-file-storage/i/d']);
  // A symlinked directory inside the storage directory cannot lead out of it.
  const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'gnt-outside-'));
  temps.push(outside);
  fs.mkdirSync(path.join(root, 'srv/ganeti/file-storage'), { recursive: true });
  fs.symlinkSync(outside, path.join(root, 'srv/ganeti/file-storage/evil'));
  await fails(create('/srv/ganeti/file-storage/evil/disk0'), "Can't create block device: Path '/srv/ganeti/file-storage/evil/disk0' leads outside the file storage directory");
  await fails(BACKEND.blockdev_remove(ctx, [fileDisk(1, '/srv/ganeti/file-storage/evil/disk0')]), /leads outside the file storage directory/);
  await fails(BACKEND.file_storage_dir_create(ctx, ['/srv/ganeti/file-storage/evil/sub']), /leads outside the file storage directory/);
  assert.deepEqual(fs.readdirSync(outside), []);
  // The cluster's configured directory (ssconf) is accepted as well.
  fs.mkdirSync(path.join(root, 'var/lib/ganeti'), { recursive: true });
  fs.writeFileSync(path.join(root, 'var/lib/ganeti/ssconf_file_storage_dir'), '/srv/custom-storage\n');
  assert.deepEqual(await create('/srv/custom-storage/i/d'), ['loop', '/srv/custom-storage/i/d']);
  assert.ok(fs.existsSync(path.join(root, 'srv/custom-storage/i/d')));
  // ... unless it names a system directory.
  fs.writeFileSync(path.join(root, 'var/lib/ganeti/ssconf_file_storage_dir'), '/usr/lib\n');
  await fails(create('/usr/lib/x'), "Can't create block device: Path '/usr/lib/x' uses a forbidden prefix");
});

test('file storage directories: create, remove only when empty, rename', async () => {
  const { ctx, local } = node();
  assert.equal(await BACKEND.file_storage_dir_create(ctx, [DIR]), null);
  assert.ok(fs.statSync(local(DIR)).isDirectory());
  assert.equal(await BACKEND.file_storage_dir_create(ctx, [DIR]), null, 'an existing directory is fine');
  fs.writeFileSync(local(`${DIR}/plainfile`), '');
  await fails(BACKEND.file_storage_dir_create(ctx, [`${DIR}/plainfile`]), `Specified storage dir '${DIR}/plainfile' is not a directory`);
  await fails(BACKEND.file_storage_dir_remove(ctx, [DIR]), `Cannot remove file storage directory '${DIR}': [Errno 39] Directory not empty`);
  fs.rmSync(local(`${DIR}/plainfile`));
  const renamed = '/srv/ganeti/file-storage/inst9.example.com';
  assert.equal(await BACKEND.file_storage_dir_rename(ctx, [DIR, renamed]), null);
  assert.ok(fs.existsSync(local(renamed)) && !fs.existsSync(local(DIR)));
  assert.equal(await BACKEND.file_storage_dir_rename(ctx, [DIR, renamed]), null, 'already renamed');
  await BACKEND.file_storage_dir_create(ctx, [DIR]);
  await fails(BACKEND.file_storage_dir_rename(ctx, [DIR, renamed]), `Cannot rename '${DIR}' to '${renamed}': both locations exist`);
  assert.equal(await BACKEND.file_storage_dir_remove(ctx, [renamed]), null);
  assert.equal(await BACKEND.file_storage_dir_remove(ctx, [renamed]), null, 'already gone');
  await fails(BACKEND.file_storage_dir_create(ctx, ['/var/lib/ganeti']), "Path '/var/lib/ganeti' is not acceptable for file storage");
});

test('node_info reports the file storage space', async () => {
  const { ctx } = node();
  const [bootId, storage] = await BACKEND.node_info(ctx, [[['file', '/srv/ganeti/file-storage', []]], []]) as [string, Array<Record<string, unknown>>];
  assert.match(bootId, /^[0-9a-f-]{36}$|^unknown$/);
  assert.equal(storage[0].type, 'file');
  assert.ok((storage[0].storage_size as number) > 0);
  assert.ok((storage[0].storage_free as number) <= (storage[0].storage_size as number));
});
