process.env.TZ = 'UTC';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RS_NODATA, RS_NORMAL, RS_OFFLINE, RS_UNAVAIL, RS_UNKNOWN } from '../../src/core/constants.ts';
import type { Cell, FieldDef, FieldKind } from '../../src/core/query.ts';
import {
  FIELD_KIND_NAMES, formatFieldList, formatQueryTable, formatUnit, unknownFieldsWarning,
} from '../../src/cli/format/table.ts';

// Expected outputs are the STDOUT sections of the named golden files.

const field = (name: string, title: string, kind: FieldKind): FieldDef => ({ name, title, kind, doc: '' });
const ok = (value: unknown): Cell => [RS_NORMAL, value];
const unavail: Cell = [RS_UNAVAIL, null];

const INSTANCE_JOINED = ['tags', 'disk.sizes', 'nic.macs', 'nic.ips', 'nic.modes', 'nic.links', 'nic.bridges',
  'nic.networks', 'snodes', 'snodes.group', 'snodes.group.uuid'];

const NODE_FIELDS = [
  field('name', 'Node', 'text'), field('dtotal', 'DTotal', 'unit'), field('dfree', 'DFree', 'unit'),
  field('mtotal', 'MTotal', 'unit'), field('mnode', 'MNode', 'unit'), field('mfree', 'MFree', 'unit'),
  field('pinst_cnt', 'Pinst', 'number'), field('sinst_cnt', 'Sinst', 'number'),
];
const nodeRow = (mfree: number): Cell[] => ['node1.gnt.test', 258019, 77426, 24105, 82, mfree, 3, 0].map(ok);

test('gnt-node list: units, right-aligned numbers (golden 014, 016, 017, 019)', () => {
  assert.deepEqual(formatQueryTable(NODE_FIELDS, [nodeRow(23456)]), [
    "Node           DTotal DFree MTotal MNode MFree Pinst Sinst",
    "node1.gnt.test 252.0G 75.6G  23.5G   82M 22.9G     3     0",
  ]);
  assert.deepEqual(formatQueryTable(NODE_FIELDS, [nodeRow(23456)], { header: false }), [
    "node1.gnt.test 252.0G 75.6G 23.5G 82M 22.9G 3 0",
  ]);
  assert.deepEqual(formatQueryTable(NODE_FIELDS, [nodeRow(23456)], { separator: '|' }), [
    "Node|DTotal|DFree|MTotal|MNode|MFree|Pinst|Sinst",
    "node1.gnt.test|258019|77426|24105|82|23456|3|0",
  ]);
  assert.deepEqual(formatQueryTable(NODE_FIELDS, [nodeRow(23466)], { units: 'm' }), [
    "Node           DTotal DFree MTotal MNode MFree Pinst Sinst",
    "node1.gnt.test 258019 77426  24105    82 23466     3     0",
  ]);
});

test('gnt-node list --units=g with reordered fields (golden 020)', () => {
  const order = ['name', 'mtotal', 'mnode', 'mfree', 'dtotal', 'dfree'];
  const indexes = order.map((n) => NODE_FIELDS.findIndex((f) => f.name === n));
  const row = nodeRow(23456);
  assert.deepEqual(formatQueryTable(indexes.map((i) => NODE_FIELDS[i]), [indexes.map((i) => row[i])], { units: 'g' }),
    [
    "Node           MTotal MNode MFree DTotal DFree",
    "node1.gnt.test   23.5   0.1  22.9  252.0  75.6",
  ]);
});

