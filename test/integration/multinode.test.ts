// Three nodes on loopback, built as an operator builds them: noded on each, the join
// token read with `ganeti join-token`, `gnt-node add` on the master. Roles, the
// candidate pool, replicas (serial and bytes) on the candidates, ssconf on every node, a
// dead node, re-adding, and bad input that must change nothing.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { jobEnd, TestCluster, waitFor, type VirtualNode } from './cluster.ts';
import { LuxiClient } from '../../src/luxi/client.ts';

let cluster: TestCluster;
let master: VirtualNode;
let node2: VirtualNode;
let node3: VirtualNode;

const configText = (n: VirtualNode) => fs.readFileSync(n.file('var/lib/ganeti/config.data'), 'utf8');
/** The configuration serial once config.data has caught up with the journal (it is rewritten when changes pause). */
async function serial(n: VirtualNode): Promise<number> {
  await waitFor(() => !fs.existsSync(n.file('var/lib/ganeti/config.journal')));
  return JSON.parse(configText(n)).serial_no as number;
}
const ssconf = (n: VirtualNode, key: string) => fs.readFileSync(n.file(`var/lib/ganeti/ssconf_${key}`), 'utf8');
const roles = () => master.run('gnt-node', ['list', '--no-headers', '-o', 'name,role']).stdout;

before(() => {
  cluster = new TestCluster();
  master = cluster.init('node1');
  node2 = cluster.join(master, 'node2');
  node3 = cluster.join(master, 'node3');
});
after(() => cluster?.destroy());

test('joined nodes: roles, the token is gone, keys are private', () => {
  assert.equal(roles(), 'node1 M\nnode2 C\nnode3 C\n');
  for (const n of [node2, node3]) {
    assert.ok(!fs.existsSync(n.file('var/lib/ganeti/join-token')), 'the join token works once');
    assert.equal(fs.statSync(n.file('var/lib/ganeti/node-key')).mode & 0o777, 0o600);
    assert.equal(fs.statSync(n.file('var/lib/ganeti/cluster-key')).mode & 0o777, 0o600, 'a candidate holds the cluster key');
  }
  const again = node2.runMain(['join-token']);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already part of a cluster/);
});

test('candidates hold byte-identical configuration replicas; every node has the same ssconf', async () => {
  assert.equal(master.run('gnt-cluster', ['modify', '--max-tracked-jobs', '1234']).code, 0);
  // config.data is rewritten from the journal once changes pause.
  await waitFor(() => configText(node2) === configText(master) && configText(node3) === configText(master) &&
    JSON.parse(configText(master)).cluster.max_tracked_jobs === 1234);
  for (const key of ['node_list', 'master_candidates', 'master_node', 'node_primary_ips', 'online_nodes']) {
    for (const n of [node2, node3]) assert.equal(ssconf(n, key), ssconf(master, key), `ssconf_${key} on ${n.name}`);
  }
  assert.equal(ssconf(node3, 'node_list'), 'node1\nnode2\nnode3\n');
});

test('the job queue is replicated to the candidates', async () => {
  const luxi = await LuxiClient.connect(master.file('var/run/ganeti/socket/ganeti-query'));
  try {
    const id = (await luxi.call('SubmitJob', [[{ OP_ID: 'OP_TEST_DELAY', duration: 0.01, on_nodes: ['node2', 'node3'] }]])) as number;
    assert.equal(await jobEnd(luxi, id), 'success');
    const original = master.file(`var/lib/ganeti/queue/job-${id}`);
    for (const n of [node2, node3]) {
      await waitFor(() => fs.readFileSync(n.file(`var/lib/ganeti/queue/job-${id}`), 'utf8') === fs.readFileSync(original, 'utf8'));
    }
  } finally {
    luxi.close();
  }
});

