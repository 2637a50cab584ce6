// The node's export directory, srv/ganeti/export: one directory per exported instance
// holding its disk images (named by disk uuid) and config.ini. Listing, reading and
// removing exports as upstream's backend.ListExports / ExportInfo / RemoveExport /
// FinalizeExport, plus the chunked file access the master uses to move images between
// nodes. Names starting with "." are transfer staging areas: export_list never shows them.
import fs from 'node:fs';
import path from 'node:path';
import { decodeChunk, encodeChunk, EXPORT_DIR, TRANSFER_CHUNK_SIZE, zeroes, type EncodedChunk } from '../../rpc/procedures-os.ts';
import { writeFileAtomic } from '../../util/fs.ts';
import { RpcFail, type NodeContext } from '../context.ts';
import { EXPORT_CONF_FILE, exportConfigText } from './export-config.ts';

type Dict = Record<string, unknown>;

/** pathutils.EXPORT_DIR below this node's root. */
export function exportDir(ctx: NodeContext): string {
  return path.join(ctx.paths.root, EXPORT_DIR);
}

/**
 * A file or directory the master names (a cluster path), which must lie below the export
 * directory: the rule of backend.ts's localPath, which this module cannot import (backend.ts
 * imports the OS procedures).
 */
export function exportLocalPath(ctx: NodeContext, virtualPath: unknown): string {
  const within = exportDir(ctx);
  if (typeof virtualPath !== 'string' || !virtualPath.startsWith('/')) throw new RpcFail(`Invalid path ${JSON.stringify(virtualPath)}`);
  const p = path.join(ctx.paths.root, path.normalize(virtualPath));
  if (!p.startsWith(within + path.sep)) throw new RpcFail(`Path '${virtualPath}' is outside ${path.relative(ctx.paths.root, within)}`);
  return p;
}

/** An export name (an instance name, or <name>.new): one path component. */
function exportEntry(ctx: NodeContext, name: unknown): string {
  if (typeof name !== 'string' || name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
    throw new RpcFail(`Invalid export name ${JSON.stringify(name)}`);
  }
  return path.join(exportDir(ctx), name);
}

/** How Python prints an OSError ("[Errno 2] No such file or directory: '/x'"). */
function osErrorText(err: unknown, file: string): string {
  const e = err as NodeJS.ErrnoException;
  const known: Record<string, [number, string]> = {
    ENOENT: [2, 'No such file or directory'],
    EACCES: [13, 'Permission denied'],
    ENOTDIR: [20, 'Not a directory'],
    EBUSY: [16, 'Device or resource busy'],
  };
  const k = e.code ? known[e.code] : undefined;
  return k ? `[Errno ${k[0]}] ${k[1]}: '${file}'` : e.message;
}

/** ListExports: the visible entries of the export directory, sorted. */
export function listExports(ctx: NodeContext): string[] {
  const dir = exportDir(ctx);
  let names: string[];
  try {
    if (!fs.statSync(dir).isDirectory()) throw new Error('not a directory');
    names = fs.readdirSync(dir);
  } catch {
    throw new RpcFail('No exports directory');
  }
  return names.filter((n) => !n.startsWith('.')).sort();
}

/** The section names of an INI text. */
function iniSections(text: string): Set<string> {
  const sections = new Set<string>();
  for (const line of text.split(/\r?\n/)) {
    const m = /^\[([^\]]+)\]/.exec(line);
    if (m) sections.add(m[1]);
  }
  return sections;
}

/** ExportInfo: the config.ini of the export in `dir` (any path on the node, as upstream). */
export function exportInfo(ctx: NodeContext, dir: unknown): string {
  if (typeof dir !== 'string' || !path.isAbsolute(dir)) throw new RpcFail(`Invalid path ${JSON.stringify(dir)}`);
  const file = path.join(ctx.paths.root, path.normalize(dir), EXPORT_CONF_FILE);
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    // ConfigParser.read skips files it cannot read; the section check then fails.
  }
  const sections = iniSections(text);
  if (!sections.has('export') || !sections.has('instance')) throw new RpcFail("Export info file doesn't have the required fields");
  return text;
}

