// OS scripts run for real through noded's handlers on a virtual node in a temporary
// directory: create, rename, export and import of the fixture OS "writer" and of Debian's
// noop, the failure text with the log's last lines, log file names, a cleared
// environment, and the export directory (config.ini, list, info, remove, chunked copies).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OS_BACKEND } from '../../src/node/os-backend.ts';
import { decodeChunk, encodeChunk } from '../../src/rpc/procedures-os.ts';
import { instanceLogName, tailFile, timestampForFilename } from '../../src/node/os/scripts.ts';
import { nodePaths } from '../../src/util/paths.ts';
import type { NodeContext } from '../../src/node/context.ts';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/os');
const NOOP = '/usr/share/ganeti/os/noop';
const noopSkip = fs.existsSync(path.join(NOOP, 'create')) ? false : `${NOOP} is not installed (Debian package ganeti-os-noop)`;

const dirs: string[] = [];
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

type Dict = Record<string, unknown>;

/** A virtual node "node1" whose OS directory holds the fixture OSes. */
function node(): NodeContext {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'gnt-osrun-'));
  dirs.push(base);
  const root = path.join(base, 'node1');
  const osDir = path.join(root, 'srv/ganeti/os');
  fs.mkdirSync(osDir, { recursive: true });
  fs.symlinkSync(path.join(FIXTURES, 'writer'), path.join(osDir, 'writer'));
  fs.symlinkSync(path.join(FIXTURES, 'failing'), path.join(osDir, 'failing'));
  const noop = () => undefined;
  return { paths: nodePaths(root), hostname: 'node1', log: { warn: noop, info: noop, error: noop, debug: noop } } as unknown as NodeContext;
}

/** A file disk of `sizeMiB` (zeroes) for `instance`, as a disks_info entry. */
function fileDisk(ctx: NodeContext, instance: string, uuid: string, sizeMiB = 1, create = true): Dict {
  const virtual = `/srv/ganeti/file-storage/${instance}/${uuid}.file.disk0`;
  if (create) {
    const local = path.join(ctx.paths.root, virtual);
    fs.mkdirSync(path.dirname(local), { recursive: true });
    fs.writeFileSync(local, '');
    fs.truncateSync(local, sizeMiB * 1024 * 1024);
  }
  return {
    uuid, dev_type: 'file', logical_id: ['loop', virtual], iv_name: 'disk/0', size: sizeMiB, mode: 'rw',
    children: [], nodes: ['node-uuid-1'], params: {}, name: null,
  };
}

function instance(name: string, osName: string, disks: Dict[], extra: Dict = {}): Dict {
  return {
    name, os: osName, uuid: `uuid-${name}`, ctime: 1700000000.5, mtime: 1700000001.25, hypervisor: 'fake',
    primary_node: 'node-uuid-1', primary_node_name: 'node1', secondary_nodes: [], tags: ['backup', 'web'],
    hvparams: { migration_mode: 'live' }, beparams: { maxmem: 128, minmem: 64, vcpus: 1, auto_balance: true },
    osparams: { marker: 'hello' }, osparams_private: {},
    nics: [{ mac: 'aa:00:00:11:22:33', ip: null, name: null, network: null, uuid: 'nic-uuid', nicparams: { mode: 'bridged', link: 'br0', vlan: '' }, netinfo: null }],
    disks_info: disks, disks: disks.map((d) => d.uuid), ...extra,
  };
}

function diskFile(ctx: NodeContext, disk: Dict): string {
  return path.join(ctx.paths.root, (disk.logical_id as string[])[1]);
}

function osLogs(ctx: NodeContext): string[] {
  try {
    return fs.readdirSync(path.join(ctx.paths.logDir, 'os')).sort();
  } catch {
    return [];
  }
}

function logOf(ctx: NodeContext, prefix: string): string {
  const names = osLogs(ctx).filter((n) => n.startsWith(prefix));
  assert.equal(names.length, 1, `one log file ${prefix}*: ${osLogs(ctx).join(', ')}`);
  return fs.readFileSync(path.join(ctx.paths.logDir, 'os', names[0]), 'utf8');
}

