// The master's node-RPC client: HTTP POST /<procedure> with a JSON list of arguments,
// signed with the cluster key; reply [success, payload]. Over TLS pinned to the cluster
// certificate, or plain HTTP in a --no-ssl cluster (./transport.ts). Connections are
// kept alive, so a call costs no TLS handshake once a node has been talked to. Parallel
// fan-out with one result per node; offline nodes are skipped without a network call;
// every call has a timeout, so a job never hangs on a dead node (spec/core.md §4.1).
import http from 'node:http';
import https from 'node:https';
import zlib from 'node:zlib';
import { RPC_CONNECT_TIMEOUT } from '../core/constants.ts';
import { deriveNodeKey, signRequest } from './auth.ts';
import { clusterTransport, pinnedIdentity, transportErrorMessage, type RpcTransport } from './transport.ts';
import { nodePaths } from '../util/paths.ts';
import { PROCEDURES, procedureTimeout, RPC_ENCODING_NONE, RPC_ENCODING_ZLIB_BASE64, type ProcedureName, type ProcedureSpec } from './procedures.ts';

export interface RpcTarget {
  name: string;
  address: string;
  port: number;
  offline?: boolean;
}

export type RpcResult =
  | { node: string; ok: true; payload: unknown }
  | { node: string; ok: false; error: string; offline?: boolean };

/** Connections to one node at the most (calls beyond wait for one). */
const MAX_CONNECTIONS = 30;

// No cap on the total: one kept-alive connection per node must survive between calls on a
// cluster of hundreds of nodes, or every query would pay a TLS handshake per node again.
const AGENT_OPTIONS = { keepAlive: true, maxSockets: MAX_CONNECTIONS };

export class RpcClient {
  private agent: http.Agent | null = null;
  private transportInUse: RpcTransport | null = null;

  private readonly clusterSecret: () => Uint8Array;
  private readonly transport: () => RpcTransport;
  private readonly nodeKeys = new Map<string, Uint8Array>();

  /**
   * `transport` says how to reach the nodes; by default this node's cluster files
   * (server.pem, or the --no-ssl marker), read at the first call.
   */
  constructor(clusterSecret: () => Uint8Array, transport: () => RpcTransport = () => clusterTransport(nodePaths())) {
    this.clusterSecret = clusterSecret;
    this.transport = transport;
  }

  /** The transport and its connection pool, set up once. */
  private connection(): { transport: RpcTransport; agent: http.Agent } {
    if (!this.agent || !this.transportInUse) {
      const transport = this.transport();
      this.agent = transport.kind === 'plain'
        ? new http.Agent(AGENT_OPTIONS)
        : new https.Agent({ ...AGENT_OPTIONS, ca: transport.certPem, rejectUnauthorized: true, checkServerIdentity: pinnedIdentity(transport.fingerprint) });
      this.transportInUse = transport;
    }
    return { transport: this.transportInUse, agent: this.agent };
  }

  private nodeKey(name: string): Uint8Array {
    let key = this.nodeKeys.get(name);
    if (!key) {
      key = deriveNodeKey(this.clusterSecret(), name);
      this.nodeKeys.set(name, key);
    }
    return key;
  }

  close(): void {
    this.agent?.destroy();
    this.agent = null;
  }

