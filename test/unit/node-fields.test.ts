process.env.TZ = 'UTC';
import { parseIdentKeyVal, parseKeyVal } from '../../src/cli/keyvalue.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RS_NODATA, RS_OFFLINE, RS_UNAVAIL } from '../../src/core/constants.ts';
import { OpPrereqError } from '../../src/core/errors.ts';
import { queryFields, runQuery, type Filter } from '../../src/core/query.ts';
import type { RpcResult, RpcTarget } from '../../src/rpc/client.ts';
import type { ConfigData } from '../../src/master/config/model.ts';
import {
  NODE_FIELDS, markerStatus, nodeViews, requestedNames, resultStatus, type NodeView,
} from '../../src/master/config/node-fields.ts';
import { formatFieldList, formatQueryTable, type QueryTableOptions } from '../../src/cli/format/table.ts';
import { formatInfo } from '../../src/cli/format/info.ts';
import { DEFAULT_NDPARAMS } from '../../src/master/config/defaults.ts';
import {
  LIST_DEFAULT_FIELDS, formatModifyResult, nodeInfoEntry, parseYesNo,
} from '../../src/cli/commands/node.ts';

// Expected outputs are the STDOUT sections of the named golden files (real Ganeti 3.0.2).
// The fixture is the golden cluster: node1.gnt.test, master, three primary instances.

const NODE1 = '78c7e9f1-fab8-42d9-b8da-205deddba3ab';
const GROUP = '88e2168b-eafa-44f3-8e8c-5fa3ffcd6a31';
const CTIME = 1795468265.942987;

function goldenConfig(): ConfigData {
  const obj = (uuid: string, extra: Record<string, unknown>) => ({ uuid, serial_no: 1, ctime: CTIME, mtime: CTIME, ...extra });
  const inst = (uuid: string, name: string, disks: string[] = []) => obj(uuid, { name, primary_node: NODE1, disks });
  return {
    version: 3000000,
    cluster: obj('c', {
      cluster_name: 'cluster.gnt.test', master_node: NODE1, enabled_hypervisors: ['fake'], hvparams: { fake: { migration_mode: 'live' } },
      enabled_disk_templates: ['diskless', 'file'], file_storage_dir: '/srv/ganeti/file-storage', shared_file_storage_dir: '/srv/ganeti/shared-file-storage',
      ndparams: { ...DEFAULT_NDPARAMS }, tags: [],
    }),
    nodes: {
      [NODE1]: obj(NODE1, {
        name: 'node1.gnt.test', primary_ip: '192.0.2.10', secondary_ip: '192.0.2.10', master_candidate: true, offline: false, drained: false,
        group: GROUP, master_capable: true, vm_capable: true, ndparams: {}, powered: true, tags: [],
      }),
    },
    nodegroups: { [GROUP]: obj(GROUP, { name: 'default', members: [NODE1], alloc_policy: 'preferred', ndparams: {} }) },
    instances: {
      i3: inst('i3', 'gamma.gnt.test', ['d1']),
      i1: inst('i1', 'alpha.gnt.test'),
      i2: inst('i2', 'beta.gnt.test'),
    },
    networks: {},
    disks: { d1: obj('d1', { dev_type: 'file', nodes: [NODE1] }) },
    filters: {},
    serial_no: 1,
    ctime: CTIME,
    mtime: CTIME,
  } as unknown as ConfigData;
}

interface Call { targets: RpcTarget[]; proc: string; args: unknown[][] }

/** An RPC client whose nodes answer node_info as the golden machine did (or as `answer` says). */
function fakeRpc(answer: (t: RpcTarget) => RpcResult = (t) => ({ node: t.name, ok: true, payload: goldenNodeInfo(23456) })) {
  const calls: Call[] = [];
  return {
    calls,
    async callMany(targets: RpcTarget[], proc: string, args: unknown[] | ((t: RpcTarget) => unknown[])) {
      calls.push({ targets, proc, args: targets.map((t) => (typeof args === 'function' ? args(t) : args)) });
      return new Map(targets.map((t) => [t.name, t.offline ? { node: t.name, ok: false as const, error: 'offline', offline: true } : answer(t)]));
    },
  };
}

function goldenNodeInfo(mfree: number): unknown {
  return ['902450fc-0c40-4fdf-8a51-ae208be3c9f8',
    [{ type: 'file', name: '/srv/ganeti/file-storage', storage_free: 77426, storage_size: 258019 }],
    [{ memory_total: 24105, memory_dom0: 82, memory_free: mfree, cpu_total: 2, cpu_dom0: 2, cpu_nodes: 1, cpu_sockets: 1 }]];
}

