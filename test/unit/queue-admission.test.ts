// The job queue's submission path: a job may start before its submission is durable
// (its first change then shares the submission's journal record), a failed submission
// leaves nothing behind, and WaitForJobChange holds a state short of the end briefly.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { JobQueue } from '../../src/master/jobs/queue.ts';
import { nodePaths } from '../../src/util/paths.ts';
import { splitTime, type Job } from '../../src/core/jobs.ts';
import type { Logger } from '../../src/util/log.ts';

const roots: string[] = [];
after(() => {
  for (const r of roots) fs.rmSync(r, { recursive: true, force: true });
});

const log = { info() {}, warn() {}, error() {}, debug() {} } as unknown as Logger;
const op = { OP_ID: 'OP_TEST_DELAY', duration: 0.001, reason: [] as unknown[] };

function openQueue(): { queue: JobQueue; queueDir: string } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gnt-queue-'));
  roots.push(root);
  const paths = nodePaths(root);
  fs.mkdirSync(paths.queueDir, { recursive: true });
  const queue = new JobQueue(paths, log);
  queue.open();
  return { queue, queueDir: paths.queueDir };
}

/** The journal records naming a file, in order (the "w" ones' job status). */
function journalStatuses(queueDir: string, name: string): string[] {
  const statuses: string[] = [];
  for (const j of fs.readdirSync(queueDir).filter((n) => n.startsWith('journal.'))) {
    for (const line of fs.readFileSync(path.join(queueDir, j), 'utf8').split('\n')) {
      if (line.indexOf(' ') !== 8) break;
      const [kind, file, text] = JSON.parse(line.slice(9)) as [string, string, string];
      if (kind === 'w' && file === name) statuses.push((JSON.parse(text) as Job).ops[0].status);
    }
  }
  return statuses;
}

function start(job: Job): void {
  job.ops[0].status = 'running';
  job.ops[0].start_timestamp = splitTime();
  job.start_timestamp = job.ops[0].start_timestamp;
}

test('a job that starts at once is recorded running in its submission record: one sync', async () => {
  const { queue, queueDir } = openQueue();
  let started: Promise<void> | null = null;
  queue.onRunnable = (job) => {
    start(job);
    started = queue.commit(job);
  };
  const [[ok, id]] = await queue.submit([[{ ...op }]]);
  assert.equal(ok, true);
  await started;
  assert.deepEqual(journalStatuses(queueDir, `job-${id}`), ['running']);
  assert.deepEqual(queue.queryJobs([id as number], ['status']), [['running']]);
});

test('a change made after the submission record was written waits for it, then gets its own', async () => {
  const { queue, queueDir } = openQueue();
  let started: Promise<void> | null = null;
  queue.onRunnable = (job) => {
    setImmediate(() => setImmediate(() => {
      start(job);
      started = queue.commit(job);
    }));
  };
  const [[, id]] = await queue.submit([[{ ...op }]]);
  await new Promise((r) => setTimeout(r, 20));
  await started;
  assert.deepEqual(journalStatuses(queueDir, `job-${id}`), ['queued', 'running']);
});

test('a submission that cannot be recorded is refused, and its job is never recorded or run', async () => {
  const { queue, queueDir } = openQueue();
  queue.store.saveFile = () => Promise.reject(new Error('No space left on device'));
  let handed: Job | null = null;
  queue.onRunnable = (job) => {
    handed = job;
  };
  await assert.rejects(queue.submit([[{ ...op }]]), /No space left on device/);
  assert.ok(handed);
  const job = handed as Job;
  assert.ok(queue.isAbandoned(job));
  await assert.rejects(queue.commit(job), /was not accepted/);
  assert.deepEqual(journalStatuses(queueDir, `job-${job.id}`), []);
  assert.deepEqual(queue.queryJobs([job.id], ['status']), [null]);
});

test('WaitForJobChange: a first call on a job that ends within moments gets the end in one answer', async () => {
  const { queue } = openQueue();
  let job: Job | null = null;
  queue.onRunnable = (j) => {
    job = j;
  };
  const [[, id]] = await queue.submit([[{ ...op }]]);
  const waiting = queue.waitForChange(id as number, ['status'], null, null, 10);
  const j = job as unknown as Job;
  start(j);
  await queue.commit(j);
  j.ops[0].status = 'success';
  j.end_timestamp = splitTime();
  await queue.commit(j);
  assert.deepEqual(await waiting, [['success'], []]);
  // Without time to wait, the state there is answered at once.
  assert.deepEqual(await queue.waitForChange(id as number, ['status'], ['queued'], null, 0), [['success'], []]);
});

test('WaitForJobChange: a state short of the end is answered after a short hold', async () => {
  const { queue } = openQueue();
  queue.onRunnable = () => {};
  const [[, id]] = await queue.submit([[{ ...op }]]);
  const t0 = performance.now();
  assert.deepEqual(await queue.waitForChange(id as number, ['status'], null, null, 10), [['queued'], []]);
  assert.ok(performance.now() - t0 < 5_000);
  assert.equal(await queue.waitForChange(id as number, ['status'], ['queued'], null, 0.05), 'nochange');
});

test('the drain flag: our own setting takes effect at once, one made by hand soon', async () => {
  const { queue, queueDir } = openQueue();
  queue.onRunnable = () => {};
  await queue.setDrainFlag(true);
  await assert.rejects(queue.submit([[{ ...op }]]), /Queue drained/);
  await queue.setDrainFlag(false);
  await queue.submit([[{ ...op }]]);
  fs.writeFileSync(path.join(queueDir, 'drain'), '');
  const deadline = Date.now() + 5_000;
  while (!queue.drained && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.ok(queue.drained);
});
