import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OpPrereqError, TypeEnforcementError } from '../../src/core/errors.ts';
import { parseOptions } from '../../src/cli/parser.ts';
import type { CommandContext } from '../../src/cli/framework.ts';
import { COMMON_CREATE_OPTS, ADD_OPTS, IMPORT_OPTS, instanceCreateOpcode, parseDiskOptions, identValues, splitNodeOption } from '../../src/cli/commands/instance-create.ts';
import { convertModifications } from '../../src/cli/commands/instance.ts';
import { expandMultiNames, runJobs } from '../../src/cli/commands/instance-multi.ts';
import { COMMON_OPTIONS } from '../../src/cli/framework.ts';

// The command-line side of instance creation and of the multi-instance commands: the
// opcodes they build from upstream's options, and the checks made before submitting.

function ctxFor(argv: string[], extra: Array<typeof COMMON_CREATE_OPTS[number]> = ADD_OPTS, client?: unknown): CommandContext & { output: string[]; errors: string[] } {
  const parsed = parseOptions(argv, [...COMMON_CREATE_OPTS, ...extra, ...COMMON_OPTIONS]);
  const output: string[] = [];
  const errors: string[] = [];
  return {
    tool: 'gnt-instance', command: 'add', opts: parsed.opts, args: parsed.args,
    client: async () => client as never,
    out: (t) => output.push(t), err: (t) => errors.push(t), output, errors,
  };
}

test('gnt-instance add builds upstream\'s OP_INSTANCE_CREATE (golden 091 command line)', () => {
  const op = instanceCreateOpcode(ctxFor(['-t', 'diskless', '-o', 'noop', '--no-name-check', '--no-ip-check', '-n', 'node1.gnt.test', 'alpha.gnt.test']), 'create');
  assert.deepEqual(op, {
    OP_ID: 'OP_INSTANCE_CREATE', instance_name: 'alpha.gnt.test', mode: 'create', disks: [], disk_template: 'diskless', group_name: null,
    nics: [{}], conflicts_check: true, pnode: 'node1.gnt.test', snode: null, ip_check: false, name_check: false, wait_for_sync: true,
    file_storage_dir: null, file_driver: null, iallocator: null, hypervisor: null, hvparams: {}, beparams: {}, osparams: {},
    osparams_private: {}, osparams_secret: {}, opportunistic_locking: false, tags: [], ignore_ipolicy: false, forthcoming: false,
    commit: false, helper_startup_timeout: null, helper_shutdown_timeout: null, start: true, os_type: 'noop', force_variant: false,
    src_node: null, src_path: null, no_install: false, identify_defaults: false, compress: 'none', instance_communication: false,
  });
});

test('disks, NICs, hypervisor and backend parameters from the options', () => {
  const op = instanceCreateOpcode(ctxFor(['-t', 'plain', '--disk', '0:size=10G', '--disk', '2:size=512,mode=ro,spindles=2',
    '--net', '0:mode=routed,ip=192.0.2.5', '--net', '1', '-H', 'kvm:acpi=false,kernel_path=/vmlinuz', '-B', 'vcpus=2,maxmem=1g',
    '-n', 'n1:n2', '--tags', 'a,b', '--no-start', 'x']), 'create');
  assert.deepEqual(op.disks, [{ size: 10240 }, {}, { size: 512, mode: 'ro', spindles: 2 }]);
  assert.deepEqual(op.nics, [{ mode: 'routed', ip: '192.0.2.5' }, {}]);
  assert.deepEqual([op.hypervisor, op.hvparams], ['kvm', { acpi: false, kernel_path: '/vmlinuz' }]);
  assert.deepEqual(op.beparams, { vcpus: 2, maxmem: 1024 });
  assert.deepEqual([op.pnode, op.snode, op.tags, op.start], ['n1', 'n2', ['a', 'b'], false]);
  assert.deepEqual(instanceCreateOpcode(ctxFor(['-t', 'file', '-s', '2g', '--no-nics', 'x']), 'create').disks, [{ size: 2048 }]);
  assert.deepEqual(instanceCreateOpcode(ctxFor(['-t', 'file', '-s', '2g', '--no-nics', 'x']), 'create').nics, []);
  assert.deepEqual(splitNodeOption('a:b:c'), ['a', 'b:c']);
  const imp = instanceCreateOpcode(ctxFor(['-t', 'file', '--src-node', 'n1', '--src-dir', 'x', '-n', 'n1', 'x'], IMPORT_OPTS), 'import');
  assert.deepEqual([imp.mode, imp.disks, imp.nics, imp.src_node, imp.src_path, imp.start, imp.os_type], ['import', [], [], 'n1', 'x', false, null]);
});

