// Tag validation, object lookup and the tag logical units against an in-memory
// configuration: upstream's rules and error texts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GanetiError, OpExecError, OpPrereqError } from '../../src/core/errors.ts';
import type { OpInput } from '../../src/core/opcodes.ts';
import type { LUContext } from '../../src/master/cmdlib/base.ts';
import {
  compilePythonRegex, matchNameComponent, MAX_TAGS_PER_OBJ, queryTags, tagsDel, tagsGet, tagsSearch, tagsSet, validateTag,
} from '../../src/master/cmdlib/tags.ts';
import type { ConfigData } from '../../src/master/config/model.ts';
import type { ConfigStore, ConfigTx } from '../../src/master/config/store.ts';

function sampleConfig(): ConfigData {
  const obj = (uuid: string, extra: Record<string, unknown>) => ({ uuid, serial_no: 1, ctime: 0, mtime: 0, tags: [] as string[], ...extra });
  return {
    version: 3000000,
    cluster: { ...obj('c1', { cluster_name: 'cluster.test', master_node: 'n1' }), tags: ['env:test'] } as never,
    nodes: {
      n1: obj('n1', { name: 'node1.example.com', group: 'g1' }) as never,
      n2: obj('n2', { name: 'node2.example.com', group: 'g1', tags: ['web'] }) as never,
    },
    nodegroups: { g1: obj('g1', { name: 'default', members: [], alloc_policy: 'preferred', tags: ['prod', 'web'] }) as never },
    instances: { i1: obj('i1', { name: 'alpha.example.com', primary_node: 'n1', tags: ['web'] }) as never },
    networks: {},
    disks: {},
    filters: {},
    serial_no: 1,
    ctime: 0,
    mtime: 0,
  };
}

/** A logical unit's context over a plain configuration; update() applies changes in place. */
function context(data: ConfigData): LUContext & { updates: number } {
  const ctx = {
    updates: 0,
    config: {
      data,
      nodes: () => Object.values(data.nodes),
      node: (u: string) => data.nodes[u],
      nodeByName: (n: string) => Object.values(data.nodes).find((x) => x.name === n),
      groups: () => Object.values(data.nodegroups),
      async update<T>(change: (tx: ConfigTx) => T): Promise<T> {
        ctx.updates += 1;
        return change({ data, modified: (o) => { o.serial_no += 1; }, add: () => undefined, remove: () => undefined });
      },
    } as unknown as ConfigStore,
    feedback: () => undefined,
  };
  return ctx as unknown as LUContext & { updates: number };
}

async function run(factory: (op: OpInput, ctx: LUContext) => ReturnType<typeof tagsSet>, op: Record<string, unknown>, ctx: LUContext): Promise<unknown> {
  const lu = factory({ OP_ID: 'OP_X', ...op } as OpInput, ctx);
  lu.checkArguments?.();
  lu.expandNames?.();
  await lu.checkPrereq?.();
  return lu.exec();
}

const tagError = (message: string) => (err: unknown) => err instanceof GanetiError && err.className === 'TagError' && err.message === message;

test('validateTag: upstream characters and limits, in upstream order', () => {
  for (const ok of ['web', 'env:test', 'a.b+c*d/e:f@g-h_1', 'x'.repeat(128), 'café', 'ünïcode9']) validateTag(ok);
  assert.throws(() => validateTag('x'.repeat(129)), tagError('Tag too long (>128 characters)'));
  assert.throws(() => validateTag(''), tagError('Tags cannot be empty'));
  for (const bad of ['a b', 'a,b', 'a=b', 'tab\t', "quote'"]) assert.throws(() => validateTag(bad), tagError('Tag contains invalid characters'));
  assert.throws(() => validateTag(3), tagError('Invalid tag type (not a string)'));
});

test('matchNameComponent: exact, then the single name a short name starts', () => {
  const names = ['node1.example.com', 'node10.example.com', 'web.a.com', 'web.b.com'];
  assert.equal(matchNameComponent('node1', names), 'node1.example.com');
  assert.equal(matchNameComponent('NODE1', names), 'node1.example.com');
  assert.equal(matchNameComponent('node10.example.com', names), 'node10.example.com');
  assert.equal(matchNameComponent('web', names), null);
  assert.equal(matchNameComponent('node', names), null);
});

test('compilePythonRegex: inline flags and named groups', () => {
  assert.ok(compilePythonRegex('(?i)^WEB$').test('web'));
  assert.ok(compilePythonRegex('^(?P<k>env):(?P=k)$').test('env:env'));
  assert.throws(() => compilePythonRegex('('));
});

