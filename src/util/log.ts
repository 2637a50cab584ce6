// Daemon logs: pino JSON lines to var/log/ganeti/<daemon>.log (no worker-thread
// transports: they cannot load inside the single executable). SIGHUP reopens the
// file for logrotate. --syslog additionally sends each line to the system log through
// the `logger` tool, since Node has no Unix datagram sockets.
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import pino from 'pino';
import type { Logger } from 'pino';

export type { Logger };

export interface LogOptions {
  debug?: boolean;
  /** 'no' (default), 'yes' (file and syslog) or 'only' (syslog only). */
  syslog?: 'no' | 'yes' | 'only';
  /** Log to stderr instead of a file (foreground debugging, tests of the CLI). */
  stderr?: boolean;
  /** A stream that gets every line as well (the watcher's -d copy on the terminal). */
  echo?: pino.DestinationStream;
}

export interface DaemonLogger {
  log: Logger;
  reopen(): void;
  flush(): void;
}

/** Keys whose values never reach a log line. */
const REDACT = ['secret', 'key', 'password', 'token', 'signature', '*.secret', '*.key', '*.password', '*.token', 'headers["x-ganeti-signature"]'];

export function createDaemonLogger(daemon: string, file: string, opts: LogOptions = {}): DaemonLogger {
  const streams: pino.StreamEntry[] = [];
  let dest: pino.DestinationStream & { reopen?: () => void; flushSync?: () => void } | undefined;
  const level = opts.debug ? 'debug' : 'info';
  if (opts.stderr) {
    streams.push({ level, stream: process.stderr });
  } else if (opts.syslog !== 'only') {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o750 });
    dest = pino.destination({ dest: file, sync: false, mkdir: true });
    streams.push({ level, stream: dest });
  }
  if (opts.syslog === 'yes' || opts.syslog === 'only') {
    const logger = spawn('logger', ['-t', daemon], { stdio: ['pipe', 'ignore', 'ignore'] });
    logger.on('error', () => undefined);
    logger.stdin.on('error', () => undefined);
    // syslog gets everything but debug messages, as upstream.
    streams.push({ level: 'info', stream: logger.stdin });
  }
  if (opts.echo) streams.push({ level, stream: opts.echo });
  const log = pino({ level, base: { daemon, pid: process.pid }, redact: REDACT }, pino.multistream(streams));
  return {
    log,
    reopen: () => dest?.reopen?.(),
    flush: () => {
      try {
        dest?.flushSync?.();
      } catch {
        /* nothing buffered or not ready yet */
      }
    },
  };
}