test('the checks made before submitting, with upstream\'s texts', () => {
  const fails = (argv: string[], message: string, cls: new (...a: any[]) => Error = OpPrereqError) =>
    assert.throws(() => instanceCreateOpcode(ctxFor(argv), 'create'), (e: unknown) => e instanceof cls && e.message === message);
  fails(['-t', 'diskless', '--disk', '0:size=1G', 'x'], 'Diskless instance but disk information passed');
  fails(['-t', 'file', 'x'], 'No disk information specified');
  fails(['-t', 'file', '--disk', '0:size=1G', '-s', '1G', 'x'], "Please use either the '--disk' or '-s' option");
  fails(['-t', 'file', '--disk', '0:size=10x', 'x'], 'Invalid disk size for disk 0: Unknown unit: x');
  fails(['-t', 'file', '--disk', '0:mode=rw', 'x'], 'Missing size or adoption source for disk 0');
  fails(['-t', 'file', '--disk', 'a:size=1', 'x'], "Invalid disk index passed: invalid literal for int() with base 10: 'a'");
  fails(['-t', 'file', '--disk', '0:size=1,adopt=lv', 'x'], "Only one of 'size' and 'adopt' allowed (disk 0)");
  fails(['-t', 'file', '--disk', '0:size=1', '--net', 'x:mode=routed', 'x'], "Invalid NIC index passed: invalid literal for int() with base 10: 'x'");
  fails(['-t', 'file', '--disk', '0:size=1', '--net', '0:nosuch=1', 'x'], "Unknown parameter 'nosuch'", TypeEnforcementError);
  fails(['-t', 'file', '--disk', '0:size=1', '-B', 'vcpus=many', 'x'], "'vcpus' (value many) is not a valid integer", TypeEnforcementError);
  fails(['-t', 'file', '--disk', '0:size=1', '--forthcoming', '--commit', 'x'], 'Creating an instance only forthcoming and commiting it are mutally exclusive');
  assert.deepEqual(parseDiskOptions('file', identValues('--disk', ['0:size=0']), null, false), [{ size: 0 }]);
});

test('gnt-instance modify: legacy and indexed NIC/disk modifications', () => {
  assert.deepEqual(convertModifications([['add', { size: '1G' }], ['remove', {}], ['0', { mode: 'routed' }], ['1', { add: true, link: 'br0' }], ['2', { remove: true }], ['detach', {}]]), [
    ['add', -1, { size: '1G' }], ['remove', -1, {}], ['modify', '0', { mode: 'routed' }], ['add', '1', { link: 'br0' }], ['remove', '2', {}], ['detach', -1, {}],
  ]);
  assert.throws(() => convertModifications([['0', { add: true, remove: true }]]), { message: 'Cannot do more than one of the following operations at the same time: add, attach, remove, detach, modify' });
  assert.throws(() => convertModifications([['0', { add: true, remove: true }]]), /Cannot do more than one of the following operations/);
  assert.throws(() => convertModifications([['0', { remove: true, size: '1' }]]), /Not accepting parameters on removal\/detach/);
});

