// Storage units as `gnt-node list-storage | modify-storage | repair-storage` see them
// (upstream's storage/container.py): what the node-RPC procedures storage_list,
// storage_modify and storage_execute do.
//  * file / sharedfile / gluster: directories; name = the directory, size and free of its
//    file system, used = the apparent size of every file below it (MiB, rounded), always
//    allocatable;
//  * lvm-pv: `pvs`, allocatable = the first pv_attr letter is "a", modifiable
//    (`pvchange --allocatable y|n`);
//  * lvm-vg: `vgs`, used = size - free, always allocatable, repairable
//    (`vgreduce --removemissing [--force]`, then `vgs` must no longer miss a device).
// lvm2 runs through the storage command runner (./commands.ts), so the unit tests replay
// recorded sessions. Failures are StorageErrors with upstream's texts; noded reports them
// as "Error while executing backend function: <text>", as upstream's noded does.
import fs from 'node:fs';
import path from 'node:path';
import { pyRepr } from '../../core/pyrepr.ts';
import { failed, type RunResult, type StorageRunner } from './commands.ts';
import type { StorageEnv } from './device.ts';
import { fsErrorText } from './errors.ts';
import { resolveStoragePath } from './paths.ts';

/** A storage unit operation that cannot be done (upstream's errors.StorageError). */
export class StorageError extends Error {}

/** Storage fields a node reports (upstream's SF_*, without "node" and "type", which only the master knows). */
export const SF_NAME = 'name';
export const SF_SIZE = 'size';
export const SF_USED = 'used';
export const SF_FREE = 'free';
export const SF_ALLOCATABLE = 'allocatable';
/** The one storage operation there is (upstream's SO_FIX_CONSISTENCY). */
export const SO_FIX_CONSISTENCY = 'fix-consistency';

/** Python 3's round() to an integer: exact halves go to the even neighbour. */
function pyRound(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** An lvm2 size in MiB as upstream's _ParseSize: int(round(float(value))). */
export function parseSize(value: string): number {
  const n = Number.parseFloat(value);
  if (!Number.isFinite(n)) throw new StorageError(`could not convert string to float: ${pyRepr(value)}`);
  return pyRound(n);
}

const bytesToMib = (bytes: number) => pyRound(bytes / (1024 * 1024));

/** utils.RunResult.output: stdout and stderr as they are. */
const fullOutput = (r: RunResult) => `${r.stdout}${r.stderr}`;

type Mapper = ((...values: string[]) => unknown) | null | { value: unknown };
type FieldDef = readonly [field: string, lvmFields: readonly string[], mapper: Mapper];

interface StorageUnitType {
  list(env: StorageEnv, args: unknown[], name: string | null, fields: string[]): Promise<unknown[][]>;
  modify(env: StorageEnv, args: unknown[], name: string, changes: Record<string, unknown>): Promise<null>;
  execute(env: StorageEnv, args: unknown[], name: string, op: string): Promise<null>;
}

/** _Base.Modify: nothing is modifiable unless a type says so (an empty change set is fine). */
function refuseChanges(changes: Record<string, unknown>): null {
  const keys = Object.keys(changes);
  if (keys.length > 0) throw new StorageError(`Unable to modify the following fields: ${pyRepr(keys)}`);
  return null;
}

function refuseOperation(op: string): never {
  throw new StorageError(`Operation '${op}' is not supported on this storage type`);
}

// --- file storage ------------------------------------------------------------------------

/** Where a storage directory the master named is on this node (the cluster path stays its name). */
function localDir(env: StorageEnv, dir: unknown): string {
  const gluster = glusterDir(env);
  if (typeof dir === 'string' && gluster !== null && path.posix.normalize(dir).replace(/(.)\/+$/, '$1') === gluster) {
    return path.join(env.paths.root, gluster);
  }
  return resolveStoragePath(env.paths, dir, ['file', 'sharedfile'], true).local;
}

function glusterDir(env: StorageEnv): string | null {
  try {
    const v = fs.readFileSync(env.paths.ssconfFile('gluster_storage_dir'), 'utf8').split('\n')[0].trim();
    return v && path.posix.isAbsolute(v) && v !== '/' && !v.split('/').includes('..') ? path.posix.normalize(v).replace(/(.)\/+$/, '$1') : null;
  } catch {
    return null;
  }
}

/** utils.CalculateDirectorySize: every file's apparent size (lstat), as os.walk finds them (no symlinked directories). */
export function directorySizeBytes(dir: string): number {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0; // os.walk ignores what it cannot list
  }
  let size = 0;
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      size += directorySizeBytes(p);
      continue;
    }
    if (e.isSymbolicLink()) {
      try {
        if (fs.statSync(p).isDirectory()) continue; // os.walk lists it among the directories and does not follow it
      } catch {
        // a dangling link is a file to os.walk
      }
    }
    try {
      size += fs.lstatSync(p).size;
    } catch (err) {
      throw new StorageError(`${fsErrorText(err)}: ${pyRepr(p)}`);
    }
  }
  return size;
}

