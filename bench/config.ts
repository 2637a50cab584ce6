// `make bench` (part 2): configuration changes and node RPC on a virtual cluster of
// eleven nodes (the master and 10 master candidates, all on loopback).
//
// - Config change latency: OP_CLUSTER_SET_PARAMS jobs one after the other, at 0, 1,000
//   and 10,000 synthetic instances (Ganeti 3.0 instance and disk objects written into
//   config.data while masterd is stopped). "change" is the opcode's exec time (journal
//   record + fdatasync + the change sent to 10 candidates, each fdatasyncing its own
//   journal + ssconf check); "job" is submit→success as a client sees it.
// - RPC round trip: `version` calls to one node, sequential, p50/p99.
//
// The candidates are processes on this one machine: their fdatasyncs share one disk and
// their work two cores, which a real cluster of 11 machines does not.
//
// Knobs: BENCH_CHANGES (default 100 per size), BENCH_CANDIDATES (10), BENCH_RPCS (1000).
import crypto from 'node:crypto';
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { jobEnd, TestCluster, waitFor, type VirtualNode } from '../test/integration/cluster.ts';
import { LuxiClient } from '../src/luxi/client.ts';
import { RpcClient } from '../src/rpc/client.ts';
import { loadKey } from '../src/rpc/auth.ts';

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
  const nodes = Object.keys(config.nodes);
  const now = Date.now() / 1000;
  config.instances = {};
  config.disks = {};
  // A new serial: the candidates' replicas are older and get the new configuration whole.
  config.serial_no += 1000;
  for (let i = 0; i < count; i++) {
    const uuid = crypto.randomUUID();
    const disk = crypto.randomUUID();
    const node = nodes[i % nodes.length];
    const name = `inst${i}.example.com`;
    config.disks[disk] = {
      children: [], ctime: now, dev_type: 'file', iv_name: 'disk/0', logical_id: ['loop', `/srv/ganeti/file-storage/${name}/${disk}.file.disk0`],
      mode: 'rw', mtime: now, nodes: [node], params: {}, serial_no: 1, size: 1024, uuid: disk,
    };
    config.instances[uuid] = {
      admin_state: 'up', admin_state_source: 'admin', beparams: {}, ctime: now, disks: [disk], disks_active: true, hvparams: {},
      hypervisor: 'fake', mtime: now, name, nics: [{ mac: `aa:00:00:${(i >> 16 & 255).toString(16).padStart(2, '0')}:${(i >> 8 & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`, nicparams: {}, uuid: crypto.randomUUID() }],
      os: 'noop', osparams: {}, osparams_private: {}, primary_node: node, serial_no: 1, tags: [], uuid,
    };
  }
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

async function benchRpc(master: VirtualNode, target: VirtualNode) {
  const secret = loadKey(master.file('var/lib/ganeti/cluster-key'), 'cluster key');
  const rpc = new RpcClient(() => secret);
  const t = { name: target.name, address: target.ip, port: 1811 };
  await rpc.call(t, 'version', []);
  const times: number[] = [];
  for (let i = 0; i < RPCS; i++) {
    const t0 = performance.now();
    const r = await rpc.call(t, 'version', []);
    times.push(performance.now() - t0);
    if (!r.ok) throw new Error(`version RPC failed: ${r.error}`);
  }
  rpc.close();
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p99: percentile(times, 99) };
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
  console.log(`bench: configuration changes, ${CHANGES} per size; a change is a ~1 KB journal record, never the whole config.data`);
  await series('master only      ');
  const nodes = Array.from({ length: CANDIDATES }, (_, i) => cluster.join(master, `node${i + 2}`));
  const roles = master.run('gnt-node', ['list', '--no-headers', '-o', 'role']).stdout.split('\n').filter((r) => r === 'C').length;
  await series(`${roles} candidates (1 disk, 2 cores shared by 12 processes)`);
  const rpc = await benchRpc(master, nodes[0]);
  console.log(`node RPC round trip (version, sequential, keep-alive, plain HTTP + HMAC): p50 ${rpc.p50.toFixed(2)} ms, p99 ${rpc.p99.toFixed(2)} ms over ${RPCS} calls`);
} finally {
  cluster.destroy();
}