test('dict-valued fields print as Python dicts (golden 022)', () => {
  const fields = [
    field('name', 'Node', 'text'), field('ndp/ssh_port', 'ndp/ssh_port', 'number'),
    field('ndp/spindle_count', 'SpindleCount', 'number'), field('ndp/exclusive_storage', 'ExclusiveStorage', 'bool'),
    field('ndparams', 'NodeParameters', 'other'),
  ];
  const ndparams = { oob_program: '', spindle_count: 1, exclusive_storage: false, ovs: false, ovs_name: 'switch1', ovs_link: '', ssh_port: 22, cpu_speed: 1 };
  assert.deepEqual(formatQueryTable(fields, [['node1.gnt.test', 22, 1, false, ndparams].map(ok)]), [
    "Node           ndp/ssh_port SpindleCount ExclusiveStorage NodeParameters",
    "node1.gnt.test           22            1 N                {'oob_program': '', 'spindle_count': 1, 'exclusive_storage': False, 'ovs': False, 'ovs_name': 'switch1', 'ovs_link': '', 'ssh_port': 22, 'cpu_speed': 1}",
  ]);
});

test('timestamps print in local time (golden 023)', () => {
  const fields = [
    field('name', 'Node', 'text'), field('uuid', 'UUID', 'text'), field('group.uuid', 'GroupUUID', 'text'),
    field('bootid', 'BootID', 'text'), field('ctime', 'CTime', 'timestamp'), field('mtime', 'MTime', 'timestamp'),
  ];
  const created = Date.UTC(2026, 10, 23, 21, 11, 5) / 1000 + 0.25;
  const row = ['node1.gnt.test', '78c7e9f1-fab8-42d9-b8da-205deddba3ab', '88e2168b-eafa-44f3-8e8c-5fa3ffcd6a31',
    '902450fc-0c40-4fdf-8a51-ae208be3c9f8', created, created].map(ok);
  assert.deepEqual(formatQueryTable(fields, [row]), [
    "Node           UUID                                 GroupUUID                            BootID                               CTime               MTime",
    "node1.gnt.test 78c7e9f1-fab8-42d9-b8da-205deddba3ab 88e2168b-eafa-44f3-8e8c-5fa3ffcd6a31 902450fc-0c40-4fdf-8a51-ae208be3c9f8 2026-11-23 21:11:05 2026-11-23 21:11:05",
  ]);
});

test('gnt-instance list with many kinds, joined lists and unavailable cells (golden 037)', () => {
  const fields = [
    field('name', 'Instance', 'text'), field('status', 'Status', 'text'), field('oper_state', 'Running', 'bool'),
    field('admin_state', 'InstanceState', 'text'), field('pnode', 'Primary_node', 'text'),
    field('snodes', 'Secondary_Nodes', 'other'), field('disk_template', 'Disk_template', 'text'),
    field('disk.count', 'Disks', 'number'), field('disk.sizes', 'Disk_sizes', 'other'),
    field('disk_usage', 'DiskUsage', 'unit'), field('nic.count', 'NICs', 'number'),
    field('nic.macs', 'NIC_MACs', 'other'), field('nic.modes', 'NIC_modes', 'other'),
    field('nic.links', 'NIC_links', 'other'), field('nic.ips', 'NIC_IPs', 'other'),
    field('be/maxmem', 'ConfigMaxMem', 'unit'), field('be/minmem', 'ConfigMinMem', 'unit'),
    field('be/vcpus', 'ConfigVCPUs', 'number'), field('be/auto_balance', 'Auto_balance', 'bool'),
    field('hv/kernel_path', 'Kernel_path', 'text'), field('hv/kernel_args', 'hv/kernel_args', 'text'),
    field('os', 'OS', 'text'), field('hypervisor', 'Hypervisor', 'text'), field('oper_ram', 'Memory', 'unit'),
    field('oper_vcpus', 'VCPUs', 'number'),
  ];
  const row = (name: string, running: boolean, template: string, disks: number[], mac: string): Cell[] => [
    ok(name), ok(running ? 'running' : 'ADMIN_down'), ok(running), ok(running ? 'up' : 'down'), ok('node1.gnt.test'),
    ok([]), ok(template), ok(disks.length), ok(disks), ok(disks.reduce((a, b) => a + b, 0)), ok(1), ok([mac]),
    ok(['bridged']), ok(['gnt0']), ok([null]), ok(128), ok(128), ok(1), ok(true), unavail, unavail, ok('noop'),
    ok('fake'), running ? ok(128) : unavail, running ? ok(1) : unavail,
  ];
  const rows = [
    row('alpha.gnt.test', true, 'diskless', [], 'aa:00:00:31:9c:e6'),
    row('beta.gnt.test', false, 'diskless', [], 'aa:00:00:29:cd:e6'),
    row('gamma.gnt.test', true, 'file', [1024], 'aa:00:00:f7:b6:33'),
  ];
  assert.deepEqual(formatQueryTable(fields, rows, { joinedFields: INSTANCE_JOINED }), [
    "Instance       Status     Running InstanceState Primary_node   Secondary_Nodes Disk_template Disks Disk_sizes DiskUsage NICs NIC_MACs          NIC_modes NIC_links NIC_IPs ConfigMaxMem ConfigMinMem ConfigVCPUs Auto_balance Kernel_path hv/kernel_args OS   Hypervisor Memory VCPUs",
    "alpha.gnt.test running    Y       up            node1.gnt.test                 diskless          0                   0M    1 aa:00:00:31:9c:e6 bridged   gnt0      None            128M         128M           1 Y            -           -              noop fake         128M     1",
    "beta.gnt.test  ADMIN_down N       down          node1.gnt.test                 diskless          0                   0M    1 aa:00:00:29:cd:e6 bridged   gnt0      None            128M         128M           1 Y            -           -              noop fake            -     -",
    "gamma.gnt.test running    Y       up            node1.gnt.test                 file              1 1024            1.0G    1 aa:00:00:f7:b6:33 bridged   gnt0      None            128M         128M           1 Y            -           -              noop fake         128M     1",
  ]);
});

