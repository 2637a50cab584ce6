// `make bench`: job throughput and latency through LUXI, and CLI start time, on a
// fresh one-node virtual cluster. Prints figures and the ratio to real Ganeti 3.0.2
// measured on the same kind of machine (DEVELOPERS.md: about 2 jobs/s, 0.7–1.3 s from
// submit to success for an empty job; shared/golden: `gnt-job list` ~250 ms, a
// synchronous `gnt-debug delay 0.01` 783 ms).
//
// Knobs: BENCH_JOBS (default 1000), BENCH_CLIENTS (default 10), BENCH_CLI_RUNS (20).
// The jobs are OP_TEST_DELAY with duration 0.001 s on the master: Ganeti refuses a
// zero duration ("Duration must be greater than zero"), so this is the emptiest job
// that can succeed; it sleeps in the master daemon, as upstream's LUTestDelay on_master.
//
// The queue writes one file per job, and on ext4 without a journal (this kind of
// machine) creating a file gets much slower for minutes after many files were deleted
// nearby (ext4 skips recently freed inodes one by one): the bench prints that cost.
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { jobEnd, TestCluster } from '../test/integration/cluster.ts';
import { LuxiClient } from '../src/luxi/client.ts';

const JOBS = Number(process.env.BENCH_JOBS ?? 1000);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 10);
const CLI_RUNS = Number(process.env.BENCH_CLI_RUNS ?? 20);
const BASELINE = { jobsPerSec: 2, latencyMs: 1000, cliMs: 250, syncDelayMs: 783 };

/** CPU time (user + system) a process has used so far, ms: a figure that other load on the machine does not change much. */
function cpuMs(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * (1000 / 100); // clock ticks at USER_HZ 100
}

/** Microseconds to create one small file where the queue lives (the disk's state matters, see above). */
function fileCreateMicros(dir: string): number {
  const probe = fs.mkdtempSync(path.join(dir, 'create-probe-'));
  const n = 200;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) fs.writeFileSync(path.join(probe, `f${i}`), 'x'.repeat(1000));
  const us = ((performance.now() - t0) * 1000) / n;
  fs.rmSync(probe, { recursive: true, force: true });
  return us;
}

/** Move every finished job to the archive, so that each phase starts with a short queue. */
async function archiveAll(socket: string): Promise<void> {
  const client = await LuxiClient.connect(socket);
  await client.call('AutoArchiveJobs', [-1, 60]);
  client.close();
}

/** A Ganeti timestamp [seconds, microseconds] in milliseconds. */
function ms([sec, us]: [number, number]): number {
  return sec * 1000 + us / 1000;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
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
      const status = await jobEnd(client, id);
      if (status !== 'success') failed++;
      latencies.push(performance.now() - t0);
    }
    client.close();
  }));
  const wall = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return { wall, rate: JOBS / wall, p50: percentile(latencies, 50), p99: percentile(latencies, 99), failed };
}

/**
 * The queue's throughput: each of the clients submits its share back to back (every id
 * acknowledged only once durable) while a second connection per client follows its jobs
 * to their end. jobs/s = jobs / (first submission → last success); submit→success from
 * the jobs' own received and end timestamps.
 */
