// Keeping this node's daemons running (upstream's utils.EnsureDaemon, which asks
// daemon-util whether the pid file names a live process and starts the daemon if not).
import fs from 'node:fs';
import { startDaemon } from '../daemons/control.ts';
import type { Logger } from '../util/log.ts';
import type { NodePaths } from '../util/paths.ts';

/** Whether the process a daemon's pid file names is alive (a zombie is not). */
export function daemonAlive(paths: NodePaths, daemon: string): boolean {
  let pid: number;
  try {
    pid = Number.parseInt(fs.readFileSync(paths.pidFile(daemon), 'utf8').trim(), 10);
  } catch {
    return false;
  }
  if (!Number.isInteger(pid) || pid <= 1) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: alive, only not ours to signal.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // "pid (comm) S ...": the state follows the last parenthesis.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc: trust the signal
  }
}

/** Start a daemon of this node; true when it runs afterwards. */
export async function startNodeDaemon(role: 'noded' | 'masterd', log: Logger): Promise<boolean> {
  const daemon = `ganeti-${role}`;
  const { code, stderr } = await startDaemon(role);
  // Another watcher, or the operator, may have started it meanwhile.
  if (code === 0 || /already running/.test(stderr)) {
    log.info(`Started daemon '${daemon}'`);
    return true;
  }
  log.error(`Can't start daemon '${daemon}', failure exit code ${code}, output: ${stderr.trim()}`);
  return false;
}

/** Upstream's EnsureDaemon: start the daemon unless its pid file names a live process. */
export async function ensureDaemon(paths: NodePaths, role: 'noded' | 'masterd', log: Logger): Promise<boolean> {
  if (daemonAlive(paths, `ganeti-${role}`)) return true;
  log.warn(`Daemon 'ganeti-${role}' is not running, starting it`);
  return startNodeDaemon(role, log);
}
