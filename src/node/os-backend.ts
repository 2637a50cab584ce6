// noded's OS-definition and import/export procedures (src/rpc/procedures-os.ts):
// upstream's backend.DiagnoseOS, ValidateOS, InstanceOsAdd, RunRenameInstance,
// FinalizeExport, ExportInfo, ListExports, RemoveExport, and the per-disk export/import
// that upstream's import/export daemons run the OS scripts for.
import fs from 'node:fs';
import path from 'node:path';
import { RPC_TMO } from '../core/constants.ts';
import type { OS_PROCEDURES } from '../rpc/procedures-os.ts';
import { RpcFail, type Handler, type NodeContext } from './context.ts';
import {
  checkOsParameters, checkOsVariant, diagnoseOs, OS_API_V20, OS_VALIDATE_CALLS, OS_VALIDATE_PARAMETERS,
  osFromDisk, osSearchPath, splitNameVariant, tryOsFromDisk, type OsDefinition,
} from './os/definition.ts';
import { openDisk, openInstanceDisks } from './os/disks.ts';
import { osCoreEnv, osEnvironment } from './os/environment.ts';
import { exportInfo, exportLocalPath, finalizeExport, listExports, readChunk, removeExport, writeChunk } from './os/exports.ts';
import { instanceLogName, logTail, runScript, type ScriptOptions, type ScriptResult } from './os/scripts.ts';

type Dict = Record<string, unknown>;

function instDict(v: unknown): Dict {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new RpcFail('Invalid instance description');
  const inst = v as Dict;
  if (typeof inst.name !== 'string' || inst.name === '') throw new RpcFail('Invalid instance description: no name');
  return inst;
}

function searchPath(ctx: NodeContext): string[] {
  return osSearchPath(ctx.paths.root);
}

/** The debug level passed to the scripts (DEBUG_LEVEL): a non-negative integer, anything else is 0. */
function debugLevel(v: unknown): number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : 0;
}

async function run(script: string, opts: ScriptOptions): Promise<ScriptResult> {
  try {
    return await runScript(script, opts);
  } catch (err) {
    throw new RpcFail(`Can't execute '${script}': ${(err as Error).message}`);
  }
}

/** "<what> script failed (<reason>), last lines in the log file:\n<tail>", upstream's failure text. */
function scriptFailure(ctx: NodeContext, what: string, script: string, result: ScriptResult, logFile: string): RpcFail {
  ctx.log.error({ script, reason: result.failReason, logFile }, `os ${what} command returned error`);
  return new RpcFail(`OS ${what} script failed (${result.failReason}), last lines in the log file:\n${logTail(logFile)}`);
}

/** The instance's OS, which must be installed on this node; the name may carry a variant. */
function instanceOs(ctx: NodeContext, inst: Dict): OsDefinition {
  return osFromDisk(String(inst.os ?? ''), searchPath(ctx));
}

/** InstanceOsAdd: the OS create script against the instance's (activated) disks. */
async function instanceOsAdd(ctx: NodeContext, args: unknown[]): Promise<null> {
  const inst = instDict(args[0]);
  const reinstall = Boolean(args[1]);
  const os = instanceOs(ctx, inst);
  // An OS with only create_untrusted is installed from a helper VM, which the fake
  // hypervisor cannot run.
  if (!os.createScript) throw new RpcFail(`OS '${os.name}' has no trusted create script; untrusted OS definitions need a helper VM`);
  const env = osEnvironment(inst, os, debugLevel(args[2]), await openInstanceDisks(ctx, inst));
  if (reinstall) env.INSTANCE_REINSTALL = '1';
  const logFile = instanceLogName(ctx.paths, 'add', String(inst.os), String(inst.name));
  const result = await run(os.createScript, { cwd: os.path, env, logFile, timeoutS: RPC_TMO.ONE_DAY });
  if (result.failed) throw scriptFailure(ctx, 'create', os.createScript, result, logFile);
  return null;
}

