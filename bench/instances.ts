// `make bench` (part 3): instances.
//
// - 100 instance adds (fake hypervisor, diskless, noop OS) submitted together with
//   SubmitManyJobs on a three-node cluster: time until the last one succeeded. Real
//   Ganeti 3.0.2 on this kind of machine: 151 s.
// - One synchronous `gnt-instance add` and `gnt-instance shutdown` through the CLI
//   (start-up included). Real Ganeti: 1.7 s and 1 s.
// - `gnt-instance list` (default fields) and `-o name,status,oper_state` at 100, 1,000
//   and 10,000 instances on a synthetic cluster of 100 nodes: 100 noded processes on
//   loopback, each holding its share of running fake instances; config.data written while
//   masterd is stopped. Real Ganeti: 350 ms for 100 instances. Aim: 10,000 in ≤ 300 ms.
//
// Knobs: BENCH_ADDS (100), BENCH_LIST_NODES (100), BENCH_LIST_SIZES (100,1000,10000), BENCH_CLI_RUNS (10).
import crypto from 'node:crypto';
import fs from 'node:fs';
import { setSyntheticInstances } from './synthetic.ts';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { jobEnd, TestCluster, waitFor, type VirtualNode } from '../test/integration/cluster.ts';
import { LuxiClient } from '../src/luxi/client.ts';
import { deriveNodeKey, encodeKey, loadKey } from '../src/rpc/auth.ts';

