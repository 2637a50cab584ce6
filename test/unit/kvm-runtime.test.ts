// The kvm hypervisor's node files: a pid file counts only while its process is a qemu of
// that instance (/proc/<pid>/cmdline), runtime files in upstream's [cmd, nics, hvparams,
// disks] form, socket paths that fit a unix socket, and the local console attachment.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { spawn } from 'node:child_process';
import { KvmFiles, parseRuntime, pidInfo } from '../../src/node/hypervisor/kvm/runtime.ts';
import { attachConsole, consoleHostIsLocal, localConsoleSocket, NOT_CONNECTED } from '../../src/node/hypervisor/kvm/console-attach.ts';
import { nodePaths } from '../../src/util/paths.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kvm-rt-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('pid files: alive only while the process carries "-name <instance>"', async () => {
  const files = new KvmFiles(nodePaths(path.join(dir, 'node1')));
  files.ensureDirs();
  // A stand-in for qemu: its command line has -name, -m and -smp as qemu's has.
  const child = spawn('/bin/sh', ['-c', 'sleep 30', 'sh', '-name', 'vm9', '-m', '96', '-smp', '2,cores=2'], { stdio: 'ignore' });
  await new Promise((r) => child.once('spawn', r));
  try {
    assert.deepEqual(pidInfo(child.pid!), { name: 'vm9', memory: 96, vcpus: 2 });
    assert.equal(pidInfo(process.pid), null, 'no -name: not a ganeti qemu');
    fs.writeFileSync(files.pidFile('vm9'), `${child.pid}\n`);
    fs.writeFileSync(files.pidFile('other'), `${child.pid}\n`);
    assert.equal(files.alivePid('vm9'), child.pid);
    assert.equal(files.alivePid('other'), null, 'a pid of another instance is not this one');
    assert.deepEqual(files.listPidFiles(), ['other', 'vm9']);
  } finally {
    child.kill('SIGKILL');
  }
  await new Promise((r) => child.once('exit', r));
  assert.equal(files.alivePid('vm9'), null, 'a dead pid is no instance');
  files.removeRuntimeFiles('vm9');
  assert.ok(!fs.existsSync(files.pidFile('vm9')));
  assert.throws(() => files.pidFile('../x'), /Invalid instance name/);
});

test('runtime files: upstream\'s 4-tuple, and the 3-tuple of older runtimes', async () => {
  const files = new KvmFiles(nodePaths(path.join(dir, 'node2')));
  files.ensureDirs();
  await files.writeRuntime('vm1', [['/usr/bin/kvm', '-name', 'vm1'], [{ mac: 'aa:00:00:00:00:01' }], { acpi: true }, [[{ uuid: 'u' }, '/l', null]]]);
  assert.deepEqual(files.readRuntime('vm1'), [['/usr/bin/kvm', '-name', 'vm1'], [{ mac: 'aa:00:00:00:00:01' }], { acpi: true }, [[{ uuid: 'u' }, '/l', null]]]);
  assert.equal((fs.statSync(files.runtimeFile('vm1')).mode & 0o777), 0o600);
  assert.deepEqual(parseRuntime('[["kvm"], [], {"a": 1}]'), [['kvm'], [], { a: 1 }, []]);
  assert.throws(() => parseRuntime('{"x": 1}'), /Invalid KVM runtime data/);
  assert.throws(() => files.readRuntime('none'), /Failed to load KVM runtime file/);
});

test('sockets: a root too deep for a unix socket path gets a private short directory, reused while valid', () => {
  const deep = path.join(dir, 'x'.repeat(60), 'node3');
  const files = new KvmFiles(nodePaths(deep));
  files.ensureDirs();
  const sock = files.qmpSocket('instance1.example.com');
  assert.ok(sock.length <= 107, sock);
  assert.equal(fs.realpathSync(path.dirname(sock)), fs.realpathSync(files.ctrlDir));
  const short = path.dirname(path.dirname(sock));
  assert.match(path.basename(short), /^gnt-kvm-/);
  const st = fs.lstatSync(short);
  assert.ok(st.isDirectory() && !st.isSymbolicLink());
  assert.equal(st.mode & 0o777, 0o700, 'private');
  assert.equal(fs.readFileSync(files.socketDirRecord, 'utf8').trim(), short, 'recorded under the node\'s run directory');
  // Reused (another KvmFiles of the same node, e.g. after a restart of noded).
  assert.equal(new KvmFiles(nodePaths(deep)).qmpSocket('instance1.example.com'), sock);
  // Opened to others, or replaced by someone else's link: a fresh private directory.
  fs.chmodSync(short, 0o755);
  const sock2 = files.qmpSocket('instance1.example.com');
  assert.notEqual(path.dirname(path.dirname(sock2)), short);
  fs.rmSync(short, { recursive: true });
  const short2 = path.dirname(path.dirname(sock2));
  fs.rmSync(short2, { recursive: true });
  fs.symlinkSync(files.ctrlDir, short2);
  const sock3 = files.qmpSocket('instance1.example.com');
  assert.notEqual(path.dirname(path.dirname(sock3)), short2, 'a symlink in /tmp is never taken for ours');
  fs.unlinkSync(short2);
  // Its link inside, if gone, is made again.
  fs.unlinkSync(path.dirname(sock3));
  assert.equal(files.qmpSocket('instance1.example.com'), sock3);
  assert.equal(fs.realpathSync(path.dirname(sock3)), fs.realpathSync(files.ctrlDir));
  fs.rmSync(path.dirname(path.dirname(sock3)), { recursive: true });
  const shallow = new KvmFiles(nodePaths(path.join(dir, 'n4')));
  assert.equal(path.dirname(shallow.serialSocket('vm1')), shallow.ctrlDir);
});

