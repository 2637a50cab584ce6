// The node daemon as an operator meets it: its options, the node RPC over TLS with the
// cluster certificate (and plain HTTP in a --no-ssl cluster), a node serving another
// certificate refused, mlockall, powercycle recorded by the fake hypervisor, and a
// stopped noded that leaves its instances alone while the master carries on.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import tls from 'node:tls';
import crypto from 'node:crypto';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { noopOsMissing, TestCluster, waitFor, type VirtualNode } from './cluster.ts';
import { generateSelfSignedCertificate } from '../../src/util/x509.ts';

/** The certificate a noded serves, by its SHA-256 fingerprint. */
function servedFingerprint(node: VirtualNode): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: node.ip, port: 1811, rejectUnauthorized: false }, () => {
      resolve(s.getPeerCertificate().fingerprint256);
      s.end();
    });
    s.on('error', reject);
  });
}

/** Messages of a daemon's pino log. */
function logMessages(node: VirtualNode, daemon: string): string[] {
  return fs.readFileSync(node.file(`var/log/ganeti/${daemon}.log`), 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { msg: string }).msg);
}

async function stopNoded(node: VirtualNode): Promise<void> {
  const pid = node.pid('ganeti-noded');
  assert.ok(pid, 'noded runs');
  process.kill(pid, 'SIGTERM');
  await waitFor(() => node.pid('ganeti-noded') === null, 15_000);
}

function startNoded(node: VirtualNode, args: string[] = []): void {
  const r = node.run('ganeti-noded', ['-b', node.ip, ...args]);
  assert.equal(r.code, 0, r.stderr);
}

