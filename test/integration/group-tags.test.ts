// Node groups and tags as an operator drives them: gnt-group add/list/info/modify/rename/
// assign-nodes/remove and the tag commands of gnt-cluster, gnt-node and gnt-group, with
// Ganeti 3.0's output (golden 010, 035, 079, 080, 082, 115, 116) and errors; a refused
// command changes nothing.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { TestCluster } from './cluster.ts';

const cluster = new TestCluster();
after(() => cluster.destroy());
const node = cluster.init('node1.gnt.test', 'cluster.gnt.test');

const GOLDEN = path.join(import.meta.dirname, '../golden');

/** The STDOUT section of a golden recording. */
function goldenStdout(file: string): string {
  const text = fs.readFileSync(path.join(GOLDEN, file), 'utf8');
  const m = /===== STDOUT \(\d+ bytes\) =====\n([\s\S]*?)===== STDERR/.exec(text);
  assert.ok(m, `no STDOUT in ${file}`);
  return m[1];
}

/** Wait until no change is pending in config.journal (the master folds it into config.data when changes pause). */
function configText(): string {
  const journal = node.file('var/lib/ganeti/config.journal');
  const deadline = Date.now() + 10_000;
  while (fs.existsSync(journal) && fs.statSync(journal).size > 0) {
    if (Date.now() > deadline) throw new Error('config.journal was not folded into config.data');
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  }
  return fs.readFileSync(node.file('var/lib/ganeti/config.data'), 'utf8');
}

function config() {
  return JSON.parse(configText());
}

function groupByName(name: string) {
  return Object.values(config().nodegroups as Record<string, Record<string, any>>).find((g) => g.name === name);
}

function ok(role: string, args: string[], input?: string) {
  const r = node.run(role, args, { input });
  assert.equal(r.code, 0, `${role} ${args.join(' ')}: ${r.stderr}${r.stdout}`);
  return r;
}

const masterUuid = () => config().cluster.master_node as string;

test('gnt-group add, list (golden 079 layout), list-fields (golden 082) and info (golden 080)', () => {
  ok('gnt-group', ['add', 'extra']);
  const extra = groupByName('extra')!;
  assert.deepEqual({ members: extra.members, alloc_policy: extra.alloc_policy, ndparams: extra.ndparams, diskparams: extra.diskparams, ipolicy: extra.ipolicy, networks: extra.networks, tags: extra.tags, serial_no: extra.serial_no },
    { members: [], alloc_policy: 'preferred', ndparams: {}, diskparams: {}, ipolicy: {}, networks: {}, tags: [], serial_no: 1 });
  const list = ok('gnt-group', ['list', '-o', 'name,node_cnt,node_list,pinst_cnt,alloc_policy,serial_no,tags']);
  // No instances here, so the Instances column reads 0 where the golden cluster has 3.
  assert.equal(list.stdout, goldenStdout('079.txt').replace('node1.gnt.test         3', 'node1.gnt.test         0'));
  assert.equal(ok('gnt-group', ['list-fields']).stdout, goldenStdout('082.txt'));
  // The allowed disk templates line shows the cluster's ipolicy order (a Python set upstream).
  const normalize = (s: string) => s.replace(/default \((file, diskless|diskless, file)\)/g, 'default (TEMPLATES)');
  assert.equal(normalize(ok('gnt-group', ['info']).stdout), normalize(goldenStdout('080.txt')));
  const def = ok('gnt-group', ['list']);
  assert.equal(def.stdout.split('\n')[0], 'Group   Nodes Instances AllocPolicy NDParams');
  assert.match(def.stdout, /^extra {7}0 {9}0 preferred {3}oob_program=, spindle_count=1, exclusive_storage=False, ovs=False, ovs_name=switch1, ovs_link=, ssh_port=22, cpu_speed=1$/m);
  assert.equal(ok('gnt-group', ['list', '--no-headers', '--separator=|', '-o', 'name,node_cnt', 'extra']).stdout, 'extra|0\n');
});

