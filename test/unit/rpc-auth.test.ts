import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateClusterKey, RequestVerifier, signRequest, HDR_TIME } from '../../src/rpc/auth.ts';

const key = generateClusterKey();
const body = Buffer.from('[0.5]');

test('a signed request verifies once; a replay is refused', () => {
  const v = new RequestVerifier('node1', () => key.publicKey);
  const h = signRequest(key.secretKey, 'node1', '/test_delay', body);
  assert.equal(v.verify(h, '/test_delay', body), null);
  assert.equal(v.verify(h, '/test_delay', body), 'replayed request');
});

test('unsigned, forged, altered and misdirected requests are refused', () => {
  const v = new RequestVerifier('node1', () => key.publicKey);
  assert.equal(v.verify({}, '/version', body), 'unsigned request');
  const forged = signRequest(generateClusterKey().secretKey, 'node1', '/version', body);
  assert.equal(v.verify(forged, '/version', body), 'bad signature');
  const h = signRequest(key.secretKey, 'node1', '/version', body);
  assert.equal(v.verify(h, '/version', Buffer.from('[1]')), 'bad signature');
  assert.equal(v.verify(h, '/node_info', body), 'bad signature');
  const other = signRequest(key.secretKey, 'node2', '/version', body);
  assert.match(String(v.verify(other, '/version', body)), /addressed to node 'node2'/);
  const old = signRequest(key.secretKey, 'node1', '/version', body, Date.now() - 120_000);
  assert.match(String(v.verify(old, '/version', body)), /clock skew/);
  const tampered = { ...signRequest(key.secretKey, 'node1', '/version', body), [HDR_TIME]: String(Date.now() + 1) };
  assert.equal(v.verify(tampered, '/version', body), 'bad signature');
});

test('a node without the cluster key refuses everything', () => {
  const v = new RequestVerifier('node1', () => null);
  assert.match(String(v.verify(signRequest(key.secretKey, 'node1', '/version', body), '/version', body)), /not part of a cluster/);
});