/** utils.GetFilesystemStats: [total, free] MiB of the file system holding `local`. */
function filesystemStats(local: string, shown: string): [number, number] {
  let st: fs.StatsFs;
  try {
    st = fs.statfsSync(local);
  } catch (err) {
    throw new StorageError(`${fsErrorText(err)}: ${pyRepr(shown)}`);
  }
  return [bytesToMib(st.blocks * st.bsize), bytesToMib(st.bavail * st.bsize)];
}

const FILE_STORAGE: StorageUnitType = {
  async list(env, args, name, fields) {
    const paths = name === null ? args[0] : [name];
    if (!Array.isArray(paths)) throw new StorageError('File storage needs the list of its storage directories');
    return paths.map((dir) => {
      const local = localDir(env, dir);
      const shown = String(dir);
      const used = fields.includes(SF_USED) ? bytesToMib(directorySizeBytes(local)) : null;
      const stats = fields.includes(SF_FREE) || fields.includes(SF_SIZE) ? filesystemStats(local, shown) : null;
      return fields.map((f) => {
        switch (f) {
          case SF_NAME: return dir;
          case SF_USED: return used;
          case SF_FREE: return stats![1];
          case SF_SIZE: return stats![0];
          case SF_ALLOCATABLE: return true;
          default: throw new StorageError(`Unknown field: ${pyRepr(f)}`);
        }
      });
    });
  },
  async modify(_env, _args, _name, changes) {
    return refuseChanges(changes);
  },
  async execute(_env, _args, _name, op) {
    return refuseOperation(op);
  },
};

// --- LVM ---------------------------------------------------------------------------------

const LIST_SEP = '|';

/** The lvm2 fields the wanted storage fields need, each once, in order (_GetLvmFields). */
export function lvmFieldsFor(defs: readonly FieldDef[], wanted: readonly string[]): string[] {
  const out: string[] = [];
  for (const f of wanted) {
    const def = defs.find(([name]) => name === f);
    if (!def) throw new StorageError(`Unknown field: ${pyRepr(f)}`);
    for (const l of def[1]) if (!out.includes(l)) out.push(l);
  }
  return out;
}

/** The `pvs`/`vgs` command line (_BuildListCommand). */
export function listCommand(tool: string, lvmFields: readonly string[], name: string | null): string[] {
  const argv = [tool, '--noheadings', '--units=m', '--nosuffix', '--separator', LIST_SEP, '--options', lvmFields.join(',')];
  if (name !== null) argv.push(lvmUnitName(name));
  return argv;
}

/**
 * A PV or VG name as a positional argument of an lvm2 command: one starting with "-" (the
 * name comes from an opcode or RAPI) would be read as an option, e.g. --config=…, and is
 * refused before anything runs. No LVM device path or VG name starts with "-".
 */
export function lvmUnitName(name: string): string {
  if (name.startsWith('-')) throw new StorageError(`Invalid storage unit name ${pyRepr(name)}: it may not start with '-'`);
  return name;
}

/** Rows of the wanted fields from lvm2's output (_SplitList + _BuildList); lines that do not parse are skipped. */
export function buildList(stdout: string, defs: readonly FieldDef[], wanted: readonly string[], lvmFields: readonly string[]): unknown[][] {
  const rows: unknown[][] = [];
  for (const line of stdout.split(/\r?\n/)) {
    const raw = line.trim().split(LIST_SEP);
    if (raw.length !== lvmFields.length) continue; // upstream logs "Invalid line returned from lvm command" and goes on
    rows.push(wanted.map((f) => {
      const [, names, mapper] = defs.find(([name]) => name === f)!;
      const values = names.map((n) => raw[lvmFields.indexOf(n)]);
      if (typeof mapper === 'function') return mapper(...values);
      if (mapper === null) return values[0];
      return mapper.value;
    }));
  }
  return rows;
}

function lvmStorage(tool: 'pvs' | 'vgs', defs: readonly FieldDef[], extra: Partial<Pick<StorageUnitType, 'modify' | 'execute'>>): StorageUnitType {
  return {
    async list(env, _args, name, wanted) {
      const lvmFields = lvmFieldsFor(defs, wanted);
      const argv = listCommand(tool, lvmFields, name);
      const r = await env.runner(argv);
      if (failed(r)) throw new StorageError(`Failed to run ${pyRepr(tool)}, command output: ${fullOutput(r)}`);
      return buildList(r.stdout, defs, wanted, lvmFields);
    },
    modify: extra.modify ?? (async (_env, _args, _name, changes) => refuseChanges(changes)),
    execute: extra.execute ?? (async (_env, _args, _name, op) => refuseOperation(op)),
  };
}

/** _LvmPvGetAllocatable */
const pvAllocatable = (attr: string) => (attr ? attr[0] === 'a' : false);

export const PV_FIELDS: readonly FieldDef[] = [
  [SF_NAME, ['pv_name'], null],
  [SF_SIZE, ['pv_size'], parseSize],
  [SF_USED, ['pv_used'], parseSize],
  [SF_FREE, ['pv_free'], parseSize],
  [SF_ALLOCATABLE, ['pv_attr'], pvAllocatable],
];

