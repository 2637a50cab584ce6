// The LUXI server: JSON messages ending in 0x03 on Unix stream sockets. Each
// connection carries requests strictly one at a time; connections are served
// concurrently, so a slow client never stalls others. Bad input gets an error reply;
// nothing a client sends can crash the daemon.
import net from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import { LuxiDecoder, encodeMessage, parseRequest, type LuxiResponse } from '../../core/luxi.ts';
import { encodeError, ProtocolError } from '../../core/errors.ts';
import type { Logger } from '../../util/log.ts';
import { parseJson } from '../../core/json.ts';

/** Requests one connection may have waiting before the server stops reading it. */
const MAX_QUEUED_REQUESTS = 32;

export type MethodTable = Record<string, (args: unknown[]) => unknown | Promise<unknown>>;

export class LuxiServer {
  private servers: net.Server[] = [];
  private sockets = new Set<net.Socket>();

  private readonly methods: MethodTable;
  private readonly log: Logger;

  constructor(methods: MethodTable, log: Logger) {
    this.methods = methods;
    this.log = log;
  }

  /** Listen on each path: created under a temporary name, mode 0660, then renamed into place. */
  async listen(paths: string[]): Promise<void> {
    for (const p of paths) {
      fs.mkdirSync(path.dirname(p), { recursive: true, mode: 0o750 });
      const tmp = `${p}.${process.pid}.tmp`;
      fs.rmSync(tmp, { force: true });
      const server = net.createServer((sock) => this.serve(sock));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(tmp, () => resolve());
      });
      fs.chmodSync(tmp, 0o660);
      fs.renameSync(tmp, p);
      this.servers.push(server);
    }
  }

  async close(paths: string[]): Promise<void> {
    for (const s of this.servers) s.close();
    for (const sock of this.sockets) sock.destroy();
    for (const p of paths) fs.rmSync(p, { force: true });
  }

  private serve(sock: net.Socket): void {
    this.sockets.add(sock);
    const decoder = new LuxiDecoder();
    let chain: Promise<void> = Promise.resolve();
    let queued = 0;
    sock.on('data', (data: Buffer) => {
      let messages: string[];
      try {
        messages = decoder.push(data);
      } catch (err) {
        // An oversized message: answer once and drop the connection.
        sock.pause();
        this.write(sock, { success: false, result: `Failed to parse request: ${(err as Error).message}` });
        sock.end();
        return;
      }
      for (const m of messages) {
        // Backpressure: a client that sends without reading answers is not read further.
        if (++queued >= MAX_QUEUED_REQUESTS) sock.pause();
        chain = chain.then(() => this.handle(sock, m)).finally(() => {
          if (--queued < MAX_QUEUED_REQUESTS / 2 && sock.isPaused() && !sock.destroyed) sock.resume();
        });
      }
    });
    sock.on('error', () => undefined);
    sock.on('close', () => this.sockets.delete(sock));
  }

  private write(sock: net.Socket, response: LuxiResponse): void {
    if (sock.destroyed || !sock.writable) return;
    let frame: Buffer;
    try {
      frame = encodeMessage(response);
    } catch (err) {
      frame = encodeMessage({ success: false, result: encodeError(err) });
    }
    sock.write(frame);
  }

  private async handle(sock: net.Socket, text: string): Promise<void> {
    let method = '?';
    try {
      const req = parseRequest(text, parseJson);
      method = req.method;
      const fn = Object.hasOwn(this.methods, req.method) ? this.methods[req.method] : undefined;
      if (!fn) throw new ProtocolError(`Unknown luxi request '${req.method}'`);
      const result = await fn(req.args);
      this.write(sock, { success: true, result });
    } catch (err) {
      if (err instanceof ProtocolError && method === '?') {
        this.write(sock, { success: false, result: err.message });
        return;
      }
      if (!(err instanceof Error) || err.constructor === Error || err instanceof TypeError) {
        this.log.error({ method, err: String((err as Error)?.stack ?? err) }, 'unexpected error in LUXI handler');
      }
      this.write(sock, { success: false, result: encodeError(err) });
    }
  }
}
