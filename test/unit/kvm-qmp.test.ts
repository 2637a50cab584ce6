// The QMP client against a fake qemu on a unix socket: the greeting and capabilities
// negotiation, answers matched by id with events in between, errors, a monitor that
// closes or never answers.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { QmpClient, withQmp } from '../../src/node/hypervisor/kvm/qmp.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kvm-qmp-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

type Msg = { execute: string; id?: string; arguments?: Record<string, unknown> };

/** A fake QMP server: `handle` answers each command (lines it returns are sent as they are, split in pieces). */
function fakeQemu(name: string, handle: (msg: Msg, seen: Msg[]) => string[] | null): Promise<{ path: string; seen: Msg[]; server: net.Server }> {
  const sock = path.join(dir, name);
  const seen: Msg[] = [];
  const server = net.createServer((c) => {
    c.write('{"QMP": {"version": {"qemu": {"micro": 22, "minor": 2, "major": 7}, "package": "Debian"}, "capabilities": ["oob"]}}\r\n');
    let buf = '';
    c.on('data', (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const msg = JSON.parse(buf.slice(0, nl)) as Msg;
        buf = buf.slice(nl + 1);
        seen.push(msg);
        const lines = handle(msg, seen);
        if (lines === null) {
          c.destroy();
          return;
        }
        // Sent in two pieces, to check the framing.
        const text = lines.map((l) => `${l}\r\n`).join('');
        c.write(text.slice(0, 7));
        setTimeout(() => c.write(text.slice(7)), 5);
      }
    });
  });
  return new Promise((resolve) => server.listen(sock, () => resolve({ path: sock, seen, server })));
}

test('greeting, qmp_capabilities, a command with an event before its answer', async () => {
  const fake = await fakeQemu('a.qmp', (msg) => {
    if (msg.execute === 'qmp_capabilities') return [`{"return": {}, "id": "${msg.id}"}`];
    if (msg.execute === 'query-status') {
      return ['{"timestamp": {"seconds": 1, "microseconds": 2}, "event": "POWERDOWN"}', `{"return": {"status": "running", "running": true}, "id": "${msg.id}"}`];
    }
    return [`{"error": {"class": "CommandNotFound", "desc": "The command ${msg.execute} has not been found"}, "id": "${msg.id}"}`];
  });
  const q = new QmpClient(fake.path);
  await q.connect();
  assert.deepEqual((q.greeting as { version: { qemu: { major: number } } }).version.qemu.major, 7);
  assert.deepEqual(await q.execute('query-status'), { status: 'running', running: true });
  assert.deepEqual(q.events.map((e) => e.event), ['POWERDOWN']);
  assert.ok(await q.waitEvent('POWERDOWN', 10));
  await assert.rejects(q.execute('nosuch', { a: 1 }), /QMP command nosuch failed: The command nosuch has not been found \(CommandNotFound\)/);
  q.close();
  assert.deepEqual(fake.seen.map((m) => m.execute), ['qmp_capabilities', 'query-status', 'nosuch']);
  assert.deepEqual(fake.seen[2].arguments, { a: 1 });
  assert.ok(fake.seen.every((m) => typeof m.id === 'string'), 'every command carries an id');
  fake.server.close();
});

test('withQmp: arguments are sent, the connection closed afterwards', async () => {
  const fake = await fakeQemu('b.qmp', (msg) => [`{"return": {}, "id": "${msg.id}"}`]);
  await withQmp(fake.path, (q) => q.execute('migrate', { uri: 'tcp:127.0.0.2:8102' }));
  assert.deepEqual(fake.seen[1], { execute: 'migrate', id: fake.seen[1].id, arguments: { uri: 'tcp:127.0.0.2:8102' } });
  fake.server.close();
});

test('a monitor that closes, one that never answers, a socket that is not there', async () => {
  const closing = await fakeQemu('c.qmp', (msg) => (msg.execute === 'qmp_capabilities' ? [`{"return": {}, "id": "${msg.id}"}`] : null));
  const q = new QmpClient(closing.path);
  await q.connect();
  await assert.rejects(q.execute('quit'), /QMP connection .* closed/);
  closing.server.close();
  const silent = await fakeQemu('d.qmp', (msg) => (msg.execute === 'qmp_capabilities' ? [`{"return": {}, "id": "${msg.id}"}`] : []));
  await assert.rejects(withQmp(silent.path, (q2) => q2.execute('query-status'), 300), /Timeout waiting for an answer on the QMP socket/);
  silent.server.close();
  await assert.rejects(withQmp(path.join(dir, 'none.qmp'), async () => null), /Can't connect to the QMP socket .*none\.qmp/);
});

test('a failed greeting or qmp_capabilities closes the connection (qemu has one QMP slot)', async () => {
  // A server that accepts, says nothing (or refuses qmp_capabilities), and reports when the client leaves.
  const serve = (name: string, greet: boolean) => {
    const sock = path.join(dir, name);
    const closed: Promise<void>[] = [];
    const server = net.createServer((c) => {
      closed.push(new Promise((resolve) => c.on('close', () => resolve())));
      c.on('error', () => undefined);
      if (greet) {
        c.write('{"QMP": {"version": {}, "capabilities": []}}\r\n');
        c.on('data', (d) => {
          const msg = JSON.parse(String(d).trim()) as Msg;
          c.write(`{"error": {"class": "GenericError", "desc": "no"}, "id": "${msg.id}"}\r\n`);
        });
      }
    });
    return new Promise<{ server: net.Server; sock: string; closed: Promise<void>[] }>((resolve) => server.listen(sock, () => resolve({ server, sock, closed })));
  };
  const mute = await serve('mute.qmp', false);
  await assert.rejects(withQmp(mute.sock, async () => null, 200), /Timeout waiting for an answer on the QMP socket/);
  assert.equal(mute.closed.length, 1);
  await mute.closed[0]; // the client side went away: the test would hang here otherwise
  const refusing = await serve('refusing.qmp', true);
  const q = new QmpClient(refusing.sock, 2_000);
  await assert.rejects(q.connect(), /QMP command qmp_capabilities failed: no/);
  await refusing.closed[0];
  mute.server.close();
  refusing.server.close();
});