test('gnt-group add of an existing group and remove of a non-empty one fail as upstream (golden 115, 116), changing nothing', () => {
  const before = configText();
  const dup = node.run('gnt-group', ['add', 'extra']);
  assert.equal(dup.code, 1);
  assert.equal(dup.stdout, '');
  assert.equal(dup.stderr, `Failure: prerequisites not met for this operation:\nerror type: already_exists, error details:\nDesired group name 'extra' already exists as a node group (UUID: ${groupByName('extra')!.uuid})\n`);
  const busy = node.run('gnt-group', ['remove', 'default']);
  assert.equal(busy.code, 1);
  assert.equal(busy.stderr, `Failure: prerequisites not met for this operation:\nerror type: wrong_state, error details:\nGroup 'default' not empty, has the following nodes: ${masterUuid()}\n`);
  const unknown = node.run('gnt-group', ['remove', 'nosuch']);
  assert.equal(unknown.code, 1);
  assert.equal(unknown.stderr, "Failure: prerequisites not met for this operation:\nerror type: unknown_entity, error details:\nNode group 'nosuch' not found\n");
  assert.equal(configText(), before);
});

test('gnt-group modify: alloc policy, node and disk parameters; info shows the custom values', () => {
  ok('gnt-group', ['modify', '--alloc-policy', 'last_resort', 'extra']);
  assert.equal(groupByName('extra')!.alloc_policy, 'last_resort');
  assert.equal(groupByName('extra')!.serial_no, 2);
  const nd = ok('gnt-group', ['modify', '--node-parameters', 'ssh_port=2222,exclusive_storage=true', 'extra']);
  assert.equal(nd.stdout, "Modified node group extra\n - ndparams -> {'ssh_port': 2222, 'exclusive_storage': True}\n");
  assert.deepEqual(groupByName('extra')!.ndparams, { ssh_port: 2222, exclusive_storage: true });
  const dp = ok('gnt-group', ['modify', '-D', 'drbd:metavg=vg2', 'extra']);
  assert.match(dp.stdout, /^Modified node group extra\n - diskparams -> \{'drbd': \{'metavg': 'vg2'\}\}\n$/);
  const info = ok('gnt-group', ['info', 'extra']).stdout;
  assert.match(info, /^- Node group: extra\n {2}Node parameters: \n {4}cpu_speed: default \(1\)\n {4}exclusive_storage: True\n/);
  assert.match(info, /^ {4}ssh_port: 2222$/m);
  assert.match(info, /^ {6}metavg: vg2$/m);
  assert.match(info, /^ {6}meta-stripes: default \(1\)$/m);
  assert.doesNotMatch(info, /Node group: default/);
  assert.equal(ok('gnt-group', ['list', '--no-headers', '-o', 'alloc_policy,ndp/ssh_port,custom_ndparams', 'extra']).stdout,
    "last_resort 2222 {'exclusive_storage': True, 'ssh_port': 2222}\n");

  const bad = node.run('gnt-group', ['modify', '--node-parameters', 'nosuch=1', 'extra']);
  assert.equal(bad.code, 1);
  assert.equal(bad.stderr, "Parameter Error: Unknown parameter 'nosuch'\n");
  const badInt = node.run('gnt-group', ['modify', '--node-parameters', 'ssh_port=abc', 'extra']);
  assert.equal(badInt.stderr, "Parameter Error: 'ssh_port' (value abc) is not a valid integer\n");
  const nothing = node.run('gnt-group', ['modify', 'extra']);
  assert.equal(nothing.code, 1);
  assert.equal(nothing.stderr, 'Please give at least one of the parameters.\n');
  const policy = node.run('gnt-group', ['modify', '--alloc-policy', 'sometimes', 'extra']);
  assert.equal(policy.code, 2);
  assert.match(policy.stderr, /error: option --alloc-policy: invalid choice: 'sometimes'/);
  // Back to the cluster's value: "default" removes the group's own.
  ok('gnt-group', ['modify', '--node-parameters', 'ssh_port=default,exclusive_storage=default', 'extra']);
  assert.deepEqual(groupByName('extra')!.ndparams, {});
});

