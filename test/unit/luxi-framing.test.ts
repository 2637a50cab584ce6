import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LuxiDecoder, encodeMessage, parseRequest } from '../../src/core/luxi.ts';
import { ProtocolError } from '../../src/core/errors.ts';

test('messages split on 0x03, across chunks, with the Python newline', () => {
  const d = new LuxiDecoder();
  assert.deepEqual(d.push(Buffer.from('{"a":1}\n\x03{"b"')), ['{"a":1}\n']);
  assert.deepEqual(d.push(Buffer.from(':2}')), []);
  assert.deepEqual(d.push(Buffer.from('\x03\x03')), ['{"b":2}', '']);
});

test('an oversized message is refused instead of buffered', () => {
  const d = new LuxiDecoder(10);
  assert.throws(() => d.push(Buffer.from('x'.repeat(11))), ProtocolError);
  assert.throws(() => new LuxiDecoder(10).push(Buffer.from(`${'y'.repeat(20)}\x03`)), ProtocolError);
});

test('encoding appends 0x03; the marker inside a string is escaped, never raw', () => {
  assert.equal(encodeMessage({ success: true, result: 2 }).toString(), '{"success":true,"result":2}\x03');
  const frame = encodeMessage({ s: '\x03' });
  assert.equal(frame.indexOf(3), frame.length - 1);
});

test('requests are shape-checked with messages naming the problem', () => {
  assert.deepEqual(parseRequest('{"method":"QueryJobs","args":[null,["id"]],"version":3000000}\n'),
    { method: 'QueryJobs', args: [null, ['id']], version: 3000000 });
  assert.throws(() => parseRequest('{not json'), /invalid JSON/);
  assert.throws(() => parseRequest('[]'), /not a JSON object/);
  assert.throws(() => parseRequest('{"args":[]}'), /'method'/);
  assert.throws(() => parseRequest('{"method":"X","args":{}}'), /'args'/);
});
