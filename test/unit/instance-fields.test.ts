process.env.TZ = 'UTC';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RS_NODATA, RS_OFFLINE, RS_UNAVAIL } from '../../src/core/constants.ts';
import { OpPrereqError } from '../../src/core/errors.ts';
import { queryFields, runQuery, type Filter } from '../../src/core/query.ts';
import type { ConfigData } from '../../src/master/config/model.ts';
import { markerStatus } from '../../src/master/config/node-fields.ts';
import {
  INSTANCE_FIELDS, instanceViews, formatOrdinal, type InstanceView,
} from '../../src/master/config/instance-fields.ts';
import { formatFieldList, formatQueryTable, type QueryTableOptions } from '../../src/cli/format/table.ts';
import { makeNameFilter } from '../../src/cli/filter-parser.ts';
import { LIST_DEFAULT_FIELDS, LIST_JOINED_FIELDS } from '../../src/cli/commands/instance.ts';
import { ALPHA, BETA, GAMMA, GAMMA_DISK, GROUP, NODE1, fakeRpc, goldenConfig, goldenLive, goldenStdout } from './instance-fixture.ts';

// The golden cluster of ./instance-fixture.ts, listed as `gnt-instance list` shows it.

async function list(config: ConfigData, fields: string[], options: QueryTableOptions = {}, filter: Filter = null, rpc = fakeRpc()): Promise<string> {
  const r = runQuery(INSTANCE_FIELDS, fields, await instanceViews({ data: config }, rpc as never, fields, filter), filter);
  return `${formatQueryTable(r.fields, r.data, { joinedFields: LIST_JOINED_FIELDS, ...options }).join('\n')}\n`;
}

const fieldsOf = (output: string) => output.split(',');

test('gnt-instance list-fields: every instance field of Ganeti 3.0, in its order (golden 056)', () => {
  const all = queryFields(INSTANCE_FIELDS, null).fields;
  assert.equal(all.length, 292);
  assert.equal(`${formatFieldList(all).join('\n')}\n`, goldenStdout('056.txt'));
  assert.equal(formatOrdinal(1), '1st');
  assert.equal(formatOrdinal(12), '12th');
  assert.equal(formatOrdinal(23), '23rd');
});

test('gnt-instance list with many fields, live data from all_instances_info (golden 037, 127)', async () => {
  const config = goldenConfig();
  const fields37 = fieldsOf('name,status,oper_state,admin_state,pnode,snodes,disk_template,disk.count,disk.sizes,disk_usage,nic.count,nic.macs,nic.modes,nic.links,nic.ips,be/maxmem,be/minmem,be/vcpus,be/auto_balance,hv/kernel_path,hv/kernel_args,os,hypervisor,oper_ram,oper_vcpus');
  assert.equal(await list(config, fields37), goldenStdout('037.txt'));
  assert.equal(await list(config, fieldsOf('name,status,admin_state,oper_state')), goldenStdout('127.txt'));
});

test('gnt-instance list: separators, units and joined lists (golden 038, 040, 041, 050)', async () => {
  const config = goldenConfig();
  assert.equal(await list(config, fieldsOf('name,status,oper_ram,disk.sizes,nic.modes'), { header: false, separator: ':' }), goldenStdout('038.txt'));
  assert.equal(await list(config, fieldsOf('name,be/maxmem,disk.size/0,disk_usage'), { units: 'm' }), goldenStdout('040.txt'));
  assert.equal(await list(config, fieldsOf('name,be/maxmem,disk.size/0,disk_usage'), { units: 'g' }), goldenStdout('041.txt'));
  assert.equal(await list(config, [...LIST_DEFAULT_FIELDS, 'tags']), goldenStdout('050.txt'));
});

test('gnt-instance list: filters, globs and short names (golden 043, 044, 046, 047, 049)', async () => {
  const config = goldenConfig();
  const run = (args: string[], force = false) => list(config, LIST_DEFAULT_FIELDS, {}, makeNameFilter(args, { forceFilter: force }));
  assert.equal(await run(['admin_state == "down"'], true), goldenStdout('043.txt'));
  assert.equal(await run(['disk_template == "file" or name =~ /^beta/'], true), goldenStdout('044.txt'));
  assert.equal(await run(['a*']), goldenStdout('046.txt'));
  assert.equal(await run(['*.gnt.test']), goldenStdout('047.txt'));
  assert.equal(await run(['alpha']), goldenStdout('049.txt'));
});

test('gnt-instance list: unknown fields, cluster-wide hypervisor parameters are not fields (golden 052, 097)', async () => {
  const config = goldenConfig();
  assert.equal(await list(config, ['name', 'hv/migration_mode']), goldenStdout('052.txt'));
  assert.equal(await list(config, ['name', 'nosuchfield']), goldenStdout('097.txt'));
});

