// Master safety on three loopback nodes: masterd starts only with a majority of votes,
// --no-voting needs confirmation, master-failover works with the master dead, the old
// master cannot come back as master, a stale candidate cannot take over, and at no
// sampled instant do two nodes run a master daemon. Jobs submitted before a failover are
// there after it and end.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import { jobEnd, TestCluster, waitFor, type VirtualNode } from './cluster.ts';
import { LuxiClient } from '../../src/luxi/client.ts';

let cluster: TestCluster;
let node1: VirtualNode;
let node2: VirtualNode;
let node3: VirtualNode;
/** Voting waits this long for absent nodes (instead of a minute). */
const VOTING = { GANETI_VOTING_TIMEOUT: '2' };

/** A running process (an exited daemon may linger as a zombie until init reaps it). */
const alive = (pid: number | null) => {
  if (!pid) return false;
  try {
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};
const masterdUp = (n: VirtualNode) => alive(n.pid('ganeti-masterd'));
const ssconfMaster = (n: VirtualNode) => fs.readFileSync(n.file('var/lib/ganeti/ssconf_master_node'), 'utf8').trim();

async function stopMasterd(n: VirtualNode): Promise<void> {
  const pid = n.pid('ganeti-masterd');
  if (pid && alive(pid)) process.kill(pid, 'SIGKILL');
  await waitFor(() => !alive(pid));
}

function startNoded(n: VirtualNode): void {
  if (alive(n.pid('ganeti-noded'))) return;
  const r = n.run('ganeti-noded', ['-b', n.ip]);
  assert.equal(r.code, 0, r.stderr);
}

/** Whether a node's LUXI socket accepts a connection now (a daemon still counting votes has not opened it). */
function accepts(n: VirtualNode): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect(n.file('var/run/ganeti/socket/ganeti-master'));
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

/**
 * Samples, every 25 ms, how many nodes serve as master at once (their LUXI socket accepts
 * connections), and checks that a serving master is the one its ssconf names. The test
 * runs its commands asynchronously meanwhile.
 */
function sampleMasters(nodes: VirtualNode[]): { stop(): Promise<number> } {
  let worst = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const up = await Promise.all(nodes.map(accepts));
      const masters = nodes.filter((_, i) => up[i]);
      for (const m of masters) assert.equal(ssconfMaster(m), m.name, `${m.name} serves as master but its ssconf names another`);
      worst = Math.max(worst, masters.length);
      await new Promise((r) => setTimeout(r, 25));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return worst;
    },
  };
}

before(() => {
  cluster = new TestCluster();
  node1 = cluster.init('node1');
  node2 = cluster.join(node1, 'node2');
  node3 = cluster.join(node1, 'node3');
});
after(() => cluster?.destroy());

test('masterd restarts with the votes of the other nodes; master-ping answers', async () => {
  await stopMasterd(node1);
  assert.equal(node1.run('gnt-cluster', ['master-ping']).code, 1);
  const r = node1.run('ganeti-masterd', [], { env: VOTING });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(node1.run('gnt-cluster', ['master-ping']).code, 0);
  assert.match(fs.readFileSync(node1.file('var/log/ganeti/ganeti-masterd.log'), 'utf8'), /the nodes agree that this node is the master/);
});

test('two of three nodes down: masterd refuses with exit 11 once the voting window is over', async () => {
  node2.kill();
  node3.kill();
  await stopMasterd(node1);
  const t0 = Date.now();
  const r = node1.run('ganeti-masterd', [], { env: VOTING });
  assert.equal(r.code, 11, r.stderr);
  assert.match(r.stderr, /not confirmed as the master: most nodes did not answer in 2 s: 1 of 3 nodes vote for node1, 2 did not answer/);
  assert.ok(Date.now() - t0 < 15_000);
  assert.ok(!masterdUp(node1));
});

test('--no-voting is refused without confirmation and starts with --yes-do-it', async () => {
  const refused = node1.run('ganeti-masterd', ['--no-voting']);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /--no-voting needs confirmation/);
  assert.ok(!masterdUp(node1));
  const r = node1.run('ganeti-masterd', ['--no-voting', '--yes-do-it']);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(masterdUp(node1));
  startNoded(node2);
  startNoded(node3);
});

