// The built-in hail's placement rules (src/htools/hail-core.ts) on hand-made requests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HailInputError, runIAllocator } from '../../src/htools/hail-core.ts';
import { parseArgs } from '../../src/htools/hail.ts';

type Dict = Record<string, any>;

const SPEC = { 'memory-size': 128, 'cpu-count': 1, 'disk-size': 1024, 'disk-count': 1, 'nic-count': 1, 'spindle-use': 1 };
const IPOLICY = {
  minmax: [{ min: SPEC, max: { 'memory-size': 32768, 'cpu-count': 8, 'disk-size': 1048576, 'disk-count': 16, 'nic-count': 8, 'spindle-use': 12 } }],
  std: SPEC, 'disk-templates': ['diskless', 'file', 'sharedfile', 'plain', 'drbd'], 'vcpu-ratio': 4.0, 'spindle-ratio': 32.0,
};

function node(group: string, freeMem: number, extra: Dict = {}): Dict {
  return {
    tags: [], primary_ip: '127.0.0.1', secondary_ip: '127.0.0.1', offline: false, drained: false, master_candidate: true, group,
    master_capable: true, vm_capable: true, ndparams: { exclusive_storage: false, spindle_count: 1 },
    total_memory: 4096, reserved_memory: 512, free_memory: freeMem, total_disk: 100000, free_disk: 90000, total_spindles: 0, free_spindles: 0,
    total_cpus: 4, reserved_cpus: 1, i_pri_memory: 0, i_pri_up_memory: 0, ...extra,
  };
}

function inst(nodes: string[], dt: string, extra: Dict = {}): Dict {
  const disks = dt === 'diskless' ? [] : [{ dev_type: dt, size: 1024, mode: 'rw', spindles: null }];
  return {
    tags: [], admin_state: 'up', vcpus: 1, memory: 512, spindle_use: 1, os: 'noop', nodes, nics: [], disks,
    disk_template: dt, disks_active: true, hypervisor: 'fake', disk_space_total: dt === 'diskless' ? 0 : 1024, ...extra,
  };
}

function cluster(nodes: Dict, instances: Dict = {}, groups: Dict = { g1: 'preferred' }, clusterTags: string[] = []): Dict {
  return {
    version: 2, cluster_name: 'c', cluster_tags: clusterTags, enabled_hypervisors: ['fake'], ipolicy: IPOLICY,
    nodegroups: Object.fromEntries(Object.entries(groups).map(([u, p]) => [u, { name: `grp-${u}`, alloc_policy: p, networks: [], ipolicy: IPOLICY, tags: [] }])),
    nodes, instances,
  };
}

function alloc(name: string, extra: Dict = {}): Dict {
  return {
    name, disk_template: 'file', group_name: null, tags: [], os: 'noop', vcpus: 1, memory: 1024, spindle_use: 1,
    disks: [{ size: 1024, mode: 'rw', dev_type: 'file' }], disk_space_total: 1024, nics: [], required_nodes: 1, hypervisor: 'fake', ...extra,
  };
}

const run = (c: Dict, request: Dict, opts = {}) => runIAllocator({ ...c, request: { ...request } }, opts);

test('allocate: the node leaving the most balanced free memory; offline and drained nodes never', () => {
  const c = cluster({ n1: node('g1', 3000), n2: node('g1', 3500), n3: node('g1', 4000, { drained: true }), n4: { ...node('g1', 0), offline: true } });
  delete c.nodes.n4.free_memory;
  const r = run(c, { type: 'allocate', ...alloc('new') });
  assert.equal(r.success, true);
  assert.deepEqual(r.result, ['n2']);
  assert.match(r.info, /^Request successful: Selected group: grp-g1, Group grp-g1 \(preferred\): score: \d+\.\d{8}, successes 2, failures 2 \(FailOffline: 2\) for node\(s\) n2$/);
});

