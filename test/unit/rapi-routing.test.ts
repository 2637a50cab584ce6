// The RAPI routing table (src/rapi/routes.ts) against upstream's connector: patterns,
// variables, rights per method; and request bodies to opcodes (src/rapi/opcode-input.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RAPI_ROUTES, Router, accessFor } from '../../src/rapi/routes.ts';
import { fillOpcode, opClassName, refuseForbidden } from '../../src/rapi/opcode-input.ts';
import { parseQuery, pyInt } from '../../src/rapi/context.ts';
import { HttpError } from '../../src/rapi/errors.ts';

const router = new Router(RAPI_ROUTES);

function route(path: string): [string, string[]] | null {
  const m = router.match(path);
  return m ? [m.resource.name, m.items] : null;
}

test('paths map to upstream resources, with their variables', () => {
  assert.deepEqual(route('/'), ['root', []]);
  assert.deepEqual(route('/2'), ['2', []]);
  assert.deepEqual(route('/version'), ['version', []]);
  assert.deepEqual(route('/2/instances'), ['instances', []]);
  assert.deepEqual(route('/2/instances/web-1.example.com'), ['instances_name', ['web-1.example.com']]);
  assert.deepEqual(route('/2/instances/a_b/disk/3/grow'), ['instances_name_disk_grow', ['a_b', '3']]);
  assert.deepEqual(route('/2/nodes/n1/storage/modify'), ['nodes_name_storage_modify', ['n1']]);
  assert.deepEqual(route('/2/jobs/42/wait'), ['jobs_id_wait', ['42']]);
  assert.deepEqual(route('/2/query/instance/fields'), ['query_fields', ['instance']]);
  assert.deepEqual(route('/2/groups/default/assign-nodes'), ['groups_name_assign_nodes', ['default']]);
  assert.deepEqual(route('/2/tags'), ['tags', []]);
  assert.deepEqual(route('/2/instances-multi-alloc'), ['instances_multi_alloc', []]);
});

test('what does not match: job ids and disks are digits, names have no slash or odd characters', () => {
  assert.equal(route('/2/jobs/abc'), null);
  assert.equal(route('/2/instances/a/disk/x/grow'), null);
  assert.equal(route('/2/instances/a%20b'), null);
  assert.equal(route('/2/instances/'), null);
  assert.equal(route('/2/instances/a/b'), null);
  assert.equal(route('/3/instances'), null);
  assert.equal(route('/2/nosuch'), null);
});

test('rights: GET free, writes need write; the upstream exceptions', () => {
  const access = (path: string, method: 'GET' | 'PUT' | 'POST' | 'DELETE') => accessFor(router.match(path)!.resource, method);
  assert.deepEqual(access('/2/instances', 'GET'), []);
  assert.deepEqual(access('/2/instances', 'POST'), ['write']);
  assert.deepEqual(access('/2/instances/x', 'DELETE'), ['write']);
  assert.deepEqual(access('/2/jobs/1/wait', 'GET'), ['write']);
  assert.deepEqual(access('/2/nodes/n/storage', 'GET'), ['write']);
  assert.deepEqual(access('/2/instances/x/console', 'GET'), ['write', 'read']);
  assert.deepEqual(access('/2/query/node', 'GET'), ['write', 'read']);
  assert.deepEqual(access('/2/query/node', 'PUT'), ['write', 'read']);
  assert.deepEqual(access('/2/query/node/fields', 'GET'), []);
});

test('query strings as parse_qs: repeated values, blanks dropped; ints as Python int()', () => {
  const q = parseQuery('tag=a&tag=b%20c&dry-run=&bulk=1&x=+');
  assert.deepEqual(q.get('tag'), ['a', 'b c']);
  assert.equal(q.has('dry-run'), false);
  assert.deepEqual(q.get('bulk'), ['1']);
  assert.equal(pyInt(' 1 '), 1);
  assert.equal(pyInt('-2'), -2);
  assert.equal(pyInt('1_0'), 10);
  assert.equal(pyInt('yes'), null);
  assert.equal(pyInt('1.0'), null);
});

function badRequest(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof HttpError);
    return `${e.code} ${e.message}`;
  }
  throw new Error('no error');
}

test('bodies to opcodes: renames, static parameters, unknown and wrong parameters', () => {
  const op = fillOpcode({ opId: 'OP_GROUP_ADD', body: { name: 'g1', alloc_policy: 'preferred' }, fixed: { dry_run: true }, rename: { name: 'group_name' } });
  assert.equal(op.group_name, 'g1');
  assert.equal(op.dry_run, true);
  assert.equal(opClassName('OP_INSTANCE_CREATE'), 'OpInstanceCreate');
  assert.equal(badRequest(() => fillOpcode({ opId: 'OP_GROUP_ADD', body: { name: 'a', group_name: 'b' }, fixed: {}, rename: { name: 'group_name' } })),
    "400 Parameter 'name' was renamed to 'group_name', but both are specified");
  assert.equal(badRequest(() => fillOpcode({ opId: 'OP_INSTANCE_SHUTDOWN', body: { instance_name: 'x', dry_run: true }, fixed: { instance_name: 'y', dry_run: false } })),
    "400 Can't overwrite static parameters {'dry_run', 'instance_name'}");
  assert.equal(badRequest(() => fillOpcode({ opId: 'OP_INSTANCE_SHUTDOWN', body: { bogus: 1 }, fixed: { instance_name: 'y' } })),
    "400 Invalid body parameters: Object OpInstanceShutdown doesn't support the parameter 'bogus'");
  assert.match(badRequest(() => fillOpcode({ opId: 'OP_INSTANCE_SHUTDOWN', body: { timeout: 'soon' }, fixed: { instance_name: 'y' } })),
    /^400 Invalid body parameters: .*'timeout'/);
  assert.equal(badRequest(() => fillOpcode({ opId: 'OP_INSTANCE_SHUTDOWN', body: [1], fixed: { instance_name: 'y' } })),
    "400 Body contents: Type is 'list', but 'dict' is expected");
  assert.match(badRequest(() => fillOpcode({ opId: 'OP_NO_SUCH_THING', body: {}, fixed: {} })), /^501 /);
  assert.equal(badRequest(() => refuseForbidden([{ compression_tools: [] }], ['compression_tools'])), '403 The parameter compression_tools cannot be set via RAPI');
});