test('console: a local serial socket is attached directly, output copied, input sent', async () => {
  const sock = path.join(dir, 'vm1.serial');
  let received = '';
  const server = net.createServer((c) => {
    c.write('GANETI-GUEST-READY vm1 tick 1\r\n');
    c.on('data', (d) => {
      received += d;
      c.end('bye\r\n');
    });
  });
  await new Promise<void>((r) => server.listen(sock, r));
  const consoleDict = { kind: 'ssh', host: 'node1', command: ['/usr/bin/socat', 'STDIO,raw,echo=0,escape=0x1d', `UNIX-CONNECT:${sock}`] };
  const real = { root: '/', hostname: 'node1', virtual: false };
  assert.equal(localConsoleSocket(consoleDict, real), sock);
  assert.equal(localConsoleSocket({ ...consoleDict, host: 'node2' }, real), null, 'another node: ssh, whatever socket is here');
  assert.equal(localConsoleSocket({ ...consoleDict, command: ['/usr/bin/socat', 'STDIO', 'UNIX-CONNECT:/nonexistent/x'] }, real), null);
  assert.equal(localConsoleSocket({ kind: 'vnc' }, real), null);
  const stdin = new PassThrough() as unknown as NodeJS.ReadStream;
  const stdout = new PassThrough();
  let out = '';
  stdout.on('data', (d) => { out += d; });
  const done = attachConsole(sock, stdin, stdout);
  (stdin as unknown as PassThrough).write('root\n');
  assert.equal(await done, 0, 'ends when the guest side closes');
  assert.equal(received, 'root\n');
  assert.match(out, /GANETI-GUEST-READY vm1 tick 1\r\nbye/);
  server.close();
});

test('console: local only for this node (or a virtual node of this machine); a stale socket falls back', async () => {
  // A virtual cluster: <base>/<node> roots side by side.
  const base = path.join(dir, 'vc');
  for (const n of ['nodeA', 'nodeB']) fs.mkdirSync(path.join(base, n, 'var/run/ganeti'), { recursive: true });
  const envA = { root: path.join(base, 'nodeA'), hostname: 'nodeA', virtual: true };
  assert.equal(consoleHostIsLocal('nodeA', envA), true);
  assert.equal(consoleHostIsLocal('nodeB', envA), true, 'a virtual node of this machine');
  assert.equal(consoleHostIsLocal('nodeC', envA), false);
  assert.equal(consoleHostIsLocal('../nodeB', envA), false);
  assert.equal(consoleHostIsLocal('nodeB', { root: '/', hostname: 'nodeA', virtual: false }), false);
  assert.equal(consoleHostIsLocal('NODEA', { root: '/', hostname: 'nodea', virtual: false }), true);
  // A socket whose qemu is gone: nobody listens (ECONNREFUSED), or it vanished (ENOENT).
  const stale = path.join(dir, 'stale.serial');
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(stale, r));
  await new Promise<void>((r) => server.close(() => r()));
  fs.writeFileSync(stale, '');
  fs.rmSync(stale);
  const stdin = new PassThrough() as unknown as NodeJS.ReadStream;
  assert.equal(await attachConsole(stale, stdin, new PassThrough()), NOT_CONNECTED);
  // A unix socket file left behind by a killed server refuses connections.
  const left = path.join(dir, 'left.serial');
  const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(left)}, () => process.kill(process.pid, 'SIGKILL'))`]);
  await new Promise((r) => child.on('exit', r));
  assert.ok(fs.statSync(left).isSocket());
  assert.equal(await attachConsole(left, new PassThrough() as unknown as NodeJS.ReadStream, new PassThrough()), NOT_CONNECTED);
});
