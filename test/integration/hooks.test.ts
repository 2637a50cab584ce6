// Hooks end to end on a one-node cluster: scripts under the node's etc/ganeti/hooks see
// Ganeti's environment, a failing pre hook vetoes `gnt-cluster modify` and leaves the
// configuration alone, a failing post hook only warns, and config-update runs after it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { TestCluster, type VirtualNode } from './cluster.ts';
import { LuxiClient } from '../../src/luxi/client.ts';

let cluster: TestCluster;
let node: VirtualNode;
let hooks: string;
let out: string;
let luxi: LuxiClient;

before(async () => {
  cluster = new TestCluster();
  node = cluster.init();
  hooks = node.file('etc/ganeti/hooks');
  out = node.file('hook-output');
  fs.mkdirSync(out, { recursive: true });
  luxi = await LuxiClient.connect(node.file('var/run/ganeti/socket/ganeti-query'));
});
after(() => {
  luxi?.close();
  cluster?.destroy();
});

function install(dir: string, name: string, body: string): string {
  const d = path.join(hooks, dir);
  fs.mkdirSync(d, { recursive: true });
  const file = path.join(d, name);
  fs.writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  fs.chmodSync(file, 0o755);
  return file;
}

/** An env dump as the script saw it, without what the shell adds by itself. */
function readEnv(file: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) env[line.slice(0, i)] = line.slice(i + 1);
  }
  for (const k of ['PWD', 'SHLVL', '_', 'OLDPWD']) delete env[k];
  return env;
}

/** The master's view of the cluster (config.data itself is written behind a journal). */
async function clusterInfo(): Promise<Record<string, unknown>> {
  return (await luxi.call('QueryClusterInfo', [])) as Record<string, unknown>;
}

async function candidatePoolSize(): Promise<unknown> {
  return (await clusterInfo()).candidate_pool_size;
}

function infoPoolSize(): string {
  const r = node.run('gnt-cluster', ['info']);
  assert.equal(r.code, 0, r.stderr);
  const m = /candidate pool size: (\d+)/.exec(r.stdout);
  assert.ok(m, r.stdout);
  return m[1];
}

test('pre and post hooks get Ganeti\'s environment; config-update runs after the change', async () => {
  install('cluster-modify-pre.d', '01-env', `env > ${out}/pre.env`);
  install('cluster-modify-post.d', '01-env', `env > ${out}/post.env`);
  install('config-update-post.d', '01-env', `env > ${out}/config-update.env`);
  // Not run: the name does not match run-parts' rules, or not executable.
  install('cluster-modify-pre.d', 'skip.sh', `touch ${out}/skipped`);
  fs.chmodSync(install('cluster-modify-pre.d', '02-noexec', `touch ${out}/skipped`), 0o644);

  const r = node.run('gnt-cluster', ['modify', '--candidate-pool-size', '5']);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.equal(await candidatePoolSize(), 5);
  assert.ok(!fs.existsSync(`${out}/skipped`));

  const common = {
    PATH: '/sbin:/bin:/usr/sbin:/usr/bin',
    GANETI_HOOKS_VERSION: '2',
    GANETI_OP_CODE: 'OP_CLUSTER_SET_PARAMS',
    GANETI_DATA_DIR: node.file('var/lib/ganeti'),
    GANETI_OBJECT_TYPE: 'CLUSTER',
    GANETI_CLUSTER: 'cluster.test',
    GANETI_MASTER: 'node1',
  };
  const lu = { GANETI_OP_TARGET: 'cluster.test', GANETI_NEW_VG_NAME: 'None' };
  assert.deepEqual(readEnv(`${out}/pre.env`), { ...common, GANETI_HOOKS_PATH: 'cluster-modify', GANETI_HOOKS_PHASE: 'pre', ...lu });
  assert.deepEqual(readEnv(`${out}/post.env`), {
    ...common, GANETI_HOOKS_PATH: 'cluster-modify', GANETI_HOOKS_PHASE: 'post', ...lu,
    GANETI_POST_OP_TARGET: 'cluster.test', GANETI_POST_NEW_VG_NAME: 'None',
  });
  assert.deepEqual(readEnv(`${out}/config-update.env`), { ...common, GANETI_HOOKS_PATH: 'config-update', GANETI_HOOKS_PHASE: 'post', ...lu });
});

test('a failing pre hook vetoes the operation: the error names node, script and output; nothing changes', async () => {
  fs.rmSync(`${out}/post.env`, { force: true });
  fs.rmSync(`${out}/config-update.env`, { force: true });
  install('cluster-modify-pre.d', '10-deny', 'echo "pool size changes are frozen"; echo "ask ops" >&2; exit 1');
  install('cluster-modify-pre.d', '11-quiet', 'exit 2');
  const before = await clusterInfo();

  const r = node.run('gnt-cluster', ['modify', '--candidate-pool-size', '7']);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.ok(r.stderr.includes([
    'Failure: hooks execution failed:',
    '  node: node1, script: cluster-modify-pre.d/10-deny, output: pool size changes are frozen\\nask ops',
    '  node: node1, script: cluster-modify-pre.d/11-quiet (no output)',
  ].join('\n')), r.stderr);

  assert.equal(await candidatePoolSize(), 5);
  assert.equal(infoPoolSize(), '5');
  assert.deepEqual(await clusterInfo(), before, 'the configuration (and its mtime) is untouched');
  assert.ok(!fs.existsSync(`${out}/post.env`), 'no post hooks after a veto');
  assert.ok(!fs.existsSync(`${out}/config-update.env`), 'no config-update without a change');

  // The job itself failed with HooksAbort, the list of [node, script, output] on the wire.
  const job = node.run('gnt-job', ['list', '--no-headers', '-o', 'id,status', '--separator=|']);
  const last = job.stdout.trim().split('\n').at(-1)!.split('|');
  assert.equal(last[1], 'error');
  const info = node.run('gnt-job', ['info', last[0]]);
  assert.match(info.stdout, /HooksAbort/);
});

test('a failing post hook only warns: the change stands and the job succeeds', async () => {
  fs.rmSync(path.join(hooks, 'cluster-modify-pre.d/10-deny'));
  fs.rmSync(path.join(hooks, 'cluster-modify-pre.d/11-quiet'));
  install('cluster-modify-post.d', '20-complain', 'echo "monitoring not updated"; exit 1');

  const r = node.run('gnt-cluster', ['modify', '--candidate-pool-size', '7']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout + r.stderr, / - WARNING: On node1 script cluster-modify-post\.d\/20-complain failed, output: monitoring not updated/);
  assert.equal(await candidatePoolSize(), 7);
  assert.equal(infoPoolSize(), '7');
  assert.equal(readEnv(`${out}/post.env`).GANETI_HOOKS_PHASE, 'post');
  assert.ok(fs.existsSync(`${out}/config-update.env`));
});
