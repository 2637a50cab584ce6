// Locking noded in RAM (upstream's default; --no-mlock turns it off) through the
// addon in native/mlock, which the build embeds in the executable as a SEA asset.
// process.dlopen needs a file: the addon is written under var/run/ganeti at start, or
// under var/lib/ganeti where /run is mounted noexec (Debian's default). Whatever fails
// is a warning: the daemon runs on, unlocked, as upstream's does.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { getRawAsset, isSea } from 'node:sea';
import type { Logger } from '../util/log.ts';
import type { NodePaths } from '../util/paths.ts';
import { writeFileAtomicSync } from '../util/fs.ts';

/** The asset's key in the executable (build.mjs). */
export const MLOCK_ASSET = 'ganeti_mlock.node';

interface LockResult {
  locked: boolean;
  onFault: boolean;
  error: string | null;
}

/** The addon's bytes, when this is the built executable. */
function embeddedAddon(): Buffer | null {
  try {
    return isSea() ? Buffer.from(getRawAsset(MLOCK_ASSET)) : null;
  } catch {
    return null; // an executable built without it
  }
}

/** Write the addon (unless that very file is there) and load it. */
function loadAddon(file: string, bytes: Buffer): { lockAll(): LockResult } {
  let same = false;
  try {
    const existing = fs.readFileSync(file);
    same = crypto.createHash('sha256').update(existing).digest('hex') === crypto.createHash('sha256').update(bytes).digest('hex');
  } catch { /* not there yet */ }
  if (!same) {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o755 });
    writeFileAtomicSync(file, bytes, { mode: 0o644, syncDir: false });
  }
  const mod = { exports: {} as { lockAll(): LockResult } };
  process.dlopen(mod, file);
  return mod.exports;
}

/** mlockall(2) this process; logs the outcome (tests read that line). */
export function lockMemory(paths: NodePaths, log: Logger): boolean {
  const bytes = embeddedAddon();
  if (!bytes) {
    log.warn('Cannot set memory lock: the mlock addon is only in the built executable (running from the sources)');
    return false;
  }
  let addon: { lockAll(): LockResult } | null = null;
  const tried: string[] = [];
  for (const file of [paths.mlockAddon, path.join(paths.dataDir, path.basename(paths.mlockAddon))]) {
    try {
      addon = loadAddon(file, bytes);
      break;
    } catch (err) {
      tried.push(`${file}: ${(err as Error).message}`);
    }
  }
  if (!addon) {
    log.warn({ tried }, 'Cannot set memory lock: the mlock addon does not load');
    return false;
  }
  const r = addon.lockAll();
  if (!r.locked) {
    log.warn(`Cannot set memory lock: ${r.error ?? 'unknown error'}`);
    return false;
  }
  log.info({ onFault: r.onFault }, 'Memory lock set (mlockall)');
  return true;
}
