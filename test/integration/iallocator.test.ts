// Instance allocation through iallocators on a three-node virtual cluster (fake
// hypervisor, diskless and file instances, Debian's noop OS): `gnt-instance add -I hail`
// with our built-in hail and with Debian's real one (ganeti-htools-3.0) reading the input
// messages we write, the cluster default, an allocator script's temporary input file and
// parameters, relocate/node-evacuate answers of both hails for one captured input, multi-
// allocation through the official RAPI client, and the bad allocators: unknown, failing,
// garbage, wrong node count, refusing — each Ganeti's error, nothing created.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { BIN, noopOsMissing, TestCluster, waitFor, type RunResult, type VirtualNode } from './cluster.ts';
import { rapiClientMissing, runRapiPython, setRapiUsers } from './rapi-python.ts';

/** Debian's hail: where the ganeti package links it, or inside ganeti-htools-3.0. */
const REAL_HAIL = ['/usr/lib/ganeti/iallocators/hail', '/usr/local/lib/ganeti/iallocators/hail', '/usr/lib/ganeti/3.0/usr/lib/ganeti/iallocators/hail']
  .find((p) => fs.existsSync(p)) ?? null;
const noRealHail = REAL_HAIL === null ? "Debian's hail is not installed (package ganeti-htools-3.0)" : false;
/** A machine-wide hail would answer instead of the built-in one. */
const SYSTEM_HAIL = ['/usr/lib/ganeti/iallocators/hail', '/usr/local/lib/ganeti/iallocators/hail'].find((p) => fs.existsSync(p));
const builtinShadowed = SYSTEM_HAIL ? `${SYSTEM_HAIL} is installed: the built-in hail is not used on this machine` : false;

const skip = noopOsMissing;
let cluster: TestCluster;
let master: VirtualNode;
const NODES = ['node1', 'node2', 'node3'];
const ADD = ['add', '-o', 'noop', '--no-name-check', '--no-ip-check', '-B', 'maxmem=1024,minmem=1024'];

