// gnt-instance, gnt-os and gnt-backup as an operator drives them, on a one-node cluster
// built like the golden one (node1.gnt.test; alpha and beta diskless, beta stopped, gamma
// with a 1 GiB file disk; OS noop): the listings and info byte for byte as real Ganeti
// 3.0.2 printed them where nothing varies (uuids, MACs and times are masked), the error
// texts and exit codes, and the power, disk, rename, modify and remove commands.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { TestCluster, type RunResult } from './cluster.ts';

const cluster = new TestCluster();
after(() => cluster.destroy());
// As the golden cluster was made: bridged NICs on gnt0.
const node = cluster.init('node1.gnt.test', 'cluster.gnt.test', ['--nic-parameters=mode=bridged,link=gnt0']);

const GOLDEN = path.join(import.meta.dirname, '../golden');

/** A section (STDOUT or STDERR) of a golden recording, and its exit code. */
function golden(file: string, section: 'STDOUT' | 'STDERR' = 'STDOUT'): string {
  const text = fs.readFileSync(path.join(GOLDEN, file), 'utf8');
  const m = new RegExp(`===== ${section} \\(\\d+ bytes\\) =====\\n([\\s\\S]*?)===== `).exec(text);
  assert.ok(m, `no ${section} in ${file}`);
  return m[1];
}

