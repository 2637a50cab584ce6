// Node-RPC request authentication with the cluster key (tweetnacl).
//
// Trust model: the master and the master candidates hold the cluster secret
// (cluster-key, 0600). Every node holds only its own node key (node-key, 0600),
// derived from the cluster secret and the node's name. A request is authenticated with
// HMAC-SHA-512 under the target node's key, over the node's name, the procedure path,
// a timestamp, a random nonce and the SHA-512 of the body. A node runs a request only
// if the MAC verifies, it is addressed to this node, the clock is within
// RPC_MAX_CLOCK_SKEW_MS and the nonce was not seen before (replay cache). A regular
// node cannot forge requests to other nodes: it knows no other node's key.
// (HMAC rather than Ed25519 signatures: tweetnacl's pure-JS signatures cost ~9 ms per
// request, its SHA-512 about 10 µs.)
import fs from 'node:fs';
import crypto from 'node:crypto';
import nacl from 'tweetnacl';
import { RPC_MAX_CLOCK_SKEW_MS } from '../core/constants.ts';

export const HDR_NODE = 'x-ganeti-node';
export const HDR_TIME = 'x-ganeti-time';
export const HDR_NONCE = 'x-ganeti-nonce';
export const HDR_SIGNATURE = 'x-ganeti-signature';

export const KEY_BYTES = 32;
const HASH_BLOCK = 128;
const enc = new TextEncoder();

export function generateClusterSecret(): Uint8Array {
  return nacl.randomBytes(KEY_BYTES);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** HMAC-SHA-512 (RFC 2104) over tweetnacl's SHA-512. */
export function hmac(key: Uint8Array, message: Uint8Array): Uint8Array {
  const k = new Uint8Array(HASH_BLOCK);
  k.set(key.length > HASH_BLOCK ? nacl.hash(key) : key);
  const ipad = k.map((b) => b ^ 0x36);
  const opad = k.map((b) => b ^ 0x5c);
  return nacl.hash(concat(opad, nacl.hash(concat(ipad, message))));
}

/** The key of one node, derived from the cluster secret and the node's name. */
export function deriveNodeKey(clusterSecret: Uint8Array, nodeName: string): Uint8Array {
  return hmac(clusterSecret, enc.encode(`ganeti-node-key\0${nodeName}`)).slice(0, KEY_BYTES);
}

export function encodeKey(key: Uint8Array): string {
  return `${Buffer.from(key).toString('base64')}\n`;
}

export function decodeKey(text: string, what: string): Uint8Array {
  const buf = Buffer.from(text.trim(), 'base64');
  if (buf.length !== KEY_BYTES) throw new Error(`${what} is corrupt (${buf.length} bytes, expected ${KEY_BYTES})`);
  return new Uint8Array(buf);
}

export function loadKey(file: string, what: string): Uint8Array {
  return decodeKey(fs.readFileSync(file, 'utf8'), `${what} ${file}`);
}

function signedText(node: string, path: string, time: string, nonce: string, body: Uint8Array): Uint8Array {
  // The body's SHA-512 through Node's native hash: bodies can be megabytes (config uploads).
  const digest = crypto.createHash('sha512').update(body).digest('hex');
  return enc.encode(`ganeti-rpc-v1\n${node}\n${path}\n${time}\n${nonce}\n${digest}`);
}

/** The headers that authenticate one request to `node`, under that node's key. */
export function signRequest(nodeKey: Uint8Array, node: string, path: string, body: Uint8Array, now = Date.now()): Record<string, string> {
  const time = String(now);
  const nonce = Buffer.from(nacl.randomBytes(16)).toString('hex');
  const mac = hmac(nodeKey, signedText(node, path, time, nonce, body));
  return { [HDR_NODE]: node, [HDR_TIME]: time, [HDR_NONCE]: nonce, [HDR_SIGNATURE]: Buffer.from(mac).toString('base64') };
}

/** Verifies requests for one node; remembers nonces for the skew window to refuse replays. */
export class RequestVerifier {
  private seen = new Map<string, number>();
  private lastPrune = 0;
  private readonly nodeName: string;
  private readonly nodeKey: () => Uint8Array | null;

  constructor(nodeName: string, nodeKey: () => Uint8Array | null) {
    this.nodeName = nodeName;
    this.nodeKey = nodeKey;
  }

  /**
   * The checks that need only the headers, so that a request that cannot be authentic is
   * refused before its body is read. Null when it may go on.
   */
  precheck(headers: Record<string, string | string[] | undefined>, now = Date.now()): string | null {
    const h = (k: string) => (typeof headers[k] === 'string' ? (headers[k] as string) : undefined);
    const [node, time, nonce, macText] = [h(HDR_NODE), h(HDR_TIME), h(HDR_NONCE), h(HDR_SIGNATURE)];
    if (!node || !time || !nonce || !macText) return 'unsigned request';
    if (!this.nodeKey()) return 'this node has no cluster key (not part of a cluster)';
    if (!/^\d{1,16}$/.test(time) || !/^[0-9a-f]{32}$/.test(nonce)) return 'malformed authentication headers';
    if (node !== this.nodeName) return `request addressed to node '${node}', this is '${this.nodeName}'`;
    if (Math.abs(now - Number(time)) > RPC_MAX_CLOCK_SKEW_MS) return 'request timestamp outside the allowed clock skew';
    return null;
  }

  /** Returns null when the request is authentic, else the reason it is refused. */
  verify(headers: Record<string, string | string[] | undefined>, path: string, body: Uint8Array, now = Date.now()): string | null {
    const early = this.precheck(headers, now);
    if (early) return early;
    const [node, time, nonce, macText] = [HDR_NODE, HDR_TIME, HDR_NONCE, HDR_SIGNATURE].map((k) => headers[k] as string);
    const mac = Buffer.from(macText, 'base64');
    const expected = Buffer.from(hmac(this.nodeKey()!, signedText(node, path, time, nonce, body)));
    if (mac.length !== expected.length || !crypto.timingSafeEqual(mac, expected)) return 'bad signature';
    this.prune(now);
    if (this.seen.has(nonce)) return 'replayed request';
    this.seen.set(nonce, Number(time) + RPC_MAX_CLOCK_SKEW_MS);
    return null;
  }

  private prune(now: number): void {
    if (now - this.lastPrune < 1000) return;
    this.lastPrune = now;
    for (const [n, exp] of this.seen) if (exp < now - RPC_MAX_CLOCK_SKEW_MS) this.seen.delete(n);
  }
}
