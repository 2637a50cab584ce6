// The fake hypervisor and the instance procedures on top of it: state files, start/stop/
// reboot semantics as upstream's hv_fake and backend, memory accounting in node_info,
// user shutdown, an instance dying behind the master's back, consoles, and the disks an
// instance needs to start.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { BACKEND } from '../../src/node/backend.ts';
import type { NodeContext } from '../../src/node/context.ts';
import { nodePaths, type NodePaths } from '../../src/util/paths.ts';
import { FakeHypervisor, fakeHypervisorDir, setFakeGuestState } from '../../src/node/hypervisor/fake.ts';
import { getHypervisor } from '../../src/node/hypervisor/index.ts';
import { linuxNodeInfo } from '../../src/node/hypervisor/linux.ts';

const temps: string[] = [];
after(() => {
  for (const d of temps) fs.rmSync(d, { recursive: true, force: true });
});

function node(): { ctx: NodeContext; paths: NodePaths; root: string } {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'gnt-fakehv-'));
  temps.push(base);
  const root = path.join(base, 'node1');
  fs.mkdirSync(root);
  const paths = nodePaths(root);
  return { ctx: { paths, hostname: 'node1', log: pino({ level: 'silent' }) }, paths, root };
}

function inst(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name, uuid: `uuid-${name}`, hypervisor: 'fake', os: 'noop', primary_node: 'n1', admin_state: 'up',
    hvparams: {}, beparams: { maxmem: 128, minmem: 128, vcpus: 1 }, osparams: {}, nics: [], disks: [], disks_info: [],
    secondary_nodes: [], ...extra,
  };
}

const stateFile = (paths: NodePaths, name: string) => path.join(fakeHypervisorDir(paths), name);
const readState = (paths: NodePaths, name: string) => JSON.parse(fs.readFileSync(stateFile(paths, name), 'utf8'));

test('start writes the instance state file; the instance is listed with its memory and vcpus; a second start does nothing', async () => {
  const { ctx, paths, root } = node();
  assert.equal(await BACKEND.instance_start(ctx, [inst('alpha', { beparams: { maxmem: 256, minmem: 128, vcpus: 2 } }), false, [['gnt:client:gnt-instance', 'startup', 1]]]), null);
  const state = readState(paths, 'alpha');
  assert.equal(state.name, 'alpha');
  assert.equal(state.vcpus, 2);
  assert.equal(state.state, 'running');
  assert.equal(state.paused, false);
  assert.ok(state.memory === 256 || state.memory >= 128, 'maxmem when the node has it free');
  assert.deepEqual(fs.readdirSync(fakeHypervisorDir(paths)), ['alpha'], 'no temporaries left behind');
  assert.deepEqual(await BACKEND.instance_list(ctx, [['fake'], { fake: {} }]), ['alpha']);
  assert.deepEqual(await BACKEND.all_instances_info(ctx, [['fake'], { fake: {} }]), { alpha: { memory: state.memory, vcpus: 2, state: 'running', time: 0 } });
  assert.deepEqual(await BACKEND.instance_info(ctx, ['alpha', 'fake', {}]), { memory: state.memory, vcpus: 2, state: 'running', time: 0 });
  assert.deepEqual(await BACKEND.instance_info(ctx, ['nosuch', 'fake', {}]), {});
  const before = fs.readFileSync(stateFile(paths, 'alpha'), 'utf8');
  assert.equal(await BACKEND.instance_start(ctx, [inst('alpha'), false, []]), null);
  assert.equal(fs.readFileSync(stateFile(paths, 'alpha'), 'utf8'), before);
  // The reason trail is kept, with noded's own entry appended.
  const trail = JSON.parse(fs.readFileSync(path.join(root, 'var/run/ganeti/instance-reason/alpha'), 'utf8'));
  assert.deepEqual(trail[0], ['gnt:client:gnt-instance', 'startup', 1]);
  assert.equal(trail[1][0], 'gnt:daemon:noded:start');
  assert.equal(await getHypervisor(paths, 'fake').verify(), null);
});

test('shutdown removes the instance; shutting down a stopped instance succeeds', async () => {
  const { ctx, paths } = node();
  await BACKEND.instance_start(ctx, [inst('beta'), true, []]);
  assert.equal(readState(paths, 'beta').paused, true);
  assert.equal(await BACKEND.instance_shutdown(ctx, [inst('beta'), 120, []]), null);
  assert.ok(!fs.existsSync(stateFile(paths, 'beta')));
  assert.deepEqual(await BACKEND.instance_list(ctx, [['fake'], {}]), []);
  assert.deepEqual(await BACKEND.all_instances_info(ctx, [['fake'], {}]), {});
  assert.equal(await BACKEND.instance_shutdown(ctx, [inst('beta'), 120, []]), null);
});

