// The job queue as operators use it: cancel in every state, priorities, dependencies,
// drain, archive, watcher pause, locks, and what the CLI prints for each.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { jobEnd, TestCluster, waitFor, type VirtualNode } from './cluster.ts';
import { LuxiClient } from '../../src/luxi/client.ts';

let cluster: TestCluster;
let node: VirtualNode;
let luxi: LuxiClient;

before(async () => {
  cluster = new TestCluster();
  node = cluster.init();
  luxi = await LuxiClient.connect(node.file('var/run/ganeti/socket/ganeti-query'));
});
after(() => {
  luxi?.close();
  cluster?.destroy();
});

const delay = (duration: number, extra: Record<string, unknown> = {}) => ({ OP_ID: 'OP_TEST_DELAY', duration, ...extra });
/** A delay that takes the master's node lock exclusively, as `gnt-debug delay` does. */
const locking = (duration: number, extra: Record<string, unknown> = {}) => delay(duration, { no_locks: false, ...extra });

async function submit(...ops: object[]): Promise<number> {
  return (await luxi.call('SubmitJob', [ops])) as number;
}

async function status(id: number): Promise<string> {
  const [[s]] = (await luxi.call('QueryJobs', [[id], ['status']])) as [[string]];
  return s;
}

const finished = (id: number) => jobEnd(luxi, id);

async function until(id: number, wanted: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if ((await status(id)) === wanted) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`job ${id} never became ${wanted}`);
}

test('cancel: queued, waiting for a lock, running (refused, then killed), finished, unknown', async () => {
  const holder = await submit(locking(3));
  await until(holder, 'running');
  const waiter = await submit(locking(0.01));
  await until(waiter, 'waiting');
  assert.deepEqual(await luxi.call('CancelJob', [waiter, false]), [true, 'Job successfully cancelled']);
  assert.equal(await status(waiter), 'canceled');
  const [[, opstatus, opresult]] = (await luxi.call('QueryJobs', [[waiter], ['status', 'opstatus', 'opresult']])) as [[string, string[], unknown[]]];
  assert.deepEqual([opstatus, opresult], [['canceled'], ['Job canceled by request']]);
  assert.deepEqual(await luxi.call('CancelJob', [holder, false]), [false, 'Job could not be canceled, status running']);
  assert.deepEqual(await luxi.call('CancelJob', [holder, true]), [true, 'Job successfully cancelled']);
  assert.equal(await status(holder), 'canceled');
  assert.deepEqual(await luxi.call('CancelJob', [holder]), [false, `Job ${holder} not found in queue`]);
  assert.deepEqual(await luxi.call('CancelJob', [99999]), [false, 'Job 99999 not found in queue']);
  // A job that has not started: drained of execution slots by dependency on a long job.
  const first = await submit(locking(0.5));
  const queued = await submit(locking(0.01, { depends: [[first, []]] }));
  const out = node.run('gnt-job', ['cancel', String(queued)]);
  assert.equal(out.code, 0);
  assert.match(out.stdout, /^(Dequeued job \d+|Job successfully cancelled)\n$/);
  assert.equal(await finished(queued), 'canceled');
  assert.equal(await finished(first), 'success');
  const cli = node.run('gnt-job', ['cancel', String(first)]);
  assert.deepEqual([cli.code, cli.stdout], [1, `Job ${first} not found in queue\n`]);
  assert.equal(node.run('gnt-job', ['cancel', '--kill', String(first)]).stderr,
    'Failure: prerequisites not met for this operation:\nerror type: wrong_input, error details:\nThe --kill option must be confirmed with --yes-do-it\n');
});