async function list(config: ConfigData, fields: string[], options: QueryTableOptions = {}, filter: Filter = null, rpc = fakeRpc()): Promise<string[]> {
  const r = runQuery(NODE_FIELDS, fields, await nodeViews({ data: config }, rpc as never, fields, filter), filter);
  return formatQueryTable(r.fields, r.data, { joinedFields: ['pinst_list', 'sinst_list', 'tags'], ...options });
}

const GOLDEN_031 = `Name                  Type                  Title                Description
bootid                Text                  BootID               Random UUID renewed for each system reboot, can be used for detecting reboots by tracking changes
cnodes                Number                CNodes               Number of NUMA domains on node (if exported by hypervisor)
cnos                  Number                CNOs                 Number of logical processors used by the node OS (dom0 for Xen)
csockets              Number                CSockets             Number of physical CPU sockets (if exported by hypervisor)
ctime                 Timestamp             CTime                Creation timestamp
ctotal                Number                CTotal               Number of logical processors
custom_ndparams       Custom                CustomNodeParameters Custom node parameters
dfree                 Storage size          DFree                Available storage space on storage unit
disk_state            Custom                DiskState            Disk state
drained               Boolean               Drained              Whether node is drained
dtotal                Storage size          DTotal               Total storage space on storage unit for instance disk allocation
group                 Text                  Group                Node group
group.uuid            Text                  GroupUUID            UUID of node group
hv_state              Custom                HypervisorState      Hypervisor state
master                Boolean               IsMaster             Whether node is master
master_candidate      Boolean               MasterC              Whether node is a master candidate
master_capable        Boolean               MasterCapable        Whether node can become a master candidate
mfree                 Storage size          MFree                Memory available for instance allocations
mnode                 Storage size          MNode                Amount of memory used by node (dom0 for Xen)
mtime                 Timestamp             MTime                Modification timestamp
mtotal                Storage size          MTotal               Total amount of memory of physical machine
name                  Text                  Node                 Node name
ndp/cpu_speed         Floating-point number ndp/cpu_speed        The "cpu_speed" node parameter
ndp/exclusive_storage Boolean               ExclusiveStorage     The "exclusive_storage" node parameter
ndp/oob_program       Custom                OutOfBandProgram     The "oob_program" node parameter
ndp/ovs               Boolean               OpenvSwitch          The "ovs" node parameter
ndp/ovs_link          Custom                OpenvSwitchLink      The "ovs_link" node parameter
ndp/ovs_name          Custom                OpenvSwitchName      The "ovs_name" node parameter
ndp/spindle_count     Number                SpindleCount         The "spindle_count" node parameter
ndp/ssh_port          Number                ndp/ssh_port         The "ssh_port" node parameter
ndparams              Custom                NodeParameters       Merged node parameters
offline               Boolean               Offline              Whether node is marked offline
pinst_cnt             Number                Pinst                Number of instances with this node as primary
pinst_list            Custom                PriInstances         List of instances with this node as primary
pip                   Text                  PrimaryIP            Primary IP address
powered               Boolean               Powered              Whether node is thought to be powered on
role                  Text                  Role                 Node role; "M" for master, "C" for master candidate, "R" for regular, "D" for drained, "O" for offline
serial_no             Number                SerialNo             Node object serial number, incremented on each modification
sinst_cnt             Number                Sinst                Number of instances with this node as secondary
sinst_list            Custom                SecInstances         List of instances with this node as secondary
sip                   Text                  SecondaryIP          Secondary IP address
spfree                Number                SpFree               Available spindles in volume group (exclusive storage only)
sptotal               Number                SpTotal              Total spindles in volume group (exclusive storage only)
tags                  Custom                Tags                 Tags
uuid                  Text                  UUID                 Node UUID
vm_capable            Boolean               VMCapable            Whether node can host instances`;

test('gnt-node list-fields: every field of Ganeti 3.0 (golden 031, 032)', () => {
  assert.equal(formatFieldList(queryFields(NODE_FIELDS, null).fields).join('\n'), GOLDEN_031);
  assert.deepEqual(formatFieldList(queryFields(NODE_FIELDS, ['name', 'role', 'pinst_cnt']).fields), [
    'Name      Type   Title Description',
    'name      Text   Node  Node name',
    'role      Text   Role  Node role; "M" for master, "C" for master candidate, "R" for regular, "D" for drained, "O" for offline',
    'pinst_cnt Number Pinst Number of instances with this node as primary',
  ]);
});

