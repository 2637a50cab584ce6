// gnt-node against a one-node cluster named like the golden one (node1.gnt.test):
// list (configuration and live fields), list-fields, info, modify, remove, with the
// golden outputs of real Ganeti 3.0.2 where our cluster's state is the same, and their
// format where it differs (no instances here; free memory/disk, uuids and times vary).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { TestCluster } from './cluster.ts';
import { LuxiClient } from '../../src/luxi/client.ts';

const cluster = new TestCluster();
after(() => cluster.destroy());
const node = cluster.init('node1.gnt.test', 'cluster.gnt.test');

// Until src/core/query.ts reports getters' result statuses and Query hands its filter
// to the node resource (see the node-fields report), these show as plain values.

const HEADER = 'Node           DTotal DFree MTotal MNode MFree Pinst Sinst';
const SIZE = String.raw`\d+(\.\d)?[MGT]`;

function gnt(args: string[]) {
  return node.run('gnt-node', args);
}

function ok(args: string[]): string {
  const r = gnt(args);
  assert.equal(r.code, 0, `gnt-node ${args.join(' ')}: ${r.stderr}`);
  assert.equal(r.stderr, '');
  return r.stdout;
}

test('gnt-node list: default fields with live memory and disk (golden 014, 016)', () => {
  const [header, row, ...rest] = ok(['list']).split('\n');
  assert.equal(header, HEADER);
  assert.match(row, new RegExp(`^node1\\.gnt\\.test +${SIZE} +${SIZE} +${SIZE} +${SIZE} +${SIZE} +0 +0$`));
  assert.deepEqual(rest, ['']);
  assert.match(ok(['list', '--no-headers']), new RegExp(`^node1\\.gnt\\.test ${SIZE} ${SIZE} ${SIZE} ${SIZE} ${SIZE} 0 0\\n$`));
});

test('gnt-node list --separator, --units (golden 017, 019, 020)', () => {
  assert.match(ok(['list', '--separator=|']), /^Node\|DTotal\|DFree\|MTotal\|MNode\|MFree\|Pinst\|Sinst\nnode1\.gnt\.test(\|\d+){5}\|0\|0\n$/);
  const [header, row] = ok(['list', '--units=m']).split('\n');
  assert.equal(header.replace(/ +/g, ' '), 'Node DTotal DFree MTotal MNode MFree Pinst Sinst');
  assert.match(row, /^node1\.gnt\.test( +\d+){5} +0 +0$/);
  // Columns are right-aligned under their titles.
  assert.equal(header.length, row.length);
  const g = ok(['list', '--units=g', '-o', 'name,mtotal,mnode,mfree,dtotal,dfree']).split('\n');
  assert.equal(g[0].replace(/ +/g, ' '), 'Node MTotal MNode MFree DTotal DFree');
  assert.match(g[1], /^node1\.gnt\.test( +\d+\.\d){5}$/);
});

test('gnt-node list: node parameters (golden 022), uuids, boot id and times (golden 023)', () => {
  assert.equal(ok(['list', '-o', 'name,ndp/ssh_port,ndp/spindle_count,ndp/exclusive_storage,ndparams']),
    'Node           ndp/ssh_port SpindleCount ExclusiveStorage NodeParameters\n' +
    "node1.gnt.test           22            1 N                {'oob_program': '', 'spindle_count': 1, 'exclusive_storage': False, 'ovs': False, 'ovs_name': 'switch1', 'ovs_link': '', 'ssh_port': 22, 'cpu_speed': 1}\n");
  const uuid = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
  const time = String.raw`\d{4}-\d\d-\d\d \d\d:\d\d:\d\d`;
  assert.match(ok(['list', '-o', 'name,uuid,group.uuid,bootid,ctime,mtime']), new RegExp(
    '^Node           UUID                                 GroupUUID                            BootID                               CTime               MTime\n' +
    `node1\\.gnt\\.test ${uuid} ${uuid} \\S+ +${time} ${time}\n$`));
});

test('gnt-node list -F (golden 025, 026, 107)', () => {
  // Our node has no instances, so "pinst_cnt > 1" selects nothing, like golden 026.
  assert.equal(ok(['list', '-F', 'pinst_cnt > 1']), 'Node DTotal DFree MTotal MNode MFree Pinst Sinst\n');
  assert.equal(ok(['list', '-F', 'pinst_cnt > 100']), 'Node DTotal DFree MTotal MNode MFree Pinst Sinst\n');
  assert.equal(ok(['list', '-o', 'name,role', '-F', 'pinst_cnt == 0']), 'Node           Role\nnode1.gnt.test M\n');
  assert.equal(ok(['list', '--no-headers', '-o', 'name', 'role == "M" and master_candidate']), 'node1.gnt.test\n');
  const bad = gnt(['list', '-F', 'name =']);
  assert.equal(bad.code, 1);
  assert.equal(bad.stdout, '');
  assert.equal(bad.stderr, "Error while parsing query filter: Failed to parse query filter 'name =': Expected end of text, found '='  (at char 5), (line:1, col:6)\nname =\n     ^\nExpected end of text, found '='  (at char 5), (line:1, col:6)\n");
});

