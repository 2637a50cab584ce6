// `make bench` (RAPI): the remote API on a one-node virtual cluster, over HTTPS as
// clients use it (a TLS handshake per request: RAPI answers `Connection: close`, as
// upstream's does).
//
// - Job submission: `PUT /2/tags?tag=…&dry-run=1` (one OP_TAGS_SET job each) from 20
//   parallel clients: requests/s and latency, submission only (the jobs run meanwhile);
//   and the same through LUXI directly, for the ratio.
// - `GET /2/instances?bulk=1` at 1,000 and 10,000 synthetic instances (Ganeti 3.0
//   instance objects written into config.data while masterd is stopped, as
//   bench/config.ts does): every field of every instance, live state included (the fake
//   hypervisor is asked once per node).
//
// Knobs: BENCH_RAPI_JOBS (default 2000), BENCH_RAPI_CLIENTS (20), BENCH_RAPI_RUNS (5 per size).
import fs from 'node:fs';
import { setSyntheticInstances } from './synthetic.ts';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import { TestCluster, waitFor, type VirtualNode } from '../test/integration/cluster.ts';
import { LuxiClient } from '../src/luxi/client.ts';

const JOBS = Number(process.env.BENCH_RAPI_JOBS ?? 2000);
const CLIENTS = Number(process.env.BENCH_RAPI_CLIENTS ?? 20);
const RUNS = Number(process.env.BENCH_RAPI_RUNS ?? 5);
const AUTH = `Basic ${Buffer.from('bench:benchpass').toString('base64')}`;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function request(host: string, method: string, path: string): Promise<{ status: number; bytes: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host, port: 5080, method, path, headers: { Authorization: AUTH }, rejectUnauthorized: false, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, bytes: body.length, body: body.length < 4096 ? body.toString('utf8') : '' });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** Replace the instances of a stopped master's config.data with `count` synthetic ones. */
function setInstances(master: VirtualNode, count: number): void {
  const file = master.file('var/lib/ganeti/config.data');
  const config = JSON.parse(fs.readFileSync(file, 'utf8'));
  setSyntheticInstances(config, count, [Object.keys(config.nodes)[0]]);
  fs.writeFileSync(file, JSON.stringify(config));
}

async function restartMasterd(master: VirtualNode, instances: number): Promise<void> {
  process.kill(master.pid('ganeti-masterd')!, 'SIGTERM');
  await waitFor(() => master.pid('ganeti-masterd') === null, 30_000);
  setInstances(master, instances);
  const start = master.run('ganeti-masterd', []);
  if (start.code !== 0) throw new Error(`masterd did not start: ${start.stderr}`);
}

async function benchSubmit(host: string) {
  let next = 0;
  const latencies: number[] = [];
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CLIENTS }, async () => {
    while (next < JOBS) {
      const i = next++;
      const t = performance.now();
      const r = await request(host, 'PUT', `/2/tags?tag=bench-${i}&dry-run=1`);
      if (r.status !== 200 || !/^\d+\n$/.test(r.body)) throw new Error(`submission ${i}: ${r.status} ${r.body}`);
      latencies.push(performance.now() - t);
    }
  }));
  const wall = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  return { rate: JOBS / wall, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

/** The same submissions straight through LUXI (one persistent connection per client): what RAPI adds is the difference. */
async function benchSubmitLuxi(socket: string) {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CLIENTS }, async () => {
    const client = await LuxiClient.connect(socket);
    while (next < JOBS) {
      const i = next++;
      await client.call('SubmitJob', [[{ OP_ID: 'OP_TAGS_SET', kind: 'cluster', tags: [`luxi-${i}`], dry_run: true }]]);
    }
    client.close();
  }));
  return { rate: JOBS / ((performance.now() - t0) / 1000) };
}

async function benchBulk(host: string, instances: number) {
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < RUNS + 1; i++) {
    const t = performance.now();
    const r = await request(host, 'GET', '/2/instances?bulk=1');
    if (r.status !== 200) throw new Error(`GET /2/instances?bulk=1: ${r.status} ${r.body}`);
    if (i > 0) times.push(performance.now() - t); // the first warms the master's caches
    bytes = r.bytes;
  }
  const count = JSON.parse((await new Promise<string>((resolve, reject) => {
    https.get({ host, port: 5080, path: '/2/instances', headers: { Authorization: AUTH }, rejectUnauthorized: false, agent: false }, (res) => {
      let text = '';
      res.on('data', (c) => { text += c; });
      res.on('end', () => resolve(text));
    }).on('error', reject);
  }))).length;
  if (count !== instances) throw new Error(`expected ${instances} instances, RAPI lists ${count}`);
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), min: times[0], max: times[times.length - 1], mb: bytes / 1e6 };
}

const cluster = new TestCluster();
try {
  const master = cluster.init('node1');
  fs.mkdirSync(master.file('var/lib/ganeti/rapi'), { recursive: true });
  fs.writeFileSync(master.file('var/lib/ganeti/rapi/users'), 'bench benchpass write\n', { mode: 0o600 });
  process.kill(master.pid('ganeti-rapi')!, 'SIGHUP');
  await waitFor(() => fs.readFileSync(master.file('var/log/ganeti/ganeti-rapi.log'), 'utf8').includes('Read 1 user(s)'), 10_000);

  const submit = await benchSubmit(master.ip);
  console.log(`bench: RAPI job submission (PUT /2/tags, dry-run), ${CLIENTS} parallel clients, ${JOBS} jobs, HTTPS with a handshake per request: ` +
    `${submit.rate.toFixed(0)} requests/s; latency p50 ${submit.p50.toFixed(1)} ms, p99 ${submit.p99.toFixed(1)} ms`);
  const luxi = await benchSubmitLuxi(master.file('var/run/ganeti/socket/ganeti-query'));
  console.log(`bench: the same ${JOBS} submissions through LUXI directly: ${luxi.rate.toFixed(0)} jobs/s (RAPI reaches ${(submit.rate / luxi.rate).toFixed(2)}x of it)`);

  for (const instances of [1000, 10000]) {
    await restartMasterd(master, instances);
    const r = await benchBulk(master.ip, instances);
    console.log(`bench: RAPI GET /2/instances?bulk=1, ${String(instances).padStart(5)} instances (${r.mb.toFixed(1)} MB): ` +
      `p50 ${r.p50.toFixed(0)} ms (min ${r.min.toFixed(0)}, max ${r.max.toFixed(0)}) over ${RUNS} requests`);
  }
} finally {
  cluster.destroy();
}