test('plain name filters ask for existing instances, in the order given', async () => {
  const config = goldenConfig();
  const views = await instanceViews({ data: config }, fakeRpc() as never, ['name'], ['|', ['==', 'name', 'gamma'], ['==', 'name', 'alpha.gnt.test']]);
  assert.deepEqual(views.map((v) => v.inst.name), ['gamma.gnt.test', 'alpha.gnt.test']);
  await assert.rejects(instanceViews({ data: config }, fakeRpc() as never, ['name'], ['|', ['==', 'name', 'nosuch']]), (err: unknown) => {
    assert.ok(err instanceof OpPrereqError);
    assert.deepEqual(err.args, ['Instance name nosuch not found', 'unknown_entity']);
    return true;
  });
});

test('all_instances_info is asked only for live fields, only of the primary nodes, in one fan-out', async () => {
  const config = goldenConfig();
  config.nodes.n2 = { ...config.nodes[NODE1], uuid: 'n2', name: 'node2.gnt.test', primary_ip: '192.0.2.11' };
  let rpc = fakeRpc();
  await instanceViews({ data: config }, rpc as never, ['name', 'os', 'disk_usage', 'nic.macs']);
  assert.equal(rpc.calls.length, 0);

  rpc = fakeRpc();
  await instanceViews({ data: config }, rpc as never, ['name', 'oper_ram']);
  assert.equal(rpc.calls.length, 1);
  assert.equal(rpc.calls[0].proc, 'all_instances_info');
  assert.deepEqual(rpc.calls[0].targets.map((t) => t.name), ['node1.gnt.test']);
  assert.deepEqual(rpc.calls[0].args[0], [['fake'], { fake: { migration_mode: 'live' } }]);

  // A filter on a live field needs the nodes too; the rest of the filter narrows who is asked.
  rpc = fakeRpc();
  const running = await instanceViews({ data: config }, rpc as never, ['name'], ['==', 'status', 'running']);
  assert.equal(rpc.calls.length, 1);
  assert.deepEqual(runQuery(INSTANCE_FIELDS, ['name'], running, ['==', 'status', 'running']).data, [[[0, 'alpha.gnt.test']], [[0, 'gamma.gnt.test']]]);
  rpc = fakeRpc();
  const none = await instanceViews({ data: config }, rpc as never, ['name'], ['&', ['==', 'status', 'running'], ['=~', 'name', '^zzz']]);
  assert.equal(none.length, 0);
  assert.equal(rpc.calls.length, 0);

  // console asks instance_console_info as well.
  rpc = fakeRpc((t, proc) => ({ node: t.name, ok: true, payload: proc === 'all_instances_info' ? goldenLive()
    : { 'alpha.gnt.test': { instance: 'alpha.gnt.test', kind: 'msg', message: 'Console not available for fake hypervisor' } } }));
  const r = runQuery(INSTANCE_FIELDS, ['name', 'console'], await instanceViews({ data: config }, rpc as never, ['name', 'console']), null);
  assert.deepEqual(rpc.calls.map((c) => c.proc), ['all_instances_info', 'instance_console_info']);
  assert.deepEqual(Object.keys(rpc.calls[1].args[0][0] as object), ['gamma.gnt.test', 'alpha.gnt.test', 'beta.gnt.test'].sort());
  assert.deepEqual(r.data[0][1], [0, { instance: 'alpha.gnt.test', kind: 'msg', message: 'Console not available for fake hypervisor' }]);
  assert.deepEqual(r.data[1][1], [RS_NODATA, null]);
});

test('cells of an unreachable or offline primary node, and of a stopped instance', async () => {
  const config = goldenConfig();
  const fields = ['name', 'status', 'oper_state', 'oper_ram', 'oper_vcpus', 'console'];
  const down = fakeRpc((t) => ({ node: t.name, ok: false, error: 'Connection refused' }));
  const r1 = runQuery(INSTANCE_FIELDS, fields, await instanceViews({ data: config }, down as never, fields), null);
  assert.deepEqual(r1.data[0], [[0, 'alpha.gnt.test'], [0, 'ERROR_nodedown'], [RS_NODATA, null], [RS_NODATA, null], [RS_NODATA, null], [RS_NODATA, null]]);
  config.nodes[NODE1].offline = true;
  const r2 = runQuery(INSTANCE_FIELDS, fields, await instanceViews({ data: config }, fakeRpc() as never, fields), null);
  assert.deepEqual(r2.data[1], [[0, 'beta.gnt.test'], [0, 'ERROR_nodeoffline'], [RS_NODATA, null], [RS_OFFLINE, null], [RS_OFFLINE, null], [RS_OFFLINE, null]]);
  assert.equal(await list(config, fields.slice(0, 5)), [
    'Instance       Status            Running Memory VCPUs',
    'alpha.gnt.test ERROR_nodeoffline ?            *     *',
    'beta.gnt.test  ERROR_nodeoffline ?            *     *',
    'gamma.gnt.test ERROR_nodeoffline ?            *     *',
    '',
  ].join('\n'));
  config.nodes[NODE1].offline = false;
  const r3 = runQuery(INSTANCE_FIELDS, fields.slice(0, 5), await instanceViews({ data: config }, fakeRpc() as never, fields), null);
  assert.deepEqual(r3.data[1], [[0, 'beta.gnt.test'], [0, 'ADMIN_down'], [0, false], [RS_UNAVAIL, null], [RS_UNAVAIL, null]]);
});

