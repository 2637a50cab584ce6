// ganeti-rapi facing bad input and unwelcome clients, on a one-node cluster whose RAPI
// started with the master daemon at `gnt-cluster init` (HTTPS on the node's address, port
// 5080): the answers real Ganeti 3.0.2 gave (goldens rapi-*), wrong passwords (401),
// missing rights (403), malformed JSON (400), unknown parameters, huge bodies (413), slow
// clients and --max-clients; each time the right status, a Ganeti error body, and no job.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { TestCluster, waitFor, type VirtualNode } from './cluster.ts';
import { rapiGolden } from './rapi-golden.ts';
import { rapiRequest, rawConnection, type RawResponse, type RequestOptions } from './rapi-http.ts';

const cluster = new TestCluster();
after(() => cluster.destroy());
let node: VirtualNode;
const PORT = 5080;

const USERS = [
  '# test users',
  'bench benchpass write',
  'reader {HA1}7a8dfc4a60a3c5f61c27a4b80c9e4f88 read', // replaced below by the real hash
  'nobody nopass',
].join('\n');

function writeUsers(text: string): void {
  fs.mkdirSync(node.file('var/lib/ganeti/rapi'), { recursive: true });
  fs.writeFileSync(node.file('var/lib/ganeti/rapi/users'), `${text}\n`, { mode: 0o600 });
}

const req = (path: string, opts: RequestOptions = {}, port = PORT) => rapiRequest(node.ip, port, path, opts);
const bench = { user: 'bench', password: 'benchpass' };

async function jobCount(): Promise<number> {
  const r = await req('/2/jobs', bench);
  assert.equal(r.status, 200, r.body);
  return (JSON.parse(r.body) as unknown[]).length;
}

