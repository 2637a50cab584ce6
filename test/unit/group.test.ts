// Node groups without a cluster: the group query fields, parameter checks, the group
// logical units' prerequisites and the gnt-group key=value option syntax.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OpPrereqError, TypeEnforcementError } from '../../src/core/errors.ts';
import { runQuery } from '../../src/core/query.ts';
import type { OpInput } from '../../src/core/opcodes.ts';
import { parseIdentKeyVal, parseKeyVal } from '../../src/cli/keyvalue.ts';
import type { LUContext } from '../../src/master/cmdlib/base.ts';
import { typedDict } from '../../src/core/params.ts';
import { groupAdd, groupAssignNodes, groupRemove, groupRename, groupSetParams, lookupNodeGroup } from '../../src/master/cmdlib/group.ts';
import * as D from '../../src/master/config/defaults.ts';
import { GROUP_FIELDS, groupViews } from '../../src/master/config/group-fields.ts';
import type { ConfigData } from '../../src/master/config/model.ts';
import type { ConfigStore, ConfigTx } from '../../src/master/config/store.ts';

function sampleConfig(): ConfigData {
  const obj = (uuid: string, extra: Record<string, unknown>) => ({ uuid, serial_no: 1, ctime: 0, mtime: 0, tags: [] as string[], ...extra });
  const group = (uuid: string, name: string, extra: Record<string, unknown> = {}) =>
    obj(uuid, { name, members: [], alloc_policy: 'preferred', ndparams: {}, diskparams: {}, ipolicy: {}, networks: {}, ...extra });
  return {
    version: 3000000,
    cluster: obj('c1', {
      cluster_name: 'cluster.test', master_node: 'n2', enabled_disk_templates: ['diskless', 'file'],
      ndparams: structuredClone(D.DEFAULT_NDPARAMS), diskparams: structuredClone(D.DEFAULT_DISKPARAMS), ipolicy: structuredClone(D.DEFAULT_IPOLICY),
    }) as never,
    nodes: {
      n2: obj('n2', { name: 'node2.example.com', group: 'g1' }) as never,
      n1: obj('n1', { name: 'node1.example.com', group: 'g1' }) as never,
      n3: obj('n3', { name: 'node3.example.com', group: 'g2' }) as never,
    },
    nodegroups: {
      g2: group('g2', 'rack10', { ndparams: { ssh_port: 2222 }, diskparams: { drbd: { metavg: 'vg2' } }, ipolicy: { 'vcpu-ratio': 2 } }) as never,
      g1: group('g1', 'default') as never,
      g3: group('g3', 'rack2') as never,
    },
    instances: {
      i1: obj('i1', { name: 'inst10', primary_node: 'n1' }) as never,
      i2: obj('i2', { name: 'inst9', primary_node: 'n2' }) as never,
    },
    networks: {},
    disks: {},
    filters: {},
    serial_no: 1,
    ctime: 0,
    mtime: 0,
  };
}

function store(data: ConfigData): ConfigStore {
  return {
    data,
    nodes: () => Object.values(data.nodes),
    node: (u: string) => data.nodes[u],
    nodeByName: (n: string) => Object.values(data.nodes).find((x) => x.name === n),
    groups: () => Object.values(data.nodegroups),
    masterNode: () => data.nodes[data.cluster.master_node],
    async update<T>(change: (tx: ConfigTx) => T): Promise<T> {
      return change({
        data,
        modified: (o) => { o.serial_no += 1; },
        add: (section, o) => { (data[section] as Record<string, unknown>)[o.uuid] = o; },
        remove: (section, uuid) => { delete (data[section] as Record<string, unknown>)[uuid]; },
      });
    },
  } as unknown as ConfigStore;
}

function context(data: ConfigData): LUContext {
  return { config: store(data), feedback: () => undefined } as unknown as LUContext;
}

async function run(factory: (op: OpInput, ctx: LUContext) => ReturnType<typeof groupAdd>, op: Record<string, unknown>, ctx: LUContext): Promise<unknown> {
  const lu = factory({ OP_ID: 'OP_X', ...op } as OpInput, ctx);
  lu.checkArguments?.();
  lu.expandNames?.();
  lu.locks?.();
  await lu.checkPrereq?.();
  lu.hooks?.();
  return lu.exec();
}

const prereq = (msg: string, ecode?: string) => (e: unknown) => e instanceof OpPrereqError && e.message === msg && e.args[1] === ecode;

