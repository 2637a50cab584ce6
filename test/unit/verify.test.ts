// The pure parts of cluster verification: Ganeti 3.0's finding format (plain and
// --error-codes, -I demotion, --debug-simulate-errors), the configuration checks, the
// file consistency comparison and the clock-skew window.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CV, VerifyLog, clockSkew, masterCandidateStats, verifyConfigData, verifyFiles, type FileNode,
} from '../../src/master/cmdlib/verify.ts';
import type { ConfigData, NodeObject } from '../../src/master/config/model.ts';

function collect(flags: Partial<{ error_codes: boolean; ignore_errors: string[]; debug_simulate_errors: boolean }> = {}) {
  const lines: string[] = [];
  const log = new VerifyLog({ error_codes: false, ignore_errors: [], debug_simulate_errors: false, ...flags }, (m) => lines.push(m));
  return { lines, log };
}

test('findings: "  - ERROR: node name: msg", and 3.0\'s "cluster :" when there is no object', () => {
  const { lines, log } = collect();
  log.error(CV.ENODERPC, 'node2', 'while contacting node: refused');
  log.error(CV.ECLUSTERCFG, null, 'Master node is not a master candidate');
  log.error(CV.ENODEVERSION, 'node3', 'software version mismatch: master 3.0.2, node 3.0.1', 'WARNING');
  assert.deepEqual(lines, [
    '  - ERROR: node node2: while contacting node: refused',
    '  - ERROR: cluster : Master node is not a master candidate',
    '  - WARNING: node node3: software version mismatch: master 3.0.2, node 3.0.1',
  ]);
  assert.equal(log.bad, true);
});

test('--error-codes: ERROR:CODE:type:item:msg, None for no object', () => {
  const { lines, log } = collect({ error_codes: true });
  log.error(CV.ENODERPC, 'node2', 'while contacting node: refused');
  log.error(CV.ECLUSTERFILECHECK, null, 'File x is missing from node(s) node2');
  assert.deepEqual(lines, [
    '  - ERROR:ENODERPC:node:node2:while contacting node: refused',
    '  - ERROR:ECLUSTERFILECHECK:cluster:None:File x is missing from node(s) node2',
  ]);
});

test('-I demotes a code to a warning, which does not fail the verification', () => {
  const { lines, log } = collect({ ignore_errors: ['ENODESETUP'] });
  log.error(CV.ENODESETUP, 'node1', 'node setup error: x');
  assert.deepEqual(lines, ['  - WARNING: node node1: node setup error: x']);
  assert.equal(log.bad, false);
});

test('errorIf reports only failed checks, unless errors are simulated; empty lists are false', () => {
  const { lines, log } = collect();
  log.errorIf(false, CV.ENODETIME, 'n', 'a');
  log.errorIf([], CV.ENODETIME, 'n', 'b');
  log.errorIf('', CV.ENODETIME, 'n', 'c');
  assert.deepEqual(lines, []);
  log.errorIf(['x'], CV.ENODETIME, 'n', 'd');
  assert.deepEqual(lines, ['  - ERROR: node n: d']);
  const sim = collect({ debug_simulate_errors: true });
  sim.log.errorIf(false, CV.ENODETIME, 'n', 'e');
  assert.deepEqual(sim.lines, ['  - ERROR: node n: e']);
  sim.lines.length = 0;
  sim.log.errorList(CV.ECLUSTERCFG, null, []);
  assert.deepEqual(sim.lines, [], 'an empty message list prints nothing, simulated or not');
});

function node(name: string, extra: Partial<NodeObject> = {}): NodeObject {
  return {
    uuid: `uuid-${name}`, name, primary_ip: `10.0.0.${name.slice(-1)}`, secondary_ip: `10.0.0.${name.slice(-1)}`,
    master_candidate: false, offline: false, drained: false, group: 'g1', master_capable: true, vm_capable: true,
    ndparams: {}, powered: true, tags: [], serial_no: 1, ctime: 0, mtime: 0, ...extra,
  };
}

function config(nodes: NodeObject[], extra: Partial<ConfigData['cluster']> = {}): ConfigData {
  return {
    version: 3000000,
    cluster: {
      uuid: 'c', serial_no: 1, ctime: 0, mtime: 0, cluster_name: 'cluster.test', master_node: nodes[0].uuid,
      master_ip: nodes[0].primary_ip, master_netdev: 'lo', master_netmask: 32, primary_ip_family: 2,
      enabled_hypervisors: ['fake'], enabled_disk_templates: ['diskless'], candidate_pool_size: 10,
      max_running_jobs: 20, max_tracked_jobs: 25, file_storage_dir: '', shared_file_storage_dir: '',
      gluster_storage_dir: '', hvparams: {}, tags: [], ...extra,
    },
    nodes: Object.fromEntries(nodes.map((n) => [n.uuid, n])),
    nodegroups: { g1: { uuid: 'g1', name: 'default', members: [], alloc_policy: 'preferred', serial_no: 1, ctime: 0, mtime: 0 } },
    instances: {}, networks: {}, disks: {}, filters: {}, serial_no: 1, ctime: 0, mtime: 0,
  };
}

