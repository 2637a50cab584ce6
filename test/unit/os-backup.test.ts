// Export and import end to end without daemons: the backup logical units run against an
// in-process two-node cluster whose "RPC" calls noded's real handlers (the OS scripts of
// the writer fixture, the fake hypervisor, file disks) on two virtual node roots.
// Also config.ini parsing and the opcode defaults an import takes from an export.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OpExecError, OpPrereqError } from '../../src/core/errors.ts';
import type { OpInput } from '../../src/core/opcodes.ts';
import { BACKEND } from '../../src/node/backend.ts';
import type { NodeContext } from '../../src/node/context.ts';
import { exportConfigText } from '../../src/node/os/export-config.ts';
import { nodePaths } from '../../src/util/paths.ts';
import {
  applyExportParams, backupExport, backupPrepare, backupRemove, expandImportSource, exportedMac, exportImages,
  importInstanceDisks, parseIni, readExportInfo,
} from '../../src/master/cmdlib/backup.ts';
import type { LogicalUnit, LUContext } from '../../src/master/cmdlib/base.ts';
import { instanceRpcDict } from '../../src/master/config/instance-params.ts';
import type { ConfigData, DiskObject, InstanceObject, NodeObject } from '../../src/master/config/model.ts';
import type { ConfigStore, ConfigTx } from '../../src/master/config/store.ts';
import type { RpcResult, RpcTarget } from '../../src/rpc/client.ts';
import type { ProcedureName } from '../../src/rpc/procedures.ts';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/os');
const dirs: string[] = [];
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

type Dict = Record<string, unknown>;
const quiet = { info() {}, warn() {}, error() {}, debug() {}, child() { return quiet; } };

interface Cluster {
  data: ConfigData;
  ctx: LUContext;
  feedback: string[];
  nodeCtx: Record<string, NodeContext>;
  root: (node: string) => string;
}

function nodeObject(uuid: string, name: string): NodeObject {
  return {
    uuid, name, serial_no: 1, ctime: 0, mtime: 0, primary_ip: '127.0.0.1', secondary_ip: '127.0.0.1', master_candidate: true,
    offline: false, drained: false, group: 'g1', master_capable: true, vm_capable: true, ndparams: {}, powered: true, tags: [],
  };
}

