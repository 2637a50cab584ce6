// Starting and stopping this node's daemons from another process (gnt-cluster init and
// destroy, master failover, noded's node_start_master_daemons / node_stop_master).
import fs from 'node:fs';
import { spawn } from 'node:child_process';
import type { NodePaths } from '../util/paths.ts';
import { selfCommand } from '../util/self.ts';

/** Start a daemon of this node (detached); resolves with its start-up exit code. */
export function startDaemon(role: 'noded' | 'masterd' | 'rapi', extraArgs: string[] = []): Promise<{ code: number; stderr: string }> {
  const [cmd, ...prefix] = selfCommand();
  return new Promise((resolveStart) => {
    const child = spawn(cmd, [...prefix, role, ...extraArgs], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('exit', (code) => resolveStart({ code: code ?? 1, stderr }));
    child.on('error', (e) => resolveStart({ code: 1, stderr: e.message }));
  });
}

function pidOf(paths: NodePaths, name: string): number | null {
  try {
    const pid = Number.parseInt(fs.readFileSync(paths.pidFile(name), 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 1 ? pid : null;
  } catch {
    return null;
  }
}

/** Whether a process exists that we may signal (a zombie still does). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A process that has exited but is not reaped yet: it exists, but does not run. */
function zombie(pid: number): boolean {
  try {
    // "pid (comm) S ...": the state follows the last parenthesis.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return false; // no /proc: trust the signal
  }
}

/** Whether a daemon of this node runs (its pid file names a live process, not a zombie). */
export function daemonRunning(paths: NodePaths, name: string): boolean {
  const pid = pidOf(paths, name);
  return pid !== null && alive(pid) && !zombie(pid);
}

/** Stop a daemon of this node through its pid file: SIGTERM, then SIGKILL after the grace time. */
export async function stopDaemon(paths: NodePaths, name: string, graceMs = 30_000): Promise<boolean> {
  const pid = pidOf(paths, name);
  if (pid === null || !alive(pid)) return false;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (alive(pid)) process.kill(pid, 'SIGKILL');
  fs.rmSync(paths.pidFile(name), { force: true });
  return true;
}