test('gnt-node list with the default fields, live data from node_info (golden 014, 016, 017, 020)', async () => {
  const config = goldenConfig();
  assert.deepEqual(await list(config, LIST_DEFAULT_FIELDS), [
    'Node           DTotal DFree MTotal MNode MFree Pinst Sinst',
    'node1.gnt.test 252.0G 75.6G  23.5G   82M 22.9G     3     0',
  ]);
  assert.deepEqual(await list(config, LIST_DEFAULT_FIELDS, { header: false }), ['node1.gnt.test 252.0G 75.6G 23.5G 82M 22.9G 3 0']);
  assert.deepEqual(await list(config, LIST_DEFAULT_FIELDS, { separator: '|' }), [
    'Node|DTotal|DFree|MTotal|MNode|MFree|Pinst|Sinst',
    'node1.gnt.test|258019|77426|24105|82|23456|3|0',
  ]);
  assert.deepEqual(await list(config, ['name', 'mtotal', 'mnode', 'mfree', 'dtotal', 'dfree'], { units: 'g' }), [
    'Node           MTotal MNode MFree DTotal DFree',
    'node1.gnt.test   23.5   0.1  22.9  252.0  75.6',
  ]);
});

test('gnt-node list: node parameters, uuids, boot id and times (golden 022, 023)', async () => {
  const config = goldenConfig();
  assert.deepEqual(await list(config, ['name', 'ndp/ssh_port', 'ndp/spindle_count', 'ndp/exclusive_storage', 'ndparams']), [
    'Node           ndp/ssh_port SpindleCount ExclusiveStorage NodeParameters',
    "node1.gnt.test           22            1 N                {'oob_program': '', 'spindle_count': 1, 'exclusive_storage': False, 'ovs': False, 'ovs_name': 'switch1', 'ovs_link': '', 'ssh_port': 22, 'cpu_speed': 1}",
  ]);
  assert.deepEqual(await list(config, ['name', 'uuid', 'group.uuid', 'bootid', 'ctime', 'mtime']), [
    'Node           UUID                                 GroupUUID                            BootID                               CTime               MTime',
    'node1.gnt.test 78c7e9f1-fab8-42d9-b8da-205deddba3ab 88e2168b-eafa-44f3-8e8c-5fa3ffcd6a31 902450fc-0c40-4fdf-8a51-ae208be3c9f8 2026-11-23 21:11:05 2026-11-23 21:11:05',
  ]);
});

test('gnt-node list -F on instance counts (golden 025, 026)', async () => {
  const config = goldenConfig();
  assert.deepEqual(await list(config, LIST_DEFAULT_FIELDS, {}, ['>', 'pinst_cnt', 1]), [
    'Node           DTotal DFree MTotal MNode MFree Pinst Sinst',
    'node1.gnt.test 252.0G 75.6G  23.5G   82M 22.9G     3     0',
  ]);
  assert.deepEqual(await list(config, LIST_DEFAULT_FIELDS, {}, ['>', 'pinst_cnt', 100]), ['Node DTotal DFree MTotal MNode MFree Pinst Sinst']);
});

test('instance lists: primary and secondary (a disk on the node), nicely sorted, joined with ","', async () => {
  const config = goldenConfig();
  const node2 = { ...config.nodes[NODE1], uuid: 'n2', name: 'node2.gnt.test', master_candidate: false };
  config.nodes.n2 = node2;
  config.instances.i10 = { uuid: 'i10', name: 'web10.gnt.test', primary_node: 'n2', disks: ['d2'] } as never;
  config.instances.i9 = { uuid: 'i9', name: 'web9.gnt.test', primary_node: 'n2', disks: ['d3'] } as never;
  config.disks.d2 = { uuid: 'd2', nodes: ['n2', NODE1] } as never;
  config.disks.d3 = { uuid: 'd3', nodes: ['n2', NODE1] } as never;
  assert.deepEqual(await list(config, ['name', 'pinst_cnt', 'pinst_list', 'sinst_cnt', 'sinst_list', 'role']), [
    'Node           Pinst PriInstances                                Sinst SecInstances                 Role',
    'node1.gnt.test     3 alpha.gnt.test,beta.gnt.test,gamma.gnt.test     2 web9.gnt.test,web10.gnt.test M',
    'node2.gnt.test     2 web9.gnt.test,web10.gnt.test                    0                              R',
  ]);
});