/** Two virtual nodes with the fixture OSes, and an LU context whose RPCs reach their handlers. */
function cluster(): Cluster {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'gnt-backup-'));
  dirs.push(base);
  const nodeCtx: Record<string, NodeContext> = {};
  for (const name of ['node1', 'node2']) {
    const root = path.join(base, name);
    fs.mkdirSync(path.join(root, 'srv/ganeti/os'), { recursive: true });
    fs.symlinkSync(path.join(FIXTURES, 'writer'), path.join(root, 'srv/ganeti/os/writer'));
    nodeCtx[name] = { paths: nodePaths(root), hostname: name, log: quiet } as unknown as NodeContext;
  }
  const data: ConfigData = {
    version: 3000000, serial_no: 1, ctime: 0, mtime: 0, networks: {}, filters: {}, disks: {}, instances: {},
    nodegroups: { g1: { uuid: 'g1', name: 'default', members: ['u1', 'u2'], alloc_policy: 'preferred', serial_no: 1, ctime: 0, mtime: 0 } },
    nodes: { u1: nodeObject('u1', 'node1'), u2: nodeObject('u2', 'node2') },
    cluster: {
      uuid: 'c', serial_no: 1, ctime: 0, mtime: 0, cluster_name: 'cluster', master_node: 'u1', master_ip: '127.0.0.1',
      master_netdev: 'lo', master_netmask: 32, primary_ip_family: 2, enabled_hypervisors: ['fake'], enabled_disk_templates: ['file'],
      candidate_pool_size: 10, max_running_jobs: 20, max_tracked_jobs: 25, file_storage_dir: '/srv/ganeti/file-storage',
      shared_file_storage_dir: '', gluster_storage_dir: '', tags: [], compression_tools: ['gzip'], zeroing_image: '',
      hvparams: { fake: { migration_mode: 'live' } },
      beparams: { default: { always_failover: false, auto_balance: true, maxmem: 128, minmem: 128, spindle_use: 1, vcpus: 1 } },
      nicparams: { default: { link: 'br0', mode: 'bridged', vlan: '' } }, osparams: {}, osparams_private_cluster: {},
    } as unknown as ConfigData['cluster'],
  };
  const store = {
    data,
    get cluster() { return data.cluster; },
    nodes: () => Object.values(data.nodes),
    node: (u: string) => data.nodes[u],
    nodeByName: (n: string) => Object.values(data.nodes).find((x) => x.name === n),
    masterNode: () => data.nodes[data.cluster.master_node],
    async update<T>(change: (tx: ConfigTx) => T): Promise<T> {
      return change({
        data,
        modified: (o) => { o.serial_no += 1; },
        add: (section, o) => { (data[section] as Record<string, unknown>)[o.uuid] = o; },
        remove: (section, uuid) => { delete (data[section] as Record<string, unknown>)[uuid]; },
      } as ConfigTx);
    },
  } as unknown as ConfigStore;
  const rpc = {
    async call(target: RpcTarget, proc: ProcedureName, args: unknown[]): Promise<RpcResult> {
      if (target.offline) return { node: target.name, ok: false, error: 'Node is marked offline', offline: true };
      // Through JSON, as on the wire.
      const wire = JSON.parse(JSON.stringify(args)) as unknown[];
      try {
        const payload = await BACKEND[proc](nodeCtx[target.name], wire);
        return { node: target.name, ok: true, payload: JSON.parse(JSON.stringify(payload ?? null)) };
      } catch (err) {
        return { node: target.name, ok: false, error: (err as Error).message };
      }
    },
  };
  const feedback: string[] = [];
  const ctx = {
    config: store, rpc, log: quiet, feedback: (m: string) => feedback.push(m), signal: new AbortController().signal,
    master: { hostname: 'node1' },
  } as unknown as LUContext;
  return { data, ctx, feedback, nodeCtx, root: (n) => nodeCtx[n].paths.root };
}

/** An instance of the writer OS with file disks of 1 MiB created on its primary through blockdev_create. */
async function addInstance(c: Cluster, name: string, pnode: string, diskCount: number, adminState: 'up' | 'down' = 'down'): Promise<InstanceObject> {
  const diskUuids: string[] = [];
  for (let i = 0; i < diskCount; i++) {
    const uuid = `${name}-disk${i}`;
    const disk: DiskObject = {
      uuid, serial_no: 1, ctime: 0, mtime: 0, dev_type: 'file', children: [], nodes: [pnode], iv_name: `disk/${i}`, size: 1,
      mode: 'rw', name: i === 0 ? 'root' : null, params: {},
      logical_id: ['loop', `/srv/ganeti/file-storage/${name}/${uuid}.file.disk${i}`],
    };
    const r = await c.ctx.rpc.call({ name: c.data.nodes[pnode].name, address: '', port: 0 }, 'blockdev_create', [disk, 1, name, true, '', false]);
    assert.ok(r.ok, r.ok ? '' : r.error);
    c.data.disks[uuid] = disk;
    diskUuids.push(uuid);
  }
  const inst: InstanceObject = {
    uuid: `uuid-${name}`, serial_no: 1, ctime: 1700000000.5, mtime: 1700000000.5, name, primary_node: pnode, os: 'writer+default',
    hypervisor: 'fake', hvparams: {}, beparams: { maxmem: 64 }, osparams: { marker: `m-${name}` }, osparams_private: {},
    admin_state: adminState, admin_state_source: 'admin', disks_active: false, tags: ['web'], disks: diskUuids,
    nics: [{ mac: 'aa:00:00:00:00:01', ip: null, name: null, network: null, nicparams: {}, uuid: `${name}-nic0` }],
  };
  c.data.instances[inst.uuid] = inst;
  // Install the OS (writes the marker into disk 0), and start it when it is to be up.
  const rpcInst = instanceRpcDict(c.data, inst);
  const target = { name: c.data.nodes[pnode].name, address: '', port: 0 };
  const added = await c.ctx.rpc.call(target, 'instance_os_add', [rpcInst, false, 0]);
  assert.ok(added.ok, added.ok ? '' : added.error);
  if (adminState === 'up') {
    const started = await c.ctx.rpc.call(target, 'instance_start', [rpcInst, false, []]);
    assert.ok(started.ok, started.ok ? '' : started.error);
    inst.disks_active = true;
  }
  return inst;
}

