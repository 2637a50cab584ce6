// Job filter rules without a cluster: predicate evaluation (jobid with the watermark,
// opcode fields, reason trail), rule order, the applying rule, and one scheduling round's
// decisions (ACCEPT, PAUSE, REJECT, CONTINUE, RATE_LIMIT, reason rate limits); the rule
// checks luxid makes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newJob, splitTime, type Job } from '../../src/core/jobs.ts';
import { rawJson } from '../../src/core/json.ts';
import { actionError, predicatesError, reasonError } from '../../src/master/config/filter-fields.ts';
import type { FilterRuleObject } from '../../src/master/config/model.ts';
import { applyingRule, compareRules, JobFilterGate, matchPredicate } from '../../src/master/jobs/filters.ts';

function job(id: number, opId = 'OP_TEST_DELAY', extra: Record<string, unknown> = {}, reason: unknown[][] = []): Job {
  return newJob(id, [{ OP_ID: opId, duration: 1, priority: 0, reason: [['gnt:client:gnt-debug', 'delay', rawJson('1795498130228773000')], ...reason], ...extra }], splitTime());
}

let seq = 0;
function rule(action: FilterRuleObject['action'], predicates: unknown[][], priority = 0, watermark = 0): FilterRuleObject {
  seq += 1;
  return { uuid: `00000000-0000-0000-0000-${String(seq).padStart(12, '0')}`, watermark, priority, predicates, action, reason_trail: [] };
}

test('jobid predicates compare the id with numbers and the watermark; other fields and operators fail', () => {
  const j = job(10);
  assert.equal(matchPredicate(j, 5, ['jobid', ['>', 'id', 'watermark']]), true);
  assert.equal(matchPredicate(j, 10, ['jobid', ['>', 'id', 'watermark']]), false);
  assert.equal(matchPredicate(j, 0, ['jobid', ['&', ['>=', 'id', 10], ['<', 'id', 11]]]), true);
  assert.equal(matchPredicate(j, 0, ['jobid', ['!', ['=', 'id', 10]]]), false);
  assert.equal(matchPredicate(j, 0, ['jobid', ['=', 'status', 'queued']]), false);
  assert.equal(matchPredicate(j, 0, ['jobid', ['=', 'id', 'ten']]), false);
});

test('opcode predicates see OP_ID and every parameter (dotted paths into dictionaries); one matching opcode is enough', () => {
  const j = job(3, 'OP_INSTANCE_CREATE', { instance_name: 'web1', beparams: { maxmem: 512 } });
  assert.equal(matchPredicate(j, 0, ['opcode', ['=', 'OP_ID', 'OP_INSTANCE_CREATE']]), true);
  assert.equal(matchPredicate(j, 0, ['opcode', ['=~', 'instance_name', '^web']]), true);
  assert.equal(matchPredicate(j, 0, ['opcode', ['>', 'beparams.maxmem', 256]]), true);
  assert.equal(matchPredicate(j, 0, ['opcode', ['=', 'beparams.vcpus', 1]]), false);
  assert.equal(matchPredicate(j, 0, ['opcode', ['=', 'OP_ID', 'OP_TEST_DELAY']]), false);
});

test('reason predicates look at source, reason and timestamp of every reason entry', () => {
  const j = job(4, 'OP_TEST_DELAY', {}, [['gnt:user', 'maintenance pink bunny', 5]]);
  assert.equal(matchPredicate(j, 0, ['reason', ['=', 'source', 'gnt:user']]), true);
  assert.equal(matchPredicate(j, 0, ['reason', ['=~', 'reason', 'pink bunny']]), true);
  assert.equal(matchPredicate(j, 0, ['reason', ['>', 'timestamp', 1700000000000000000]]), true);
  assert.equal(matchPredicate(j, 0, ['reason', ['=', 'source', 'rapi']]), false);
});

