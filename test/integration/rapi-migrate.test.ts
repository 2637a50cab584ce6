// Migration through the remote API, driven by the real, official client (Debian's
// python3-ganeti-rapi): MigrateInstance, FailoverInstance, MigrateNode (the jobs it
// submits), EvacuateNode and ReplaceInstanceDisks, on two virtual nodes with the fake
// hypervisor and diskless instances.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { TestCluster, noopOsMissing, type VirtualNode } from './cluster.ts';
import { rapiClientMissing, runRapiPython, setRapiUsers } from './rapi-python.ts';

const skip = rapiClientMissing || noopOsMissing;

let cluster: TestCluster;
let node1: VirtualNode;

/** Run Python with `c`, a client of the master (ops:opspass); the code sets `out`, which comes back as JSON. */
const py = (code: string): any => runRapiPython(node1, code, { user: 'ops', password: 'opspass' });

function pnode(name: string): string {
  return node1.run('gnt-instance', ['list', '--no-headers', '-o', 'pnode', name]).stdout.trim();
}

before(() => {
  if (skip) return;
  cluster = new TestCluster();
  node1 = cluster.init('node1.gnt.test', 'cluster.gnt.test');
  setRapiUsers(node1, 'ops opspass write\n');
  cluster.join(node1, 'node2.gnt.test');
  node1.run('gnt-cluster', ['modify', '--default-iallocator', '']);
  for (const name of ['a1.gnt.test', 'a2.gnt.test']) {
    const r = node1.run('gnt-instance', ['add', '-t', 'diskless', '-o', 'noop', '--no-name-check', '--no-ip-check', '-n', 'node1.gnt.test', name]);
    assert.equal(r.code, 0, r.stderr);
  }
});
after(() => cluster?.destroy());

test('MigrateInstance and FailoverInstance', { skip }, () => {
  const out = py([
    "j1 = c.MigrateInstance('a1.gnt.test', mode='live', target_node='node2.gnt.test')",
    'ok1 = wait(j1)',
    "p1 = c.GetInstance('a1.gnt.test')['pnode']",
    "j2 = c.FailoverInstance('a1.gnt.test', target_node='node1.gnt.test')",
    'ok2 = wait(j2)',
    "p2 = c.GetInstance('a1.gnt.test')",
    "s = c.GetJobStatus(j1)",
    "out = [ok1, p1, ok2, p2['pnode'], p2['status'], s['summary'], s['opresult'], [l[3] for l in s['oplog'][0]][:1]]",
  ].join('\n'));
  assert.deepEqual(out, [true, 'node2.gnt.test', true, 'node1.gnt.test', 'running', ['INSTANCE_MIGRATE(a1.gnt.test)'], [null],
    ['Migrating instance a1.gnt.test']]);
  // a bad target is a failed job with upstream's error
  const bad = py([
    "j = c.MigrateInstance('a1.gnt.test', target_node='node1.gnt.test')",
    'ok = wait(j)',
    "out = [ok, c.GetJobStatus(j)['opresult'][0]]",
  ].join('\n'));
  assert.equal(bad[0], false);
  assert.deepEqual(bad[1], ['OpPrereqError', ['Cannot migrate instance a1.gnt.test to its primary (node1.gnt.test)', 'wrong_state']]);
});

test('MigrateNode: the job submits one migration per primary instance', { skip }, () => {
  const out = py([
    "j = c.MigrateNode('node1.gnt.test', target_node='node2.gnt.test')",
    'ok = wait(j)',
    "res = c.GetJobStatus(j)['opresult'][0]",
    "jobs = [jid for (st, jid) in res['jobs']]",
    'oks = [wait(x) for x in jobs]',
    "out = [ok, sorted(res.keys()), len(jobs), oks, sorted(c.GetJobStatus(x)['summary'][0] for x in jobs)]",
  ].join('\n'));
  assert.deepEqual(out, [true, ['jobs'], 2, [true, true], ['INSTANCE_MIGRATE(a1.gnt.test)', 'INSTANCE_MIGRATE(a2.gnt.test)']]);
  assert.equal(pnode('a1.gnt.test'), 'node2.gnt.test');
  assert.equal(pnode('a2.gnt.test'), 'node2.gnt.test');
});

test('EvacuateNode and ReplaceInstanceDisks', { skip }, () => {
  const out = py([
    "j = c.EvacuateNode('node2.gnt.test', remote_node='node1.gnt.test', mode=client.NODE_EVAC_SEC)",
    'ok = wait(j)',
    "r = c.GetJobStatus(j)['opresult'][0]",
    "j2 = c.EvacuateNode('node2.gnt.test', remote_node='node1.gnt.test', mode=client.NODE_EVAC_PRI)",
    'ok2 = wait(j2)',
    "e2 = c.GetJobStatus(j2)['opresult'][0]",
    "j3 = c.ReplaceInstanceDisks('a1.gnt.test')",
    'ok3 = wait(j3)',
    "e3 = c.GetJobStatus(j3)['opresult'][0]",
    'out = [ok, r, ok2, e2, ok3, e3]',
  ].join('\n'));
  assert.deepEqual(out, [
    true, { jobs: [] },
    false, ['OpPrereqError', ['Without the use of an iallocator only secondary instances can be evacuated', 'wrong_input']],
    false, ['OpPrereqError', ['Can only run replace disks for DRBD8-based instances', 'wrong_input']],
  ]);
});
