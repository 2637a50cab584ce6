// A one-node cluster from `gnt-cluster init` to jobs through LUXI, the queue and the
// node RPC, driven like an operator would (and like the real Ganeti client does).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
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

const waitJob = (id: number) => jobEnd(luxi, id);

test('init leaves a running cluster: config, keys 0600, ssconf, queue, the post-init job', () => {
  assert.equal(fs.statSync(node.file('var/lib/ganeti/cluster-key')).mode & 0o777, 0o600);
  assert.equal(fs.statSync(node.file('var/lib/ganeti/config.data')).mode & 0o777, 0o640);
  assert.equal(fs.readFileSync(node.file('var/lib/ganeti/ssconf_master_node'), 'utf8'), 'node1\n');
  assert.equal(fs.readFileSync(node.file('var/lib/ganeti/ssconf_cluster_tags'), 'utf8'), '');
  assert.equal(fs.readFileSync(node.file('var/lib/ganeti/queue/version'), 'utf8'), '1\n');
  const config = JSON.parse(fs.readFileSync(node.file('var/lib/ganeti/config.data'), 'utf8'));
  assert.equal(config.version, 3000000);
  assert.equal(config.cluster.cluster_name, 'cluster.test');
  const list = node.run('gnt-job', ['list']);
  assert.equal(list.code, 0);
  assert.equal(list.stdout, 'ID Status  Summary\n 1 success CLUSTER_POST_INIT\n');
});

test('init on an existing cluster refuses and overwrites nothing', () => {
  const before = fs.readFileSync(node.file('var/lib/ganeti/config.data'), 'utf8');
  const r = node.run('gnt-cluster', ['init', '--primary-ip', node.ip, 'other.test']);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'Failure: prerequisites not met for this operation:\nerror type: wrong_state, error details:\nCluster is already initialised\n');
  assert.equal(fs.readFileSync(node.file('var/lib/ganeti/config.data'), 'utf8'), before);
});

test('50 jobs submitted together all succeed; their files are on disk as Ganeti writes them', async () => {
  const op = { OP_ID: 'OP_TEST_DELAY', duration: 0.001 };
  const results = (await luxi.call('SubmitManyJobs', [Array.from({ length: 50 }, () => [op])])) as [boolean, number][];
  assert.equal(results.length, 50);
  assert.ok(results.every(([ok]) => ok));
  const ids = results.map(([, id]) => id);
  assert.deepEqual(ids, Array.from({ length: 50 }, (_, i) => ids[0] + i));
  const statuses = await Promise.all(ids.map(waitJob));
  assert.ok(statuses.every((s) => s === 'success'), statuses.join(','));
  const last = ids[ids.length - 1];
  await waitFor(() => fs.readFileSync(node.file('var/lib/ganeti/queue/serial'), 'utf8') === `${last}\n`);
  for (const id of ids) {
    const file = node.file(`var/lib/ganeti/queue/job-${id}`);
    // The journal made the end durable; the job's own file follows within moments.
    await waitFor(() => JSON.parse(fs.readFileSync(file, 'utf8')).ops[0].status === 'success');
    assert.equal(fs.statSync(file).mode & 0o777, 0o640);
    const text = fs.readFileSync(file, 'utf8');
    assert.ok(text.startsWith('{\n "end_timestamp": ['));
    const job = JSON.parse(text);
    assert.equal(job.id, id);
    assert.equal(job.ops[0].status, 'success');
    assert.deepEqual(job.ops[0].input.on_node_uuids, [Object.keys(JSON.parse(fs.readFileSync(node.file('var/lib/ganeti/config.data'), 'utf8')).nodes)[0]]);
    assert.equal(job.ops[0].input.reason.at(-1)[1], `job=${id};index=0`);
  }
  const leftovers = fs.readdirSync(node.file('var/lib/ganeti/queue')).filter((n) => n.endsWith('.tmp'));
  assert.deepEqual(leftovers, []);
});

