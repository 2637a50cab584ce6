process.env.TZ = 'UTC';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { OpExecError, OpPrereqError } from '../../src/core/errors.ts';
import type { RpcTarget } from '../../src/rpc/client.ts';
import type { ConfigData } from '../../src/master/config/model.ts';
import { instanceQueryData } from '../../src/master/cmdlib/query.ts';
import type { LUContext } from '../../src/master/cmdlib/base.ts';
import { formatInfo } from '../../src/cli/format/info.ts';
import { instanceInfoEntry, tryToRoman } from '../../src/cli/commands/instance-info.ts';
import { DEFAULT_BEPARAMS, DEFAULT_NICPARAMS } from '../../src/master/config/defaults.ts';

// OP_INSTANCE_QUERY_DATA and `gnt-instance info`'s layout, against the golden recordings
// of alpha (diskless, 053) and gamma (a file disk, 055), with their uuids, MACs and times.

const GOLDEN = path.join(import.meta.dirname, '../golden');

function goldenStdout(file: string): string {
  const text = fs.readFileSync(path.join(GOLDEN, file), 'utf8');
  const m = /===== STDOUT \(\d+ bytes\) =====\n([\s\S]*?)===== STDERR/.exec(text);
  assert.ok(m, `no STDOUT in ${file}`);
  return m[1];
}

const NODE1 = '78c7e9f1-fab8-42d9-b8da-205deddba3ab';
const GROUP = '88e2168b-eafa-44f3-8e8c-5fa3ffcd6a31';
const at = (hms: string) => Date.UTC(2026, 10, 23, ...hms.split(':').map(Number) as [number, number, number]) / 1000 + 0.25;
const DISK_PATH = '/srv/ganeti/file-storage/gamma.gnt.test/9a79896c-74f4-448f-b640-5b1465881ef2.file.disk0';

function goldenConfig(): ConfigData {
  const inst = (uuid: string, name: string, mac: string, nicUuid: string, ctime: string, mtime: string, extra: Record<string, unknown> = {}) => ({
    uuid, name, serial_no: 3, ctime: at(ctime), mtime: at(mtime), primary_node: NODE1, os: 'noop', hypervisor: 'fake',
    hvparams: {}, beparams: {}, osparams: {}, osparams_private: {}, admin_state: 'up', admin_state_source: 'admin', disks: [],
    disks_active: true, network_port: null, tags: [], nics: [{ mac, ip: null, nicparams: {}, network: null, name: null, uuid: nicUuid }],
    ...extra,
  });
  return {
    cluster: {
      master_node: NODE1, hvparams: { fake: { migration_mode: 'live' } }, beparams: structuredClone(DEFAULT_BEPARAMS),
      nicparams: structuredClone(DEFAULT_NICPARAMS), osparams: {}, enabled_user_shutdown: false,
    },
    nodes: { [NODE1]: { uuid: NODE1, name: 'node1.gnt.test', primary_ip: '192.0.2.10', offline: false, group: GROUP, ndparams: {} } },
    nodegroups: { [GROUP]: { uuid: GROUP, name: 'default' } },
    instances: {
      '6bc271db-f896-46fd-937d-14c253fc7f99': inst('6bc271db-f896-46fd-937d-14c253fc7f99', 'alpha.gnt.test', 'aa:00:00:31:9c:e6',
        '1d001308-2d50-43d4-bc94-7ad0b90806e2', '21:11:13', '21:11:21'),
      '75001ee7-9a18-4e90-aa92-debb3c3288d5': inst('75001ee7-9a18-4e90-aa92-debb3c3288d5', 'gamma.gnt.test', 'aa:00:00:f7:b6:33',
        '30c6ea99-2bb6-428a-a90a-5aef60d8d25a', '21:11:18', '21:11:19', { disks: ['f1977163-555d-4080-bb83-aa34d53410df'] }),
      i2: inst('i2', 'beta.gnt.test', 'aa:00:00:29:cd:e6', 'n2', '21:11:14', '21:11:15', { admin_state: 'down' }),
    },
    disks: {
      'f1977163-555d-4080-bb83-aa34d53410df': {
        uuid: 'f1977163-555d-4080-bb83-aa34d53410df', dev_type: 'file', logical_id: ['loop', DISK_PATH], children: [],
        nodes: [NODE1], iv_name: 'disk/0', size: 1024, mode: 'rw', name: null, spindles: null, params: {},
      },
    },
    networks: {},
  } as unknown as ConfigData;
}

interface Call { node: string; proc: string; args: unknown[] }

/** The golden node: alpha and gamma run; the file disk is there. */
function context(data: ConfigData, answer?: (t: RpcTarget, proc: string) => unknown) {
  const calls: Call[] = [];
  const feedback: string[] = [];
  const running = new Set(['alpha.gnt.test', 'gamma.gnt.test']);
  const ctx = {
    config: { data },
    feedback: (m: string) => feedback.push(m),
    rpc: {
      async call(t: RpcTarget, proc: string, args: unknown[]) {
        calls.push({ node: t.name, proc, args });
        if (answer) return answer(t, proc);
        if (proc === 'instance_info') return { node: t.name, ok: true, payload: running.has(args[0] as string) ? { memory: 128, vcpus: 1, state: 'running', time: 5 } : {} };
        return { node: t.name, ok: true, payload: { dev_path: DISK_PATH, major: null, minor: null, sync_percent: null, estimated_time: null, is_degraded: false, ldisk_status: 0 } };
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
  assert.deepEqual(locks, { bglShared: true, levels: { instance: { names: ['6bc271db-f896-46fd-937d-14c253fc7f99'], shared: true }, node: { names: [NODE1], shared: true } } });
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

test('a stopped instance is "down"; an offline primary gives static data with a warning', async () => {
  const data = goldenConfig();
  const beta = await queryData(data, { instances: ['beta.gnt.test'], use_locking: true });
  assert.equal(beta.result['beta.gnt.test'].run_state, 'down');
  data.instances.i2.admin_state = 'offline';
  assert.equal((await queryData(data, { instances: ['beta.gnt.test'], use_locking: true })).result['beta.gnt.test'].run_state, 'offline');
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
