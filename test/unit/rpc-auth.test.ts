import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deriveNodeKey, generateClusterSecret, hmac, RequestVerifier, signRequest, HDR_TIME } from '../../src/rpc/auth.ts';

const secret = generateClusterSecret();
const nodeKey = deriveNodeKey(secret, 'node1');
const body = Buffer.from('[0.5]');

test('a signed request verifies once; a replay is refused', () => {
  const v = new RequestVerifier('node1', () => nodeKey);
  const h = signRequest(nodeKey, 'node1', '/test_delay', body);
  assert.equal(v.verify(h, '/test_delay', body), null);
  assert.equal(v.verify(h, '/test_delay', body), 'replayed request');
});

test('unsigned, forged, altered and misdirected requests are refused', () => {
  const v = new RequestVerifier('node1', () => nodeKey);
  assert.equal(v.verify({}, '/version', body), 'unsigned request');
  const forged = signRequest(generateClusterSecret(), 'node1', '/version', body);
  assert.equal(v.verify(forged, '/version', body), 'bad signature');
  const h = signRequest(nodeKey, 'node1', '/version', body);
  assert.equal(v.verify(h, '/version', Buffer.from('[1]')), 'bad signature');
  assert.equal(v.verify(h, '/node_info', body), 'bad signature');
  // node2's key cannot make requests that node1 accepts, even when addressed to node1.
  const node2Key = deriveNodeKey(secret, 'node2');
  assert.equal(v.verify(signRequest(node2Key, 'node1', '/version', body), '/version', body), 'bad signature');
  const old = signRequest(nodeKey, 'node1', '/version', body, Date.now() - 120_000);
  assert.match(String(v.verify(old, '/version', body)), /clock skew/);
  const tampered = { ...signRequest(nodeKey, 'node1', '/version', body), [HDR_TIME]: String(Date.now() + 1) };
  assert.equal(v.verify(tampered, '/version', body), 'bad signature');
});

test('a node without the cluster key refuses everything', () => {
  const v = new RequestVerifier('node1', () => null);
  assert.match(String(v.verify(signRequest(nodeKey, 'node1', '/version', body), '/version', body)), /not part of a cluster/);
});

test('HMAC-SHA-512 matches RFC 4231 test case 2', () => {
  const mac = hmac(new TextEncoder().encode('Jefe'), new TextEncoder().encode('what do ya want for nothing?'));
  assert.equal(Buffer.from(mac).toString('hex'), '164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737');
});
