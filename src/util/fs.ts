// Durable file writes: temp file in the same directory, fsync, rename, fsync the
// directory. A reader sees the old or the new content, never a half-written file,
// and after the call returns the new content survives a crash.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import crypto from 'node:crypto';

export interface WriteOptions {
  mode?: number;
  /** fsync the parent directory too (needed for the rename itself to be durable). */
  syncDir?: boolean;
}

function tempName(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`);
}

export async function writeFileAtomic(file: string, data: string | Uint8Array, opts: WriteOptions = {}): Promise<void> {
  const tmp = tempName(file);
  const fh = await fsp.open(tmp, 'wx', opts.mode ?? 0o640);
  try {
    await fh.writeFile(data);
    if (opts.mode !== undefined) await fh.chmod(opts.mode);
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => undefined);
    await fsp.rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  try {
    await fsp.rename(tmp, file);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
  if (opts.syncDir !== false) await syncDir(path.dirname(file));
}

export function writeFileAtomicSync(file: string, data: string | Uint8Array, opts: WriteOptions = {}): void {
  const tmp = tempName(file);
  const fd = fs.openSync(tmp, 'wx', opts.mode ?? 0o640);
  try {
    fs.writeFileSync(fd, data);
    if (opts.mode !== undefined) fs.fchmodSync(fd, opts.mode);
    fs.fsyncSync(fd);
  } catch (err) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  fs.closeSync(fd);
  fs.renameSync(tmp, file);
  if (opts.syncDir !== false) syncDirSync(path.dirname(file));
}

export async function syncDir(dir: string): Promise<void> {
  const fh = await fsp.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export function syncDirSync(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Remove temp files a crash left behind (they never count as valid data). */
export function removeStaleTemps(dir: string): void {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) if (n.startsWith('.') && n.endsWith('.tmp')) fs.rmSync(path.join(dir, n), { force: true });
}

export function readFileOrNull(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

export function mkdirs(dirs: string[], mode = 0o750): void {
  for (const d of dirs) fs.mkdirSync(d, { recursive: true, mode });
}

/** Create (with content) or remove a flag file (drain flag, watcher pause) durably. */
export async function setFlagFile(file: string, content: string | null): Promise<void> {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o750 });
  if (content === null) {
    fs.rmSync(file, { force: true });
    await syncDir(path.dirname(file));
  } else {
    await writeFileAtomic(file, content, { mode: 0o644 });
  }
}