test('separator output defaults to MiB and keeps empty cells (golden 038)', () => {
  const fields = [field('name', 'Instance', 'text'), field('status', 'Status', 'text'),
    field('oper_ram', 'Memory', 'unit'), field('disk.sizes', 'Disk_sizes', 'other'), field('nic.modes', 'NIC_modes', 'other')];
  const rows: Cell[][] = [
    [ok('alpha.gnt.test'), ok('running'), ok(128), ok([]), ok(['bridged'])],
    [ok('beta.gnt.test'), ok('ADMIN_down'), unavail, ok([]), ok(['bridged'])],
    [ok('gamma.gnt.test'), ok('running'), ok(128), ok([1024]), ok(['bridged'])],
  ];
  assert.deepEqual(formatQueryTable(fields, rows, { header: false, separator: ':', joinedFields: INSTANCE_JOINED }),
    [
    "alpha.gnt.test:running:128::bridged",
    "beta.gnt.test:ADMIN_down:-::bridged",
    "gamma.gnt.test:running:128:1024:bridged",
  ]);
});

test('--units=m and --units=g (golden 040, 041)', () => {
  const fields = [field('name', 'Instance', 'text'), field('be/maxmem', 'ConfigMaxMem', 'unit'),
    field('disk.size/0', 'Disk/0', 'unit'), field('disk_usage', 'DiskUsage', 'unit')];
  const rows: Cell[][] = [
    [ok('alpha.gnt.test'), ok(128), unavail, ok(0)],
    [ok('beta.gnt.test'), ok(128), unavail, ok(0)],
    [ok('gamma.gnt.test'), ok(128), ok(1024), ok(1024)],
  ];
  assert.deepEqual(formatQueryTable(fields, rows, { units: 'm' }), [
    "Instance       ConfigMaxMem Disk/0 DiskUsage",
    "alpha.gnt.test          128      -         0",
    "beta.gnt.test           128      -         0",
    "gamma.gnt.test          128   1024      1024",
  ]);
  assert.deepEqual(formatQueryTable(fields, rows, { units: 'g' }), [
    "Instance       ConfigMaxMem Disk/0 DiskUsage",
    "alpha.gnt.test          0.1      -       0.0",
    "beta.gnt.test           0.1      -       0.0",
    "gamma.gnt.test          0.1    1.0       1.0",
  ]);
});

