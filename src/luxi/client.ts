// LUXI client, used by the gnt-* commands (and RAPI and the benchmarks): one
// persistent Unix-socket connection, one request at a time. Failures come back as
// Ganeti's error classes.
import net from 'node:net';
import { LUXI_DEF_RWTO, LUXI_VERSION } from '../core/constants.ts';
import { LuxiDecoder, encodeMessage } from '../core/luxi.ts';
import { LuxiError, NoMasterError, PermissionError, ProtocolError, TimeoutError, decodeError } from '../core/errors.ts';
import { parseJson } from '../core/json.ts';
import { nodePaths } from '../util/paths.ts';

/** The socket the tools use: FORCE_LUXI_SOCKET (`master`, `query` or a path), else the query socket. */
export function defaultSocket(env: NodeJS.ProcessEnv = process.env): string {
  const paths = nodePaths();
  const forced = env.FORCE_LUXI_SOCKET;
  if (forced === 'master') return paths.masterSocket;
  if (forced === 'query' || !forced) return paths.querySocket;
  return forced;
}

/** How long to keep retrying a refused connection (a master that is restarting). */
const CONNECT_RETRY_MS = 2000;

export class LuxiClient {
  private decoder = new LuxiDecoder();
  private queue: string[] = [];
  private waiter: { resolve(m: string): void; reject(e: Error): void } | null = null;
  private closedError: Error | null = null;

  private readonly sock: net.Socket;
  readonly path: string;

  private constructor(sock: net.Socket, path: string) {
    this.sock = sock;
    this.path = path;
    sock.on('data', (d: Buffer) => {
      let msgs: string[];
      try {
        msgs = this.decoder.push(d);
      } catch (err) {
        this.fail(err as Error);
        return;
      }
      for (const m of msgs) {
        if (this.waiter) {
          const w = this.waiter;
          this.waiter = null;
          w.resolve(m);
        } else this.queue.push(m);
      }
    });
    sock.on('error', (e) => this.fail(new ProtocolError(`LUXI connection error: ${e.message}`)));
    sock.on('close', () => this.fail(new ProtocolError('Connection closed by the master daemon')));
  }

  private fail(err: Error): void {
    this.closedError ??= err;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w.reject(err);
    }
  }

  static async connect(path: string = defaultSocket()): Promise<LuxiClient> {
    const deadline = Date.now() + CONNECT_RETRY_MS;
    for (;;) {
      try {
        const sock = await new Promise<net.Socket>((resolve, reject) => {
          const s = net.createConnection(path);
          s.once('connect', () => {
            s.removeAllListeners('error');
            resolve(s);
          });
          s.once('error', reject);
        });
        return new LuxiClient(sock, path);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EACCES' || code === 'EPERM') throw new PermissionError(path);
        if ((code === 'ENOENT' || code === 'ECONNREFUSED' || code === 'EAGAIN') && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 100));
          continue;
        }
        if (code === 'ENOENT' || code === 'ECONNREFUSED') throw new NoMasterError(path);
        throw err;
      }
    }
  }

  private receive(timeoutMs: number): Promise<string> {
    const queued = this.queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.closedError) return Promise.reject(this.closedError);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        reject(new TimeoutError('Timeout while waiting for the master daemon to answer'));
      }, timeoutMs);
      this.waiter = {
        resolve: (m) => { clearTimeout(timer); resolve(m); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      };
    });
  }

  private last: Promise<unknown> = Promise.resolve();

  /**
   * Call a method; returns its result or throws the Ganeti error the master sent.
   * Calls on one connection are answered in order, so concurrent callers are queued.
   */
  call(method: string, args: unknown[], timeoutSec = LUXI_DEF_RWTO): Promise<unknown> {
    const p = this.last.then(() => this.callNow(method, args, timeoutSec));
    this.last = p.catch(() => undefined);
    return p;
  }

  private async callNow(method: string, args: unknown[], timeoutSec: number): Promise<unknown> {
    if (this.closedError) throw this.closedError;
    this.sock.write(encodeMessage({ method, args, version: LUXI_VERSION }));
    const text = await this.receive(timeoutSec * 1000);
    let resp: unknown;
    try {
      resp = parseJson(text);
    } catch {
      throw new ProtocolError('Invalid JSON in the master daemon\'s answer');
    }
    if (!resp || typeof resp !== 'object' || !('success' in resp) || !('result' in resp)) {
      throw new ProtocolError('Invalid answer from the master daemon (no success/result)');
    }
    const r = resp as { success: unknown; result: unknown; version?: unknown };
    if (r.version !== undefined && r.version !== LUXI_VERSION) {
      throw new LuxiError(`LUXI version mismatch, server ${String(r.version)}, client ${LUXI_VERSION}`);
    }
    if (r.success) return r.result;
    throw decodeError(r.result);
  }

  close(): void {
    this.sock.destroy();
  }
}
