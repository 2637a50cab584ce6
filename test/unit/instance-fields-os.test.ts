process.env.TZ = 'UTC';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RS_NODATA, RS_OFFLINE } from '../../src/core/constants.ts';
import { queryFields, runQuery } from '../../src/core/query.ts';
import type { ConfigData } from '../../src/master/config/model.ts';
import { OS_FIELDS, mergeOsDiagnose, osViews } from '../../src/master/config/os-fields.ts';
import { EXPORT_FIELDS, exportViews, exportsByNode } from '../../src/master/config/export-fields.ts';
import { osDiagnoseFilter } from '../../src/master/cmdlib/query.ts';
import { OS_INFO_FIELDS, osDiagnoseText, osInfoText, osListLines } from '../../src/cli/commands/os.ts';
import { formatFieldList, formatQueryTable } from '../../src/cli/format/table.ts';
import { answersByNode, fakeRpc, goldenStdout } from './instance-fixture.ts';

// The OS and export resources and the gnt-os output, checked against the golden cluster's
// recordings (074, 076, 077): OS noop (API 5, 10) and debootstrap (API 5-20, variant
// default, parameter filesystem) on node1.gnt.test.

const FILESYSTEM_DOC = "The filesystem type to use for the root partition. This has to be a filesystem type supported by ``mke2fs``. The default is 'ext4'.";

/** What os_diagnose answers on the golden node. */
const GOLDEN_OSES: unknown[][] = [
  ['noop', '/usr/share/ganeti/os/noop', true, '', [], [], [10, 5], true],
  ['debootstrap', '/usr/share/ganeti/os/debootstrap', true, '', ['default'], [['filesystem', FILESYSTEM_DOC]], [20, 15, 10, 5], true],
];

function config(nodes: Array<{ name: string; offline?: boolean }>, extra: Record<string, unknown> = {}): ConfigData {
  return {
    cluster: { hidden_os: [], blacklisted_os: [], os_hvp: {}, osparams: {}, ...extra },
    nodes: Object.fromEntries(nodes.map((n, i) => [`n${i}`, {
      uuid: `n${i}`, name: n.name, primary_ip: `192.0.2.${10 + i}`, offline: n.offline ?? false, vm_capable: true, ndparams: {},
    }])),
  } as unknown as ConfigData;
}

/** OP_OS_DIAGNOSE's rows for the fields, as the logical unit computes them. */
async function diagnoseRows(cfg: ConfigData, rpc: ReturnType<typeof fakeRpc>, fields: string[]): Promise<unknown[][]> {
  const r = runQuery(OS_FIELDS, fields, await osViews({ data: cfg }, rpc as never), osDiagnoseFilter(fields, []));
  return r.data.map((row) => row.map(([, v]) => v));
}

test('gnt-os list and info from the golden node (golden 074, 076, 077)', async () => {
  const cfg = config([{ name: 'node1.gnt.test' }]);
  const rpc = fakeRpc(answersByNode({ 'node1.gnt.test': GOLDEN_OSES }));
  assert.equal(`${osListLines(await diagnoseRows(cfg, rpc, ['name', 'variants']), true).join('\n')}\n`, goldenStdout('074.txt'));
  assert.deepEqual(osListLines(await diagnoseRows(cfg, rpc, ['name', 'variants']), false), ['debootstrap+default', 'noop']);
  const rows = await diagnoseRows(cfg, rpc, OS_INFO_FIELDS);
  assert.equal(osInfoText(rows, []), goldenStdout('076.txt'));
  assert.equal(osInfoText(rows, ['noop']), goldenStdout('077.txt'));
  assert.equal(osInfoText(rows, ['nosuch']), 'nosuch: \n\n');
  // An OS no node has, but with cluster-level parameters, shows those.
  const withParams = rows.map((r) => (r[0] === 'noop' ? r.map((v, i) => (i === 8 ? { ghost: { x: '1' } } : v)) : r));
  assert.equal(osInfoText(withParams, ['ghost']), 'ghost: \n  OS-specific hypervisor parameters: \n  OS parameters: \n    x: 1\n\n');
  assert.deepEqual(rpc.calls.map((c) => c.proc), ['os_diagnose', 'os_diagnose', 'os_diagnose']);
});

test('OS fields: names, titles, kinds (11 fields)', () => {
  assert.deepEqual(formatFieldList(queryFields(OS_FIELDS, null).fields), [
    'Name         Type    Title              Description',
    'api_versions Custom  ApiVersions        Operating system API versions',
    'blacklisted  Boolean Blacklisted        Whether operating system is blacklisted',
    'hidden       Boolean Hidden             Whether operating system is hidden',
    'name         Text    Name               Operating system name',
    'node_status  Custom  NodeStatus         Status from node',
    'os_hvp       Custom  OsHypervisorParams Operating system specific hypervisor parameters',
    'osparams     Custom  OsParameters       Operating system specific parameters',
    'parameters   Custom  Parameters         Operating system parameters',
    'trusted      Boolean Trusted            Whether this OS is trusted',
    'valid        Boolean Valid              Whether operating system definition is valid',
    'variants     Custom  Variants           Operating system variants',
  ]);
});