function goldenExit(file: string): number {
  return Number(/^# exit: (\d+)$/m.exec(fs.readFileSync(path.join(GOLDEN, file), 'utf8'))![1]);
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const MAC = /aa:00:00(:[0-9a-f]{2}){3}/g;
const TIME = /\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/g;

/** What varies between two clusters: uuids, MACs, times (and the column widths stay the same length). */
function mask(text: string): string {
  return text.replace(UUID, 'UUID').replace(MAC, 'MAC').replace(TIME, 'TIME');
}

const gnt = (tool: string, args: string[]): RunResult => node.run(tool, args);

function ok(tool: string, args: string[]): string {
  const r = gnt(tool, args);
  assert.equal(r.code, 0, `${tool} ${args.join(' ')}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** The golden command's stdout, stderr and exit code, compared with ours. */
function sameAsGolden(file: string, tool: string, args: string[], normalize: (s: string) => string = (s) => s): void {
  const r = gnt(tool, args);
  assert.equal(normalize(r.stdout), normalize(golden(file)), `${file} stdout`);
  assert.equal(normalize(r.stderr), normalize(golden(file, 'STDERR')), `${file} stderr`);
  assert.equal(r.code, goldenExit(file), `${file} exit code`);
}

const ADD = ['add', '-o', 'noop', '--no-name-check', '--no-ip-check', '-n', 'node1.gnt.test'];

before(() => {
  // The golden set-up (test/golden/README.md), in its order.
  ok('gnt-instance', [...ADD, '-t', 'diskless', 'alpha.gnt.test']);
  ok('gnt-instance', [...ADD, '-t', 'diskless', 'beta.gnt.test']);
  const stop = gnt('gnt-instance', ['shutdown', 'beta.gnt.test']);
  assert.equal(stop.code, 0, stop.stderr);
  // golden 088: one instance, so no "Submitted jobs" line.
  assert.match(stop.stdout, /^Waiting for job \d+ for beta\.gnt\.test \.\.\.\n$/);
  ok('gnt-instance', [...ADD, '-t', 'file', '--disk', '0:size=1G', '--ignore-ipolicy', 'gamma.gnt.test']);
  ok('gnt-instance', ['add-tags', 'alpha.gnt.test', 'web', 'prod']);
});

test('gnt-instance list: every golden listing (037, 038, 040, 041, 043, 044, 046, 047, 049, 050, 052, 097, 127)', () => {
  sameAsGolden('037.txt', 'gnt-instance', ['list', '-o', 'name,status,oper_state,admin_state,pnode,snodes,disk_template,disk.count,disk.sizes,disk_usage,nic.count,nic.macs,nic.modes,nic.links,nic.ips,be/maxmem,be/minmem,be/vcpus,be/auto_balance,hv/kernel_path,hv/kernel_args,os,hypervisor,oper_ram,oper_vcpus'], mask);
  sameAsGolden('038.txt', 'gnt-instance', ['list', '--no-headers', '--separator=:', '-o', 'name,status,oper_ram,disk.sizes,nic.modes']);
  sameAsGolden('040.txt', 'gnt-instance', ['list', '--units=m', '-o', 'name,be/maxmem,disk.size/0,disk_usage']);
  sameAsGolden('041.txt', 'gnt-instance', ['list', '--units=g', '-o', 'name,be/maxmem,disk.size/0,disk_usage']);
  sameAsGolden('043.txt', 'gnt-instance', ['list', '-F', 'admin_state == "down"']);
  sameAsGolden('044.txt', 'gnt-instance', ['list', '-F', 'disk_template == "file" or name =~ /^beta/']);
  sameAsGolden('046.txt', 'gnt-instance', ['list', 'a*']);
  sameAsGolden('047.txt', 'gnt-instance', ['list', '*.gnt.test']);
  sameAsGolden('049.txt', 'gnt-instance', ['list', 'alpha']);
  sameAsGolden('050.txt', 'gnt-instance', ['list', '-o', '+tags']);
  sameAsGolden('052.txt', 'gnt-instance', ['list', '-o', 'name,hv/migration_mode']);
  sameAsGolden('097.txt', 'gnt-instance', ['list', '-o', 'name,nosuchfield']);
  sameAsGolden('127.txt', 'gnt-instance', ['list', '-o', 'name,status,admin_state,oper_state']);
  sameAsGolden('106.txt', 'gnt-instance', ['list', 'status ==']);
});

test('gnt-instance list-fields, list-tags and info (golden 056, 058, 053, 055)', () => {
  sameAsGolden('056.txt', 'gnt-instance', ['list-fields']);
  sameAsGolden('058.txt', 'gnt-instance', ['list-tags', 'alpha.gnt.test']);
  // The file disk's path carries its uuid; serial numbers follow each cluster's history.
  const info = (s: string) => mask(s).replace(/Serial number: \d+/, 'Serial number: N');
  sameAsGolden('053.txt', 'gnt-instance', ['info', 'alpha.gnt.test'], info);
  sameAsGolden('055.txt', 'gnt-instance', ['info', 'gamma.gnt.test'], info);
  sameAsGolden('089.txt', 'gnt-instance', ['info', 'nosuch']);
  const all = ok('gnt-instance', ['info', '--all']);
  assert.deepEqual([...all.matchAll(/^- Instance name: (\S+)$/gm)].map((m) => m[1]), ['alpha.gnt.test', 'beta.gnt.test', 'gamma.gnt.test']);
  assert.match(all, /^ {2}State: configured to be down, actual state is down$/m);
  assert.match(ok('gnt-instance', ['info', '-s', 'gamma']), /^ {2}State: configured to be up\n/m);
  const none = gnt('gnt-instance', ['info']);
  assert.deepEqual([none.code, none.stderr], [1, 'No instance selected. Please pass in --all if you want to query all instances.\nNote that this can take a long time on a big cluster.\n']);
});

// Debian's ganeti-3.0 python tools, when installed, run against our master: same output.
const PYTHONPATH = '/usr/share/ganeti/3.0';
const realAvailable = fs.existsSync(`${PYTHONPATH}/ganeti/client/gnt_instance.py`) && fs.existsSync('/usr/bin/python3');

/** Run real Ganeti's gnt-* tool (python) on our node. */
function real(tool: string, args: string[]): RunResult {
  const module = tool.replace('-', '_');
  const r = spawnSync('/usr/bin/python3', ['-c', `import sys; sys.argv[0] = '${tool}'; from ganeti.client import ${module} as m; sys.exit(m.Main())`, ...args], {
    env: { ...node.env, PYTHONPATH },
    encoding: 'utf8',
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

test('real Ganeti 3.0 clients print what ours print', { skip: realAvailable ? false : 'Debian package ganeti-3.0 not installed' }, () => {
  const commands: Array<[string, ...string[]]> = [
    ['gnt-instance', 'list'],
    ['gnt-instance', 'list', '-o', 'name,status,oper_ram,nic.macs,nic.bridges,disk.sizes,disk.uuids,tags,snodes,beparams,hvparams,custom_nicparams,network_port,console'],
    ['gnt-instance', 'list', '-v', '--units=t', '-o', 'name,disk_usage,sda_size,sdb_size,oper_vcpus'],
    ['gnt-instance', 'list', '-F', 'status == "running" and "web" in tags'],
    ['gnt-instance', 'list', 'nosuch'],
    ['gnt-instance', 'list-fields'],
    ['gnt-instance', 'list-tags', 'alpha'],
    ['gnt-instance', 'console', 'gamma'],
    ['gnt-instance', 'startup', 'nosuch'],
    ['gnt-instance', 'info', 'alpha.gnt.test', 'gamma'],
    ['gnt-instance', 'info', '--all', '-s'],
    ['gnt-instance', 'info', 'nosuch'],
    ['gnt-os', 'list'],
    ['gnt-os', 'info', 'noop', 'nosuch'],
    ['gnt-os', 'diagnose'],
    ['gnt-backup', 'list'],
    ['gnt-backup', 'list-fields'],
  ];
  for (const [tool, ...args] of commands) {
    const theirs = real(tool, args);
    const ours = gnt(tool, args);
    assert.deepEqual([ours.code, ours.stdout, ours.stderr], [theirs.code, theirs.stdout, theirs.stderr], `${tool} ${args.join(' ')}`);
  }
});

test('refused adds and unknown instances: Ganeti\'s errors, nothing changed (golden 091, 092, 094, 095, 098, 100, 118)', () => {
  const before = ok('gnt-instance', ['list', '-o', 'name,uuid']);
  sameAsGolden('091.txt', 'gnt-instance', ['add', '-t', 'diskless', '-o', 'noop', '--no-name-check', '--no-ip-check', '-n', 'node1.gnt.test', 'alpha.gnt.test']);
  sameAsGolden('092.txt', 'gnt-instance', ['add', '-t', 'diskless', '-o', 'nosuchos', '--no-name-check', '--no-ip-check', '-n', 'node1.gnt.test', 'delta.gnt.test']);
  // The default group's uuid differs from the golden cluster's.
  sameAsGolden('094.txt', 'gnt-instance', ['add', '-t', 'file', '--disk', '0:size=16M', '-o', 'noop', '--no-name-check', '--no-ip-check', '-n', 'node1.gnt.test', 'delta.gnt.test'], mask);
  sameAsGolden('095.txt', 'gnt-instance', ['add']);
  sameAsGolden('098.txt', 'gnt-instance', ['startup', 'nosuch']);
  sameAsGolden('100.txt', 'gnt-instance', ['remove', '-f', 'nosuch.gnt.test']);
  sameAsGolden('118.txt', 'gnt-instance', ['add-tags', 'nosuch.gnt.test', 'foo']);
  const badSize = gnt('gnt-instance', [...ADD, '-t', 'file', '--disk', '0:size=10x', 'delta.gnt.test']);
  assert.deepEqual([badSize.code, badSize.stderr], [1, 'Failure: prerequisites not met for this operation:\nerror type: wrong_input, error details:\nInvalid disk size for disk 0: Unknown unit: x\n']);
  const noDisk = gnt('gnt-instance', [...ADD, '-t', 'file', 'delta.gnt.test']);
  assert.deepEqual([noDisk.code, noDisk.stderr], [1, 'Failure: prerequisites not met for this operation:\nerror type: wrong_input, error details:\nNo disk information specified\n']);
  assert.equal(ok('gnt-instance', ['list', '-o', 'name,uuid']), before);
});

test('gnt-os list and info (golden 074 without debootstrap, 077)', () => {
  assert.equal(ok('gnt-os', ['list']), 'Name\nnoop\n');
  assert.equal(ok('gnt-os', ['list', '--no-headers']), 'noop\n');
  sameAsGolden('077.txt', 'gnt-os', ['info', 'noop']);
  const diag = gnt('gnt-os', ['diagnose']);
  assert.equal(diag.code, 0, diag.stderr);
  assert.match(diag.stdout, /^OS: noop \[global status: valid\]\n {2}Node: node1\.gnt\.test, status: valid \(path: \S+\/noop\) \[API versions: 5, 10\] \[trusted\]\n\n$/);
});

test('startup and shutdown of several instances, status from the hypervisor', () => {
  const status = () => ok('gnt-instance', ['list', '--no-headers', '--separator=:', '-o', 'name,status']);
  assert.equal(status(), 'alpha.gnt.test:running\nbeta.gnt.test:ADMIN_down\ngamma.gnt.test:running\n');
  // Several instances need --force-multiple (no terminal to ask on).
  const refused = gnt('gnt-instance', ['shutdown', '--all']);
  assert.deepEqual([refused.code, refused.stdout], [1, '']);
  const stop = gnt('gnt-instance', ['shutdown', '--all', '--force-multiple']);
  assert.equal(stop.code, 0, stop.stderr);
  assert.match(stop.stdout, /^Submitted jobs \d+, \d+, \d+\nWaiting for job \d+ for alpha\.gnt\.test \.\.\.\nWaiting for job \d+ for beta\.gnt\.test \.\.\.\nWaiting for job \d+ for gamma\.gnt\.test \.\.\.\n$/);
  assert.equal(status(), 'alpha.gnt.test:ADMIN_down\nbeta.gnt.test:ADMIN_down\ngamma.gnt.test:ADMIN_down\n');
  const start = gnt('gnt-instance', ['startup', '--node', '--force-multiple', 'node1']);
  assert.equal(start.code, 0, start.stderr);
  assert.equal(status(), 'alpha.gnt.test:running\nbeta.gnt.test:running\ngamma.gnt.test:running\n');
  const submit = gnt('gnt-instance', ['stop', '--submit', 'beta']);
  assert.match(submit.stdout, /^\d+: beta\.gnt\.test\n$/);
  ok('gnt-job', ['wait', submit.stdout.split(':')[0]]);
  // An instance that dies behind the master's back is "should run, but does not".
  fs.rmSync(node.file('var/run/ganeti/fake-hypervisor/alpha.gnt.test'), { force: true });
  assert.equal(status(), 'alpha.gnt.test:ERROR_down\nbeta.gnt.test:ADMIN_down\ngamma.gnt.test:running\n');
  assert.equal(ok('gnt-instance', ['list', '--no-headers', '-o', 'name', '-F', 'status == "ERROR_down"']), 'alpha.gnt.test\n');
  ok('gnt-instance', ['start', 'alpha']);
  const reboot = gnt('gnt-instance', ['reboot', '--type', 'hard', 'alpha.gnt.test']);
  assert.equal(reboot.code, 0, reboot.stderr);
  assert.equal(ok('gnt-instance', ['list', '--no-headers', '-o', 'status', 'alpha']), 'running\n');
});

test('console, disks, reinstall, modify, rename and remove', () => {
  assert.equal(ok('gnt-instance', ['console', 'gamma']), 'Console not available for fake hypervisor\n');
  // As upstream, the node describes the console whether or not the instance runs.
  assert.equal(ok('gnt-instance', ['console', 'beta']), 'Console not available for fake hypervisor\n');
  const unknown = gnt('gnt-instance', ['console', 'nosuch']);
  assert.deepEqual([unknown.code, unknown.stderr], [1, "Failure: prerequisites not met for this operation:\nerror type: unknown_entity, error details:\nInstance 'nosuch' does not exist\n"]);
  assert.match(ok('gnt-instance', ['activate-disks', 'gamma']), /^node1\.gnt\.test:disk\/0:\S+\n$/);
  ok('gnt-instance', ['grow-disk', 'gamma', '0', '1g']);
  assert.equal(ok('gnt-instance', ['list', '--no-headers', '--units=m', '-o', 'disk.size/0', 'gamma']), '2048\n');
  // Reinstalling needs a stopped instance with disks; a single instance asks unless -f.
  ok('gnt-instance', ['stop', 'gamma']);
  assert.equal(gnt('gnt-instance', ['reinstall', 'gamma']).code, 1);
  const reinstall = gnt('gnt-instance', ['reinstall', '-f', 'gamma']);
  assert.equal(reinstall.code, 0, reinstall.stderr);
  assert.match(reinstall.stdout, /^Waiting for job \d+ for gamma\.gnt\.test \.\.\.\n/);
  ok('gnt-instance', ['start', 'gamma']);
  const mod = ok('gnt-instance', ['modify', '-B', 'vcpus=2', 'beta']);
  assert.match(mod, /^Modified instance beta\n - be\/vcpus -> 2\nPlease don't forget/);
  assert.equal(ok('gnt-instance', ['list', '--no-headers', '-o', 'be/vcpus', 'beta']), '2\n');
  // Without a name check a terminal would be asked to confirm the new name; -f skips that.
  assert.equal(gnt('gnt-instance', ['rename', '--no-name-check', '--no-ip-check', 'beta.gnt.test', 'delta.gnt.test']).code, 1);
  const renamed = ok('gnt-instance', ['rename', '-f', '--no-name-check', '--no-ip-check', 'beta.gnt.test', 'delta.gnt.test']);
  assert.match(renamed, /Instance 'beta\.gnt\.test' renamed to 'delta\.gnt\.test'\n$/);
  ok('gnt-instance', ['remove', '-f', 'delta.gnt.test']);
  assert.equal(ok('gnt-instance', ['list', '--no-headers', '-o', 'name']), 'alpha.gnt.test\ngamma.gnt.test\n');
});

test('gnt-backup export, list, import and remove', () => {
  // A file disk cannot be snapshotted: the instance stays down during the copy.
  const refused = gnt('gnt-backup', ['export', '-n', 'node1.gnt.test', 'gamma.gnt.test']);
  assert.equal(refused.code, 1);
  ok('gnt-backup', ['export', '--long-sleep', '-n', 'node1.gnt.test', 'gamma.gnt.test']);
  assert.equal(ok('gnt-backup', ['list']), 'Node           Export\nnode1.gnt.test gamma.gnt.test\n');
  // The export's NIC keeps gamma's MAC, which gamma still uses: the copy gets a new one.
  ok('gnt-backup', ['import', '-t', 'file', '--disk', '0:size=2G', '--net', '0:mac=generate', '-n', 'node1.gnt.test', '--src-node', 'node1.gnt.test',
    '--src-dir', 'gamma.gnt.test', '--no-name-check', '--no-ip-check', 'epsilon.gnt.test']);
  assert.equal(ok('gnt-instance', ['list', '--no-headers', '-o', 'name,os,disk_template', 'epsilon']), 'epsilon.gnt.test noop file\n');
  ok('gnt-backup', ['remove', 'gamma.gnt.test']);
  assert.equal(ok('gnt-backup', ['list', '--no-headers']), '');
});