test('reboot: soft leaves the guest alone, hard restarts it, a stopped instance cannot be rebooted', async () => {
  const { ctx, paths } = node();
  await BACKEND.instance_start(ctx, [inst('gamma'), false, []]);
  const started = readState(paths, 'gamma').started;
  await BACKEND.instance_reboot(ctx, [inst('gamma'), 'soft', 120, []]);
  assert.equal(readState(paths, 'gamma').started, started);
  await new Promise((r) => setTimeout(r, 5));
  await BACKEND.instance_reboot(ctx, [inst('gamma'), 'hard', 120, []]);
  assert.ok(readState(paths, 'gamma').started > started, 'a hard reboot starts the instance anew');
  await assert.rejects(async () => BACKEND.instance_reboot(ctx, [inst('gamma'), 'full', 120, []]), { message: 'Invalid reboot_type received: full' });
  await BACKEND.instance_shutdown(ctx, [inst('gamma'), 0, []]);
  await assert.rejects(async () => BACKEND.instance_reboot(ctx, [inst('gamma'), 'soft', 120, []]), { message: 'Cannot reboot instance gamma that is not running' });
});

test('an instance whose state file vanished has died; a guest that shut itself down is "shutdown" until started again', async () => {
  const { ctx, paths } = node();
  await BACKEND.instance_start(ctx, [inst('delta'), false, []]);
  await BACKEND.instance_start(ctx, [inst('epsilon'), false, []]);
  fs.rmSync(stateFile(paths, 'delta'));
  assert.deepEqual(await BACKEND.instance_list(ctx, [['fake'], {}]), ['epsilon']);
  await setFakeGuestState(paths, 'epsilon', 'shutdown');
  const info = await BACKEND.all_instances_info(ctx, [['fake'], {}]) as Record<string, { state: string }>;
  assert.deepEqual(Object.keys(info), ['epsilon']);
  assert.equal(info.epsilon.state, 'shutdown');
  // Starting a user-down instance starts it again (upstream: it is not "already running").
  await BACKEND.instance_start(ctx, [inst('epsilon'), false, []]);
  assert.equal(readState(paths, 'epsilon').state, 'running');
  // Shutting down a user-down instance cleans it up.
  await setFakeGuestState(paths, 'epsilon', 'shutdown');
  await BACKEND.instance_shutdown(ctx, [inst('epsilon'), 10, []]);
  assert.ok(!fs.existsSync(stateFile(paths, 'epsilon')));
});

test('memory: running instances are taken off the node\'s free memory; startup memory is maxmem if free, never below minmem', async () => {
  const { paths } = node();
  const hv = new FakeHypervisor(paths, () => ({ memory_total: 1000, memory_free: 500, memory_dom0: 100, cpu_total: 2, cpu_dom0: 2, cpu_nodes: 1, cpu_sockets: 1 }));
  const hvInst = (name: string, maxmem: number, minmem: number) => ({ name, hypervisor: 'fake', hvparams: {}, beparams: { maxmem, minmem, vcpus: 1 } });
  await hv.start(hvInst('a', 128, 128), [], false);
  await hv.start(hvInst('b', 128, 128), [], false);
  assert.equal((await hv.nodeInfo()).memory_free, 244);
  await hv.start(hvInst('c', 1000, 100), [], false);
  assert.equal((await hv.instanceInfo('c'))?.memory, 244, 'only what is free');
  assert.equal((await hv.nodeInfo()).memory_free, 0);
  await hv.start(hvInst('d', 512, 64), [], false);
  assert.equal((await hv.instanceInfo('d'))?.memory, 64, 'minmem even when nothing is free');
  assert.equal((await hv.nodeInfo()).memory_free, 0, 'never negative');
  await assert.rejects(hv.start(hvInst('a', 128, 128), [], false), { message: 'Failed to start instance a: already running' });
  await hv.stop(hvInst('a', 128, 128), { force: false, retry: false });
  await assert.rejects(hv.stop(hvInst('a', 128, 128), { force: false, retry: false }), { message: 'Failed to stop instance a: not running' });
  await hv.balloon(hvInst('b', 128, 128), 96);
  assert.equal((await hv.instanceInfo('b'))?.memory, 96);
  await assert.rejects(hv.balloon(hvInst('a', 128, 128), 96), { message: 'Failed to balloon memory for a: not running' });
});

