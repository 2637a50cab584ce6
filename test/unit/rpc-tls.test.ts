// The node RPC's TLS pieces: our self-signed certificates (checked by OpenSSL through
// Node), the cluster transport read from a node's files, the pinned client against
// servers with the right and a foreign certificate, the join request carrying the
// cluster certificate, and the services database.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { certificateBlock, generateSelfSignedCertificate } from '../../src/util/x509.ts';
import { clusterTransport, newClusterCertificate, writeClusterTransport } from '../../src/rpc/transport.ts';
import { RpcClient } from '../../src/rpc/client.ts';
import { deriveNodeKey, generateClusterSecret } from '../../src/rpc/auth.ts';
import { makeJoinRequest, openJoinRequest } from '../../src/rpc/join.ts';
import { nodePaths } from '../../src/util/paths.ts';
import { parseServices } from '../../src/util/services.ts';
import { verifyCertificateFile } from '../../src/master/cmdlib/verify.ts';

test('a self-signed certificate: valid X.509 v3, CA, signed by its own key, five years', () => {
  const now = new Date('2030-01-01T00:00:00Z');
  const { keyPem, certPem } = generateSelfSignedCertificate({ now, commonName: 'test.example' });
  const cert = new crypto.X509Certificate(certPem);
  assert.equal(cert.subject, 'CN=test.example');
  assert.equal(cert.issuer, 'CN=test.example');
  assert.ok(cert.ca);
  assert.ok(cert.verify(cert.publicKey));
  assert.ok(cert.checkPrivateKey(crypto.createPrivateKey(keyPem)));
  assert.equal(new Date(cert.validFrom).toISOString(), '2029-12-31T23:59:00.000Z');
  assert.equal(new Date(cert.validTo).toISOString(), '2034-12-30T23:59:00.000Z');
  // From 2050 on, GeneralizedTime.
  const late = new crypto.X509Certificate(generateSelfSignedCertificate({ now: new Date('2049-06-01T00:00:00Z') }).certPem);
  assert.equal(new Date(late.validTo).getUTCFullYear(), 2054);
  assert.equal(certificateBlock(keyPem + certPem), certPem);
  assert.notEqual(new crypto.X509Certificate(generateSelfSignedCertificate().certPem).serialNumber, cert.serialNumber);
});

test("a node's transport: server.pem (0600) or the --no-ssl marker, and a missing certificate is an error", () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rpc-tls-'));
  try {
    const paths = nodePaths(root);
    assert.throws(() => clusterTransport(paths), /^Error: Cannot read the cluster certificate .*server\.pem: not found$/);
    const pem = newClusterCertificate();
    writeClusterTransport(paths, pem);
    assert.equal(fs.statSync(paths.serverCert).mode & 0o777, 0o600);
    const t = clusterTransport(paths);
    assert.equal(t.kind, 'tls');
    assert.equal(t.kind === 'tls' && t.fingerprint, new crypto.X509Certificate(certificateBlock(pem)!).fingerprint256);
    writeClusterTransport(paths, null);
    assert.deepEqual(clusterTransport(paths), { kind: 'plain' });
    assert.ok(!fs.existsSync(paths.serverCert));
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

/** An HTTPS server answering version like noded, with `pem` as its certificate and key. */
async function fakeNoded(pem: string): Promise<{ port: number; close(): void }> {
  const server = https.createServer({ key: pem, cert: pem }, (_req, res) => res.end('[true, 3000000]'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as { port: number }).port, close: () => server.close() };
}

test('the client trusts the cluster certificate only', async () => {
  const clusterPem = newClusterCertificate();
  const transport = () => ({ kind: 'tls' as const, certPem: certificateBlock(clusterPem)!, fingerprint: new crypto.X509Certificate(certificateBlock(clusterPem)!).fingerprint256 });
  const secret = generateClusterSecret();
  for (const [pem, ok] of [[clusterPem, true], [newClusterCertificate(), false]] as const) {
    const server = await fakeNoded(pem);
    const rpc = new RpcClient(() => secret, transport);
    try {
      const r = await rpc.call({ name: 'node1', address: '127.0.0.1', port: server.port }, 'version', []);
      assert.equal(r.ok, ok);
      if (!r.ok) assert.match(r.error, /Node node1 presented a certificate that is not this cluster's \(self-signed certificate.*\); refusing to talk to it$/);
    } finally {
      rpc.close();
      server.close();
    }
  }
});

test('a join request brings the node its key and the cluster certificate, sealed under the token', () => {
  const token = 'A'.repeat(43);
  const secret = generateClusterSecret();
  const pem = newClusterCertificate();
  const { body, headers } = makeJoinRequest(token, 'node2', 'cluster', deriveNodeKey(secret, 'node2'), pem);
  assert.ok(!body.toString().includes('PRIVATE KEY'), 'the key travels sealed');
  const opened = openJoinRequest(token, 'node2', headers, body);
  assert.ok(opened.ok);
  assert.equal(opened.ok && opened.serverPem, pem);
  assert.deepEqual(opened.ok && opened.nodeKey, deriveNodeKey(secret, 'node2'));
  const plain = makeJoinRequest(token, 'node2', 'cluster', deriveNodeKey(secret, 'node2'), null);
  const openedPlain = openJoinRequest(token, 'node2', plain.headers, plain.body);
  assert.equal(openedPlain.ok && openedPlain.serverPem, null);
  assert.deepEqual(openJoinRequest('B'.repeat(43), 'node2', headers, body), { ok: false, reason: 'wrong join token' });
});

test("verify's certificate check: expiry in upstream's words", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rpc-tls-'));
  try {
    const file = path.join(dir, 'server.pem');
    fs.writeFileSync(file, newClusterCertificate());
    assert.deepEqual(verifyCertificateFile(file), [null, null]);
    const in20Days = new Date(Date.now() + (5 * 365 - 20) * 86_400_000);
    assert.deepEqual(verifyCertificateFile(file, in20Days), ['WARNING', `While verifying ${file}: Certificate expires in about 19 days`]);
    assert.equal(verifyCertificateFile(file, new Date(Date.now() + (5 * 365 - 3) * 86_400_000))[0], 'ERROR');
    assert.match(String(verifyCertificateFile(file, new Date(Date.now() + 6 * 365 * 86_400_000))[1]), /Certificate is expired \(valid from .* UTC to .* UTC\)$/);
    assert.match(String(verifyCertificateFile(path.join(dir, 'missing.pem'))[1]), /^Failed to read certificate file: /);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the services database: a daemon\'s port by its name or alias, tcp only', () => {
  const ports = parseServices('# comment\nssh 22/tcp\nganeti-noded\t1811/tcp   gnt-noded # Ganeti\nganeti-confd 1814/udp\nbroken line\n');
  assert.equal(ports.get('ganeti-noded'), 1811);
  assert.equal(ports.get('gnt-noded'), 1811);
  assert.equal(ports.get('ganeti-confd'), undefined);
  assert.equal(parseServices('ganeti-confd 1814/udp\n', 'udp').get('ganeti-confd'), 1814);
});
