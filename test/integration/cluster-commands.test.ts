// gnt-cluster modify, rename, redist-conf, command and copyfile, as an operator uses
// them: values visible in `gnt-cluster info`, bad values refused with Ganeti's error and
// exit code and nothing changed, upstream's output formats; command and copyfile over
// the authenticated node RPC, first on one node, then with a second node joined.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { TestCluster, waitFor, type RunResult, type VirtualNode } from './cluster.ts';

let cluster: TestCluster;
let master: VirtualNode;

before(() => {
  cluster = new TestCluster();
  master = cluster.init('node1');
});
after(() => cluster?.destroy());

const DASHES = '------------------------------------------------';
const info = () => master.run('gnt-cluster', ['info']).stdout;
const ssconf = (n: VirtualNode, key: string) => fs.readFileSync(n.file(`var/lib/ganeti/ssconf_${key}`), 'utf8');

function ok(args: string[]): RunResult {
  const r = master.run('gnt-cluster', args);
  assert.equal(r.code, 0, `gnt-cluster ${args.join(' ')}: ${r.stdout}${r.stderr}`);
  return r;
}

/** The value of one "  key: value" line of `gnt-cluster info`. */
function infoValue(text: string, key: string): string {
  const line = text.split('\n').find((l) => l.trimStart().startsWith(`${key}: `) || l.trimStart() === `${key}:`);
  assert.ok(line !== undefined, `no "${key}" in gnt-cluster info`);
  return line.slice(line.indexOf(':') + 1).trim();
}

/** The indented block under a top-level `gnt-cluster info` heading. */
function infoSection(text: string, heading: string): string {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`${heading}:`));
  assert.ok(start >= 0, `no "${heading}" section`);
  const end = lines.findIndex((l, i) => i > start && l !== '' && !l.startsWith(' '));
  return lines.slice(start + 1, end < 0 ? undefined : end).join('\n');
}

test('modify: the values show in gnt-cluster info', () => {
  const r = ok(['modify', '-C', '5', '--max-running-jobs', '7', '--max-tracked-jobs', '30', '-m', 'AA:BB:CC',
    '-H', 'fake:migration_mode=non-live', '-B', 'maxmem=256M,vcpus=2', '-N', 'link=br7', '--node-parameters', 'spindle_count=3',
    '-D', 'plain:stripes=2', '--maintain-node-health', 'yes', '--prealloc-wipe-disks', 'yes', '--uid-pool', '1000-2000,3000',
    '--ipolicy-vcpu-ratio', '8', '--ipolicy-std-specs', 'memory-size=256', '--master-netmask', '24', '--master-netdev', 'lo2']);
  assert.match(r.stdout, /Changing master_netdev from lo to lo2/);
  assert.match(r.stdout, /Changing master IP netmask to 24/);
  const text = info();
  assert.equal(infoValue(text, 'candidate pool size'), '5');
  assert.equal(infoValue(text, 'maximal number of jobs running simultaneously'), '7');
  assert.equal(infoValue(text, 'maximal number of jobs simultaneously tracked by the scheduler'), '30');
  assert.equal(infoValue(text, 'mac prefix'), 'aa:bb:cc', 'the MAC prefix is normalized to lower case');
  assert.equal(infoValue(text, 'master netdev'), 'lo2');
  assert.equal(infoValue(text, 'master netmask'), '24');
  assert.equal(infoValue(text, 'maintenance of node health'), 'True');
  assert.equal(infoValue(text, 'preallocation wipe disks'), 'True');
  assert.equal(infoValue(text, 'vcpu-ratio'), '8');
  assert.match(infoSection(text, 'Hypervisor parameters'), /fake: \n {4}migration_mode: non-live/);
  const be = infoSection(text, 'Default instance parameters');
  assert.match(be, /maxmem: 256\n/);
  assert.match(be, /minmem: 128\n/, 'beparams are updated, not replaced');
  assert.match(be, /vcpus: 2/);
  assert.match(infoSection(text, 'Default nic parameters'), /link: br7\n {4}mode: bridged/);
  assert.match(infoSection(text, 'Default node parameters'), /spindle_count: 3/);
  assert.match(infoSection(text, 'Default disk parameters'), /plain: \n {4}stripes: 2/);
  assert.match(infoSection(text, 'Instance policy - limits for instances'), /std: \n {4}cpu-count: 1\n {4}disk-count: 1\n {4}disk-size: 1024\n {4}memory-size: 256/);
  // The job queue picks up the new slot count at once.
  assert.equal(master.run('gnt-debug', ['delay', '0.01']).code, 0);
  // Back to the usual netdev for the rest of the tests.
  ok(['modify', '--master-netdev', 'lo', '--master-netmask', '32']);
});

