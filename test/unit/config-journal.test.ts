// config.data with its journal: the canonical text, replay after a crash (a torn last
// record is ignored), snapshots that drop the records they cover, replicas applying the
// master's records byte for byte.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { applyDelta, DurableConfig, journalFileFor, loadConfig, serializeConfig } from '../../src/core/config-journal.ts';
import { sortKeys } from '../../src/core/json.ts';
import { ConfigStore } from '../../src/master/config/store.ts';
import type { ConfigData } from '../../src/master/config/model.ts';
import type { ConfigDelta } from '../../src/core/config-journal.ts';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function sampleConfig(): ConfigData {
  const node = (uuid: string, name: string) => ({ uuid, name, serial_no: 1, ctime: 1, mtime: 1, primary_ip: '127.0.0.1', secondary_ip: '127.0.0.1', master_candidate: true, offline: false, drained: false, group: 'g1', master_capable: true, vm_capable: true, ndparams: {}, powered: true, tags: [] });
  return {
    version: 3000000,
    cluster: { uuid: 'c1', serial_no: 1, ctime: 1, mtime: 1, cluster_name: 'c.test', master_node: 'n1', tags: [], candidate_pool_size: 10, max_tracked_jobs: 25 } as unknown as ConfigData['cluster'],
    nodes: { n1: node('n1', 'node1'), '42': node('42', 'node42') },
    nodegroups: { g1: { uuid: 'g1', name: 'default', members: ['n1'], alloc_policy: 'preferred', serial_no: 1, ctime: 1, mtime: 1 } },
    instances: {}, networks: {}, disks: {}, filters: {},
    serial_no: 1, ctime: 1, mtime: 1,
  };
}

function configFile(data = sampleConfig()): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'gnt-config-'));
  dirs.push(d);
  const file = path.join(d, 'config.data');
  fs.writeFileSync(file, serializeConfig(data));
  return file;
}

test('the canonical text is JSON.stringify(sortKeys(data)), also after objects change', () => {
  const data = sampleConfig();
  assert.equal(serializeConfig(data), `${JSON.stringify(sortKeys(data))}\n`);
  data.nodes.n1.drained = true;
  data.nodes.n1.serial_no += 1; // what ConfigTx.modified does
  assert.equal(serializeConfig(data), `${JSON.stringify(sortKeys(data))}\n`);
});

test('committed changes survive a crash; a torn last record is ignored', async () => {
  const file = configFile();
  const store = ConfigStore.load(file);
  await store.update((tx) => {
    tx.data.cluster.max_tracked_jobs = 77;
    tx.modified(tx.data.cluster);
  });
  await store.update((tx) => {
    tx.data.nodes.n1.drained = true;
    tx.modified(tx.data.nodes.n1);
  });
  // No snapshot yet (it waits for a pause): the state is in config.data + the journal.
  fs.appendFileSync(journalFileFor(file), '{"serial":4,"mtime":1,"clus'); // a crash in the middle of an append
  const loaded = loadConfig(file);
  assert.equal(loaded.serial_no, 3);
  assert.equal(loaded.cluster.max_tracked_jobs, 77);
  assert.equal(loaded.nodes.n1.drained, true);
  assert.equal(serializeConfig(loaded), serializeConfig(store.data));
  // Loading folds the journal into config.data, so that new records never follow a torn one.
  const reopened = DurableConfig.load(file);
  assert.ok(!fs.existsSync(journalFileFor(file)));
  assert.equal(reopened.data.serial_no, 3);
});

test('a snapshot rewrites config.data and drops the journal; a replica applying the records is byte-identical', async () => {
  const master = ConfigStore.load(configFile());
  const replicaFile = configFile();
  const replica = DurableConfig.load(replicaFile);
  const deltas: ConfigDelta[] = [];
  master.onCommit = async (d) => {
    deltas.push(d);
  };
  for (let i = 0; i < 5; i++) {
    await master.update((tx) => {
      tx.add('nodes', { ...structuredClone(tx.data.nodes.n1), uuid: `x${i}`, name: `extra${i}` } as never);
      if (i === 2) tx.remove('nodes', '42');
    });
  }
  for (const d of deltas) {
    applyDelta(replica.data, d);
    await replica.commit(d);
  }
  await master.close();
  await replica.close();
  assert.equal(fs.readFileSync(replicaFile, 'utf8'), serializeConfig(master.data));
  assert.equal(loadConfig(replicaFile).serial_no, 6);
  assert.ok(!('42' in loadConfig(replicaFile).nodes));
});

test('replace() installs a whole configuration, even while a snapshot runs', async () => {
  const file = configFile();
  const config = DurableConfig.load(file);
  const other = sampleConfig();
  other.serial_no = 40;
  other.cluster.cluster_name = 'other.test';
  const running = config.snapshot();
  await config.replace(other);
  await running;
  assert.equal(loadConfig(file).cluster.cluster_name, 'other.test');
  assert.equal(loadConfig(file).serial_no, 40);
});
