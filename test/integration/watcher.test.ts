// ganeti-watcher through its symlink on a two-node loopback cluster: an instance killed
// behind the master's back is restarted by the next run, the pause file and
// --ignore-pause, an instance held by a running job left alone (Ganeti #790), the retry
// budget of five, a corrupt state file, a drained queue, dead daemons started again,
// old jobs archived, and the command line.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { jobEnd, noopOsMissing, TestCluster, waitFor, type RunResult, type VirtualNode } from './cluster.ts';
import { LuxiClient } from '../../src/luxi/client.ts';

const skip = noopOsMissing;

let cluster: TestCluster;
let master: VirtualNode;
let node2: VirtualNode;
let luxi: LuxiClient;

before(async () => {
  if (skip) return;
  cluster = new TestCluster();
  master = cluster.init('node1');
  node2 = cluster.join(master, 'node2');
  luxi = await LuxiClient.connect(master.file('var/run/ganeti/socket/ganeti-master'));
  await ok({
    OP_ID: 'OP_INSTANCE_CREATE', instance_name: 'alpha', mode: 'create', disk_template: 'diskless', disks: [], nics: [{}],
    os_type: 'noop', pnode: 'node1', name_check: false, ip_check: false,
  });
});
after(() => {
  luxi?.close();
  cluster?.destroy();
});

async function ok(op: Record<string, unknown>): Promise<number> {
  const id = (await luxi.call('SubmitJob', [[op]])) as number;
  const status = await jobEnd(luxi, id);
  assert.equal(status, 'success', `${String(op.OP_ID)}: ${JSON.stringify(await luxi.call('QueryJobs', [[id], ['opresult']]))}`);
  return id;
}

/** The master may have restarted: a fresh connection for each use. */
async function reconnect(): Promise<void> {
  luxi.close();
  luxi = await LuxiClient.connect(master.file('var/run/ganeti/socket/ganeti-master'));
}

async function instanceStatus(name = 'alpha'): Promise<string> {
  const r = (await luxi.call('Query', ['instance', ['status'], ['=', 'name', name]])) as { data: Array<Array<[number, unknown]>> };
  return String(r.data[0][0][1]);
}

const fakeState = (name = 'alpha') => master.file(`var/run/ganeti/fake-hypervisor/${name}`);

/** The instance dies behind the master's back. */
async function kill(name = 'alpha'): Promise<void> {
  fs.rmSync(fakeState(name));
  assert.equal(await instanceStatus(name), 'ERROR_down');
}

const logOffsets = new Map<VirtualNode, number>();

/** Messages the watcher logged on a node since the last call. */
function newLogMessages(node: VirtualNode): Array<{ level: number; msg: string }> {
  const file = node.file('var/log/ganeti/watcher.log');
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  const from = logOffsets.get(node) ?? 0;
  logOffsets.set(node, text.length);
  return text.slice(from).split('\n').filter(Boolean).map((l) => JSON.parse(l) as { level: number; msg: string });
}

/** One watcher run; quiet on success, as from cron. Returns the messages it logged. */
function watcher(node: VirtualNode, args: string[] = []): { r: RunResult; messages: string[] } {
  newLogMessages(node);
  const r = node.run('ganeti-watcher', args);
  const messages = newLogMessages(node).map((m) => m.msg);
  assert.equal(r.code, 0, `${r.stderr}\n${messages.join('\n')}`);
  if (!args.includes('-d')) assert.equal(r.stdout + r.stderr, '', 'quiet without -d');
  return { r, messages };
}

function stateFile(node = master): { file: string; data: { instance: Record<string, Record<string, number>>; node: Record<string, { bootid: string }> } } {
  const dir = node.file('var/lib/ganeti');
  const name = fs.readdirSync(dir).find((f) => /^watcher\.[0-9a-f-]{36}\.data$/.test(f));
  assert.ok(name, 'state file written');
  const file = path.join(dir, name);
  return { file, data: JSON.parse(fs.readFileSync(file, 'utf8')) };
}

async function watcherStartupJobs(): Promise<number> {
  const r = (await luxi.call('QueryJobs', [null, ['summary', 'ops']])) as Array<[string[], Array<{ reason?: unknown[][] }>] | null>;
  return r.filter((job) => job?.[0][0] === 'INSTANCE_STARTUP(alpha)' && job[1][0].reason?.[0]?.[0] === 'gnt:watcher').length;
}

function hook(dir: string, name: string, body: string): string {
  const d = master.file(`etc/ganeti/hooks/${dir}`);
  fs.mkdirSync(d, { recursive: true });
  const file = path.join(d, name);
  fs.writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return file;
}