function diskBytes(c: Cluster, node: string, disk: DiskObject): Buffer {
  return fs.readFileSync(path.join(c.root(node), disk.logical_id[1] as string));
}

async function runLu(factory: (op: OpInput, ctx: LUContext) => LogicalUnit, op: Dict, ctx: LUContext): Promise<unknown> {
  const lu = factory({ OP_ID: 'OP_X', reason: [], ...op } as OpInput, ctx);
  lu.checkArguments?.();
  lu.expandNames?.();
  lu.locks?.();
  await lu.checkPrereq?.();
  lu.hooks?.();
  return lu.exec();
}

const EXPORT_DEFAULTS = {
  mode: 'local', shutdown: true, shutdown_timeout: 120, remove_instance: false, ignore_remove_failures: false, compress: 'none',
  zero_free_space: false, long_sleep: false,
};

function running(c: Cluster, node: string): Promise<string[]> {
  return BACKEND.instance_list(c.nodeCtx[node], [['fake'], {}]) as Promise<string[]>;
}

function exportsOn(c: Cluster, node: string): string[] {
  try {
    return fs.readdirSync(path.join(c.root(node), 'srv/ganeti/export')).sort();
  } catch {
    return [];
  }
}

test('config.ini: what finalize_export writes parses back', () => {
  const text = exportConfigText({
    name: 'i1', os: 'writer+default', primary_node: 'u1', hypervisor: 'fake', tags: ['a', 'b'],
    beparams: { maxmem: 128, minmem: 64, vcpus: 1 }, hvparams: { k: 'v' }, osparams: { marker: 'x y' }, osparams_private: {},
    nics: [{ mac: 'aa:00:00:00:00:01', ip: null, name: 'eth0', network: null, nicparams: { mode: 'bridged', link: 'br0', vlan: '' } }],
  }, [{ uuid: 'd0', iv_name: 'disk/0', size: 1024, name: null, dev_type: 'file' }, null], 1700000000);
  const ini = parseIni(text);
  assert.deepEqual([...ini.keys()], ['export', 'instance', 'hypervisor', 'backend', 'os', 'os_private']);
  assert.equal(ini.get('export')!.get('timestamp'), '1700000000');
  assert.equal(ini.get('instance')!.get('nic0_vlan'), '');
  assert.equal(ini.get('instance')!.get('disk0_dump'), 'd0');
  assert.equal(ini.get('instance')!.get('disk_count'), '1');
  assert.equal(ini.get('os')!.get('marker'), 'x y');
  // ConfigParser's other forms: "key: value", comments, continuation lines, case of keys.
  const other = parseIni('# comment\n[export]\nVersion: 0\nos = noop\n; more\n[instance]\ntags = a\n  b\n');
  assert.equal(other.get('export')!.get('version'), '0');
  assert.equal(other.get('instance')!.get('tags'), 'a\nb');
});

