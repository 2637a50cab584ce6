// Real Ganeti 3.0 clients against our master: Debian's ganeti-3.0 python tools, run with
// the same GANETI_ROOTDIR/GANETI_HOSTNAME as our node, read our ssconf and talk to our
// LUXI socket. Their output must equal ours. (`make test` installs ganeti-3.0 when it
// can; without it these tests are skipped, saying why.)
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { TestCluster, waitFor, type VirtualNode } from './cluster.ts';

const PYTHONPATH = '/usr/share/ganeti/3.0';
const available = fs.existsSync(`${PYTHONPATH}/ganeti/client/gnt_job.py`) && fs.existsSync('/usr/bin/python3');
const skip = available ? false : 'Debian package ganeti-3.0 not installed (make test installs it as root)';

let cluster: TestCluster;
let node: VirtualNode;

before(() => {
  if (!available) return;
  cluster = new TestCluster();
  node = cluster.init();
  node.run('gnt-debug', ['delay', '0.01']);
  node.run('gnt-debug', ['delay', '0']);
});
after(() => cluster?.destroy());

/** Run real Ganeti's gnt-* tool (python) on our node. */
function real(tool: string, args: string[]) {
  const module = tool.replace('-', '_');
  const r = spawnSync('/usr/bin/python3', ['-c', `import sys; sys.argv[0] = '${tool}'; from ganeti.client import ${module} as m; sys.exit(m.Main())`, ...args], {
    env: { ...node.env, PYTHONPATH },
    encoding: 'utf8',
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const SAME_OUTPUT: string[][] = [
  ['gnt-job', 'list'],
  ['gnt-job', 'list', '--no-headers', '--separator=:', '-o', 'id,status,priority,opstatus,opresult,summary'],
  ['gnt-job', 'list', '-o', 'id,status,start_ts,end_ts,received_ts,oplog,ops'],
  ['gnt-job', 'list', '--running'],
  ['gnt-job', 'list', '-F', 'status == "error"'],
  ['gnt-job', 'list', '-o', 'id,nosuchfield'],
  ['gnt-job', 'list-fields'],
  ['gnt-job', 'info', '1', '2', '3', '99999'],
  ['gnt-job', 'watch', '3'],
  ['gnt-job', 'cancel', '2'],
  ['gnt-cluster', 'getmaster'],
  ['gnt-cluster', 'version'],
  ['gnt-cluster', 'queue', 'info'],
  ['gnt-cluster', 'watcher', 'info'],
  ['gnt-node', 'list', '-o', 'name,pip,sip,role,master_candidate,drained,offline'],
  ['gnt-node', 'list-fields', 'name', 'role'],
  ['gnt-debug', 'locks'],
];

for (const [tool, ...args] of SAME_OUTPUT) {
  test(`${tool} ${args.join(' ')}: the same as Ganeti 3.0's own client`, { skip }, () => {
    const theirs = real(tool, args);
    const ours = node.run(tool, args);
    assert.deepEqual(ours, theirs);
  });
}

test('gnt-cluster info: the same except the key orders Python randomizes (VARIES.txt)', { skip }, () => {
  // Line sets, with list markers dropped: which dict key comes first varies between runs.
  const normalize = (text: string) => text.split('\n').map((l) => l.replace(/^(\s*)- /, '$1  ')).sort().join('\n');
  const theirs = real('gnt-cluster', ['info']);
  assert.equal(theirs.code, 0, theirs.stderr);
  assert.equal(normalize(node.run('gnt-cluster', ['info']).stdout), normalize(theirs.stdout));
});

test("Ganeti's client submits, follows and manages jobs through our master", { skip }, () => {
  assert.deepEqual(real('gnt-debug', ['delay', '0.01']), { code: 0, stdout: '', stderr: '' });
  const sub = real('gnt-debug', ['delay', '--submit', '--print-jobid', '1']);
  assert.equal(sub.code, 0, sub.stderr);
  const id = sub.stdout.trim();
  assert.equal(sub.stderr, `JobID: ${id}\n`);
  assert.equal(real('gnt-job', ['change-priority', '--priority', 'high', id]).code, 1); // running: no pending opcodes
  const wait = real('gnt-job', ['wait', id]);
  assert.deepEqual([wait.code, wait.stderr], [0, '']);
  assert.deepEqual(real('gnt-job', ['archive', id]), { code: 0, stdout: '', stderr: '' });
  assert.ok(fs.existsSync(node.file(`var/lib/ganeti/queue/archive/0/job-${id}`)));
  assert.deepEqual(real('gnt-cluster', ['queue', 'drain']).code, 0);
  const refused = real('gnt-debug', ['delay', '0.01']);
  assert.equal(refused.code, 1);
  assert.equal(refused.stderr, 'Unhandled Ganeti error: Queue drained\n');
  assert.deepEqual(real('gnt-cluster', ['queue', 'undrain']).code, 0);
  const pause = real('gnt-cluster', ['watcher', 'pause', '1h']);
  assert.equal(pause.code, 0, pause.stderr);
  assert.equal(node.run('gnt-cluster', ['watcher', 'info']).stdout, pause.stdout);
  assert.equal(real('gnt-cluster', ['watcher', 'continue']).stdout, 'The watcher is no longer paused.\n');
  const auto = real('gnt-job', ['autoarchive', 'all']);
  assert.match(auto.stdout, /^Archived \d+ jobs, 0 unchecked left\n$/);
});

test("Ganeti's own code reads a multi-node config.data (ConfigWriter.VerifyConfig finds nothing) and a joined node's ssconf", { skip }, async () => {
  const multi = new TestCluster();
  try {
    const master = multi.init('node1', 'multi.test', ['--master-ip', '127.0.0.254']);
    const node2 = multi.join(master, 'node2');
    assert.equal(master.run('gnt-group', ['add', 'extra']).code, 0);
    assert.equal(master.run('gnt-node', ['modify', '-D', 'yes', 'node2']).code, 0);
    assert.equal(master.run('gnt-cluster', ['add-tags', 'env:test']).code, 0);
    const config = master.file('var/lib/ganeti/config.data');
    // config.data follows the journal once changes pause.
    await waitFor(() => !fs.existsSync(master.file('var/lib/ganeti/config.journal')));
    const py = (node: VirtualNode, code: string) => spawnSync('/usr/bin/python3', ['-c', code], { env: { ...node.env, PYTHONPATH }, encoding: 'utf8' });
    const verify = py(master, [
      'from ganeti import config',
      `cw = config.ConfigWriter(cfg_file=${JSON.stringify(config)}, offline=True)`,
      'print(cw.VerifyConfig())',
      'print(sorted(n.name for n in cw.GetAllNodesInfo().values()), cw.GetNodeInfoByName("node2").drained, cw.GetClusterInfo().GetTags())',
    ].join('\n'));
    assert.equal(verify.stderr, '');
    assert.equal(verify.stdout, "[]\n['node1', 'node2'] True {'env:test'}\n");
    const ssconf = py(node2, 'from ganeti import ssconf\ns = ssconf.SimpleStore()\nprint(s.GetMasterNode(), s.GetNodeList(), s.GetOnlineNodeList(), s.GetClusterName())');
    assert.equal(ssconf.stderr, '');
    assert.equal(ssconf.stdout, "node1 ['node1', 'node2'] ['node1', 'node2'] multi.test\n");
  } finally {
    multi.destroy();
  }
});
