// `make bench` (part 2): configuration changes and node RPC on a virtual cluster of
// eleven nodes (the master and 10 master candidates, all on loopback).
//
// - Config change latency: OP_CLUSTER_SET_PARAMS jobs one after the other, at 0, 1,000
//   and 10,000 synthetic instances (Ganeti 3.0 instance and disk objects written into
//   config.data while masterd is stopped). "change" is the opcode's exec time (journal
//   record + fdatasync + the change sent to 10 candidates, each fdatasyncing its own
//   journal + ssconf check); "job" is submit→success as a client sees it.
// - RPC round trip: `version` calls to one node, sequential, p50/p99: over TLS (the
//   default, pinned cluster certificate) and plain HTTP (a second, --no-ssl cluster),
//   both on kept-alive connections; and over TLS with a new connection per call (the
//   handshake that keep-alive saves).
//
// The candidates are processes on this one machine: their fdatasyncs share one disk and
// their work two cores, which a real cluster of 11 machines does not.
//
// Knobs: BENCH_CHANGES (default 100 per size), BENCH_CANDIDATES (10), BENCH_RPCS (1000),
// BENCH_ONLY_RPC=1 (the RPC figures alone).
import fs from 'node:fs';
import { setSyntheticInstances } from './synthetic.ts';
import { performance } from 'node:perf_hooks';
import { jobEnd, TestCluster, waitFor, type VirtualNode } from '../test/integration/cluster.ts';
import { LuxiClient } from '../src/luxi/client.ts';
import type { RpcClient, RpcTarget } from '../src/rpc/client.ts';

const CHANGES = Number(process.env.BENCH_CHANGES ?? 100);
const RPCS = Number(process.env.BENCH_RPCS ?? 1000);
const CANDIDATES = Number(process.env.BENCH_CANDIDATES ?? 10);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Replace the instances of a stopped master's config.data with `count` synthetic ones. */
function setInstances(master: VirtualNode, count: number): void {
  const file = master.file('var/lib/ganeti/config.data');
  const config = JSON.parse(fs.readFileSync(file, 'utf8'));
  setSyntheticInstances(config, count, Object.keys(config.nodes));
  fs.writeFileSync(file, JSON.stringify(config));
}

async function benchChanges(master: VirtualNode, instances: number) {
  const pid = master.pid('ganeti-masterd')!;
  process.kill(pid, 'SIGTERM');
  await waitFor(() => master.pid('ganeti-masterd') === null, 30_000);
  setInstances(master, instances);
  const size = fs.statSync(master.file('var/lib/ganeti/config.data')).size;
  const start = master.run('ganeti-masterd', []);
  if (start.code !== 0) throw new Error(`masterd did not start: ${start.stderr}`);
  // The candidates get the new configuration whole first (their replica is too old for the next change).
  const client = await LuxiClient.connect(master.file('var/run/ganeti/socket/ganeti-query'));
  const run = async (value: number) => {
    const t0 = performance.now();
    const id = (await client.call('SubmitJob', [[{ OP_ID: 'OP_CLUSTER_SET_PARAMS', max_tracked_jobs: value }]])) as number;
    if ((await jobEnd(client, id)) !== 'success') throw new Error(`config change job ${id} failed`);
    return { id, ms: performance.now() - t0 };
  };
  await run(100);
  const jobs: number[] = [];
  const ids: number[] = [];
  for (let i = 0; i < CHANGES; i++) {
    const r = await run(1000 + i);
    jobs.push(r.ms);
    ids.push(r.id);
  }
  const rows = (await client.call('QueryJobs', [ids, ['opexec', 'opend']])) as [[number, number][], [number, number][]][];
  client.close();
  const ms = ([s, us]: [number, number]) => s * 1000 + us / 1000;
  const changes = rows.map(([[exec], [end]]) => ms(end) - ms(exec)).sort((a, b) => a - b);
  jobs.sort((a, b) => a - b);
  return { size, change: { p50: percentile(changes, 50), p99: percentile(changes, 99) }, job: { p50: percentile(jobs, 50), p99: percentile(jobs, 99) } };
}