  async call(target: RpcTarget, proc: ProcedureName, args: unknown[]): Promise<RpcResult> {
    if (target.offline && !(PROCEDURES[proc] as ProcedureSpec).allowOffline) {
      return { node: target.name, ok: false, error: 'Node is marked offline', offline: true };
    }
    const body = Buffer.from(JSON.stringify(args), 'utf8');
    const path = `/${proc}`;
    let headers: Record<string, string>;
    try {
      headers = signRequest(this.nodeKey(target.name), target.name, path, body);
    } catch (err) {
      return { node: target.name, ok: false, error: `Cannot sign RPC request: ${(err as Error).message}` };
    }
    let connection: { transport: RpcTransport; agent: http.Agent };
    try {
      connection = this.connection();
    } catch (err) {
      return { node: target.name, ok: false, error: `Cannot set up the node RPC: ${(err as Error).message}` };
    }
    const { transport, agent } = connection;
    const readTimeoutMs = procedureTimeout(proc, args) * 1000;
    return new Promise<RpcResult>((resolve) => {
      let done = false;
      const finish = (r: RpcResult) => {
        if (!done) {
          done = true;
          resolve(r);
        }
      };
      const fail = (msg: string) => finish({ node: target.name, ok: false, error: msg });
      const req = (transport.kind === 'tls' ? https : http).request({
        host: target.address,
        port: target.port,
        method: 'POST',
        path,
        agent,
        headers: { 'content-type': 'application/json', 'content-length': String(body.length), ...headers },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (e) => fail(`Error reading RPC reply: ${e.message}`));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 200) return fail(`Error ${res.statusCode}: ${text.trim() || res.statusMessage}`);
          let value: unknown;
          try {
            value = JSON.parse(text);
          } catch {
            return fail('RPC layer error: invalid JSON in reply');
          }
          if (!Array.isArray(value) || value.length !== 2 || typeof value[0] !== 'boolean') {
            return fail('RPC layer error: invalid result type/length');
          }
          if (value[0]) finish({ node: target.name, ok: true, payload: value[1] });
          else fail(typeof value[1] === 'string' ? value[1] : JSON.stringify(value[1]));
        });
      });
      // The connect timeout runs from when the socket starts connecting, not while the
      // request waits for one of the agent's sockets.
      let connectTimer: NodeJS.Timeout | undefined;
      req.on('socket', (sock) => {
        if (!sock.connecting) return;
        connectTimer = setTimeout(() => {
          req.destroy();
          fail(`Connection to ${target.address}:${target.port} timed out after ${RPC_CONNECT_TIMEOUT}s`);
        }, RPC_CONNECT_TIMEOUT * 1000);
        // Over TLS the handshake is part of connecting.
        sock.once(transport.kind === 'tls' ? 'secureConnect' : 'connect', () => clearTimeout(connectTimer));
      });
      req.setTimeout(readTimeoutMs, () => {
        req.destroy();
        fail(`RPC call ${proc} to ${target.name} timed out after ${readTimeoutMs / 1000}s`);
      });
      req.on('error', (e: NodeJS.ErrnoException) => {
        const why = transportErrorMessage(transport, e, target.name) ?? e.message;
        fail(`Error while contacting node ${target.name} (${target.address}:${target.port}): ${why}`);
      });
      req.on('close', () => clearTimeout(connectTimer));
      req.end(body);
    });
  }

  /** Call many nodes in parallel; args may differ per node. */
  async callMany(targets: RpcTarget[], proc: ProcedureName, args: unknown[] | ((t: RpcTarget) => unknown[])): Promise<Map<string, RpcResult>> {
    const results = await Promise.all(targets.map((t) => this.call(t, proc, typeof args === 'function' ? args(t) : args)));
    return new Map(results.map((r) => [r.node, r]));
  }
}

/** Encode a file's content as upstream's ED_COMPRESS blob. */
export function encodeBlob(text: string): [number, string] {
  if (text.length < 512) return [RPC_ENCODING_NONE, text];
  return [RPC_ENCODING_ZLIB_BASE64, zlib.deflateSync(Buffer.from(text, 'utf8'), { level: 3 }).toString('base64')];
}

export function decodeBlob(blob: unknown): string {
  if (!Array.isArray(blob) || blob.length !== 2 || typeof blob[1] !== 'string') throw new Error('invalid encoded blob');
  if (blob[0] === RPC_ENCODING_NONE) return blob[1];
  if (blob[0] === RPC_ENCODING_ZLIB_BASE64) return zlib.inflateSync(Buffer.from(blob[1], 'base64')).toString('utf8');
  throw new Error(`unknown blob encoding ${String(blob[0])}`);
}
