// The instance logical units end to end on a three-node loopback cluster, driven by
// opcodes over LUXI as any client submits them: diskless and file instances with
// Debian's noop OS, start/stop/reboot, grow-disk, rename, modify, remove, and the bad
// inputs (duplicate name, unknown OS or node, bad disk sizes, offline or drained
// primary, not enough memory) failing with Ganeti's error class and leaving nothing behind.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { jobEnd, noopOsMissing, TestCluster, type VirtualNode } from './cluster.ts';
import { LuxiClient } from '../../src/luxi/client.ts';

const skip = noopOsMissing;

let cluster: TestCluster;
let master: VirtualNode;
let node2: VirtualNode;
let node3: VirtualNode;
let luxi: LuxiClient;

before(async () => {
  if (skip) return;
  cluster = new TestCluster();
  master = cluster.init('node1');
  node2 = cluster.join(master, 'node2');
  node3 = cluster.join(master, 'node3');
  luxi = await LuxiClient.connect(master.file('var/run/ganeti/socket/ganeti-query'));
});
after(() => {
  luxi?.close();
  cluster?.destroy();
});

interface JobOutcome {
  status: string;
  result: unknown;
  log: string[];
}

/** Submit one opcode and wait for its job: final status, the opcode's result and its log lines. */
async function run(op: Record<string, unknown>): Promise<JobOutcome> {
  const id = (await luxi.call('SubmitJob', [[op]])) as number;
  const status = await jobEnd(luxi, id);
  const [[results, logs]] = (await luxi.call('QueryJobs', [[id], ['opresult', 'oplog']])) as [[unknown[], unknown[][][]]];
  return { status, result: results[0], log: (logs[0] ?? []).map((entry) => String(entry[3])) };
}

/** Run and require success. */
async function ok(op: Record<string, unknown>): Promise<JobOutcome> {
  const r = await run(op);
  assert.equal(r.status, 'success', `${String(op.OP_ID)} failed: ${JSON.stringify(r.result)}`);
  return r;
}

/** Run and require failure with the error class and a message matching `msg`. */
async function fails(op: Record<string, unknown>, errorClass: string, msg: RegExp): Promise<unknown[]> {
  const r = await run(op);
  assert.equal(r.status, 'error', `${String(op.OP_ID)} should have failed`);
  const [cls, args] = r.result as [string, unknown[]];
  assert.equal(cls, errorClass, JSON.stringify(r.result));
  assert.match(String(args[0]), msg);
  return args;
}

/** The instances the master knows, from a query (independent of config.data's write delay). */
async function instanceRows(fields: string[]): Promise<unknown[][]> {
  const res = (await luxi.call('Query', ['instance', fields, null])) as { data: Array<Array<[number, unknown]>> };
  return res.data.map((row) => row.map(([, v]) => v));
}

function createOp(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    OP_ID: 'OP_INSTANCE_CREATE', instance_name: name, mode: 'create', disk_template: 'diskless', disks: [], nics: [{}],
    os_type: 'noop', pnode: 'node1', name_check: false, ip_check: false, ...extra,
  };
}

/** The fake hypervisor's state of an instance on a node (a JSON file per running instance). */
function fakeState(node: VirtualNode, name: string): boolean {
  return fs.existsSync(node.file(`var/run/ganeti/fake-hypervisor/${name}`)) ||
    fs.existsSync(node.file(`var/run/ganeti/fake-hypervisor/${name}.json`));
}

function fileStorage(node: VirtualNode, ...parts: string[]): string {
  return node.file(path.join('srv/ganeti/file-storage', ...parts));
}