test('command line: --version, --help, bad options and arguments', { skip }, () => {
  const v = master.run('ganeti-watcher', ['--version']);
  assert.deepEqual([v.code, v.stdout], [0, 'ganeti-watcher (ganeti) 3.0.2\n']);
  const h = master.run('ganeti-watcher', ['--help']);
  assert.equal(h.code, 0);
  assert.match(h.stdout, /^Usage: ganeti-watcher \[-d\]\n\nGaneti cluster watcher\n\nOptions:\n/);
  for (const opt of ['--job-age', '--ignore-pause', '--wait-children', '--no-verify-disks', '--rapi-ip', '--node-group']) assert.ok(h.stdout.includes(opt), opt);
  const bad = master.run('ganeti-watcher', ['--bogus']);
  assert.deepEqual([bad.code, bad.stderr], [2, 'Usage: ganeti-watcher [-d]\n\nganeti-watcher: error: no such option: --bogus\n']);
  assert.equal(master.run('ganeti-watcher', ['extra']).stderr, 'Usage: ganeti-watcher [-d]\n\nganeti-watcher: error: No arguments expected\n');
  assert.match(master.run('ganeti-watcher', ['-A', 'soon']).stderr, /error: Invalid time specification 'soon'\n$/);
});

test('an instance killed behind the master\'s back is restarted by the next run', { skip }, async () => {
  // A first run records the nodes' boot ids and finds nothing to do.
  const first = watcher(master);
  assert.ok(!first.messages.some((m) => m.startsWith('Restarting')), first.messages.join('\n'));
  assert.deepEqual(Object.keys(stateFile().data.node).sort(), ['node1', 'node2']);

  await kill();
  const { messages } = watcher(master);
  assert.ok(messages.includes("Restarting instance 'alpha' (attempt #1)"), messages.join('\n'));
  assert.ok(fs.existsSync(fakeState()), 'running again');
  assert.equal(await instanceStatus(), 'running');
  assert.equal(stateFile().data.instance.alpha.restart_count, 1);
  assert.equal(await watcherStartupJobs(), 1, 'one startup job, with the watcher in its reason trail');
  const status = fs.readFileSync(master.file('var/run/ganeti/instance-status'), 'utf8');
  assert.equal(status, 'alpha ERROR_down', 'the status the run found');

  const next = watcher(master);
  assert.ok(next.messages.includes("Restart of instance 'alpha' succeeded"), next.messages.join('\n'));
  assert.deepEqual(stateFile().data.instance, {});
  assert.equal(fs.readFileSync(master.file('var/run/ganeti/instance-status'), 'utf8'), 'alpha running');
});

test('the pause file stops the watcher, --ignore-pause overrides it, an unreadable one pauses it', { skip }, async () => {
  assert.equal(master.run('gnt-cluster', ['watcher', 'pause', '1h']).code, 0);
  await kill();
  const paused = watcher(master, ['-d']);
  assert.match(paused.r.stderr, /: ganeti-watcher pid=\d+ DEBUG Pause has been set, exiting\n$/);
  assert.equal(await instanceStatus(), 'ERROR_down');

  const ignoring = watcher(master, ['--ignore-pause']);
  assert.ok(ignoring.messages.includes("Restarting instance 'alpha' (attempt #1)"), ignoring.messages.join('\n'));
  assert.equal(await instanceStatus(), 'running');
  assert.equal(master.run('gnt-cluster', ['watcher', 'continue']).code, 0);

  // A pause file that cannot be read: better idle than acting against a pause.
  fs.mkdirSync(master.file('var/lib/ganeti/watcher.pause'));
  await kill();
  const unreadable = watcher(master);
  assert.ok(unreadable.messages.some((m) => /^Watcher pause file \(.*\) cannot be read .*treating the watcher as paused$/.test(m)), unreadable.messages.join('\n'));
  assert.equal(await instanceStatus(), 'ERROR_down');
  fs.rmdirSync(master.file('var/lib/ganeti/watcher.pause'));
  watcher(master);
  assert.equal(await instanceStatus(), 'running');
  watcher(master); // forgets the record
});