const DEFAULT_INSTANCE_FIELDS = [field('name', 'Instance', 'text'), field('hypervisor', 'Hypervisor', 'text'),
  field('os', 'OS', 'text'), field('pnode', 'Primary_node', 'text'), field('status', 'Status', 'text'),
  field('oper_ram', 'Memory', 'unit')];
const defaultInstanceRow = (name: string, running: boolean): Cell[] => [ok(name), ok('fake'), ok('noop'),
  ok('node1.gnt.test'), ok(running ? 'running' : 'ADMIN_down'), running ? ok(128) : unavail];

test('a joined list as the last column keeps the separating space (golden 050)', () => {
  const fields = [...DEFAULT_INSTANCE_FIELDS, field('tags', 'Tags', 'other')];
  const rows = [
    [...defaultInstanceRow('alpha.gnt.test', true), ok(['prod', 'web'])],
    [...defaultInstanceRow('beta.gnt.test', false), ok([])],
    [...defaultInstanceRow('gamma.gnt.test', true), ok([])],
  ];
  assert.deepEqual(formatQueryTable(fields, rows, { joinedFields: INSTANCE_JOINED }), [
    "Instance       Hypervisor OS   Primary_node   Status     Memory Tags",
    "alpha.gnt.test fake       noop node1.gnt.test running      128M prod,web",
    "beta.gnt.test  fake       noop node1.gnt.test ADMIN_down      - ",
    "gamma.gnt.test fake       noop node1.gnt.test running      128M ",
  ]);
});

test('filtered default instance list (golden 044)', () => {
  const rows = [defaultInstanceRow('beta.gnt.test', false), defaultInstanceRow('gamma.gnt.test', true)];
  assert.deepEqual(formatQueryTable(DEFAULT_INSTANCE_FIELDS, rows), [
    "Instance       Hypervisor OS   Primary_node   Status     Memory",
    "beta.gnt.test  fake       noop node1.gnt.test ADMIN_down      -",
    "gamma.gnt.test fake       noop node1.gnt.test running      128M",
  ]);
});

test('unknown fields print ?? and produce the warning (golden 052)', () => {
  const fields: FieldDef[] = [field('name', 'Instance', 'text'),
    { name: 'hv/migration_mode', title: 'hv/migration_mode', kind: 'unknown', doc: "Unknown field 'hv/migration_mode'" }];
  const rows = ['alpha', 'beta', 'gamma'].map((n): Cell[] => [ok(`${n}.gnt.test`), [RS_UNKNOWN, null]]);
  assert.deepEqual(formatQueryTable(fields, rows), [
    "Instance       hv/migration_mode",
    "alpha.gnt.test ??",
    "beta.gnt.test  ??",
    "gamma.gnt.test ??",
  ]);
  assert.equal(unknownFieldsWarning(fields), 'Warning: Queried for unknown fields hv/migration_mode');
  assert.equal(unknownFieldsWarning([fields[0]]), null);
});

test('non-normal statuses, terse and verbose', () => {
  const fields = [field('name', 'Node', 'text'), field('mfree', 'MFree', 'unit')];
  const rows: Cell[][] = [[ok('a'), [RS_OFFLINE, null]], [ok('b'), [RS_NODATA, null]], [ok('c'), unavail], [ok('d'), [RS_UNKNOWN, null]]];
  assert.deepEqual(formatQueryTable(fields, rows), ['Node MFree', 'a        *', 'b        ?', 'c        -', 'd       ??']);
  assert.deepEqual(formatQueryTable(fields, rows, { verbose: true, separator: ',' }),
    ['Node,MFree', 'a,(offline)', 'b,(nodata)', 'c,(unavail)', 'd,(unknown)']);
});

const JOB_FIELDS = [field('id', 'ID', 'number'), field('status', 'Status', 'text'), field('summary', 'Summary', 'other')];

