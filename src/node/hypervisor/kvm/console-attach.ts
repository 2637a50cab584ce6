// `gnt-instance console` for a kvm serial console on this very machine. The console the
// node describes is upstream's: ssh to root@node running `socat STDIO,raw,echo=0,
// escape=0x1d UNIX-CONNECT:<serial socket>`. Where that socket is here (the command runs
// on the instance's node, or on a machine holding several virtual nodes), ssh is not
// needed: the CLI attaches to the socket itself, in-process. On a terminal the line is
// raw and Ctrl-] ends the session (socat's escape); without one, the guest's output is
// copied until the instance stops or the command is interrupted, and end of input does
// not end the session (so `gnt-instance console inst </dev/null | grep …` works).
import fs from 'node:fs';
import net from 'node:net';

type Dict = Record<string, unknown>;

const ESCAPE = 0x1d;

/** The serial socket named by an ssh console's socat command, if it exists on this machine. */
export function localConsoleSocket(console: Dict): string | null {
  if (console.kind !== 'ssh' || !Array.isArray(console.command)) return null;
  const arg = (console.command as unknown[]).find((a): a is string => typeof a === 'string' && a.startsWith('UNIX-CONNECT:'));
  if (!arg) return null;
  const socket = arg.slice('UNIX-CONNECT:'.length);
  try {
    return fs.statSync(socket).isSocket() ? socket : null;
  } catch {
    return null;
  }
}

/** Attach this terminal to the serial socket; resolves with the exit code. */
export function attachConsole(socket: string, stdin: NodeJS.ReadStream = process.stdin, stdout: NodeJS.WritableStream = process.stdout): Promise<number> {
  return new Promise((resolve) => {
    const conn = net.createConnection(socket);
    const tty = stdin.isTTY === true;
    let done = false;
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
      if (tty) stdin.setRawMode(true);
      stdin.on('data', onInput);
      stdin.resume();
    });
    conn.on('data', (d) => stdout.write(d));
    // The reader went away (`… | grep -m1 READY`): the session is over.
    stdout.on('error', () => finish(0));
    conn.on('error', (err) => {
      process.stderr.write(`Cannot connect to the console (${socket}): ${err.message}\n`);
      finish(1);
    });
    conn.on('close', () => finish(0));
  });
}