test('bad input changes nothing: existing node, removing the master, conflicting flags, the master role', async () => {
  const before = await serial(master);
  const cases: Array<[string[], RegExp]> = [
    [['add', '--primary-ip', node2.ip, 'node2'], /Node node2 is already in the configuration/],
    [['remove', 'node1'], /Node is the master node, failover to another node is required/],
    [['modify', '-C', 'yes', '-D', 'yes', 'node2'], /Can't set the node into more than one state at the same time/],
    [['modify', '-O', 'yes', 'node1'], /The master role can be changed only via master-failover/],
    [['remove', 'nosuch'], /Node 'nosuch' not known/],
  ];
  for (const [args, message] of cases) {
    const r = master.run('gnt-node', args);
    assert.equal(r.code, 1, `gnt-node ${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, message);
  }
  assert.equal(await serial(master), before);
  assert.equal(roles(), 'node1 M\nnode2 C\nnode3 C\n');
});

test('the candidate pool: demotion below the pool size needs --auto-promote, which promotes another node', async () => {
  assert.equal(master.run('gnt-cluster', ['modify', '-C', '2']).code, 0);
  // Pool of 2 with three candidates: demoting one is fine (the pool is still full).
  let r = master.run('gnt-node', ['modify', '-C', 'no', 'node3']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'Modified node node3\n - master_candidate -> False\n');
  // A demoted node gives up the cluster key and its replica.
  await waitFor(() => !fs.existsSync(node3.file('var/lib/ganeti/cluster-key')) && !fs.existsSync(node3.file('var/lib/ganeti/config.data')));
  // Now node2 is needed: draining it without --auto-promote is refused.
  const before = await serial(master);
  r = master.run('gnt-node', ['modify', '-D', 'yes', 'node2']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /Not enough master candidates, please pass auto promote option to allow promotion/);
  assert.equal(await serial(master), before);
  r = master.run('gnt-node', ['modify', '-D', 'yes', '--auto-promote', 'node2']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(roles(), 'node1 M\nnode2 D\nnode3 C\n');
  await waitFor(() => fs.existsSync(node3.file('var/lib/ganeti/cluster-key')) && configText(node3) === configText(master));
  // Undraining comes back as a regular node (the pool is full).
  r = master.run('gnt-node', ['modify', '-D', 'no', 'node2']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(roles(), 'node1 M\nnode2 R\nnode3 C\n');
});

test('node-add hooks run on the existing nodes (pre) and on every node with the new one (post)', () => {
  const install = (root: string, phase: 'pre' | 'post') => {
    const dir = path.join(root, `etc/ganeti/hooks/node-add-${phase}.d`);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, '10-record'), `#!/bin/sh\nenv | grep ^GANETI_ | sort > "$0.$GANETI_HOOKS_PHASE.env"\n`, { mode: 0o755 });
  };
  const node4Root = path.join(cluster.base, 'node4');
  for (const root of [master.root, node2.root, node3.root, node4Root]) for (const phase of ['pre', 'post'] as const) install(root, phase);
  const node4 = cluster.join(master, 'node4');
  const env = (n: string, phase: string) => {
    const file = path.join(cluster.base, n, `etc/ganeti/hooks/node-add-${phase}.d/10-record.${phase}.env`);
    return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : null;
  };
  for (const n of ['node1', 'node2', 'node3']) assert.match(env(n, 'pre') ?? '', /^GANETI_NODE_NAME=node4$/m, `pre hook on ${n}`);
  assert.equal(env('node4', 'pre'), null, 'the new node runs no pre hook');
  for (const n of ['node1', 'node2', 'node3', 'node4']) {
    const post = env(n, 'post') ?? '';
    assert.match(post, /^GANETI_HOOKS_PATH=node-add$/m, `post hook on ${n}`);
    assert.match(post, new RegExp(`^GANETI_NODE_PIP=${node4.ip.replaceAll('.', '\\.')}$`, 'm'));
    assert.match(post, /^GANETI_OBJECT_TYPE=NODE$/m);
  }
  assert.equal(master.run('gnt-node', ['remove', 'node4']).code, 0);
});

test('an offline node is not contacted: its live fields are "*", jobs on it fail; it comes back online', async () => {
  let r = master.run('gnt-node', ['modify', '-O', 'yes', '--auto-promote', 'node3']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, / - offline -> True\n/);
  assert.match(master.run('gnt-node', ['list', '--no-headers', '-o', 'name,role,mfree', 'node3']).stdout, /^node3 O +\*\n$/);
  assert.equal(ssconf(master, 'offline_nodes'), 'node3\n');
  r = master.run('gnt-debug', ['delay', '-n', 'node3', '0.01']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /node3.*[Oo]ffline/);
  r = master.run('gnt-node', ['modify', '-O', 'no', 'node3']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(master.run('gnt-node', ['list', '--no-headers', '-o', 'name,role', 'node3']).stdout, /^node3 [CR]\n$/);
});

test('gnt-node add with -s and --master-capable no: a regular node with its secondary address', () => {
  const n5 = cluster.join(master, 'node5', ['-s', '127.0.0.99', '--master-capable', 'no', '--node-parameters', 'ssh_port=2222']);
  const row = master.run('gnt-node', ['list', '--no-headers', '--separator=|', '-o', 'name,sip,role,master_capable,ndp/ssh_port', 'node5']).stdout;
  assert.equal(row, 'node5|127.0.0.99|R|N|2222\n');
  assert.ok(!fs.existsSync(n5.file('var/lib/ganeti/cluster-key')), 'a regular node gets no cluster key');
  assert.match(ssconf(n5, 'node_secondary_ips'), /^node5 127\.0\.0\.99$/m);
  assert.equal(master.run('gnt-node', ['remove', 'node5']).code, 0);
});

test('a dead node: verify reports it, jobs that need it fail and name it, others go on; it is re-added', async () => {
  node2.kill();
  const verify = master.run('gnt-cluster', ['verify']);
  assert.equal(verify.code, 1);
  assert.match(verify.stdout, /ERROR: node node2: /);
  const luxi = await LuxiClient.connect(master.file('var/run/ganeti/socket/ganeti-query'));
  try {
    const [[, needs], [, other]] = (await luxi.call('SubmitManyJobs', [[
      [{ OP_ID: 'OP_TEST_DELAY', duration: 0.01, on_nodes: ['node2'] }],
      [{ OP_ID: 'OP_TEST_DELAY', duration: 0.01, on_nodes: ['node3'] }],
    ]])) as [boolean, number][];
    assert.equal(await jobEnd(luxi, needs), 'error');
    assert.equal(await jobEnd(luxi, other), 'success');
    const info = master.run('gnt-job', ['info', String(needs)]).stdout;
    assert.match(info, /node2/);
  } finally {
    luxi.close();
  }
  // Configuration changes go on without it.
  assert.equal(master.run('gnt-cluster', ['modify', '--max-tracked-jobs', '999']).code, 0);
  // The node comes back (its key is still there): re-added without a token.
  assert.equal(node2.run('ganeti-noded', ['-b', node2.ip]).code, 0);
  const r = master.run('gnt-node', ['add', '--readd', 'node2']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Readding a node, the offline\/drained flags were reset/);
  await waitFor(() => ssconf(node2, 'node_list') === ssconf(master, 'node_list'));
});

test('gnt-node remove: the node leaves the cluster and can join again with a new token', async () => {
  const r = master.run('gnt-node', ['remove', 'node2']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(roles(), 'node1 M\nnode3 C\n');
  assert.ok(!fs.existsSync(node2.file('var/lib/ganeti/node-key')));
  assert.ok(!fs.existsSync(node2.file('var/lib/ganeti/ssconf_node_list')));
  assert.doesNotMatch(ssconf(node3, 'node_list'), /node2/);
  const token = node2.runMain(['join-token']);
  assert.equal(token.code, 0);
  // A wrong token is refused by the node; the right one works.
  const wrong = master.run('gnt-node', ['add', '--primary-ip', node2.ip, '--join-token', 'x'.repeat(43), 'node2']);
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /Node node2 refused to join: Unauthorized: wrong join token/);
  const ok = master.run('gnt-node', ['add', '--primary-ip', node2.ip, '--join-token', token.stdout.trim(), 'node2']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(roles(), /node2 [CR]/);
});