test('modify: uid pool additions and removals', () => {
  const config = () => JSON.parse(fs.readFileSync(master.file('var/lib/ganeti/config.data'), 'utf8'));
  ok(['modify', '--uid-pool', '1000-2000']);
  ok(['modify', '--add-uids', '3000,2500-2600']);
  ok(['modify', '--remove-uids', '1000-2000']);
  return waitFor(() => JSON.stringify(config().cluster.uid_pool) === '[[2500,2600],[3000,3000]]');
});

test('modify: bad values are refused with Ganeti\'s message and exit code, and nothing changes', () => {
  const before = info();
  const cases: Array<[string[], number, RegExp]> = [
    [['-m', 'zz:00:00'], 1, /^Failure: prerequisites not met for this operation:\nerror type: wrong_input, error details:\nInvalid MAC address prefix 'zz:00:00'\n$/],
    [['--master-netmask', '40'], 1, /CIDR netmask \(40\) not valid/],
    [['--master-netmask', 'x'], 1, /^The --master-netmask option expects an int parameter.\n$/],
    [['-C', 'x'], 2, /option -C: invalid integer value: 'x'/],
    [['-C', '0'], 1, /candidate_pool_size/],
    [['-B', 'maxmem=12x'], 1, /^Parameter Error: 'maxmem' \(value 12x\) is not a valid size. error: Unknown unit: x\n$/],
    [['-B', 'vcpus=many'], 1, /^Parameter Error: 'vcpus' \(value many\) is not a valid integer\n$/],
    [['-H', 'fake:nosuch=1'], 1, /^Parameter Error: Unknown parameter 'nosuch'\n$/],
    [['-H', 'fake:kernel_path=/x'], 1, /^Unhandled Ganeti error: Parameter 'kernel_path' is not supported\n$/],
    [['-H', 'fake:migration_mode=sideways'], 1, /fails syntax check: invalid migration mode \(current value: 'sideways'\)/],
    [['-N', 'mode=weird'], 2, /^Corrupt configuration file: Invalid NIC mode 'weird'\nAborting.\n$/],
    [['--enabled-disk-templates', 'diskless'], 1,
      /^Failure: prerequisites not met for this operation:\nThe following disk template are allowed by the ipolicy, but not enabled on the cluster: file\n$/],
    [['--enabled-disk-templates', 'nosuch'], 1, /Enabled disk templates list contains invalid entries: \{'nosuch'\}/],
    [['--enabled-hypervisors', 'nosuch'], 1, /Enabled hypervisors contains invalid entries: \{'nosuch'\}/],
    [['-D', 'nosuch:stripes=2'], 1, /While verify diskparams options: \('Provided option keys not supported: nosuch', 'wrong_input'\)/],
    [['--remove-uids', '5000'], 1, /User-id range to be removed is not found in the current user-id pool: \(5000, 5000\)/],
    [['--uid-pool', '3-1'], 1, /Lower user-id range boundary value \(3\) is larger than higher boundary value \(1\)/],
    [['-I', 'nosuch'], 1, /Invalid default iallocator script 'nosuch' specified/],
    [['--file-storage-dir='], 1, /Unsetting the 'file' storage directory while having 'file' storage enabled is not permitted./],
    [['--ipolicy-vcpu-ratio', '0'], 1, /Can't unset ipolicy attribute 'vcpu-ratio' on the cluster'/],
    [['--ipolicy-disk-templates', 'plain'], 1, /allowed by the ipolicy, but not enabled on the cluster: plain/],
    [['--maintain-node-health', 'maybe'], 1, /Invalid boolean value 'maybe'/],
    [['--compression-tools', 'xz'], 1, /the gzip utility must be present among the compression tools/],
    // Two changes, the second bad: the first must not be applied either.
    [['-C', '7', '-m', 'bad'], 1, /Invalid MAC address prefix 'bad'/],
    [[], 1, /^Please give at least one of the parameters.\n$/],
  ];
  for (const [args, code, message] of cases) {
    const r = master.run('gnt-cluster', ['modify', ...args]);
    assert.equal(r.code, code, `modify ${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, message, `modify ${args.join(' ')}`);
  }
  assert.equal(info(), before);
});

test('modify: enabled hypervisors and disk templates', () => {
  // The nodes validate a newly enabled hypervisor's parameters: kvm's default kernel is not here.
  const refused = master.run('gnt-cluster', ['modify', '--enabled-hypervisors', 'fake,kvm']);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /Hypervisor parameter validation failed on node node1: (Parameter 'kernel_path' fails validation: not found or not a file \(current value: '\/boot\/vmlinuz-3-kvmU'\)|The KVM binary \('\/usr\/bin\/kvm'\) does not exist)\n/);
  assert.equal(infoValue(info(), 'Enabled hypervisors'), 'fake');
  if (!fs.existsSync('/usr/bin/kvm')) return; // no qemu here (Debian's qemu-system-x86): kvm cannot be enabled
  ok(['modify', '--enabled-hypervisors', 'fake,kvm', '-H', 'kvm:kernel_path=', '--enabled-disk-templates', 'diskless,file,sharedfile']);
  let text = info();
  assert.equal(infoValue(text, 'Enabled hypervisors'), 'fake, kvm');
  assert.equal(infoValue(text, 'enabled disk templates'), 'diskless, file, sharedfile');
  // A newly enabled hypervisor gets its defaults.
  assert.match(infoSection(text, 'Hypervisor parameters'), /kvm: \n(.*\n)* {4}kvm_path: \/usr\/bin\/kvm/);
  ok(['modify', '--enabled-hypervisors', 'fake', '--enabled-disk-templates', 'diskless,file']);
  text = info();
  assert.equal(infoValue(text, 'Enabled hypervisors'), 'fake');
  assert.equal(infoValue(text, 'enabled disk templates'), 'diskless, file');
});

/** Run a gnt-* tool in a new session, so it has no terminal to ask on. */
function runWithoutTty(n: VirtualNode, role: string, args: string[]): RunResult {
  const r = spawnSync('setsid', ['-w', path.join(n.bin, role), ...args], { env: n.env, input: 'y\n', encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

test('rename: asks first, -f skips; ssconf follows; the same name is refused', async () => {
  const asked = runWithoutTty(master, 'gnt-cluster', ['rename', 'cluster2.test']);
  assert.equal(asked.code, 1, 'without a terminal the answer is no');
  assert.equal(infoValue(info(), 'Cluster name'), 'cluster.test');
  const r = ok(['rename', '-f', 'cluster2.test']);
  assert.equal(r.stdout, "Cluster renamed from 'cluster.test' to 'cluster2.test'\n");
  assert.equal(infoValue(info(), 'Cluster name'), 'cluster2.test');
  assert.equal(master.run('gnt-cluster', ['getmaster']).stdout, 'node1\n');
  await waitFor(() => ssconf(master, 'cluster_name') === 'cluster2.test\n');
  const again = master.run('gnt-cluster', ['rename', '-f', 'cluster2.test']);
  assert.equal(again.code, 1);
  assert.equal(again.stderr, 'Failure: prerequisites not met for this operation:\nerror type: wrong_input, error details:\nNeither the name nor the IP address of the cluster has changed\n');
  const bad = master.run('gnt-cluster', ['rename', '-f', 'bad_name!']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /Invalid hostname 'bad_name!'/);
});

test('redist-conf: rewrites ssconf on the nodes', async () => {
  fs.chmodSync(master.file('var/lib/ganeti/ssconf_cluster_name'), 0o644);
  fs.writeFileSync(master.file('var/lib/ganeti/ssconf_cluster_name'), 'garbage\n');
  const r = ok(['redist-conf']);
  assert.equal(r.stderr, '');
  await waitFor(() => ssconf(master, 'cluster_name') === 'cluster2.test\n');
  assert.equal(ok(['redist-conf', '--submit']).stderr.replace(/\d+/, 'N'), 'JobID: N\n');
});

test('command: upstream\'s output per node, -M, --failure-only, unknown nodes', () => {
  let r = ok(['command', 'echo out; echo err >&2; exit 3']);
  assert.equal(r.stdout, `${DASHES}\nnode: node1\nout\nerr\n\nreturn code = 3\n`);
  r = ok(['command', '-M', 'printf', "'a\\nb\\n'"]);
  assert.equal(r.stdout, `${DASHES}\nnode1: a\nnode1: b\nreturn code = 0\n`);
  assert.equal(ok(['command', '--failure-only', 'true']).stdout, '');
  // The command runs in the node's root directory (/ on a real node).
  assert.equal(ok(['command', 'pwd']).stdout, `${DASHES}\nnode: node1\n${master.root}\n\nreturn code = 0\n`);
  r = master.run('gnt-cluster', ['command', '-n', 'nosuch', 'true']);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'Failure: prerequisites not met for this operation:\nerror type: unknown_entity, error details:\nNode name nosuch not found\n');
  assert.equal(master.run('gnt-cluster', ['command']).stderr, 'Error: Command command expects at least 1 argument(s)\n');
});

test('copyfile on a one-node cluster: nothing to copy to; a missing file is an error', () => {
  const file = master.file('etc/ganeti/one.txt');
  fs.writeFileSync(file, 'x\n');
  const r = ok(['copyfile', file]);
  assert.equal(r.stdout + r.stderr, '');
  const missing = master.run('gnt-cluster', ['copyfile', '/nonexistent/file']);
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr, "Failure: prerequisites not met for this operation:\nerror type: wrong_input, error details:\nNo such filename '/nonexistent/file'\n");
});

test('run_command and copy_file procedures: only signed requests, paths kept under the node root', async () => {
  const rpc = master.rpcClient();
  const target = { name: master.name, address: master.ip, port: 1811 };
  try {
    let r = await rpc.call(target, 'run_command', ['exit 7']);
    assert.deepEqual(r.ok && r.payload, { exit_code: 7, output: '' });
    r = await rpc.call(target, 'run_command', ['echo started; sleep 10', 0.5]);
    assert.ok(r.ok);
    assert.equal((r.payload as { exit_code: number }).exit_code, 124);
    const bytes = Buffer.from([0, 1, 2, 0xff, 0xfe, 10, 13]);
    const zlib = await import('node:zlib');
    r = await rpc.call(target, 'copy_file', ['/srv/new-dir/bin.dat', [1, zlib.deflateSync(bytes).toString('base64')], 0o600]);
    assert.ok(r.ok, !r.ok ? r.error : '');
    assert.deepEqual(fs.readFileSync(master.file('srv/new-dir/bin.dat')), bytes);
    assert.equal(fs.statSync(master.file('srv/new-dir/bin.dat')).mode & 0o777, 0o600);
    for (const bad of ['relative/path', '/etc/../../escape', '']) {
      r = await rpc.call(target, 'copy_file', [bad, [0, 'x'], 0o644]);
      assert.ok(!r.ok, `copy_file ${bad} must fail`);
    }
    // A symlinked directory cannot lead out of the node's root.
    fs.symlinkSync(cluster.base, master.file('srv/out'));
    r = await rpc.call(target, 'copy_file', ['/srv/out/escaped', [0, 'x'], 0o644]);
    assert.ok(!r.ok);
    assert.match(r.ok ? '' : r.error, /outside the node's root/);
    assert.ok(!fs.existsSync(path.join(cluster.base, 'escaped')));
  } finally {
    rpc.close();
  }
  // Unsigned requests never run (over TLS: the node's certificate is not what is checked here).
  const status = await new Promise<number | undefined>((resolve, reject) => {
    const req = https.request({ host: master.ip, port: 1811, method: 'POST', path: '/run_command', rejectUnauthorized: false }, (res) => resolve(res.statusCode));
    req.on('error', reject);
    req.end(JSON.stringify(['touch /tmp/should-not-exist']));
  });
  assert.equal(status, 401);
});

// ---------------------------------------------------------------------------
// With a second node (needs gnt-node add).

let node2: VirtualNode | null = null;
let joinError = '';

test('a second node joins (candidate pool of 1: it stays a regular node)', () => {
  ok(['modify', '-C', '1']);
  try {
    node2 = cluster.join(master, 'node2');
  } catch (err) {
    joinError = (err as Error).message;
  }
  if (!node2) return;
  assert.equal(master.run('gnt-node', ['list', '--no-headers', '-o', 'name,role']).stdout, 'node1 M\nnode2 R\n');
});

const needsNode2 = (t: { skip(msg: string): void }): VirtualNode | null => {
  if (!node2) t.skip(`gnt-node add does not work yet: ${joinError}`);
  return node2;
};

test('modify -C: a larger pool promotes eligible nodes, which get the cluster key', async (t) => {
  const n2 = needsNode2(t);
  if (!n2) return;
  const r = ok(['modify', '-C', '3']);
  assert.match(r.stdout, / - INFO: Promoted nodes to master candidate role: node2\n/);
  assert.equal(master.run('gnt-node', ['list', '--no-headers', '-o', 'name,role']).stdout, 'node1 M\nnode2 C\n');
  await waitFor(() => fs.existsSync(n2.file('var/lib/ganeti/cluster-key')));
  assert.equal(infoValue(info(), 'candidate pool size'), '3');
  // A smaller pool demotes nobody.
  assert.equal(ok(['modify', '-C', '1']).stdout.includes('Note: more nodes are candidates (2) than desired (1)'), true);
});

test('command on two nodes: the master last', (t) => {
  if (!needsNode2(t)) return;
  const r = ok(['command', 'echo $GANETI_HOSTNAME']);
  assert.equal(r.stdout, `${DASHES}\nnode: node2\nnode2\n\nreturn code = 0\n${DASHES}\nnode: node1\nnode1\n\nreturn code = 0\n`);
  assert.equal(ok(['command', '-n', 'node2', 'true']).stdout, `${DASHES}\nnode: node2\n\nreturn code = 0\n`);
  assert.equal(ok(['command', '-g', 'default', '-M', 'echo x']).stdout, `${DASHES}\nnode2: x\nreturn code = 0\n${DASHES}\nnode1: x\nreturn code = 0\n`);
  assert.equal(ok(['command', '-g', 'nosuchgroup', 'true']).stdout, '');
});

test('copyfile to the other nodes: same path under each root, same bytes and mode', async (t) => {
  const n2 = needsNode2(t);
  if (!n2) return;
  const file = master.file('etc/ganeti/test.conf');
  fs.writeFileSync(file, 'key = value\n'.repeat(100));
  fs.chmodSync(file, 0o640);
  let r = ok(['copyfile', file]);
  assert.equal(r.stdout + r.stderr, '');
  assert.equal(fs.readFileSync(n2.file('etc/ganeti/test.conf'), 'utf8'), fs.readFileSync(file, 'utf8'));
  assert.equal(fs.statSync(n2.file('etc/ganeti/test.conf')).mode & 0o777, 0o640);
  // A relative name is taken from the current directory, as upstream's os.path.abspath.
  const bin = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7) % 256));
  fs.writeFileSync(master.file('srv/blob.bin'), bin);
  const rel = spawnSync(path.join(master.bin, 'gnt-cluster'), ['copyfile', '-n', 'node2', 'blob.bin'], { cwd: master.file('srv'), env: master.env, encoding: 'utf8' });
  assert.equal(rel.status, 0, rel.stderr);
  assert.deepEqual(fs.readFileSync(n2.file('srv/blob.bin')), bin);
  // A node that does not answer is reported, the command still succeeds (as upstream).
  n2.kill();
  r = master.run('gnt-cluster', ['copyfile', file]);
  assert.equal(r.code, 0);
  assert.match(r.stderr, new RegExp(`^Copy of file ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} to node node2 failed: `));
  assert.equal(n2.run('ganeti-noded', ['-b', n2.ip]).code, 0);
});

test('rename and redist-conf reach the other node\'s ssconf', async (t) => {
  const n2 = needsNode2(t);
  if (!n2) return;
  ok(['rename', '-f', 'cluster3.test']);
  await waitFor(() => ssconf(n2, 'cluster_name') === 'cluster3.test\n');
  fs.chmodSync(n2.file('var/lib/ganeti/ssconf_cluster_name'), 0o644);
  fs.writeFileSync(n2.file('var/lib/ganeti/ssconf_cluster_name'), 'stale\n');
  ok(['redist-conf']);
  await waitFor(() => ssconf(n2, 'cluster_name') === 'cluster3.test\n');
});
