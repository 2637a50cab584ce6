// The RAPI HTTP(S) server: one request per connection (every answer says
// `Connection: close`, as upstream's), at most --max-clients connections served at once
// (more are accepted and wait, unread, for a free slot, as upstream's), bounded time to
// send a request and a bounded body, then route → authenticate → body → handler, and every
// answer in upstream's form (headers, {code, message, explain} errors).
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { RELEASE_VERSION } from '../core/constants.ts';
import { parseJson } from '../core/json.ts';
import type { Logger } from '../util/log.ts';
import { authorize } from './auth.ts';
import { RequestContext, parseQuery } from './context.ts';
import { HTTP_RESPONSES, HttpError, badRequest, errorBody, notFound } from './errors.ts';
import { dumpJson } from './json.ts';
import { METHODS, RAPI_ROUTES, Router, accessFor, type Method } from './routes.ts';
import type { RapiUser } from './users.ts';

/** Largest request body accepted (instance creation bodies are a few KB). */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/** Time to finish the TLS handshake and to send the request's headers (upstream's read timeout). */
const HEADERS_TIMEOUT_MS = 10_000;
/** Time to send the whole request, body included. */
const REQUEST_TIMEOUT_MS = 30_000;
/** Connections waiting for a slot beyond this many are closed at once (they would only hold file descriptors). */
const MAX_WAITING = 1024;

const SERVER_HEADER = `Ganeti ${RELEASE_VERSION}`;

export interface RapiServerOptions {
  /** Key and certificate (PEM) for HTTPS; null for plain HTTP (--no-ssl). */
  tls: { key: string; cert: string } | null;
  users: { get(name: string): RapiUser | undefined };
  requireAuthentication: boolean;
  maxClients: number;
  /** The master daemon's LUXI socket. */
  luxiSocket: string;
  log: Logger;
  maxBodyBytes?: number;
}

type InnerServer = http.Server | https.Server;

export class RapiServer {
  private readonly opts: RapiServerOptions;
  private readonly router = new Router(RAPI_ROUTES);
  private readonly inner: InnerServer;
  private readonly outer: net.Server;
  private readonly maxBody: number;
  private active = 0;
  private readonly waiting: net.Socket[] = [];
  private readonly sockets = new Set<net.Socket>();

  constructor(opts: RapiServerOptions) {
    this.opts = opts;
    this.maxBody = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    const common: http.ServerOptions = {
      requireHostHeader: false, // checked here, to answer with Ganeti's error body
      headersTimeout: HEADERS_TIMEOUT_MS,
      requestTimeout: REQUEST_TIMEOUT_MS,
      connectionsCheckingInterval: 1000,
      keepAlive: false,
    };
    const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => void this.handle(req, res, false);
    this.inner = opts.tls
      ? https.createServer({ ...common, key: opts.tls.key, cert: opts.tls.cert, handshakeTimeout: HEADERS_TIMEOUT_MS }, onRequest)
      : http.createServer(common, onRequest);
    // A client that sends "Expect: 100-continue" (curl does for larger bodies) is told to go
    // on only once the request passed routing, authentication and the size check.
    this.inner.on('checkContinue', (req, res) => void this.handle(req, res, true));
    this.inner.on('clientError', (err: NodeJS.ErrnoException, socket: net.Socket) => this.clientError(err, socket));
    // The inner server never listens itself (the outer one hands it its connections), but
    // its timeouts are only enforced once it believes it does.
    this.inner.emit('listening');
    this.outer = net.createServer({ pauseOnConnect: true }, (sock) => this.accept(sock));
  }