test('gnt-group assign-nodes moves the node, keeps the members lists, and the groups follow', () => {
  const uuid = masterUuid();
  ok('gnt-group', ['assign-nodes', 'extra', 'node1.gnt.test']);
  const c = config();
  assert.equal(c.nodes[uuid].group, groupByName('extra')!.uuid);
  assert.deepEqual(groupByName('extra')!.members, [uuid]);
  assert.ok(!groupByName('default')!.members.includes(uuid));
  assert.equal(ok('gnt-group', ['list', '--no-headers', '-o', 'name,node_cnt,node_list']).stdout,
    'default 0 \nextra   1 node1.gnt.test\n');
  assert.equal(ok('gnt-node', ['list', '--no-headers', '-o', 'name,group']).stdout, 'node1.gnt.test extra\n');
  // Its ndparams now come from the new group (the merged column shows the group's view).
  const unknownNode = node.run('gnt-group', ['assign-nodes', 'default', 'nosuch']);
  assert.equal(unknownNode.code, 1);
  assert.equal(unknownNode.stderr, "Failure: prerequisites not met for this operation:\nerror type: unknown_entity, error details:\nNode 'nosuch' not known\n");
  // Short names work as in upstream's node lookup.
  ok('gnt-group', ['assign-nodes', 'default', 'node1']);
  assert.equal(config().nodes[uuid].group, groupByName('default')!.uuid);
  assert.deepEqual(groupByName('extra')!.members, []);
});

test('gnt-group rename and remove; the last group cannot go', () => {
  ok('gnt-group', ['rename', 'extra', 'spare']);
  assert.equal(groupByName('extra'), undefined);
  assert.ok(groupByName('spare'));
  const clash = node.run('gnt-group', ['rename', 'spare', 'default']);
  assert.equal(clash.code, 1);
  assert.equal(clash.stderr, `Failure: prerequisites not met for this operation:\nerror type: already_exists, error details:\nDesired new name 'default' clashes with existing node group (UUID: ${groupByName('default')!.uuid})\n`);
  const dry = ok('gnt-group', ['remove', '--dry-run', 'spare']);
  assert.match(dry.stdout, /^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}  - INFO: dry-run mode requested, not actually executing the operation\n$/);
  assert.ok(groupByName('spare'), 'dry run removed the group');
  ok('gnt-group', ['remove', 'spare']);
  assert.equal(groupByName('spare'), undefined);
  assert.deepEqual(fs.readFileSync(node.file('var/lib/ganeti/ssconf_nodegroups'), 'utf8').trim().split('\n').map((l) => l.split(' ')[1]), ['default']);
  // A group the node moved out of can go; the one holding it cannot.
  ok('gnt-group', ['add', 'other']);
  ok('gnt-group', ['assign-nodes', 'other', 'node1.gnt.test']);
  const last = node.run('gnt-group', ['remove', 'other']);
  assert.equal(last.code, 1);
  ok('gnt-group', ['remove', 'default']);
  const only = node.run('gnt-group', ['remove', 'other']);
  assert.equal(only.code, 1);
  assert.match(only.stderr, /not empty, has the following nodes/);
  ok('gnt-group', ['rename', 'other', 'default']);
});

test('gnt-group: argument counts and --submit as the other commands', () => {
  const none = node.run('gnt-group', ['add']);
  assert.equal(none.code, 1);
  assert.equal(none.stderr, 'Error: Command add expects 1 argument(s)\n');
  const submitted = node.run('gnt-group', ['add', '--submit', '--print-jobid', 'queued']);
  assert.equal(submitted.code, 0);
  assert.match(submitted.stdout, /^\d+\n$/);
  assert.match(submitted.stderr, /^JobID: \d+\n$/);
  ok('gnt-job', ['wait', submitted.stdout.trim()]);
  assert.ok(groupByName('queued'));
  ok('gnt-group', ['remove', 'queued']);
  assert.equal(node.run('gnt-group', []).code, 1);
});

test('cluster tags: add, list, search (golden 010), remove; ssconf cluster_tags follows', () => {
  ok('gnt-cluster', ['add-tags', 'owner:golden', 'env:test']);
  assert.equal(ok('gnt-cluster', ['list-tags']).stdout, 'env:test\nowner:golden\n');
  assert.deepEqual(config().cluster.tags, ['env:test', 'owner:golden']);
  assert.equal(ok('gnt-cluster', ['search-tags', 'env']).stdout, goldenStdout('010.txt'));
  assert.equal(fs.readFileSync(node.file('var/lib/ganeti/ssconf_cluster_tags'), 'utf8').trim(), 'env:test\nowner:golden');
  ok('gnt-cluster', ['remove-tags', 'owner:golden']);
  assert.equal(ok('gnt-cluster', ['list-tags']).stdout, 'env:test\n');
  const missing = node.run('gnt-cluster', ['remove-tags', 'zz', 'env:test', 'aa']);
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr, "Failure: prerequisites not met for this operation:\nerror type: unknown_entity, error details:\nTag(s) 'aa', 'zz' not found\n");
  assert.deepEqual(config().cluster.tags, ['env:test']);
  const noTags = node.run('gnt-cluster', ['add-tags']);
  assert.equal(noTags.code, 1);
  assert.equal(noTags.stderr, 'Failure: prerequisites not met for this operation:\nerror type: wrong_input, error details:\nNo tags to be added\n');
  assert.equal(node.run('gnt-cluster', ['list-tags', 'extra']).stderr, 'Error: Command list-tags expects no arguments\n');
});