test('roles: M for the master, then C, D, O, R in that order of precedence', async () => {
  const config = goldenConfig();
  const base = config.nodes[NODE1];
  const add = (uuid: string, flags: Record<string, boolean>) => {
    config.nodes[uuid] = { ...base, uuid, name: `${uuid}.gnt.test`, master_candidate: false, ...flags };
  };
  add('c', { master_candidate: true, drained: true });
  add('d', { drained: true, offline: true });
  add('o', { offline: true });
  add('r', {});
  assert.deepEqual(await list(config, ['name', 'role', 'master', 'master_candidate', 'drained', 'offline'], { separator: ' ' }), [
    'Node Role IsMaster MasterC Drained Offline',
    'c.gnt.test C N Y Y N',
    'd.gnt.test D N N Y Y',
    'node1.gnt.test M Y Y N N',
    'o.gnt.test O N N N Y',
    'r.gnt.test R N N N N',
  ]);
});

function view(config: ConfigData, runtime?: NodeView['runtime']): NodeView {
  return { node: config.nodes[NODE1], config, runtime };
}

const statusOf = (name: string, v: NodeView) => markerStatus(NODE_FIELDS.get(name)!.get(v));

test('cells without data: offline node, no answer, no oob program, missing group', () => {
  const config = goldenConfig();
  for (const f of ['mfree', 'dtotal', 'bootid', 'ctotal']) {
    assert.equal(statusOf(f, view(config, { ok: false, status: RS_OFFLINE })), RS_OFFLINE, f);
    assert.equal(statusOf(f, view(config, { ok: false, status: RS_NODATA })), RS_NODATA, f);
  }
  const answered = view(config, { ok: true, bootId: 'b', storage: [{ type: 'file', storage_free: 1, storage_size: 2 }], hv: [] });
  assert.equal(statusOf('dfree', answered), null);
  // No lvm-pv unit (no volume group) and no hypervisor data asked: no data, as upstream's RAPI null.
  assert.equal(statusOf('spfree', answered), RS_NODATA);
  assert.equal(statusOf('mtotal', answered), RS_NODATA);
  assert.equal(statusOf('powered', view(config)), RS_UNAVAIL);
  assert.equal(statusOf('hv_state', view(config)), RS_UNAVAIL);
  assert.equal(statusOf('disk_state', view(config)), RS_UNAVAIL);
  config.nodes[NODE1].ndparams = { oob_program: '/bin/oob' };
  assert.equal(NODE_FIELDS.get('powered')!.get(view(config)), true);
  config.nodes[NODE1].group = 'gone';
  assert.equal(statusOf('group', view(config)), RS_NODATA);
  assert.equal(statusOf('ndparams', view(config)), RS_NODATA);
  assert.equal(statusOf('ndp/ssh_port', view(config)), RS_NODATA);
  // On the wire a marker is a null value.
  assert.equal(JSON.stringify([resultStatus(RS_OFFLINE)]), '[null]');
});

test('node_info is called only for live fields, in one parallel fan-out, asking only what the fields need', async () => {
  const config = goldenConfig();
  const base = config.nodes[NODE1];
  config.nodes.n2 = { ...base, uuid: 'n2', name: 'node2.gnt.test', primary_ip: '192.0.2.11', offline: true };
  let rpc = fakeRpc();
  const views = await nodeViews({ data: config }, rpc as never, ['name', 'pinst_cnt', 'ndparams']);
  assert.equal(rpc.calls.length, 0);
  assert.deepEqual(views.map((v) => v.node.name), ['node1.gnt.test', 'node2.gnt.test']);

  rpc = fakeRpc();
  const live = await nodeViews({ data: config }, rpc as never, ['name', 'mfree']);
  assert.equal(rpc.calls.length, 1);
  assert.equal(rpc.calls[0].proc, 'node_info');
  assert.deepEqual(rpc.calls[0].targets.map((t) => [t.name, t.address, t.port, t.offline]),
    [['node1.gnt.test', '192.0.2.10', 1811, false], ['node2.gnt.test', '192.0.2.11', 1811, true]]);
  assert.deepEqual(rpc.calls[0].args[0], [[], [['fake', { migration_mode: 'live' }]]]);
  assert.equal(statusOf('mfree', live[1]), RS_OFFLINE);
  assert.equal(NODE_FIELDS.get('mfree')!.get(live[0]), 23456);

  rpc = fakeRpc();
  await nodeViews({ data: config }, rpc as never, ['name'], ['>', 'dfree', 10]);
  assert.deepEqual(rpc.calls[0].args[0], [[['file', '/srv/ganeti/file-storage', []]], []]);

  rpc = fakeRpc((t) => ({ node: t.name, ok: false, error: 'connection refused' }));
  const failed = await nodeViews({ data: config }, rpc as never, ['bootid']);
  assert.equal(statusOf('bootid', failed[0]), RS_NODATA);
});