test('an import takes the export\'s parameters where the opcode has none', () => {
  const ini = parseIni([
    '[export]', 'version = 0', 'os = writer+second', '',
    '[instance]', 'name = old.example.com', 'hypervisor = fake', 'tags = t1 t2',
    'nic0_mac = aa:00:00:00:00:07', 'nic0_ip = None', 'nic0_network = None', 'nic0_name = eth0',
    'nic0_link = br7', 'nic0_mode = bridged', 'nic0_vlan = ', 'nic_count = 1',
    'disk0_ivname = disk/0', 'disk0_dump = d0', 'disk0_size = 1024', 'disk0_name = None',
    'disk1_ivname = disk/1', 'disk1_dump = d1', 'disk1_size = 512', 'disk1_name = data', 'disk_count = 2', '',
    '[hypervisor]', 'migration_mode = live', '', '[backend]', 'maxmem = 256', 'vcpus = 2', 'memory = 256', '',
    '[os]', 'marker = m', '', '[os_private]', 'token = t', '',
  ].join('\n'));
  const info = { node: nodeObject('u1', 'node1'), path: '/srv/ganeti/export/old.example.com', ini, os: 'writer+second', oldName: 'old.example.com' };
  const op: Dict = { OP_ID: 'OP_INSTANCE_CREATE', os_type: 'ignored', disks: [], nics: [], tags: [], hvparams: {}, beparams: { vcpus: 4 }, osparams: {}, disk_template: 'file' };
  applyExportParams(op as OpInput, info);
  assert.deepEqual(op, {
    OP_ID: 'OP_INSTANCE_CREATE', disk_template: 'file',
    os_type: 'writer+second',
    disks: [{ size: 1024, name: null }, { size: 512, name: 'data' }],
    // The network option is there ("None"): mode and link are left to the defaults, as upstream.
    nics: [{ ip: null, mac: 'aa:00:00:00:00:07', name: 'eth0', network: null }],
    tags: ['t1', 't2'],
    hypervisor: 'fake',
    hvparams: { migration_mode: 'live' },
    beparams: { vcpus: 4, maxmem: '256', memory: '256', minmem: '256' },
    osparams: { marker: 'm' },
    osparams_private: { token: 't' },
  });
  assert.deepEqual(exportImages(info, 3), ['/srv/ganeti/export/old.example.com/d0', '/srv/ganeti/export/old.example.com/d1', null]);
  assert.equal(exportedMac(info, 0), 'aa:00:00:00:00:07');
  assert.equal(exportedMac(info, 1), null);

  // Given disks and NICs stay; an export without disks needs them unless diskless.
  const given: Dict = { disks: [{ size: 8 }], nics: [{ mac: 'auto' }], tags: ['mine'], hypervisor: 'kvm', hvparams: {}, beparams: {}, osparams: {} };
  applyExportParams(given as OpInput, info);
  assert.deepEqual([given.disks, given.nics, given.tags, given.hypervisor], [[{ size: 8 }], [{ mac: 'auto' }], ['mine'], 'kvm']);
  const bare = { ...info, ini: parseIni('[export]\nversion = 0\nos = writer\n[instance]\nname = x\n') };
  assert.throws(() => applyExportParams({ disks: [], nics: [], disk_template: 'file' } as unknown as OpInput, bare), {
    message: 'No disk info specified and the export is missing the disk information',
  });
});

test('where an import looks for its export', () => {
  const c = cluster();
  const op: Dict = { instance_name: 'inst1', src_node: null, src_path: null };
  assert.equal(expandImportSource(c.ctx, op as OpInput), null);
  assert.equal(op.src_path, 'inst1');
  const op2: Dict = { instance_name: 'inst1', src_node: 'node2', src_path: 'other' };
  assert.deepEqual(expandImportSource(c.ctx, op2 as OpInput), ['u2']);
  assert.deepEqual([op2.src_node, op2.src_node_uuid, op2.src_path], ['node2', 'u2', '/srv/ganeti/export/other']);
  assert.throws(() => expandImportSource(c.ctx, { instance_name: 'i', src_path: '/abs' } as unknown as OpInput), {
    message: 'Importing an instance from a path requires a source node option',
  });
});