test('QueryTags: luxid lookups by uuid, name or short name, and its errors', () => {
  const store = { data: sampleConfig() } as ConfigStore;
  assert.deepEqual(queryTags(store, ['cluster', '']), ['env:test']);
  assert.deepEqual(queryTags(store, ['node', 'node2.example.com']), ['web']);
  assert.deepEqual(queryTags(store, ['node', 'n2']), ['web']);
  assert.deepEqual(queryTags(store, ['nodegroup', 'default']), ['prod', 'web']);
  assert.deepEqual(queryTags(store, ['instance', 'alpha']), ['web']);
  const noent = (msg: string) => (err: unknown) => err instanceof OpPrereqError && err.message === msg && err.args[1] === 'unknown_entity';
  assert.throws(() => queryTags(store, ['node', 'nosuch']), noent('Node name nosuch not found'));
  assert.throws(() => queryTags(store, ['node', 'node']), noent('Node name node not found'));
  assert.throws(() => queryTags(store, ['nodegroup', 'x']), noent('NodeGroup name x not found'));
  assert.throws(() => queryTags(store, ['network', 'x']), noent('Network name x not found'));
  store.data.nodes.n3 = { ...store.data.nodes.n2, uuid: 'n3', name: 'node2.other.org' };
  assert.throws(() => queryTags(store, ['node', 'node2']), noent('Node name node2 has multiple matches'));
});

test('OP_TAGS_SET / OP_TAGS_DEL: sorted tags, object serial bumped, upstream errors', async () => {
  const data = sampleConfig();
  const ctx = context(data);
  await run(tagsSet, { kind: 'node', name: 'node1', tags: ['zeta', 'alpha', 'alpha'] }, ctx);
  assert.deepEqual(data.nodes.n1.tags, ['alpha', 'zeta']);
  assert.equal(data.nodes.n1.serial_no, 2);
  await run(tagsSet, { kind: 'cluster', name: '', tags: ['b'] }, ctx);
  assert.deepEqual(data.cluster.tags, ['b', 'env:test']);
  await assert.rejects(run(tagsSet, { kind: 'instance', name: 'nosuch', tags: ['x'] }, ctx),
    (e: unknown) => e instanceof OpPrereqError && e.message === "Instance 'nosuch' not known" && e.args[1] === 'unknown_entity');
  await assert.rejects(run(tagsSet, { kind: 'nodegroup', name: 'default', tags: ['ok', 'not ok'] }, ctx), tagError('Tag contains invalid characters'));
  assert.deepEqual(data.nodegroups.g1.tags, ['prod', 'web']);

  await assert.rejects(run(tagsDel, { kind: 'nodegroup', name: 'default', tags: ['web', 'zz', 'aa'] }, ctx),
    (e: unknown) => e instanceof OpPrereqError && e.message === "Tag(s) 'aa', 'zz' not found" && e.args[1] === 'unknown_entity');
  await run(tagsDel, { kind: 'nodegroup', name: 'default', tags: ['web'] }, ctx);
  assert.deepEqual(data.nodegroups.g1.tags, ['prod']);
  assert.deepEqual(await run(tagsGet, { kind: 'node', name: 'node1.example.com' }, ctx), ['alpha', 'zeta']);
});

test('OP_TAGS_SET: at most 4096 tags per object, and a refused set changes nothing', async () => {
  const data = sampleConfig();
  data.nodes.n1.tags = Array.from({ length: MAX_TAGS_PER_OBJ - 1 }, (_, i) => `t${i}`);
  const ctx = context(data);
  await run(tagsSet, { kind: 'node', name: 'n1', tags: ['t0', 'last'] }, ctx);
  assert.equal(data.nodes.n1.tags.length, MAX_TAGS_PER_OBJ);
  await assert.rejects(run(tagsSet, { kind: 'node', name: 'n1', tags: ['t1', 'one-more'] }, ctx),
    (e: unknown) => e instanceof OpExecError && e.message === 'Error while setting tag: Too many tags');
  assert.equal(data.nodes.n1.tags.length, MAX_TAGS_PER_OBJ);
});

test('OP_TAGS_SEARCH: paths as upstream names them; a bad pattern is wrong input', async () => {
  const ctx = context(sampleConfig());
  const found = (await run(tagsSearch, { pattern: '^(web|prod|env)' }, ctx)) as Array<[string, string]>;
  assert.deepEqual(found, [
    ['/cluster', 'env:test'],
    ['/instances/alpha.example.com', 'web'],
    ['/nodes/node2.example.com', 'web'],
    ['/nodegroup/default', 'prod'],
    ['/nodegroup/default', 'web'],
  ]);
  await assert.rejects(run(tagsSearch, { pattern: '(' }, ctx),
    (e: unknown) => e instanceof OpPrereqError && e.message.startsWith("Invalid search pattern '(': ") && e.args[1] === 'wrong_input');
});
