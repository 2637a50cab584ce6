import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RS_NODATA, RS_OFFLINE } from '../../src/core/constants.ts';
import { instanceStatus, type InstanceRuntime } from '../../src/master/config/instance-fields.ts';
import type { ConfigData, InstanceObject } from '../../src/master/config/model.ts';

// Every rule of upstream's instance status (luxid's determineInstanceStatus): an offline
// primary node first, then an unreachable one, then what the hypervisors report.

const NODE = 'n1';

function setup(admin: InstanceObject['admin_state'], opts: { hypervisor?: string; source?: 'admin' | 'user'; userShutdown?: boolean; offline?: boolean; hv?: Record<string, unknown> } = {}) {
  const config = {
    cluster: { enabled_user_shutdown: opts.userShutdown ?? false, hvparams: { fake: {}, kvm: { user_shutdown: false } } },
    nodes: { [NODE]: { uuid: NODE, name: 'node1', offline: opts.offline ?? false } },
  } as unknown as ConfigData;
  const inst = {
    uuid: 'i', name: 'inst1', primary_node: NODE, hypervisor: opts.hypervisor ?? 'fake', os: 'noop', hvparams: opts.hv ?? {},
    admin_state: admin, admin_state_source: opts.source ?? 'admin',
  } as unknown as InstanceObject;
  return { config, inst };
}

const running: InstanceRuntime = { ok: true, info: { memory: 128, vcpus: 1, state: 'running' }, onPrimary: true, console: null };
const userStopped: InstanceRuntime = { ok: true, info: { memory: 128, vcpus: 1, state: 'shutdown' }, onPrimary: true, console: null };
const elsewhere: InstanceRuntime = { ok: true, info: { memory: 128, vcpus: 1, state: 'running' }, onPrimary: false, console: null };
const notRunning: InstanceRuntime = { ok: true, info: null, onPrimary: false, console: null };
const noAnswer: InstanceRuntime = { ok: false, status: RS_NODATA };
const offlineAnswer: InstanceRuntime = { ok: false, status: RS_OFFLINE };

const status = (admin: InstanceObject['admin_state'], rt: InstanceRuntime, opts: Parameters<typeof setup>[1] = {}) => {
  const { config, inst } = setup(admin, opts);
  return instanceStatus(config, inst, rt);
};

test('running: up and running on its primary', () => {
  assert.equal(status('up', running), 'running');
});

test('ADMIN_down: down and not running (also after a user shutdown when the cluster does not track those)', () => {
  assert.equal(status('down', notRunning), 'ADMIN_down');
  assert.equal(status('down', notRunning, { source: 'user' }), 'ADMIN_down');
  // Stopped from inside while configured down is just down.
  assert.equal(status('down', userStopped, { userShutdown: true }), 'ADMIN_down');
});

test('ADMIN_offline: marked offline and not running', () => {
  assert.equal(status('offline', notRunning), 'ADMIN_offline');
});

test('ERROR_up: running although it should be stopped (down or offline)', () => {
  assert.equal(status('down', running), 'ERROR_up');
  assert.equal(status('offline', running), 'ERROR_up');
});

test('ERROR_down: should run but does not', () => {
  assert.equal(status('up', notRunning), 'ERROR_down');
  // A guest that shut itself down is an error while user shutdown is off…
  assert.equal(status('up', userStopped), 'ERROR_down');
  // …and for KVM unless its user_shutdown parameter is on.
  assert.equal(status('up', userStopped, { userShutdown: true, hypervisor: 'kvm' }), 'ERROR_down');
});

test('USER_down: the guest shut itself down and the cluster tracks user shutdowns', () => {
  assert.equal(status('up', userStopped, { userShutdown: true }), 'USER_down');
  assert.equal(status('up', userStopped, { userShutdown: true, hypervisor: 'kvm', hv: { user_shutdown: true } }), 'USER_down');
  // Already cleaned up by the watcher: admin down, recorded as the user's doing.
  assert.equal(status('down', notRunning, { userShutdown: true, source: 'user' }), 'USER_down');
});

test('ERROR_wrongnode: running, but on another node than its primary', () => {
  assert.equal(status('up', elsewhere), 'ERROR_wrongnode');
  assert.equal(status('down', elsewhere), 'ERROR_wrongnode');
});

test('ERROR_nodedown: the primary node did not answer', () => {
  assert.equal(status('up', noAnswer), 'ERROR_nodedown');
  assert.equal(status('down', noAnswer), 'ERROR_nodedown');
  assert.equal(status('offline', noAnswer), 'ERROR_nodedown');
});

test('ERROR_nodeoffline: the primary node is marked offline, whatever was (not) said', () => {
  for (const rt of [running, notRunning, noAnswer, offlineAnswer, elsewhere]) {
    assert.equal(status('up', rt, { offline: true }), 'ERROR_nodeoffline');
    assert.equal(status('down', rt, { offline: true }), 'ERROR_nodeoffline');
  }
});