test('export of a stopped instance to another node, then an import from it under a new name', async () => {
  const c = cluster();
  const inst = await addInstance(c, 'inst1', 'u1', 2);
  const disk0 = c.data.disks['inst1-disk0'];
  const fd = fs.openSync(path.join(c.root('node1'), disk0.logical_id[1] as string), 'r+');
  fs.writeSync(fd, 'more data further in', 100);
  fs.closeSync(fd);
  const original = diskBytes(c, 'node1', disk0);
  assert.match(original.toString('latin1', 0, 64), /^writer inst1 default m-inst1 reinstall=0\n/);

  const result = await runLu(backupExport, { ...EXPORT_DEFAULTS, instance_name: 'inst1', target_node: 'node2' }, c.ctx);
  assert.deepEqual(result, [true, [true, true]]);
  assert.deepEqual(c.feedback, [
    'Shutting down instance inst1',
    'Activating disks for inst1',
    'Exporting disk/0 from node1 to node2',
    'disk/0 finished receiving data',
    'Exporting disk/1 from node1 to node2',
    'disk/1 finished receiving data',
    'Finalizing export on node2',
    'Deactivating disks for inst1',
    'Removing old exports for instance inst1',
  ]);
  assert.deepEqual(exportsOn(c, 'node2'), ['inst1']);
  assert.deepEqual(fs.readdirSync(path.join(c.root('node2'), 'srv/ganeti/export/inst1')).sort(), ['config.ini', 'inst1-disk0', 'inst1-disk1']);
  assert.ok(fs.readFileSync(path.join(c.root('node2'), 'srv/ganeti/export/inst1/inst1-disk0')).equals(original));
  // The staging copy on the primary is gone; the export scripts logged there.
  assert.deepEqual(exportsOn(c, 'node1'), []);
  assert.equal(fs.readdirSync(path.join(c.root('node1'), 'var/log/ganeti/os')).filter((n) => n.startsWith('export-writer+default-inst1-disk')).length, 2);
  assert.equal(c.data.instances[inst.uuid].disks_active, false);

  // Import as inst2 on node1 (the export is on node2): found by name, copied over, imported, renamed.
  c.feedback.length = 0;
  const op: Dict = { instance_name: 'inst2', src_node: null, src_path: 'inst1', disks: [], nics: [], tags: [], hvparams: {}, beparams: {}, osparams: {}, disk_template: 'file' };
  assert.equal(expandImportSource(c.ctx, op as OpInput), null);
  const info = await readExportInfo(c.ctx, op as OpInput);
  assert.deepEqual([op.src_node, op.src_path, info.os, info.oldName], ['node2', '/srv/ganeti/export/inst1', 'writer+default', 'inst1']);
  applyExportParams(op as OpInput, info);
  assert.deepEqual(op.disks, [{ size: 1, name: 'root' }, { size: 1, name: null }]);
  const inst2 = await addInstance(c, 'inst2', 'u1', 2);
  const images = exportImages(info, 2);
  const ok = await importInstanceDisks(c.ctx, inst2, info, images, 0);
  assert.deepEqual(ok, [true, true]);
  assert.deepEqual(c.feedback, [
    '* running the instance OS import scripts...',
    'Exporting disk/0 from node2 to node1',
    'disk/0 finished receiving data',
    'Exporting disk/1 from node2 to node1',
    'disk/1 finished receiving data',
    'Running rename script for inst2',
  ]);
  assert.ok(diskBytes(c, 'node1', c.data.disks['inst2-disk0']).equals(original));
  const logs = fs.readdirSync(path.join(c.root('node1'), 'var/log/ganeti/os'));
  const renameLog = logs.find((n) => n.startsWith('rename-writer+default-inst1-inst2-'));
  assert.ok(renameLog, logs.join(' '));
  assert.match(fs.readFileSync(path.join(c.root('node1'), 'var/log/ganeti/os', renameLog!), 'utf8'), /renamed inst1 to inst2\n$/);
  assert.deepEqual(exportsOn(c, 'node1'), []);

  // A second export to node1 replaces the one on node2.
  c.feedback.length = 0;
  await runLu(backupExport, { ...EXPORT_DEFAULTS, instance_name: 'inst1', target_node: 'node1' }, c.ctx);
  assert.deepEqual(exportsOn(c, 'node1'), ['inst1']);
  assert.deepEqual(exportsOn(c, 'node2'), []);

  // Removal: by name; an unknown name says how to name a deleted instance's export.
  c.feedback.length = 0;
  await runLu(backupRemove, { instance_name: 'inst1' }, c.ctx);
  assert.deepEqual(exportsOn(c, 'node1'), []);
  c.data.nodes.u2.offline = true;
  await runLu(backupRemove, { instance_name: 'gone' }, c.ctx);
  assert.deepEqual(c.feedback, [
    ' - WARNING: Failed to query node node2 (continuing): Node is marked offline',
    'Export not found. If trying to remove an export belonging to a deleted instance please use its Fully Qualified Domain Name.',
  ]);
});

