// Our RAPI driven by the real, official client: Debian's python3-ganeti-rapi
// (`ganeti.rapi.client`, Ganeti 3.0.2) on a two-node cluster (fake hypervisor, the noop
// OS). Create an instance, wait for its job, list, modify, stop, start, remove; change a
// node's role; cancel a job; errors as the client sees them. Then the master candidate:
// it holds the same rapi.pem and users, refuses to run RAPI while not the master, and
// serves RAPI (same certificate) once a master failover made it the master.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { TestCluster, waitFor, type VirtualNode } from './cluster.ts';
import { rapiRequest } from './rapi-http.ts';
import { rapiClientMissing as skip, runRapiPython, setRapiUsers } from './rapi-python.ts';
import { LuxiClient } from '../../src/luxi/client.ts';

let cluster: TestCluster;
let node1: VirtualNode;
let node2: VirtualNode;

before(() => {
  if (skip) return;
  cluster = new TestCluster();
  node1 = cluster.init('node1.gnt.test', 'cluster.gnt.test', ['--nic-parameters=mode=bridged,link=gnt0']);
  setRapiUsers(node1, 'bench benchpass write\nviewer viewpass read\n');
  // Joined after the users file exists: the new candidate receives it with the configuration.
  node2 = cluster.join(node1, 'node2.gnt.test');
});
after(() => cluster?.destroy());

test('version, features, cluster info', { skip }, () => {
  const out = runRapiPython(node1, "out = [c.GetVersion(), c.GetFeatures(), c.GetInfo()['name'], c.GetInfo()['master'], sorted(c.GetNodes())]");
  assert.deepEqual(out, [2, ['node-migrate-reqv1', 'instance-reinstall-reqv1', 'node-evac-res1', 'instance-create-reqv1'],
    'cluster.gnt.test', 'node1.gnt.test', ['node1.gnt.test', 'node2.gnt.test']]);
});

test('instance life: create (diskless, noop), wait, list, modify, stop, start, remove', { skip }, () => {
  const created = runRapiPython(node1, [
    "jid = c.CreateInstance('create', 'inst1.gnt.test', 'diskless', [], [{}], os='noop', pnode='node1.gnt.test', name_check=False, ip_check=False)",
    'ok = wait(jid)',
    'job = c.GetJobStatus(jid)',
    "out = [isinstance(jid, int), ok, job['status'], job['opresult'], job['summary'], c.GetInstances()]",
  ].join('\n'));
  assert.deepEqual(created, [true, true, 'success', [['node1.gnt.test']], ['INSTANCE_CREATE(inst1.gnt.test)'], ['inst1.gnt.test']]);

  const listed = runRapiPython(node1, [
    'bulk = c.GetInstances(bulk=True)',
    "i = c.GetInstance('inst1.gnt.test')",
    "out = [len(bulk), bulk[0]['name'], i['status'], i['admin_state'], i['os'], i['pnode'], i['beparams']['memory'], i['beparams']['maxmem']]",
  ].join('\n'));
  assert.deepEqual(listed, [1, 'inst1.gnt.test', 'running', 'up', 'noop', 'node1.gnt.test', 128, 128]);

  const modified = runRapiPython(node1, [
    "jid = c.ModifyInstance('inst1.gnt.test', beparams={'maxmem': 256, 'minmem': 256})",
    'ok = wait(jid)',
    "b = c.GetInstance('inst1.gnt.test')['beparams']",
    "out = [ok, c.GetJobStatus(jid)['opresult'], b['maxmem'], b['minmem'], b['memory']]",
  ].join('\n'));
  assert.deepEqual(modified, [true, [[['be/maxmem', 256], ['be/minmem', 256]]], 256, 256, 256]);

  const stopped = runRapiPython(node1, [
    "ok = wait(c.ShutdownInstance('inst1.gnt.test', timeout=5))",
    "s1 = c.GetInstance('inst1.gnt.test')['status']",
    "ok2 = wait(c.StartupInstance('inst1.gnt.test'))",
    "s2 = c.GetInstance('inst1.gnt.test')['status']",
    "q = c.Query('instance', ['name', 'status'], ['=', 'name', 'inst1.gnt.test'])",
    'out = [ok, s1, ok2, s2, q["data"]]',
  ].join('\n'));
  assert.deepEqual(stopped, [true, 'ADMIN_down', true, 'running', [[[0, 'inst1.gnt.test'], [0, 'running']]]]);

  const tagged = runRapiPython(node1, [
    "ok = wait(c.AddInstanceTags('inst1.gnt.test', ['web', 'prod']))",
    "out = [ok, c.GetInstanceTags('inst1.gnt.test')]",
  ].join('\n'));
  assert.deepEqual(tagged, [true, ['prod', 'web']]);

  const removed = runRapiPython(node1, "out = [wait(c.DeleteInstance('inst1.gnt.test')), c.GetInstances()]");
  assert.deepEqual(removed, [true, []]);
});