test('node and group tags; search across objects; --from reads a file', () => {
  assert.equal(ok('gnt-node', ['list-tags', 'node1.gnt.test']).stdout, goldenStdout('035.txt'));
  ok('gnt-node', ['add-tags', 'node1.gnt.test', 'rack:1']);
  ok('gnt-node', ['add-tags', 'node1', 'web']);
  assert.equal(ok('gnt-node', ['list-tags', 'node1.gnt.test']).stdout, 'rack:1\nweb\n');
  const tagFile = path.join(cluster.base, 'tags.txt');
  fs.writeFileSync(tagFile, 'prod\n  web \n');
  ok('gnt-group', ['add-tags', '--from', tagFile, 'default', 'db']);
  assert.equal(ok('gnt-group', ['list-tags', 'default']).stdout, 'db\nprod\nweb\n');
  assert.equal(ok('gnt-cluster', ['search-tags', '^(web|prod)$']).stdout, '/nodegroup/default prod\n/nodegroup/default web\n/nodes/node1.gnt.test web\n');
  const none = node.run('gnt-cluster', ['search-tags', 'nomatch']);
  assert.equal(none.code, 1);
  assert.equal(none.stdout + none.stderr, '');
  ok('gnt-group', ['remove-tags', '--from', tagFile, 'default']);
  assert.equal(ok('gnt-group', ['list-tags', 'default']).stdout, 'db\n');
  assert.equal(ok('gnt-group', ['list', '--no-headers', '-o', 'tags', 'default']).stdout, "['db']\n");
});

test('unknown objects and invalid tags are refused with upstream errors, nothing changes', () => {
  const before = configText();
  const cases: Array<[string, string[], string]> = [
    ['gnt-node', ['add-tags', 'nosuch.gnt.test', 'foo'], "error type: unknown_entity, error details:\nNode 'nosuch.gnt.test' not known"],
    ['gnt-group', ['add-tags', 'nosuch', 'foo'], "error type: unknown_entity, error details:\nNode group 'nosuch' not found"],
    ['gnt-node', ['list-tags', 'nosuch'], 'error type: unknown_entity, error details:\nNode name nosuch not found'],
    ['gnt-group', ['list-tags', 'nosuch'], 'error type: unknown_entity, error details:\nNodeGroup name nosuch not found'],
  ];
  for (const [role, args, detail] of cases) {
    const r = node.run(role, args);
    assert.equal(r.code, 1, `${role} ${args.join(' ')}`);
    assert.equal(r.stderr, `Failure: prerequisites not met for this operation:\n${detail}\n`, `${role} ${args.join(' ')}`);
  }
  const invalid: Array<[string, string]> = [
    ['bad tag', 'Tag contains invalid characters'],
    ['x'.repeat(129), 'Tag too long (>128 characters)'],
    ['', 'Tags cannot be empty'],
  ];
  for (const [tag, msg] of invalid) {
    const r = node.run('gnt-cluster', ['add-tags', 'ok', tag]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `Failure: invalid tag(s) given:\n${msg}\n`);
  }
  const badRe = node.run('gnt-cluster', ['search-tags', '(']);
  assert.equal(badRe.code, 1);
  assert.match(badRe.stderr, /^Failure: prerequisites not met for this operation:\nerror type: wrong_input, error details:\nInvalid search pattern '\(': /);
  assert.equal(configText(), before);
  // The limits themselves are allowed: 128 characters, every allowed punctuation character.
  ok('gnt-cluster', ['add-tags', 'x'.repeat(128), 'a.b+c*d/e:f@g-h_1']);
  ok('gnt-cluster', ['remove-tags', 'x'.repeat(128), 'a.b+c*d/e:f@g-h_1']);
});