test('a diskless instance: create (started), stop, start, reboot, remove', { skip }, async () => {
  const created = await ok(createOp('alpha'));
  assert.deepEqual(created.result, ['node1']);
  assert.ok(created.log.includes('* creating instance disks...'), created.log.join('\n'));
  assert.ok(created.log.includes('adding instance alpha to cluster config'));
  assert.ok(created.log.includes('* starting instance...'));
  assert.ok(fakeState(master, 'alpha'), 'running on the fake hypervisor');
  const [[, adminBefore, oper]] = await instanceRows(['name', 'admin_state', 'oper_state']);
  assert.equal(adminBefore, 'up');
  assert.equal(oper, true);

  await ok({ OP_ID: 'OP_INSTANCE_SHUTDOWN', instance_name: 'alpha' });
  assert.ok(!fakeState(master, 'alpha'));
  await fails({ OP_ID: 'OP_INSTANCE_CONSOLE', instance_name: 'alpha' }, 'OpExecError', /^Instance alpha is not running \(state ADMIN_down\)$/);
  const [[, adminAfter]] = await instanceRows(['name', 'admin_state']);
  assert.equal(adminAfter, 'down');

  await ok({ OP_ID: 'OP_INSTANCE_STARTUP', instance_name: 'alpha' });
  assert.ok(fakeState(master, 'alpha'));
  await ok({ OP_ID: 'OP_INSTANCE_REBOOT', instance_name: 'alpha', reboot_type: 'hard' });
  await ok({ OP_ID: 'OP_INSTANCE_REBOOT', instance_name: 'alpha', reboot_type: 'full' });
  assert.ok(fakeState(master, 'alpha'));

  // Reinstalling needs the instance down (and disks).
  await fails({ OP_ID: 'OP_INSTANCE_REINSTALL', instance_name: 'alpha' }, 'OpPrereqError', /^Instance 'alpha' has no disks$/);

  await ok({ OP_ID: 'OP_INSTANCE_REMOVE', instance_name: 'alpha' });
  assert.ok(!fakeState(master, 'alpha'));
  assert.deepEqual(await instanceRows(['name']), []);
});