/** Rows of `gnt-job list` rebuilt from its printed lines: "<id> <status> <summary>". */
function jobRows(lines: string[]): Cell[][] {
  return lines.slice(1).map((line) => {
    const [, id, status, summary] = /^ *(\d+) (\S+) +(.*)$/.exec(line) as RegExpExecArray;
    return [ok(Number(id)), ok(status), ok([summary])];
  });
}

test('gnt-job list, including an empty one (golden 059, 061, 067)', () => {
  for (const expected of [[
    "ID Status  Summary",
    " 1 success CLUSTER_POST_INIT",
    " 2 success INSTANCE_CREATE(alpha.gnt.test)",
    " 3 success INSTANCE_CREATE(beta.gnt.test)",
    " 4 success INSTANCE_SHUTDOWN(beta.gnt.test)",
    " 5 success INSTANCE_CREATE(gamma.gnt.test)",
    " 6 success GROUP_ADD(extra)",
    " 7 success TAGS_SET",
    " 8 success TAGS_SET",
    " 9 success TEST_DELAY(1.0e-2)",
    "10 error   TEST_DELAY(0.0)",
    "11 error   INSTANCE_CREATE(delta.gnt.test)",
    "12 success CLUSTER_VERIFY",
    "13 success CLUSTER_VERIFY_CONFIG",
    "14 success CLUSTER_VERIFY_GROUP(0643234f-a984-4a7d-87aa-e43c88cf3dd9)",
    "15 success CLUSTER_VERIFY_GROUP(88e2168b-eafa-44f3-8e8c-5fa3ffcd6a31)",
    "16 success CLUSTER_VERIFY_DISKS",
    "17 success GROUP_VERIFY_DISKS(0643234f-a984-4a7d-87aa-e43c88cf3dd9)",
    "18 success GROUP_VERIFY_DISKS(88e2168b-eafa-44f3-8e8c-5fa3ffcd6a31)",
    "19 success TAGS_SEARCH(env)",
    "20 success TAGS_SEARCH(^(web|prod)$)",
    "21 success TAGS_SEARCH(nosuchtag)",
    "22 success NODE_QUERY_STORAGE",
    "23 error   NODE_QUERY_STORAGE",
    "24 success INSTANCE_QUERY_DATA",
    "25 success INSTANCE_QUERY_DATA",
    "26 success INSTANCE_QUERY_DATA",
  ], [
    "ID Status  Summary",
    " 2 success INSTANCE_CREATE(alpha.gnt.test)",
    "10 error   TEST_DELAY(0.0)",
  ]]) {
    assert.deepEqual(formatQueryTable(JOB_FIELDS, jobRows(expected), { joinedFields: ['summary'] }), expected);
  }
  assert.deepEqual(formatQueryTable(JOB_FIELDS, [], { joinedFields: ['summary'] }), [
    "ID Status Summary",
  ]);
});

