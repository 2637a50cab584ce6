process.env.TZ = 'UTC';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OpExecError, OpPrereqError } from '../../src/core/errors.ts';
import type { RpcTarget } from '../../src/rpc/client.ts';
import type { ConfigData } from '../../src/master/config/model.ts';
import { instanceQueryData } from '../../src/master/cmdlib/query.ts';
import type { LUContext } from '../../src/master/cmdlib/base.ts';
import { formatInfo } from '../../src/cli/format/info.ts';
import { instanceInfoEntry, tryToRoman } from '../../src/cli/commands/instance-info.ts';
import { ALPHA, BETA, GAMMA_DISK_PATH, NODE1, RUNNING, goldenConfig, goldenLive, goldenStdout } from './instance-fixture.ts';

// OP_INSTANCE_QUERY_DATA and `gnt-instance info`'s layout, against the golden recordings
// of alpha (diskless, 053) and gamma (a file disk, 055), with their uuids, MACs and times.

interface Call { node: string; proc: string; args: unknown[] }

/** The golden node: alpha and gamma run; the file disk is there. */
function context(data: ConfigData, answer?: (t: RpcTarget, proc: string) => unknown) {
  const calls: Call[] = [];
  const feedback: string[] = [];
  const live = goldenLive();
  const ctx = {
    config: { data },
    feedback: (m: string) => feedback.push(m),
    rpc: {
      async call(t: RpcTarget, proc: string, args: unknown[]) {
        calls.push({ node: t.name, proc, args });
        if (answer) return answer(t, proc);
        if (proc === 'instance_info') return { node: t.name, ok: true, payload: live[args[0] as string] ?? {} };
        return { node: t.name, ok: true, payload: { dev_path: GAMMA_DISK_PATH, major: null, minor: null, sync_percent: null, estimated_time: null, is_degraded: false, ldisk_status: 0 } };
      },
    },
  };
  return { ctx: ctx as unknown as LUContext, calls, feedback };
}

async function queryData(data: ConfigData, op: Record<string, unknown>, ctxOf = context(data)) {
  const lu = instanceQueryData({ OP_ID: 'OP_INSTANCE_QUERY_DATA', use_locking: false, static: false, instances: [], ...op } as never, ctxOf.ctx);
  lu.expandNames?.();
  const locks = lu.locks?.();
  await lu.checkPrereq?.();
  return { result: await lu.exec() as Record<string, Record<string, unknown>>, locks };
}

const infoText = (result: Record<string, Record<string, unknown>>, roman = false) =>
  `${formatInfo(Object.values(result).map((i) => instanceInfoEntry(i, roman))).join('\n')}\n`;

test('gnt-instance info of a diskless and of a file-disk instance (golden 053, 055)', async () => {
  const data = goldenConfig();
  const c = context(data);
  const { result, locks } = await queryData(data, { instances: ['alpha.gnt.test'], use_locking: true }, c);
  assert.equal(infoText(result), goldenStdout('053.txt'));
  assert.deepEqual(locks, { bglShared: true, levels: { instance: { names: [ALPHA], shared: true }, node: { names: [NODE1], shared: true } } });
  assert.deepEqual(c.calls.map((x) => [x.proc, x.args]), [['instance_info', ['alpha.gnt.test', 'fake', { migration_mode: 'live' }]]]);
  assert.deepEqual(c.feedback, []);
  const gamma = await queryData(data, { instances: ['gamma'], use_locking: true });
  assert.equal(infoText(gamma.result), goldenStdout('055.txt'));
});

test('static info: no node is asked, no actual state; all instances in name order', async () => {
  const data = goldenConfig();
  const c = context(data);
  const { result, locks } = await queryData(data, { static: true }, c);
  assert.deepEqual(Object.keys(result), ['alpha.gnt.test', 'beta.gnt.test', 'gamma.gnt.test']);
  assert.deepEqual(c.calls, []);
  assert.deepEqual(locks, { bglShared: true, levels: {} });
  const text = infoText(result);
  assert.match(text, /^ {2}State: configured to be up$/m);
  assert.match(text, /^ {2}State: configured to be down$/m);
  assert.doesNotMatch(text, /on primary/);
});

test('run state: down, user down, offline; an offline primary gives static data with a warning', async () => {
  const data = goldenConfig();
  const beta = await queryData(data, { instances: ['beta.gnt.test'], use_locking: true });
  assert.equal(beta.result['beta.gnt.test'].run_state, 'down');
  data.instances[BETA].admin_state = 'offline';
  assert.equal((await queryData(data, { instances: ['beta.gnt.test'], use_locking: true })).result['beta.gnt.test'].run_state, 'offline');
  data.instances[BETA].admin_state = 'down';
  data.instances[BETA].admin_state_source = 'user';
  assert.equal((await queryData(data, { instances: ['beta.gnt.test'], use_locking: true })).result['beta.gnt.test'].run_state, 'user down');
  // A guest that shut itself down is "down", or "user down" where the cluster counts user shutdowns.
  const selfStopped = context(data, (t) => ({ node: t.name, ok: true, payload: { ...RUNNING, state: 'shutdown' } }));
  const runState = async () => (await queryData(data, { instances: ['alpha'], use_locking: true }, selfStopped)).result['alpha.gnt.test'].run_state;
  assert.equal(await runState(), 'down');
  data.cluster.enabled_user_shutdown = true;
  assert.equal(await runState(), 'user down');
  data.nodes[NODE1].offline = true;
  const c = context(data);
  const off = await queryData(data, { instances: ['alpha'], use_locking: true }, c);
  assert.equal(off.result['alpha.gnt.test'].run_state, null);
  assert.deepEqual(c.feedback, [' - WARNING: Primary node node1.gnt.test is marked offline, returning static information only for instance alpha.gnt.test']);
  assert.deepEqual(c.calls, []);
});