/** RunRenameInstance: the OS rename script, with the instance already under its new name. */
async function instanceRunRename(ctx: NodeContext, args: unknown[]): Promise<null> {
  const inst = instDict(args[0]);
  const oldName = String(args[1]);
  const os = instanceOs(ctx, inst);
  const env = osEnvironment(inst, os, debugLevel(args[2]), await openInstanceDisks(ctx, inst));
  env.OLD_INSTANCE_NAME = oldName;
  const logFile = instanceLogName(ctx.paths, 'rename', String(inst.os), `${oldName}-${String(inst.name)}`);
  const result = await run(os.renameScript, { cwd: os.path, env, logFile, timeoutS: RPC_TMO.SLOW });
  if (result.failed) throw scriptFailure(ctx, 'rename', os.renameScript, result, logFile);
  return null;
}

/** ValidateOS: [required, name, checks, params, force_variant] → true, or false when absent and not required. */
async function osValidate(ctx: NodeContext, args: unknown[]): Promise<boolean> {
  const [required, name, checks, params, forceVariant] = args;
  if (typeof name !== 'string') throw new RpcFail(`Invalid OS name ${JSON.stringify(name)}`);
  const checkList = Array.isArray(checks) ? checks.map(String) : [];
  const unknown = checkList.filter((c) => !OS_VALIDATE_CALLS.includes(c));
  if (unknown.length > 0) {
    throw new RpcFail(`Unknown checks required for OS ${name}: {${[...new Set(unknown)].map((c) => `'${c}'`).join(', ')}}`);
  }
  const found = tryOsFromDisk(splitNameVariant(name)[0], searchPath(ctx));
  if (!found.ok) {
    if (required) throw new RpcFail(found.message);
    return false;
  }
  const os = found.os;
  if (!forceVariant) checkOsVariant(os, name);
  if (Math.max(...os.apiVersions) < OS_API_V20) return true;
  const osParams = params !== null && typeof params === 'object' && !Array.isArray(params) ? (params as Dict) : {};
  if (checkList.includes(OS_VALIDATE_PARAMETERS)) checkOsParameters(os, Object.keys(osParams));
  const result = await run(os.verifyScript!, {
    cwd: os.path, env: osCoreEnv(name, os, osParams, 0), args: checkList, timeoutS: RPC_TMO.FAST,
  });
  if (result.failed) {
    ctx.log.error({ os: name, reason: result.failReason, output: result.output }, 'os validate command returned error');
    throw new RpcFail(`OS validation script failed (${result.failReason}), output: ${result.output}`);
  }
  return true;
}

function diskAt(inst: Dict, index: unknown): Dict {
  const disks = Array.isArray(inst.disks_info) ? inst.disks_info : [];
  if (!Number.isInteger(index) || (index as number) < 0 || (index as number) >= disks.length) {
    throw new RpcFail(`Instance ${String(inst.name)} has no disk ${JSON.stringify(index)}`);
  }
  return disks[index as number] as Dict;
}

/** Copy a file or device's bytes (an instance without OS: upstream's raw disk transfer). */
function rawCopy(from: string, to: string, truncate: boolean): number {
  const input = fs.openSync(from, 'r');
  const output = fs.openSync(to, truncate ? 'w' : 'r+', 0o640);
  try {
    const buf = Buffer.alloc(1024 * 1024);
    let total = 0;
    while (true) {
      const n = fs.readSync(input, buf, 0, buf.length, null);
      if (n === 0) break;
      let done = 0;
      while (done < n) done += fs.writeSync(output, buf, done, n - done, null);
      total += n;
    }
    fs.fsyncSync(output);
    return total;
  } finally {
    fs.closeSync(input);
    fs.closeSync(output);
  }
}

/**
 * [inst, disk_index, dest] → bytes: the OS export script for one disk, its stdout (the
 * image) into `dest` below the export directory. EXP_SIZE_FD is open for the size.
 */
