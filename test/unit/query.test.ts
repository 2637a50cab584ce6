import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileFilter, runQuery, type Field } from '../../src/core/query.ts';

interface Item { name: string; n: number; tags: string[]; up: boolean }
const F: ReadonlyMap<string, Field<Item>> = new Map([
  ['name', { name: 'name', title: 'Name', kind: 'text', doc: '', get: (i: Item) => i.name }],
  ['n', { name: 'n', title: 'N', kind: 'number', doc: '', get: (i: Item) => i.n }],
  ['tags', { name: 'tags', title: 'Tags', kind: 'other', doc: '', get: (i: Item) => i.tags }],
  ['up', { name: 'up', title: 'Up', kind: 'bool', doc: '', get: (i: Item) => i.up }],
] as [string, Field<Item>][]);
const items: Item[] = [
  { name: 'web1', n: 1, tags: ['prod'], up: true },
  { name: 'web2', n: 2, tags: [], up: false },
  { name: 'db1', n: 10, tags: ['prod', 'db'], up: true },
];
const names = (filter: unknown) => items.filter(compileFilter(F, filter as unknown[])).map((i) => i.name);

test('the wire filter operators', () => {
  assert.deepEqual(names(null), ['web1', 'web2', 'db1']);
  assert.deepEqual(names(['|', ['=', 'name', 'web1'], ['==', 'name', 'db1']]), ['web1', 'db1']);
  assert.deepEqual(names(['&', ['?', 'up'], ['>', 'n', 1]]), ['db1']);
  assert.deepEqual(names(['!', ['?', 'up']]), ['web2']);
  assert.deepEqual(names(['!=', 'n', 1]), ['web2', 'db1']);
  assert.deepEqual(names(['<=', 'n', 2]), ['web1', 'web2']);
  assert.deepEqual(names(['=~', 'name', '(?i)^WEB']), ['web1', 'web2']);
  assert.deepEqual(names(['=[]', 'tags', 'db']), ['db1']);
  assert.deepEqual(names(['==', 'n', '10']), ['db1']);
});

test('bad filters are refused with the reason', () => {
  assert.throws(() => names(['~', 'name', 'x']), /unknown operator '~'/);
  assert.throws(() => names(['==', 'nosuch', 1]), /unknown field 'nosuch'/);
  assert.throws(() => names(['==', 'n', 1.5]), /fractional/);
  assert.throws(() => names('name'), /operator/);
  assert.throws(() => names(['=~', 'name', '(']), /regular expression/);
});

test('unknown fields come back with kind unknown and RS_UNKNOWN cells', () => {
  const r = runQuery(F, ['name', 'bogus'], items.slice(0, 1), null);
  assert.deepEqual(r.fields[1], { name: 'bogus', title: 'bogus', kind: 'unknown', doc: "Unknown field 'bogus'" });
  assert.deepEqual(r.data, [[[0, 'web1'], [1, null]]]);
});