/** RemoveExport: the export's directory and everything in it. */
export function removeExport(ctx: NodeContext, name: unknown): null {
  const target = exportEntry(ctx, name);
  try {
    fs.lstatSync(target);
  } catch (err) {
    throw new RpcFail(`Error while removing the export: ${osErrorText(err, target)}`);
  }
  try {
    fs.rmSync(target, { recursive: true, force: true });
  } catch (err) {
    throw new RpcFail(`Error while removing the export: ${osErrorText(err, target)}`);
  }
  return null;
}

/**
 * FinalizeExport: config.ini into <name>.new, which then replaces any older export of the
 * instance. `disks` are the exported disk objects (null where a disk was not exported).
 */
export async function finalizeExport(ctx: NodeContext, inst: Dict, disks: Array<Dict | null>): Promise<null> {
  const name = inst.name;
  const staging = exportEntry(ctx, `${String(name)}.new`);
  const final = exportEntry(ctx, name);
  fs.mkdirSync(staging, { recursive: true, mode: 0o750 });
  const text = exportConfigText(inst, disks, Math.floor(Date.now() / 1000));
  await writeFileAtomic(path.join(staging, EXPORT_CONF_FILE), text, { mode: 0o640 });
  fs.rmSync(final, { recursive: true, force: true });
  fs.renameSync(staging, final);
  return null;
}

/** [path, offset, length] → [chunk, file_size]: up to `length` bytes of a file at `offset`. */
export function readChunk(ctx: NodeContext, args: unknown[]): [EncodedChunk, number] {
  const [p, offset, length] = args;
  const file = exportLocalPath(ctx, p);
  if (!Number.isSafeInteger(offset) || (offset as number) < 0) throw new RpcFail(`Invalid offset ${JSON.stringify(offset)}`);
  if (!Number.isSafeInteger(length) || (length as number) <= 0 || (length as number) > TRANSFER_CHUNK_SIZE) {
    throw new RpcFail(`Invalid chunk length ${JSON.stringify(length)}`);
  }
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    throw new RpcFail(`Cannot read '${p as string}': ${osErrorText(err, file)}`);
  }
  try {
    const size = fs.fstatSync(fd).size;
    const want = Math.max(0, Math.min(length as number, size - (offset as number)));
    const buf = Buffer.allocUnsafe(want);
    let got = 0;
    while (got < want) {
      const n = fs.readSync(fd, buf, got, want - got, (offset as number) + got);
      if (n === 0) break;
      got += n;
    }
    return [encodeChunk(buf.subarray(0, got)), size];
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * [path, offset, chunk, last] → null: writes a chunk; offset 0 starts the file afresh,
 * `last` syncs the finished file to disk (once, rather than per chunk).
 */
export function writeChunk(ctx: NodeContext, args: unknown[]): null {
  const [p, offset, chunk, last] = args;
  const file = exportLocalPath(ctx, p);
  if (!Number.isSafeInteger(offset) || (offset as number) < 0) throw new RpcFail(`Invalid offset ${JSON.stringify(offset)}`);
  let data: Buffer;
  try {
    data = decodeChunk(chunk);
  } catch (err) {
    throw new RpcFail((err as Error).message);
  }
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o750 });
  let fd: number;
  try {
    fd = fs.openSync(file, offset === 0 ? 'w' : 'r+', 0o640);
  } catch (err) {
    throw new RpcFail(`Cannot write '${p as string}': ${osErrorText(err, file)}`);
  }
  try {
    const end = (offset as number) + data.length;
    // Disk images are mostly zeroes: those chunks become holes, so the copy stays as sparse as the disk.
    if (!data.equals(zeroes(data.length))) {
      let done = 0;
      while (done < data.length) done += fs.writeSync(fd, data, done, data.length - done, (offset as number) + done);
    } else if (fs.fstatSync(fd).size < end) {
      fs.ftruncateSync(fd, end);
    }
    if (last) fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  return null;
}