test('an instance a running job holds is left alone: the watcher does not fight a shutdown (Ganeti #790)', { skip }, async () => {
  const slow = hook('instance-stop-pre.d', '50-slow', 'exec /bin/sleep 4');
  try {
    await kill();
    const id = (await luxi.call('SubmitJob', [[{ OP_ID: 'OP_INSTANCE_SHUTDOWN', instance_name: 'alpha' }]])) as number;
    // Wait until the job holds the instance's lock (it then sleeps in its pre hook).
    const deadline = Date.now() + 10_000;
    for (;;) {
      const locks = (await luxi.call('Query', ['lock', ['name', 'owner'], null])) as { data: Array<Array<[number, unknown]>> };
      if (locks.data.some(([[, name], [, owner]]) => String(name).startsWith('instance/') && JSON.stringify(owner).includes(`job/${id}`))) break;
      assert.ok(Date.now() < deadline, 'the shutdown job never took the instance lock');
      await new Promise((r) => setTimeout(r, 50));
    }
    const before = await watcherStartupJobs();
    const { messages } = watcher(master);
    assert.ok(messages.includes("Not restarting instance 'alpha', instance is locked"), messages.join('\n'));
    assert.equal(await watcherStartupJobs(), before, 'no startup job submitted');
    assert.equal(await jobEnd(luxi, id), 'success');
    assert.equal(await instanceStatus(), 'ADMIN_down', 'the operator\'s shutdown stands');
    const after = watcher(master);
    assert.ok(!after.messages.some((m) => m.includes("'alpha'")), after.messages.join('\n'));
    assert.deepEqual(stateFile().data.instance, {}, 'no attempt was counted');
  } finally {
    fs.rmSync(slow);
  }
  await ok({ OP_ID: 'OP_INSTANCE_STARTUP', instance_name: 'alpha' });
});

test('a start that keeps failing is tried 5 times, then given up with a log line', { skip }, async () => {
  const failing = hook('instance-start-pre.d', '50-refuse', 'echo no starting today; exit 1');
  try {
    await kill();
    const before = await watcherStartupJobs();
    for (let attempt = 1; attempt <= 5; attempt++) {
      const { messages } = watcher(master);
      assert.ok(messages.includes(`Restarting instance 'alpha' (attempt #${attempt})`), messages.join('\n'));
      assert.ok(messages.some((m) => m.startsWith("Error while restarting instance 'alpha': ") && m.includes('no starting today')), messages.join('\n'));
    }
    const giveUp = watcher(master);
    assert.ok(giveUp.messages.includes("Could not restart instance 'alpha' after 5 attempts, giving up"), giveUp.messages.join('\n'));
    const exhausted = watcher(master);
    assert.ok(exhausted.messages.includes("Not restarting instance 'alpha', retries exhausted"), exhausted.messages.join('\n'));
    assert.equal(await watcherStartupJobs() - before, 5, 'five startup jobs, no more');
    assert.equal(stateFile().data.instance.alpha.restart_count, 6);
  } finally {
    fs.rmSync(failing);
  }
  // A corrupt state file is rebuilt, with a warning; the budget starts again.
  const { file } = stateFile();
  fs.writeFileSync(file, '{"instance": {"alpha": ');
  const rebuilt = watcher(master);
  assert.ok(rebuilt.messages.some((m) => m.startsWith('Invalid state file. Using defaults. Error message: ')), rebuilt.messages.join('\n'));
  assert.ok(rebuilt.messages.includes("Restarting instance 'alpha' (attempt #1)"), rebuilt.messages.join('\n'));
  assert.equal(await instanceStatus(), 'running');
  assert.equal(stateFile().data.instance.alpha.restart_count, 1);
  watcher(master);
});

test('a guest that shut itself down is cleaned up (user shutdown), then left down', { skip }, async () => {
  assert.equal(master.run('gnt-cluster', ['modify', '--user-shutdown', 'yes']).code, 0);
  try {
    const state = JSON.parse(fs.readFileSync(fakeState(), 'utf8')) as Record<string, unknown>;
    fs.writeFileSync(fakeState(), JSON.stringify({ ...state, state: 'shutdown' }));
    assert.equal(await instanceStatus(), 'USER_down');
    const { messages } = watcher(master);
    assert.ok(messages.includes("Instance 'alpha' was shutdown by the user, cleaning up instance"), messages.join('\n'));
    assert.ok(!fs.existsSync(fakeState()), 'stopped on its node');
    assert.equal(await instanceStatus(), 'USER_down', 'down, as the user left it');
    const [[source]] = ((await luxi.call('Query', ['instance', ['admin_state_source'], null])) as { data: Array<Array<[number, unknown]>> }).data
      .map((row) => row.map(([, v]) => v));
    assert.equal(source, 'user');
    const again = watcher(master);
    assert.ok(!again.messages.some((m) => m.includes("'alpha'")), again.messages.join('\n'));
  } finally {
    assert.equal(master.run('gnt-cluster', ['modify', '--user-shutdown', 'no']).code, 0);
  }
  await ok({ OP_ID: 'OP_INSTANCE_STARTUP', instance_name: 'alpha' });
});