test('rules apply in order of priority, watermark and uuid; CONTINUE never applies', () => {
  const a = rule('PAUSE', [], 5);
  const b = rule('ACCEPT', [], 1, 9);
  const c = rule('REJECT', [], 1, 3);
  const d = rule('CONTINUE', [], 0);
  const ordered = [a, b, c, d].sort(compareRules);
  assert.deepEqual(ordered.map((r) => r.uuid), [d, c, b, a].map((r) => r.uuid));
  assert.equal(applyingRule(ordered, job(1))?.action, 'REJECT');
  const onlyDelay = rule('ACCEPT', [['opcode', ['=', 'OP_ID', 'OP_TEST_DELAY']]], 0);
  assert.equal(applyingRule([onlyDelay, a].sort(compareRules), job(1, 'OP_TAGS_SET'))?.action, 'PAUSE');
});

test('a scheduling round: accept, pause, reject, rate limits counted with the running jobs', () => {
  assert.equal(new JobFilterGate([], []).trivial, true);
  assert.equal(new JobFilterGate([], []).decide(job(1)), 'run');

  const pause = rule('PAUSE', [['opcode', ['=', 'OP_ID', 'OP_TEST_DELAY']]]);
  assert.equal(new JobFilterGate([pause], []).decide(job(1)), 'hold');
  assert.equal(new JobFilterGate([pause], []).decide(job(2, 'OP_TAGS_SET')), 'run');

  const reject = rule('REJECT', [['jobid', ['>', 'id', 'watermark']]], 0, 5);
  const g = new JobFilterGate([reject], []);
  assert.ok(g.hasReject);
  assert.equal(g.decide(job(5)), 'run');
  assert.equal(g.decide(job(6)), 'reject');

  const limit = rule(['RATE_LIMIT', 2], [['opcode', ['=', 'OP_ID', 'OP_TEST_DELAY']]]);
  const r = new JobFilterGate([limit], [job(1)]);
  assert.equal(r.decide(job(2)), 'run');
  assert.equal(r.decide(job(3)), 'hold');
  assert.equal(r.decide(job(4, 'OP_TAGS_SET')), 'run');
  // An ACCEPT before it takes the job out of the limit.
  const accept = rule('ACCEPT', [['jobid', ['=', 'id', 3]]], 0, 0);
  accept.priority = -1;
  assert.equal(new JobFilterGate([limit, accept], [job(1), job(2)]).decide(job(3)), 'run');
});

test('reason rate limiting: at most N running jobs with the same "rate-limit:N:" reason', () => {
  const bucket: unknown[][] = [['gnt:user', 'rate-limit:1:evacuation', 1]];
  const g = new JobFilterGate([], [job(1, 'OP_TEST_DELAY', {}, bucket)]);
  assert.equal(g.trivial, false);
  assert.equal(g.decide(job(2, 'OP_TEST_DELAY', {}, bucket)), 'hold');
  assert.equal(g.decide(job(3)), 'run');
  const free = new JobFilterGate([], []);
  assert.equal(free.decide(job(2, 'OP_TEST_DELAY', {}, bucket)), 'run');
  assert.equal(free.decide(job(3, 'OP_TEST_DELAY', {}, bucket)), 'hold');
});

test('rule checks: actions, predicates and reason trails', () => {
  for (const a of ['ACCEPT', 'PAUSE', 'REJECT', 'CONTINUE', ['RATE_LIMIT', 3]]) assert.equal(actionError(a), null);
  assert.match(actionError('DROP')!, /unknown filter action/);
  assert.match(actionError(['RATE_LIMIT', 0])!, /positive/);
  assert.equal(predicatesError([['jobid', ['>', 'id', 'watermark']], ['opcode', ['&', ['=', 'OP_ID', 'OP_TEST_DELAY']]]]), null);
  assert.match(predicatesError([['status', ['=', 'a', 'b']]])!, /invalid filter predicate/);
  assert.match(predicatesError([['jobid', ['~~', 'id', 1]]])!, /unknown filter operator/);
  assert.match(predicatesError('x')!, /must be a list/);
  assert.equal(reasonError([['gnt:user', 'x', 1]]), null);
  assert.match(reasonError([['gnt:user', 'x']])!, /reason trail/);
});