test('a running instance: refused without --long-sleep (and left running), else exported and restarted', async () => {
  const c = cluster();
  const inst = await addInstance(c, 'web', 'u1', 1, 'up');
  assert.deepEqual(await running(c, 'node1'), ['web']);
  await assert.rejects(runLu(backupExport, { ...EXPORT_DEFAULTS, instance_name: 'web', target_node: 'node1' }, c.ctx), (err: unknown) =>
    err instanceof OpExecError && err.message === 'Not all disks could be snapshotted, and you did not allow the instance to remain ' +
      'offline for a longer time through the --long-sleep option; aborting');
  await assert.rejects(runLu(backupExport, { ...EXPORT_DEFAULTS, shutdown: false, instance_name: 'web', target_node: 'node1' }, c.ctx), {
    message: 'Not all disks could be snapshotted, and you requested a live export; aborting',
  });
  assert.deepEqual(await running(c, 'node1'), ['web']);

  const result = await runLu(backupExport, { ...EXPORT_DEFAULTS, long_sleep: true, instance_name: 'web', target_node: 'node1' }, c.ctx);
  assert.deepEqual(result, [true, [true]]);
  assert.deepEqual(c.feedback.filter((l) => /instance|disks/.test(l) && !l.startsWith('Exporting')), [
    'Shutting down instance web',
    'Starting instance web',
    'Removing old exports for instance web',
  ]);
  assert.deepEqual(await running(c, 'node1'), ['web']);
  assert.equal(c.data.instances[inst.uuid].admin_state, 'up');
  assert.deepEqual(exportsOn(c, 'node1'), ['web']);
});