const gnt = (tool: string, args: string[]): RunResult => master.run(tool, args);
function ok(tool: string, args: string[]): string {
  const r = gnt(tool, args);
  assert.equal(r.code, 0, `${tool} ${args.join(' ')}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** The allocator directory below the master's root (searched before the machine's). */
const allocDir = () => master.file('usr/lib/ganeti/iallocators');
function installAllocator(name: string, script: string): void {
  fs.mkdirSync(allocDir(), { recursive: true });
  fs.writeFileSync(path.join(allocDir(), name), script, { mode: 0o755 });
}

function pnodeOf(instance: string): string {
  return ok('gnt-instance', ['list', '--no-headers', '-o', 'pnode', instance]).trim();
}

function instances(): string[] {
  return ok('gnt-instance', ['list', '--no-headers', '-o', 'name']).split('\n').filter((l) => l);
}

before(() => {
  if (skip) return;
  cluster = new TestCluster();
  master = cluster.init('node1', 'cluster.test', ['--enabled-disk-templates=diskless,file,sharedfile']);
  cluster.join(master, 'node2');
  cluster.join(master, 'node3');
});
after(() => cluster?.destroy());

test('gnt-instance add -I hail (built-in): the feedback line, and three instances on three nodes', { skip: skip || builtinShadowed }, () => {
  for (const name of ['a1', 'a2', 'a3']) {
    const out = ok('gnt-instance', [...ADD, '-t', 'diskless', '-I', 'hail', name]);
    assert.match(out, new RegExp(`Selected nodes for instance ${name} via iallocator hail: node[123]\\n`), out);
  }
  // Each running instance takes 1 GiB off its node: the most balanced free memory spreads them.
  assert.deepEqual(['a1', 'a2', 'a3'].map(pnodeOf).sort(), NODES);
});

test('the cluster default allocator: gnt-cluster modify -I hail, then add without -n or -I', { skip }, () => {
  ok('gnt-cluster', ['modify', '-I', 'hail']);
  assert.match(ok('gnt-cluster', ['info']), /default instance allocator: hail/);
  const out = ok('gnt-instance', [...ADD, '-t', 'file', '--disk', '0:size=1G', '--no-start', 'f1']);
  assert.match(out, /Selected nodes for instance f1 via iallocator hail: node[123]/);
  assert.ok(NODES.includes(pnodeOf('f1')));
});

test("Debian's hail reads our input messages: gnt-instance add -I hail", { skip: skip || noRealHail }, () => {
  installAllocator('hail', '');
  fs.rmSync(path.join(allocDir(), 'hail'));
  fs.symlinkSync(REAL_HAIL!, path.join(allocDir(), 'hail'));
  try {
    const out = ok('gnt-instance', [...ADD, '-t', 'diskless', '-I', 'hail', 'r1']);
    assert.match(out, /Selected nodes for instance r1 via iallocator hail: node[123]\n/);
    const out2 = ok('gnt-instance', [...ADD, '-t', 'file', '--disk', '0:size=1G', '-I', 'hail', 'r2']);
    assert.match(out2, /Selected nodes for instance r2 via iallocator hail: node[123]\n/);
  } finally {
    fs.rmSync(path.join(allocDir(), 'hail'));
  }
});

let captured: Record<string, any> | null = null;

test('an allocator script: its input file (0600, ganeti-iallocator.XXXXXX, removed after) and the default parameters', { skip }, () => {
  const spy = master.file('spy');
  installAllocator('spy', [
    '#!/bin/sh',
    `f="$1"; shift`,
    `stat -c %a "$f" > ${spy}.mode; echo "$f" > ${spy}.name; echo "$@" > ${spy}.args; cp "$f" ${spy}.json`,
    'echo \'{"success": true, "info": "ok", "result": ["node2"]}\'',
    '',
  ].join('\n'));
  ok('gnt-cluster', ['modify', '--default-iallocator-params=alpha=1,beta=two']);
  try {
    const out = ok('gnt-instance', [...ADD, '-t', 'diskless', '--no-start', '-I', 'spy', 's1']);
    assert.match(out, /Selected nodes for instance s1 via iallocator spy: node2\n/);
  } finally {
    ok('gnt-cluster', ['modify', '--default-iallocator-params=']);
  }
  assert.equal(pnodeOf('s1'), 'node2');
  assert.equal(fs.readFileSync(`${spy}.mode`, 'utf8').trim(), '600');
  const tmp = fs.readFileSync(`${spy}.name`, 'utf8').trim();
  assert.match(path.basename(tmp), /^ganeti-iallocator\.[A-Za-z0-9_-]{6}$/);
  assert.ok(!fs.existsSync(tmp), 'the input file is removed');
  assert.equal(fs.readFileSync(`${spy}.args`, 'utf8').trim(), '--alpha=1 --beta=two');
  captured = JSON.parse(fs.readFileSync(`${spy}.json`, 'utf8'));
  const m = captured!;
  assert.deepEqual(Object.keys(m).sort(), ['cluster_name', 'cluster_tags', 'enabled_hypervisors', 'instances', 'ipolicy', 'nodegroups', 'nodes', 'request', 'version']);
  assert.equal(m.version, 2);
  assert.equal(m.cluster_name, 'cluster.test');
  assert.deepEqual(Object.keys(m.nodes).sort(), NODES);
  assert.deepEqual(Object.keys(m.nodes.node2).sort(), ['drained', 'free_disk', 'free_memory', 'free_spindles', 'group', 'i_pri_memory', 'i_pri_up_memory',
    'master_candidate', 'master_capable', 'ndparams', 'offline', 'primary_ip', 'reserved_cpus', 'reserved_memory', 'secondary_ip', 'tags',
    'total_cpus', 'total_disk', 'total_memory', 'total_spindles', 'vm_capable']);
  const group = Object.values(m.nodegroups)[0] as Record<string, unknown>;
  assert.deepEqual(Object.keys(group).sort(), ['alloc_policy', 'ipolicy', 'name', 'networks', 'tags']);
  assert.equal(m.request.type, 'allocate');
  assert.equal(m.request.name, 's1');
  assert.equal(m.request.required_nodes, 1);
  assert.equal(m.request.memory, 1024);
  assert.equal(m.request.disk_template, 'diskless');
  if (m.instances.a1) {
    assert.deepEqual(Object.keys(m.instances.a1).sort(), ['admin_state', 'disk_space_total', 'disk_template', 'disks', 'disks_active', 'hypervisor',
      'memory', 'nics', 'nodes', 'os', 'spindle_use', 'tags', 'vcpus']);
  }
});

test('offline nodes: no live data in the input', { skip }, () => {
  ok('gnt-node', ['modify', '-O', 'yes', 'node3']);
  try {
    ok('gnt-instance', [...ADD, '-t', 'diskless', '--no-start', '-I', 'spy', 's2']);
    const m = JSON.parse(fs.readFileSync(master.file('spy.json'), 'utf8'));
    assert.equal(m.nodes.node3.offline, true);
    assert.equal(m.nodes.node3.free_memory, undefined);
    assert.equal(typeof m.nodes.node2.free_memory, 'number');
  } finally {
    ok('gnt-node', ['modify', '-O', 'no', 'node3']);
  }
});

/** A request fed to a hail: our built-in through our binary's hail role, or Debian's. */
function hail(bin: string, request: Record<string, unknown>, hailArgs: string[] = []): any {
  const input = { ...captured!, request };
  const r = spawnSync(bin, [...hailArgs, '-'], { input: JSON.stringify(input), encoding: 'utf8', argv0: 'hail' });
  assert.equal(r.status, 0, `${bin}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

test('relocate and node-evacuate on one captured input: both hails answer alike', { skip: skip || noRealHail }, () => {
  assert.ok(captured, 'the input was captured');
  const ours = path.join(cluster.bin, 'hail');
  const insts = Object.keys(captured!.instances).filter((i) => captured!.instances[i].disk_template === 'diskless');
  assert.ok(insts.length > 0);
  const victim = insts[0];
  const from = captured!.instances[victim].nodes[0];
  for (const bin of [ours, REAL_HAIL!]) {
    const reloc = hail(bin, { type: 'relocate', name: victim, disk_space_total: 0, required_nodes: 1, relocate_from: [from] });
    assert.equal(reloc.success, true, `${bin}: ${reloc.info}`);
    assert.equal(reloc.info, 'Request successful: success');
    assert.equal(reloc.result.length, 1);
    assert.notEqual(reloc.result[0], from);

    const evac = hail(bin, { type: 'node-evacuate', instances: [victim, 'f1'].filter((i) => captured!.instances[i]), evac_mode: 'primary-only' });
    assert.equal(evac.success, true, `${bin}: ${evac.info}`);
    const [moved, failed, jobs] = evac.result;
    assert.deepEqual(moved.map((m: unknown[]) => m[0]), [victim]);
    assert.notEqual(moved[0][2][0], from);
    assert.equal(jobs.length, 1);
    assert.deepEqual(jobs[0][0], {
      OP_ID: 'OP_INSTANCE_MIGRATE', instance_name: victim, target_node: moved[0][2][0], allow_runtime_changes: false,
      ignore_ipolicy: false, cleanup: false, allow_failover: true, ignore_hvversions: true,
    });
    if (captured!.instances.f1) {
      assert.deepEqual(failed, [['f1', 'Instances of type file cannot be relocated']]);
      assert.equal(evac.info, 'Request successful: 1 instances failed to move and 1 were moved successfully');
    }
  }
});

test('our hail role: bad command lines and inputs as htools hail', { skip }, () => {
  const ours = path.join(cluster.bin, 'hail');
  const run = (args: string[], input = '') => spawnSync(ours, args, { input, encoding: 'utf8' });
  let r = run([]);
  assert.deepEqual([r.status, r.stderr], [1, 'Error: This program needs an input file.\n']);
  r = run(['--bogus', 'x']);
  assert.deepEqual([r.status, r.stderr], [2, "Command line error: unrecognized option `--bogus'\n"]);
  r = run(['-'], 'garbage');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^Error: Parsing input IAllocator message: Invalid JSON/);
});

/** An OS whose create script waits until `<gates>/open-<instance>` exists, on every node. */
function installGateOs(gates: string): void {
  const scripts: Record<string, string> = {
    ganeti_api_version: '20\n',
    'parameters.list': '',
    create: `#!/bin/sh\ntouch ${gates}/started-$INSTANCE_NAME\nwhile [ ! -e ${gates}/open-$INSTANCE_NAME ]; do sleep 0.1; done\n`,
    export: '#!/bin/sh\nexit 0\n', import: '#!/bin/sh\nexit 0\n', rename: '#!/bin/sh\nexit 0\n', verify: '#!/bin/sh\nexit 0\n',
  };
  for (const node of cluster.nodes) {
    const dir = node.file('srv/ganeti/os/gate');
    fs.mkdirSync(dir, { recursive: true });
    for (const [name, text] of Object.entries(scripts)) fs.writeFileSync(path.join(dir, name), text, { mode: text.startsWith('#!') ? 0o755 : 0o644 });
  }
}

test('with -I, the node locks the allocator did not choose are released: an add on another node runs while the first installs', { skip }, async () => {
  const gates = master.file('gates');
  fs.mkdirSync(gates, { recursive: true });
  installGateOs(gates);
  installAllocator('pick2', '#!/bin/sh\necho \'{"success": true, "info": "", "result": ["node2"]}\'\n');
  const submit = (args: string[]) => {
    const r = gnt('gnt-instance', [args[0], '--submit', ...args.slice(1)]);
    assert.equal(r.code, 0, r.stderr);
    return /JobID: (\d+)/.exec(r.stdout + r.stderr)![1];
  };
  const status = (id: string) => ok('gnt-job', ['list', '--no-headers', '-o', 'status', id]).trim();
  // A diskless instance gets no OS install (upstream): g1 has a disk.
  const first = submit(['add', '-o', 'gate', '--no-name-check', '--no-ip-check', '-t', 'file', '--disk', '0:size=1G', '--no-start', '-I', 'pick2', 'g1']);
  try {
    await waitFor(() => fs.existsSync(path.join(gates, 'started-g1')), 60_000);
    // g1 now runs its OS install on node2 and holds that node's locks, and only those
    // (an add with -I locks every node until the allocator has answered).
    const second = submit([...ADD, '-t', 'diskless', '--no-start', '-n', 'node3', 'g2']);
    await waitFor(() => status(second) === 'success', 60_000);
    assert.equal(status(first), 'running');
    assert.equal(pnodeOf('g2'), 'node3');
  } finally {
    fs.writeFileSync(path.join(gates, 'open-g1'), '');
  }
  await waitFor(() => status(first) === 'success', 60_000);
  assert.equal(pnodeOf('g1'), 'node2');
});

test('bad allocators: unknown, failing, garbage, wrong node count, refusing; nothing created', { skip }, () => {
  installAllocator('fails', '#!/bin/sh\necho "out of luck" >&2\nexit 3\n');
  installAllocator('garbage', '#!/bin/sh\necho "this is not json"\n');
  installAllocator('twonodes', '#!/bin/sh\necho \'{"success": true, "info": "", "result": ["node1", "node2"]}\'\n');
  installAllocator('nokey', '#!/bin/sh\necho \'{"success": true, "result": ["node1"]}\'\n');
  installAllocator('refuses', '#!/bin/sh\necho \'{"success": false, "info": "no room at the inn", "result": []}\'\n');
  const before = instances();
  const cases: Array<[string, RegExp]> = [
    ['nosuch', /Failure: command execution error:\nFailure while running the iallocator script: iallocator module 'nosuch' not found in the search path\n/],
    ['fails', /Failure while running the iallocator script: iallocator module 'fails' failed: exited with exit code 3, output 'out of luck\n'/],
    ['garbage', /Can't parse iallocator results: /],
    ['twonodes', /iallocator returned invalid number of nodes \(2\), required 1/],
    ['nokey', /Can't parse iallocator results: missing key 'info'/],
    ['refuses', /Failure: prerequisites not met for this operation:\nerror type: insufficient_resources, error details:\nCan't compute nodes using iallocator 'refuses': no room at the inn\n/],
  ];
  for (const [alloc, expected] of cases) {
    const r = gnt('gnt-instance', [...ADD, '-t', 'diskless', '-I', alloc, `bad-${alloc}`]);
    assert.equal(r.code, 1, `${alloc}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, expected, alloc);
  }
  assert.deepEqual(instances(), before);
  const both = gnt('gnt-instance', [...ADD, '-t', 'diskless', '-I', 'hail', '-n', 'node1', 'bad-both']);
  assert.equal(both.code, 1);
  assert.match(both.stderr, /Do not specify both, iallocator and node/);
  const setBad = gnt('gnt-cluster', ['modify', '-I', 'nosuch']);
  assert.equal(setBad.code, 1);
  assert.match(setBad.stderr, /Invalid default iallocator script 'nosuch' specified/);
});

test('multi-allocation through the official RAPI client (InstancesMultiAlloc)', { skip: skip || rapiClientMissing }, () => {
  setRapiUsers(master, 'bench benchpass write\n');
  const [status, keys, allocatable, failed, submitted, done, all] = runRapiPython(master, [
    "mk = lambda n: {'mode': 'create', 'name': n, 'disk_template': 'diskless', 'disks': [], 'nics': [{}], 'os': 'noop', 'name_check': False, 'ip_check': False, 'start': False}",
    "jid = c.InstancesMultiAlloc([mk('m1'), mk('m2')], iallocator='hail')",
    'wait(jid)',
    'job = c.GetJobStatus(jid)',
    "res = job['opresult'][0]",
    "done = [wait(j[1]) for j in res['jobs']]",
    "out = [job['status'], sorted(res.keys()), res['allocatable'], res['failed'], [j[0] for j in res['jobs']], done, sorted(c.GetInstances())]",
  ].join('\n'), { retryRefused: true });
  assert.equal(status, 'success');
  assert.deepEqual(keys, ['allocatable', 'failed', 'jobs']);
  assert.deepEqual(allocatable, ['m1', 'm2']);
  assert.deepEqual(failed, []);
  assert.deepEqual(submitted, [true, true]);
  assert.deepEqual(done, [true, true]);
  assert.ok(all.includes('m1') && all.includes('m2'));
});

test('ganeti install links our binary as the hail iallocator when none is installed', { skip: builtinShadowed }, () => {
  const root = fs.mkdtempSync(path.join(path.dirname(cluster?.base ?? '/tmp/x'), 'gnt-install-ial-'));
  try {
    const r = spawnSync(BIN, ['install', '--root', root], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /linked the hail iallocator: .*\/usr\/lib\/ganeti\/iallocators\/hail\n/);
    assert.equal(fs.readlinkSync(path.join(root, 'usr/lib/ganeti/iallocators/hail')), '/usr/local/sbin/ganeti');
    const u = spawnSync(BIN, ['uninstall', '--root', root], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
    assert.equal(u.status, 0, u.stderr);
    assert.ok(!fs.existsSync(path.join(root, 'usr/lib/ganeti/iallocators/hail')));
    // An installed hail (htools') is kept.
    fs.mkdirSync(path.join(root, 'usr/local/lib/ganeti/iallocators'), { recursive: true });
    fs.writeFileSync(path.join(root, 'usr/local/lib/ganeti/iallocators/hail'), '#!/bin/sh\n', { mode: 0o755 });
    const again = spawnSync(BIN, ['install', '--root', root], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /kept the installed iallocator/);
    assert.ok(!fs.existsSync(path.join(root, 'usr/lib/ganeti/iallocators/hail')));
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