const ADDS = Number(process.env.BENCH_ADDS ?? 100);
const LIST_NODES = Number(process.env.BENCH_LIST_NODES ?? 100);
const CLI_RUNS = Number(process.env.BENCH_CLI_RUNS ?? 10);
const BASELINE = { addsMs: 151_000, addMs: 1700, shutdownMs: 1000, list100Ms: 350 };

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function timeCli(node: VirtualNode, tool: string, args: string[], runs = 1) {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = node.run(tool, args);
    times.push(performance.now() - t0);
    if (r.code !== 0) throw new Error(`${tool} ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  }
  times.sort((a, b) => a - b);
  return { min: times[0], median: percentile(times, 50) };
}

async function benchAdds(cluster: TestCluster) {
  const master = cluster.init('node1', 'cluster.test', ['--enabled-disk-templates', 'diskless,file']);
  const nodes = [master, cluster.join(master, 'node2'), cluster.join(master, 'node3')];
  const client = await LuxiClient.connect(master.file('var/run/ganeti/socket/ganeti-query'));
  const jobs = Array.from({ length: ADDS }, (_, i) => [{
    OP_ID: 'OP_INSTANCE_CREATE', instance_name: `inst${i}.bench`, mode: 'create', disk_template: 'diskless', disks: [], nics: [{}],
    os_type: 'noop', pnode: nodes[i % nodes.length].name, name_check: false, ip_check: false, start: true,
  }]);
  const t0 = performance.now();
  const submitted = (await client.call('SubmitManyJobs', [jobs])) as [boolean, number][];
  const statuses = await Promise.all(submitted.map(([, id]) => jobEnd(client, id)));
  const wall = performance.now() - t0;
  client.close();
  const failed = statuses.filter((s) => s !== 'success').length;
  console.log(`${ADDS} instance adds submitted together (fake, diskless, noop, 3 nodes): ${(wall / 1000).toFixed(2)} s` +
    `  (real Ganeti ${BASELINE.addsMs / 1000} s: ×${(BASELINE.addsMs / wall).toFixed(0)})${failed ? `  WARNING: ${failed} failed` : ''}`);
  const add = timeCli(master, 'gnt-instance', ['add', '-t', 'diskless', '-o', 'noop', '-n', 'node2', '--no-name-check', '--no-ip-check', 'single.bench']);
  console.log(`gnt-instance add (synchronous, CLI start-up included): ${add.median.toFixed(0)} ms  (real Ganeti ${BASELINE.addMs} ms: ×${(BASELINE.addMs / add.median).toFixed(0)})`);
  const stop = timeCli(master, 'gnt-instance', ['shutdown', 'single.bench']);
  console.log(`gnt-instance shutdown (synchronous): ${stop.median.toFixed(0)} ms  (real Ganeti ${BASELINE.shutdownMs} ms: ×${(BASELINE.shutdownMs / stop.median).toFixed(0)})`);
}

/**
 * A synthetic cluster of LIST_NODES nodes: the master plus nodes written into config.data
 * directly, each with its node key and its own noded on 127.77.<n>.1.
 */
async function syntheticCluster(cluster: TestCluster) {
  const master = cluster.init('node1', 'cluster.test', ['--enabled-disk-templates', 'diskless,file']);
  const pid = master.pid('ganeti-masterd')!;
  process.kill(pid, 'SIGTERM');
  await waitFor(() => master.pid('ganeti-masterd') === null, 30_000);
  const secret = loadKey(master.file('var/lib/ganeti/cluster-key'), 'cluster key');
  const configFile = master.file('var/lib/ganeti/config.data');
  const config = JSON.parse(fs.readFileSync(configFile, 'utf8'));
  const masterNode = Object.values(config.nodes)[0] as Record<string, unknown>;
  const group = Object.values(config.nodegroups)[0] as { members: string[] };
  const nodes: VirtualNode[] = [master];
  for (let i = 2; i <= LIST_NODES; i++) {
    const node = cluster.addNode(`node${i}`, `127.77.${i}.1`);
    const uuid = crypto.randomUUID();
    config.nodes[uuid] = { ...masterNode, uuid, name: node.name, primary_ip: node.ip, secondary_ip: node.ip, master_candidate: false, tags: [] };
    group.members.push(uuid);
    fs.mkdirSync(node.file('var/lib/ganeti'), { recursive: true });
    fs.writeFileSync(node.file('var/lib/ganeti/node-key'), encodeKey(deriveNodeKey(secret, node.name)), { mode: 0o600 });
    nodes.push(node);
  }
  fs.writeFileSync(configFile, JSON.stringify(config));
  // What a join gives a node: the cluster certificate (TLS), and the master's ssconf, which
  // names the master, so the nodes vote for it.
  const shared = fs.readdirSync(master.file('var/lib/ganeti')).filter((f) => f.startsWith('ssconf_') || f === 'server.pem' || f === 'rpc-no-ssl');
  for (const n of nodes.slice(1)) for (const f of shared) fs.copyFileSync(master.file(`var/lib/ganeti/${f}`), n.file(`var/lib/ganeti/${f}`));
  // Started in parallel: each is one process of the executable.
  await Promise.all(nodes.slice(1).map(async (n) => {
    const r = await n.runAsync('ganeti-noded', ['-b', n.ip]);
    if (r.code !== 0) throw new Error(`noded on ${n.name}: ${r.stderr}`);
  }));
  return { master, nodes, configFile };
}

/** Replace the cluster's instances by `count` running fake instances (diskless), spread over the nodes. */
function setInstances(configFile: string, nodes: VirtualNode[], count: number) {
  const config = JSON.parse(fs.readFileSync(configFile, 'utf8'));
  const uuidOf = new Map(Object.values(config.nodes as Record<string, { uuid: string; name: string }>).map((n) => [n.name, n.uuid]));
  const nodeOf = new Map(nodes.map((n) => [uuidOf.get(n.name)!, n]));
  for (const n of nodes) fs.rmSync(n.file('var/run/ganeti/fake-hypervisor'), { recursive: true, force: true });
  for (const [name, uuid] of setSyntheticInstances(config, count, nodes.map((n) => uuidOf.get(n.name)!), { disks: false })) {
    writeFakeInstance(nodeOf.get(uuid)!, name);
  }
  fs.writeFileSync(configFile, JSON.stringify(config));
}

/** A running fake instance as the fake hypervisor records it on its node. */
function writeFakeInstance(node: VirtualNode, name: string): void {
  const dir = node.file('var/run/ganeti/fake-hypervisor');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, name), JSON.stringify({ name, memory: 128, vcpus: 1, state: 'running', paused: false, started: Date.now() / 1000 }));
}

async function benchList(cluster: TestCluster) {
  const { master, nodes, configFile } = await syntheticCluster(cluster);
  console.log(`gnt-instance list on a synthetic cluster of ${nodes.length} nodes (${nodes.length} noded processes on loopback), median of ${CLI_RUNS} runs:`);
  for (const count of (process.env.BENCH_LIST_SIZES ?? '100,1000,10000').split(',').map(Number)) {
    const pid = master.pid('ganeti-masterd');
    if (pid) {
      process.kill(pid, 'SIGTERM');
      await waitFor(() => master.pid('ganeti-masterd') === null, 30_000);
    }
    setInstances(configFile, nodes, count);
    const start = master.run('ganeti-masterd', []);
    if (start.code !== 0) throw new Error(`masterd did not start: ${start.stderr}`);
    // A starting master sends ssconf (with the instance list) to every node: measured after.
    const listed = (n: VirtualNode) => fs.readFileSync(n.file('var/lib/ganeti/ssconf_instance_list'), 'utf8').split('\n').filter(Boolean).length;
    await waitFor(() => nodes.every((n) => listed(n) === count), 300_000);
    const plain = timeCli(master, 'gnt-instance', ['list'], CLI_RUNS);
    const status = timeCli(master, 'gnt-instance', ['list', '-o', 'name,status,oper_state'], CLI_RUNS);
    const check = master.run('gnt-instance', ['list', '--no-headers', '-o', 'status']).stdout.split('\n').filter((s) => s === 'running').length;
    const ratio = count === 100 ? `  (real Ganeti ${BASELINE.list100Ms} ms: ×${(BASELINE.list100Ms / plain.median).toFixed(1)})` : '';
    console.log(`  ${String(count).padStart(5)} instances: list ${plain.median.toFixed(0)} ms, -o name,status,oper_state ${status.median.toFixed(0)} ms` +
      ` (${check} shown running)${ratio}`);
  }
}

const adds = new TestCluster();
try {
  await benchAdds(adds);
} finally {
  adds.destroy();
}
const synthetic = new TestCluster();
try {
  await benchList(synthetic);
} finally {
  synthetic.destroy();
}
