// ganeti-cleaner through its symlink on a node's directory tree: the files it removes
// (archived jobs, watcher files of removed groups, expired import/export certificates)
// aged by setting their modification times back, what it keeps, its log files, and
// its usage. It needs no running daemon, as upstream's script needs none.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { BIN } from './cluster.ts';

// Self-signed certificates made with `openssl ca -startdate/-enddate`.
const EXPIRED_CERT = `-----BEGIN CERTIFICATE-----
MIIBIDCByAIBATAKBggqhkjOPQQDAjAdMRswGQYDVQQDDBJnYW5ldGkuZXhhbXBs
ZS5jb20wHhcNMjAwMTAxMDAwMDAwWhcNMjAwMTAyMDAwMDAwWjAdMRswGQYDVQQD
DBJnYW5ldGkuZXhhbXBsZS5jb20wWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAASQ
8jVJTFFZZ8KbR3rCbcVLw5OSb5PwUU0z+2gnDgmob7vWE3x9wgXT9ErqFYoDN6Ep
NPV4QoCuaXxyyv6Eh/qWMAoGCCqGSM49BAMCA0cAMEQCICJXA/wrffr74KmiR3zL
u3mrCW2oBmifqjmED86Xf+k0AiA1uJKtrjc285MMutr3r9YSqiolLDdOin0Uhgeb
RjqmUA==
-----END CERTIFICATE-----
`; // valid 2020-01-01 to 2020-01-02
const VALID_CERT = `-----BEGIN CERTIFICATE-----
MIIBIjCBygIBAjAKBggqhkjOPQQDAjAdMRswGQYDVQQDDBJnYW5ldGkuZXhhbXBs
ZS5jb20wIBcNMjAwMTAxMDAwMDAwWhgPMjEyMDAxMDEwMDAwMDBaMB0xGzAZBgNV
BAMMEmdhbmV0aS5leGFtcGxlLmNvbTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IA
BHNMP1N3lOFRr/3ZhzebqxaPg6do5Xg2cyQwqCUHPyR2h+esVKWQm9Pflv3d90+n
UJjJDyAaLN495POEfYLjWjEwCgYIKoZIzj0EAwIDRwAwRAIgaPnTGCa4vXmg0kqP
sGmGQoaRty/2Mfh/mhsi9ZYdzZgCIBzTRy14h3jp1EidVSwVEUgEPMbFCdK51bdH
6gBjQDZ4
-----END CERTIFICATE-----
`; // valid 2020-01-01 to 2120-01-01

const base = fs.mkdtempSync(path.join(os.tmpdir(), 'gnt-cleaner-'));
after(() => fs.rmSync(base, { recursive: true, force: true }));
const bin = path.join(base, 'bin');
spawnSync(BIN, ['links', bin]);

const DAY = 86_400_000;
const GROUP = '0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0';

