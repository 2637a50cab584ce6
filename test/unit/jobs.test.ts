import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jobPriority, jobStatus, newJob, parseJob, serializeJob, type QueuedOpCode } from '../../src/core/jobs.ts';
import type { JobStatus } from '../../src/core/constants.ts';

const job = (...statuses: JobStatus[]) => ({ ops: statuses.map((status) => ({ status, priority: 0 }) as QueuedOpCode) });

test('job status follows the opcodes walked in order', () => {
  assert.equal(jobStatus(job('queued', 'queued')), 'queued');
  assert.equal(jobStatus(job('success', 'success')), 'success');
  assert.equal(jobStatus(job('success', 'waiting', 'queued')), 'waiting');
  assert.equal(jobStatus(job('success', 'running')), 'running');
  assert.equal(jobStatus(job('success', 'error', 'error')), 'error');
  assert.equal(jobStatus(job('canceled', 'canceled')), 'canceled');
  assert.equal(jobStatus(job('canceling', 'queued')), 'canceling');
  assert.equal(jobStatus(job('success', 'queued')), 'queued');
});

test('job priority is the minimum over unfinished opcodes', () => {
  const j = job('success', 'queued', 'queued');
  j.ops[0].priority = -20;
  j.ops[1].priority = 10;
  j.ops[2].priority = 0;
  assert.equal(jobPriority(j), 0);
  assert.equal(jobPriority(job('success')), 0);
});

test('job files are written as Ganeti writes them and read back', () => {
  const j = newJob(7, [{ OP_ID: 'OP_TEST_DELAY', duration: 0.5 }], [1795466845, 206459]);
  const text = serializeJob(j);
  assert.ok(text.startsWith('{\n "end_timestamp": null,\n "id": 7,\n "livelock": null,\n "ops": [\n'));
  assert.ok(text.endsWith('}\n'));
  assert.deepEqual(parseJob(text).ops[0].input, { OP_ID: 'OP_TEST_DELAY', duration: 0.5 });
  assert.throws(() => parseJob(text.slice(0, text.length / 2)));
  assert.throws(() => parseJob('{"id": 1}'));
});

test('big reason timestamps survive a round trip byte for byte', () => {
  const text = '{"id": 1, "ops": [{"input": {"OP_ID": "OP_TEST_DELAY", "reason": [["a", "b", 1795465261534874368]]}, "status": "queued", "log": []}]}';
  assert.match(serializeJob(parseJob(text)), /1795465261534874368/);
});

test('secret OS parameters never leave memory: job files and queries get "<redacted>"', () => {
  const input = { OP_ID: 'OP_INSTANCE_REINSTALL', instance_name: 'web1', osparams_secret: { password: 'hunter2' }, osparams_private: { key: 'kept' } };
  const j = newJob(8, [input], [1795466845, 206459]);
  const text = serializeJob(j);
  assert.doesNotMatch(text, /hunter2/);
  assert.deepEqual(parseJob(text).ops[0].input.osparams_secret, { password: '<redacted>' });
  assert.deepEqual(parseJob(text).ops[0].input.osparams_private, { key: 'kept' });
  assert.equal((j.ops[0].input.osparams_secret as Record<string, string>).password, 'hunter2', 'the running job keeps the value');
});
