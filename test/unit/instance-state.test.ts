// Instance state transitions without a cluster: what marking an instance up, down
// (by the admin or the user) and offline writes to the configuration, that only real
// changes are written, and CheckInstanceState's verdicts with upstream's texts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OpPrereqError } from '../../src/core/errors.ts';
import type { InstanceObject } from '../../src/master/config/model.ts';
import {
  checkInstanceState, INSTANCE_DOWN, INSTANCE_NOT_RUNNING, INSTANCE_ONLINE, markInstanceDown, markInstanceUp, setInstanceStatus,
} from '../../src/master/cmdlib/instance-utils.ts';

function fakeCtx(opts: { running?: string[]; nodeOffline?: boolean } = {}) {
  const inst = {
    uuid: 'i1', name: 'web1', primary_node: 'n1', hypervisor: 'fake', admin_state: 'down', admin_state_source: 'admin',
    disks_active: false, serial_no: 1,
  } as unknown as InstanceObject;
  const data = {
    instances: { i1: inst },
    nodes: { n1: { uuid: 'n1', name: 'node1', primary_ip: '127.0.0.1', offline: opts.nodeOffline ?? false, ndparams: {} } },
    cluster: { hvparams: { fake: {} } },
  };
  const writes: number[] = [];
  const feedback: string[] = [];
  const rpcCalls: string[] = [];
  const ctx = {
    config: {
      data,
      cluster: data.cluster,
      node: (u: string) => (data.nodes as Record<string, unknown>)[u],
      update: async <T>(fn: (tx: unknown) => T) => {
        let modified = 0;
        const result = fn({ data, modified: () => { modified += 1; } });
        writes.push(modified);
        return result;
      },
    },
    rpc: {
      call: async (_t: unknown, proc: string) => {
        rpcCalls.push(proc);
        return { node: 'node1', ok: true, payload: opts.running ?? [] };
      },
    },
    feedback: (m: string) => feedback.push(m),
  } as never;
  return { ctx, inst, writes, feedback, rpcCalls };
}

test('up, down by the admin or the user, offline: the admin state, its source and the disks flag', async () => {
  const { ctx, inst, writes } = fakeCtx();
  await markInstanceUp(ctx, 'i1');
  assert.deepEqual([inst.admin_state, inst.admin_state_source, inst.disks_active], ['up', 'admin', true]);
  await markInstanceUp(ctx, 'i1');
  assert.deepEqual(writes, [1, 0], 'nothing changed, nothing written');
  await markInstanceDown(ctx, 'i1', 'user');
  assert.deepEqual([inst.admin_state, inst.admin_state_source, inst.disks_active], ['down', 'user', true]);
  await setInstanceStatus(ctx, 'i1', { adminState: 'offline', source: 'admin', disksActive: false });
  assert.deepEqual([inst.admin_state, inst.admin_state_source, inst.disks_active], ['offline', 'admin', false]);
});

test('CheckInstanceState: the admin state first, then (without "up") the node must not run it', async () => {
  const prereq = (msg: string) => (e: unknown) => e instanceof OpPrereqError && e.message === msg && e.args[1] === 'wrong_state';
  {
    const { ctx, inst, rpcCalls } = fakeCtx();
    inst.admin_state = 'offline';
    await assert.rejects(checkInstanceState(ctx, inst, INSTANCE_ONLINE), prereq("Instance 'web1' is marked to be offline, can't use instance from outside down, up states"));
    await checkInstanceState(ctx, inst, INSTANCE_NOT_RUNNING, 'cannot rename');
    assert.deepEqual(rpcCalls, ['instance_list']);
    inst.admin_state = 'up';
    await checkInstanceState(ctx, inst, INSTANCE_ONLINE);
    assert.deepEqual(rpcCalls, ['instance_list'], 'no node asked when "up" is allowed');
    await assert.rejects(checkInstanceState(ctx, inst, INSTANCE_DOWN, 'cannot reinstall'), prereq("Instance 'web1' is marked to be up, cannot reinstall"));
  }
  {
    const { ctx, inst } = fakeCtx({ running: ['web1'] });
    await assert.rejects(checkInstanceState(ctx, inst, INSTANCE_DOWN, 'cannot reinstall'), prereq('Instance web1 is running, cannot reinstall'));
  }
  {
    const { ctx, inst, feedback, rpcCalls } = fakeCtx({ running: ['web1'], nodeOffline: true });
    await checkInstanceState(ctx, inst, INSTANCE_DOWN);
    assert.deepEqual(rpcCalls, []);
    assert.deepEqual(feedback, [' - WARNING: Primary node offline, ignoring check that instance is down']);
  }
});
