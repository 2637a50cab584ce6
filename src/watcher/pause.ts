// The watcher pause file (var/lib/ganeti/watcher.pause, written on every node by
// `gnt-cluster watcher pause`): a Unix timestamp, the end of the pause. Upstream's
// ReadWatcherPauseFile, except that a file that exists but cannot be read pauses the
// watcher: an operator who asked for a pause must not find the watcher acting.
import fs from 'node:fs';
import type { Logger } from '../util/log.ts';

/** A pause file this long past its end is removed by whoever reads it. */
export const PAUSE_REMOVE_AFTER = 3600;

/** Whether the watcher is paused at `now` (seconds); tidies outdated and invalid files. */
export function watcherPaused(file: string, log: Logger, now = Date.now() / 1000): boolean {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    log.warn(`Watcher pause file (${file}) cannot be read (${(err as Error).message}), treating the watcher as paused`);
    return true;
  }
  // Python's int(): surrounding white space allowed, nothing else.
  const value = /^\s*[-+]?\d+\s*$/.test(text) ? Number.parseInt(text, 10) : Number.NaN;
  if (!Number.isSafeInteger(value)) {
    log.warn(`Watcher pause file (${file}) contains invalid value, removing it`);
    fs.rmSync(file, { force: true });
    return false;
  }
  if (now > value + PAUSE_REMOVE_AFTER) {
    fs.rmSync(file, { force: true });
    return false;
  }
  return now <= value;
}