/** An error answer: the status, upstream's body shape, and the message. */
function assertError(r: RawResponse, status: number, message?: string | RegExp): void {
  assert.equal(r.status, status, r.body);
  const body = JSON.parse(r.body) as { code: number; message: string; explain: string };
  assert.deepEqual(Object.keys(body), ['code', 'message', 'explain']);
  assert.equal(body.code, status);
  assert.equal(r.headers.find(([k]) => k === 'Content-Type')?.[1], 'application/json');
  // Upstream html-escapes messages (html.escape with quotes).
  const text = body.message.replace(/&#x27;/g, "'").replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  if (typeof message === 'string') assert.equal(text, message);
  else if (message) assert.match(text, message);
}

/** The same status line, headers (but Date) in the same order, and body as real Ganeti's. */
function assertSameAsGolden(r: RawResponse, n: string): void {
  const g = rapiGolden(n);
  assert.equal(r.statusLine, g.status, `rapi-${n} status`);
  const noDate = (h: Array<[string, string]>) => h.map(([k, v]) => (k === 'Date' ? [k, 'DATE'] : [k, v]));
  assert.deepEqual(noDate(r.headers), noDate(g.headers), `rapi-${n} headers`);
  assert.match(r.headers.find(([k]) => k === 'Date')![1], /^\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT$/);
  assert.equal(r.body, g.body, `rapi-${n} body`);
}

before(async () => {
  node = cluster.init('node1.gnt.test', 'cluster.gnt.test', ['--nic-parameters=mode=bridged,link=gnt0']);
  const { ha1 } = await import('../../src/rapi/users.ts');
  writeUsers(USERS.replace(/\{HA1\}\w+/, `{HA1}${ha1('reader', 'readpass')}`));
  // The users file is re-read when it changes; SIGHUP makes it at once.
  process.kill(node.pid('ganeti-rapi')!, 'SIGHUP');
  await waitFor(() => fs.readFileSync(node.file('var/log/ganeti/ganeti-rapi.log'), 'utf8').includes('Read 3 user(s)'));
});

test('ganeti-rapi runs with the master: rapi.pem made at init (0600), the users file honoured', async () => {
  assert.ok(node.pid('ganeti-rapi'));
  const st = fs.statSync(node.file('var/lib/ganeti/rapi.pem'));
  assert.equal(st.mode & 0o777, 0o600);
  const r = await req('/2/info', bench);
  assert.equal(r.status, 200);
  assert.equal(JSON.parse(r.body).name, 'cluster.gnt.test');
  // The certificate served is rapi.pem's.
  const pem = fs.readFileSync(node.file('var/lib/ganeti/rapi.pem'), 'utf8');
  const { X509Certificate } = await import('node:crypto');
  assert.equal(r.fingerprint, new X509Certificate(pem.slice(pem.indexOf('-----BEGIN CERTIFICATE'))).fingerprint256);
});

test('the answers of real Ganeti 3.0.2, headers and bodies (goldens 001, 002, 004, 005, 025, 026, 028, 029, 031, 032)', async () => {
  assertSameAsGolden(await req('/version', bench), '001');
  assertSameAsGolden(await req('/2', bench), '002');
  assertSameAsGolden(await req('/2/features', bench), '004');
  assertSameAsGolden(await req('/2/nodes', bench), '005');
  assertSameAsGolden(await req('/2/instances/nosuch.gnt.test', bench), '025');
  assertSameAsGolden(await req('/2/jobs/99999', bench), '026');
  assertSameAsGolden(await req('/2/info'), '028');
  assertSameAsGolden(await req('/2/instances/alpha.gnt.test/shutdown', { method: 'PUT' }), '029');
  assertSameAsGolden(await req('/2/instances', { ...bench, method: 'POST', body: '{"mode": "create", "name": "delta.gnt.test"}' }), '031');
  assertSameAsGolden(await req('/2/instances', { ...bench, method: 'POST', body: '{not json' }), '032');
});

test('authentication: wrong password, unknown user, other schemes → 401 with the realm; nothing runs', async () => {
  const before = await jobCount();
  for (const opts of [
    { user: 'bench', password: 'wrong' },
    { user: 'ghost', password: 'benchpass' },
    { headers: { Authorization: 'Digest username="bench"' } },
    { headers: { Authorization: 'Basic !!notbase64' } },
  ]) {
    const r = await req('/2/instances/x/startup', { ...opts, method: 'PUT' });
    assertError(r, 401, 'Unauthorized');
    assert.equal(r.headers.find(([k]) => k === 'WWW-Authenticate')?.[1], 'Basic realm="Ganeti Remote API"');
  }
  assertError(await req('/2/info', { headers: { Authorization: 'Basic' } }), 400, 'Basic authentication requires credentials');
  // The HA1 user logs in with the password behind the hash.
  assert.equal((await req('/2/info', { user: 'reader', password: 'readpass' })).status, 200);
  assertError(await req('/2/info', { user: 'reader', password: 'reader' }), 401);
  assert.equal(await jobCount(), before);
});

test('rights: writes need write, /query needs read or write, /jobs/<id>/wait needs write → 403; nothing runs', async () => {
  const before = await jobCount();
  const reader = { user: 'reader', password: 'readpass' };
  const nobody = { user: 'nobody', password: 'nopass' };
  assertError(await req('/2/instances/x/startup', { ...reader, method: 'PUT' }), 403, 'Forbidden');
  assertError(await req('/2/tags?tag=a', { ...reader, method: 'PUT' }), 403);
  assertError(await req('/2/redistribute-config', { ...nobody, method: 'PUT' }), 403);
  assertError(await req('/2/query/node?fields=name', nobody), 403);
  assertError(await req('/2/jobs/1/wait', { ...reader, body: '{"fields": ["status"]}' }), 403);
  assert.equal((await req('/2/query/node?fields=name', reader)).status, 200);
  // A user without options reads what needs no right.
  assert.equal((await req('/2/nodes', nobody)).status, 200);
  assertError(await req('/2/modify', { ...bench, method: 'PUT', body: '{"compression_tools": ["gzip"]}' }), 403,
    'The parameter compression_tools cannot be set via RAPI');
  assert.equal(await jobCount(), before);
});

test('bad input: JSON, content type, body types, unknown and static parameters, unknown paths and methods → 4xx/501; nothing runs', async () => {
  const before = await jobCount();
  const put = (path: string, body: string, contentType?: string) => req(path, { ...bench, method: 'PUT', body, contentType });
  assertError(await put('/2/instances/x/shutdown', '{"timeout": '), 400, 'Unable to parse JSON data');
  assertError(await put('/2/instances/x/shutdown', '{}', 'text/plain'), 415, 'Unsupported Media Type');
  assertError(await put('/2/instances/x/shutdown', '[1, 2]'), 400, "Body contents: Type is 'list', but 'dict' is expected");
  assertError(await put('/2/instances/x/shutdown', '{"no_such_param": 1}'), 400,
    "Invalid body parameters: Object OpInstanceShutdown doesn't support the parameter 'no_such_param'");
  assertError(await put('/2/instances/x/shutdown', '{"timeout": "soon"}'), 400, /^Invalid body parameters: .*timeout/);
  assertError(await put('/2/instances/x/shutdown', '{"instance_name": "y"}'), 400, "Can't overwrite static parameters {'instance_name'}");
  assertError(await put('/2/nodes/node1.gnt.test/role', '"master"'), 400, "Can't set 'master' role");
  assertError(await put('/2/nodes/node1.gnt.test/role', '{"role": "drained"}'), 400, "Body contents: Type is 'dict', but 'str' is expected");
  assertError(await req('/2/instances', { ...bench, method: 'POST', body: '{"__version__": 2}' }), 400, 'Unsupported request data version 2');
  assertError(await req('/2/jobs/1/wait', { ...bench, body: '{"fields": "status"}' }), 400, "The 'fields' parameter should be a list");
  assertError(await req('/2/jobs/1/wait', { ...bench, body: '{}' }), 400, "Required parameter 'fields' is missing");
  assertError(await req('/2/instances?bulk=yes', bench), 400, "Invalid value for the 'bulk' parameter");
  assertError(await req('/2/query/instance', bench), 400, "Missing 'fields' query argument");
  assertError(await req('/2/no/such/path', bench), 404, 'Not Found');
  assertError(await req('/2/instances', { ...bench, method: 'PATCH' }), 501, 'Method PATCH is unsupported for path /2/instances');
  assert.equal(await jobCount(), before);
});

test('unknown query fields come back as upstream query2 has them: kind "unknown", cells status 1', async () => {
  const r = await req('/2/query/node?fields=name,no_such_field', bench);
  assert.equal(r.status, 200);
  const q = JSON.parse(r.body);
  assert.deepEqual(Object.keys(q), ['data', 'fields']);
  assert.deepEqual(q.data, [[[0, 'node1.gnt.test'], [1, null]]]);
  assert.equal(q.fields[1].kind, 'unknown');
  const put = await req('/2/query/node', { ...bench, method: 'PUT', body: '{"fields": ["name"], "qfilter": ["==", "role", "X"]}' });
  assert.deepEqual(JSON.parse(put.body).data, []);
  assertError(await req('/2/query/node', { ...bench, method: 'PUT', body: '{"fields": ["name"], "qfilter": ["~~", "name"]}' }), 400);
});

test('huge bodies: 413 from the declared length, without reading it, and from a chunked body beyond the limit', async () => {
  const before = await jobCount();
  const { sock, response } = await rawConnection(node.ip, PORT);
  const auth = Buffer.from('bench:benchpass').toString('base64');
  sock.write(`POST /2/instances HTTP/1.1\r\nHost: x\r\nAuthorization: Basic ${auth}\r\nContent-Type: application/json\r\nContent-Length: ${64 * 1024 * 1024}\r\n\r\n`);
  const text = await response;
  assert.match(text, /^HTTP\/1\.1 413 Request Entity Too Large\r\n/);
  assert.match(text, /\{"code": 413, "message": "Request body larger than 1048576 bytes", "explain": "Entity is too large"\}\n$/);
  const chunked = await rawConnection(node.ip, PORT);
  chunked.sock.write(`POST /2/instances HTTP/1.1\r\nHost: x\r\nAuthorization: Basic ${auth}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`);
  // Just past the limit, then nothing more: the server reads all of it, so it closes cleanly after answering.
  const piece = 'x'.repeat(256 * 1024);
  for (let i = 0; i < 4; i++) chunked.sock.write(`${piece.length.toString(16)}\r\n${piece}\r\n`);
  chunked.sock.write('10\r\nxxxxxxxxxxxxxxxx\r\n');
  assert.match(await chunked.response, /^HTTP\/1\.1 413 /);
  assert.equal(await jobCount(), before);
});

test('the users file is re-read when it changes', async () => {
  const newcomer = { user: 'newcomer', password: 'pw' };
  assertError(await req('/2/info', newcomer), 401);
  writeUsers(`${fs.readFileSync(node.file('var/lib/ganeti/rapi/users'), 'utf8')}newcomer pw write`);
  await waitFor(() => fs.readFileSync(node.file('var/log/ganeti/ganeti-rapi.log'), 'utf8').includes('Read 4 user(s)'), 10_000);
  assert.equal((await req('/2/info', newcomer)).status, 200);
});

test('slow clients: one does not stall the others; --max-clients bounds the connections served at once', async () => {
  // A RAPI of our own with two slots, on another port (the pid file allows one per node).
  process.kill(node.pid('ganeti-rapi')!, 'SIGTERM');
  await waitFor(() => node.pid('ganeti-rapi') === null, 10_000);
  const port = 5081;
  const start = node.run('ganeti-rapi', ['-b', node.ip, '-p', String(port), '--max-clients', '2']);
  assert.equal(start.code, 0, start.stderr);
  const auth = Buffer.from('bench:benchpass').toString('base64');
  const slow1 = await rawConnection(node.ip, port);
  slow1.sock.write('GET /version HTTP/1.1\r\nHost: x\r\n');
  // One slot is taken by a client that sends nothing more: the others are served at once.
  for (let i = 0; i < 3; i++) {
    const t0 = Date.now();
    assert.equal((await req('/version', bench, port)).status, 200);
    assert.ok(Date.now() - t0 < 2000);
  }
  const slow2 = await rawConnection(node.ip, port);
  slow2.sock.write('GET /version HTTP/1.1\r\nHost: x\r\n');
  // Both slots taken: a third client is accepted but waits...
  let served = false;
  const waiting = req('/version', bench, port).then((r) => { served = true; return r; });
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(served, false, 'a third connection was served while two clients held both slots');
  // ...until a slot frees.
  slow1.sock.write(`Authorization: Basic ${auth}\r\n\r\n`);
  assert.match(await slow1.response, /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\n2\n$/);
  assert.equal((await waiting).status, 200);
  slow2.sock.destroy();
  const invalid = node.run('ganeti-rapi', ['-f', '--max-clients', '0']);
  assert.equal(invalid.code, 1);
  assert.match(invalid.stderr, /--max-clients argument must be >= 1/);
});