test('list-valued job fields print as Python lists (golden 065)', () => {
  const fields = [field('id', 'ID', 'number'), field('status', 'Status', 'text'), field('priority', 'Priority', 'number'),
    field('opstatus', 'OpCode_status', 'other'), field('oppriority', 'OpCode_prio', 'other'),
    field('start_ts', 'Start', 'other'), field('end_ts', 'End', 'other')];
  const expected = [
    "ID Status  Priority OpCode_status OpCode_prio Start                End",
    " 1 success        0 ['success']   [0]         [1795468270, 791664] [1795468270, 910400]",
    " 2 success        0 ['success']   [0]         [1795468272, 931550] [1795468274, 312913]",
    " 3 success        0 ['success']   [0]         [1795468274, 969180] [1795468275, 995675]",
    " 4 success        0 ['success']   [0]         [1795468276, 703333] [1795468277, 46568]",
    " 5 success        0 ['success']   [0]         [1795468277, 745455] [1795468279, 291301]",
    " 6 success        0 ['success']   [0]         [1795468279, 888912] [1795468280, 272022]",
    " 7 success        0 ['success']   [0]         [1795468280, 957775] [1795468281, 35772]",
    " 8 success        0 ['success']   [0]         [1795468281, 654246] [1795468281, 682907]",
    " 9 success        0 ['success']   [0]         [1795468282, 341132] [1795468282, 512960]",
    "10 error          0 ['error']     [0]         [1795468283, 134152] [1795468283, 142723]",
    "11 error          0 ['error']     [0]         [1795468283, 832685] [1795468284, 50737]",
    "12 success        0 ['success']   [0]         [1795468288, 161925] [1795468288, 192805]",
    "13 success        0 ['success']   [0]         [1795468288, 517847] [1795468288, 550202]",
    "14 success        0 ['success']   [0]         [1795468288, 887542] [1795468288, 940075]",
    "15 success        0 ['success']   [0]         [1795468289, 226035] [1795468289, 675234]",
    "16 success        0 ['success']   [0]         [1795468290, 523115] [1795468290, 546261]",
    "17 success        0 ['success']   [0]         [1795468290, 890115] [1795468290, 926918]",
    "18 success        0 ['success']   [0]         [1795468291, 246998] [1795468291, 274891]",
    "19 success        0 ['success']   [0]         [1795468293, 384063] [1795468293, 399138]",
    "20 success        0 ['success']   [0]         [1795468294, 211114] [1795468294, 224715]",
    "21 success        0 ['success']   [0]         [1795468294, 938587] [1795468294, 949547]",
    "22 success        0 ['success']   [0]         [1795468305, 65703]  [1795468305, 171691]",
    "23 error          0 ['error']     [0]         [1795468305, 923145] [1795468305, 939504]",
    "24 success        0 ['success']   [0]         [1795468313, 884216] [1795468314, 15798]",
    "25 success        0 ['success']   [0]         [1795468314, 788074] [1795468314, 803385]",
    "26 success        0 ['success']   [0]         [1795468315, 569399] [1795468315, 805646]",
  ];
  const rows = expected.slice(1).map((line): Cell[] => {
    const m = /^ *(\d+) (\S+) +(\d+) \['(\w+)'\] +\[(\d+)\] +\[(\d+), (\d+)\] +\[(\d+), (\d+)\]$/.exec(line) as RegExpExecArray;
    const n = (i: number) => Number(m[i]);
    return [ok(n(1)), ok(m[2]), ok(n(3)), ok([m[4]]), ok([n(5)]), ok([n(6), n(7)]), ok([n(8), n(9)])];
  });
  assert.deepEqual(formatQueryTable(fields, rows), expected);
});

test('per-command choice of joined fields (golden 079)', () => {
  const fields = [field('name', 'Group', 'text'), field('node_cnt', 'Nodes', 'number'), field('node_list', 'NodeList', 'other'),
    field('pinst_cnt', 'Instances', 'number'), field('alloc_policy', 'AllocPolicy', 'text'),
    field('serial_no', 'SerialNo', 'number'), field('tags', 'Tags', 'other')];
  const rows = [
    ['default', 1, ['node1.gnt.test'], 3, 'preferred', 1, []].map(ok),
    ['extra', 0, [], 0, 'preferred', 1, []].map(ok),
  ];
  assert.deepEqual(formatQueryTable(fields, rows, { joinedFields: ['node_list', 'pinst_list'] }), [
    "Group   Nodes NodeList       Instances AllocPolicy SerialNo Tags",
    "default     1 node1.gnt.test         3 preferred          1 []",
    "extra       0                        0 preferred          1 []",
  ]);
});

test('overrides replace the kind formatting', () => {
  const fields = [field('name', 'Group', 'text'), field('ndparams', 'NDParams', 'other')];
  const keyValues = (v: unknown) => Object.entries(v as object).map(([k, x]) => `${k}=${x}`).join(',');
  const rows = [[ok('default'), ok({ a: 1, b: 'x' })]];
  assert.deepEqual(formatQueryTable(fields, rows, { overrides: { ndparams: { format: keyValues, alignRight: false } } }),
    ['Group   NDParams', 'default a=1,b=x']);
});

