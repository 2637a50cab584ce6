// `gnt-instance console` for a kvm serial console on this very machine. The console the
// node describes is upstream's: ssh to root@node running `socat STDIO,raw,echo=0,
// escape=0x1d UNIX-CONNECT:<serial socket>`. Where the console's host is this node (the
// command runs on the instance's node, or on the machine holding a virtual cluster's
// nodes) and the socket is here, ssh is not needed: the CLI attaches to the socket
// itself, in-process; a socket that takes no connection (stale) falls back to ssh. On a terminal the line is
// raw and Ctrl-] ends the session (socat's escape); without one, the guest's output is
// copied until the instance stops or the command is interrupted, and end of input does
// not end the session (so `gnt-instance console inst </dev/null | grep …` works).
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { nodeEnv, type NodeEnv } from '../../../util/paths.ts';

type Dict = Record<string, unknown>;

const ESCAPE = 0x1d;

/**
 * Whether a console's host is this node: its own name, or, in a virtual cluster (every
 * node a directory <base>/<name> of this one machine, its sockets under its own root),
 * another virtual node of it. Elsewhere the same socket path on this machine would be
 * some other node's (or a stale) socket, never the instance's.
 */
export function consoleHostIsLocal(host: unknown, env: NodeEnv = nodeEnv()): boolean {
  if (typeof host !== 'string' || host === '') return false;
  const h = host.toLowerCase();
  const me = env.hostname.toLowerCase();
  if (h === me) return true;
  if (!env.virtual) return false;
  if (h.includes('/') || h.startsWith('.')) return false;
  try {
    return fs.statSync(path.join(path.dirname(env.root), host, 'var/run/ganeti')).isDirectory();
  } catch {
    return false;
  }
}

/** The serial socket named by an ssh console's socat command, if its host is this node and the socket exists here. */
export function localConsoleSocket(console: Dict, env?: NodeEnv): string | null {
  if (console.kind !== 'ssh' || !Array.isArray(console.command)) return null;
  if (!consoleHostIsLocal(console.host, env)) return null;
  const arg = (console.command as unknown[]).find((a): a is string => typeof a === 'string' && a.startsWith('UNIX-CONNECT:'));
  if (!arg) return null;
  const socket = arg.slice('UNIX-CONNECT:'.length);
  try {
    return fs.statSync(socket).isSocket() ? socket : null;
  } catch {
    return null;
  }
}

/** attachConsole's answer when the socket took no connection (nobody listens, or it is gone): use ssh instead. */
export const NOT_CONNECTED = -1;

/**
 * Attach this terminal to the serial socket; resolves with the exit code, or with
 * NOT_CONNECTED when the socket refuses the connection or is gone (a stale socket of a
 * qemu that is no more: the caller falls back to upstream's ssh command).
 */
export function attachConsole(socket: string, stdin: NodeJS.ReadStream = process.stdin, stdout: NodeJS.WritableStream = process.stdout): Promise<number> {
  return new Promise((resolve) => {
    const conn = net.createConnection(socket);
    const tty = stdin.isTTY === true;
    let done = false;
    let connected = false;
    const finish = (code: number) => {
      if (done) return;
      done = true;
      if (tty) stdin.setRawMode(false);
      stdin.pause();
      stdin.removeListener('data', onInput);
      conn.destroy();
      resolve(code);
    };
    const onInput = (chunk: Buffer) => {
      const at = tty ? chunk.indexOf(ESCAPE) : -1;
      if (at >= 0) {
        if (at > 0) conn.write(chunk.subarray(0, at));
        finish(0);
        return;
      }
      conn.write(chunk);
    };
    conn.on('connect', () => {
      connected = true;
      if (tty) stdin.setRawMode(true);
      stdin.on('data', onInput);
      stdin.resume();
    });
    conn.on('data', (d) => stdout.write(d));
    // The reader went away (`… | grep -m1 READY`): the session is over.
    stdout.on('error', () => finish(0));
    conn.on('error', (err) => {
      const code = (err as NodeJS.ErrnoException).code;
      if (!connected && (code === 'ECONNREFUSED' || code === 'ENOENT')) {
        finish(NOT_CONNECTED);
        return;
      }
      process.stderr.write(`Cannot connect to the console (${socket}): ${err.message}\n`);
      finish(1);
    });
    conn.on('close', () => finish(0));
  });
}