  listen(port: number, host: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.outer.once('error', reject);
      this.outer.listen(port, host, () => {
        this.outer.off('error', reject);
        resolve();
      });
    });
  }

  address(): net.AddressInfo | null {
    const a = this.outer.address();
    return a && typeof a === 'object' ? a : null;
  }

  /** Serve a new key and certificate from now on (connections already open keep theirs). */
  setCertificate(tls: { key: string; cert: string }): void {
    if (this.inner instanceof https.Server) this.inner.setSecureContext({ key: tls.key, cert: tls.cert });
  }

  /** Stop listening and drop every connection, served or waiting (the master keeps what was submitted). */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.outer.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    this.inner.close();
    await closed;
  }

  // --- connection slots ------------------------------------------------------------

  private accept(sock: net.Socket): void {
    this.sockets.add(sock);
    sock.on('error', () => undefined); // a client that goes away is no error of ours
    sock.once('close', () => this.sockets.delete(sock));
    if (this.active < this.opts.maxClients) {
      this.serve(sock);
    } else if (this.waiting.length >= MAX_WAITING) {
      sock.destroy();
    } else {
      this.waiting.push(sock);
      sock.once('close', () => {
        const i = this.waiting.indexOf(sock);
        if (i >= 0) this.waiting.splice(i, 1);
      });
    }
  }

  private serve(sock: net.Socket): void {
    this.active += 1;
    sock.once('close', () => {
      this.active -= 1;
      this.next();
    });
    this.inner.emit('connection', sock);
    // TLS reads the socket itself; plain HTTP reads the stream, paused since accept.
    if (!this.opts.tls) sock.resume();
  }

  private next(): void {
    while (this.active < this.opts.maxClients && this.waiting.length > 0) {
      const sock = this.waiting.shift()!;
      if (!sock.destroyed) this.serve(sock);
    }
  }

  // --- requests --------------------------------------------------------------------

  private clientError(err: NodeJS.ErrnoException, socket: net.Socket): void {
    if (!socket.writable || err.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    const code = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    const body = `${dumpJson(errorBody(new HttpError(code)))}\n`;
    socket.end(`HTTP/1.1 ${code} ${HTTP_RESPONSES[code][0]}\r\nContent-Type: application/json\r\nConnection: close\r\n` +
      `Date: ${new Date().toUTCString()}\r\nServer: ${SERVER_HEADER}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse, expectsContinue: boolean): Promise<void> {
    const started = performance.now();
    let user: string | null = null;
    let ctx: RequestContext | null = null;
    let status = 200;
    let text: string;
    let headers: Record<string, string> = {};
    try {
      const r = await this.process(req, res, expectsContinue);
      ctx = r.ctx;
      user = r.ctx.user;
      text = dumpJson(await r.run());
    } catch (err) {
      const e = err instanceof HttpError ? err : new HttpError(500, (err as Error)?.message ?? String(err));
      if (!(err instanceof HttpError)) this.opts.log.error({ err: String((err as Error)?.stack ?? err), path: req.url }, 'unexpected error in a RAPI handler');
      status = e.code;
      headers = e.headers;
      text = dumpJson(errorBody(e));
    } finally {
      ctx?.close();
    }
    this.send(res, status, text, headers);
    const ms = Math.round(performance.now() - started);
    const line = { method: req.method, path: req.url, status, user, ms };
    if (status >= 500) this.opts.log.warn(line, 'request failed');
    else this.opts.log.debug(line, 'request');
  }

  /** Everything before the handler runs; the handler, ready to run. */
  private async process(req: http.IncomingMessage, res: http.ServerResponse, expectsContinue: boolean): Promise<{ ctx: RequestContext; run: () => Promise<unknown> }> {
    if (req.httpVersion === '1.1' && req.headers.host === undefined) throw badRequest('Missing Host header');
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const match = this.router.match(path);
    if (!match) throw notFound();
    const method = (req.method ?? 'GET').toUpperCase();
    const handler = (METHODS as readonly string[]).includes(method) ? match.resource[method as Method] : undefined;
    if (!handler) throw new HttpError(501, `Method ${method} is unsupported for path ${url}`);
    const { user } = authorize({
      header: req.headers.authorization,
      access: accessFor(match.resource, method as Method),
      requireAuthentication: this.opts.requireAuthentication,
      lookup: (name) => this.opts.users.get(name),
    });
    const raw = await this.readBody(req, res, expectsContinue);
    let body: unknown = null;
    if (raw.length > 0) {
      // RFC 2616 7.2.1: a body without a type is application/octet-stream.
      const type = (req.headers['content-type'] ?? 'application/octet-stream').split(';')[0].trim().toLowerCase();
      if (type !== 'application/json') throw new HttpError(415);
      try {
        body = parseJson(raw.toString('utf8'));
      } catch {
        throw badRequest('Unable to parse JSON data');
      }
    }
    const ctx = new RequestContext({
      method, path, items: match.items, query: parseQuery(q < 0 ? '' : url.slice(q + 1)), body, user,
      opName: match.resource.name, socket: this.opts.luxiSocket,
    });
    return { ctx, run: async () => handler(ctx) };
  }

  /** The request body, refused (413) beyond the limit, without reading more than that. */
  private readBody(req: http.IncomingMessage, res: http.ServerResponse, expectsContinue: boolean): Promise<Buffer> {
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > this.maxBody) {
      return Promise.reject(new HttpError(413, `Request body larger than ${this.maxBody} bytes`));
    }
    if (expectsContinue) res.writeContinue();
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > this.maxBody) {
          req.pause();
          reject(new HttpError(413, `Request body larger than ${this.maxBody} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      req.on('end', () => resolve(Buffer.concat(chunks)));
      req.on('error', (err) => reject(new HttpError(400, `Error while reading the request: ${err.message}`)));
    });
  }

  private send(res: http.ServerResponse, code: number, json: string, extra: Record<string, string>): void {
    if (res.headersSent || res.destroyed) return;
    // Upstream's serializer ends every body with a newline.
    const text = `${json}\n`;
    res.sendDate = false;
    // Upstream's header order (goldens rapi-*): type, its extra headers, connection, date, server, length.
    res.writeHead(code, HTTP_RESPONSES[code]?.[0] ?? 'Unknown', {
      'Content-Type': 'application/json',
      ...extra,
      Connection: 'close',
      Date: new Date().toUTCString(),
      Server: SERVER_HEADER,
      'Content-Length': String(Buffer.byteLength(text)),
    });
    res.end(text);
  }
}
