// What ganeti-cleaner removes (upstream's daemons/ganeti-cleaner.in, a shell script over
// find and rm -v): the ages are files' modification times, in whole days as find's
// `-mtime +21` counts them, and every removal is reported as `rm -v` reports it.
import fs from 'node:fs';
import path from 'node:path';
import type { NodePaths } from '../util/paths.ts';
import { checkCertExpired } from './cert.ts';

/** Days an archived job, a watcher state file of a removed group, … is left alone. */
export const REMOVE_AFTER = 21;
/** The cleaner's own logs kept (about one a day). */
export const KEEP_LOGS = 50;

const DAY_MS = 86_400_000;

/** find's `-mtime +days`: whole days since the modification, fractions dropped, more than `days`. */
export function olderThanDays(mtimeMs: number, nowMs: number, days: number): boolean {
  return Math.floor((nowMs - mtimeMs) / DAY_MS) > days;
}

export type Out = (line: string) => void;

/** `rm -vf FILE`: a missing file is no error and prints nothing. */
function removeFile(file: string, out: Out): void {
  try {
    fs.unlinkSync(file);
    out(`removed '${file}'`);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') out(`rm: cannot remove '${file}': ${(err as Error).message}`);
  }
}

/** The cluster files are there only on a node that is in a cluster. */
export function inCluster(paths: NodePaths): boolean {
  return fs.existsSync(paths.ssconfFile('master_node'));
}

function lstatOrNull(file: string): fs.Stats | null {
  try {
    return fs.lstatSync(file);
  } catch {
    return null;
  }
}

function listDir(dir: string): string[] {
  try {
    return fs.readdirSync(dir).sort();
  } catch {
    return [];
  }
}

/** The import/export certificates (var/run/ganeti/crypto/<name>/{cert,key}) that have expired. */
export function cleanupCrypto(paths: NodePaths, out: Out, nowMs = Date.now()): void {
  const cryptoDir = path.join(paths.runDir, 'crypto');
  for (const name of listDir(cryptoDir)) {
    const dir = path.join(cryptoDir, name);
    if (!lstatOrNull(dir)?.isDirectory()) continue;
    const check = checkCertExpired(path.join(dir, 'cert'), nowMs);
    if (check.message) out(check.message);
    if (!check.expired) continue;
    removeFile(path.join(dir, 'cert'), out);
    removeFile(path.join(dir, 'key'), out);
    // rmdir --ignore-fail-on-non-empty: whatever else is in there stays, silently.
    try {
      fs.rmdirSync(dir);
      out(`rmdir: removing directory, '${dir}'`);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') out(`rmdir: failed to remove '${dir}': ${(err as Error).message}`);
    }
  }
}

/** watcher.<group-uuid>.data and .instance-status: the group was removed weeks ago. */
const WATCHER_FILE_RE = /^watcher\..*-.*-.*-.*\.(data|instance-status)$/;

export function cleanupWatcherFiles(paths: NodePaths, out: Out, nowMs = Date.now()): void {
  if (!inCluster(paths)) return;
  for (const name of listDir(paths.dataDir)) {
    if (!WATCHER_FILE_RE.test(name)) continue;
    const file = path.join(paths.dataDir, name);
    const st = lstatOrNull(file);
    if (st?.isFile() && olderThanDays(st.mtimeMs, nowMs, REMOVE_AFTER)) removeFile(file, out);
  }
}

/** Archived jobs (queue/archive/<n>/job-<id>, any depth from 2 down) older than REMOVE_AFTER days. */
export function cleanupArchivedJobs(paths: NodePaths, out: Out, nowMs = Date.now()): void {
  if (!inCluster(paths)) return;
  const walk = (dir: string, depth: number) => {
    for (const name of listDir(dir)) {
      const file = path.join(dir, name);
      const st = lstatOrNull(file);
      if (!st) continue;
      if (st.isDirectory()) walk(file, depth + 1);
      else if (st.isFile() && depth >= 2 && olderThanDays(st.mtimeMs, nowMs, REMOVE_AFTER)) removeFile(file, out);
    }
  };
  if (lstatOrNull(paths.queueArchive)?.isDirectory()) walk(paths.queueArchive, 1);
}

/** Keep the newest KEEP_LOGS of the cleaner's own logs (their names sort by date). */
export function rotateCleanerLogs(logDir: string, out: Out): void {
  const files = listDir(logDir).filter((name) => lstatOrNull(path.join(logDir, name))?.isFile());
  for (const name of files.slice(0, Math.max(0, files.length - KEEP_LOGS))) removeFile(path.join(logDir, name), out);
}
