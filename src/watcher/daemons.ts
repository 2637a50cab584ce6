// Keeping this node's daemons running (upstream's utils.EnsureDaemon, which asks
// daemon-util whether the pid file names a live process and starts the daemon if not).
import { daemonRunning, startDaemon } from '../daemons/control.ts';
import type { Logger } from '../util/log.ts';
import type { NodePaths } from '../util/paths.ts';

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
  if (daemonRunning(paths, `ganeti-${role}`)) return true;
  log.warn(`Daemon 'ganeti-${role}' is not running, starting it`);
  return startNodeDaemon(role, log);
}