test('group query: sorted by name, members from the nodes, parameters merged over the cluster', () => {
  const data = sampleConfig();
  const names = ['name', 'node_cnt', 'node_list', 'pinst_cnt', 'pinst_list', 'ndp/ssh_port', 'custom_ndparams', 'tags'];
  const r = runQuery(GROUP_FIELDS, names, groupViews(store(data)), null);
  assert.deepEqual(r.data.map((row) => row.map(([, v]) => v)), [
    ['default', 2, ['node1.example.com', 'node2.example.com'], 2, ['inst9', 'inst10'], 22, {}, []],
    ['rack2', 0, [], 0, [], 22, {}, []],
    ['rack10', 1, ['node3.example.com'], 0, [], 2222, { ssh_port: 2222 }, []],
  ]);
  const [rack10] = runQuery(GROUP_FIELDS, ['ndparams', 'diskparams', 'ipolicy'], groupViews(store(data)), ['==', 'name', 'rack10']).data;
  const [nd, disk, ipolicy] = rack10.map(([, v]) => v) as Array<Record<string, any>>;
  assert.deepEqual(Object.keys(nd), ['oob_program', 'spindle_count', 'exclusive_storage', 'ovs', 'ovs_name', 'ovs_link', 'ssh_port', 'cpu_speed']);
  assert.equal(nd.ssh_port, 2222);
  assert.equal(disk.drbd.metavg, 'vg2');
  assert.equal(disk.drbd['meta-stripes'], 1);
  assert.deepEqual(Object.keys(ipolicy), ['minmax', 'std', 'spindle-ratio', 'vcpu-ratio', 'disk-templates']);
  assert.equal(ipolicy['vcpu-ratio'], 2);
  assert.equal(GROUP_FIELDS.size, 25);
});

test('typedDict (ForceDictType on a copy): conversions and upstream messages', () => {
  const types = { a: 'int', b: 'bool', c: 'string', d: 'float' } as const;
  assert.deepEqual(typedDict({ a: '12', b: 'TRUE', c: false, d: '1.5' }, types), { a: 12, b: true, c: '', d: 1.5 });
  assert.deepEqual(typedDict({ b: 'false' }, types), { b: false });
  assert.throws(() => typedDict({ x: 1 }, types), (e: unknown) => e instanceof TypeEnforcementError && e.message === "Unknown parameter 'x'");
  assert.throws(() => typedDict({ a: 'abc' }, types), (e: unknown) => e instanceof TypeEnforcementError && e.message === "'a' (value abc) is not a valid integer");
  assert.throws(() => typedDict({ b: 'maybe' }, types), (e: unknown) => e instanceof TypeEnforcementError && e.message === "'b' (value maybe) is not a valid boolean");
  assert.throws(() => typedDict({ a: null }, types), (e: unknown) => e instanceof TypeEnforcementError && e.message === "'a' (value None) is not a valid integer");
});

test('lookupNodeGroup: uuid, name, the only group, and the errors', () => {
  const data = sampleConfig();
  assert.equal(lookupNodeGroup(data, 'g2'), 'g2');
  assert.equal(lookupNodeGroup(data, 'rack10'), 'g2');
  assert.throws(() => lookupNodeGroup(data, 'nosuch'), prereq("Node group 'nosuch' not found", 'unknown_entity'));
  assert.throws(() => lookupNodeGroup(data, null), prereq('More than one node group exists. Target group must be specified explicitly.'));
  data.nodegroups = { g1: data.nodegroups.g1 };
  assert.equal(lookupNodeGroup(data, null), 'g1');
});

test('OP_GROUP_ADD: a new group object as Ganeti 3.0 writes it; name clashes and bad parameters refused', async () => {
  const data = sampleConfig();
  const ctx = context(data);
  await run(groupAdd, { group_name: 'new', ndparams: { spindle_count: '4' }, diskparams: { plain: { stripes: '2' } }, alloc_policy: 'unallocable' }, ctx);
  const g = Object.values(data.nodegroups).find((x) => x.name === 'new')!;
  assert.deepEqual({ ...g, uuid: 'U', ctime: 0, mtime: 0 }, {
    uuid: 'U', name: 'new', members: [], alloc_policy: 'unallocable', ndparams: { spindle_count: 4 }, diskparams: { plain: { stripes: 2 } },
    ipolicy: {}, networks: {}, tags: [], serial_no: 1, ctime: 0, mtime: 0,
  });
  await assert.rejects(run(groupAdd, { group_name: 'rack10' }, ctx), prereq("Desired group name 'rack10' already exists as a node group (UUID: g2)", 'already_exists'));
  await assert.rejects(run(groupAdd, { group_name: 'x', diskparams: { drbd: { pool: 'p' } } }, ctx),
    prereq("While verify diskparams options: ('Provided option keys not supported: drbd/pool', 'wrong_input')", 'wrong_input'));
  await assert.rejects(run(groupAdd, { group_name: 'x', ipolicy: { 'disk-templates': ['plain'] } }, ctx),
    prereq('The following disk templates are allowed by the ipolicy, but not enabled on the cluster: plain', 'wrong_input'));
});