test('dependencies: success chain, failure and cancel propagate, relative ids in SubmitManyJobs', async () => {
  const results = (await luxi.call('SubmitManyJobs', [[
    [delay(0.05)],
    [delay(0.01, { depends: [[-1, ['success']]] })],
    [delay(0, { depends: [[-1, []]] })],
    [delay(0.01, { depends: [[-1, ['success']]] })],
  ]])) as [boolean, number][];
  const [a, b, c, d] = results.map(([, id]) => id);
  assert.equal(await finished(a), 'success');
  assert.equal(await finished(b), 'success');
  assert.equal(await finished(c), 'error');
  assert.equal(await finished(d), 'error');
  const [[res]] = (await luxi.call('QueryJobs', [[d], ['opresult']])) as [[unknown[]]];
  assert.deepEqual(res[0], ['OpExecError', [`Dependency job ${c} finished with status 'error', not one of 'success' as required`]]);
  const hold = await submit(locking(2));
  await until(hold, 'running');
  const victim = await submit(locking(0.01));
  const dependent = await submit(delay(0.01, { depends: [[victim, ['success']]] }));
  await until(dependent, 'waiting');
  await luxi.call('CancelJob', [victim]);
  assert.equal(await finished(dependent), 'canceled');
  await luxi.call('CancelJob', [hold, true]);
});

test('bad dependencies and priorities are refused and nothing is created', async () => {
  const before = fs.readFileSync(node.file('var/lib/ganeti/queue/serial'), 'utf8');
  await assert.rejects(luxi.call('SubmitJob', [[delay(0.01, { depends: [[999999, []]] })]]), /cannot depend on the later job 999999/);
  await assert.rejects(luxi.call('SubmitJob', [[delay(0.01, { depends: [[0, []]] })]]), /cannot depend on itself/);
  await assert.rejects(luxi.call('SubmitJob', [[delay(0.01, { depends: [[-1, []]] })]]), /Relative job dependencies are only allowed in SubmitManyJobs/);
  await assert.rejects(luxi.call('SubmitJob', [[delay(0.01, { priority: 3 })]]), /'priority'/);
  await assert.rejects(luxi.call('ChangeJobPriority', [1, 5]), /Invalid priority 5/);
  assert.equal(fs.readFileSync(node.file('var/lib/ganeti/queue/serial'), 'utf8'), before);
  const [[ok, msg]] = (await luxi.call('SubmitManyJobs', [[[delay(0.01, { depends: [[0, []]] })]]])) as [[boolean, string]];
  assert.equal(ok, false);
  assert.match(msg, /cannot depend on itself/);
});

test('change-priority of a waiting job; finished jobs refuse', async () => {
  const hold = await submit(locking(1));
  await until(hold, 'running');
  const low = await submit(locking(0.01, { priority: 10 }));
  await until(low, 'waiting');
  const r = node.run('gnt-job', ['change-priority', '--priority', 'high', String(low)]);
  assert.deepEqual([r.code, r.stdout], [0, `Priorities of pending opcodes for job ${low} have been changed to -10\n`]);
  const [[prio]] = (await luxi.call('QueryJobs', [[low], ['oppriority']])) as [[number[]]];
  assert.deepEqual(prio, [-10]);
  assert.equal(await finished(low), 'success');
  assert.deepEqual(await luxi.call('ChangeJobPriority', [low, 0]), [false, `Job ${low} is finished`]);
  assert.equal(node.run('gnt-job', ['change-priority', String(low)]).stderr,
    'Failure: prerequisites not met for this operation:\nerror type: wrong_input, error details:\nA new priority must be given\n');
});

test('priorities decide who gets a contended lock', async () => {
  const hold = await submit(locking(0.5));
  await until(hold, 'running');
  const low = await submit(locking(0.01, { priority: 10 }));
  const normal = await submit(locking(0.01));
  const high = await submit(locking(0.01, { priority: -10 }));
  for (const id of [low, normal, high]) await until(id, 'waiting');
  for (const id of [hold, low, normal, high]) assert.equal(await finished(id), 'success');
  const [[lowStart], [normalStart], [highStart]] = (await luxi.call('QueryJobs', [[low, normal, high], ['opexec']])) as [[number[][]], [number[][]], [number[][]]];
  const t = (ts: number[][]) => ts[0][0] * 1e6 + ts[0][1];
  assert.ok(t(highStart) <= t(normalStart) && t(normalStart) <= t(lowStart), 'high, then normal, then low');
});