test('node_info\'s hv_info is the node\'s memory minus the fake instances\'', async () => {
  const { ctx } = node();
  const free = () => linuxNodeInfo().memory_free;
  await BACKEND.instance_start(ctx, [inst('zeta', { beparams: { maxmem: 64, minmem: 64, vcpus: 1 } }), false, []]);
  const before = free();
  const [, , [hv]] = await BACKEND.node_info(ctx, [[], [['fake', {}]]]) as [string, unknown[], Array<Record<string, number>>];
  const after = free();
  assert.deepEqual(Object.keys(hv).sort(), ['cpu_dom0', 'cpu_nodes', 'cpu_sockets', 'cpu_total', 'memory_dom0', 'memory_free', 'memory_total']);
  // The machine's own free memory moves a little between readings.
  assert.ok(hv.memory_free <= Math.max(before, after) - 64 + 16 && hv.memory_free >= Math.min(before, after) - 64 - 16, `${hv.memory_free} vs ${before}/${after}`);
  assert.ok(hv.cpu_total >= 1);
});

test('balloon changes a running instance\'s memory and ignores a stopped one', async () => {
  const { ctx, paths } = node();
  await BACKEND.instance_start(ctx, [inst('eta'), false, []]);
  assert.equal(await BACKEND.instance_balloon_memory(ctx, [inst('eta'), 100]), null);
  assert.equal(readState(paths, 'eta').memory, 100);
  assert.equal(await BACKEND.instance_balloon_memory(ctx, [inst('theta'), 100]), null);
  await assert.rejects(async () => BACKEND.instance_balloon_memory(ctx, [inst('eta'), -5]), { message: 'Invalid memory size -5' });
});

test('console: the fake hypervisor has none and says so', async () => {
  const { ctx } = node();
  const message = { instance: 'iota', kind: 'msg', message: 'Console not available for fake hypervisor' };
  assert.deepEqual(await BACKEND.instance_console_info(ctx, [{ iota: [inst('iota'), { name: 'node1' }, { name: 'default' }, {}, {}] }]), { iota: message });
  assert.deepEqual(await BACKEND.instance_console_info(ctx, [{ iota: { instance: inst('iota'), node: {}, group: {}, hvParams: {}, beParams: {} } }]), { iota: message });
});

test('hypervisors that are not there and bad instances are refused with a clear message', async () => {
  const { ctx } = node();
  await assert.rejects(async () => BACKEND.instance_start(ctx, [inst('kappa', { hypervisor: 'xen-hvm' }), false, []]), { message: "Hypervisor 'xen-hvm' is not available on this node (available: fake, kvm)" });
  await assert.rejects(async () => BACKEND.instance_list(ctx, [['nosuch'], {}]), { message: "Unknown hypervisor type 'nosuch'" });
  // A Ganeti hypervisor this node has no backend for runs nothing here: listings skip it.
  await BACKEND.instance_start(ctx, [inst('nu'), false, []]);
  assert.deepEqual(await BACKEND.instance_list(ctx, [['fake', 'xen-hvm'], {}]), ['nu']);
  assert.deepEqual(Object.keys(await BACKEND.all_instances_info(ctx, [['xen-hvm', 'fake'], {}]) as object), ['nu']);
  assert.deepEqual(await BACKEND.instance_info(ctx, ['nu', 'xen-hvm', {}]), {});
  await assert.rejects(async () => BACKEND.node_info(ctx, [[], [['xen-pvm', {}]]]), { message: "Hypervisor 'xen-pvm' is not available on this node (available: fake, kvm)" });
  await assert.rejects(async () => BACKEND.instance_start(ctx, [inst('../escape'), false, []]), { message: 'Invalid instance name "../escape"' });
  await assert.rejects(async () => BACKEND.instance_start(ctx, [{ hypervisor: 'fake' }, false, []]), { message: 'Instance has no name' });
  await assert.rejects(async () => BACKEND.instance_shutdown(ctx, ['lambda', 10, []]), { message: 'Invalid instance "lambda"' });
});

test('an instance starts only with its disks in place; its disk links go when it stops', async () => {
  const { ctx, paths, root } = node();
  const file = '/srv/ganeti/file-storage/mu/d0.file.disk0';
  const disk = { dev_type: 'file', logical_id: ['loop', file], size: 1, iv_name: 'disk/0', mode: 'rw', params: {}, children: [], nodes: ['n1'], uuid: 'd0' };
  const mu = inst('mu', { disks: ['d0'], disks_info: [disk] });
  await assert.rejects(async () => BACKEND.instance_start(ctx, [mu, false, []]),
    { message: `Block device error: Block device '<Disk(type=file, logical_id=('loop', '${file}'), children=[], visible as /dev/disk/0, size=1m)>' is not set up.` });
  assert.ok(!fs.existsSync(stateFile(paths, 'mu')));
  await BACKEND.blockdev_create(ctx, [disk, 1, 'mu', true, '', false]);
  await BACKEND.instance_start(ctx, [mu, false, []]);
  const link = path.join(root, 'var/run/ganeti/instance-disks/mu:0');
  assert.equal(fs.readlinkSync(link), path.join(root, file));
  await BACKEND.instance_shutdown(ctx, [mu, 120, []]);
  assert.ok(!fs.existsSync(link));
});
