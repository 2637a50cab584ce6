// gnt-cluster verify against the real binary: Ganeti 3.0.2's output (golden 005) on a
// one-node cluster, then a second node on its own loopback address: healthy, with a stale
// ssconf file, with a stale or missing configuration replica, and with its noded killed.
// The second node is added to config.data by hand (as test/integration/replication.test.ts
// does) until `gnt-node add` exists; then these tests can use it instead.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { TestCluster, waitFor, type RunResult, type VirtualNode } from './cluster.ts';
import { LuxiClient } from '../../src/luxi/client.ts';

/** golden/005.txt STDOUT (real Ganeti 3.0.2, node1.gnt.test, groups 'extra' (empty) and 'default', 3 instances). */
const GOLDEN_005 = `Submitted jobs 13, 14, 15
Waiting for job 13 ...
Mon Nov 23 21:11:28 2026 * Verifying cluster config
Mon Nov 23 21:11:28 2026 * Verifying cluster certificate files
Mon Nov 23 21:11:28 2026 * Verifying hypervisor parameters
Mon Nov 23 21:11:28 2026 * Verifying all nodes belong to an existing group
Waiting for job 14 ...
Mon Nov 23 21:11:28 2026 * Verifying group 'extra'
Mon Nov 23 21:11:28 2026 * Empty node group, skipping verification
Waiting for job 15 ...
Mon Nov 23 21:11:29 2026 * Verifying group 'default'
Mon Nov 23 21:11:29 2026 * Gathering data (1 nodes)
Mon Nov 23 21:11:29 2026 * Gathering information about nodes (1 nodes)
Mon Nov 23 21:11:29 2026 * Gathering disk information (1 nodes)
Mon Nov 23 21:11:29 2026 * Verifying configuration file consistency
Mon Nov 23 21:11:29 2026 * Verifying node status
Mon Nov 23 21:11:29 2026   - ERROR: node node1.gnt.test: node setup error: The procfs filesystem doesn't seem to be mounted under /proc, missing required directory /proc/sys and the file /proc/sysrq-trigger
Mon Nov 23 21:11:29 2026   - ERROR: node node1.gnt.test: ssh communication with node 'node1.gnt.test': ssh problem: ssh: connect to host node1.gnt.test port 22: Connection refused\\n
Mon Nov 23 21:11:29 2026 * Verifying instance status
Mon Nov 23 21:11:29 2026 * Verifying orphan volumes
Mon Nov 23 21:11:29 2026 * Verifying N+1 Memory redundancy
Mon Nov 23 21:11:29 2026 * Other Notes
Mon Nov 23 21:11:29 2026   - NOTICE: 1 non-redundant instance(s) found.
Mon Nov 23 21:11:29 2026 * Hooks Results
`;

const CTIME = /^[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4} /;
/** Times and job ids masked, so that two runs compare equal. */
function mask(text: string): string[] {
  return text.split('\n').filter((l) => l !== '').map((l) => l.replace(CTIME, '<time> ')
    .replace(/^Submitted jobs [\d, ]+$/, 'Submitted jobs <ids>').replace(/^Waiting for job \d+ \.\.\.$/, 'Waiting for job <id> ...'));
}

/** The node-setup errors our noded (like upstream's) finds on this host's /proc and /sys. */
function hostSetupErrors(): boolean {
  const exists = (p: string, dir: boolean) => { try { return dir ? fs.statSync(p).isDirectory() : fs.statSync(p).isFile(); } catch { return false; } };
  return !exists('/proc/sys', true) || !exists('/proc/sysrq-trigger', false) || !exists('/sys/block', true) || !exists('/sys/class/net', true);
}

function verify(node: VirtualNode, args: string[] = []): RunResult {
  return node.run('gnt-cluster', ['verify', ...args]);
}

function findings(r: RunResult): string[] {
  return mask(r.stdout).filter((l) => l.startsWith('<time>   - ')).map((l) => l.slice('<time> '.length))
    .filter((l) => !/node setup error: The (procfs|sysfs)/.test(l));
}