test('gnt-debug locks shows holders and waiters', async () => {
  const hold = await submit(locking(1));
  await until(hold, 'running');
  const waiter = await submit(locking(0.01));
  await until(waiter, 'waiting');
  const r = node.run('gnt-debug', ['locks']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Name +Mode +Owner +Pending\n/);
  assert.match(r.stdout, new RegExp(`cluster/BGL +shared +job/${hold}`));
  assert.match(r.stdout, new RegExp(`node/[0-9a-f-]{36} +exclusive +job/${hold} +exclusive:job/${waiter}`));
  for (const id of [hold, waiter]) assert.equal(await finished(id), 'success');
});

test('the execution pool is configurable: max_running_jobs 1 runs one job at a time', async () => {
  const r = node.run('gnt-cluster', ['modify', '--max-running-jobs', '1']);
  assert.equal(r.code, 0, r.stderr);
  // config.data follows the journal once changes pause.
  await waitFor(() => JSON.parse(fs.readFileSync(node.file('var/lib/ganeti/config.data'), 'utf8')).cluster.max_running_jobs === 1);
  assert.match(node.run('gnt-cluster', ['info']).stdout, /maximal number of jobs running simultaneously: 1\n/);
  const ids = ((await luxi.call('SubmitManyJobs', [[[delay(0.2)], [delay(0.2)], [delay(0.2)]]])) as [boolean, number][]).map(([, id]) => id);
  for (const id of ids) assert.equal(await finished(id), 'success');
  const rows = (await luxi.call('QueryJobs', [ids, ['start_ts', 'end_ts']])) as [number[], number[]][];
  const t = (ts: number[]) => ts[0] + ts[1] / 1e6;
  for (let i = 1; i < rows.length; i++) assert.ok(t(rows[i][0]) >= t(rows[i - 1][1]), 'jobs overlapped');
  assert.equal(node.run('gnt-cluster', ['modify', '--max-running-jobs', '20']).code, 0);
  const bad = node.run('gnt-cluster', ['modify', '--max-running-jobs', '0']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /'max_running_jobs' of opcode OP_CLUSTER_SET_PARAMS must be a positive integer/);
});

test('a slow or idle client never stalls others; WaitForJobChange times out with "nochange"', async () => {
  const net = await import('node:net');
  const idle = net.createConnection(node.file('var/run/ganeti/socket/ganeti-master'));
  await new Promise((r) => idle.once('connect', r));
  idle.write('{"method": "QueryJobs", "args": [null, ["id"]');
  const long = await submit(delay(2));
  await until(long, 'running');
  const other = await LuxiClient.connect(node.file('var/run/ganeti/socket/ganeti-query'));
  const waiting = other.call('WaitForJobChange', [long, ['status'], ['running'], null, 1]);
  const t0 = Date.now();
  assert.deepEqual(await luxi.call('QueryJobs', [[long], ['status']]), [['running']]);
  assert.ok(Date.now() - t0 < 500, 'a query is answered while another client waits');
  assert.equal(await waiting, 'nochange');
  assert.ok(Date.now() - t0 >= 900);
  other.close();
  idle.destroy();
  assert.equal(await finished(long), 'success');
});

test('drain flag: submissions refused, queue info, undrain', async () => {
  assert.deepEqual([node.run('gnt-cluster', ['queue', 'drain']).code, node.run('gnt-cluster', ['queue', 'info']).stdout], [0, 'The drain flag is set\n']);
  assert.ok(fs.existsSync(node.file('var/lib/ganeti/queue/drain')));
  const r = node.run('gnt-debug', ['delay', '0.01']);
  assert.deepEqual([r.code, r.stderr], [1, 'Unhandled Ganeti error: Queue drained\n']);
  assert.equal(node.run('gnt-cluster', ['queue', 'undrain']).code, 0);
  assert.equal(node.run('gnt-cluster', ['queue', 'info']).stdout, 'The drain flag is unset\n');
  assert.equal(node.run('gnt-debug', ['delay', '0.01']).code, 0);
});