test('plain name filters ask for existing nodes, in the order given (golden 028)', async () => {
  const config = goldenConfig();
  config.nodes.n2 = { ...config.nodes[NODE1], uuid: 'n2', name: 'node2.gnt.test' };
  assert.deepEqual(requestedNames(['|', ['==', 'name', 'a'], ['=', 'name', 'b']]), ['a', 'b']);
  assert.equal(requestedNames(['|', ['==', 'name', 'a'], ['=~', 'name', 'b']]), null);
  assert.equal(requestedNames(null), null);
  const views = await nodeViews({ data: config }, fakeRpc() as never, ['name'], ['|', ['==', 'name', 'node2.gnt.test'], ['==', 'name', 'node1']]);
  assert.deepEqual(views.map((v) => v.node.name), ['node2.gnt.test', 'node1.gnt.test']);
  await assert.rejects(nodeViews({ data: config }, fakeRpc() as never, ['name'], ['|', ['==', 'name', 'nosuch.gnt.test']]), (err: unknown) => {
    assert.ok(err instanceof OpPrereqError);
    assert.deepEqual(err.args, ['Node name nosuch.gnt.test not found', 'unknown_entity']);
    return true;
  });
  await assert.rejects(nodeViews({ data: config }, fakeRpc() as never, ['name'], ['==', 'name', 'node']), /Node name node not found/);
});

test('gnt-node info layout (golden 029) and an unknown name (golden 119)', async () => {
  const config = goldenConfig();
  const fields = ['name', 'pip', 'sip', 'pinst_list', 'sinst_list', 'master_candidate', 'drained', 'offline',
    'master_capable', 'vm_capable', 'powered', 'ndparams', 'custom_ndparams'];
  const views = await nodeViews({ data: config }, fakeRpc() as never, fields);
  const row = fields.map((f) => {
    const v = NODE_FIELDS.get(f)!.get(views[0]);
    return markerStatus(v) === null ? v : null;
  });
  assert.equal(formatInfo([nodeInfoEntry(row)]).join('\n'), `- Node name: node1.gnt.test
  primary ip: 192.0.2.10
  secondary ip: 192.0.2.10
  master candidate: True
  drained: False
  offline: False
  master_capable: True
  vm_capable: True
  primary for instances: 
    - alpha.gnt.test
    - beta.gnt.test
    - gamma.gnt.test
  secondary for instances: 
  node parameters: 
    cpu_speed: default (1)
    exclusive_storage: default (False)
    oob_program: default ()
    ovs: default (False)
    ovs_link: default ()
    ovs_name: default (switch1)
    spindle_count: default (1)
    ssh_port: default (22)`);
  assert.deepEqual(formatInfo([]), ['']);
  // Own parameters print as they are; powered shows when known; no instance lists for non-vm-capable nodes.
  const own = formatInfo([nodeInfoEntry(['n', 'p', 's', [], [], false, true, false, true, false, false,
    { ssh_port: 2222, ovs: false }, { ssh_port: 2222 }])]);
  assert.deepEqual(own.slice(6), ['  powered: False', '  master_capable: True', '  vm_capable: False', '  node parameters: ',
    '    ovs: default (False)', '    ssh_port: 2222']);
});

test('gnt-node modify: yes/no values, key=value parameters, the result lines', () => {
  assert.equal(parseYesNo('yes'), true);
  assert.equal(parseYesNo('No'), false);
  assert.equal(parseYesNo('true'), true);
  assert.throws(() => parseYesNo('maybe'), /Invalid boolean value 'maybe'/);
  assert.deepEqual(parseKeyVal('--node-parameters', 'ssh_port=23,no_ovs,-oob_program,exclusive_storage,ovs_link=a\\,b'),
    { ssh_port: '23', ovs: false, oob_program: null, exclusive_storage: true, ovs_link: 'a,b' });
  assert.throws(() => parseKeyVal('--node-parameters', 'a=1,a=2'), /Duplicate key 'a' in option --node-parameters/);
  assert.deepEqual(parseIdentKeyVal('--hypervisor-state', 'kvm:mem_total=1024'), ['kvm', { mem_total: '1024' }]);
  assert.deepEqual(parseIdentKeyVal('--hypervisor-state', 'no_kvm'), ['kvm', false]);
  assert.deepEqual(formatModifyResult('node2.gnt.test', [['master_candidate', false], ['ovs', true], ['ndp/ssh_port', 23]]), [
    'Modified node node2.gnt.test',
    ' - master_candidate -> False',
    ' - ovs   -> True',
    ' - ndp/ssh_port -> 23',
  ]);
  assert.deepEqual(formatModifyResult('n', []), []);
});