test('merging several nodes: valid only where every answering node has it, common variants and versions', () => {
  const cfg = config([{ name: 'node1' }, { name: 'node2' }], { hidden_os: ['img'], os_hvp: { img: { kvm: { acpi: false } } } });
  const answers = new Map<string, unknown[] | null>([
    ['node1', [
      ['img', '/srv/ganeti/os/img', true, '', ['a', 'b'], [['p1', 'one'], ['p2', 'two']], [20, 15], true],
      ['img', '/usr/share/ganeti/os/img', false, 'Missing script', [], [], [], true],
      ['broken', '/srv/ganeti/os/broken', false, "Required script 'create' not found", [], [], [], false],
    ]],
    ['node2', [['img', '/srv/ganeti/os/img', true, '', ['b', 'c'], [['p2', 'two']], [20], false]]],
    ['node3', null],
  ]);
  const views = mergeOsDiagnose(cfg, answers);
  assert.deepEqual(views.map((v) => [v.name, v.valid, v.hidden, v.trusted]), [['broken', false, false, false], ['img', true, true, false]]);
  const img = views[1];
  assert.deepEqual([img.variants, img.parameters, img.apiVersions], [['b'], [['p2', 'two']], [20]]);
  assert.deepEqual(img.osHvp, { kvm: { acpi: false } });
  assert.deepEqual(Object.keys(img.nodeStatus), ['node1', 'node2']);
  assert.equal(img.nodeStatus.node1.length, 2);
  // broken is missing on node2: not valid there either.
  assert.deepEqual(views[0].nodeStatus.node2, []);
  // The legacy call hides invalid and hidden OSes unless those fields are asked for.
  assert.deepEqual(osDiagnoseFilter(['name'], []), ['&', ['!', ['?', 'hidden']], ['!', ['?', 'blacklisted']], ['?', 'valid']]);
  assert.deepEqual(osDiagnoseFilter(['name', 'valid', 'hidden', 'blacklisted'], ['a']), ['|', ['=', 'name', 'a']]);
  const shown = runQuery(OS_FIELDS, ['name'], views, osDiagnoseFilter(['name'], [])).data;
  assert.deepEqual(shown, []);
});

test('gnt-os diagnose: per node status, hidden definitions, global status and exit code', () => {
  const rows = [
    ['img', true, ['b'], {
      node1: [['/srv/ganeti/os/img', true, '', ['a', 'b'], [['p2', 'two']], [20, 15], true],
        ['/usr/share/ganeti/os/img', false, 'Missing script', [], [], [], true]],
      node2: [['/srv/ganeti/os/img', true, '', ['b'], [], [15], false]],
    }, true, false],
    ['old', false, [], { node1: [], node2: [['/srv/ganeti/os/old', false, 'bad API', [], [], [5], true]] }, false, true],
  ];
  const [text, code] = osDiagnoseText(rows);
  assert.equal(code, 1);
  assert.equal(text, [
    'OS: img [global status: valid] [hidden]',
    '  Variants: [b]',
    '  Node: node1, status: valid (path: /srv/ganeti/os/img) [API versions: 20, 15] [variants: a, b] [parameters: p2] [trusted]',
    '    [hidden] path: /usr/share/ganeti/os/img, status: invalid - Missing script',
    '  Node: node2, status: valid (path: /srv/ganeti/os/img) [API versions: 15] [variants: b] [untrusted]',
    '',
    'OS: old [global status: invalid] [blacklisted]',
    '  Node: node1, status: OS not found',
    '  Node: node2, status: invalid - bad API (path: /srv/ganeti/os/old) [API versions: 5] [trusted]',
    '',
    '',
  ].join('\n'));
});

test('export resource: one row per export, a status row for a node that could not be asked', async () => {
  const cfg = config([{ name: 'node2.gnt.test' }, { name: 'node1.gnt.test' }, { name: 'node3.gnt.test', offline: true }, { name: 'node4.gnt.test' }]);
  const rpc = fakeRpc(answersByNode({ 'node1.gnt.test': ['alpha.gnt.test', 'beta.gnt.test'], 'node2.gnt.test': [], 'node4.gnt.test': new Error('refused') }));
  const views = await exportViews({ data: cfg }, rpc as never);
  const r = runQuery(EXPORT_FIELDS, ['node', 'export'], views, null);
  assert.deepEqual(r.data, [
    [[0, 'node1.gnt.test'], [0, 'alpha.gnt.test']],
    [[0, 'node1.gnt.test'], [0, 'beta.gnt.test']],
    [[0, 'node3.gnt.test'], [RS_OFFLINE, null]],
    [[0, 'node4.gnt.test'], [RS_NODATA, null]],
  ]);
  assert.deepEqual(formatQueryTable(r.fields, r.data), [
    'Node           Export',
    'node1.gnt.test alpha.gnt.test',
    'node1.gnt.test beta.gnt.test',
    'node3.gnt.test *',
    'node4.gnt.test ?',
  ]);
  // gnt-backup list -n node1: a filter on the node field, short names allowed.
  assert.equal(runQuery(EXPORT_FIELDS, ['export'], views, ['|', ['=', 'node', 'node1']]).data.length, 2);
  assert.deepEqual(exportsByNode(views, []), { 'node1.gnt.test': ['alpha.gnt.test', 'beta.gnt.test'], 'node3.gnt.test': false, 'node4.gnt.test': false });
  assert.deepEqual(exportsByNode(views, ['node1']), { 'node1.gnt.test': ['alpha.gnt.test', 'beta.gnt.test'] });
});
