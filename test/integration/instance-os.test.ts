// Instances on a three-node loopback cluster through the CLI, with OS definitions that do
// something: the test OS "writer" (test/fixtures/os) writes its marker into the new disk
// on whichever node is primary, and "failing" exits 1 — the job error then names the OS
// log, and nothing of the instance is left (config, disks, storage directory).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { TestCluster, type VirtualNode } from './cluster.ts';

const FIXTURES = path.join(import.meta.dirname, '../fixtures/os');

/** Put the fixture OS definitions below a node's root, the first directory of its OS search path. */
function installTestOses(node: VirtualNode): void {
  const dir = node.file('srv/ganeti/os');
  fs.mkdirSync(dir, { recursive: true });
  for (const os of ['writer', 'failing']) fs.cpSync(path.join(FIXTURES, os), path.join(dir, os), { recursive: true });
}

const cluster = new TestCluster();
after(() => cluster.destroy());
const node1 = cluster.init('node1', 'cluster.test', ['--enabled-disk-templates', 'file,diskless']);
installTestOses(node1);
const node2 = cluster.join(node1, 'node2');
const node3 = cluster.join(node1, 'node3');
installTestOses(node2);
installTestOses(node3);

function gnt(tool: string, args: string[]) {
  return node1.run(tool, args);
}