/** The KEY=value lines the writer scripts print (their environment). */
function envFromLog(log: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of log.split('\n')) {
    const m = /^([A-Z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (m) env[m[1]] = m[2];
  }
  return env;
}

const TS = /\d{4}-\d\d-\d\d_\d\d_\d\d_\d\d/.source;

test('log file names and timestamps as upstream', () => {
  const paths = nodePaths('/tmp/c/node1');
  const at = new Date(2024, 0, 2, 3, 4, 5);
  assert.equal(timestampForFilename(at), '2024-01-02_03_04_05');
  assert.equal(instanceLogName(paths, 'add', 'writer+default', 'inst1', null, at), '/tmp/c/node1/var/log/ganeti/os/add-writer+default-inst1-2024-01-02_03_04_05.log');
  assert.equal(instanceLogName(paths, 'export', 'noop', 'inst1', 'disk0', at), '/tmp/c/node1/var/log/ganeti/os/export-noop-inst1-disk0-2024-01-02_03_04_05.log');
  assert.equal(instanceLogName(paths, 'add', 'writer+../x', 'inst1', null, at), '/tmp/c/node1/var/log/ganeti/os/add-writer+.._x-inst1-2024-01-02_03_04_05.log');
});

test('create writes into the disk, with exactly the interface environment, cwd = the OS directory', async () => {
  const ctx = node();
  process.env.GANETI_TEST_SHOULD_NOT_LEAK = 'leak';
  try {
    const disk = fileDisk(ctx, 'inst1', 'd0');
    const inst = instance('inst1', 'writer+default', [disk]);
    assert.equal(await OS_BACKEND.instance_os_add(ctx, [inst, false, 0]), null);
    assert.match(fs.readFileSync(diskFile(ctx, disk), 'latin1').slice(0, 64), /^writer inst1 default hello reinstall=0\n\0/);
    assert.deepEqual(osLogs(ctx).map((n) => n.replace(new RegExp(TS), 'TS')), ['add-writer+default-inst1-TS.log']);
    const log = logOf(ctx, 'add-');
    assert.ok(log.includes(`cwd=${fs.realpathSync(path.join(FIXTURES, 'writer'))}\n`), log);
    assert.ok(log.endsWith('create done\n'));
    const env = envFromLog(log);
    // What a shell adds on its own (PWD, SHLVL, OLDPWD, _) aside, the script sees the interface's variables only.
    const shellVars = new Set(['PWD', 'SHLVL', 'OLDPWD', '_']);
    assert.deepEqual(Object.keys(env).filter((k) => !shellVars.has(k)).sort(), [
      'DEBUG_LEVEL', 'DISK_0_ACCESS', 'DISK_0_BACKEND_TYPE', 'DISK_0_PATH', 'DISK_0_SIZE', 'DISK_0_UUID', 'DISK_COUNT',
      'HYPERVISOR', 'INSTANCE_BE_auto_balance', 'INSTANCE_BE_maxmem', 'INSTANCE_BE_minmem', 'INSTANCE_BE_vcpus',
      'INSTANCE_CTIME', 'INSTANCE_HV_migration_mode', 'INSTANCE_MTIME', 'INSTANCE_NAME', 'INSTANCE_OS',
      'INSTANCE_PRIMARY_NODE', 'INSTANCE_SECONDARY_NODES', 'INSTANCE_UUID', 'NIC_0_BRIDGE', 'NIC_0_LINK', 'NIC_0_MAC',
      'NIC_0_MODE', 'NIC_0_UUID', 'NIC_COUNT', 'OSP_MARKER', 'OS_API_VERSION', 'OS_NAME', 'OS_VARIANT', 'PATH',
    ]);
    assert.equal(env.DISK_0_PATH, diskFile(ctx, disk));
    assert.equal(env.PATH, '/sbin:/bin:/usr/sbin:/usr/bin');

    // Reinstall: INSTANCE_REINSTALL=1, a second log (same second or not, appended).
    await OS_BACKEND.instance_os_add(ctx, [{ ...inst, os: 'writer+second' }, true, 1]);
    assert.match(fs.readFileSync(diskFile(ctx, disk), 'latin1'), /^writer inst1 second hello reinstall=1\n/);
    assert.equal(envFromLog(logOf(ctx, 'add-writer+second-')).DEBUG_LEVEL, '1');
  } finally {
    delete process.env.GANETI_TEST_SHOULD_NOT_LEAK;
  }
});

test('a failing create: upstream\'s message with the last 20 lines of the log', async () => {
  const ctx = node();
  const inst = instance('inst1', 'failing', [fileDisk(ctx, 'inst1', 'd0')]);
  const lines = [...Array.from({ length: 19 }, (_, i) => `line ${i + 7}`), 'giving up'];
  await assert.rejects(OS_BACKEND.instance_os_add(ctx, [inst, false, 0]) as Promise<unknown>, {
    message: `OS create script failed (exited with exit code 1), last lines in the log file:\n${lines.join('\n')}`,
  });
  const log = logOf(ctx, 'add-failing-inst1-');
  assert.ok(log.startsWith('line 1\nline 2\n'));
  assert.deepEqual(tailFile(path.join(ctx.paths.logDir, 'os', osLogs(ctx)[0]), 3), ['line 24', 'line 25', 'giving up']);
});

test('missing OS, missing disk, untrusted-only OS', async () => {
  const ctx = node();
  const disk = fileDisk(ctx, 'inst1', 'd0', 1, false);
  await assert.rejects(OS_BACKEND.instance_os_add(ctx, [instance('inst1', 'nosuch', []), false, 0]) as Promise<unknown>, {
    message: 'Directory for OS nosuch not found in search path',
  });
  await assert.rejects(OS_BACKEND.instance_os_add(ctx, [instance('inst1', 'writer+default', [disk]), false, 0]) as Promise<unknown>, {
    message: "Block device '<Disk(type=file, logical_id=('loop', '/srv/ganeti/file-storage/inst1/d0.file.disk0'), children=[], visible as /dev/disk/0, size=1m)>' is not set up",
  });
  const untrusted = path.join(ctx.paths.root, 'srv/ganeti/os/sandboxed');
  fs.mkdirSync(untrusted);
  fs.writeFileSync(path.join(untrusted, 'ganeti_api_version'), '10\n');
  for (const s of ['create_untrusted', 'export', 'import', 'rename']) fs.writeFileSync(path.join(untrusted, s), '#!/bin/sh\n', { mode: 0o755 });
  await assert.rejects(OS_BACKEND.instance_os_add(ctx, [instance('inst1', 'sandboxed', []), false, 0]) as Promise<unknown>, {
    message: "OS 'sandboxed' has no trusted create script; untrusted OS definitions need a helper VM",
  });
});

test('rename: OLD_INSTANCE_NAME and the rename-<os>-<old>-<new> log', async () => {
  const ctx = node();
  const inst = instance('inst2', 'writer+default', [fileDisk(ctx, 'inst2', 'd0')]);
  assert.equal(await OS_BACKEND.instance_run_rename(ctx, [inst, 'inst1', 0]), null);
  assert.deepEqual(osLogs(ctx).map((n) => n.replace(new RegExp(TS), 'TS')), ['rename-writer+default-inst1-inst2-TS.log']);
  const log = logOf(ctx, 'rename-');
  assert.equal(envFromLog(log).OLD_INSTANCE_NAME, 'inst1');
  assert.ok(log.endsWith('renamed inst1 to inst2\n'));
});

test('export and import of the writer OS through image files in the export directory', async () => {
  const ctx = node();
  const disk = fileDisk(ctx, 'inst1', 'd0', 2);
  const inst = instance('inst1', 'writer+default', [disk]);
  await OS_BACKEND.instance_os_add(ctx, [inst, false, 0]);
  const original = fs.readFileSync(diskFile(ctx, disk));
  const bytes = await OS_BACKEND.instance_disk_export(ctx, [inst, 0, '/srv/ganeti/export/inst1.new/d0']);
  assert.equal(bytes, 2 * 1024 * 1024);
  const image = path.join(ctx.paths.srvDir, 'export/inst1.new/d0');
  assert.ok(fs.readFileSync(image).equals(original));
  // Zeroes are left as holes: the image takes no more room than the data in it.
  assert.ok(fs.statSync(image).blocks * 512 < 1024 * 1024, `image of ${fs.statSync(image).blocks} blocks`);
  const exportLog = logOf(ctx, 'export-');
  assert.match(osLogs(ctx).find((n) => n.startsWith('export-'))!, new RegExp(`^export-writer\\+default-inst1-disk0-${TS}\\.log$`));
  const exportEnv = envFromLog(exportLog);
  assert.equal(exportEnv.EXPORT_DEVICE, diskFile(ctx, disk));
  assert.equal(exportEnv.EXPORT_DISK_PATH, diskFile(ctx, disk));
  assert.equal(exportEnv.EXPORT_INDEX, '0');
  assert.equal(exportEnv.EXP_SIZE_FD, '3');

  // Import onto another instance's (zeroed) disk.
  const disk2 = fileDisk(ctx, 'inst2', 'e0', 2);
  const inst2 = instance('inst2', 'writer+default', [disk2]);
  assert.equal(await OS_BACKEND.instance_disk_import(ctx, [inst2, 0, '/srv/ganeti/export/inst1.new/d0']), null);
  assert.ok(fs.readFileSync(diskFile(ctx, disk2)).equals(original));
  const importEnv = envFromLog(logOf(ctx, 'import-writer+default-inst2-disk0-'));
  assert.equal(importEnv.IMPORT_DEVICE, diskFile(ctx, disk2));
  assert.equal(importEnv.IMPORT_DISK_PATH, diskFile(ctx, disk2));
  assert.equal(importEnv.IMPORT_INDEX, '0');

  // Paths outside the export directory are refused; so is a disk the instance does not have.
  await assert.rejects(OS_BACKEND.instance_disk_export(ctx, [inst, 0, '/srv/ganeti/file-storage/x']) as Promise<unknown>, {
    message: "Path '/srv/ganeti/file-storage/x' is outside srv/ganeti/export",
  });
  await assert.rejects(OS_BACKEND.instance_disk_export(ctx, [inst, 1, '/srv/ganeti/export/inst1.new/x']) as Promise<unknown>, {
    message: 'Instance inst1 has no disk 1',
  });
  await assert.rejects(OS_BACKEND.instance_disk_import(ctx, [inst2, 0, '/srv/ganeti/export/nothing']) as Promise<unknown>, {
    message: "Image file '/srv/ganeti/export/nothing' not found",
  });
});

test('an instance without OS is copied raw', async () => {
  const ctx = node();
  const disk = fileDisk(ctx, 'raw', 'r0');
  fs.writeFileSync(diskFile(ctx, disk), 'raw bytes', { flag: 'r+' });
  const inst = instance('raw', '', [disk]);
  assert.equal(await OS_BACKEND.instance_disk_export(ctx, [inst, 0, '/srv/ganeti/export/raw.new/r0']), 1024 * 1024);
  const disk2 = fileDisk(ctx, 'raw2', 'r1');
  await OS_BACKEND.instance_disk_import(ctx, [instance('raw2', '', [disk2]), 0, '/srv/ganeti/export/raw.new/r0']);
  assert.ok(fs.readFileSync(diskFile(ctx, disk2)).equals(fs.readFileSync(diskFile(ctx, disk))));
  assert.deepEqual(osLogs(ctx), []);
});

test('Debian noop: create, rename, export and import for real', { skip: noopSkip }, async () => {
  const ctx = node();
  const disk = fileDisk(ctx, 'inst1', 'n0', 1);
  fs.writeFileSync(diskFile(ctx, disk), 'payload of the noop disk', { flag: 'r+' });
  const inst = instance('inst1', 'noop', [disk], { osparams: {} });
  await OS_BACKEND.instance_os_add(ctx, [inst, false, 0]);
  await OS_BACKEND.instance_run_rename(ctx, [inst, 'inst0', 0]);
  const bytes = await OS_BACKEND.instance_disk_export(ctx, [inst, 0, '/srv/ganeti/export/inst1.new/n0']);
  assert.equal(bytes, 1024 * 1024);
  const disk2 = fileDisk(ctx, 'inst2', 'n1', 1);
  await OS_BACKEND.instance_disk_import(ctx, [instance('inst2', 'noop', [disk2], { osparams: {} }), 0, '/srv/ganeti/export/inst1.new/n0']);
  assert.ok(fs.readFileSync(diskFile(ctx, disk2)).equals(fs.readFileSync(diskFile(ctx, disk))));
  assert.deepEqual(osLogs(ctx).map((n) => n.replace(new RegExp(TS), 'TS')), [
    'add-noop-inst1-TS.log', 'export-noop-inst1-disk0-TS.log', 'import-noop-inst2-disk0-TS.log', 'rename-noop-inst0-inst1-TS.log',
  ]);
});

test('finalize_export writes upstream\'s config.ini; list, info and remove', async () => {
  const ctx = node();
  await assert.rejects(async () => OS_BACKEND.export_list(ctx, []), { message: 'No exports directory' });
  const disk = fileDisk(ctx, 'inst1', 'd0', 1);
  const inst = instance('inst1', 'writer+default', [{ ...disk, name: 'root' }], {
    hvparams: { migration_mode: 'live', migration_port: 8102, kernel_path: '/boot/k' },
    osparams_private: { token: 's3' },
    nics: [
      { mac: 'aa:00:00:11:22:33', ip: '192.0.2.5', name: 'eth0', network: null, uuid: 'n0', nicparams: { mode: 'bridged', link: 'br0', vlan: '' }, netinfo: null },
      { mac: 'aa:00:00:11:22:34', ip: null, name: null, network: null, uuid: 'n1', nicparams: { mode: 'routed', link: 'rt', vlan: '' }, netinfo: null },
    ],
  });
  await OS_BACKEND.instance_disk_export(ctx, [inst, 0, '/srv/ganeti/export/inst1.new/d0']);
  const before = Math.floor(Date.now() / 1000);
  assert.equal(await OS_BACKEND.finalize_export(ctx, [inst, [{ ...disk, name: 'root' }]]), null);
  const dir = path.join(ctx.paths.srvDir, 'export/inst1');
  assert.deepEqual(fs.readdirSync(dir).sort(), ['config.ini', 'd0']);
  assert.ok(!fs.existsSync(path.join(ctx.paths.srvDir, 'export/inst1.new')));
  const text = fs.readFileSync(path.join(dir, 'config.ini'), 'utf8');
  const timestamp = /^timestamp = (\d+)$/m.exec(text)![1];
  assert.ok(Number(timestamp) >= before);
  assert.equal(text, [
    '[export]', 'version = 0', `timestamp = ${timestamp}`, 'source = node-uuid-1', 'os = writer+default', 'compression = none', '',
    '[instance]', 'name = inst1', 'maxmem = 128', 'minmem = 64', 'memory = 128', 'vcpus = 1', 'disk_template = file',
    'hypervisor = fake', 'tags = backup web',
    'nic0_mac = aa:00:00:11:22:33', 'nic0_ip = 192.0.2.5', 'nic0_network = None', 'nic0_name = eth0',
    'nic0_link = br0', 'nic0_mode = bridged', 'nic0_vlan = ',
    'nic1_mac = aa:00:00:11:22:34', 'nic1_ip = None', 'nic1_network = None', 'nic1_name = None',
    'nic1_link = rt', 'nic1_mode = routed', 'nic1_vlan = ',
    'nic_count = 2',
    'disk0_ivname = disk/0', 'disk0_dump = d0', 'disk0_size = 1', 'disk0_name = root', 'disk_count = 1', '',
    '[hypervisor]', 'kernel_path = /boot/k', '',
    '[backend]', 'maxmem = 128', 'minmem = 64', 'vcpus = 1', 'auto_balance = True', '',
    '[os]', 'marker = hello', '',
    '[os_private]', 'token = s3', '', '',
  ].join('\n'));

  // A newer export replaces the older one.
  await OS_BACKEND.finalize_export(ctx, [{ ...inst, disks_info: [] }, []]);
  assert.deepEqual(fs.readdirSync(dir), ['config.ini']);
  assert.match(fs.readFileSync(path.join(dir, 'config.ini'), 'utf8'), /^disk_template = diskless$/m);

  // Staging areas (".name") are not exports.
  fs.mkdirSync(path.join(ctx.paths.srvDir, 'export/.transfer-x'));
  fs.mkdirSync(path.join(ctx.paths.srvDir, 'export/alpha'));
  assert.deepEqual(OS_BACKEND.export_list(ctx, []), ['alpha', 'inst1']);
  assert.match(OS_BACKEND.export_info(ctx, ['/srv/ganeti/export/inst1']) as string, /^\[export\]\nversion = 0\n/);
  assert.throws(() => OS_BACKEND.export_info(ctx, ['/srv/ganeti/export/alpha']), { message: "Export info file doesn't have the required fields" });
  assert.equal(OS_BACKEND.export_remove(ctx, ['inst1']), null);
  assert.deepEqual(OS_BACKEND.export_list(ctx, []), ['alpha']);
  assert.throws(() => OS_BACKEND.export_remove(ctx, ['inst1']), {
    message: `Error while removing the export: [Errno 2] No such file or directory: '${dir}'`,
  });
  assert.throws(() => OS_BACKEND.export_remove(ctx, ['../os']), { message: 'Invalid export name "../os"' });
  assert.equal(OS_BACKEND.export_remove(ctx, ['.transfer-x']), null);
});

test('chunked file access below the export directory', () => {
  const ctx = node();
  const data = Buffer.alloc(3000, 7);
  data.write('head', 0);
  OS_BACKEND.export_chunk_write(ctx, ['/srv/ganeti/export/.t/file', 0, encodeChunk(data.subarray(0, 1000))]);
  OS_BACKEND.export_chunk_write(ctx, ['/srv/ganeti/export/.t/file', 1000, encodeChunk(data.subarray(1000)), true]);
  const [chunk, size] = OS_BACKEND.export_chunk_read(ctx, ['/srv/ganeti/export/.t/file', 0, 2048]) as [unknown, number];
  assert.equal(size, 3000);
  assert.ok(decodeChunk(chunk).equals(data.subarray(0, 2048)));
  const [rest] = OS_BACKEND.export_chunk_read(ctx, ['/srv/ganeti/export/.t/file', 2048, 2048]) as [unknown, number];
  assert.ok(decodeChunk(rest).equals(data.subarray(2048)));
  const [empty] = OS_BACKEND.export_chunk_read(ctx, ['/srv/ganeti/export/.t/file', 5000, 10]) as [unknown, number];
  assert.equal(decodeChunk(empty).length, 0);
  // Offset 0 starts the file afresh.
  OS_BACKEND.export_chunk_write(ctx, ['/srv/ganeti/export/.t/file', 0, encodeChunk(Buffer.from('new'))]);
  assert.equal(fs.readFileSync(path.join(ctx.paths.srvDir, 'export/.t/file'), 'utf8'), 'new');
  // A chunk of zeroes travels as its length and leaves a hole.
  assert.deepEqual(encodeChunk(Buffer.alloc(4096)), [2, 4096]);
  OS_BACKEND.export_chunk_write(ctx, ['/srv/ganeti/export/.t/sparse', 0, encodeChunk(Buffer.from('start'))]);
  OS_BACKEND.export_chunk_write(ctx, ['/srv/ganeti/export/.t/sparse', 5, encodeChunk(Buffer.alloc(4 * 1024 * 1024)), true]);
  const sparse = path.join(ctx.paths.srvDir, 'export/.t/sparse');
  assert.equal(fs.statSync(sparse).size, 5 + 4 * 1024 * 1024);
  assert.ok(fs.statSync(sparse).blocks * 512 < 1024 * 1024);
  const [zeroChunk] = OS_BACKEND.export_chunk_read(ctx, ['/srv/ganeti/export/.t/sparse', 5, 4096]) as [unknown, number];
  assert.deepEqual(zeroChunk, [2, 4096]);
  assert.ok(decodeChunk(zeroChunk).equals(Buffer.alloc(4096)));
  assert.throws(() => OS_BACKEND.export_chunk_read(ctx, ['/var/lib/ganeti/cluster-key', 0, 10]), {
    message: "Path '/var/lib/ganeti/cluster-key' is outside srv/ganeti/export",
  });
  assert.throws(() => OS_BACKEND.export_chunk_read(ctx, ['/srv/ganeti/export/../../../etc/passwd', 0, 10]), /is outside srv\/ganeti\/export/);
  assert.throws(() => OS_BACKEND.export_chunk_write(ctx, ['/srv/ganeti/export/x', 0, [0, 'plain']]), { message: 'Invalid data chunk encoding' });
});