test('configuration checks in upstream words: master not a candidate, too few candidates', () => {
  const data = config([node('node1'), node('node2'), node('node3', { master_candidate: true })]);
  assert.deepEqual(masterCandidateStats(data), [1, 3]);
  assert.deepEqual(verifyConfigData(data), [
    'Master node is not a master candidate',
    'Not enough master candidates: actual 1, target 3',
  ]);
  const healthy = config([node('node1', { master_candidate: true }), node('node2', { master_candidate: true })], { candidate_pool_size: 2 });
  assert.deepEqual(verifyConfigData(healthy), []);
});

test('configuration checks: node state, unknown group, duplicate addresses; the virtual-cluster master IP is not one', () => {
  const data = config([
    node('node1', { master_candidate: true }),
    node('node2', { master_candidate: true, offline: true, group: 'nosuch', primary_ip: '10.0.0.1' }),
  ], { candidate_pool_size: 1 });
  assert.deepEqual(verifyConfigData(data), [
    'Node node2 state is invalid: master_candidate=True, drain=False, offline=True',
    "Node 'node2' has invalid group 'nosuch'",
    'IP address 10.0.0.1 is used by multiple owners: node:node1/primary, node:node2/primary',
  ]);
  const separate = config([node('node1', { master_candidate: true })], { candidate_pool_size: 1, master_ip: '10.0.0.1' });
  assert.deepEqual(verifyConfigData(separate), []);
});

const N = (name: string, mc = false, offline = false): FileNode => ({ uuid: name, name, master_candidate: mc, offline });

test('files: several versions, missing, and where they must not be, as upstream reports them', () => {
  const { lines, log } = collect();
  const files = new Map<string, Record<string, string> | null>([
    ['node1', { '/ssconf_a': 'aaaaaaaaaaaa', '/config.data': 'cccccccccccc' }],
    ['node2', { '/ssconf_a': 'bbbbbbbbbbbb', '/config.data': 'dddddddddddd' }],
    ['node10', { '/ssconf_a': 'aaaaaaaaaaaa', '/config.data': 'cccccccccccc' }],
  ]);
  verifyFiles(log, [N('node1', true), N('node2', true), N('node10')], 'node1', files,
    { all: ['/ssconf_a'], opt: [], mc: ['/config.data'] }, (p) => `/var/lib/ganeti${p}`);
  assert.deepEqual(lines, [
    '  - ERROR: cluster : File /var/lib/ganeti/config.data should not exist on node(s) node10',
    '  - ERROR: cluster : File /var/lib/ganeti/config.data found with 2 different checksums (variant 1 on node1, node10; variant 2 on node2)',
    '  - ERROR: cluster : File /var/lib/ganeti/ssconf_a found with 2 different checksums (variant 1 on node1, node10; variant 2 on node2)',
  ]);
});

test('files: a candidate without the file, a node that gave no data, offline nodes ignored', () => {
  const { lines, log } = collect({ error_codes: true });
  const files = new Map<string, Record<string, string> | null>([
    ['node1', { '/f': 'aaaaaaaaaaaa', '/cfg': 'cccccccccccc' }],
    ['node2', { '/f': 'aaaaaaaaaaaa' }],
    ['node3', null],
    ['node4', { '/f': 'zzzzzzzzzzzz' }],
  ]);
  verifyFiles(log, [N('node1', true), N('node2', true), N('node3'), N('node4', false, true)], 'node1', files,
    { all: ['/f'], opt: [], mc: ['/cfg'] });
  assert.deepEqual(lines, [
    '  - ERROR:ENODEFILECHECK:node:node3:Node did not return file checksum data',
    '  - ERROR:ECLUSTERFILECHECK:cluster:None:File /cfg is missing from node(s) node2',
  ]);
});

test('clock skew: outside the call window by more than 150 s', () => {
  assert.equal(clockSkew([1000, 0], 1000, 1001), null);
  assert.equal(clockSkew([1151, 0], 1000, 1001), null);
  assert.equal(clockSkew([1200, 500000], 1000, 1001), '199.5s');
  assert.equal(clockSkew([800, 0], 1000, 1001), '200.0s');
  assert.equal(clockSkew('x', 1000, 1001), 'invalid');
});