/** `gnt-node list` cells of one node. */
function nodeRow(master: VirtualNode, name: string, fields: string): string[] {
  const r = master.run('gnt-node', ['list', '--no-headers', '--separator=|', '-o', fields, name]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim().split('|');
}

describe('ganeti-noded options', () => {
  const cluster = new TestCluster();
  const node = cluster.addNode('lonely');
  after(() => cluster.destroy());

  const usageError = (args: string[], message: string) => {
    const r = node.run('ganeti-noded', args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr, `Usage: ganeti-noded [options]\n\nganeti-noded: error: ${message}\n`);
  };

  test('a bad option or value: exit 2 and what is wrong', () => {
    usageError(['--bogus'], 'no such option: --bogus');
    usageError(['-z'], 'no such option: -z');
    usageError(['-p'], '-p option requires an argument');
    usageError(['-p', 'abc'], "option -p: invalid integer value: 'abc'");
    usageError(['-p', '70000'], "option -p: invalid port number: '70000'");
    usageError(['--max-clients', '0'], "option --max-clients: must be at least 1, not '0'");
    usageError(['--syslog', 'maybe'], "option --syslog: invalid choice: 'maybe' (choose from 'yes', 'no', 'only')");
    usageError(['extra'], 'unexpected argument extra');
    assert.equal(node.pid('ganeti-noded'), null);
  });

  test("upstream's start-up refusals: exit 1", () => {
    const both = node.run('ganeti-noded', ['-b', node.ip, '-i', 'lo']);
    assert.deepEqual([both.code, both.stderr], [1, `Can't specify both, bind address (${node.ip}) and bind interface (lo)\n`]);
    const noIf = node.run('ganeti-noded', ['-i', 'nosuchif0']);
    assert.deepEqual([noIf.code, noIf.stderr], [1, 'Failed to find IP for interface nosuchif0\n']);
    const noKey = node.run('ganeti-noded', ['-K', '/nonexistent/key.pem']);
    assert.deepEqual([noKey.code, noKey.stderr], [1, "SSL key file '/nonexistent/key.pem' was not found\n"]);
    fs.mkdirSync(node.file('etc'), { recursive: true });
    fs.writeFileSync(node.file('etc/key-only.pem'), generateSelfSignedCertificate().keyPem, { mode: 0o600 });
    const noCert = node.run('ganeti-noded', ['-K', node.file('etc/key-only.pem'), '-C', '/nonexistent/cert.pem']);
    assert.deepEqual([noCert.code, noCert.stderr], [1, "SSL certificate file '/nonexistent/cert.pem' was not found\n"]);
  });

  test('--help lists every option of the manual; --version', () => {
    const help = node.run('ganeti-noded', ['--help']);
    assert.equal(help.code, 0);
    for (const opt of ['-f, --foreground', '-d, --debug', '--syslog', '-p, --port', '-b, --bind', '-i, --interface', '--max-clients', '--no-ssl', '-K, --ssl-key', '-C, --ssl-cert', '--no-mlock']) {
      assert.ok(help.stdout.includes(opt), `${opt} in --help`);
    }
    assert.match(node.run('ganeti-noded', ['--version']).stdout, /^ganeti-noded \(ganeti-ts\) \d/);
  });

  test('-p, -K/-C and --no-mlock: a noded in no cluster serves the given certificate on the given port', async () => {
    const { keyPem, certPem } = generateSelfSignedCertificate({ commonName: 'lonely.test' });
    fs.mkdirSync(node.file('etc'), { recursive: true });
    fs.writeFileSync(node.file('etc/key.pem'), keyPem, { mode: 0o600 });
    fs.writeFileSync(node.file('etc/cert.pem'), certPem);
    startNoded(node, ['-p', '18111', '-K', node.file('etc/key.pem'), '-C', node.file('etc/cert.pem'), '--no-mlock']);
    try {
      const fp = await new Promise<string>((resolve, reject) => {
        const s = tls.connect({ host: node.ip, port: 18111, rejectUnauthorized: false }, () => {
          resolve(s.getPeerCertificate().fingerprint256);
          s.end();
        });
        s.on('error', reject);
      });
      assert.equal(fp, new crypto.X509Certificate(certPem).fingerprint256);
      const log = logMessages(node, 'ganeti-noded');
      assert.ok(log.includes('Memory not locked (--no-mlock)'), log.join('\n'));
      assert.ok(log.includes('serving the certificate given with -K/-C'), log.join('\n'));
    } finally {
      await stopNoded(node);
    }
  });
});

describe('a cluster with TLS (the default)', () => {
  const cluster = new TestCluster();
  let master: VirtualNode;
  let node2: VirtualNode;
  before(() => {
    master = cluster.init('node1');
    node2 = cluster.join(master, 'node2');
  });
  after(() => cluster.destroy());

  test('one cluster certificate: server.pem (0600) on every node, served by every noded', async () => {
    const pem = master.file('var/lib/ganeti/server.pem');
    assert.equal(fs.statSync(pem).mode & 0o777, 0o600);
    assert.match(fs.readFileSync(pem, 'utf8'), /^-----BEGIN PRIVATE KEY-----\n[\s\S]*-----BEGIN CERTIFICATE-----\n/);
    assert.deepEqual(fs.readFileSync(node2.file('var/lib/ganeti/server.pem')), fs.readFileSync(pem));
    assert.equal(fs.statSync(node2.file('var/lib/ganeti/server.pem')).mode & 0o777, 0o600);
    assert.ok(!fs.existsSync(master.file('var/lib/ganeti/rpc-no-ssl')));
    const cert = new crypto.X509Certificate(fs.readFileSync(pem, 'utf8'));
    assert.equal(cert.subject, 'CN=ganeti.example.com');
    assert.ok(new Date(cert.validTo).getTime() - Date.now() > 4 * 365 * 86_400_000);
    assert.equal(await servedFingerprint(master), cert.fingerprint256);
    assert.equal(await servedFingerprint(node2), cert.fingerprint256);
    // Before joining node2 served a certificate of its own; the join brought the cluster's.
    const log = logMessages(node2, 'ganeti-noded');
    const own = log.findIndex((l) => l.startsWith('no cluster certificate'));
    const joined = log.indexOf('joined cluster');
    assert.ok(own >= 0 && joined > own && log.indexOf('serving the cluster certificate') > joined, log.join('\n'));
  });

  test('the RPC works over TLS, a plain HTTP request gets nowhere, and the cluster is healthy', async () => {
    const rpc = master.rpcClient();
    try {
      const r = await rpc.call({ name: node2.name, address: node2.ip, port: 1811 }, 'version', []);
      assert.ok(r.ok, !r.ok ? r.error : '');
    } finally {
      rpc.close();
    }
    const plain = await new Promise<string>((resolve) => {
      const req = http.request({ host: node2.ip, port: 1811, method: 'POST', path: '/version' }, (res) => resolve(`HTTP ${res.statusCode}`));
      req.on('error', (e) => resolve(e.message));
      req.end('[]');
    });
    assert.doesNotMatch(plain, /^HTTP 200/);
    assert.notEqual(nodeRow(master, 'node2', 'mfree')[0], '?');
    const verify = master.run('gnt-cluster', ['verify']);
    assert.doesNotMatch(verify.stdout, /server\.pem|not this cluster's|Certificate/);
  });

  test('noded is locked in memory (mlockall) and says so', () => {
    for (const n of [master, node2]) {
      assert.ok(logMessages(n, 'ganeti-noded').includes('Memory lock set (mlockall)'), `${n.name}'s log`);
      const status = fs.readFileSync(`/proc/${n.pid('ganeti-noded')}/status`, 'utf8');
      assert.ok(Number(/VmLck:\s+(\d+)/.exec(status)![1]) > 0, status);
    }
    assert.ok(fs.existsSync(master.file('var/run/ganeti/ganeti-mlock.node')) || fs.existsSync(master.file('var/lib/ganeti/ganeti-mlock.node')));
  });

  test('a node serving another certificate is refused, with a clear error', async () => {
    await stopNoded(node2);
    const { keyPem, certPem } = generateSelfSignedCertificate();
    fs.mkdirSync(node2.file('etc/ganeti'), { recursive: true });
    fs.writeFileSync(node2.file('etc/ganeti/other.pem'), keyPem + certPem, { mode: 0o600 });
    startNoded(node2, ['-K', node2.file('etc/ganeti/other.pem'), '-C', node2.file('etc/ganeti/other.pem')]);
    try {
      const rpc = master.rpcClient();
      const r = await rpc.call({ name: node2.name, address: node2.ip, port: 1811 }, 'version', []);
      rpc.close();
      assert.ok(!r.ok);
      assert.match(r.error, /^Error while contacting node node2 \(.*\): Node node2 presented a certificate that is not this cluster's \(.*\); refusing to talk to it$/);
      assert.deepEqual(nodeRow(master, 'node2', 'name,mfree'), ['node2', '?']);
      const verify = master.run('gnt-cluster', ['verify']);
      assert.notEqual(verify.code, 0);
      assert.match(verify.stdout, /ERROR: node node2: .*presented a certificate that is not this cluster's/);
    } finally {
      await stopNoded(node2);
      startNoded(node2);
    }
    await waitFor(() => nodeRow(master, 'node2', 'mfree')[0] !== '?', 15_000);
  });

  test('a noded without TLS in a TLS cluster: the master says so', async () => {
    await stopNoded(node2);
    startNoded(node2, ['--no-ssl']);
    try {
      const rpc = master.rpcClient();
      const r = await rpc.call({ name: node2.name, address: node2.ip, port: 1811 }, 'version', []);
      rpc.close();
      assert.ok(!r.ok);
      assert.match(r.error, /Node node2 does not answer with TLS \(is its ganeti-noded running with --no-ssl\? this cluster's node RPC uses TLS\)/);
    } finally {
      await stopNoded(node2);
      startNoded(node2);
    }
  });

  test('gnt-node powercycle: scheduled, recorded by the fake hypervisor; the master only with --force', async () => {
    const record = (n: VirtualNode) => n.file('var/run/ganeti/fake-hypervisor/.powercycle');
    const r = master.run('gnt-node', ['powercycle', '--yes', 'node2']);
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, '', 'Reboot scheduled in 5 seconds\n']);
    await waitFor(() => fs.existsSync(record(node2)), 15_000);
    const [entry] = fs.readFileSync(record(node2), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { time: number; hvparams: object });
    assert.ok(Math.abs(entry.time - Date.now() / 1000) < 30);
    assert.equal(typeof entry.hvparams, 'object');
    assert.equal(node2.pid('ganeti-noded') !== null, true, 'nothing was rebooted');

    const refused = master.run('gnt-node', ['powercycle', '--yes', 'node1']);
    assert.deepEqual([refused.code, refused.stderr], [1,
      'Failure: prerequisites not met for this operation:\nerror type: wrong_input, error details:\nThe node is the master and the force parameter was not set\n']);
    const forced = master.run('gnt-node', ['powercycle', '--yes', '--force', 'node1']);
    assert.deepEqual([forced.code, forced.stderr], [0, 'Reboot scheduled in 5 seconds\n']);
    await waitFor(() => fs.existsSync(record(master)), 15_000);

    // Without --yes it asks on the terminal; with none (a new session) the answer is no.
    const asked = spawnSync('setsid', ['-w', path.join(cluster.bin, 'gnt-node'), 'powercycle', 'node2'], { env: master.env, encoding: 'utf8' });
    assert.equal(asked.status, 2);
    assert.equal(fs.readFileSync(record(node2), 'utf8').trim().split('\n').length, 1);

    const unknown = master.run('gnt-node', ['powercycle', '--yes', 'nosuchnode']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /Node 'nosuchnode' not known/);
  });
});

describe('a cluster without TLS (gnt-cluster init --no-ssl)', () => {
  const cluster = new TestCluster();
  let master: VirtualNode;
  let node2: VirtualNode;
  before(() => {
    master = cluster.init('node1', 'plain.test', ['--no-ssl']);
    node2 = cluster.join(master, 'node2', [], ['--no-ssl']);
  });
  after(() => cluster.destroy());

  test('every node knows its cluster talks plain HTTP, and the RPC works', async () => {
    for (const n of [master, node2]) {
      assert.ok(fs.existsSync(n.file('var/lib/ganeti/rpc-no-ssl')), n.name);
      assert.ok(!fs.existsSync(n.file('var/lib/ganeti/server.pem')), n.name);
    }
    const answer = await new Promise<number | undefined>((resolve, reject) => {
      const req = http.request({ host: node2.ip, port: 1811, method: 'POST', path: '/version' }, (res) => resolve(res.statusCode));
      req.on('error', reject);
      req.end('[]');
    });
    assert.equal(answer, 401, 'plain HTTP, and still authenticated');
    assert.notEqual(nodeRow(master, 'node2', 'mfree')[0], '?');
    const rpc = master.rpcClient();
    const r = await rpc.call({ name: node2.name, address: node2.ip, port: 1811 }, 'version', []);
    rpc.close();
    assert.ok(r.ok, !r.ok ? r.error : '');
  });

  test('a noded restarted without --no-ssl still serves plain HTTP (its cluster says so)', async () => {
    await stopNoded(node2);
    startNoded(node2);
    assert.ok(logMessages(node2, 'ganeti-noded').some((l) => l.includes('serving without TLS')));
    assert.notEqual(nodeRow(master, 'node2', 'mfree')[0], '?');
  });
});

describe('a stopped noded', { skip: noopOsMissing }, () => {
  const cluster = new TestCluster();
  let master: VirtualNode;
  let node2: VirtualNode;
  before(() => {
    master = cluster.init('node1');
    node2 = cluster.join(master, 'node2');
  });
  after(() => cluster.destroy());

  test('leaves its instances alone; the master reports the node unreachable and carries on', async () => {
    const add = master.run('gnt-instance', ['add', '-t', 'diskless', '-o', 'noop', '--no-name-check', '--no-ip-check', '-n', 'node2', 'inst1']);
    assert.equal(add.code, 0, add.stderr);
    const state = node2.file('var/run/ganeti/fake-hypervisor/inst1');
    assert.ok(fs.existsSync(state));
    await stopNoded(node2);
    assert.ok(fs.existsSync(state), 'the instance runs on');
    assert.deepEqual(nodeRow(master, 'node2', 'name,mfree,pinst_cnt'), ['node2', '?', '1']);
    const status = master.run('gnt-instance', ['list', '--no-headers', '-o', 'name,status']);
    assert.match(status.stdout, /^inst1\s+ERROR_nodedown$/m);
    const verify = master.run('gnt-cluster', ['verify']);
    assert.notEqual(verify.code, 0);
    assert.match(verify.stdout, /ERROR: node node2: .*(ECONNREFUSED|connect)/);
    const delay = master.run('gnt-debug', ['delay', '0.01']);
    assert.equal(delay.code, 0, delay.stderr);
    startNoded(node2);
    await waitFor(() => /^inst1\s+running$/m.test(master.run('gnt-instance', ['list', '--no-headers', '-o', 'name,status']).stdout), 15_000);
  });
});
