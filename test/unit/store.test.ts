// The queue's journal store: what a restart rebuilds from the journal alone.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { JobStore } from '../../src/master/jobs/store.ts';
import { newJob, parseJob, serializeJob } from '../../src/core/jobs.ts';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function queueDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'gnt-store-'));
  dirs.push(d);
  return d;
}

const job = (id: number, duration = 1) => newJob(id, [{ OP_ID: 'OP_TEST_DELAY', duration }], [1795466845, 206459]);

test('a save resolves once durable, and the job file follows in the queue directory', async () => {
  const dir = queueDir();
  const store = new JobStore(dir);
  store.replay();
  const j = job(1);
  j.ops[0].status = 'success';
  await store.saveJob(j);
  assert.ok(store.viewPending('job-1') || fs.existsSync(path.join(dir, 'job-1')), 'a file not yet written is known to be on its way');
  await store.viewsWritten();
  assert.ok(!store.viewPending('job-1'));
  assert.equal(fs.readFileSync(path.join(dir, 'job-1'), 'utf8'), serializeJob(j));
  await store.drain();
  assert.deepEqual(fs.readdirSync(dir).filter((n) => n.startsWith('journal')), [], 'a clean stop leaves no journal');
});

test('replay rebuilds files a crash kept from the queue directory, latest record wins', async () => {
  const dir = queueDir();
  const store = new JobStore(dir);
  store.replay();
  await Promise.all([store.saveJob(job(1, 1)), store.saveJob(job(2, 2))]);
  await store.saveJob(job(1, 3));
  await store.saveFile('serial', '2\n');
  // The crash: no clean stop; the views are lost, only the journal is left.
  for (const n of ['job-1', 'job-2', 'serial']) fs.rmSync(path.join(dir, n), { force: true });
  const again = new JobStore(dir);
  assert.equal(again.replay(), 3);
  assert.equal(parseJob(fs.readFileSync(path.join(dir, 'job-1'), 'utf8')).ops[0].input.duration, 3);
  assert.equal(parseJob(fs.readFileSync(path.join(dir, 'job-2'), 'utf8')).ops[0].input.duration, 2);
  assert.equal(fs.readFileSync(path.join(dir, 'serial'), 'utf8'), '2\n');
});

test('a torn last record is ignored; the records before it count', async () => {
  const dir = queueDir();
  const store = new JobStore(dir);
  store.replay();
  await store.saveJob(job(1));
  const journal = path.join(dir, fs.readdirSync(dir).find((n) => n.startsWith('journal.'))!);
  const [line, rest] = fs.readFileSync(journal, 'utf8').split('\n');
  assert.match(rest, /^\0+$/, 'the journal grows in zero-filled chunks; records come first');
  // A torn record where the next one would go, before the zeros.
  const fd = fs.openSync(journal, 'r+');
  fs.writeSync(fd, line.slice(0, line.length / 2), line.length + 1);
  fs.closeSync(fd);
  fs.rmSync(path.join(dir, 'job-1'), { force: true });
  const again = new JobStore(dir);
  assert.equal(again.replay(), 1);
  assert.equal(parseJob(fs.readFileSync(path.join(dir, 'job-1'), 'utf8')).id, 1);
  const other = queueDir();
  fs.writeFileSync(path.join(other, 'journal.0'), `${line.replace('OP_TEST_DELAY', 'OP_TEST_DELAX')}\n`);
  assert.equal(new JobStore(other).replay(), 0, 'a record whose checksum does not match is never taken');
  assert.ok(!fs.existsSync(path.join(other, 'job-1')));
});

test('archive moves are journaled: replay never brings an archived job back', async () => {
  const dir = queueDir();
  const store = new JobStore(dir);
  store.replay();
  const j = job(12345);
  j.ops[0].status = 'success';
  await store.saveJob(j);
  await store.archiveJob(12345, 10000);
  assert.ok(fs.existsSync(path.join(dir, 'archive/1/job-12345')), 'a move is in the queue directory when acknowledged');
  assert.ok(!fs.existsSync(path.join(dir, 'job-12345')));
  fs.rmSync(path.join(dir, 'archive'), { recursive: true });
  new JobStore(dir).replay();
  assert.ok(!fs.existsSync(path.join(dir, 'job-12345')));
  assert.equal(parseJob(fs.readFileSync(path.join(dir, 'archive/1/job-12345'), 'utf8')).id, 12345);
});