test('gnt-debug delay: synchronous, --submit, --print-jobid and a failing job, as Ganeti prints them', () => {
  const ok = node.run('gnt-debug', ['delay', '0.01']);
  assert.deepEqual([ok.code, ok.stdout, ok.stderr], [0, '', '']);
  const sub = node.run('gnt-debug', ['delay', '--submit', '--print-jobid', '0.01']);
  const id = Number(sub.stdout.trim());
  assert.ok(id > 1);
  assert.deepEqual(sub, { code: 0, stdout: `${id}\n`, stderr: `JobID: ${id}\n` });
  const bad = node.run('gnt-debug', ['delay', '0']);
  assert.deepEqual(bad, { code: 1, stdout: '', stderr: 'Failure: prerequisites not met for this operation:\nDuration must be greater than zero\n' });
  const rep = node.run('gnt-debug', ['delay', '-r', '2', '0.001']);
  assert.equal(rep.code, 0, rep.stderr);
  assert.match(rep.stdout, /^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}  - INFO: Test delay iteration 0\/1\n.* - INFO: Test delay iteration 1\/1\n$/);
});

test('gnt-job list, info and watch', () => {
  const failed = node.run('gnt-job', ['list', '--error', '--no-headers', '-o', 'id']).stdout.trim().split('\n').at(-1)!.trim();
  const watch = node.run('gnt-job', ['watch', failed]);
  assert.equal(watch.code, 1);
  assert.equal(watch.stdout, `Output from job ${failed} follows\n${'-'.repeat(`Output from job ${failed} follows`.length)}\n`);
  assert.equal(watch.stderr, `Job ${failed} failed: Failure: prerequisites not met for this operation:\nDuration must be greater than zero\n`);
  const info = node.run('gnt-job', ['info', failed]);
  assert.equal(info.code, 0);
  assert.match(info.stdout, new RegExp(`^- Job ID: ${failed}\n  Status: error\n  Received:         \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{6}\n`));
  assert.match(info.stdout, /\n      Execution start:  N\/A\n/);
  assert.match(info.stdout, /\n          - - gnt:client:gnt-debug\n            - delay\n            - \d{19}\n/);
  assert.match(info.stdout, /\n      Result: \n        - OpPrereqError\n        - - Duration must be greater than zero\n      Execution log: \n$/);
  assert.equal(node.run('gnt-job', ['info', '99999']).stdout, '- Job ID 99999 not found\n');
  const two = node.run('gnt-job', ['list', '1', failed]);
  assert.equal(two.stdout, `ID Status  Summary\n${' '.repeat(failed.length - 1)}1 success CLUSTER_POST_INIT\n${failed} error   TEST_DELAY(0.0)\n`);
  assert.equal(node.run('gnt-job', ['list', '--running']).stdout, 'ID Status Summary\n');
  const unknown = node.run('gnt-job', ['list', '-o', 'id,nosuch', '1']);
  assert.equal(unknown.code, 14);
  assert.equal(unknown.stderr, 'Warning: Queried for unknown fields nosuch\n');
});

test('gnt-cluster info, getmaster, version', () => {
  const info = node.run('gnt-cluster', ['info']);
  assert.equal(info.code, 0);
  assert.match(info.stdout, /^Cluster name: cluster\.test\nCluster UUID: [0-9a-f-]{36}\nCreation time: .*\nModification time: .*\nMaster node: node1\n/);
  assert.match(info.stdout, /\nHypervisor parameters: \n  fake: \n    migration_mode: live\n/);
  assert.equal(node.run('gnt-cluster', ['getmaster']).stdout, 'node1\n');
  assert.match(node.run('gnt-cluster', ['version']).stdout, /^Software version: 3\.0\.2\nInternode protocol: 3000000\nConfiguration format: 3000000\nOS api version: 20\nExport interface: 0\nVCS version: /);
});