test('gnt-node list: configuration fields', () => {
  assert.equal(ok(['list', '-o', 'name,role,master,master_candidate,master_capable,vm_capable,drained,offline,group,serial_no']),
    'Node           Role IsMaster MasterC MasterCapable VMCapable Drained Offline Group   SerialNo\n' +
    'node1.gnt.test M    Y        Y       Y             Y         N       N       default        1\n');
  // Empty instance lists and tags print as nothing (joined with ","), custom parameters as a dict.
  assert.match(ok(['list', '--separator=:', '--no-headers', '-o', 'name,pip,sip,custom_ndparams,pinst_list,sinst_list,tags,ctotal,cnodes,csockets']),
    new RegExp(`^node1\\.gnt\\.test:${node.ip.replace(/\./g, '\\.')}:${node.ip.replace(/\./g, '\\.')}:\\{\\}::::\\d+:1:1\n$`));
});

test('gnt-node list: an unknown field (exit 14) and a bad --units (exit 2, golden 112)', () => {
  const r = gnt(['list', '-o', 'name,nosuchfield']);
  assert.equal(r.code, 14);
  assert.equal(r.stdout, 'Node           nosuchfield\nnode1.gnt.test ??\n');
  assert.equal(r.stderr, 'Warning: Queried for unknown fields nosuchfield\n');
  const u = gnt(['list', '--units=x']);
  assert.equal(u.code, 2);
  assert.equal(u.stdout, '');
  assert.equal(u.stderr, "Usage\n=====\n  gnt-node list [<node-name>...]\n\ngnt-node: error: option --units: invalid choice: 'x' (choose from 'h', 'm', 'g', 't')\n");
});

test('gnt-node list of an unknown node (golden 028)', () => {
  const r = gnt(['list', 'nosuch.gnt.test']);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, 'Failure: prerequisites not met for this operation:\nerror type: unknown_entity, error details:\nNode name nosuch.gnt.test not found\n');
});

test('gnt-node list by short name: the name field compares as a host name', () => {
  assert.equal(ok(['list', '--no-headers', '-o', 'name', 'node1']), 'node1.gnt.test\n');
  assert.equal(ok(['list', '--no-headers', '-o', 'name', 'name != "node1"']), '');
});

test('gnt-node list: cells without data print as upstream ("-" unavailable, "?" no data; -v spells them)', () => {
  assert.equal(ok(['list', '-o', 'name,powered,hv_state,disk_state,spfree,sptotal']),
    'Node           Powered HypervisorState DiskState SpFree SpTotal\nnode1.gnt.test -       -               -              ?       ?\n');
  assert.equal(ok(['list', '-v', '--no-headers', '-o', 'powered,spfree']), '(unavail) (nodata)\n');
});

test('gnt-node list-fields (golden 031, 032)', () => {
  const all = ok(['list-fields']);
  assert.equal(all.split('\n').length, 48);
  assert.match(all, /^Name                  Type                  Title                Description\nbootid                Text                  BootID               Random UUID renewed/);
  assert.match(all, /\nvm_capable            Boolean               VMCapable            Whether node can host instances\n$/);
  assert.equal(ok(['list-fields', 'name', 'role', 'pinst_cnt']),
    'Name      Type   Title Description\n' +
    'name      Text   Node  Node name\n' +
    'role      Text   Role  Node role; "M" for master, "C" for master candidate, "R" for regular, "D" for drained, "O" for offline\n' +
    'pinst_cnt Number Pinst Number of instances with this node as primary\n');
});

const INFO = (ip: string) => `- Node name: node1.gnt.test
  primary ip: ${ip}
  secondary ip: ${ip}
  master candidate: True
  drained: False
  offline: False
  master_capable: True
  vm_capable: True
  primary for instances: 
  secondary for instances: 
  node parameters: 
    cpu_speed: default (1)
    exclusive_storage: default (False)
    oob_program: default ()
    ovs: default (False)
    ovs_link: default ()
    ovs_name: default (switch1)
    spindle_count: default (1)
    ssh_port: default (22)
`;