test('archive and autoarchive move finished jobs to archive/<id // 10000>/', async () => {
  const id = await submit(delay(0.01));
  assert.equal(await finished(id), 'success');
  const running = await submit(delay(1));
  await until(running, 'running');
  assert.equal(await luxi.call('ArchiveJob', [running]), false);
  const r = node.run('gnt-job', ['archive', String(id), '999999']);
  assert.deepEqual([r.code, r.stderr], [1, "Failed to archive job with ID '999999'\n"]);
  assert.ok(fs.existsSync(node.file(`var/lib/ganeti/queue/archive/0/job-${id}`)));
  assert.ok(!fs.existsSync(node.file(`var/lib/ganeti/queue/job-${id}`)));
  assert.equal(node.run('gnt-job', ['list']).stdout.includes(`\n${id} `), false);
  assert.match(node.run('gnt-job', ['list', '--archived', String(id)]).stdout, new RegExp(`^ID +Status +Summary +Archived\n *${id} success TEST_DELAY\\(1\\.0e-2\\) Y\n$`));
  assert.match(node.run('gnt-job', ['info', String(id)]).stdout, /Status: success/);
  assert.equal(await finished(running), 'success');
  const auto = node.run('gnt-job', ['autoarchive', 'all']);
  assert.equal(auto.code, 0);
  assert.match(auto.stdout, /^Archived \d+ jobs, 0 unchecked left\n$/);
  assert.equal(node.run('gnt-job', ['list', '--no-headers', '--finished']).stdout, '');
});

test('watcher pause, info and continue', () => {
  assert.equal(node.run('gnt-cluster', ['watcher', 'info']).stdout, 'The watcher is not paused.\n');
  const p = node.run('gnt-cluster', ['watcher', 'pause', '1h']);
  assert.equal(p.code, 0, p.stderr);
  assert.match(p.stdout, /^The watcher is paused until \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\.\n$/);
  assert.match(fs.readFileSync(node.file('var/lib/ganeti/watcher.pause'), 'utf8'), /^\d+\n$/);
  assert.equal(node.run('gnt-cluster', ['watcher', 'info']).stdout, p.stdout);
  assert.equal(node.run('gnt-cluster', ['watcher', 'continue']).stdout, 'The watcher is no longer paused.\n');
  assert.ok(!fs.existsSync(node.file('var/lib/ganeti/watcher.pause')));
  assert.equal(node.run('gnt-cluster', ['watcher', 'pause', 'soon']).code, 1);
});

test('a job file removed by hand makes that job unknown, never the master sick', async () => {
  const id = await submit(delay(0.01));
  assert.equal(await finished(id), 'success');
  await waitFor(() => fs.existsSync(node.file(`var/lib/ganeti/queue/job-${id}`))); // the file follows the journal
  fs.rmSync(node.file(`var/lib/ganeti/queue/job-${id}`));
  fs.writeFileSync(node.file('var/lib/ganeti/queue/stray-file'), 'junk');
  fs.writeFileSync(node.file('var/lib/ganeti/queue/job-888888'), '{"half": ');
  assert.equal(node.run('gnt-job', ['info', String(id)]).stdout, `- Job ID ${id} not found\n`);
  assert.ok(!node.run('gnt-job', ['list']).stdout.includes(`\n${id} `));
  assert.equal(await luxi.call('WaitForJobChange', [id, ['status'], null, null, 1]), null);
  const next = await submit(delay(0.01));
  assert.equal(await finished(next), 'success');
});

test('SIGTERM: new jobs refused with a clear error, running jobs finish, queries answered, pending jobs run after restart', async () => {
  const running = await submit(locking(1.5));
  await until(running, 'running');
  const pending = await submit(locking(0.01));
  const masterPid = node.pid('ganeti-masterd')!;
  process.kill(masterPid, 'SIGTERM');
  await new Promise((r) => setTimeout(r, 200));
  await assert.rejects(luxi.call('SubmitJob', [[delay(0.01)]]), /shutting down, refusing job/);
  assert.equal(await status(running), 'running');
  await waitFor(() => {
    try {
      process.kill(masterPid, 0);
      return false;
    } catch {
      return true;
    }
  }, 15_000);
  luxi.close();
  assert.equal(JSON.parse(fs.readFileSync(node.file(`var/lib/ganeti/queue/job-${running}`), 'utf8')).ops[0].status, 'success');
  assert.equal(node.run('ganeti-masterd', []).code, 0);
  luxi = await LuxiClient.connect(node.file('var/run/ganeti/socket/ganeti-query'));
  assert.equal(await finished(pending), 'success');
});