test('bad LUXI input gets Ganeti-style error replies and never crashes the master', async () => {
  const raw = (payload: Buffer | string) => new Promise<string>((resolve) => {
    const s = net.createConnection(node.file('var/run/ganeti/socket/ganeti-master'));
    let data = '';
    s.on('data', (d) => {
      data += d;
      if (data.includes('\x03')) {
        s.destroy();
        resolve(data.slice(0, data.indexOf('\x03')));
      }
    });
    s.on('error', () => resolve(data));
    s.write(payload);
  });
  assert.match(JSON.parse(await raw('{not json\x03')).result, /^Failed to parse request: invalid JSON/);
  assert.match(JSON.parse(await raw('{"args":[]}\x03')).result, /'method'/);
  const call = async (method: string, args: unknown[]) => {
    try {
      return { ok: true, value: await luxi.call(method, args) };
    } catch (err) {
      return { ok: false, value: `${(err as Error).constructor.name}: ${(err as Error).message}` };
    }
  };
  assert.deepEqual(await call('NoSuchMethod', []), { ok: false, value: "ProtocolError: Unknown luxi request 'NoSuchMethod'" });
  assert.match((await call('SubmitJob', ['x'])).value as string, /LuxiError: Invalid arguments for SubmitJob/);
  assert.match((await call('SubmitJob', [[{ OP_ID: 'OP_NOPE' }]])).value as string, /OpCodeUnknown: Unknown opcode 'OP_NOPE'/);
  assert.match((await call('SubmitJob', [[{ OP_ID: 'OP_TEST_DELAY', duration: 1, x: 1 }]])).value as string, /OpPrereqError: Unknown parameter 'x'/);
  assert.match((await call('SubmitJob', [[{ OP_ID: 'OP_TEST_DELAY', duration: 'long' }]])).value as string, /OpPrereqError: Parameter 'duration'/);
  assert.match((await call('QueryJobs', [null])).value as string, /expected 2 argument/);
  assert.match((await call('Query', ['job', ['id'], ['~~', 'id', 1]])).value as string, /unknown operator/);
  const big = await raw(Buffer.alloc(65 * 1024 * 1024, 0x20));
  assert.match(JSON.parse(big).result, /too large/);
  assert.equal(await call('QueryConfigValues', [['cluster_name', 'nosuch']]).then((r) => JSON.stringify(r.value)), '["cluster.test",null]');
});

test('unauthenticated, forged and replayed node RPC requests are refused and logged', async () => {
  const { signRequest, generateClusterSecret, loadKey } = await import('../../src/rpc/auth.ts');
  // Over TLS, trusting the cluster certificate as the master does.
  const ca = fs.readFileSync(node.file('var/lib/ganeti/server.pem'), 'utf8');
  const post = (path: string, headers: Record<string, string>, body = '[]') => new Promise<[number | undefined, string]>((resolve, reject) => {
    const req = https.request({ host: node.ip, port: 1811, method: 'POST', path, headers, ca, checkServerIdentity: () => undefined }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => { text += d; });
      res.on('end', () => resolve([res.statusCode, text]));
    });
    req.on('error', reject);
    req.end(body);
  });
  assert.deepEqual(await post('/version', {}), [401, '"Unauthorized: unsigned request"']);
  const forged = signRequest(generateClusterSecret(), 'node1', '/version', Buffer.from('[]'));
  assert.deepEqual(await post('/version', forged), [401, '"Unauthorized: bad signature"']);
  const key = loadKey(node.file('var/lib/ganeti/node-key'), 'node key');
  const good = signRequest(key, 'node1', '/test_delay', Buffer.from('[0]'));
  assert.deepEqual(await post('/test_delay', good, '[1000]'), [401, '"Unauthorized: bad signature"']);
  assert.deepEqual(await post('/test_delay', good, '[0]'), [200, '[true,null]']);
  assert.deepEqual(await post('/test_delay', good, '[0]'), [401, '"Unauthorized: replayed request"']);
  const version = signRequest(key, 'node1', '/version', Buffer.from('[]'));
  assert.deepEqual(await post('/version', version), [200, '[true,3000000]']);
  const log = fs.readFileSync(node.file('var/log/ganeti/ganeti-noded.log'), 'utf8');
  assert.match(log, /refused unauthenticated RPC request/);
  assert.ok(!log.includes(fs.readFileSync(node.file('var/lib/ganeti/cluster-key'), 'utf8').trim()));
});

test('a second copy of a daemon refuses to start', () => {
  const r = node.run('ganeti-noded', ['-f']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /ganeti-noded is already running on this node \(pid \d+/);
  const m = node.run('ganeti-masterd', []);
  assert.equal(m.code, 1);
  assert.match(m.stderr, /ganeti-masterd is already running/);
});