test('gnt-node info (golden 029, without instances), by name, short name, alias; unknown names (golden 119)', () => {
  assert.equal(ok(['info']), INFO(node.ip));
  assert.equal(ok(['info', 'node1.gnt.test']), INFO(node.ip));
  assert.equal(ok(['show', 'node1']), INFO(node.ip));
  assert.equal(ok(['info', 'nosuch.gnt.test']), '\n');
});

async function jobOpcode(id: number): Promise<Record<string, unknown>> {
  const luxi = await LuxiClient.connect(node.file('var/run/ganeti/socket/ganeti-master'));
  try {
    const [[ops]] = (await luxi.call('QueryJobs', [[id], ['ops']])) as [[Record<string, unknown>[]]];
    return ops[0];
  } finally {
    luxi.close();
  }
}

test('gnt-node modify: needs a change; yes/no values; --submit prints the job id; the opcode carries the options', async () => {
  const none = gnt(['modify', 'node1.gnt.test']);
  assert.equal(none.code, 1);
  assert.equal(none.stderr, 'Please give at least one of the parameters.\n');
  // --node-powered alone is not a change, as upstream.
  assert.equal(gnt(['modify', '--node-powered', 'yes', 'node1.gnt.test']).code, 1);
  const bad = gnt(['modify', '-D', 'maybe', 'node1.gnt.test']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /Invalid boolean value 'maybe'/);
  const noArg = gnt(['modify', '-D', 'no']);
  assert.equal(noArg.code, 1);
  assert.equal(noArg.stderr, 'Error: Command modify expects 1 argument(s)\n');

  const r = gnt(['modify', '--submit', '-D', 'no', '--master-capable', 'yes', '--auto-promote',
    '--node-parameters', 'ssh_port=23,no_ovs', '--hypervisor-state', 'fake:mem_total=1024', 'node1.gnt.test']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '');
  const m = /^JobID: (\d+)\n$/.exec(r.stderr);
  assert.ok(m, r.stderr);
  const op = await jobOpcode(Number(m[1]));
  assert.equal(op.OP_ID, 'OP_NODE_SET_PARAMS');
  assert.equal(op.node_name, 'node1.gnt.test');
  assert.equal(op.drained, false);
  assert.equal(op.master_capable, true);
  assert.equal(op.master_candidate ?? null, null);
  assert.equal(op.offline ?? null, null);
  assert.equal(op.auto_promote, true);
  assert.equal(op.force, false);
  assert.deepEqual(op.ndparams, { ssh_port: '23', ovs: false });
  assert.deepEqual(op.hv_state, { fake: { mem_total: '1024' } });
});

test('gnt-node modify prints what changed ("Modified node", " - param -> value")', () => {
  const r = gnt(['modify', '--master-capable', 'yes', 'node1.gnt.test']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Modified node node1\.gnt\.test\n - master_capable -> True\n$/);
  const id = gnt(['modify', '--print-jobid', '--vm-capable', 'yes', 'node1.gnt.test']);
  assert.match(id.stdout, /^\d+\nModified node node1\.gnt\.test\n - vm_capable -> True\n$/);
});

test('gnt-node remove submits OP_NODE_REMOVE; the master cannot be removed', async () => {
  const r = gnt(['remove', 'node1.gnt.test']);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^Failure: prerequisites not met for this operation:\n(error type: wrong_input, error details:\n)?Node is the master node, failover to another node is required\n$/);
  const luxi = await LuxiClient.connect(node.file('var/run/ganeti/socket/ganeti-master'));
  const jobs = (await luxi.call('QueryJobs', [null, ['id', 'ops']])) as Array<[number, Record<string, unknown>[]]>;
  luxi.close();
  const [, ops] = jobs[jobs.length - 1];
  assert.equal(ops[0].OP_ID, 'OP_NODE_REMOVE');
  assert.equal(ops[0].node_name, 'node1.gnt.test');
  assert.equal(gnt(['remove']).stderr, 'Error: Command remove expects 1 argument(s)\n');
});

test('gnt-node usage lists the commands', () => {
  const r = gnt([]);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /^Usage: gnt-node \{command\} \[options\.\.\.\] \[argument\.\.\.\]\n/);
  for (const c of ['add', 'info', 'list', 'list-fields', 'modify', 'remove']) assert.match(r.stdout, new RegExp(`\\n ${c} +- `));
});

test('a node that does not answer: its live fields have no data ("?")', async () => {
  process.kill(node.pid('ganeti-noded')!, 'SIGKILL');
  try {
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(ok(['list', '-o', 'name,dtotal,mfree,bootid,pinst_cnt']),
      'Node           DTotal MFree BootID Pinst\nnode1.gnt.test      ?     ? ?          0\n');
  } finally {
    assert.equal(node.run('ganeti-noded', []).code, 0);
  }
});