async function benchPipelined(socket: string) {
  const share = Math.ceil(JOBS / CLIENTS);
  const ids: number[] = [];
  let failed = 0;
  const start = performance.now();
  await Promise.all(Array.from({ length: CLIENTS }, async () => {
    const [submitter, follower] = await Promise.all([LuxiClient.connect(socket), LuxiClient.connect(socket)]);
    const mine: number[] = [];
    let submitted = false;
    let wake = () => {};
    const follow = (async () => {
      for (let i = 0; ; i++) {
        while (i >= mine.length && !submitted) await new Promise<void>((r) => { wake = r; });
        if (i >= mine.length) return;
        if ((await jobEnd(follower, mine[i])) !== 'success') failed++;
      }
    })();
    for (let i = 0; i < share; i++) {
      mine.push((await submitter.call('SubmitJob', [[{ OP_ID: 'OP_TEST_DELAY', duration: 0.001 }]])) as number);
      wake();
    }
    submitted = true;
    wake();
    await follow;
    ids.push(...mine);
    submitter.close();
    follower.close();
  }));
  const wall = (performance.now() - start) / 1000;
  const client = await LuxiClient.connect(socket);
  const rows = (await client.call('QueryJobs', [ids, ['received_ts', 'end_ts']])) as Array<[[number, number], [number, number]]>;
  client.close();
  const latencies = rows.map(([received, end]) => ms(end) - ms(received)).sort((a, b) => a - b);
  return { rate: ids.length / wall, p50: percentile(latencies, 50), p99: percentile(latencies, 99), failed };
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

/** 50 jobs that all want the master's node lock exclusively: how long each waited for it. */
async function benchContention(socket: string) {
  const client = await LuxiClient.connect(socket);
  const op = { OP_ID: 'OP_TEST_DELAY', duration: 0.001, no_locks: false };
  const t0 = performance.now();
  const ids = ((await client.call('SubmitManyJobs', [Array.from({ length: 50 }, () => [op])])) as [boolean, number][]).map(([, id]) => id);
  for (const id of ids) await jobEnd(client, id);
  const wall = performance.now() - t0;
  const rows = (await client.call('QueryJobs', [ids, ['opstart', 'opexec']])) as [[number, number][], [number, number][]][];
  client.close();
  const waits = rows.map(([[start], [exec]]) => ms(exec) - ms(start)).sort((a, b) => a - b);
  return { wall, p50: percentile(waits, 50), p99: percentile(waits, 99) };
}

function benchCli(bin: string, env: NodeJS.ProcessEnv, tool: string, args: string[]) {
  const times: number[] = [];
  for (let i = 0; i < CLI_RUNS; i++) {
    const t0 = performance.now();
    const r = spawnSync(path.join(bin, tool), args, { env, encoding: 'utf8' });
    times.push(performance.now() - t0);
    if (r.status !== 0) throw new Error(`${tool} ${args.join(' ')} failed: ${r.stderr}`);
  }
  times.sort((a, b) => a - b);
  return { min: times[0], median: percentile(times, 50) };
}

const cluster = new TestCluster();
try {
  const node = cluster.init();
  const socket = node.file('var/run/ganeti/socket/ganeti-query');
  console.log(`bench: ${JOBS} OP_TEST_DELAY(0.001) jobs, ${CLIENTS} parallel LUXI clients, one-node virtual cluster on ${node.ip}`);
  const masterd = Number(fs.readFileSync(node.file('var/run/ganeti/ganeti-masterd.pid'), 'utf8'));
  console.log(`creating a small file next to the queue: ${fileCreateMicros(node.file('var/lib/ganeti')).toFixed(0)} µs (about 20 on a disk without recent mass deletions)`);
  const cpuBefore = cpuMs(masterd);
  const jobs = await benchJobs(socket);
  const cpuPerJob = (cpuMs(masterd) - cpuBefore) / JOBS;
  console.log(`jobs/s (submit→success, ${CLIENTS} clients): ${jobs.rate.toFixed(1)}  (real Ganeti ~${BASELINE.jobsPerSec}/s: ×${(jobs.rate / BASELINE.jobsPerSec).toFixed(0)})`);
  console.log(`submit→success latency: p50 ${jobs.p50.toFixed(1)} ms, p99 ${jobs.p99.toFixed(1)} ms  (real Ganeti 700–1300 ms: ×${(BASELINE.latencyMs / jobs.p50).toFixed(0)} faster at p50)`);
  console.log(`master daemon CPU per job: ${cpuPerJob.toFixed(2)} ms (one core: at most ${(1000 / cpuPerJob).toFixed(0)} jobs/s)`);
  if (jobs.failed) console.log(`WARNING: ${jobs.failed} jobs did not succeed`);
  await archiveAll(socket);
  const piped = await benchPipelined(socket);
  console.log(`jobs/s (${CLIENTS} clients submitting back to back, every job followed to success): ${piped.rate.toFixed(1)}; submit→success p50 ${piped.p50.toFixed(1)} ms, p99 ${piped.p99.toFixed(1)} ms`);
  if (piped.failed) console.log(`WARNING: ${piped.failed} jobs did not succeed`);
  await archiveAll(socket);
  const submitRate = await benchSubmitOnly(socket, JOBS);
  console.log(`submissions acknowledged (durable) per second: ${submitRate.toFixed(0)}`);
  const contention = await benchContention(socket);
  console.log(`50 jobs contending for one exclusive lock: lock wait p50 ${contention.p50.toFixed(1)} ms, p99 ${contention.p99.toFixed(1)} ms; all done in ${contention.wall.toFixed(0)} ms`);
  const list = benchCli(cluster.bin, node.env, 'gnt-job', ['list', '1']);
  console.log(`gnt-job list start-to-exit: min ${list.min.toFixed(1)} ms, median ${list.median.toFixed(1)} ms over ${CLI_RUNS} runs  (real Ganeti ~${BASELINE.cliMs} ms: ×${(BASELINE.cliMs / list.median).toFixed(1)})`);
  const sync = benchCli(cluster.bin, node.env, 'gnt-debug', ['delay', '0.001']);
  console.log(`gnt-debug delay 0.001 (synchronous, start-up included): min ${sync.min.toFixed(1)} ms, median ${sync.median.toFixed(1)} ms  (real Ganeti ~${BASELINE.syncDelayMs} ms: ×${(BASELINE.syncDelayMs / sync.median).toFixed(1)})`);
} finally {
  cluster.destroy();
}