test('configuration fields: parameters, NICs, disks, nodes and their groups', async () => {
  const config = goldenConfig();
  const gamma = config.instances[GAMMA];
  gamma.nics.push({ mac: 'aa:00:00:00:00:02', ip: '192.0.2.50', nicparams: { mode: 'openvswitch', link: 'br1', vlan: '.100' }, network: null, name: 'eth1', uuid: 'nic-2' });
  gamma.beparams = { vcpus: 2 };
  gamma.hvparams = { kernel_path: '/boot/vmlinuz' };
  const get = (name: string, v: InstanceView) => INSTANCE_FIELDS.get(name)!.get(v);
  const v: InstanceView = { inst: gamma, config };
  assert.deepEqual(get('beparams', v), { minmem: 128, maxmem: 128, vcpus: 2, auto_balance: true, always_failover: false, spindle_use: 1 });
  assert.deepEqual(get('custom_beparams', v), { vcpus: 2 });
  assert.deepEqual(get('hvparams', v), { kernel_path: '/boot/vmlinuz' });
  assert.equal(get('hv/kernel_path', v), '/boot/vmlinuz');
  assert.equal(markerStatus(get('hv/acpi', v)), RS_UNAVAIL);
  assert.equal(get('vcpus', v), 2);
  assert.equal(get('be/memory', v), 128);
  assert.deepEqual(get('nic.modes', v), ['bridged', 'openvswitch']);
  assert.deepEqual(get('nic.bridges', v), ['gnt0', null]);
  assert.deepEqual(get('nic.vlans', v), [null, '.100']);
  assert.equal(get('nic.vlan/1', v), '.100');
  assert.equal(markerStatus(get('nic.vlan/0', v)), RS_UNAVAIL);
  assert.equal(markerStatus(get('nic.bridge/1', v)), RS_UNAVAIL);
  assert.equal(get('nic.ip/1', v), '192.0.2.50');
  assert.equal(markerStatus(get('nic.ip/0', v)), RS_UNAVAIL);
  assert.equal(markerStatus(get('nic.mac/2', v)), RS_UNAVAIL);
  assert.equal(get('ip', v), get('nic.ip/0', v));
  assert.equal(get('disk.size/0', v), 1024);
  assert.equal(get('sda_size', v), 1024);
  assert.equal(markerStatus(get('sdb_size', v)), RS_UNAVAIL);
  assert.equal(markerStatus(get('disk.spindles/0', v)), RS_UNAVAIL);
  assert.deepEqual(get('disk.uuids', v), [GAMMA_DISK]);
  assert.equal(get('pnode.group', v), 'default');
  assert.equal(get('pnode.group.uuid', v), GROUP);
  assert.deepEqual(get('snodes', v), []);
  assert.deepEqual(get('tags', { inst: config.instances[ALPHA], config }), ['prod', 'web']);
  assert.equal(get('admin_up', { inst: config.instances[BETA], config }), false);
  assert.equal(markerStatus(get('network_port', v)), RS_UNAVAIL);
  // A DRBD disk counts its metadata, and its second node is a secondary.
  config.nodes.n2 = { ...config.nodes[NODE1], uuid: 'n2', name: 'node2.gnt.test' };
  config.disks[GAMMA_DISK].dev_type = 'drbd';
  config.disks[GAMMA_DISK].nodes = [NODE1, 'n2'];
  assert.equal(get('disk_usage', v), 1024 + 128);
  assert.deepEqual(get('snodes', v), ['node2.gnt.test']);
  assert.deepEqual(get('snodes.group', v), ['default']);
  // Disks of two kinds are "mixed"; a missing disk object leaves no data.
  config.disks.d2 = { ...config.disks[GAMMA_DISK], uuid: 'd2', dev_type: 'plain' };
  gamma.disks = [GAMMA_DISK, 'd2'];
  assert.equal(get('disk_template', v), 'mixed');
  gamma.disks = [GAMMA_DISK, 'gone'];
  assert.equal(markerStatus(get('disk_template', v)), RS_NODATA);
  assert.equal(markerStatus(get('disk.sizes', v)), RS_NODATA);
});