test('OP_GROUP_SET_PARAMS: needs a change; "default" resets a parameter; result as str(dict)', async () => {
  const data = sampleConfig();
  const ctx = context(data);
  await assert.rejects(run(groupSetParams, { group_name: 'rack10' }, ctx), prereq('Please pass at least one modification', 'wrong_input'));
  const result = await run(groupSetParams, { group_name: 'rack10', ndparams: { ssh_port: 'default', ovs: 'true' }, alloc_policy: 'last_resort' }, ctx);
  assert.deepEqual(result, [['ndparams', "{'ovs': True}"]]);
  assert.deepEqual(data.nodegroups.g2.ndparams, { ovs: true });
  assert.equal(data.nodegroups.g2.alloc_policy, 'last_resort');
  await run(groupSetParams, { group_name: 'rack10', ipolicy: { 'vcpu-ratio': 'default', 'spindle-ratio': '16' } }, ctx);
  assert.deepEqual(data.nodegroups.g2.ipolicy, { 'spindle-ratio': 16 });
});

test('OP_GROUP_REMOVE / OP_GROUP_RENAME / OP_GROUP_ASSIGN_NODES: prerequisites and effects', async () => {
  const data = sampleConfig();
  const ctx = context(data);
  await assert.rejects(run(groupRemove, { group_name: 'default' }, ctx), prereq("Group 'default' not empty, has the following nodes: n1, n2", 'wrong_state'));
  await run(groupRemove, { group_name: 'rack2' }, ctx);
  assert.equal(data.nodegroups.g3, undefined);
  await assert.rejects(run(groupRename, { group_name: 'rack10', new_name: 'default' }, ctx),
    prereq("Desired new name 'default' clashes with existing node group (UUID: g1)", 'already_exists'));
  assert.equal(await run(groupRename, { group_name: 'rack10', new_name: 'rack1' }, ctx), 'rack1');
  assert.equal(data.nodegroups.g2.name, 'rack1');

  const lu = groupAssignNodes({ OP_ID: 'OP_GROUP_ASSIGN_NODES', group_name: 'rack1', nodes: ['node1', 'node3.example.com'], force: false } as OpInput, ctx);
  lu.expandNames!();
  // The node locks, and the target group's with every source group's.
  assert.deepEqual(lu.locks!().levels, { nodegroup: { names: ['g2', 'g1'], shared: false }, node: { names: ['n1', 'n3'], shared: false } });
  await lu.checkPrereq!();
  await lu.exec();
  assert.equal(data.nodes.n1.group, 'g2');
  assert.deepEqual(data.nodegroups.g2.members, ['n1']);
  assert.equal(data.nodes.n3.serial_no, 1, 'a node already in the group is left alone');
  assert.equal(data.nodes.n1.serial_no, 2);
  await assert.rejects(run(groupAssignNodes, { group_name: 'rack1', nodes: ['nosuch'] }, ctx), prereq("Node 'nosuch' not known", 'unknown_entity'));
});

test('gnt-group option syntax: key=value lists and ident:key=value', () => {
  assert.deepEqual(parseKeyVal('-N', 'a=1,b,no_c,-d,e=x\\,y'), { a: '1', b: true, c: false, d: null, e: 'x,y' });
  assert.throws(() => parseKeyVal('--node-parameters', 'a=1,a=2'), /Duplicate key 'a' in option --node-parameters/);
  assert.deepEqual(parseIdentKeyVal('-D', 'drbd:metavg=vg,resync-rate=100'), ['drbd', { metavg: 'vg', 'resync-rate': '100' }]);
  assert.deepEqual(parseIdentKeyVal('-D', 'no_drbd'), ['drbd', false]);
  assert.deepEqual(parseIdentKeyVal('-D', '-drbd'), ['drbd', null]);
  assert.throws(() => parseIdentKeyVal('-D', 'no_drbd:a=1'), /Cannot pass options when removing parameter groups: no_drbd:a=1/);
});