describe('one node', () => {
  let cluster: TestCluster;
  let node: VirtualNode;
  before(() => {
    cluster = new TestCluster();
    node = cluster.init('node1');
  });
  after(() => cluster?.destroy());

  test('the output is golden 005 without the lines that need instances, ssh or the empty group', () => {
    const r = verify(node);
    assert.equal(r.stderr, '');
    const setup = hostSetupErrors();
    assert.equal(r.code, setup ? 1 : 0, r.stdout);
    const expected = mask(GOLDEN_005)
      .map((l) => l.replaceAll('node1.gnt.test', 'node1'))
      .filter((l) => !/Verifying group 'extra'|Empty node group|ssh communication|non-redundant instance/.test(l))
      .filter((l, i, all) => !(l === 'Waiting for job <id> ...' && all[i + 1] === 'Waiting for job <id> ...'))
      // The host facts decide the node-setup line, as on the machine golden 005 was recorded on.
      .filter((l) => setup || !l.includes('node setup error'));
    const got = mask(r.stdout);
    if (setup) {
      // Only the procfs message was recorded; this host may lack sysfs too.
      const ours = got.filter((l) => l.includes('node setup error'));
      assert.equal(ours.length, 1);
      assert.match(ours[0], /^<time> {3}- ERROR: node node1: node setup error: /);
      assert.deepEqual(got.map((l) => (l.includes('node setup error') ? '<setup>' : l)), expected.map((l) => (l.includes('node setup error') ? '<setup>' : l)));
    } else {
      assert.deepEqual(got, expected);
    }
  });

  test('--error-codes, -I (demoted to a warning, exit 0), --verbose, --no-nplus1-mem', () => {
    const r = verify(node, ['--error-codes', '-I', 'ENODESETUP', '--verbose', '--no-nplus1-mem']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const lines = mask(r.stdout);
    assert.ok(lines.includes('<time> * Verifying node node1 (master)'), r.stdout);
    assert.ok(!lines.some((l) => l.includes('N+1')), r.stdout);
    for (const l of lines.filter((x) => x.includes('node setup error'))) assert.match(l, /^<time> {3}- WARNING:ENODESETUP:node:node1:node setup error: /);
  });

  test('-g GROUP verifies that group only; an unknown group fails its job (exit 1)', () => {
    const r = verify(node, ['-g', 'default']);
    const lines = mask(r.stdout);
    assert.equal(lines[0], 'Submitted jobs <ids>');
    assert.equal(lines[1], 'Waiting for job <id> ...');
    assert.equal(lines[2], "<time> * Verifying group 'default'");
    assert.ok(!lines.some((l) => l.includes('Verifying cluster config')));
    const bad = verify(node, ['-g', 'nosuch']);
    assert.equal(bad.code, 1);
    assert.match(bad.stdout, /\n1 job\(s\) failed while verifying the cluster\.\n$/);
    assert.match(bad.stderr, /^Job \d+ has failed: Failure: prerequisites not met for this operation:\nerror type: unknown_entity, error details:\nNode group 'nosuch' not found\n$/);
  });

  test('a failing cluster-verify post hook is an ENODEHOOKS error with its output indented (exit 1)', () => {
    const dir = node.file('etc/ganeti/hooks/cluster-verify-post.d');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(`${dir}/10-check`, '#!/bin/sh\necho disk almost full\nexit 1\n', { mode: 0o755 });
    try {
      const r = verify(node, ['-I', 'ENODESETUP']);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      const lines = mask(r.stdout);
      const at = lines.indexOf('<time> * Hooks Results');
      assert.ok(at > 0, r.stdout);
      assert.deepEqual(lines.slice(at + 1), [
        '<time>   - ERROR: node node1: Script cluster-verify-post.d/10-check failed, output:',
        '<time>       disk almost full',
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an unknown -I code is an option error (exit 2)', () => {
    const r = verify(node, ['-I', 'ENOSUCH']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /gnt-cluster: error: option -I: invalid choice: 'ENOSUCH' \(choose from 'ECLUSTERCERT', /);
  });

  test('an empty group is skipped, as golden 005 shows for group \'extra\' (needs OP_GROUP_ADD)', async (t) => {
    const luxi = await LuxiClient.connect(node.file('var/run/ganeti/socket/ganeti-master'));
    try {
      const id = Number(await luxi.call('SubmitJob', [[{ OP_ID: 'OP_GROUP_ADD', group_name: 'extra' }]]));
      let status = '';
      for (let i = 0; i < 200; i++) {
        const [[s]] = (await luxi.call('QueryJobs', [[id], ['status']])) as [[string]];
        status = s;
        if (['success', 'error', 'canceled'].includes(s)) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      if (status !== 'success') {
        t.skip('OP_GROUP_ADD does not work yet');
        return;
      }
    } finally {
      luxi.close();
    }
    const lines = mask(verify(node).stdout);
    const at = lines.indexOf("<time> * Verifying group 'extra'");
    assert.ok(at > 0, lines.join('\n'));
    assert.equal(lines[at - 1], 'Waiting for job <id> ...');
    assert.equal(lines[at + 1], '<time> * Empty node group, skipping verification');
  });
});

describe('two nodes', () => {
  let cluster: TestCluster;
  let master: VirtualNode;
  let node2: VirtualNode;
  const data = (n: VirtualNode, rel: string) => n.file(`var/lib/ganeti/${rel}`);
  // Messages name files by the master's local paths, as upstream's do.
  const shown = (rel: string) => data(master, rel);

  function startNoded(): void {
    const r = node2.run('ganeti-noded', ['-b', node2.ip]);
    assert.equal(r.code, 0, r.stderr);
  }
  async function stopNoded(): Promise<void> {
    const pid = node2.pid('ganeti-noded');
    if (pid) process.kill(pid, 'SIGKILL');
    await waitFor(() => {
      try {
        process.kill(pid!, 0);
        return false;
      } catch {
        return true;
      }
    });
  }

  before(async () => {
    cluster = new TestCluster();
    master = cluster.init('node1');
    // node2 joins as an operator adds it, and becomes a master candidate.
    node2 = cluster.join(master, 'node2');
    await waitFor(() => fs.readFileSync(data(node2, 'ssconf_node_list'), 'utf8') === 'node1\nnode2\n' &&
      fs.readFileSync(data(node2, 'config.data'), 'utf8') === fs.readFileSync(data(master, 'config.data'), 'utf8'));
  });
  after(() => cluster?.destroy());

  test('a healthy second node: nothing to report beyond the host facts', () => {
    const r = verify(master);
    assert.deepEqual(findings(r), []);
    assert.equal(r.code, hostSetupErrors() ? 1 : 0, r.stdout + r.stderr);
    assert.ok(mask(r.stdout).includes('<time> * Gathering data (2 nodes)'), r.stdout);
  });

  test('an ssconf file that differs from the master\'s: "found with 2 different checksums"', async () => {
    const file = data(node2, 'ssconf_cluster_tags');
    const saved = fs.readFileSync(file);
    fs.chmodSync(file, 0o644);
    fs.writeFileSync(file, 'stale\n');
    try {
      const r = verify(master);
      assert.equal(r.code, 1);
      const f = findings(r);
      assert.equal(f.length, 1, r.stdout);
      assert.match(f[0], new RegExp(`^ {2}- ERROR: cluster : File ${escape(shown('ssconf_cluster_tags'))} found with 2 different checksums \\(variant 1 on node[12]; variant 2 on node[12]\\)$`));
      assert.ok(f[0].includes('node1') && f[0].includes('node2'));
    } finally {
      fs.writeFileSync(file, saved);
    }
  });

  test('a candidate\'s stale configuration replica, then a missing one', async () => {
    const file = data(node2, 'config.data');
    const saved = fs.readFileSync(file);
    await stopNoded();
    const stale = JSON.parse(saved.toString('utf8'));
    stale.serial_no -= 1;
    stale.cluster.tags = ['stale'];
    fs.writeFileSync(file, JSON.stringify(stale));
    startNoded();
    try {
      let r = verify(master, ['--error-codes']);
      assert.equal(r.code, 1);
      assert.deepEqual(findings(r).map((l) => l.replace(/variant 1 on node[12]; variant 2 on node[12]/, '<variants>')),
        [`  - ERROR:ECLUSTERFILECHECK:cluster:None:File ${shown('config.data')} found with 2 different checksums (<variants>)`]);
      await stopNoded();
      fs.rmSync(file);
      startNoded();
      r = verify(master);
      assert.equal(r.code, 1);
      assert.deepEqual(findings(r), [`  - ERROR: cluster : File ${shown('config.data')} is missing from node(s) node2`]);
    } finally {
      await stopNoded();
      fs.writeFileSync(file, saved);
      startNoded();
    }
  });

  test('a node whose noded is down: ENODERPC, exit 1', async () => {
    await stopNoded();
    try {
      const r = verify(master, ['--error-codes']);
      assert.equal(r.code, 1);
      const f = findings(r);
      assert.ok(f.some((l) => l.startsWith('  - ERROR:ENODERPC:node:node2:while contacting node: ')), r.stdout);
      assert.ok(f.some((l) => l === '  - ERROR:ENODEFILECHECK:node:node2:Node did not return file checksum data'), r.stdout);
      const plain = findings(verify(master));
      assert.ok(plain.some((l) => l.startsWith('  - ERROR: node node2: while contacting node: ')), plain.join('\n'));
    } finally {
      startNoded();
    }
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