test('a file instance on another node: disks, grow, activate/deactivate, rename, modify, remove', { skip }, async () => {
  const r = await ok(createOp('beta', {
    disk_template: 'file', disks: [{ size: 1024 }], pnode: 'node2', start: false,
  }));
  // The job log of a real 3.0.2 file-instance creation (shared/samples/job-sample-OP_INSTANCE_CREATE.json).
  assert.deepEqual(r.log, [
    '* disk 0, size 1.0G',
    '* creating instance disks...',
    'adding instance beta to cluster config',
    'adding disks to cluster config',
    ' - INFO: Waiting for instance beta to sync disks',
    " - INFO: Instance beta's disks are in sync",
    ' - INFO: Waiting for instance beta to sync disks',
    " - INFO: Instance beta's disks are in sync",
    '* running the instance OS create scripts...',
  ]);
  const dir = fileStorage(node2, 'beta');
  const files = fs.readdirSync(dir);
  assert.equal(files.length, 1);
  assert.match(files[0], /^[0-9a-f-]{36}\.file\.disk0$/);
  assert.equal(fs.statSync(path.join(dir, files[0])).size, 1024 * 1048576);
  assert.ok(!fakeState(node2, 'beta'), 'created without starting');

  await ok({ OP_ID: 'OP_INSTANCE_GROW_DISK', instance_name: 'beta', disk: 0, amount: 512 });
  assert.equal(fs.statSync(path.join(dir, files[0])).size, 1536 * 1048576);
  await ok({ OP_ID: 'OP_INSTANCE_GROW_DISK', instance_name: 'beta', disk: 0, amount: 2048, absolute: true });
  assert.equal(fs.statSync(path.join(dir, files[0])).size, 2048 * 1048576);
  await fails({ OP_ID: 'OP_INSTANCE_GROW_DISK', instance_name: 'beta', disk: 0, amount: 1024, absolute: true },
    'OpPrereqError', /^Requested size \(1\.0G\) is smaller than current disk size \(2\.0G\)$/);
  await fails({ OP_ID: 'OP_INSTANCE_GROW_DISK', instance_name: 'beta', disk: 3, amount: 1 }, 'OpPrereqError', /^Invalid disk index: 3/);

  const act = await ok({ OP_ID: 'OP_INSTANCE_ACTIVATE_DISKS', instance_name: 'beta' });
  const [[nodeName, ivName, devPath]] = act.result as [[string, string, string]];
  assert.equal(nodeName, 'node2');
  assert.equal(ivName, 'disk/0');
  assert.match(devPath, /beta\/.*\.file\.disk0$/);
  await ok({ OP_ID: 'OP_INSTANCE_DEACTIVATE_DISKS', instance_name: 'beta' });

  const renamed = await ok({ OP_ID: 'OP_INSTANCE_RENAME', instance_name: 'beta', new_name: 'gamma' });
  assert.equal(renamed.result, 'gamma');
  assert.ok(!fs.existsSync(dir));
  assert.deepEqual(fs.readdirSync(fileStorage(node2, 'gamma')), files);

  const mod = await ok({
    OP_ID: 'OP_INSTANCE_SET_PARAMS', instance_name: 'gamma', beparams: { maxmem: 256, minmem: 256 },
    disks: [['add', -1, { size: 1024 }]], nics: [['add', -1, {}]],
  });
  const changes = new Map(mod.result as Array<[string, unknown]>);
  assert.equal(changes.get('be/maxmem'), 256);
  assert.equal(changes.get('disk/1'), 'add:size=1024,mode=rw');
  assert.match(String(changes.get('nic.1')), /^add:mac=aa:00:00:[0-9a-f:]{8},ip=None,mode=bridged,link=\w+,network=None$/);
  assert.equal(fs.readdirSync(fileStorage(node2, 'gamma')).length, 2);
  const [[, maxmem, diskCount, nicCount]] = await instanceRows(['name', 'be/maxmem', 'disk.count', 'nic.count']);
  assert.deepEqual([maxmem, diskCount, nicCount], [256, 2, 2]);
  await ok({ OP_ID: 'OP_INSTANCE_SET_PARAMS', instance_name: 'gamma', disks: [['remove', 1, {}]] });
  assert.equal(fs.readdirSync(fileStorage(node2, 'gamma')).length, 1);

  await ok({ OP_ID: 'OP_INSTANCE_SET_PARAMS', instance_name: 'gamma', offline: true });
  await fails({ OP_ID: 'OP_INSTANCE_STARTUP', instance_name: 'gamma' }, 'OpPrereqError',
    /^Instance 'gamma' is marked to be offline, can't use instance from outside down, up states$/);
  await ok({ OP_ID: 'OP_INSTANCE_SET_PARAMS', instance_name: 'gamma', offline: false });

  await ok({ OP_ID: 'OP_INSTANCE_STARTUP', instance_name: 'gamma' });
  assert.ok(fakeState(node2, 'gamma'));
  await fails({ OP_ID: 'OP_INSTANCE_RENAME', instance_name: 'gamma', new_name: 'delta' }, 'OpPrereqError', /^Instance 'gamma' is marked to be up, cannot rename$/);
  const console = await ok({ OP_ID: 'OP_INSTANCE_CONSOLE', instance_name: 'gamma' });
  assert.equal((console.result as { kind: string }).kind, 'msg');

  await ok({ OP_ID: 'OP_INSTANCE_REMOVE', instance_name: 'gamma' });
  assert.ok(!fs.existsSync(fileStorage(node2, 'gamma')));
  assert.ok(!fakeState(node2, 'gamma'));
  assert.deepEqual(await instanceRows(['name']), []);
});

test('bad input fails with Ganeti\'s errors and leaves nothing behind', { skip }, async () => {
  await ok(createOp('taken', { start: false }));
  await fails(createOp('taken'), 'OpPrereqError', /^Instance 'taken' is already in the cluster$/);
  await fails(createOp('newone', { os_type: 'nosuchos' }), 'OpExecError',
    /^OS Parameters validation failed on node node1: .*nosuchos/);
  await fails(createOp('newone', { pnode: 'nosuchnode' }), 'OpPrereqError', /^Node 'nosuchnode' not known$/);
  await fails(createOp('newone', { disk_template: 'file', disks: [{ size: '10x' }] }), 'TypeEnforcementError',
    /'size' \(value 10x\) is not a valid size/);
  await fails(createOp('newone', { disk_template: 'file', disks: [{ size: 0 }] }), 'OpPrereqError',
    /violates policy: disk-size\/0 value 0 is not in range \[1024, 1048576\]/);
  await fails(createOp('newone', { disk_template: 'file', disks: [{ size: 0 }], ignore_ipolicy: true }), 'OpPrereqError',
    /^Invalid disk size '0'$/);
  await fails(createOp('newone', { disk_template: 'file', disks: [{ size: 16 }] }), 'OpPrereqError',
    /^Instance allocation to group [0-9a-f-]+ \(default\) violates policy: disk-size\/0 value 16 is not in range \[1024, 1048576\]$/);
  await fails(createOp('newone', { disk_template: 'plain', disks: [{ size: 1024 }] }), 'OpPrereqError',
    /^Disk template 'plain' is not enabled in cluster/);
  await fails(createOp('newone', { beparams: { maxmem: 1048576 * 64, minmem: 128 }, ignore_ipolicy: true }), 'OpPrereqError',
    /^Not enough memory on node node1 for creating instance newone: needed 67108864 MiB, available \d+ MiB$/);
  await fails({ OP_ID: 'OP_INSTANCE_REMOVE', instance_name: 'nosuch' }, 'OpPrereqError', /^Instance 'nosuch' not known$/);
  await fails({ OP_ID: 'OP_INSTANCE_STARTUP', instance_name: 'nosuch' }, 'OpPrereqError', /^Instance 'nosuch' not known$/);

  // Drained and offline primaries are refused.
  await ok({ OP_ID: 'OP_NODE_SET_PARAMS', node_name: 'node3', drained: true });
  await fails(createOp('newone', { pnode: 'node3' }), 'OpPrereqError', /^Cannot use drained primary node 'node3'$/);
  await ok({ OP_ID: 'OP_NODE_SET_PARAMS', node_name: 'node3', drained: false });
  await ok({ OP_ID: 'OP_NODE_SET_PARAMS', node_name: 'node3', offline: true });
  await fails(createOp('newone', { pnode: 'node3' }), 'OpPrereqError', /^Cannot use offline primary node 'node3'$/);
  await ok({ OP_ID: 'OP_NODE_SET_PARAMS', node_name: 'node3', offline: false });

  const names = (await instanceRows(['name'])).map(([n]) => n);
  assert.deepEqual(names, ['taken']);
  for (const n of [master, node2, node3]) assert.ok(!fs.existsSync(fileStorage(n, 'newone')), `nothing left on ${n.name}`);
  await ok({ OP_ID: 'OP_INSTANCE_REMOVE', instance_name: 'taken' });
});

test('an instance that died behind the master\'s back is ERROR_down; startup cleans up a user shutdown', { skip }, async () => {
  await ok(createOp('epsilon', { pnode: 'node3' }));
  const [[status]] = await instanceRows(['status']);
  assert.equal(status, 'running');
  for (const f of fs.readdirSync(node3.file('var/run/ganeti/fake-hypervisor'))) {
    if (f.startsWith('epsilon')) fs.rmSync(node3.file(`var/run/ganeti/fake-hypervisor/${f}`));
  }
  const [[after]] = await instanceRows(['status']);
  assert.equal(after, 'ERROR_down');
  await ok({ OP_ID: 'OP_INSTANCE_STARTUP', instance_name: 'epsilon' });
  assert.ok(fakeState(node3, 'epsilon'));
  // Starting a running instance is no error (upstream's backend checks first).
  await ok({ OP_ID: 'OP_INSTANCE_STARTUP', instance_name: 'epsilon' });

  // Only a guest that shut itself down can be recorded as shut down by the user.
  await fails({ OP_ID: 'OP_INSTANCE_SHUTDOWN', instance_name: 'epsilon', admin_state_source: 'user' }, 'OpPrereqError',
    /^Instance 'epsilon' was not shutdown by the user$/);
  // The guest shuts itself down: startup cleans it up (a real shutdown) and starts it again.
  const file = node3.file('var/run/ganeti/fake-hypervisor/epsilon');
  fs.writeFileSync(file, JSON.stringify({ ...JSON.parse(fs.readFileSync(file, 'utf8')), state: 'shutdown' }));
  await ok({ OP_ID: 'OP_INSTANCE_STARTUP', instance_name: 'epsilon' });
  assert.equal(JSON.parse(fs.readFileSync(file, 'utf8')).state, 'running');
  const [[again]] = await instanceRows(['status']);
  assert.equal(again, 'running');
  await ok({ OP_ID: 'OP_INSTANCE_REMOVE', instance_name: 'epsilon' });
});

test('prealloc_wipe_disks: new disks are wiped with progress lines; hooks get the instance environment', { skip }, async () => {
  const hookDir = master.file('etc/ganeti/hooks/instance-add-pre.d');
  fs.mkdirSync(hookDir, { recursive: true });
  const envFile = master.file('instance-add.env');
  fs.writeFileSync(path.join(hookDir, '01-env'), `#!/bin/sh\nenv > ${envFile}\n`, { mode: 0o755 });
  await ok({ OP_ID: 'OP_CLUSTER_SET_PARAMS', prealloc_wipe_disks: true });
  try {
    const r = await ok(createOp('zeta', { disk_template: 'file', disks: [{ size: 16 }], ignore_ipolicy: true, start: false }));
    assert.ok(r.log.includes('* wiping instance disks...'), r.log.join('\n'));
    assert.ok(r.log.includes(' - INFO: * Wiping disk 0'), r.log.join('\n'));
    assert.ok(r.log.some((l) => /^ - INFO:  - done: \d+\.\d% ETA: \d+s$/.test(l)), r.log.join('\n'));
    const env = Object.fromEntries(fs.readFileSync(envFile, 'utf8').trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    assert.equal(env.GANETI_HOOKS_PATH, 'instance-add');
    assert.equal(env.GANETI_OBJECT_TYPE, 'INSTANCE');
    assert.equal(env.GANETI_OP_CODE, 'OP_INSTANCE_CREATE');
    assert.equal(env.GANETI_INSTANCE_NAME, 'zeta');
    assert.equal(env.GANETI_INSTANCE_PRIMARY, 'node1');
    assert.equal(env.GANETI_INSTANCE_STATUS, 'False');
    assert.equal(env.GANETI_INSTANCE_DISK_TEMPLATE, 'file');
    assert.equal(env.GANETI_INSTANCE_DISK_COUNT, '1');
    assert.equal(env.GANETI_INSTANCE_DISK0_SIZE, '16');
    assert.equal(env.GANETI_INSTANCE_NIC_COUNT, '1');
    assert.match(env.GANETI_INSTANCE_NIC0_MAC, /^aa:00:00:/);
    assert.equal(env.GANETI_INSTANCE_BE_maxmem, '128');
    assert.equal(env.GANETI_ADD_MODE, 'create');
  } finally {
    fs.rmSync(hookDir, { recursive: true, force: true });
    await ok({ OP_ID: 'OP_CLUSTER_SET_PARAMS', prealloc_wipe_disks: false });
  }
  await ok({ OP_ID: 'OP_INSTANCE_REMOVE', instance_name: 'zeta' });
});

test('import: an export on another node becomes a new instance (mode import)', { skip }, async () => {
  // A small disk (below the default policy's minimum): its image travels through the master.
  await ok(createOp('eta', { disk_template: 'file', disks: [{ size: 16 }], pnode: 'node2', start: false, tags: ['keep'], ignore_ipolicy: true }));
  const exp = await ok({ OP_ID: 'OP_BACKUP_EXPORT', instance_name: 'eta', target_node: 'node3', shutdown: true });
  assert.deepEqual(exp.result, [true, [true]]);
  await ok({ OP_ID: 'OP_INSTANCE_REMOVE', instance_name: 'eta' });
  const imp = await ok({
    OP_ID: 'OP_INSTANCE_CREATE', instance_name: 'eta', mode: 'import', disk_template: 'file', disks: [], nics: [],
    pnode: 'node1', src_node: 'node3', src_path: 'eta', start: false, name_check: false, ip_check: false, ignore_ipolicy: true,
  });
  assert.deepEqual(imp.result, ['node1']);
  assert.ok(imp.log.includes('* running the instance OS import scripts...'), imp.log.join('\n'));
  const [[name, os, sizes, tags]] = await instanceRows(['name', 'os', 'disk.sizes', 'tags']);
  assert.deepEqual([name, os, sizes, tags], ['eta', 'noop', [16], ['keep']]);
  assert.equal(fs.readdirSync(fileStorage(master, 'eta')).length, 1);
  await ok({ OP_ID: 'OP_INSTANCE_REMOVE', instance_name: 'eta' });
  await fails({
    OP_ID: 'OP_INSTANCE_CREATE', instance_name: 'theta', mode: 'import', disk_template: 'file', disks: [], nics: [],
    pnode: 'node1', src_node: 'node3', src_path: 'nosuchexport', name_check: false, ip_check: false,
  }, 'OpExecError', /^No export or invalid export found in dir \/srv\/ganeti\/export\/nosuchexport/);
  assert.deepEqual(await instanceRows(['name']), []);
});

test('an offline primary: refused, or only the admin state changes with ignore_offline_nodes', { skip }, async () => {
  await ok(createOp('iota', { pnode: 'node3' }));
  await ok({ OP_ID: 'OP_NODE_SET_PARAMS', node_name: 'node3', offline: true });
  try {
    await fails({ OP_ID: 'OP_INSTANCE_SHUTDOWN', instance_name: 'iota' }, 'OpPrereqError', /^Can't use offline node: node3$/);
    await fails({ OP_ID: 'OP_INSTANCE_REBOOT', instance_name: 'iota', reboot_type: 'soft' }, 'OpPrereqError', /^Can't use offline node: node3$/);
    const down = await ok({ OP_ID: 'OP_INSTANCE_SHUTDOWN', instance_name: 'iota', ignore_offline_nodes: true });
    assert.ok(down.log.includes(' - WARNING: Ignoring offline primary node'), down.log.join('\n'));
    assert.ok(down.log.includes(' - INFO: Primary node offline, marked instance as stopped'), down.log.join('\n'));
    const [[admin, status]] = await instanceRows(['admin_state', 'status']);
    assert.deepEqual([admin, status], ['down', 'ERROR_nodeoffline']);
    const up = await ok({ OP_ID: 'OP_INSTANCE_STARTUP', instance_name: 'iota', ignore_offline_nodes: true });
    assert.ok(up.log.includes(' - INFO: Primary node offline, marked instance as started'), up.log.join('\n'));
  } finally {
    await ok({ OP_ID: 'OP_NODE_SET_PARAMS', node_name: 'node3', offline: false });
  }
  const [[status]] = await instanceRows(['status']);
  assert.equal(status, 'running');
  await ok({ OP_ID: 'OP_INSTANCE_REMOVE', instance_name: 'iota' });
  assert.ok(!fakeState(node3, 'iota'));
});

test('reinstall runs the OS create script again; recreate-disks makes lost disks anew', { skip }, async () => {
  await ok(createOp('kappa', { disk_template: 'file', disks: [{ size: 16 }], ignore_ipolicy: true }));
  await fails({ OP_ID: 'OP_INSTANCE_REINSTALL', instance_name: 'kappa' }, 'OpPrereqError', /^Instance 'kappa' is marked to be up, cannot reinstall$/);
  await ok({ OP_ID: 'OP_INSTANCE_SHUTDOWN', instance_name: 'kappa' });
  const re = await ok({ OP_ID: 'OP_INSTANCE_REINSTALL', instance_name: 'kappa' });
  assert.ok(re.log.includes(' - INFO: Running instance OS create scripts...'), re.log.join('\n'));
  await fails({ OP_ID: 'OP_INSTANCE_REINSTALL', instance_name: 'kappa', os_type: 'nosuchos' }, 'OpExecError',
    /^OS Parameters validation failed on node node1: /);

  const dir = fileStorage(master, 'kappa');
  const [file] = fs.readdirSync(dir);
  fs.rmSync(path.join(dir, file));
  await ok({ OP_ID: 'OP_INSTANCE_RECREATE_DISKS', instance_name: 'kappa' });
  assert.equal(fs.statSync(path.join(dir, file)).size, 16 * 1048576);
  await ok({ OP_ID: 'OP_INSTANCE_REMOVE', instance_name: 'kappa' });
});