test('formatUnit scales MiB and rounds like Python', () => {
  assert.equal(formatUnit(82, 'h'), '82M');
  assert.equal(formatUnit(1023.5, 'h'), '1024M');
  assert.equal(formatUnit(1024, 'h'), '1.0G');
  assert.equal(formatUnit(1280, 'h'), '1.2G');
  assert.equal(formatUnit(1887436, 'h'), '1.8T');
  assert.equal(formatUnit(32763, 'g'), '32.0');
  assert.equal(formatUnit(1887436, 't'), '1.8');
  assert.equal(formatUnit(1887436, 'm'), '1887436');
});

/** Field definitions rebuilt from printed `list-fields` lines, using the header's column starts. */
function fieldsFromListing(lines: string[]): FieldDef[] {
  const starts = ['Type', 'Title', 'Description'].map((t) => lines[0].indexOf(t));
  const kindOf = new Map(Object.entries(FIELD_KIND_NAMES).map(([kind, name]) => [name, kind as FieldKind]));
  return lines.slice(1).map((line) => ({
    name: line.slice(0, starts[0]).trimEnd(),
    kind: kindOf.get(line.slice(starts[0], starts[1]).trimEnd()) as FieldKind,
    title: line.slice(starts[1], starts[2]).trimEnd(),
    doc: line.slice(starts[2]),
  }));
}

test('list-fields (golden 032, 068)', () => {
  for (const expected of [[
    "Name      Type   Title Description",
    "name      Text   Node  Node name",
    "role      Text   Role  Node role; \"M\" for master, \"C\" for master candidate, \"R\" for regular, \"D\" for drained, \"O\" for offline",
    "pinst_cnt Number Pinst Number of instances with this node as primary",
  ], [
    "Name        Type    Title         Description",
    "archived    Boolean Archived      Whether job is archived",
    "end_ts      Custom  End           Timestamp of job end (tuple containing seconds and microseconds)",
    "id          Number  ID            Job ID",
    "opend       Custom  OpCode_end    List of opcode execution end timestamps",
    "opexec      Custom  OpCode_exec   List of opcode execution start timestamps (after acquiring locks)",
    "oplog       Custom  OpCode_log    List of opcode output logs",
    "oppriority  Custom  OpCode_prio   List of opcode priorities",
    "opresult    Custom  OpCode_result List of opcodes results",
    "ops         Custom  OpCodes       List of all opcodes",
    "opstart     Custom  OpCode_start  List of opcode start timestamps (before acquiring locks)",
    "opstatus    Custom  OpCode_status List of opcodes status",
    "priority    Number  Priority      Current job priority (19 to -20)",
    "received_ts Custom  Received      Timestamp of when job was received (tuple containing seconds and microseconds)",
    "start_ts    Custom  Start         Timestamp of job start (tuple containing seconds and microseconds)",
    "status      Text    Status        Job status",
    "summary     Custom  Summary       List of per-opcode summaries",
  ]]) {
    assert.deepEqual(formatFieldList(fieldsFromListing(expected)), expected);
  }
  const fields = fieldsFromListing([
    "Name      Type   Title Description",
    "name      Text   Node  Node name",
    "role      Text   Role  Node role; \"M\" for master, \"C\" for master candidate, \"R\" for regular, \"D\" for drained, \"O\" for offline",
    "pinst_cnt Number Pinst Number of instances with this node as primary",
  ]);
  assert.deepEqual(formatFieldList(fields, false, '|'), [
    'name|Text|Node|Node name',
    'role|Text|Role|Node role; "M" for master, "C" for master candidate, "R" for regular, "D" for drained, "O" for offline',
    'pinst_cnt|Number|Pinst|Number of instances with this node as primary',
  ]);
});