test('unknown instances and failing nodes are errors (golden 089)', async () => {
  const data = goldenConfig();
  await assert.rejects(queryData(data, { instances: ['nosuch'] }), (e: unknown) => {
    assert.ok(e instanceof OpPrereqError);
    assert.deepEqual(e.args, ["Instance 'nosuch' not known", 'unknown_entity']);
    return true;
  });
  const failing = context(data, (t) => ({ node: t.name, ok: false, error: 'Connection refused' }));
  await assert.rejects(queryData(data, { instances: ['alpha'], use_locking: true }, failing), (e: unknown) => {
    assert.ok(e instanceof OpExecError);
    assert.equal(e.message, 'Error checking node node1.gnt.test: Connection refused');
    return true;
  });
  // Non-static data without locking is locked anyway, with upstream's warning.
  const c = context(data);
  await queryData(data, { instances: ['alpha'] }, c);
  assert.deepEqual(c.feedback, [' - WARNING: Non-static data requested, locks need to be acquired']);
});

test('roman numerals, plain and DRBD disk details, secondary nodes', () => {
  assert.equal(tryToRoman(3, true), 'III');
  assert.equal(tryToRoman(1994, true), 'MCMXCIV');
  assert.equal(tryToRoman(0, true), 0);
  assert.equal(tryToRoman(3, false), 3);
  const disk = (extra: Record<string, unknown>) => ({
    iv_name: 'disk/0', dev_type: 'plain', logical_id: ['xenvg', 'abc.disk0'], pstatus: ['/dev/xenvg/abc.disk0', 253, 1, null, null, false, 2],
    sstatus: null, children: [], mode: 'rw', size: 2048, spindles: 1, name: 'root', uuid: 'd', ...extra,
  });
  const inst = {
    name: 'i', uuid: 'u', serial_no: 4, ctime: 0, mtime: 0, config_state: 'up', run_state: 'up', pnode: 'n1', pnode_group_name: 'g',
    pnode_group_uuid: 'gu', snodes: ['n2'], snodes_group_names: ['g'], snodes_group_uuids: ['gu'], os: 'noop', os_instance: {}, os_actual: {},
    network_port: 5901, hypervisor: 'kvm', hv_instance: {}, hv_actual: { vnc_bind_address: '0.0.0.0' }, be_instance: { maxmem: 512 },
    be_actual: { maxmem: 512 }, nics: [], disk_template: 'plain', disks: [disk({})],
  };
  const text = formatInfo([instanceInfoEntry(inst, true)]).join('\n');
  assert.match(text, /^ {2}Serial number: IV$/m);
  assert.match(text, /^ {4}- secondaries: n2 \(group g, group UUID gu\)$/m);
  assert.match(text, /^ {2}Allocated network port: 5901$/m);
  assert.match(text, /^ {2}console connection: vnc to n1:5901 \(display 1\)$/m);
  assert.match(text, /^ {4}maxmem: 512$/m);
  assert.match(text, /^ {4}memory: default \(512\)$/m);
  assert.match(text, /^ {4}- disk\/0: plain, size 2\.0G$/m);
  assert.match(text, /^ {6}spindles: 1$/m);
  assert.match(text, /^ {6}logical_id: xenvg\/abc\.disk0$/m);
  assert.match(text, /^ {6}on primary: \/dev\/xenvg\/abc\.disk0 \(CCLIII:I\) \*FAILED\* \(failed drive\?\)$/m);
  const drbd = formatInfo([instanceInfoEntry({ ...inst, disks: [disk({
    dev_type: 'drbd', drbd_info: { primary_node: 'n1', primary_minor: 0, secondary_node: 'n2', secondary_minor: 1, port: 11000, secret: 's' },
    pstatus: ['/dev/drbd0', 147, 0, 45.5, 30, true, 0], children: [disk({ iv_name: null, pstatus: null })],
  })] }, false)]).join('\n');
  assert.match(drbd, /^ {6}nodeA: n1, minor=0$/m);
  assert.match(drbd, /^ {6}port: 11000$/m);
  assert.match(drbd, /^ {6}on primary: \/dev\/drbd0 \(147:0\) \*RECOVERING\* 45\.50%, ETA 30s, status \*DEGRADED\*$/m);
  assert.match(drbd, /^ {6}child devices: $/m);
  assert.match(drbd, /^ {8}- child 0: plain, size 2\.0G$/m);
});
