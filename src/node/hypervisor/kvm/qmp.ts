// A QMP client (upstream's hv_kvm.monitor.QmpConnection): one unix-socket connection,
// the greeting read, capabilities negotiated, then commands one at a time. Messages are
// JSON objects, one per line ("\r\n"); asynchronous events may come between a command
// and its answer and are kept (`events`). Every command carries an id, and the answer
// with that id is its result; {"error": {class, desc}} becomes a HypervisorError.
// A qemu chardev server takes one client at a time, so callers connect, run a few
// commands and close (see withQmp).
import net from 'node:net';
import { HypervisorError } from '../../../core/errors.ts';

type Dict = Record<string, unknown>;

export interface QmpEvent {
  event: string;
  data?: Dict;
  timestamp?: { seconds: number; microseconds: number };
}

const DEFAULT_TIMEOUT_MS = 10_000;

export class QmpClient {
  readonly events: QmpEvent[] = [];
  greeting: Dict | null = null;
  private socket: net.Socket | null = null;
  private buffer = '';
  private waiters: Array<(msg: Dict | null, err?: Error) => void> = [];
  private queue: Dict[] = [];
  private closed = false;
  private closeError: Error | null = null;
  private nextId = 1;

  readonly path: string;
  readonly timeoutMs: number;

  constructor(path: string, timeoutMs = DEFAULT_TIMEOUT_MS) {
    this.path = path;
    this.timeoutMs = timeoutMs;
  }

  /** Connect, read the greeting and leave capabilities negotiation mode. */
  async connect(): Promise<void> {
    try {
      await this.open();
    } catch (err) {
      // A half-open connection would hold qemu's only QMP slot: never leave one behind.
      this.close();
      throw err;
    }
  }

  private async open(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const sock = net.createConnection(this.path);
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new HypervisorError(`Timeout connecting to the QMP socket ${this.path}`));
      }, this.timeoutMs);
      sock.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
      sock.once('error', (err) => {
        clearTimeout(timer);
        reject(new HypervisorError(`Can't connect to the QMP socket ${this.path}: ${err.message}`));
      });
      this.socket = sock;
    });
    const sock = this.socket!;
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => this.onData(chunk));
    sock.on('error', (err) => this.onClose(new HypervisorError(`QMP connection ${this.path} failed: ${err.message}`)));
    sock.on('close', () => this.onClose(null));
    const greeting = await this.nextMessage();
    if (!greeting || typeof greeting.QMP !== 'object') {
      throw new HypervisorError(`Invalid QMP greeting from ${this.path}: ${JSON.stringify(greeting)}`);
    }
    this.greeting = greeting.QMP as Dict;
    await this.execute('qmp_capabilities');
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl).trim();
      this.buffer = this.buffer.slice(nl + 1);
      if (line === '') continue;
      let msg: Dict;
      try {
        msg = JSON.parse(line) as Dict;
      } catch {
        this.onClose(new HypervisorError(`Invalid QMP message from ${this.path}: ${line.slice(0, 200)}`));
        this.socket?.destroy();
        return;
      }
      if (typeof msg.event === 'string') {
        this.events.push(msg as unknown as QmpEvent);
        continue;
      }
      const waiter = this.waiters.shift();
      if (waiter) waiter(msg);
      else this.queue.push(msg);
    }
  }

  private onClose(err: Error | null): void {
    if (this.closed) return;
    this.closed = true;
    this.closeError = err;
    for (const w of this.waiters.splice(0)) w(null, err ?? new HypervisorError(`QMP connection ${this.path} closed`));
  }

  private nextMessage(): Promise<Dict | null> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.closed) return Promise.reject(this.closeError ?? new HypervisorError(`QMP connection ${this.path} closed`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new HypervisorError(`Timeout waiting for an answer on the QMP socket ${this.path}`));
      }, this.timeoutMs);
      const waiter = (msg: Dict | null, err?: Error) => {
        clearTimeout(timer);
        if (err) reject(err);
        else resolve(msg);
      };
      this.waiters.push(waiter);
    });
  }

  /** Run one command; its "return" value, or a HypervisorError with qemu's error text. */
  async execute(command: string, args?: Dict): Promise<unknown> {
    if (!this.socket || this.closed) throw new HypervisorError(`QMP connection ${this.path} is not open`);
    const id = `ganeti-${this.nextId++}`;
    const msg: Dict = { execute: command, id };
    if (args && Object.keys(args).length > 0) msg.arguments = args;
    this.socket.write(`${JSON.stringify(msg)}\n`);
    for (;;) {
      const answer = await this.nextMessage();
      if (!answer) throw new HypervisorError(`QMP connection ${this.path} closed`);
      // An answer without id (a protocol error about the message itself) is ours too.
      if (answer.id !== undefined && answer.id !== id) continue;
      if (answer.error) {
        const e = answer.error as Dict;
        throw new HypervisorError(`QMP command ${command} failed: ${String(e.desc ?? JSON.stringify(e))}${e.class ? ` (${String(e.class)})` : ''}`);
      }
      return answer.return;
    }
  }

  /** Wait for an event named `name` (already received or coming), up to `timeoutMs`. */
  async waitEvent(name: string, timeoutMs: number): Promise<QmpEvent | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.events.findIndex((e) => e.event === name);
      if (i >= 0) return this.events.splice(i, 1)[0];
      if (this.closed || Date.now() >= deadline) return null;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  close(): void {
    this.closed = true;
    this.socket?.destroy();
    this.socket = null;
  }
}

/** Connect to `path`, run `fn`, close. */
export async function withQmp<T>(path: string, fn: (qmp: QmpClient) => Promise<T>, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<T> {
  const qmp = new QmpClient(path, timeoutMs);
  try {
    await qmp.connect();
    return await fn(qmp);
  } finally {
    qmp.close();
  }
}
