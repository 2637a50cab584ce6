// RAPI bodies byte for byte as upstream's serializer writes them (src/rapi/json.ts): every
// body real Ganeti 3.0.2 sent in the recorded goldens comes out the same from its data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseJson } from '../../src/core/json.ts';
import { dumpJson } from '../../src/rapi/json.ts';
import { errorBody, HttpError, fromMasterError } from '../../src/rapi/errors.ts';
import { NoMasterError, OpPrereqError, GenericError, TimeoutError, JobQueueFull } from '../../src/core/errors.ts';
import { rapiGolden, rapiGoldenNumbers } from '../integration/rapi-golden.ts';

test('every golden body re-serializes to the same bytes (separators, key order, floats, big integers)', () => {
  const numbers = rapiGoldenNumbers();
  assert.ok(numbers.length >= 20);
  for (const n of numbers) {
    const { body } = rapiGolden(n);
    assert.ok(body.endsWith('\n'), `rapi-${n}: a body ends with a newline`);
    assert.equal(`${dumpJson(parseJson(body))}\n`, body, `rapi-${n}`);
  }
});

test('non-ASCII is escaped as Python does, surrogate pairs included; control characters too', () => {
  assert.equal(dumpJson({ a: 'é€😀', b: '\u0001\n"\\' }), '{"a": "\\u00e9\\u20ac\\ud83d\\ude00", "b": "\\u0001\\n\\"\\\\"}');
  assert.equal(dumpJson([1.5, -0.25, 1e21, null, true, []]), '[1.5, -0.25, 1e+21, null, true, []]');
});

test('error bodies: the status reason as message unless given, html-escaped, the long explanation', () => {
  assert.equal(dumpJson(errorBody(new HttpError(404))), rapiGolden('025').body.trimEnd());
  assert.equal(dumpJson(errorBody(new HttpError(400, "Can't <do> & \"that\""))),
    '{"code": 400, "message": "Can&#x27;t &lt;do&gt; &amp; &quot;that&quot;", "explain": "Bad request syntax or unsupported method"}');
});

test('master daemon errors become upstream HTTP statuses', () => {
  const code = (e: unknown, kind?: 'submit') => { const h = fromMasterError(e, kind); return `${h.code} ${h.message}`; };
  assert.match(code(new NoMasterError('/sock')), /^502 Can't connect to master daemon: /);
  assert.match(code(new NoMasterError('/sock'), 'submit'), /^502 Master seems to be unreachable: /);
  assert.equal(code(new TimeoutError('slow')), '504 Gateway Timeout');
  assert.equal(code(new JobQueueFull()), '503 Job queue is full, needs archiving');
  assert.equal(code(new GenericError('Queue drained')), '503 Job queue is drained, cannot submit');
  assert.equal(code(new OpPrereqError("Instance 'x' not known", 'unknown_entity')), '404 Not Found');
  assert.equal(code(new OpPrereqError('bad filter', 'wrong_input')), '400 bad filter');
  assert.equal(code(new Error('boom')), '500 boom');
});

test("jobs through RAPI never show private parameters' values (upstream writes them as null)", async () => {
  const { hidePrivate } = await import('../../src/rapi/resources/jobs.ts');
  assert.deepEqual(hidePrivate([{ OP_ID: 'OP_INSTANCE_CREATE', osparams: { a: 1 }, osparams_private: { p: 'x' }, osparams_secret: { s: 'pw' } }, null]),
    [{ OP_ID: 'OP_INSTANCE_CREATE', osparams: { a: 1 }, osparams_private: { p: null }, osparams_secret: { s: null } }, null]);
});
