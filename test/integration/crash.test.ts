// kill -9 of the master at random instants while jobs pour in: after each restart every
// acknowledged job is there, finishes (success, or "Unclean master daemon shutdown" if
// it was running), and no job file is corrupt. The same for configuration changes:
// config.data is never torn and keeps every acknowledged change.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { jobEnd, TestCluster, waitFor } from './cluster.ts';
import { LuxiClient } from '../../src/luxi/client.ts';

const cluster = new TestCluster();
after(() => cluster.destroy());
const node = cluster.init();
const socket = node.file('var/run/ganeti/socket/ganeti-query');
const queueDir = node.file('var/lib/ganeti/queue');

const ROUNDS = 6;
const JOBS_PER_ROUND = 90;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function pourJobs(acked: Set<number>, stop: { now: boolean }): Promise<void> {
  let client: LuxiClient;
  try {
    client = await LuxiClient.connect(socket);
  } catch {
    return;
  }
  try {
    while (!stop.now && acked.size < ROUNDS * JOBS_PER_ROUND) {
      const batch = Array.from({ length: 5 }, (_, i) => [{ OP_ID: 'OP_TEST_DELAY', duration: 0.001 * (1 + i), no_locks: i % 2 === 0 }]);
      const results = (await client.call('SubmitManyJobs', [batch])) as [boolean, number][];
      for (const [ok, id] of results) if (ok) acked.add(id);
    }
  } catch {
    // The master died under us: whatever was not acknowledged may or may not exist.
  } finally {
    client.close();
  }
}

test(`${ROUNDS} rounds of kill -9 during ${ROUNDS * JOBS_PER_ROUND} jobs lose nothing acknowledged`, async () => {
  const acked = new Set<number>();
  for (let round = 0; round < ROUNDS; round++) {
    const stop = { now: false };
    const target = (round + 1) * JOBS_PER_ROUND;
    const pour = Promise.all([pourJobs(acked, stop), pourJobs(acked, stop)]);
    // Kill at a random instant once this round's share is mostly submitted.
    await waitFor(() => acked.size >= target - Math.floor(Math.random() * 40), 30_000);
    await new Promise((r) => setTimeout(r, Math.random() * 15));
    const pid = node.pid('ganeti-masterd')!;
    process.kill(pid, 'SIGKILL');
    stop.now = true;
    await pour;
    await waitFor(() => !alive(pid));
    const restart = node.run('ganeti-masterd', []);
    assert.equal(restart.code, 0, restart.stderr);
  }
  const client = await LuxiClient.connect(socket);
  const ids = [...acked].sort((a, b) => a - b);
  for (const id of ids) assert.ok(fs.existsSync(`${queueDir}/job-${id}`), `acknowledged job ${id} is missing`);
  await waitFor(() => ids.every((id) => {
    const job = JSON.parse(fs.readFileSync(`${queueDir}/job-${id}`, 'utf8'));
    return job.end_timestamp !== null;
  }), 60_000);
  const rows = (await client.call('QueryJobs', [ids, ['id', 'status', 'opresult']])) as [number, string, unknown[]][];
  client.close();
  let unclean = 0;
  for (const [id, status, result] of rows) {
    if (status === 'error') {
      assert.deepEqual(result, [['OpExecError', ['Unclean master daemon shutdown']]], `job ${id}`);
      unclean++;
    } else {
      assert.equal(status, 'success', `job ${id}`);
    }
  }
  assert.ok(unclean <= ROUNDS * 20, `${unclean} unclean jobs for ${ROUNDS} crashes`);
  const names = fs.readdirSync(queueDir);
  assert.deepEqual(names.filter((n) => n.endsWith('.corrupt')), []);
  for (const n of names.filter((x) => /^job-\d+$/.test(x))) JSON.parse(fs.readFileSync(`${queueDir}/${n}`, 'utf8'));
  const serial = Number(fs.readFileSync(`${queueDir}/serial`, 'utf8'));
  assert.ok(serial >= ids[ids.length - 1], 'the serial never goes back below an acknowledged id');
});

test('kill -9 during configuration changes: config.data is old or new, never torn, and keeps every acknowledged change', async () => {
  let acked = 0;
  let value = 1000;
  for (let round = 0; round < 5; round++) {
    const stop = { now: false };
    const changes = (async () => {
      let client: LuxiClient;
      try {
        client = await LuxiClient.connect(socket);
      } catch {
        return;
      }
      try {
        while (!stop.now) {
          value += 1;
          const id = (await client.call('SubmitJob', [[{ OP_ID: 'OP_CLUSTER_SET_PARAMS', max_tracked_jobs: value }]])) as number;
          if ((await jobEnd(client, id)) === 'success') acked = value;
        }
      } catch {
        // The master died under us.
      } finally {
        client.close();
      }
    })();
    const start = acked;
    await waitFor(() => acked >= start + 3 + Math.floor(Math.random() * 5), 30_000);
    await new Promise((r) => setTimeout(r, Math.random() * 20));
    const pid = node.pid('ganeti-masterd')!;
    process.kill(pid, 'SIGKILL');
    stop.now = true;
    await changes;
    await waitFor(() => !alive(pid));
    // Whatever instant the kill hit, config.data parses (it is only ever replaced by rename).
    JSON.parse(fs.readFileSync(node.file('var/lib/ganeti/config.data'), 'utf8'));
    const restart = node.run('ganeti-masterd', []);
    assert.equal(restart.code, 0, restart.stderr);
    const client = await LuxiClient.connect(socket);
    const info = (await client.call('QueryClusterInfo', [])) as { max_tracked_jobs: number };
    client.close();
    assert.ok(info.max_tracked_jobs >= acked, `round ${round}: acknowledged ${acked}, config has ${info.max_tracked_jobs}`);
    assert.ok(info.max_tracked_jobs <= value, `round ${round}: config has a value never submitted`);
  }
});