export const VG_FIELDS: readonly FieldDef[] = [
  [SF_NAME, ['vg_name'], null],
  [SF_SIZE, ['vg_size'], parseSize],
  [SF_FREE, ['vg_free'], parseSize],
  [SF_USED, ['vg_size', 'vg_free'], (size, free) => parseSize(size) - parseSize(free)],
  [SF_ALLOCATABLE, [], { value: true }],
];

async function setAllocatable(runner: StorageRunner, name: string, allocatable: unknown): Promise<void> {
  const r = await runner(['pvchange', '--allocatable', allocatable ? 'y' : 'n', lvmUnitName(name)]);
  if (failed(r)) throw new StorageError(`Failed to modify physical volume, pvchange output: ${fullOutput(r)}`);
}

/** LvmVgStorage._RemoveMissing: drop missing PVs from a VG; the VG must be whole afterwards. */
export async function removeMissing(runner: StorageRunner, name: string): Promise<void> {
  lvmUnitName(name);
  // The exit code is ignored: older lvm2 fails even when the VG is consistent.
  let r = await runner(['vgreduce', '--removemissing', name]);
  let vgreduceOutput = fullOutput(r);
  // Newer lvm2 wants --force when logical volumes would be lost.
  if (!vgreduceOutput.includes('Wrote out consistent volume group') || vgreduceOutput.includes('vgreduce --removemissing --force')) {
    r = await runner(['vgreduce', '--removemissing', '--force', name]);
    vgreduceOutput += `\n${fullOutput(r)}`;
  }
  r = await runner(['vgs', '--noheadings', '--nosuffix', name]);
  if (failed(r) || fullOutput(r).includes("Couldn't find device with uuid")) {
    throw new StorageError(`Volume group '${name}' still not consistent, 'vgreduce' output: ${pyRepr(vgreduceOutput)}, 'vgs' output: ${pyRepr(fullOutput(r))}`);
  }
}

const LVM_PV = lvmStorage('pvs', PV_FIELDS, {
  async modify(env, _args, name, changes) {
    const rest = { ...changes };
    if (SF_ALLOCATABLE in rest) {
      await setAllocatable(env.runner, name, rest[SF_ALLOCATABLE]);
      delete rest[SF_ALLOCATABLE];
    }
    return refuseChanges(rest);
  },
});

const LVM_VG = lvmStorage('vgs', VG_FIELDS, {
  async execute(env, _args, name, op) {
    if (op !== SO_FIX_CONSISTENCY) refuseOperation(op);
    await removeMissing(env.runner, name);
    return null;
  },
});

const STORAGE_TYPES: Record<string, StorageUnitType> = {
  file: FILE_STORAGE,
  'lvm-pv': LVM_PV,
  'lvm-vg': LVM_VG,
  sharedfile: FILE_STORAGE,
  gluster: FILE_STORAGE,
};

/** container.GetStorageClass */
function storageType(type: unknown): StorageUnitType {
  const t = typeof type === 'string' && Object.hasOwn(STORAGE_TYPES, type) ? STORAGE_TYPES[type] : undefined;
  if (!t) throw new StorageError(`Unknown storage type: ${pyRepr(type)}`);
  return t;
}

function argsList(args: unknown): unknown[] {
  if (!Array.isArray(args)) throw new StorageError(`Invalid storage unit arguments ${JSON.stringify(args)}`);
  return args;
}

function unitName(name: unknown, optional: boolean): string | null {
  if (name === null && optional) return null;
  if (typeof name !== 'string' || name === '') throw new StorageError(`Invalid storage unit name ${JSON.stringify(name)}`);
  return name;
}

/** storage_list: rows of `fields` for every unit of the type (or the named one). */
export function listStorageUnits(env: StorageEnv, type: unknown, args: unknown, name: unknown, fields: unknown): Promise<unknown[][]> {
  const t = storageType(type);
  if (!Array.isArray(fields) || !fields.every((f) => typeof f === 'string')) throw new StorageError('The fields must be a list of names');
  return t.list(env, argsList(args), unitName(name, true), fields);
}

/** storage_modify: apply `changes` (field → value) to one unit. */
export function modifyStorageUnit(env: StorageEnv, type: unknown, args: unknown, name: unknown, changes: unknown): Promise<null> {
  const t = storageType(type);
  if (changes === null || typeof changes !== 'object' || Array.isArray(changes)) throw new StorageError('The changes must be a dictionary');
  return t.modify(env, argsList(args), unitName(name, false)!, changes as Record<string, unknown>);
}

/** storage_execute: run an operation (fix-consistency) on one unit. */
export function executeStorageUnit(env: StorageEnv, type: unknown, args: unknown, name: unknown, op: unknown): Promise<null> {
  const t = storageType(type);
  return t.execute(env, argsList(args), unitName(name, false)!, String(op));
}
