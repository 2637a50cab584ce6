// Daemons and the queue across crashes and restarts: nothing acknowledged is lost,
// running jobs end as "Unclean master daemon shutdown", queued ones run; logs reopen on
// SIGHUP; destroy removes the cluster.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { jobEnd, TestCluster, waitFor } from './cluster.ts';
import { LuxiClient } from '../../src/luxi/client.ts';

const cluster = new TestCluster();
after(() => cluster.destroy());
const node = cluster.init();
const socket = node.file('var/run/ganeti/socket/ganeti-query');

function jobFile(id: number) {
  return JSON.parse(fs.readFileSync(node.file(`var/lib/ganeti/queue/job-${id}`), 'utf8'));
}

test('kill -9 of the master: the running job fails as unclean shutdown, queued jobs run after restart', async () => {
  const luxi = await LuxiClient.connect(socket);
  const long = { OP_ID: 'OP_TEST_DELAY', duration: 4 };
  const short = { OP_ID: 'OP_TEST_DELAY', duration: 0.001 };
  // Fill every execution slot (20) with long jobs so the next ones stay queued.
  const submitted = (await luxi.call('SubmitManyJobs', [[...Array.from({ length: 20 }, () => [long]), [short], [short]]])) as [boolean, number][];
  const ids = submitted.map(([, id]) => id);
  for (;;) {
    const [[status]] = (await luxi.call('QueryJobs', [[ids[0]], ['status']])) as [[string]];
    if (status === 'running') break;
    await new Promise((r) => setTimeout(r, 10));
  }
  luxi.close();
  process.kill(node.pid('ganeti-masterd')!, 'SIGKILL');
  await waitFor(() => {
    try {
      process.kill(node.pid('ganeti-masterd')!, 0);
      return false;
    } catch {
      return true;
    }
  });
  const start = node.run('ganeti-masterd', []);
  assert.equal(start.code, 0, start.stderr);
  for (const id of ids) assert.ok(fs.existsSync(node.file(`var/lib/ganeti/queue/job-${id}`)), `job ${id} acknowledged but missing`);
  const running = jobFile(ids[0]);
  assert.equal(running.ops[0].status, 'error');
  assert.deepEqual(running.ops[0].result, ['OpExecError', ['Unclean master daemon shutdown']]);
  assert.ok(running.end_timestamp);
  const again = await LuxiClient.connect(socket);
  for (const id of ids.slice(-2)) assert.equal(await jobEnd(again, id), 'success');
  again.close();
});

test('SIGHUP reopens the log file (logrotate)', async () => {
  const log = node.file('var/log/ganeti/ganeti-noded.log');
  fs.renameSync(log, `${log}.1`);
  process.kill(node.pid('ganeti-noded')!, 'SIGHUP');
  await waitFor(() => fs.existsSync(log) && fs.readFileSync(log, 'utf8').includes('log file reopened'));
});

test('masterd refuses to start where the configuration names another master (exit 11), none (exit 5), or the node lacks its key (exit 12)', async () => {
  const configFile = node.file('var/lib/ganeti/config.data');
  const original = fs.readFileSync(configFile, 'utf8');
  process.kill(node.pid('ganeti-masterd')!, 'SIGTERM');
  await waitFor(() => node.pid('ganeti-masterd') === null);
  const config = JSON.parse(original);
  config.nodes[config.cluster.master_node].name = 'node9';
  fs.writeFileSync(configFile, JSON.stringify(config));
  const other = node.run('ganeti-masterd', []);
  assert.equal(other.code, 11);
  assert.match(other.stderr, /This node \(node1\) is not the master node according to its configuration \(the master is node9\)/);
  fs.renameSync(configFile, `${configFile}.away`);
  const none = node.run('ganeti-masterd', []);
  assert.equal(none.code, 5);
  assert.match(none.stderr, /not part of a cluster/);
  fs.renameSync(`${configFile}.away`, configFile);
  fs.writeFileSync(configFile, original);
  // Without its cluster key the node's set-up is incomplete: exit 12.
  const keyFile = node.file('var/lib/ganeti/cluster-key');
  fs.renameSync(keyFile, `${keyFile}.away`);
  const noKey = node.run('ganeti-masterd', []);
  assert.equal(noKey.code, 12);
  assert.match(noKey.stderr, /Node set-up error: .*cluster key/);
  assert.ok(!fs.existsSync(node.file('var/run/ganeti/ganeti-masterd.pid')), 'a daemon that never started leaves no pid file');
  fs.renameSync(`${keyFile}.away`, keyFile);
  assert.equal(node.run('ganeti-masterd', []).code, 0);
});

test('destroy needs --yes-do-it, then stops the daemons and removes the cluster', async () => {
  const refuse = node.run('gnt-cluster', ['destroy']);
  assert.equal(refuse.code, 1);
  assert.match(refuse.stderr, /supply the --yes-do-it option/);
  const masterPid = node.pid('ganeti-masterd')!;
  // A journal a crash left behind must go too: the next cluster's config.data would replay it.
  const journal = node.file('var/lib/ganeti/config.journal');
  fs.writeFileSync(journal, '{"serial":99,"mtime":1}\n');
  const r = node.run('gnt-cluster', ['destroy', '--yes-do-it']);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(!fs.existsSync(node.file('var/lib/ganeti/config.data')));
  assert.ok(!fs.existsSync(journal));
  assert.ok(!fs.existsSync(node.file('var/lib/ganeti/cluster-key')));
  assert.ok(!fs.existsSync(node.file('var/lib/ganeti/queue')));
  assert.throws(() => process.kill(masterPid, 0));
  const init = node.run('gnt-cluster', ['init', '--primary-ip', node.ip, 'cluster2.test']);
  assert.equal(init.code, 0, init.stderr);
});
