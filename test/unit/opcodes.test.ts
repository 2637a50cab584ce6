import { test } from 'node:test';
import assert from 'node:assert/strict';
import { opSummary, showDouble, validateOpcode } from '../../src/core/opcodes.ts';
import { OpCodeUnknown, OpPrereqError } from '../../src/core/errors.ts';

test('defaults are filled in; optional nulls are left out, as Ganeti stores them', () => {
  const op = validateOpcode({ OP_ID: 'OP_TEST_DELAY', duration: 0.01, on_node_uuids: null });
  assert.deepEqual(op, {
    OP_ID: 'OP_TEST_DELAY', dry_run: false, debug_level: 0, priority: 0, depends: null, comment: null, reason: [],
    duration: 0.01, on_master: true, on_nodes: [], repeat: 0, interruptible: false, no_locks: true,
  });
});

test('what the real 3.0 client sends for gnt-debug delay is accepted', () => {
  const sent = JSON.parse('{"duration": 0.0, "on_master": true, "on_nodes": [], "on_node_uuids": null, "repeat": 0, "interruptible": false, "no_locks": false, "dry_run": false, "debug_level": 0, "priority": 0, "depends": null, "comment": null, "reason": [["gnt:client:gnt-debug", "delay", 1795465261534874368]], "OP_ID": "OP_TEST_DELAY"}');
  assert.equal(validateOpcode(sent).duration, 0);
});

test('errors name the bad field', () => {
  assert.throws(() => validateOpcode({ OP_ID: 'OP_NO_SUCH' }), OpCodeUnknown);
  assert.throws(() => validateOpcode({ duration: 1 }), /OP_ID/);
  assert.throws(() => validateOpcode({ OP_ID: 'OP_TEST_DELAY' }), /'duration'.*required/);
  assert.throws(() => validateOpcode({ OP_ID: 'OP_TEST_DELAY', duration: 'x' }), (e: unknown) =>
    e instanceof OpPrereqError && /'duration'/.test(e.message) && e.args[1] === 'wrong_input');
  assert.throws(() => validateOpcode({ OP_ID: 'OP_TEST_DELAY', duration: 1, bogus: 1 }), /Unknown parameter 'bogus'/);
  assert.throws(() => validateOpcode({ OP_ID: 'OP_TEST_DELAY', duration: 1, priority: 5 }), /'priority'/);
  assert.throws(() => validateOpcode({ OP_ID: 'OP_TEST_DELAY', duration: 1, on_nodes: [1] }), /'on_nodes'/);
  assert.throws(() => validateOpcode([]), /dictionary/);
});

test('summaries use Haskell number formatting, as gnt-job list shows them', () => {
  assert.equal(opSummary({ OP_ID: 'OP_TEST_DELAY', duration: 0.01 }), 'TEST_DELAY(1.0e-2)');
  assert.equal(opSummary({ OP_ID: 'OP_TEST_DELAY', duration: 0 }), 'TEST_DELAY(0.0)');
  assert.equal(opSummary({ OP_ID: 'OP_CLUSTER_POST_INIT' }), 'CLUSTER_POST_INIT');
  assert.equal(showDouble(0.1), '0.1');
  assert.equal(showDouble(2), '2.0');
  assert.equal(showDouble(12345678), '1.2345678e7');
  assert.equal(showDouble(0.001), '1.0e-3');
});