test("a node's role: drained, regular, master candidate again; the master's cannot be set", { skip }, () => {
  const roles = runRapiPython(node1, [
    'seen = []',
    "for role in ['drained', 'regular', 'master-candidate']:",
    "  ok = wait(c.SetNodeRole('node2.gnt.test', role))",
    "  seen.append([role, ok, c.GetNodeRole('node2.gnt.test')])",
    'try:',
    "  c.SetNodeRole('node1.gnt.test', 'master')",
    '  err = None',
    'except client.GanetiApiError as e:',
    '  err = [e.code, str(e)]',
    "out = [seen, c.GetNodeRole('node1.gnt.test'), err]",
  ].join('\n'));
  assert.deepEqual(roles, [
    [['drained', true, 'drained'], ['regular', true, 'regular'], ['master-candidate', true, 'master-candidate']],
    'master',
    // The client shows "<code> <message>: <explain>", the message html-escaped as upstream sends it.
    [400, '400 Can&#x27;t set &#x27;master&#x27; role: Bad request syntax or unsupported method'],
  ]);
});

test('cancel a job waiting for another one', { skip }, async () => {
  const luxi = await LuxiClient.connect(node1.file('var/run/ganeti/socket/ganeti-query'));
  try {
    const blocker = (await luxi.call('SubmitJob', [[{ OP_ID: 'OP_TEST_DELAY', duration: 3 }]])) as number;
    const out = runRapiPython(node1, [
      `jid = c.ShutdownInstance('none.gnt.test', depends=[[${blocker}, ['success']]])`,
      'r = c.CancelJob(jid)',
      'ok = wait(jid)',
      "out = [r[0], ok, c.GetJobStatus(jid)['status']]",
    ].join('\n'));
    assert.deepEqual(out, [true, false, 'canceled']);
  } finally {
    luxi.close();
  }
});

test('errors as the client sees them: unknown objects 404, missing rights 403, bad bodies 400', { skip }, () => {
  const out = runRapiPython(node1, [
    'errs = []',
    'for fn in [lambda: c.GetInstance("nosuch.gnt.test"), lambda: c.GetGroup("nosuch"),',
    '           lambda: c.CreateInstance("create", "x.gnt.test", "diskless", [], [{}], no_such_option=1),',
    '           lambda: client.GanetiRapiClient(c._base_url.split("//")[1].split(":")[0], username="viewer", password="viewpass").ShutdownInstance("x")]:',
    '  try:',
    '    fn()',
    '    errs.append(None)',
    '  except client.GanetiApiError as e:',
    '    errs.append(e.code)',
    'out = errs',
  ].join('\n'));
  assert.deepEqual(out, [404, 404, 400, 403]);
});

test('the candidate: same rapi.pem and users; no RAPI while not the master; RAPI follows a master failover', { skip }, async () => {
  const pem1 = fs.readFileSync(node1.file('var/lib/ganeti/rapi.pem'), 'utf8');
  assert.equal(fs.readFileSync(node2.file('var/lib/ganeti/rapi.pem'), 'utf8'), pem1);
  assert.equal(fs.statSync(node2.file('var/lib/ganeti/rapi/users')).mode & 0o777, 0o600);
  assert.equal(fs.readFileSync(node2.file('var/lib/ganeti/rapi/users'), 'utf8'), fs.readFileSync(node1.file('var/lib/ganeti/rapi/users'), 'utf8'));
  const refused = node2.run('ganeti-rapi', ['-f']);
  assert.equal(refused.code, 11);
  assert.equal(refused.stderr, 'Not master, exiting.\n');
  const fingerprint = (await rapiRequest(node1.ip, 5080, '/version')).fingerprint;

  const r = await node2.runAsync('gnt-cluster', ['master-failover']);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  await waitFor(() => node2.pid('ganeti-rapi') !== null, 20_000);
  assert.equal(node1.pid('ganeti-rapi'), null, 'the old master still runs ganeti-rapi');
  const moved = await rapiRequest(node2.ip, 5080, '/2/info', { user: 'bench', password: 'benchpass' });
  assert.equal(moved.status, 200, moved.body);
  assert.equal(JSON.parse(moved.body).master, 'node2.gnt.test');
  assert.equal(moved.fingerprint, fingerprint, 'the new master serves the same certificate');
  assert.equal(runRapiPython(node2, 'out = c.GetInfo()["master"]'), 'node2.gnt.test');
});
