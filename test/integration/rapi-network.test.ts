// /2/networks and /2/filters driven by the real, official client (Debian's
// python3-ganeti-rapi, `ganeti.rapi.client` of Ganeti 3.0.2): networks created, listed,
// modified, connected, tagged, disconnected and deleted through jobs; filter rules added,
// read, replaced and deleted, and their effect on a job submitted meanwhile.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { TestCluster, type VirtualNode } from './cluster.ts';
import { rapiClientMissing as skip, runRapiPython, setRapiUsers } from './rapi-python.ts';

let cluster: TestCluster;
let node: VirtualNode;

/** Run Python with `c`, a client as bench:benchpass, and `job_status(jid)`, the status of the job once it ended. */
const py = (code: string): any => runRapiPython(node, code, {
  extra: ['def job_status(jid):', '  wait(jid)', '  return c.GetJobStatus(jid)["status"]'].join('\n'),
});

before(() => {
  if (skip) return;
  cluster = new TestCluster();
  node = cluster.init('node1.rn.test', 'cluster.rn.test');
  setRapiUsers(node, 'bench benchpass write\n');
});
after(() => cluster?.destroy());

test('networks through the official client: create, get, modify, connect, tags, disconnect, delete', { skip }, () => {
  const out = py([
    "r = [job_status(c.CreateNetwork('net1', '10.20.0.0/29', gateway='10.20.0.1', add_reserved_ips='10.20.0.6', tags='a'))]",
    "r.append(c.GetNetworks())",
    "n = c.GetNetwork('net1')",
    "r.append({k: n[k] for k in ['name', 'network', 'gateway', 'network6', 'mac_prefix', 'free_count', 'reserved_count', 'map', 'group_list', 'inst_list', 'external_reservations', 'serial_no', 'tags']})",
    "r.append(sorted(n.keys()))",
    "r.append(job_status(c.ModifyNetwork('net1', mac_prefix='aa:bb:cc', add_reserved_ips=['10.20.0.2'])))",
    "r.append(c.GetNetwork('net1')['map'])",
    "r.append(job_status(c.ConnectNetwork('net1', 'default', 'routed', 'rt0')))",
    "r.append(c.GetNetwork('net1')['group_list'])",
    "r.append(job_status(c.AddNetworkTags('net1', ['b'])))",
    "r.append(c.GetNetworkTags('net1'))",
    "r.append(job_status(c.DeleteNetworkTags('net1', ['a'])))",
    "r.append([x['name'] for x in c.GetNetworks(bulk=True)])",
    "r.append(job_status(c.DeleteNetwork('net1')))",
    "r.append(job_status(c.DisconnectNetwork('net1', 'default')))",
    "r.append(job_status(c.DeleteNetwork('net1')))",
    "r.append(c.GetNetworks())",
    'out = r',
  ].join('\n'));
  assert.deepEqual(out, [
    'success',
    ['net1'],
    {
      name: 'net1', network: '10.20.0.0/29', gateway: '10.20.0.1', network6: null, mac_prefix: null, free_count: 4, reserved_count: 4,
      map: 'XX....XX', group_list: [], inst_list: [], external_reservations: '10.20.0.0, 10.20.0.1, 10.20.0.6, 10.20.0.7', serial_no: 1, tags: ['a'],
    },
    ['ctime', 'external_reservations', 'free_count', 'gateway', 'gateway6', 'group_list', 'inst_list', 'mac_prefix', 'map', 'mtime', 'name',
      'network', 'network6', 'reserved_count', 'serial_no', 'tags', 'uuid'],
    'success', 'XXX...XX',
    'success', [['default', 'routed', 'rt0', '']],
    'success', ['a', 'b'],
    'success', ['net1'],
    'error',
    'success', 'success', [],
  ]);
});

test('network errors as the client sees them: unknown network, bad body', { skip }, () => {
  const out = py([
    'r = []',
    'for f in [lambda: c.GetNetwork("nosuch"), lambda: c.CreateNetwork("x", "not-a-network")]:',
    '  try:',
    '    f()',
    '    r.append(None)',
    '  except client.GanetiApiError as e:',
    '    r.append([e.code, str(e)[:60]])',
    'out = r',
  ].join('\n'));
  assert.equal(out[0][0], 404);
  assert.equal(out[1][0], 400);
});

test('filters through the official client: add, list, get, replace, delete, and the effect on a job', { skip }, () => {
  const out = py([
    "uuid = c.AddFilter(0, [['opcode', ['=', 'OP_ID', 'OP_TEST_DELAY']]], 'PAUSE', reason_trail=[('rapi-test', 'maintenance', 1)])",
    'r = [c.GetFilters() == [uuid]]',
    "f = c.GetFilter(uuid)",
    "r.append([sorted(f.keys()), f['action'], f['priority'], f['predicates'], [x[:2] for x in f['reason_trail']]])",
    "b = c.GetFilters(bulk=True)",
    "r.append([len(b), b[0]['uuid'] == uuid])",
    "r.append(c.ReplaceFilter(uuid, 2, [], ['RATE_LIMIT', 3]) == uuid)",
    "g = c.GetFilter(uuid)",
    "r.append([g['action'], g['priority'], g['predicates']])",
    "r.append(c.DeleteFilter(uuid))",
    "r.append(c.GetFilters())",
    "try:",
    "  c.GetFilter(uuid)",
    "  r.append(None)",
    "except client.GanetiApiError as e:",
    "  r.append(e.code)",
    'out = r',
  ].join('\n'));
  assert.deepEqual(out, [
    true,
    [['action', 'predicates', 'priority', 'reason_trail', 'uuid', 'watermark'], 'PAUSE', 0, [['opcode', ['=', 'OP_ID', 'OP_TEST_DELAY']]],
      [['rapi-test', 'maintenance'], ['gnt:client', ''], ['luxid', '']]],
    [1, true],
    true,
    [['RATE_LIMIT', 3], 2, []],
    null,
    [],
    404,
  ]);
});

test('a PAUSE rule added through RAPI holds a job until the rule is deleted through RAPI', { skip }, () => {
  const out = py([
    "uuid = c.AddFilter(0, [['opcode', ['=', 'OP_ID', 'OP_TAGS_SET']]], 'PAUSE')",
    "jid = c.AddClusterTags(['held'])",
    'import time',
    'time.sleep(0.5)',
    "r = [c.GetJobStatus(jid)['status'], c.GetClusterTags()]",
    'c.DeleteFilter(uuid)',
    'r.append(job_status(jid))',
    "r.append(c.GetClusterTags())",
    'out = r',
  ].join('\n'));
  assert.deepEqual(out, ['queued', [], 'success', ['held']]);
});