test('failover while the master is dead: the new master has the jobs, the old one cannot come back', async () => {
  // Restart node1's master normally (the candidates are back), give it jobs, then kill the whole node.
  await stopMasterd(node1);
  assert.equal(node1.run('ganeti-masterd', [], { env: VOTING }).code, 0);
  const luxi = await LuxiClient.connect(node1.file('var/run/ganeti/socket/ganeti-query'));
  const ids = ((await luxi.call('SubmitManyJobs', [[
    [{ OP_ID: 'OP_TEST_DELAY', duration: 0.01 }],
    [{ OP_ID: 'OP_TEST_DELAY', duration: 30 }],
  ]])) as [boolean, number][]).map(([, id]) => id);
  assert.equal(await jobEnd(luxi, ids[0]), 'success');
  await waitFor(() => fs.existsSync(node2.file(`var/lib/ganeti/queue/job-${ids[1]}`)) &&
    JSON.parse(fs.readFileSync(node2.file(`var/lib/ganeti/queue/job-${ids[1]}`), 'utf8')).ops[0].status === 'running');
  luxi.close();
  const sampler = sampleMasters([node1, node2, node3]);
  node1.kill();

  // Asynchronous, so that the sampler runs while the failover does.
  const r = await node2.runAsync('gnt-cluster', ['master-failover'], { env: VOTING });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /node2 is the master/);
  assert.ok(masterdUp(node2));
  assert.equal(node2.run('gnt-cluster', ['getmaster']).stdout, 'node2\n');
  assert.equal(ssconfMaster(node3), 'node2');
  // The job queue came along: the finished job is there, the running one ends as an unclean shutdown.
  const luxi2 = await LuxiClient.connect(node2.file('var/run/ganeti/socket/ganeti-query'));
  assert.equal(await jobEnd(luxi2, ids[0]), 'success');
  assert.equal(await jobEnd(luxi2, ids[1]), 'error');
  const [[result]] = (await luxi2.call('QueryJobs', [[ids[1]], ['opresult']])) as [[unknown[]]];
  assert.deepEqual(result, [['OpExecError', ['Unclean master daemon shutdown']]]);
  luxi2.close();

  // The old master comes back: its noded runs, its masterd is refused by the votes.
  startNoded(node1);
  const back = await node1.runAsync('ganeti-masterd', [], { env: VOTING });
  assert.equal(back.code, 11, back.stderr);
  assert.match(back.stderr, /newer configuration|vote for node2/);
  assert.equal(await sampler.stop(), 1, 'at most one node serving as master at any sampled instant (and one was seen)');
  assert.ok(masterdUp(node2));
});

test('failover with the old master alive: the new master stops it; and back again', async () => {
  // The old master that came back is brought up to date by the new one.
  await waitFor(() => ssconfMaster(node1) === 'node2' && node1.run('gnt-cluster', ['getmaster']).stdout === 'node2\n', 20_000);
  const sampler = sampleMasters([node1, node2, node3]);
  for (const [from, to] of [[node2, node3], [node3, node2]]) {
    const r = await to.runAsync('gnt-cluster', ['master-failover'], { env: VOTING });
    assert.equal(r.code, 0, r.stderr);
    await waitFor(() => !masterdUp(from));
    assert.ok(masterdUp(to));
    for (const n of [node1, node2, node3]) await waitFor(() => ssconfMaster(n) === to.name);
    assert.equal(from.run('gnt-cluster', ['getmaster']).stdout, `${to.name}\n`);
  }
  assert.equal(await sampler.stop(), 1, 'at most one node serving as master at any sampled instant (and one was seen)');
});

test('refused failovers change nothing: the master itself, a stale candidate, a non-candidate, no quorum', async () => {
  // On the master itself.
  let r = node2.run('gnt-cluster', ['master-failover']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /node2 is already the master/);
  // A stale candidate: node3 misses a change while its noded is down.
  node3.kill();
  assert.equal(node2.run('gnt-cluster', ['modify', '--max-tracked-jobs', '321']).code, 0);
  startNoded(node3);
  r = node3.run('gnt-cluster', ['master-failover'], { env: VOTING });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /Node node(1|2) has a newer configuration \(serial \d+\) than this node \(serial \d+\)/);
  assert.equal(ssconfMaster(node3), 'node2');
  assert.ok(masterdUp(node2) && !masterdUp(node3));
  // A node that is not a candidate.
  const node4 = cluster.join(node2, 'node4', ['--master-capable', 'no']);
  r = node4.run('gnt-cluster', ['master-failover']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /This node is not among the nodes marked as master candidates/);
  // No quorum: only node3 and node4 answer of four... node3 asks with node1, node2 down.
  node1.kill();
  node2.kill();
  node4.kill();
  r = node3.run('gnt-cluster', ['master-failover'], { env: VOTING });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /only possible if the majority of nodes are still healthy/);
  // --no-voting (for two-node clusters) asks first; without a terminal the answer is no.
  r = node3.run('gnt-cluster', ['master-failover', '--no-voting']);
  assert.equal(r.code, 1);
  assert.ok(!masterdUp(node3));
  assert.equal(ssconfMaster(node3), 'node2');
});
