// Node-RPC request authentication with the cluster key (Ed25519, tweetnacl).
//
// Trust model: the master and the master candidates hold the cluster's secret signing
// key (cluster-key, 0600); every node holds only its public half (cluster-key.pub).
// A request is signed over the target node's name, the procedure path, a timestamp, a
// random nonce and the SHA-512 of the body. A node runs a request only if the signature
// verifies, it is addressed to this node, the clock is within RPC_MAX_CLOCK_SKEW_MS and
// the nonce was not seen before (replay cache). A regular node cannot forge requests to
// other nodes: it has no secret key.
import fs from 'node:fs';
import nacl from 'tweetnacl';
import { RPC_MAX_CLOCK_SKEW_MS } from '../core/constants.ts';

export const HDR_NODE = 'x-ganeti-node';
export const HDR_TIME = 'x-ganeti-time';
export const HDR_NONCE = 'x-ganeti-nonce';
export const HDR_SIGNATURE = 'x-ganeti-signature';

export interface ClusterKeyPair {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

export function generateClusterKey(): ClusterKeyPair {
  return nacl.sign.keyPair();
}

export function encodeKey(key: Uint8Array): string {
  return `${Buffer.from(key).toString('base64')}\n`;
}

export function decodeKey(text: string, expectedLength: number, what: string): Uint8Array {
  const buf = Buffer.from(text.trim(), 'base64');
  if (buf.length !== expectedLength) throw new Error(`${what} is corrupt (${buf.length} bytes, expected ${expectedLength})`);
  return new Uint8Array(buf);
}

export function loadSecretKey(file: string): Uint8Array {
  return decodeKey(fs.readFileSync(file, 'utf8'), nacl.sign.secretKeyLength, `cluster key ${file}`);
}

export function loadPublicKey(file: string): Uint8Array {
  return decodeKey(fs.readFileSync(file, 'utf8'), nacl.sign.publicKeyLength, `cluster public key ${file}`);
}

function bodyDigest(body: Uint8Array): string {
  return Buffer.from(nacl.hash(body)).toString('hex');
}

function signedText(node: string, path: string, time: string, nonce: string, body: Uint8Array): Uint8Array {
  return Buffer.from(`ganeti-rpc-v1\n${node}\n${path}\n${time}\n${nonce}\n${bodyDigest(body)}`, 'utf8');
}

/** The headers that authenticate one request to `node`. */
export function signRequest(secretKey: Uint8Array, node: string, path: string, body: Uint8Array, now = Date.now()): Record<string, string> {
  const time = String(now);
  const nonce = Buffer.from(nacl.randomBytes(16)).toString('hex');
  const sig = nacl.sign.detached(signedText(node, path, time, nonce, body), secretKey);
  return { [HDR_NODE]: node, [HDR_TIME]: time, [HDR_NONCE]: nonce, [HDR_SIGNATURE]: Buffer.from(sig).toString('base64') };
}

/** Verifies requests for one node; remembers nonces for the skew window to refuse replays. */
export class RequestVerifier {
  private seen = new Map<string, number>();
  private lastPrune = 0;

  private readonly nodeName: string;
  private readonly publicKey: () => Uint8Array | null;

  constructor(nodeName: string, publicKey: () => Uint8Array | null) {
    this.nodeName = nodeName;
    this.publicKey = publicKey;
  }

  /** Returns null when the request is authentic, else the reason it is refused. */
  verify(headers: Record<string, string | string[] | undefined>, path: string, body: Uint8Array, now = Date.now()): string | null {
    const h = (k: string) => (typeof headers[k] === 'string' ? (headers[k] as string) : undefined);
    const node = h(HDR_NODE);
    const time = h(HDR_TIME);
    const nonce = h(HDR_NONCE);
    const sigText = h(HDR_SIGNATURE);
    if (!node || !time || !nonce || !sigText) return 'unsigned request';
    const key = this.publicKey();
    if (!key) return 'this node has no cluster key (not part of a cluster)';
    if (!/^\d{1,16}$/.test(time) || !/^[0-9a-f]{32}$/.test(nonce)) return 'malformed authentication headers';
    const sig = Buffer.from(sigText, 'base64');
    if (sig.length !== nacl.sign.signatureLength) return 'malformed signature';
    if (!nacl.sign.detached.verify(signedText(node, path, time, nonce, body), new Uint8Array(sig), key)) {
      return 'bad signature';
    }
    if (node !== this.nodeName) return `request addressed to node '${node}', this is '${this.nodeName}'`;
    const t = Number(time);
    if (Math.abs(now - t) > RPC_MAX_CLOCK_SKEW_MS) return 'request timestamp outside the allowed clock skew';
    this.prune(now);
    if (this.seen.has(nonce)) return 'replayed request';
    this.seen.set(nonce, t + RPC_MAX_CLOCK_SKEW_MS);
    return null;
  }

  private prune(now: number): void {
    if (now - this.lastPrune < 1000) return;
    this.lastPrune = now;
    for (const [n, exp] of this.seen) if (exp < now - RPC_MAX_CLOCK_SKEW_MS) this.seen.delete(n);
  }
}
