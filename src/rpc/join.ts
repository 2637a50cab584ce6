// Joining a node without ssh, and handing keys over the RPC (tweetnacl).
//
// A node that is in no cluster has no node key, so it cannot authenticate the master.
// Its noded creates a one-time join token (var/lib/ganeti/join-token, 0600) that the
// operator reads on that node (`ganeti join-token`) and passes to `gnt-node add
// --join-token`. Whoever knows the token is the master the operator chose: the join
// request is authenticated with a key derived from the token (HMAC-SHA-512, with time,
// nonce and the node's name, like every RPC) and carries the node's new key encrypted
// under it (secretbox), and so is the cluster certificate with its key (server.pem),
// which the node serves from then on; in a --no-ssl cluster it carries none and the
// node records that its cluster talks plain HTTP. The node stores the key and deletes
// the token, so the token works once. The join call itself cannot check the node's TLS
// certificate (the node has only its own until it holds the cluster's): nothing in it
// is useful to an eavesdropper or a man in the middle without the token. A master
// candidate later receives the cluster secret encrypted under its own node key, and
// checks that the secret derives that very key.
import nacl from 'tweetnacl';
import crypto from 'node:crypto';
import { RPC_MAX_CLOCK_SKEW_MS } from '../core/constants.ts';
import { hmac, KEY_BYTES } from './auth.ts';

export const JOIN_PATH = '/node_join';
export const HDR_JOIN_TIME = 'x-ganeti-join-time';
export const HDR_JOIN_NONCE = 'x-ganeti-join-nonce';
export const HDR_JOIN_MAC = 'x-ganeti-join-mac';

const enc = new TextEncoder();

/** A new join token: 32 random bytes, URL-safe base64 (what the operator copies). */
export function generateJoinToken(): string {
  return Buffer.from(nacl.randomBytes(32)).toString('base64url');
}

export function validJoinToken(token: string): boolean {
  return /^[A-Za-z0-9_-]{43}$/.test(token);
}

function tokenKey(token: string): Uint8Array {
  return nacl.hash(enc.encode(`ganeti-join-token\0${token}`)).slice(0, KEY_BYTES);
}

function joinText(node: string, time: string, nonce: string, body: Uint8Array): Uint8Array {
  const digest = crypto.createHash('sha512').update(body).digest('hex');
  return enc.encode(`ganeti-join-v1\n${node}\n${time}\n${nonce}\n${digest}`);
}

export interface Sealed {
  nonce: string;
  box: string;
}

/** Encrypt bytes under a key (secretbox); nonce and box in base64. */
export function sealBytes(data: Uint8Array, under: Uint8Array): Sealed {
  const nonce = nacl.randomBytes(nacl.secretbox.nonceLength);
  return { nonce: Buffer.from(nonce).toString('base64'), box: Buffer.from(nacl.secretbox(data, nonce, under)).toString('base64') };
}

export function openBytes(sealed: unknown, under: Uint8Array): Uint8Array | null {
  const s = sealed as { nonce?: unknown; box?: unknown } | null;
  if (!s || typeof s.nonce !== 'string' || typeof s.box !== 'string') return null;
  const nonce = Buffer.from(s.nonce, 'base64');
  if (nonce.length !== nacl.secretbox.nonceLength) return null;
  return nacl.secretbox.open(Buffer.from(s.box, 'base64'), nonce, under);
}

/** Encrypt a key under another key. */
export function sealKey(key: Uint8Array, under: Uint8Array): Sealed {
  return sealBytes(key, under);
}

export function openKey(sealed: unknown, under: Uint8Array): Uint8Array | null {
  const key = openBytes(sealed, under);
  return key && key.length === KEY_BYTES ? key : null;
}

export interface JoinRequest {
  node: string;
  cluster: string;
  nodeKey: Sealed;
  /** The cluster certificate and its key (server.pem), sealed; null in a --no-ssl cluster. */
  serverPem: Sealed | null;
}

/**
 * Body and headers of a join request for `node`: its new key and the cluster's
 * server.pem (null for a --no-ssl cluster) sealed under the token.
 */
export function makeJoinRequest(token: string, node: string, cluster: string, nodeKey: Uint8Array, serverPem: string | null, now = Date.now()): { body: Buffer; headers: Record<string, string> } {
  const key = tokenKey(token);
  const request: JoinRequest = { node, cluster, nodeKey: sealKey(nodeKey, key), serverPem: serverPem === null ? null : sealBytes(Buffer.from(serverPem, 'utf8'), key) };
  const body = Buffer.from(JSON.stringify(request), 'utf8');
  const time = String(now);
  const nonce = Buffer.from(nacl.randomBytes(16)).toString('hex');
  const mac = Buffer.from(hmac(key, joinText(node, time, nonce, body))).toString('base64');
  return { body, headers: { [HDR_JOIN_TIME]: time, [HDR_JOIN_NONCE]: nonce, [HDR_JOIN_MAC]: mac } };
}

/** Check a join request against this node's token; the node's new key and the cluster's server.pem, or why it is refused. */
export function openJoinRequest(token: string, hostname: string, headers: Record<string, string | string[] | undefined>, body: Uint8Array, now = Date.now()):
  { ok: true; request: JoinRequest; nodeKey: Uint8Array; serverPem: string | null } | { ok: false; reason: string } {
  const h = (k: string) => (typeof headers[k] === 'string' ? (headers[k] as string) : '');
  const [time, nonce, macText] = [h(HDR_JOIN_TIME), h(HDR_JOIN_NONCE), h(HDR_JOIN_MAC)];
  if (!/^\d{1,16}$/.test(time) || !/^[0-9a-f]{32}$/.test(nonce) || !macText) return { ok: false, reason: 'malformed join request' };
  if (Math.abs(now - Number(time)) > RPC_MAX_CLOCK_SKEW_MS) return { ok: false, reason: 'join request timestamp outside the allowed clock skew' };
  let request: JoinRequest;
  try {
    request = JSON.parse(Buffer.from(body).toString('utf8')) as JoinRequest;
  } catch {
    return { ok: false, reason: 'join request body is not JSON' };
  }
  if (typeof request?.node !== 'string' || typeof request.cluster !== 'string') return { ok: false, reason: 'malformed join request' };
  const key = tokenKey(token);
  const expected = Buffer.from(hmac(key, joinText(request.node, time, nonce, body)));
  const mac = Buffer.from(macText, 'base64');
  if (mac.length !== expected.length || !crypto.timingSafeEqual(mac, expected)) return { ok: false, reason: 'wrong join token' };
  if (request.node !== hostname) return { ok: false, reason: `join request is for node '${request.node}', this is '${hostname}'` };
  const nodeKey = openKey(request.nodeKey, key);
  if (!nodeKey) return { ok: false, reason: 'join request carries no valid node key' };
  if (request.serverPem === null) return { ok: true, request, nodeKey, serverPem: null };
  const pem = openBytes(request.serverPem, key);
  if (!pem) return { ok: false, reason: 'join request carries no valid cluster certificate' };
  return { ok: true, request, nodeKey, serverPem: Buffer.from(pem).toString('utf8') };
}