async function instanceDiskExport(ctx: NodeContext, args: unknown[]): Promise<number> {
  const inst = instDict(args[0]);
  const index = args[1] as number;
  const disk = diskAt(inst, index);
  const dest = exportLocalPath(ctx, args[2]);
  fs.mkdirSync(path.dirname(dest), { recursive: true, mode: 0o750 });
  const device = await openDisk(ctx, disk);
  if (!inst.os) return rawCopy(device.path!, dest, true);
  const os = instanceOs(ctx, inst);
  const env = osEnvironment(inst, os, 0, await openInstanceDisks(ctx, inst));
  env.EXPORT_DEVICE = device.path!;
  env.EXPORT_DISK_PATH = device.path!;
  env.EXPORT_INDEX = String(index);
  const logFile = instanceLogName(ctx.paths, 'export', String(inst.os), String(inst.name), `disk${index}`);
  const result = await run(os.exportScript, {
    cwd: os.path, env, logFile, stdoutFile: dest, expectedSizeFd: true, timeoutS: RPC_TMO.ONE_DAY,
  });
  if (result.failed) {
    fs.rmSync(dest, { force: true });
    throw scriptFailure(ctx, 'export', os.exportScript, result, logFile);
  }
  return fs.statSync(dest).size;
}

/** [inst, disk_index, src] → null: the OS import script for one disk, the image file on stdin. */
async function instanceDiskImport(ctx: NodeContext, args: unknown[]): Promise<null> {
  const inst = instDict(args[0]);
  const index = args[1] as number;
  const disk = diskAt(inst, index);
  const src = exportLocalPath(ctx, args[2]);
  if (!fs.existsSync(src)) throw new RpcFail(`Image file '${String(args[2])}' not found`);
  const device = await openDisk(ctx, disk);
  if (!inst.os) {
    rawCopy(src, device.path!, false);
    return null;
  }
  const os = instanceOs(ctx, inst);
  const env = osEnvironment(inst, os, 0, await openInstanceDisks(ctx, inst));
  const diskPath = env[`DISK_${index}_PATH`];
  if (diskPath !== undefined) {
    env.IMPORT_DEVICE = diskPath;
    env.IMPORT_DISK_PATH = diskPath;
  }
  const diskUri = env[`DISK_${index}_URI`];
  if (diskUri !== undefined) env.IMPORT_DISK_URI = diskUri;
  env.IMPORT_INDEX = String(index);
  const logFile = instanceLogName(ctx.paths, 'import', String(inst.os), String(inst.name), `disk${index}`);
  const result = await run(os.importScript, { cwd: os.path, env, logFile, stdinFile: src, timeoutS: RPC_TMO.ONE_DAY });
  if (result.failed) throw scriptFailure(ctx, 'import', os.importScript, result, logFile);
  return null;
}

export const OS_BACKEND: Record<keyof typeof OS_PROCEDURES, Handler> = {
  os_diagnose: (ctx) => diagnoseOs(searchPath(ctx)),
  os_validate: (ctx, args) => osValidate(ctx, args),
  instance_os_add: (ctx, args) => instanceOsAdd(ctx, args),
  instance_run_rename: (ctx, args) => instanceRunRename(ctx, args),
  instance_disk_export: (ctx, args) => instanceDiskExport(ctx, args),
  instance_disk_import: (ctx, args) => instanceDiskImport(ctx, args),
  finalize_export: (ctx, args) => {
    const disks = Array.isArray(args[1]) ? args[1].map((d) => (d && typeof d === 'object' ? (d as Dict) : null)) : [];
    return finalizeExport(ctx, instDict(args[0]), disks);
  },
  export_list: (ctx) => listExports(ctx),
  export_info: (ctx, args) => exportInfo(ctx, args[0]),
  export_remove: (ctx, args) => removeExport(ctx, args[0]),
  export_chunk_read: (ctx, args) => readChunk(ctx, args),
  export_chunk_write: (ctx, args) => writeChunk(ctx, args),
};