function makeNode(name: string) {
  const root = path.join(base, name);
  const file = (rel: string) => path.join(root, rel);
  const put = (rel: string, content = 'x', ageDays = 0) => {
    fs.mkdirSync(path.dirname(file(rel)), { recursive: true });
    fs.writeFileSync(file(rel), content);
    const t = new Date(Date.now() - ageDays * DAY);
    fs.utimesSync(file(rel), t, t);
  };
  const run = (args: string[]) => {
    const r = spawnSync(path.join(bin, 'ganeti-cleaner'), args, { env: { GANETI_ROOTDIR: root, GANETI_HOSTNAME: name, TZ: 'UTC', PATH: '/usr/bin:/bin' }, encoding: 'utf8' });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const logs = (dir: string) => fs.readdirSync(file(`var/log/ganeti/${dir}`)).sort();
  const lastLog = (dir: string) => fs.readFileSync(file(`var/log/ganeti/${dir}/${logs(dir).at(-1)}`), 'utf8');
  return { root, file, put, run, logs, lastLog, exists: (rel: string) => fs.existsSync(file(rel)) };
}

test('master: archived jobs older than 21 days go, younger ones and files outside the job directories stay', () => {
  const n = makeNode('node1');
  n.put('var/lib/ganeti/ssconf_master_node', 'node1\n');
  n.put('var/lib/ganeti/queue/archive/0/job-1', '{}', 22.1);
  n.put('var/lib/ganeti/queue/archive/0/job-2', '{}', 21.9); // 21 whole days: not more than 21
  n.put('var/lib/ganeti/queue/archive/0/job-3', '{}');
  n.put('var/lib/ganeti/queue/archive/1/deeper/job-10001', '{}', 40);
  n.put('var/lib/ganeti/queue/archive/stray', '{}', 40); // depth 1: not a job directory
  n.put('var/lib/ganeti/queue/job-4', '{}', 40); // the live queue is not the cleaner's
  const r = n.run(['master']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout + r.stderr, '', 'everything goes to the log');
  assert.ok(!n.exists('var/lib/ganeti/queue/archive/0/job-1'));
  assert.ok(!n.exists('var/lib/ganeti/queue/archive/1/deeper/job-10001'));
  for (const kept of ['archive/0/job-2', 'archive/0/job-3', 'archive/stray', 'job-4']) assert.ok(n.exists(`var/lib/ganeti/queue/${kept}`), kept);
  const [logName] = n.logs('master-cleaner');
  assert.match(logName, new RegExp(`^cleaner-\\d{4}-\\d\\d-\\d\\dT\\d\\d_\\d\\d\\.\\d+\\.log$`));
  const log = n.lastLog('master-cleaner');
  assert.match(log, /^Cleaner started at \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d UTC \d{4}\n/);
  assert.ok(log.includes(`removed '${n.file('var/lib/ganeti/queue/archive/0/job-1')}'\n`), log);
  assert.ok(!log.includes('job-2'), log);
});

test('node: expired certificates, and watcher files of groups gone for 21 days', () => {
  const n = makeNode('node2');
  n.put('var/lib/ganeti/ssconf_master_node', 'node1\n');
  n.put(`var/lib/ganeti/watcher.${GROUP}.data`, '{}', 30);
  n.put(`var/lib/ganeti/watcher.${GROUP}.instance-status`, '', 30);
  n.put('var/lib/ganeti/watcher.1111-2222-3333-4444.data', '{}'); // a group still watched
  n.put('var/lib/ganeti/watcher.pause', '1\n', 30); // not a group's file
  n.put('var/lib/ganeti/queue/archive/0/job-1', '{}', 40); // the master's business
  n.put('var/run/ganeti/crypto/x509-old/cert', EXPIRED_CERT);
  n.put('var/run/ganeti/crypto/x509-old/key', 'key');
  n.put('var/run/ganeti/crypto/x509-shared/cert', EXPIRED_CERT);
  n.put('var/run/ganeti/crypto/x509-shared/other', 'stays');
  n.put('var/run/ganeti/crypto/x509-new/cert', VALID_CERT);
  n.put('var/run/ganeti/crypto/x509-new/key', 'key');
  n.put('var/run/ganeti/crypto/x509-junk/cert', 'not a certificate');
  n.put('var/run/ganeti/crypto/x509-empty/key', 'no cert');
  const r = n.run(['node']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout + r.stderr, '');
  assert.ok(!n.exists(`var/lib/ganeti/watcher.${GROUP}.data`));
  assert.ok(!n.exists(`var/lib/ganeti/watcher.${GROUP}.instance-status`));
  assert.ok(n.exists('var/lib/ganeti/watcher.1111-2222-3333-4444.data'));
  assert.ok(n.exists('var/lib/ganeti/watcher.pause'));
  assert.ok(n.exists('var/lib/ganeti/queue/archive/0/job-1'));
  assert.ok(!n.exists('var/run/ganeti/crypto/x509-old'), 'an expired certificate goes with its directory');
  assert.ok(!n.exists('var/run/ganeti/crypto/x509-shared/cert'));
  assert.ok(n.exists('var/run/ganeti/crypto/x509-shared/other'), 'a directory with other files stays');
  for (const kept of ['x509-new/cert', 'x509-new/key', 'x509-junk/cert', 'x509-empty/key']) assert.ok(n.exists(`var/run/ganeti/crypto/${kept}`), kept);
  const log = n.lastLog('cleaner');
  const crypto = n.file('var/run/ganeti/crypto');
  for (const line of [
    `${crypto}/x509-old/cert: Certificate is expired (valid from 2020-01-01 00:00:00 to 2020-01-02 00:00:00)`,
    `removed '${crypto}/x509-old/cert'`,
    `removed '${crypto}/x509-old/key'`,
    `rmdir: removing directory, '${crypto}/x509-old'`,
    `removed '${crypto}/x509-shared/cert'`,
    `removed '${n.file(`var/lib/ganeti/watcher.${GROUP}.data`)}'`,
  ]) assert.ok(log.includes(`${line}\n`), `${line}\n---\n${log}`);
  assert.match(log, /Unable to check .*x509-junk\/cert: /);
  assert.match(log, /Unable to read .*x509-empty\/cert: /);
});

test('a node in no cluster: only expired certificates are removed', () => {
  const n = makeNode('node3');
  n.put(`var/lib/ganeti/watcher.${GROUP}.data`, '{}', 30);
  n.put('var/lib/ganeti/queue/archive/0/job-1', '{}', 40);
  n.put('var/run/ganeti/crypto/x509-old/cert', EXPIRED_CERT);
  assert.equal(n.run(['node']).code, 0);
  assert.equal(n.run(['master']).code, 0);
  assert.ok(n.exists(`var/lib/ganeti/watcher.${GROUP}.data`));
  assert.ok(n.exists('var/lib/ganeti/queue/archive/0/job-1'));
  assert.ok(!n.exists('var/run/ganeti/crypto/x509-old'));
});

test('the cleaner keeps its newest 50 logs', () => {
  const n = makeNode('node4');
  for (let i = 0; i < 55; i++) n.put(`var/log/ganeti/cleaner/cleaner-2020-01-${String(i % 28 + 1).padStart(2, '0')}T01_${String(i).padStart(2, '0')}.1.log`, 'old');
  assert.equal(n.run(['node']).code, 0);
  const logs = n.logs('cleaner');
  assert.equal(logs.length, 50);
  assert.ok(!logs[0].startsWith('cleaner-2020-01-01T01_00'), 'the oldest went');
  assert.ok(!logs.at(-1)!.startsWith('cleaner-2020'), 'this run\'s log is kept');
  assert.match(n.lastLog('cleaner'), /removed '.*cleaner-2020-01-01T01_00\.1\.log'/);
});

test('usage: exactly one argument, node or master', () => {
  const n = makeNode('node5');
  for (const args of [[], ['nodes'], ['node', 'master']]) {
    const r = n.run(args);
    assert.equal(r.code, 1, args.join(' '));
    assert.equal(r.stdout, 'Usage: ganeti-cleaner node|master\n');
  }
  assert.deepEqual(n.run(['--help']), { code: 0, stdout: 'Usage: ganeti-cleaner node|master\n', stderr: '' });
  assert.equal(n.run(['--help-completion']).stdout, 'choices=node,master 1 1\n');
  assert.ok(!n.exists('var/log/ganeti/cleaner'), 'no log without a run');
});
