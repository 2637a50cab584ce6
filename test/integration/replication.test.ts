// Job-queue replication to a master candidate: every job file write, archive move and
// the drain flag mirrored on a second node's noded (both on loopback), joined with
// `gnt-node add` as a candidate.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { jobEnd, TestCluster, waitFor, type VirtualNode } from './cluster.ts';
import { LuxiClient } from '../../src/luxi/client.ts';

let cluster: TestCluster;
let master: VirtualNode;
let candidate: VirtualNode;
let luxi: LuxiClient;

before(async () => {
  cluster = new TestCluster();
  master = cluster.init('node1');
  candidate = cluster.join(master, 'node2');
  luxi = await LuxiClient.connect(master.file('var/run/ganeti/socket/ganeti-query'));
});
after(() => {
  luxi?.close();
  cluster?.destroy();
});

const replica = (rel: string) => candidate.file(`var/lib/ganeti/queue/${rel}`);
const original = (rel: string) => master.file(`var/lib/ganeti/queue/${rel}`);

test('job files and the serial are mirrored on the candidate, byte for byte', async () => {
  const results = (await luxi.call('SubmitManyJobs', [Array.from({ length: 5 }, () => [{ OP_ID: 'OP_TEST_DELAY', duration: 0.001 }])])) as [boolean, number][];
  const ids = results.map(([, id]) => id);
  await waitFor(() => ids.every((id) => fs.existsSync(replica(`job-${id}`)) &&
    fs.readFileSync(replica(`job-${id}`), 'utf8') === fs.readFileSync(original(`job-${id}`), 'utf8') &&
    JSON.parse(fs.readFileSync(replica(`job-${id}`), 'utf8')).end_timestamp !== null));
  await waitFor(() => fs.readFileSync(replica('serial'), 'utf8') === fs.readFileSync(original('serial'), 'utf8'));
  assert.equal(fs.statSync(replica(`job-${ids[0]}`)).mode & 0o777, 0o640);
});

test('archive moves and the drain flag are mirrored', async () => {
  const id = (await luxi.call('SubmitJob', [[{ OP_ID: 'OP_TEST_DELAY', duration: 0.001 }]])) as number;
  await waitFor(() => fs.existsSync(replica(`job-${id}`)) && JSON.parse(fs.readFileSync(replica(`job-${id}`), 'utf8')).end_timestamp !== null);
  assert.equal(await luxi.call('ArchiveJob', [id]), true);
  await waitFor(() => fs.existsSync(replica(`archive/0/job-${id}`)) && !fs.existsSync(replica(`job-${id}`)));
  await luxi.call('SetDrainFlag', [true]);
  assert.ok(fs.existsSync(replica('drain')));
  await luxi.call('SetDrainFlag', [false]);
  assert.ok(!fs.existsSync(replica('drain')));
});

test('a dead candidate never blocks the queue', async () => {
  process.kill(candidate.pid('ganeti-noded')!, 'SIGKILL');
  const id = (await luxi.call('SubmitJob', [[{ OP_ID: 'OP_TEST_DELAY', duration: 0.001 }]])) as number;
  assert.equal(await jobEnd(luxi, id), 'success');
  assert.match(fs.readFileSync(master.file('var/log/ganeti/ganeti-masterd.log'), 'utf8'), /job queue replication failed/);
});