test('a drained queue: nothing is attempted and no budget is spent', { skip }, async () => {
  assert.equal(master.run('gnt-cluster', ['queue', 'drain']).code, 0);
  try {
    await kill();
    const { messages } = watcher(master);
    assert.ok(messages.includes("Job queue is drained, can't maintain cluster state"), messages.join('\n'));
    assert.equal(await instanceStatus(), 'ERROR_down');
    assert.deepEqual(stateFile().data.instance, {});
  } finally {
    assert.equal(master.run('gnt-cluster', ['queue', 'undrain']).code, 0);
  }
  watcher(master);
  assert.equal(await instanceStatus(), 'running');
  watcher(master);
});

test('dead daemons are started again: noded on every node, masterd on the master', { skip }, async () => {
  // A node that is not the master: its noded, nothing else.
  const old2 = node2.pid('ganeti-noded')!;
  process.kill(old2, 'SIGKILL');
  await waitFor(() => { try { process.kill(old2, 0); return false; } catch { return true; } });
  const onNode2 = watcher(node2);
  assert.ok(onNode2.messages.includes("Daemon 'ganeti-noded' is not running, starting it"), onNode2.messages.join('\n'));
  const new2 = node2.pid('ganeti-noded')!;
  assert.notEqual(new2, old2);
  process.kill(new2, 0);
  assert.ok(!fs.readdirSync(node2.file('var/lib/ganeti')).some((f) => f.startsWith('watcher.') && f.endsWith('.data')), 'groups are watched on the master only');

  // The master: both daemons killed; the run starts them and then does its work.
  await kill();
  for (const d of ['ganeti-noded', 'ganeti-masterd']) process.kill(master.pid(d)!, 'SIGKILL');
  await new Promise((r) => setTimeout(r, 200));
  const { messages } = watcher(master);
  assert.ok(messages.includes("Daemon 'ganeti-noded' is not running, starting it"), messages.join('\n'));
  assert.ok(messages.some((m) => m.startsWith('Luxi daemon seems to be down')), messages.join('\n'));
  assert.ok(messages.includes("Restarting instance 'alpha' (attempt #1)"), messages.join('\n'));
  await reconnect();
  assert.equal(await instanceStatus(), 'running');
  watcher(master);
});

test('finished jobs older than --job-age are archived', { skip }, async () => {
  const id = await ok({ OP_ID: 'OP_TEST_DELAY', duration: 0.01 });
  const live = master.file(`var/lib/ganeti/queue/job-${id}`);
  const archived = master.file(`var/lib/ganeti/queue/archive/0/job-${id}`);
  await waitFor(() => fs.existsSync(live));
  watcher(master); // the default: six hours
  assert.ok(fs.existsSync(live));
  await new Promise((r) => setTimeout(r, 1100));
  const { messages } = watcher(master, ['--job-age', '1']);
  assert.ok(messages.some((m) => /^Archived \d+ jobs older than 1 seconds$/.test(m)), messages.join('\n'));
  await waitFor(() => fs.existsSync(archived) && !fs.existsSync(live));
});

test('watcher hooks run at every run; --node-group watches one group; a machine in no cluster is left alone', { skip }, () => {
  const mark = master.file('watcher-hook-ran');
  const hooks = [hook('watcher', '10-mark', `touch ${mark}`), hook('watcher', '20-fail', 'echo oops; exit 3')];
  try {
    const { messages } = watcher(master);
    assert.ok(fs.existsSync(mark));
    assert.ok(messages.includes('Watcher hook 20-fail: failed (exit: 3) (output: oops\n)'), messages.join('\n'));
  } finally {
    for (const h of hooks) fs.rmSync(h);
  }

  const uuid = master.run('gnt-group', ['list', '--no-headers', '-o', 'uuid']).stdout.trim();
  assert.match(uuid, /^[0-9a-f-]{36}$/);
  const one = watcher(master, ['--node-group', uuid]);
  assert.ok(one.messages.includes(`Watcher for node group '${uuid}'`), one.messages.join('\n'));
  newLogMessages(master);
  const byName = master.run('ganeti-watcher', ['--node-group', 'default']);
  assert.equal(byName.code, 1);
  assert.ok(newLogMessages(master).some((m) => m.msg === "Node group parameter (--node-group) must be given a UUID, got 'default'"));

  const loner = cluster.addNode('loner');
  const r = loner.run('ganeti-watcher', []);
  assert.deepEqual([r.code, r.stdout, r.stderr], [0, '', '']);
  assert.equal(loner.pid('ganeti-noded'), null, 'no noded started outside a cluster');
});
