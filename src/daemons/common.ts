// What every daemon shares: option parsing, the pid file held under a lock for the
// daemon's life, detaching (re-executing itself in the background and waiting until
// the child is ready), logs that SIGHUP reopens, and signal-driven shutdown.
import net from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { spawn } from 'node:child_process';
import { EXIT_FAILURE } from '../core/constants.ts';
import { writeFileAtomicSync } from '../util/fs.ts';
import { createDaemonLogger, type DaemonLogger } from '../util/log.ts';
import { nodeEnv, nodePaths, type NodePaths } from '../util/paths.ts';
import { selfCommand } from '../util/self.ts';

export interface DaemonOptions {
  foreground: boolean;
  debug: boolean;
  syslog: 'no' | 'yes' | 'only';
}

export class DaemonExit extends Error {
  readonly exitCode: number;

  constructor(message: string, exitCode: number) {
    super(message);
    this.exitCode = exitCode;
  }
}

const CHILD_MARK = 'GANETI_DAEMON_CHILD';

/**
 * Hold the daemon's lock: an abstract Unix socket named after the pid file. The kernel
 * releases it when the process dies, even by kill -9, so a stale pid file never blocks
 * a restart, and a second copy of the same daemon on the same node refuses to start.
 */
export async function acquirePidFile(pidFile: string, daemon: string): Promise<net.Server> {
  const name = `\0ganeti-ts:${crypto.createHash('sha256').update(path.resolve(pidFile)).digest('hex').slice(0, 40)}`;
  const server = net.createServer((s) => s.destroy());
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(name, () => resolve());
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      let pid = '?';
      try {
        pid = fs.readFileSync(pidFile, 'utf8').trim();
      } catch { /* no pid file */ }
      throw new DaemonExit(`${daemon} is already running on this node (pid ${pid}, pid file ${pidFile})`, EXIT_FAILURE);
    }
    throw err;
  }
  fs.mkdirSync(path.dirname(pidFile), { recursive: true, mode: 0o755 });
  writeFileAtomicSync(pidFile, `${process.pid}\n`, { mode: 0o644 });
  return server;
}

/** Re-execute ourselves detached and wait for the child to report that it is up. */
export function detach(role: string, argv: string[]): Promise<number> {
  const [cmd, ...prefix] = selfCommand();
  const child = spawn(cmd, [...prefix, role, ...argv], {
    detached: true,
    cwd: '/',
    stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
    env: { ...process.env, [CHILD_MARK]: '1', NODE_OPTIONS: '' },
  });
  return new Promise((resolve) => {
    let settled = false;
    const settle = (code: number) => {
      if (settled) return;
      settled = true;
      if (child.connected) child.disconnect();
      child.unref();
      resolve(code);
    };
    child.on('message', (m: { ready?: boolean; error?: string; exitCode?: number }) => {
      if (m.ready) settle(0);
      else if (m.error) {
        process.stderr.write(`${m.error}\n`);
        settle(m.exitCode ?? EXIT_FAILURE);
      }
    });
    child.on('exit', (code) => {
      if (!settled) process.stderr.write(`${role} exited during start-up (code ${code})\n`);
      settle(code || EXIT_FAILURE);
    });
    child.on('error', (err) => {
      process.stderr.write(`Cannot start ${role}: ${err.message}\n`);
      settle(EXIT_FAILURE);
    });
  });
}

function notifyParent(msg: object): void {
  if (process.env[CHILD_MARK] && process.send) {
    process.send(msg);
    process.disconnect?.();
  }
}

export interface DaemonSpec {
  /** Name used for logs and the pid file, e.g. ganeti-noded. */
  name: string;
  /** Subcommand that re-executes this daemon. */
  role: string;
  /** Start the service; returns its shutdown function. */
  start(ctx: { paths: NodePaths; hostname: string; logger: DaemonLogger }): Promise<() => Promise<void>>;
}

/**
 * Run a daemon: in the foreground, or detached (the parent waits for the child's
 * ready message and exits with its start-up status). SIGTERM/SIGINT shut down cleanly
 * (a second one exits at once); SIGHUP reopens the log file.
 */
export async function runDaemon(spec: DaemonSpec, opts: DaemonOptions, rawArgs: string[]): Promise<number> {
  if (!opts.foreground && !process.env[CHILD_MARK]) return detach(spec.role, rawArgs);
  delete process.env.NODE_OPTIONS;
  let lock: net.Server | undefined;
  let logger: DaemonLogger | undefined;
  try {
    const env = nodeEnv();
    const paths = nodePaths(env.root);
    lock = await acquirePidFile(paths.pidFile(spec.name), spec.name);
    logger = createDaemonLogger(spec.name, paths.logFile(spec.name), { debug: opts.debug, syslog: opts.syslog });
    const shutdown = await spec.start({ paths, hostname: env.hostname, logger });
    const log = logger.log;
    let stopping = false;
    const onStop = (signal: string) => {
      if (stopping) {
        log.warn({ signal }, 'second stop signal, exiting at once');
        logger?.flush();
        process.exit(EXIT_FAILURE);
      }
      stopping = true;
      log.info({ signal }, 'shutting down');
      shutdown()
        .catch((err) => log.error({ err: String(err) }, 'error during shutdown'))
        .finally(() => {
          fs.rmSync(paths.pidFile(spec.name), { force: true });
          lock?.close();
          logger?.flush();
          process.exit(0);
        });
    };
    process.on('SIGTERM', () => onStop('SIGTERM'));
    process.on('SIGINT', () => onStop('SIGINT'));
    process.on('SIGHUP', () => {
      logger?.reopen();
      log.info('log file reopened');
    });
    notifyParent({ ready: true });
    return -1; // keep running
  } catch (err) {
    const exitCode = err instanceof DaemonExit || (err as { exitCode?: number }).exitCode ? (err as { exitCode: number }).exitCode : EXIT_FAILURE;
    const message = `${spec.name}: ${(err as Error).message}`;
    logger?.log.error({ err: message }, 'start-up failed');
    logger?.flush();
    if (process.env[CHILD_MARK]) notifyParent({ error: message, exitCode });
    else process.stderr.write(`${message}\n`);
    if (lock) {
      // The pid file is ours (we hold its lock): a daemon that never started leaves none.
      fs.rmSync(nodePaths(nodeEnv().root).pidFile(spec.name), { force: true });
      lock.close();
    }
    // Whatever the failed start left open (sockets, workers) must not keep a daemon that
    // never started alive; the timer only gives the message to the parent time to leave.
    setTimeout(() => process.exit(exitCode), 200).unref();
    return exitCode;
  }
}