test('allocate: not enough memory anywhere is a failure with the reasons', () => {
  const c = cluster({ n1: node('g1', 500), n2: node('g1', 600) });
  const r = run(c, { type: 'allocate', ...alloc('new') });
  assert.deepEqual(r, { success: false, info: 'Request failed: Group grp-g1 (preferred): No valid allocation solutions, failure reasons: FailMem: 2', result: [] });
});

test('allocate: last_resort only when no preferred group fits; unallocable never', () => {
  const c = cluster({ p1: node('gp', 500), l1: node('gl', 3000), u1: node('gu', 4000) }, {}, { gp: 'preferred', gl: 'last_resort', gu: 'unallocable' });
  assert.deepEqual(run(c, { type: 'allocate', ...alloc('new') }).result, ['l1']);
  c.nodes.p1.free_memory = 2000;
  assert.deepEqual(run(c, { type: 'allocate', ...alloc('new') }).result, ['p1']);
  c.nodes.p1.free_memory = 100;
  c.nodegroups.gl.alloc_policy = 'unallocable';
  assert.equal(run(c, { type: 'allocate', ...alloc('new') }).success, false);
});

test('allocate: the instance policy (disk template) and the exclusion tags', () => {
  const c = cluster({ n1: node('g1', 3000), n2: node('g1', 3500) }, { web1: inst(['n2'], 'diskless', { tags: ['svc:web'] }) }, { g1: 'preferred' }, ['htools:iextags:svc']);
  assert.deepEqual(run(c, { type: 'allocate', ...alloc('web2', { tags: ['svc:web'] }) }).result, ['n1']);
  assert.deepEqual(run(c, { type: 'allocate', ...alloc('web2', { tags: ['svc:web'] }) }, { ignoreSoftErrors: true }).result, ['n2']);
  const r = run(c, { type: 'allocate', ...alloc('x', { disk_template: 'rbd' }) });
  assert.equal(r.success, false);
  assert.match(r.info, /FailPolicy: 2/);
});

test('multi-allocate: each placement counts for the next; the failed ones by name', () => {
  const c = cluster({ n1: node('g1', 2000), n2: node('g1', 2000) });
  const r = run(c, { type: 'multi-allocate', instances: [alloc('a'), alloc('b'), alloc('c', { memory: 5000 })] });
  assert.equal(r.success, true);
  assert.equal(r.info, 'Request successful: 1 instances failed to allocate and 2 were allocated successfully');
  const [allocated, failed] = r.result as [Array<[string, string[]]>, string[]];
  assert.deepEqual(allocated.map(([n]) => n), ['a', 'b']);
  assert.notEqual(allocated[0][1][0], allocated[1][1][0]);
  assert.deepEqual(failed, ['c']);
});

test('node-evacuate: diskless and sharedfile migrate (hail\'s opcode), file and plain cannot move', () => {
  const c = cluster({ n1: node('g1', 2000), n2: node('g1', 3000), n3: node('g1', 2500) },
    { d: inst(['n1'], 'diskless'), s: inst(['n1'], 'sharedfile'), f: inst(['n1'], 'file'), p: inst(['n1'], 'plain') });
  const r = run(c, { type: 'node-evacuate', instances: ['d', 's', 'f', 'p'], evac_mode: 'primary-only' });
  assert.equal(r.info, 'Request successful: 2 instances failed to move and 2 were moved successfully');
  const [moved, failed, jobs] = r.result as [unknown[][], unknown[][], Dict[][]];
  assert.deepEqual(moved.map((m) => m[0]), ['d', 's']);
  assert.deepEqual(failed, [['f', 'Instances of type file cannot be relocated'], ['p', 'Instances of type plain cannot be relocated']]);
  assert.deepEqual(jobs[0], [{ OP_ID: 'OP_INSTANCE_MIGRATE', instance_name: 'd', target_node: (moved[0][2] as string[])[0], allow_runtime_changes: false,
    ignore_ipolicy: false, cleanup: false, allow_failover: true, ignore_hvversions: true }]);
  // The second goes where the first did not make the memory less balanced.
  assert.deepEqual(moved.map((m) => (m[2] as string[])[0]).sort(), ['n2', 'n3']);
  const sec = run(c, { type: 'node-evacuate', instances: ['d'], evac_mode: 'secondary-only' });
  assert.deepEqual((sec.result as unknown[][])[1], [['d', "Instances with disk template 'diskless' can't execute change secondary"]]);
});

