// The node side of `gnt-cluster command` and `gnt-cluster copyfile`. Upstream runs these
// over ssh as root; here they arrive as authenticated node RPCs, which only the holders
// of the cluster key (the master and its candidates) can send.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import { spawn } from 'node:child_process';
import { RPC_TMO } from '../core/constants.ts';
import { RPC_ENCODING_NONE, RPC_ENCODING_ZLIB_BASE64 } from '../rpc/procedures.ts';
import { syncDir } from '../util/fs.ts';
import { RpcFail, type NodeContext } from './context.ts';
import { outputCollector } from '../util/output.ts';

/** Default command timeout: inside run_command's RPC timeout, so the reply still arrives. */
const DEFAULT_TIMEOUT_S = RPC_TMO.FAST - 30;
/** Output kept per stream; more is cut off (the reply travels as one JSON document). */
const MAX_OUTPUT = 16 * 1024 * 1024;

export interface CommandResult {
  exit_code: number;
  output: string;
}

/**
 * run_command [command, timeout?] → {exit_code, output}: the command through /bin/sh -c
 * in the node's root directory ("/" on a real node), stdin from /dev/null, output as
 * upstream's RunResult.output (stdout, then stderr). A command still running after the
 * timeout is killed with its process group and gets exit code 124 (as timeout(1)).
 */
export function runCommand(ctx: NodeContext, args: unknown[]): Promise<CommandResult> {
  const [command, timeoutArg] = args;
  if (typeof command !== 'string' || command === '') throw new RpcFail('run_command expects a non-empty command string');
  const timeoutS = timeoutArg === undefined || timeoutArg === null ? DEFAULT_TIMEOUT_S : Number(timeoutArg);
  if (!Number.isFinite(timeoutS) || timeoutS <= 0) throw new RpcFail(`Invalid command timeout ${JSON.stringify(timeoutArg)}`);
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', command], { cwd: ctx.paths.root, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const out = outputCollector(MAX_OUTPUT);
    const err = outputCollector(MAX_OUTPUT);
    child.stdout.on('data', out.add);
    child.stderr.on('data', err.add);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch { /* already gone */ }
    }, timeoutS * 1000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new RpcFail(`Cannot run command: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      ctx.log.info({ command, code, signal, timedOut }, 'ran operator command');
      if (timedOut) {
        resolve({ exit_code: 124, output: `${out.text()}${err.text()}\nCommand timed out after ${timeoutS} seconds and was killed\n` });
        return;
      }
      // A signal death reads as the shell would report it.
      const exitCode = code ?? 128 + (signal ? (SIGNALS[signal] ?? 0) : 0);
      resolve({ exit_code: exitCode, output: out.text() + err.text() });
    });
  });
}

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGABRT: 6, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15 };

/** The file content of an upstream-style blob, as bytes (binary files survive the zlib form). */
function decodeBytes(blob: unknown): Buffer {
  if (!Array.isArray(blob) || blob.length !== 2 || typeof blob[1] !== 'string') throw new RpcFail('copy_file expects an encoded [encoding, data] blob');
  if (blob[0] === RPC_ENCODING_NONE) return Buffer.from(blob[1], 'utf8');
  if (blob[0] === RPC_ENCODING_ZLIB_BASE64) return zlib.inflateSync(Buffer.from(blob[1], 'base64'));
  throw new RpcFail(`Unknown blob encoding ${JSON.stringify(blob[0])}`);
}

/**
 * Where an absolute path the master sent lands on this node: the path itself on a real
 * node, <root>/<path> in a virtual cluster (upstream's vcluster.ExchangeNodeRoot).
 */
export function nodeFilePath(ctx: NodeContext, p: unknown): string {
  if (typeof p !== 'string' || !path.posix.isAbsolute(p)) throw new RpcFail(`Path must be absolute: ${JSON.stringify(p)}`);
  if (p.includes('\0')) throw new RpcFail('Path contains a NUL byte');
  if (p.split('/').includes('..')) throw new RpcFail(`Path must not contain '..': ${p}`);
  const local = path.join(ctx.paths.root, path.posix.normalize(p));
  if (local === ctx.paths.root || !local.startsWith(ctx.paths.root === '/' ? '/' : `${ctx.paths.root}${path.sep}`)) {
    throw new RpcFail(`Invalid file path ${p}`);
  }
  return local;
}

function optionalId(v: unknown, what: string): number | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new RpcFail(`Invalid ${what} ${JSON.stringify(v)}`);
  return v;
}

/**
 * copy_file [path, blob, mode, uid?, gid?] → null: writes the file atomically (temp file,
 * fsync, rename) with the given mode and, when given, owner. In a virtual cluster the
 * parent directories are created under the node's root; on a real node they must exist,
 * as for upstream's scp. A symlinked directory cannot lead the file out of the root.
 */
export async function copyFile(ctx: NodeContext, args: unknown[]): Promise<null> {
  const [virtualPath, blob, modeArg, uidArg, gidArg] = args;
  const file = nodeFilePath(ctx, virtualPath);
  const data = decodeBytes(blob);
  const mode = modeArg === undefined || modeArg === null ? 0o644 : Number(modeArg);
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) throw new RpcFail(`Invalid file mode ${JSON.stringify(modeArg)}`);
  const uid = optionalId(uidArg, 'uid');
  const gid = optionalId(gidArg, 'gid');
  const dir = path.dirname(file);
  const virtual = ctx.paths.root !== '/';
  if (virtual) await fsp.mkdir(dir, { recursive: true, mode: 0o755 });
  let realDir: string;
  try {
    realDir = await fsp.realpath(dir);
  } catch {
    throw new RpcFail(`Directory ${path.dirname(String(virtualPath))} does not exist`);
  }
  if (virtual) {
    const realRoot = await fsp.realpath(ctx.paths.root);
    if (realDir !== realRoot && !realDir.startsWith(`${realRoot}${path.sep}`)) throw new RpcFail(`Path ${String(virtualPath)} leads outside the node's root`);
  }
  const target = path.join(realDir, path.basename(file));
  try {
    if ((await fsp.lstat(target)).isDirectory()) throw new RpcFail(`${String(virtualPath)} is a directory`);
  } catch (err) {
    if (err instanceof RpcFail) throw err;
  }
  const tmp = path.join(realDir, `.${path.basename(file)}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`);
  const fh = await fsp.open(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(data);
    if (uid !== null || gid !== null) await fh.chown(uid ?? -1, gid ?? -1);
    await fh.chmod(mode);
    await fh.sync();
    await fh.close();
    await fsp.rename(tmp, target);
  } catch (err) {
    await fh.close().catch(() => undefined);
    fs.rmSync(tmp, { force: true });
    throw new RpcFail(`Cannot write ${String(virtualPath)}: ${(err as Error).message}`);
  }
  await syncDir(realDir);
  ctx.log.info({ file: target, bytes: data.length }, 'file copied from the master');
  return null;
}
