// /2/nodes/<node>/storage, …/storage/modify and …/storage/repair driven by the official
// client (Debian's python3-ganeti-rapi: GetNodeStorageUnits, ModifyNodeStorageUnits,
// RepairNodeStorageUnits) on a two-node cluster: file storage, the refusals as failed
// jobs, the request checks (400) and the write right GET needs here (403); then, where a
// loop-backed volume group can be made, lvm-pv and lvm-vg units changed and repaired.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { TestCluster, type VirtualNode } from './cluster.ts';
import { rapiClientMissing as skip, runRapiPython, setRapiUsers } from './rapi-python.ts';
import { loopVgUnavailable } from '../fixtures/lvm/loop-vg.ts';

const noLoopVg = skip || (loopVgUnavailable() ?? false);

const VG = `gntrstor${process.pid}`;
const LVM_ENV = { ...process.env, PATH: `/usr/local/sbin:/usr/sbin:/sbin:${process.env.PATH ?? '/usr/bin:/bin'}`, LC_ALL: 'C', LVM_SUPPRESS_FD_WARNINGS: '1' };
const lvm = (argv: string[]) => spawnSync(argv[0], argv.slice(1), { env: LVM_ENV, encoding: 'utf8' });
let loop = '';
const loopDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gnt-rstorvg-'));

let cluster: TestCluster;
let node1: VirtualNode;

/** Python with `c`, a client for node1 as bench, `job_result(jid)` and `err(fn)`; the code sets `out`, returned as JSON. */
const py = (code: string): any => runRapiPython(node1, code);

before(() => {
  if (skip) return;
  cluster = new TestCluster();
  node1 = cluster.init('node1.gnt.test', 'cluster.gnt.test', ['--enabled-disk-templates', 'file,diskless']);
  setRapiUsers(node1, 'bench benchpass write\nviewer viewpass read\n');
  const node2 = cluster.join(node1, 'node2.gnt.test');
  for (const n of [node1, node2]) fs.mkdirSync(n.file('srv/ganeti/file-storage'), { recursive: true });
});
after(() => {
  cluster?.destroy();
  if (loop) {
    lvm(['vgremove', '-f', VG]);
    lvm(['pvremove', '-ff', '-y', loop]);
    lvm(['losetup', '-d', loop]);
  }
  fs.rmSync(loopDir, { recursive: true, force: true });
});

test('GetNodeStorageUnits: a job whose result is the rows of the asked fields', { skip }, () => {
  const out = py([
    "jid = c.GetNodeStorageUnits('node2.gnt.test', 'file', 'node,type,name,used,allocatable')",
    "out = [isinstance(jid, int), job_result(jid), c.GetJobStatus(jid)['summary']]",
  ].join('\n'));
  assert.deepEqual(out, [true, [true, [[['node2.gnt.test', 'file', '/srv/ganeti/file-storage', 0, true]]]], ['NODE_QUERY_STORAGE']]);
  const sizes = py("out = job_result(c.GetNodeStorageUnits('node1.gnt.test', 'file', 'size,free'))");
  assert.equal(sizes[0], true);
  const [[[size, free]]] = sizes[1];
  assert.ok(Number.isInteger(size) && Number.isInteger(free) && size >= free, JSON.stringify(sizes));
});

test('refusals: types a cluster does not use, units that cannot change, bad requests, the write right', { skip }, () => {
  const out = py([
    'out = [',
    "  job_result(c.GetNodeStorageUnits('node1.gnt.test', 'lvm-vg', 'name')),",
    "  job_result(c.ModifyNodeStorageUnits('node1.gnt.test', 'file', '/srv/ganeti/file-storage', allocatable=False)),",
    "  job_result(c.RepairNodeStorageUnits('node1.gnt.test', 'lvm-pv', '/dev/sda1')),",
    "  job_result(c.GetNodeStorageUnits('nosuch.gnt.test', 'file', 'name')),",
    "  err(lambda: c.GetNodeStorageUnits('node1.gnt.test', 'file', '')),",
    "  err(lambda: c._SendRequest('PUT', '/2/nodes/node1.gnt.test/storage/repair', [('storage_type', 'lvm-vg')], None)),",
    "  err(lambda: c.ModifyNodeStorageUnits('node1.gnt.test', 'lvm-pv', '/dev/sda1', allocatable='maybe')),",
    ']',
  ].join('\n'));
  assert.deepEqual(out, [
    [false, [['OpPrereqError', ["No disk template of storage type 'lvm-vg' is enabled in this cluster. Enabled disk templates are: file,diskless"]]]],
    [false, [['OpPrereqError', ["Storage units of type 'file' can not be modified", 'wrong_input']]]],
    [false, [['OpPrereqError', ["Storage units of type 'lvm-pv' can not be repaired", 'wrong_input']]]],
    [false, [['OpPrereqError', ["Node 'nosuch.gnt.test' not known", 'unknown_entity']]]],
    [400, "400 Missing the required 'output_fields' parameter: Bad request syntax or unsupported method"],
    [400, "400 Missing the required 'name' parameter: Bad request syntax or unsupported method"],
    [400, "400 Invalid value for the 'allocatable' parameter: Bad request syntax or unsupported method"],
  ]);
  // Querying storage takes locks: upstream asks for the write right even for GET.
  const ro = runRapiPython(node1, "out = err(lambda: c.GetNodeStorageUnits('node1.gnt.test', 'file', 'name'))", { user: 'viewer', password: 'viewpass' });
  assert.equal(ro[0], 403);
});

test('LVM through RAPI: lvm-pv rows, allocatable off and on (pvs agrees), lvm-vg repaired', { skip: noLoopVg }, () => {
  const image = path.join(loopDir, 'pv.img');
  fs.writeFileSync(image, '');
  fs.truncateSync(image, (20480 + 64) * 1048576);
  const l = lvm(['losetup', '-f', '--show', image]);
  assert.equal(l.status, 0, l.stderr);
  loop = l.stdout.trim();
  assert.equal(lvm(['pvcreate', loop]).status, 0);
  assert.equal(lvm(['vgcreate', VG, loop]).status, 0);
  assert.equal(node1.run('gnt-cluster', ['modify', '--vg-name', VG, '--enabled-disk-templates', 'plain,file,diskless']).code, 0);

  const pvAttr = () => lvm(['pvs', '--noheadings', '-o', 'pv_attr', loop]).stdout.trim();
  const out = py([
    `pv = ${JSON.stringify(loop)}`,
    "def mine():",
    "  ok, res = job_result(c.GetNodeStorageUnits('node1.gnt.test', 'lvm-pv', 'name,size,allocatable,node,type'))",
    "  return [r for r in res[0] if r[0] == pv]",
    'before = mine()',
    "off = job_result(c.ModifyNodeStorageUnits('node1.gnt.test', 'lvm-pv', pv, allocatable=False))",
    'middle = mine()',
    "on = job_result(c.ModifyNodeStorageUnits('node1.gnt.test', 'lvm-pv', pv, allocatable=True))",
    `repair = job_result(c.RepairNodeStorageUnits('node2.gnt.test', 'lvm-vg', ${JSON.stringify(VG)}))`,
    "out = [before, off, middle, on, mine(), repair]",
  ].join('\n'));
  assert.deepEqual(out, [
    [[loop, 20540, true, 'node1.gnt.test', 'lvm-pv']],
    [true, [null]],
    [[loop, 20540, false, 'node1.gnt.test', 'lvm-pv']],
    [true, [null]],
    [[loop, 20540, true, 'node1.gnt.test', 'lvm-pv']],
    [true, [null]],
  ]);
  assert.match(pvAttr(), /^a/);
});