test('export with --remove-instance; prerequisites', async () => {
  const c = cluster();
  const inst = await addInstance(c, 'old', 'u2', 1, 'up');
  await assert.rejects(runLu(backupExport, { ...EXPORT_DEFAULTS, shutdown: false, remove_instance: true, instance_name: 'old', target_node: 'node1' }, c.ctx),
    (err: unknown) => err instanceof OpPrereqError && err.message === 'Can not remove instance without shutting it down before');
  await assert.rejects(runLu(backupExport, { ...EXPORT_DEFAULTS, compress: 'lzop', instance_name: 'old', target_node: 'node1' }, c.ctx), {
    message: 'Compression tool not allowed, tools allowed are [gzip]',
  });
  await assert.rejects(runLu(backupExport, { ...EXPORT_DEFAULTS, zero_free_space: true, instance_name: 'old', target_node: 'node1' }, c.ctx), {
    message: 'A zeroing image must be set for zeroing to work',
  });
  await assert.rejects(runLu(backupExport, { ...EXPORT_DEFAULTS, mode: 'remote', instance_name: 'old', target_node: [] }, c.ctx), {
    message: 'Remote export needs the remote import-export daemons, which this cluster does not run',
  });
  c.data.nodes.u1.drained = true;
  await assert.rejects(runLu(backupExport, { ...EXPORT_DEFAULTS, instance_name: 'old', target_node: 'node1' }, c.ctx), { message: "Can't use drained node node1" });
  c.data.nodes.u1.drained = false;

  // Removing the instance needs no snapshot: it is shut down and gone afterwards, its export kept.
  const disk = c.data.disks['old-disk0'];
  const result = await runLu(backupExport, { ...EXPORT_DEFAULTS, remove_instance: true, instance_name: 'old', target_node: 'node1' }, c.ctx);
  assert.deepEqual(result, [true, [true]]);
  assert.equal(c.data.instances[inst.uuid], undefined);
  assert.equal(c.data.disks['old-disk0'], undefined);
  assert.ok(!fs.existsSync(path.join(c.root('node2'), disk.logical_id[1] as string)));
  assert.deepEqual(await running(c, 'node2'), []);
  assert.deepEqual(exportsOn(c, 'node1'), ['old']);
  assert.ok(c.feedback.includes('Removing instance old'));
  // OP_BACKUP_PREPARE has nothing to do locally.
  await assert.rejects(runLu(backupPrepare, { instance_name: 'old', mode: 'local' }, c.ctx), { message: "Instance 'old' not known" });
});

test('a failing disk export fails the job and leaves no finished export', async () => {
  const c = cluster();
  const inst = await addInstance(c, 'bad', 'u1', 1);
  // The disk vanishes behind the cluster's back: activation fails before any transfer.
  fs.rmSync(path.join(c.root('node1'), c.data.disks['bad-disk0'].logical_id[1] as string));
  await assert.rejects(runLu(backupExport, { ...EXPORT_DEFAULTS, instance_name: 'bad', target_node: 'node2' }, c.ctx), { message: 'Disk consistency error' });
  // An export script failing mid-way: the per-disk failure and the job's error.
  const disk = c.data.disks['bad-disk0'];
  await c.ctx.rpc.call({ name: 'node1', address: '', port: 0 }, 'blockdev_create', [disk, 1, 'bad', true, '', false]);
  fs.chmodSync(path.join(c.root('node1'), disk.logical_id[1] as string), 0o000);
  const readable = (() => {
    try {
      fs.readFileSync(path.join(c.root('node1'), disk.logical_id[1] as string));
      return true;
    } catch {
      return false;
    }
  })();
  if (readable) {
    // Running as root: unreadable files are readable; make the OS lose its export script instead.
    fs.unlinkSync(path.join(c.root('node1'), 'srv/ganeti/os/writer'));
    const broken = path.join(c.root('node1'), 'srv/ganeti/os/writer');
    fs.cpSync(path.join(FIXTURES, 'writer'), broken, { recursive: true });
    fs.writeFileSync(path.join(broken, 'export'), '#!/bin/sh\necho "cannot read the disk" >&2\nexit 3\n', { mode: 0o755 });
  }
  c.feedback.length = 0;
  await assert.rejects(runLu(backupExport, { ...EXPORT_DEFAULTS, instance_name: 'bad', target_node: 'node2' }, c.ctx), {
    message: 'Export failed, errors in export finalization, disk export: disk(s) 0',
  });
  const failure = c.feedback.find((l) => l.startsWith('disk/0 failed to receive data: '));
  assert.ok(failure, c.feedback.join('\n'));
  if (readable) assert.match(failure!, /OS export script failed \(exited with exit code 3\), last lines in the log file:\n(.|\n)*cannot read the disk$/);
  assert.ok(c.feedback.includes(' - WARNING: Some disk exports have failed; there may be leftover data for instance bad on node node2'));
  assert.deepEqual(exportsOn(c, 'node2'), []);
  assert.deepEqual(exportsOn(c, 'node1'), []);
  assert.equal(c.data.instances[inst.uuid].disks_active, false);
});
