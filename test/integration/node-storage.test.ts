// gnt-node list-storage, modify-storage and repair-storage on a two-node virtual cluster:
// file storage (always), then a real loop-backed LVM volume group (two PVs; where root,
// losetup and lvm2 are there, else skipped saying why; no device-mapper needed): the
// units of both LVM types, a PV's allocatable flag changed and seen by pvs, and a repair
// that drops a PV whose device went away. Upstream's texts and exit codes for what is
// refused; the table compared with Ganeti 3.0's own cli.GenerateTable where it is installed.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { TestCluster, type VirtualNode } from './cluster.ts';
import { loopVgUnavailable } from '../fixtures/lvm/loop-vg.ts';

const cluster = new TestCluster();
let node1: VirtualNode;
const VG = `gntstor${process.pid}`;
const LVM_ENV = { ...process.env, PATH: `/usr/local/sbin:/usr/sbin:/sbin:${process.env.PATH ?? '/usr/bin:/bin'}`, LC_ALL: 'C', LVM_SUPPRESS_FD_WARNINGS: '1' };
const noLoopVg = loopVgUnavailable();
const loops: string[] = [];
const loopDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gnt-storvg-'));

function lvm(argv: string[]): { code: number; out: string } {
  const r = spawnSync(argv[0], argv.slice(1), { env: LVM_ENV, encoding: 'utf8' });
  return { code: r.status ?? -1, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

after(() => {
  cluster.destroy();
  if (loops.length > 0) {
    lvm(['vgremove', '-f', VG]);
    for (const l of loops) {
      lvm(['pvremove', '-ff', '-y', l]);
      lvm(['losetup', '-d', l]);
    }
  }
  fs.rmSync(loopDir, { recursive: true, force: true });
});

/** Ganeti 3.0's own GenerateTable (Debian's ganeti-3.0), as ListStorage calls it, or null where it is missing. */
function upstreamTable(fields: string[], rows: string[][], separator: string | null, units: string | null): string[] | null {
  const code = [
    'import json, sys',
    'from ganeti import cli',
    'a = json.load(sys.stdin)',
    "h = {'node': 'Node', 'type': 'Type', 'name': 'Name', 'size': 'Size', 'used': 'Used', 'free': 'Free', 'allocatable': 'Allocatable'}",
    "u = ['size', 'used', 'free']",
    "print(json.dumps(cli.GenerateTable(separator=a['sep'], headers=h, fields=a['fields'], unitfields=u, numfields=u, data=a['rows'], units=a['units'])))",
  ].join('\n');
  const r = spawnSync('/usr/bin/python3', ['-c', code], {
    input: JSON.stringify({ fields, rows, sep: separator, units }), encoding: 'utf8', env: { ...process.env, PYTHONPATH: '/usr/share/ganeti/3.0' },
  });
  return r.status === 0 ? JSON.parse(r.stdout) as string[] : null;
}

function ok(n: VirtualNode, role: string, args: string[]): string {
  const r = n.run(role, args);
  assert.equal(r.code, 0, `${role} ${args.join(' ')}: ${r.stdout}${r.stderr}`);
  return r.stdout;
}

function fails(n: VirtualNode, role: string, args: string[], stderr: string): void {
  const r = n.run(role, args);
  assert.equal(r.code, 1, `${role} ${args.join(' ')}: ${r.stdout}${r.stderr}`);
  assert.equal(r.stderr, stderr);
}

/** The node names in the order list-storage gives them: upstream sorts the nodes' uuids (NiceSort), not their names. */
function uuidOrder(n: VirtualNode): string[] {
  const rows = ok(n, 'gnt-node', ['list', '--no-headers', '--separator=|', '-o', 'name,uuid']).trim().split('\n').map((l) => l.split('|'));
  return rows.sort((a, b) => a[1].localeCompare(b[1], 'en', { numeric: true })).map((r) => r[0]);
}

const PREREQ = 'Failure: prerequisites not met for this operation:\n';
const INVAL = `${PREREQ}error type: wrong_input, error details:\n`;

test('file storage: the default type of the first template, the table, and what is refused', () => {
  node1 = cluster.init('node1', 'cluster.test', ['--enabled-disk-templates', 'diskless,file']);
  const n2 = cluster.join(node1, 'node2');
  for (const n of [node1, n2]) fs.mkdirSync(n.file('srv/ganeti/file-storage'), { recursive: true });
  // As golden 034: diskless, the first template, has no storage reporting.
  fails(node1, 'gnt-node', ['list-storage'], `${PREREQ}Storage reporting for storage type 'diskless' is not supported. Please use the --storage-type option to specify one of the supported storage types (lvm-vg, sharedfile, gluster, lvm-pv, file) or set the default disk template to one that supports storage reporting.\n`);

  const fields = ['node', 'type', 'name', 'size', 'used', 'allocatable'];
  const parsable = ok(node1, 'gnt-node', ['list-storage', '-t', 'file', '--separator=|', '--no-headers', '-o', fields.join(',')]);
  const rows = parsable.trim().split('\n').map((l) => l.split('|'));
  const order = uuidOrder(node1);
  assert.deepEqual(rows.map((r) => [r[0], r[1], r[2], r[5]]), order.map((n) => [n, 'file', '/srv/ganeti/file-storage', 'Y']));
  const st = fs.statfsSync(node1.file('srv/ganeti/file-storage'));
  assert.equal(Number(rows[0][3]), Math.round((st.blocks * st.bsize) / 1048576));
  assert.deepEqual(rows.map((r) => r[4]), ['0', '0']);

  // Some data in node2's directory: `used` counts apparent sizes (a sparse 3 MiB file is 3).
  fs.mkdirSync(n2.file('srv/ganeti/file-storage/inst1'), { recursive: true });
  fs.writeFileSync(n2.file('srv/ganeti/file-storage/inst1/disk0'), '');
  fs.truncateSync(n2.file('srv/ganeti/file-storage/inst1/disk0'), 3 * 1048576);
  const human = ok(node1, 'gnt-node', ['list-storage', '-t', 'file', '-o', fields.join(',')]).split('\n').slice(0, -1);
  const again = ok(node1, 'gnt-node', ['list-storage', '-t', 'file', '--separator=|', '--no-headers', '-o', fields.join(',')]);
  const expected = upstreamTable(fields, again.trim().split('\n').map((l) => l.split('|')), null, null);
  if (expected) assert.deepEqual(human, expected, 'byte for byte what Ganeti 3.0 prints for the same rows');
  assert.match(human[1 + order.indexOf('node2')], /^node2 file \/srv\/ganeti\/file-storage +\S+G +3M Y$/);
  assert.match(human[0], /^Node {2}Type Name {20} +Size Used Allocatable$/);

  // Every default column; a node name selects that node.
  const one = ok(node1, 'gnt-node', ['list-storage', '-t', 'file', '--units=m', 'node2']).split('\n');
  assert.match(one[0], /^Node {2}Type Name +Size +Used +Free Allocatable$/);
  assert.match(one[1], /^node2 file \/srv\/ganeti\/file-storage +\d+ +3 +\d+ Y$/);
  assert.equal(one.length, 3);

  fails(node1, 'gnt-node', ['list-storage', '-t', 'file', 'nosuch'], `${PREREQ}error type: unknown_entity, error details:\nNode 'nosuch' not known\n`);
  fails(node1, 'gnt-node', ['list-storage', '-t', 'file', '-o', 'name,bogus'], `${INVAL}Unknown output fields selected: bogus\n`);
  fails(node1, 'gnt-node', ['list-storage', '-t', 'lvm-pv'],
    `${PREREQ}No disk template of storage type 'lvm-vg' is enabled in this cluster. Enabled disk templates are: diskless,file\n`);
  fails(node1, 'gnt-node', ['list-storage', '-t', 'sharedfile'],
    `${PREREQ}No disk template of storage type 'sharedfile' is enabled in this cluster. Enabled disk templates are: diskless,file\n`);
  const badType = node1.run('gnt-node', ['list-storage', '-t', 'rados']);
  assert.equal(badType.code, 2);
  assert.match(badType.stderr, /option -t: invalid choice: 'rados' \(choose from 'file', 'lvm-pv', 'lvm-vg', 'sharedfile', 'gluster'\)/);

  fails(node1, 'gnt-node', ['modify-storage', '--allocatable=no', 'node1', 'file', '/srv/ganeti/file-storage'],
    `${INVAL}Storage units of type 'file' can not be modified\n`);
  fails(node1, 'gnt-node', ['modify-storage', '--allocatable=no', 'node1', 'nfs', 'x'], `${INVAL}Unknown storage type: nfs\n`);
  const nothing = node1.run('gnt-node', ['modify-storage', 'node1', 'lvm-pv', '/dev/sda1']);
  assert.deepEqual([nothing.code, nothing.stdout, nothing.stderr], [0, '', 'No changes to perform, exiting.\n']);
  fails(node1, 'gnt-node', ['repair-storage', 'node1', 'file', '/srv/ganeti/file-storage'], `${INVAL}Storage units of type 'file' can not be repaired\n`);
  fails(node1, 'gnt-node', ['repair-storage', 'node1', 'lvm-vg', 'xenvg'],
    `${PREREQ}No disk template of storage type 'lvm-vg' is enabled in this cluster. Enabled disk templates are: diskless,file\n`);
  fails(node1, 'gnt-node', ['repair-storage', 'nosuch', 'lvm-vg', 'xenvg'], `${PREREQ}error type: unknown_entity, error details:\nNode 'nosuch' not known\n`);

  // A node without the directory warns and is left out; so is an offline node, silently.
  fs.renameSync(n2.file('srv/ganeti/file-storage'), n2.file('srv/ganeti/file-storage.away'));
  // (only size and free need it: statvfs fails where os.walk just finds nothing)
  const missing = ok(node1, 'gnt-node', ['list-storage', '-t', 'file', '--no-headers', '-o', 'node,name,free']).split('\n');
  assert.match(missing[0], /^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4} {2}- WARNING: Can't get storage data from node node2: Error while executing backend function: \[Errno 2\] No such file or directory: '\/srv\/ganeti\/file-storage'$/);
  assert.match(missing[1], /^node1 \/srv\/ganeti\/file-storage +\S+$/);
  assert.equal(missing.length, 3);
  fs.renameSync(n2.file('srv/ganeti/file-storage.away'), n2.file('srv/ganeti/file-storage'));
  // An offline node is left out without a warning.
  ok(node1, 'gnt-node', ['modify', '-O', 'yes', 'node2']);
  const online = ok(node1, 'gnt-node', ['list-storage', '-t', 'file', '--no-headers', '-o', 'node']);
  assert.equal(online, 'node1\n');
  ok(node1, 'gnt-node', ['modify', '-O', 'no', 'node2']);
});

const REAL_GANETI = '/usr/share/ganeti/3.0';
const noRealGaneti = fs.existsSync(`${REAL_GANETI}/ganeti/client/gnt_node.py`) ? false : 'Debian package ganeti-3.0 not installed (make test installs it as root)';

test('Ganeti 3.0\'s own gnt-node prints the same as ours for the storage commands', { skip: noRealGaneti }, () => {
  const real = (args: string[]) => {
    const r = spawnSync('/usr/bin/python3', ['-c', "import sys; sys.argv[0] = 'gnt-node'; from ganeti.client import gnt_node as m; sys.exit(m.Main())", ...args], {
      env: { ...node1.env, PYTHONPATH: REAL_GANETI }, encoding: 'utf8',
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  for (const args of [
    ['list-storage', '-t', 'file', '-o', 'node,type,name,size,used,allocatable'],
    ['list-storage', '-t', 'file', '--separator=:', '--units=g', '-o', 'name,used,node,size', 'node2'],
    ['list-storage', '-t', 'file', '-o', 'bogus'],
    ['list-storage', '-t', 'lvm-pv'],
    ['modify-storage', 'node1', 'lvm-pv', '/dev/sda1'],
    ['modify-storage', '--allocatable=no', 'node1', 'file', '/srv/ganeti/file-storage'],
    ['repair-storage', 'node1', 'lvm-vg', 'xenvg'],
  ]) {
    const theirs = real(args);
    const ours = node1.run('gnt-node', args);
    assert.deepEqual([ours.code, ours.stdout, ours.stderr], [theirs.code, theirs.stdout, theirs.stderr], args.join(' '));
  }
});

test('LVM: lvm-vg and lvm-pv units of a real loop-backed VG, allocatable changed, a missing PV repaired away', { skip: noLoopVg ?? false }, () => {
  // One large sparse PV (upstream wants 20 GiB in the cluster's VG) and one small one to lose.
  for (const [file, mib] of [['a.img', 20480 + 64], ['b.img', 64]] as const) {
    const image = path.join(loopDir, file);
    fs.writeFileSync(image, '');
    fs.truncateSync(image, mib * 1048576);
    const r = lvm(['losetup', '-f', '--show', image]);
    assert.equal(r.code, 0, r.out);
    loops.push(r.out.trim());
  }
  assert.equal(lvm(['pvcreate', ...loops]).code, 0);
  assert.equal(lvm(['vgcreate', VG, ...loops]).code, 0);
  ok(node1, 'gnt-cluster', ['modify', '--vg-name', VG, '--enabled-disk-templates', 'plain,file,diskless']);

  // The default type is now lvm-vg (plain's); every node sees this machine's VGs, ours among them.
  const vgRows = (out: string) => out.trim().split('\n').map((l) => l.split('|')).filter((r) => r[2] === VG);
  const vgs = vgRows(ok(node1, 'gnt-node', ['list-storage', '--separator=|', '--no-headers']));
  assert.deepEqual(vgs, uuidOrder(node1).map((n) => [n, 'lvm-vg', VG, '20600', '0', '20600', 'Y']));

  const pvRows = (out: string) => out.trim().split('\n').map((l) => l.split('|')).filter((r) => loops.includes(r[0]));
  const listPvs = () => pvRows(ok(node1, 'gnt-node', ['list-storage', '-t', 'lvm-pv', '--separator=|', '--no-headers', '-o', 'name,size,free,allocatable', 'node1']));
  assert.deepEqual(listPvs(), [[loops[0], '20540', '20540', 'Y'], [loops[1], '60', '60', 'Y']].sort((a, b) => a[0].localeCompare(b[0], 'en', { numeric: true })));

  ok(node1, 'gnt-node', ['modify-storage', '--allocatable', 'no', 'node1', 'lvm-pv', loops[1]]);
  assert.doesNotMatch(lvm(['pvs', '--noheadings', '-o', 'pv_attr', loops[1]]).out, /^\s*a/, 'pvchange really ran');
  assert.equal(listPvs().find((r) => r[0] === loops[1])![3], 'N');
  ok(node1, 'gnt-node', ['modify-storage', '--allocatable=yes', 'node1', 'lvm-pv', loops[1]]);
  assert.equal(listPvs().find((r) => r[0] === loops[1])![3], 'Y');
  fails(node1, 'gnt-node', ['modify-storage', '--allocatable=no', 'node1', 'lvm-vg', VG], `${INVAL}Storage units of type 'lvm-vg' can not be modified\n`);
  fails(node1, 'gnt-node', ['modify-storage', '--allocatable=no', 'node1', 'lvm-pv', '/dev/nosuchpv'],
    'Failure: command execution error:\nFailed to modify storage unit \'/dev/nosuchpv\' on node1: Error while executing backend function: ' +
    'Failed to modify physical volume, pvchange output:   0 physical volumes changed / 0 physical volumes not changed\n  Cannot use /dev/nosuchpv: device not found\n\n');

  // The small PV's device goes away: the VG misses it until repair-storage drops it.
  assert.equal(lvm(['losetup', '-d', loops[1]]).code, 0);
  const repaired = ok(node1, 'gnt-node', ['repair-storage', 'node2', 'lvm-vg', VG]);
  assert.match(repaired, new RegExp(`Repairing storage unit '${VG}' on node2 \\.\\.\\.\\n$`));
  assert.deepEqual(vgRows(ok(node1, 'gnt-node', ['list-storage', '-t', 'lvm-vg', '--separator=|', '--no-headers', 'node1'])),
    [['node1', 'lvm-vg', VG, '20540', '0', '20540', 'Y']]);
  assert.doesNotMatch(lvm(['vgs', VG]).out, /Couldn't find device/);
  loops.pop(); // detached already; its PV label went with the VG entry
  // Repairing a consistent VG is fine too.
  ok(node1, 'gnt-node', ['repair-storage', '--ignore-consistency', 'node1', 'lvm-vg', VG]);
});
