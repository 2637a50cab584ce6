// noded's RPC server: HTTP POST /<procedure>, body = JSON list of arguments, reply
// [success, payload], over TLS with the certificate of ./tls.ts (or plain HTTP with
// --no-ssl). Every request is authenticated before anything runs (see
// src/rpc/auth.ts); there is no switch that turns that off.
import http from 'node:http';
import https from 'node:https';
import fs from 'node:fs';
import { decodeKey, RequestVerifier } from '../rpc/auth.ts';
import { isProcedure } from '../rpc/procedures.ts';
import { BACKEND, RpcFail, type NodeContext } from './backend.ts';
import { handleJoin } from './membership.ts';
import { JOIN_PATH } from '../rpc/join.ts';
import { parseJson } from '../core/json.ts';
import type { ServingCertificate } from './tls.ts';

/** Largest request body noded accepts (config uploads stay far below). */
const MAX_BODY = 64 * 1024 * 1024;
const REQUEST_TIMEOUT_MS = 120_000;
/** A join request carries the node key and the cluster certificate, sealed. */
const MAX_JOIN_BODY = 64 * 1024;

/** The node key, re-read when the file changes (a node joins after noded starts). */
function nodeKeyLoader(file: string): () => Uint8Array | null {
  let cached: { mtimeMs: number; key: Uint8Array } | null = null;
  return () => {
    let st: fs.Stats;
    try {
      st = fs.statSync(file);
    } catch {
      cached = null;
      return null;
    }
    if (!cached || cached.mtimeMs !== st.mtimeMs) {
      try {
        cached = { mtimeMs: st.mtimeMs, key: decodeKey(fs.readFileSync(file, 'utf8'), 'node key') };
      } catch {
        return null;
      }
    }
    return cached.key;
  };
}

function reply(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** A join request is authenticated by the join token, not the node key (it brings the key). */
function serveJoin(ctx: NodeContext, req: http.IncomingMessage, res: http.ServerResponse, onJoined: () => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (c: Buffer) => {
    size += c.length;
    if (size <= MAX_JOIN_BODY) chunks.push(c);
  });
  req.on('end', () => {
    if (req.method !== 'POST') return reply(res, 400, 'Only the POST method is supported');
    if (size > MAX_JOIN_BODY) return reply(res, 413, 'Request body too large');
    const [status, body] = handleJoin(ctx, req.headers, Buffer.concat(chunks));
    reply(res, status, body);
    if (status === 200) onJoined();
  });
}

/** Upstream's --max-clients default. */
export const DEFAULT_MAX_CLIENTS = 20;

/**
 * At most `max` procedures run at once; the others wait for a slot. Upstream counts
 * connections, but the master keeps its connections alive (and has up to 30 to a
 * node), so the limit is on requests being served.
 */
class RequestSlots {
  private free: number;
  private readonly waiting: Array<() => void> = [];

  constructor(max: number) {
    this.free = max;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free -= 1;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free += 1;
    }
  }
}

export interface NodeServerOptions {
  /** The certificate to serve; null = plain HTTP (--no-ssl, or a --no-ssl cluster). */
  certificate: ServingCertificate | null;
  maxClients?: number;
}

export function createNodeServer(ctx: NodeContext, opts: NodeServerOptions = { certificate: null }): http.Server | https.Server {
  const verifier = new RequestVerifier(ctx.hostname, nodeKeyLoader(ctx.paths.nodeKey));
  const slots = new RequestSlots(opts.maxClients ?? DEFAULT_MAX_CLIENTS);
  // A request must arrive whole within REQUEST_TIMEOUT_MS; slow senders are cut off.
  const serverOptions = { keepAliveTimeout: 60_000, requestTimeout: REQUEST_TIMEOUT_MS, headersTimeout: 10_000 };
  const handle = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const proc = (req.url ?? '/').slice(1);
    // Once joined, new connections get the cluster certificate the join brought.
    if (req.url === JOIN_PATH) return serveJoin(ctx, req, res, () => opts.certificate?.check());
    const early = verifier.precheck(req.headers);
    if (early) {
      ctx.log.warn({ procedure: proc, remote: req.socket.remoteAddress, reason: early }, 'refused unauthenticated RPC request');
      res.setHeader('connection', 'close');
      reply(res, 401, `Unauthorized: ${early}`);
      res.on('finish', () => req.socket.destroy());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) tooLarge = true;
      else chunks.push(c);
    });
    req.on('end', () => {
      if (req.method !== 'POST') return reply(res, 400, 'Only the POST method is supported');
      if (tooLarge) return reply(res, 413, 'Request body too large');
      const body = Buffer.concat(chunks);
      const refused = verifier.verify(req.headers, `/${proc}`, body);
      if (refused) {
        ctx.log.warn({ procedure: proc, remote: req.socket.remoteAddress, reason: refused }, 'refused unauthenticated RPC request');
        return reply(res, 401, `Unauthorized: ${refused}`);
      }
      if (!isProcedure(proc)) return reply(res, 404, `Unknown procedure '${proc}'`);
      let args: unknown;
      try {
        args = parseJson(body.toString('utf8'));
      } catch {
        return reply(res, 400, 'Request body is not valid JSON');
      }
      if (!Array.isArray(args)) return reply(res, 400, 'Request body must be a JSON list of arguments');
      ctx.log.debug({ procedure: proc }, 'RPC call');
      slots.run(async () => BACKEND[proc](ctx, args as unknown[]))
        .then(
          (payload) => reply(res, 200, [true, payload ?? null]),
          (err: unknown) => {
            const msg = err instanceof RpcFail ? err.message : `Error while executing backend function: ${(err as Error)?.message ?? String(err)}`;
            ctx.log.error({ procedure: proc, err: msg }, 'RPC procedure failed');
            reply(res, 200, [false, msg]);
          },
        );
    });
  };
  const server = opts.certificate
    ? https.createServer({ ...serverOptions, ...opts.certificate.options(), minVersion: 'TLSv1.2' }, handle)
    : http.createServer(serverOptions, handle);
  if (opts.certificate) {
    opts.certificate.watch(server as https.Server);
    server.on('tlsClientError', (err: Error, socket: { remoteAddress?: string }) => {
      ctx.log.warn({ remote: socket.remoteAddress, err: err.message }, 'TLS handshake failed (a client without TLS, or one that refused this certificate)');
    });
  }
  // A request that is not HTTP gets a 400 (Node's default), so that a TLS client meeting
  // a --no-ssl noded learns it is not TLS ("wrong version number") rather than a reset.
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    else socket.destroy();
  });
  return server;
}