/** `calls` sequential version RPCs from `master` to `target`; a new client (connection) per call unless keepAlive. */
async function benchRpc(master: VirtualNode, target: VirtualNode, calls: number, keepAlive = true) {
  const t: RpcTarget = { name: target.name, address: target.ip, port: 1811 };
  let rpc: RpcClient = master.rpcClient();
  await rpc.call(t, 'version', []);
  const times: number[] = [];
  for (let i = 0; i < calls; i++) {
    if (!keepAlive) {
      rpc.close();
      rpc = master.rpcClient();
    }
    const t0 = performance.now();
    const r = await rpc.call(t, 'version', []);
    times.push(performance.now() - t0);
    if (!r.ok) throw new Error(`version RPC failed: ${r.error}`);
  }
  rpc.close();
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p99: percentile(times, 99) };
}

/** The RPC round trips: TLS and plain HTTP kept alive, TLS with a handshake per call. */
async function rpcFigures(master: VirtualNode, target: VirtualNode) {
  const show = (what: string, r: { p50: number; p99: number }, calls: number) =>
    console.log(`node RPC round trip (version, sequential, ${what}): p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms over ${calls} calls`);
  show('TLS + HMAC, keep-alive', await benchRpc(master, target, RPCS), RPCS);
  const plain = new TestCluster();
  try {
    const plainMaster = plain.init('node1', 'plain.test', ['--no-ssl']);
    const plainNode = plain.join(plainMaster, 'node2', [], ['--no-ssl']);
    show('plain HTTP + HMAC, keep-alive, a --no-ssl cluster', await benchRpc(plainMaster, plainNode, RPCS), RPCS);
  } finally {
    plain.destroy();
  }
  const fresh = Math.min(RPCS, 200);
  show('TLS + HMAC, a new connection and handshake per call', await benchRpc(master, target, fresh, false), fresh);
}

const cluster = new TestCluster();
try {
  const master = cluster.init('node1');
  const luxi = await LuxiClient.connect(master.file('var/run/ganeti/socket/ganeti-query'));
  const poolJob = (await luxi.call('SubmitJob', [[{ OP_ID: 'OP_CLUSTER_SET_PARAMS', candidate_pool_size: CANDIDATES + 1 }]])) as number;
  if ((await jobEnd(luxi, poolJob)) !== 'success') throw new Error('setting the candidate pool size failed');
  luxi.close();
  const series = async (label: string) => {
    for (const instances of [0, 1000, 10000]) {
      const r = await benchChanges(master, instances);
      console.log(`${label}, ${String(instances).padStart(5)} instances (config.data ${(r.size / 1e6).toFixed(1)} MB): ` +
        `change p50 ${r.change.p50.toFixed(1)} ms, p99 ${r.change.p99.toFixed(1)} ms; job submit→success p50 ${r.job.p50.toFixed(1)} ms, p99 ${r.job.p99.toFixed(1)} ms`);
    }
  };
  if (process.env.BENCH_ONLY_RPC) {
    await rpcFigures(master, cluster.join(master, 'node2'));
  } else {
    console.log(`bench: configuration changes, ${CHANGES} per size; a change is a ~1 KB journal record, never the whole config.data`);
    await series('master only      ');
    const nodes = Array.from({ length: CANDIDATES }, (_, i) => cluster.join(master, `node${i + 2}`));
    const roles = master.run('gnt-node', ['list', '--no-headers', '-o', 'role']).stdout.split('\n').filter((r) => r === 'C').length;
    await series(`${roles} candidates (1 disk, 2 cores shared by 12 processes)`);
    await rpcFigures(master, nodes[0]);
  }
} finally {
  cluster.destroy();
}