/** A LUXI client answering the classic queries of a three-instance, two-node cluster. */
function fakeClient() {
  const calls: Array<[string, unknown[]]> = [];
  const instances = [['alpha.gnt.test', ['web']], ['beta.gnt.test', []], ['gamma.gnt.test', ['db', 'web']]];
  const nodes = [['node1.gnt.test', ['alpha.gnt.test', 'beta.gnt.test'], ['gamma.gnt.test'], ['rack1']], ['node2.gnt.test', ['gamma.gnt.test'], [], []]];
  let job = 10;
  return {
    calls,
    async call(method: string, args: unknown[]) {
      calls.push([method, args]);
      const [names, fields] = args as [string[], string[]];
      const pick = (rows: unknown[][]) => rows.filter((r) => names.length === 0 || names.some((n) => r[0] === n || String(r[0]).startsWith(`${n}.`)))
        .map((r) => fields.map((f) => r[{ name: 0, tags: fields.length === 2 ? 1 : 3, pinst_list: 1, sinst_list: 2 }[f as 'name']!]));
      switch (method) {
        case 'QueryInstances': return pick(instances);
        case 'QueryNodes': return pick(nodes);
        case 'SubmitManyJobs': return (args[0] as unknown[]).map(() => [true, job++]);
        case 'WaitForJobChange': return [['success'], []];
        case 'QueryJobs': return [['success', ['success'], [null]]];
        default: throw new Error(method);
      }
    },
  };
}

test('multi-instance selection: --all, --node, --primary, --secondary, tags, names', async () => {
  const client = fakeClient();
  const ctx = ctxFor([], [], client);
  assert.deepEqual(await expandMultiNames(ctx, 'cluster', []), ['alpha.gnt.test', 'beta.gnt.test', 'gamma.gnt.test']);
  await assert.rejects(expandMultiNames(ctx, 'cluster', ['x']), /Cluster filter mode takes no arguments/);
  assert.deepEqual(await expandMultiNames(ctx, 'instances', ['beta', 'nosuch']), ['beta.gnt.test']);
  await assert.rejects(expandMultiNames(ctx, 'instances', []), /No instance names passed/);
  assert.deepEqual(await expandMultiNames(ctx, 'nodes', ['node1']), ['alpha.gnt.test', 'beta.gnt.test', 'gamma.gnt.test']);
  assert.deepEqual(await expandMultiNames(ctx, 'nodes-pri', ['node1']), ['alpha.gnt.test', 'beta.gnt.test']);
  assert.deepEqual(await expandMultiNames(ctx, 'nodes-sec', ['node1']), ['gamma.gnt.test']);
  await assert.rejects(expandMultiNames(ctx, 'nodes', []), /No node names passed/);
  assert.deepEqual(await expandMultiNames(ctx, 'instances-by-tags', ['web']), ['alpha.gnt.test', 'gamma.gnt.test']);
  assert.deepEqual(await expandMultiNames(ctx, 'nodes-pri-by-tags', ['rack1']), ['alpha.gnt.test', 'beta.gnt.test']);
  await assert.rejects(expandMultiNames(ctx, 'nodes-by-tags', []), /No node tags passed/);
  assert.deepEqual(client.calls[0], ['QueryInstances', [[], ['name'], false]]);
});

test('the job executor: one job per instance, "Submitted jobs" when several, "N: name" with --submit', async () => {
  const client = fakeClient();
  const ctx = ctxFor([], [], client);
  const outcomes = await runJobs(ctx, [['a', [{ OP_ID: 'OP_INSTANCE_STARTUP', instance_name: 'a' }]], ['b', [{ OP_ID: 'OP_INSTANCE_STARTUP', instance_name: 'b' }]]], true);
  assert.deepEqual(outcomes, [[true, [null]], [true, [null]]]);
  assert.deepEqual(ctx.output, ['Submitted jobs 10, 11\n', 'Waiting for job 10 for a ...\n', 'Waiting for job 11 for b ...\n']);
  const submitted = client.calls.find(([m]) => m === 'SubmitManyJobs')![1][0] as Array<Array<Record<string, unknown>>>;
  assert.equal(submitted.length, 2);
  assert.equal(submitted[0][0].OP_ID, 'OP_INSTANCE_STARTUP');
  assert.deepEqual((submitted[0][0].reason as unknown[][])[0].slice(0, 2), ['gnt:client:gnt-instance', 'add']);
  const only = ctxFor(['--submit'], [], fakeClient());
  await runJobs(only, [['a', [{ OP_ID: 'OP_INSTANCE_SHUTDOWN', instance_name: 'a' }]]], false);
  assert.deepEqual(only.output, ['10: a\n']);
});
