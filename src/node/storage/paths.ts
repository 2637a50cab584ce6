// Which file-storage paths this node accepts, and where they are on this machine.
// The master sends cluster ("virtual") paths such as
// /srv/ganeti/file-storage/<instance>/<uuid>.file.disk0; they are placed below the node's
// root (upstream's virtual-cluster mode) and must lie inside one of the storage
// directories: the built-in ones and the cluster's file_storage_dir /
// shared_file_storage_dir from ssconf. Upstream keeps the allowed list in
// /etc/ganeti/file-storage-paths; here the cluster's own settings are the list, minus
// upstream's forbidden system prefixes. A symlink inside a storage directory cannot lead
// a path out of it.
import fs from 'node:fs';
import path from 'node:path';
import type { NodePaths } from '../../util/paths.ts';
import { FileStoragePathError } from './errors.ts';

export type FileStorageKind = 'file' | 'sharedfile';

/** Upstream's _GetForbiddenFileStoragePaths: never storage, nor anything below them. */
const FORBIDDEN: readonly string[] = [
  '/boot', '/dev', '/etc', '/home', '/proc', '/root', '/sys',
  ...['', '/usr', '/usr/local'].flatMap((p) => ['bin', 'lib', 'lib32', 'lib64', 'sbin'].map((s) => `${p}/${s}`)),
];

const isBelow = (dir: string, p: string) => p.startsWith(dir === '/' ? '/' : `${dir}/`);

function ssconfValue(paths: NodePaths, key: string): string | null {
  try {
    const v = fs.readFileSync(paths.ssconfFile(key), 'utf8').split('\n')[0].trim();
    return v || null;
  } catch {
    return null;
  }
}

function usableDir(p: string | null): p is string {
  if (!p || !path.posix.isAbsolute(p) || p === '/') return false;
  const n = path.posix.normalize(p);
  return !FORBIDDEN.some((f) => n === f || isBelow(f, n));
}

/** The storage directories (cluster form) for the given kinds, built-in ones first. */
export function storageDirs(paths: NodePaths, kinds: readonly FileStorageKind[]): string[] {
  const virtual = (local: string) => `/${path.relative(paths.root, local)}`;
  const dirs: string[] = [];
  for (const kind of kinds) {
    const builtIn = virtual(kind === 'file' ? paths.fileStorageDir : paths.sharedFileStorageDir);
    const configured = ssconfValue(paths, kind === 'file' ? 'file_storage_dir' : 'shared_file_storage_dir');
    for (const d of [builtIn, configured]) {
      if (usableDir(d)) {
        const n = path.posix.normalize(d).replace(/\/+$/, '');
        if (!dirs.includes(n)) dirs.push(n);
      }
    }
  }
  return dirs;
}

export interface StoragePath {
  /** The path as the cluster names it (normalized). */
  virtual: string;
  /** The same path on this machine. */
  local: string;
}

/**
 * A path the master sent, checked and placed on this node. `exactOk` accepts a storage
 * directory itself (file_storage_dir_* procedures), otherwise the path must be below one.
 */
export function resolveStoragePath(paths: NodePaths, p: unknown, kinds: readonly FileStorageKind[], exactOk = false): StoragePath {
  if (typeof p !== 'string' || !path.posix.isAbsolute(p)) {
    throw new FileStoragePathError(`File storage path must be absolute, got '${String(p)}'`);
  }
  if (p.includes('\0') || p.split('/').includes('..')) throw new FileStoragePathError(`Path '${p}' is not acceptable for file storage`);
  const virtual = path.posix.normalize(p).replace(/(.)\/+$/, '$1');
  if (FORBIDDEN.some((f) => virtual === f || isBelow(f, virtual))) {
    throw new FileStoragePathError(`Path '${p}' uses a forbidden prefix`);
  }
  const dir = storageDirs(paths, kinds).find((d) => (exactOk && virtual === d) || isBelow(d, virtual));
  if (!dir) throw new FileStoragePathError(`Path '${p}' is not acceptable for file storage`);
  const local = path.join(paths.root, virtual);
  checkNoEscape(local, path.join(paths.root, dir), p);
  return { virtual, local };
}

/** The deepest existing part of `local` must really be inside `dirLocal` (no symlink out). */
function checkNoEscape(local: string, dirLocal: string, shown: string): void {
  let realDir: string;
  try {
    realDir = fs.realpathSync(dirLocal);
  } catch {
    return; // the storage directory does not exist yet: nothing below it can point elsewhere
  }
  // Walk up to the deepest part that exists; the storage directory itself exists, so the
  // walk ends there at the latest.
  for (let probe = local; ; probe = path.dirname(probe)) {
    if (!fs.existsSync(probe) && !isSymlink(probe)) continue;
    let real: string | null;
    try {
      real = fs.realpathSync(probe);
    } catch {
      real = null; // a dangling symlink: where it would lead is not ours to find out
    }
    if (real === null || (real !== realDir && !isBelow(realDir, real))) {
      throw new FileStoragePathError(`Path '${shown}' leads outside the file storage directory`);
    }
    return;
  }
}

function isSymlink(p: string): boolean {
  try {
    return fs.lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}