function ok(tool: string, args: string[]): string {
  const r = gnt(tool, args);
  assert.equal(r.code, 0, `${tool} ${args.join(' ')}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** The first line of a (large, sparse) file. */
function firstLine(file: string): string {
  const buf = Buffer.alloc(256);
  const fd = fs.openSync(file, 'r');
  try {
    fs.readSync(fd, buf, 0, buf.length, 0);
  } finally {
    fs.closeSync(fd);
  }
  return buf.toString('utf8').split('\n')[0];
}

/** The file behind an instance's first disk, on its primary node. */
function diskFile(node: VirtualNode, instance: string): string {
  const dir = node.file(`srv/ganeti/file-storage/${instance}`);
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.disk0'));
  assert.equal(files.length, 1, `one disk0 file in ${dir}: ${files.join(', ')}`);
  return path.join(dir, files[0]);
}

test('gnt-os lists the test OSes with their variants on every node', () => {
  const out = ok('gnt-os', ['list', '--no-headers']);
  assert.match(out, /^writer\+default$/m);
  assert.match(out, /^noop$/m);
  const diag = ok('gnt-os', ['diagnose']);
  assert.match(diag, /OS: writer \[global status: valid\]/);
  for (const n of ['node1', 'node2', 'node3']) assert.match(diag, new RegExp(`Node: ${n}, status: valid`));
});

test('the writer OS writes into the disk of an instance on node2; the instance lives there', () => {
  ok('gnt-instance', ['add', '--no-name-check', '--no-ip-check', '-t', 'file', '--disk', '0:size=1G', '-o', 'writer+default', '-O', 'marker=m1', '-n', 'node2', 'web1']);
  const head = firstLine(diskFile(node2, 'web1'));
  assert.equal(head, 'writer web1 default m1 reinstall=0');
  assert.equal(fs.statSync(diskFile(node2, 'web1')).size, 1024 * 1048576);
  const row = ok('gnt-instance', ['list', '--no-headers', '-o', 'name,pnode,status,oper_state,disk.sizes', 'web1']).trim().split(/\s+/);
  assert.deepEqual(row, ['web1', 'node2', 'running', 'Y', '1024']);
  const logs = fs.readdirSync(node2.file('var/log/ganeti/os'));
  assert.ok(logs.some((f) => /^add-writer\+default-web1-\d{4}-\d\d-\d\d_\d\d_\d\d_\d\d\.log$/.test(f) || /^add-writer-web1-/.test(f)), logs.join(', '));
  // Stop, start, reinstall (the marker says so), remove: all on node2.
  ok('gnt-instance', ['shutdown', 'web1']);
  assert.equal(ok('gnt-instance', ['list', '--no-headers', '-o', 'status', 'web1']).trim(), 'ADMIN_down');
  ok('gnt-instance', ['reinstall', '-f', 'web1']);
  assert.equal(firstLine(diskFile(node2, 'web1')), 'writer web1 default m1 reinstall=1');
  ok('gnt-instance', ['startup', 'web1']);
  assert.ok(fs.existsSync(node2.file('var/run/ganeti/fake-hypervisor/web1')));
  ok('gnt-instance', ['remove', '-f', 'web1']);
  assert.ok(!fs.existsSync(node2.file('srv/ganeti/file-storage/web1')));
  assert.ok(!fs.existsSync(node2.file('var/run/ganeti/fake-hypervisor/web1')));
});

test('a failing create script: the error names the OS log and its last lines; nothing is left', () => {
  const r = gnt('gnt-instance', ['add', '--no-name-check', '--no-ip-check', '-t', 'file', '--disk', '0:size=1G', '-o', 'failing', '-n', 'node3', 'bad1']);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /Could not add os for instance bad1 on node node3: OS create script failed \(exited with exit code 1\), last lines in the log file:/);
  assert.match(r.stderr, /line 25/);
  assert.doesNotMatch(r.stderr, /line 5\n/, 'only the last 20 lines');
  const logDir = node3.file('var/log/ganeti/os');
  const log = fs.readdirSync(logDir).find((f) => f.startsWith('add-failing-bad1-'));
  assert.ok(log, `an OS log for bad1 in ${fs.readdirSync(logDir).join(', ')}`);
  assert.match(fs.readFileSync(path.join(logDir, log), 'utf8'), /line 1\n[\s\S]*giving up/);
  assert.equal(ok('gnt-instance', ['list', '--no-headers', '-o', 'name']).split('\n').filter((l) => l === 'bad1').length, 0);
  assert.ok(!fs.existsSync(node3.file('srv/ganeti/file-storage/bad1')), 'the disk and its directory are removed');
  // The same add works once the OS is fixed.
  ok('gnt-instance', ['add', '--no-name-check', '--no-ip-check', '-t', 'file', '--disk', '0:size=1G', '-o', 'writer+default', '-n', 'node3', 'bad1']);
  ok('gnt-instance', ['remove', '-f', 'bad1']);
});

test('instances spread over three nodes: list by node, stop all on one node, start them again', () => {
  for (const [name, pnode] of [['a1', 'node1'], ['a2', 'node2'], ['a3', 'node3'], ['a4', 'node3']]) {
    ok('gnt-instance', ['add', '--no-name-check', '--no-ip-check', '-t', 'diskless', '-o', 'noop', '-n', pnode, name]);
  }
  const rows = ok('gnt-instance', ['list', '--no-headers', '-o', 'name,pnode,status']).trim().split('\n').map((l) => l.trim().split(/\s+/));
  assert.deepEqual(rows, [['a1', 'node1', 'running'], ['a2', 'node2', 'running'], ['a3', 'node3', 'running'], ['a4', 'node3', 'running']]);
  ok('gnt-instance', ['shutdown', '--primary', '--force-multiple', 'node3']);
  assert.deepEqual(ok('gnt-instance', ['list', '--no-headers', '-o', 'status', 'a3', 'a4']).trim().split('\n'), ['ADMIN_down', 'ADMIN_down']);
  assert.equal(fs.readdirSync(node3.file('var/run/ganeti/fake-hypervisor')).filter((f) => f.startsWith('a')).length, 0);
  ok('gnt-instance', ['startup', '--all', '--force-multiple']);
  assert.deepEqual(ok('gnt-instance', ['list', '--no-headers', '-o', 'oper_state']).trim().split('\n'), ['Y', 'Y', 'Y', 'Y']);
  const pinst = ok('gnt-node', ['list', '--no-headers', '-o', 'name,pinst_cnt']).trim().split('\n').map((l) => l.trim().split(/\s+/));
  assert.deepEqual(pinst, [['node1', '1'], ['node2', '1'], ['node3', '2']]);
  ok('gnt-instance', ['remove', '-f', 'a1']);
  ok('gnt-instance', ['remove', '-f', 'a2']);
  ok('gnt-instance', ['remove', '-f', 'a3']);
  ok('gnt-instance', ['remove', '-f', 'a4']);
});