test('node-evacuate DRBD: failover (primary-only) and a new secondary (secondary-only)', () => {
  const c = cluster({ n1: node('g1', 2000), n2: node('g1', 3000), n3: node('g1', 2500) }, { r: inst(['n1', 'n2'], 'drbd') });
  const pri = run(c, { type: 'node-evacuate', instances: ['r'], evac_mode: 'primary-only' });
  assert.deepEqual(pri.result, [[['r', 'grp-g1', ['n2', 'n1']]], [], [[{ OP_ID: 'OP_INSTANCE_MIGRATE', instance_name: 'r', allow_runtime_changes: false,
    ignore_ipolicy: false, cleanup: false, allow_failover: true, ignore_hvversions: true }]]]);
  const sec = run(c, { type: 'node-evacuate', instances: ['r'], evac_mode: 'secondary-only' });
  assert.deepEqual(sec.result, [[['r', 'grp-g1', ['n1', 'n3']]], [], [[{ OP_ID: 'OP_INSTANCE_REPLACE_DISKS', instance_name: 'r', early_release: false,
    ignore_ipolicy: false, mode: 'replace_new_secondary', disks: [], remote_node: 'n3' }]]]);
});

test('relocate: stays in the group, refuses non-mirrored instances', () => {
  const c = cluster({ n1: node('g1', 2000), n2: node('g1', 3000), x1: node('g2', 4000) }, { d: inst(['n1'], 'diskless'), f: inst(['n1'], 'file') },
    { g1: 'preferred', g2: 'preferred' });
  assert.deepEqual(run(c, { type: 'relocate', name: 'd', disk_space_total: 0, required_nodes: 1, relocate_from: ['n1'] }),
    { success: true, info: 'Request successful: success', result: ['n2'] });
  assert.deepEqual(run(c, { type: 'relocate', name: 'f', disk_space_total: 1024, required_nodes: 1, relocate_from: ['n1'] }),
    { success: false, info: "Request failed: Can't relocate non-mirrored instances", result: [] });
});

test('change-group: to another group', () => {
  const c = cluster({ n1: node('g1', 2000), x1: node('g2', 4000) }, { d: inst(['n1'], 'diskless') }, { g1: 'preferred', g2: 'preferred' });
  const r = run(c, { type: 'change-group', instances: ['d'], target_groups: [] });
  assert.deepEqual((r.result as unknown[][])[0], [['d', 'grp-g2', ['x1']]]);
});

test('malformed requests and command lines', () => {
  const c = cluster({ n1: { ...node('g1', 2000) } });
  delete c.nodes.n1.free_memory;
  assert.throws(() => run(c, { type: 'allocate', ...alloc('a') }), (e: unknown) => e instanceof HailInputError && /invalid data for node 'n1': key 'free_memory' not found/.test((e as Error).message));
  assert.throws(() => run(cluster({}), { type: 'bogus' }), /Invalid request type 'bogus'/);
  assert.deepEqual(parseArgs([]), { code: 1, err: 'Error: This program needs an input file.\n' });
  assert.deepEqual(parseArgs(['a', 'b']), { code: 1, err: 'Error: Only one argument is accepted (the input file)\n' });
  assert.deepEqual(parseArgs(['--restrict-allocation-to=n1,n2', '-']), { opts: { restrictTo: ['n1', 'n2'] }, file: '-' });
});
