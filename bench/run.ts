// `make bench`: job throughput and latency through LUXI, and CLI start time, on a
// fresh one-node virtual cluster. Prints figures and the ratio to real Ganeti 3.0.2
// measured on the same kind of machine (DEVELOPERS.md: about 2 jobs/s, 0.7–1.3 s from
// submit to success for an empty job; shared/golden: `gnt-job list` ~250 ms).
//
// Knobs: BENCH_JOBS (default 1000), BENCH_CLIENTS (default 10), BENCH_CLI_RUNS (20).
// The jobs are OP_TEST_DELAY with duration 0.001 s on the master: Ganeti refuses a
// zero duration ("Duration must be greater than zero"), so this is the emptiest job
// that can succeed; it still makes the node RPC to the master's noded.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { TestCluster } from '../test/integration/cluster.ts';
import { LuxiClient } from '../src/luxi/client.ts';

const JOBS = Number(process.env.BENCH_JOBS ?? 1000);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 10);
const CLI_RUNS = Number(process.env.BENCH_CLI_RUNS ?? 20);
const BASELINE = { jobsPerSec: 2, latencyMs: 1000, cliMs: 250 };

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function waitSuccess(client: LuxiClient, id: number): Promise<string> {
  let prev: unknown = null;
  for (;;) {
    const r = await client.call('WaitForJobChange', [id, ['status'], prev, null, 30]);
    if (r === 'nochange') continue;
    const [info] = r as [string[]];
    if (['success', 'error', 'canceled'].includes(info[0])) return info[0];
    prev = info;
  }
}

async function benchJobs(socket: string) {
  const latencies: number[] = [];
  let failed = 0;
  let next = 0;
  const start = performance.now();
  await Promise.all(Array.from({ length: CLIENTS }, async () => {
    const client = await LuxiClient.connect(socket);
    while (next < JOBS) {
      next++;
      const t0 = performance.now();
      const id = (await client.call('SubmitJob', [[{ OP_ID: 'OP_TEST_DELAY', duration: 0.001 }]])) as number;
      const status = await waitSuccess(client, id);
      if (status !== 'success') failed++;
      latencies.push(performance.now() - t0);
    }
    client.close();
  }));
  const wall = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return { wall, rate: JOBS / wall, p50: percentile(latencies, 50), p99: percentile(latencies, 99), failed };
}

async function benchSubmitOnly(socket: string, n: number) {
  let next = 0;
  const start = performance.now();
  await Promise.all(Array.from({ length: CLIENTS }, async () => {
    const client = await LuxiClient.connect(socket);
    while (next < n) {
      next++;
      await client.call('SubmitJob', [[{ OP_ID: 'OP_TEST_DELAY', duration: 0.001 }]]);
    }
    client.close();
  }));
  return n / ((performance.now() - start) / 1000);
}

function benchCli(bin: string, env: NodeJS.ProcessEnv) {
  const times: number[] = [];
  for (let i = 0; i < CLI_RUNS; i++) {
    const t0 = performance.now();
    const r = spawnSync(path.join(bin, 'gnt-job'), ['list', '1'], { env, encoding: 'utf8' });
    times.push(performance.now() - t0);
    if (r.status !== 0) throw new Error(`gnt-job list failed: ${r.stderr}`);
  }
  times.sort((a, b) => a - b);
  return { min: times[0], median: percentile(times, 50) };
}

const cluster = new TestCluster();
try {
  const node = cluster.init();
  const socket = node.file('var/run/ganeti/socket/ganeti-query');
  console.log(`bench: ${JOBS} OP_TEST_DELAY(0.001) jobs, ${CLIENTS} parallel LUXI clients, one-node virtual cluster on ${node.ip}`);
  const jobs = await benchJobs(socket);
  console.log(`jobs/s (submit→success, ${CLIENTS} clients): ${jobs.rate.toFixed(1)}  (real Ganeti ~${BASELINE.jobsPerSec}/s: ×${(jobs.rate / BASELINE.jobsPerSec).toFixed(0)})`);
  console.log(`submit→success latency: p50 ${jobs.p50.toFixed(1)} ms, p99 ${jobs.p99.toFixed(1)} ms  (real Ganeti 700–1300 ms: ×${(BASELINE.latencyMs / jobs.p50).toFixed(0)} faster at p50)`);
  if (jobs.failed) console.log(`WARNING: ${jobs.failed} jobs did not succeed`);
  const submitRate = await benchSubmitOnly(socket, JOBS);
  console.log(`submissions acknowledged (durable) per second: ${submitRate.toFixed(0)}`);
  const cli = benchCli(cluster.bin, node.env);
  console.log(`gnt-job list start-to-exit: min ${cli.min.toFixed(1)} ms, median ${cli.median.toFixed(1)} ms over ${CLI_RUNS} runs  (real Ganeti ~${BASELINE.cliMs} ms: ×${(BASELINE.cliMs / cli.median).toFixed(1)})`);
} finally {
  cluster.destroy();
}
