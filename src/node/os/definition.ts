// OS definitions on a node (ganeti-os-interface(7), spec/surface.md §5.1): where they
// are searched, what makes one valid, and the checks os_validate runs. The rules and the
// diagnose texts are upstream's backend._TryOSFromDisk / _OSOndiskAPIVersion / DiagnoseOS.
import fs from 'node:fs';
import path from 'node:path';
import { pyRepr } from '../../core/pyrepr.ts';
import { RpcFail } from '../context.ts';

/** API versions this Ganeti speaks (constants.OS_API_VERSIONS). */
export const OS_API_V10 = 10;
export const OS_API_V15 = 15;
export const OS_API_V20 = 20;
export const OS_API_VERSIONS: readonly number[] = [OS_API_V10, OS_API_V15, OS_API_V20];
/** How Python prints that frozenset in the "API version mismatch" message. */
const OS_API_VERSIONS_REPR = 'frozenset({10, 20, 15})';

export const OS_API_FILE = 'ganeti_api_version';
export const OS_VARIANTS_FILE = 'variants.list';
export const OS_PARAMETERS_FILE = 'parameters.list';
export const OS_SCRIPT_CREATE = 'create';
export const OS_SCRIPT_CREATE_UNTRUSTED = 'create_untrusted';
export const OS_SCRIPT_EXPORT = 'export';
export const OS_SCRIPT_IMPORT = 'import';
export const OS_SCRIPT_RENAME = 'rename';
export const OS_SCRIPT_VERIFY = 'verify';
/** constants.OS_SCRIPTS, in the order their absence is reported. */
export const OS_SCRIPTS: readonly string[] = [
  OS_SCRIPT_CREATE, OS_SCRIPT_CREATE_UNTRUSTED, OS_SCRIPT_EXPORT, OS_SCRIPT_IMPORT, OS_SCRIPT_RENAME, OS_SCRIPT_VERIFY,
];
/** The only check `verify` knows (constants.OS_VALIDATE_CALLS). */
export const OS_VALIDATE_PARAMETERS = 'parameters';
export const OS_VALIDATE_CALLS: readonly string[] = [OS_VALIDATE_PARAMETERS];

/** pathutils.OS_SEARCH_PATH. */
export const OS_SEARCH_PATH: readonly string[] = ['/srv/ganeti/os', '/usr/local/lib/ganeti/os', '/usr/lib/ganeti/os', '/usr/share/ganeti/os'];

/** upstream's EXT_PLUGIN_MASK: utils.FindFile finds nothing for other names (no '.', no '/'). */
const NAME_MASK = /^[a-zA-Z0-9_-]+$/;

/** A valid OS definition as found on disk (upstream's objects.OS). */
export interface OsDefinition {
  /** The directory name, without variant. */
  name: string;
  /** The OS directory (node-local path). */
  path: string;
  createScript: string | null;
  createScriptUntrusted: string | null;
  exportScript: string;
  importScript: string;
  renameScript: string;
  /** Only for API ≥ 20. */
  verifyScript: string | null;
  variants: string[];
  /** [name, help] per line of parameters.list (a bare name gives [name]). */
  parameters: string[][];
  apiVersions: number[];
}

export type OsLookup = { ok: true; os: OsDefinition } | { ok: false; message: string };

/**
 * The directories searched for OS definitions on a node. A real node (root "/") uses
 * upstream's list; a virtual node looks below its own root first, then at the real
 * system directories, so OSes installed on the machine (Debian's noop) serve every
 * virtual node while a test can give one node its own.
 */
export function osSearchPath(root: string): string[] {
  if (root === '/' || root === '') return [...OS_SEARCH_PATH];
  return [...OS_SEARCH_PATH.map((d) => path.join(root, d)), ...OS_SEARCH_PATH];
}

/** "OS name+variant" → [name, variant] (objects.OS.SplitNameVariant; variant "" when absent). */
export function splitNameVariant(name: string): [string, string] {
  const plus = name.indexOf('+');
  return plus < 0 ? [name, ''] : [name.slice(0, plus), name.slice(plus + 1)];
}

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** utils.ErrnoOrStr: the errno's symbolic name (ENOENT), else the message. */
function errnoOrStr(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code ?? e.message ?? String(err);
}

/** Python's str.splitlines(). */
export function splitLines(text: string): string[] {
  // eslint-disable-next-line no-control-regex -- Python's line boundaries include \x1c-\x1e
  const lines = text.split(/\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** Python's str.split(None, 1): leading whitespace dropped, at most one split. */
function splitOnce(line: string): string[] {
  const m = /^\s*(\S+)(?:\s+([\s\S]+))?$/.exec(line);
  if (!m) return [];
  return m[2] === undefined ? [m[1]] : [m[1], m[2]];
}

/** _OSOndiskAPIVersion: the versions listed in ganeti_api_version, or why they cannot be read. */
function readApiVersions(osDir: string): { ok: true; versions: number[] } | { ok: false; message: string } {
  const apiFile = path.join(osDir, OS_API_FILE);
  let st: fs.Stats;
  try {
    st = fs.statSync(apiFile);
  } catch (err) {
    return { ok: false, message: `Required file '${OS_API_FILE}' not found under path ${osDir}: ${errnoOrStr(err)}` };
  }
  if (!st.isFile()) return { ok: false, message: `File '${OS_API_FILE}' in ${osDir} is not a regular file` };
  let text: string;
  try {
    text = fs.readFileSync(apiFile, 'utf8');
  } catch (err) {
    return { ok: false, message: `Error while reading the API version file at ${apiFile}: ${errnoOrStr(err)}` };
  }
  const versions: number[] = [];
  for (const line of splitLines(text)) {
    const s = line.trim();
    // Python's int(): optional sign, digits, underscores between digits.
    if (!/^[+-]?\d+(_\d+)*$/.test(s)) {
      return { ok: false, message: `API version(s) can't be converted to integer: invalid literal for int() with base 10: ${pyRepr(s)}` };
    }
    versions.push(Number(s.replace(/_/g, '')));
  }
  return { ok: true, versions };
}

/**
 * _TryOSFromDisk: the OS `name` (without variant) from the first search directory that
 * has it, or from `baseDir` only; every file the API version needs must be there.
 */
export function tryOsFromDisk(name: string, searchPath: readonly string[]): OsLookup {
  const osDir = NAME_MASK.test(name) ? searchPath.map((d) => path.join(d, name)).find(isDir) : undefined;
  if (osDir === undefined) return { ok: false, message: `Directory for OS ${name} not found in search path` };

  const api = readApiVersions(osDir);
  if (!api.ok) return api;
  const versions = api.versions;
  if (!versions.some((v) => OS_API_VERSIONS.includes(v))) {
    return { ok: false, message: `API version mismatch for path '${osDir}': found [${versions.join(', ')}], want ${OS_API_VERSIONS_REPR}.` };
  }
  const maxVersion = Math.max(...versions);

  // file → required; create and create_untrusted are each optional, but one must exist.
  const wanted = new Map<string, boolean>(OS_SCRIPTS.map((s) => [s, true]));
  wanted.set(OS_SCRIPT_CREATE, false);
  wanted.set(OS_SCRIPT_CREATE_UNTRUSTED, false);
  if (maxVersion >= OS_API_V15) wanted.set(OS_VARIANTS_FILE, false);
  if (maxVersion >= OS_API_V20) wanted.set(OS_PARAMETERS_FILE, true);
  else wanted.delete(OS_SCRIPT_VERIFY);

  const found = new Map<string, string>();
  for (const [file, required] of wanted) {
    const full = path.join(osDir, file);
    let st: fs.Stats;
    try {
      st = fs.statSync(full);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !required) continue;
      return { ok: false, message: `File '${file}' under path '${osDir}' is missing (${errnoOrStr(err)})` };
    }
    if (!st.isFile()) return { ok: false, message: `File '${file}' under path '${osDir}' is not a regular file` };
    // Upstream checks the owner's execute bit only, whoever runs noded.
    if (OS_SCRIPTS.includes(file) && (st.mode & 0o100) === 0) {
      return { ok: false, message: `File '${file}' under path '${osDir}' is not executable` };
    }
    found.set(file, full);
  }
  if (!found.has(OS_SCRIPT_CREATE) && !found.has(OS_SCRIPT_CREATE_UNTRUSTED)) {
    return { ok: false, message: `A create script (trusted or untrusted) under path '${osDir}' must exist` };
  }

  let variants: string[] = [];
  const variantsFile = found.get(OS_VARIANTS_FILE);
  if (variantsFile) {
    try {
      variants = splitLines(fs.readFileSync(variantsFile, 'utf8')).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        return { ok: false, message: `Error while reading the OS variants file at ${variantsFile}: ${errnoOrStr(err)}` };
      }
    }
  }

  let parameters: string[][] = [];
  const parametersFile = found.get(OS_PARAMETERS_FILE);
  if (parametersFile) {
    try {
      parameters = splitLines(fs.readFileSync(parametersFile, 'utf8')).map(splitOnce);
    } catch (err) {
      return { ok: false, message: `Error while reading the OS parameters file at ${parametersFile}: ${errnoOrStr(err)}` };
    }
  }

  return {
    ok: true,
    os: {
      name,
      path: osDir,
      createScript: found.get(OS_SCRIPT_CREATE) ?? null,
      createScriptUntrusted: found.get(OS_SCRIPT_CREATE_UNTRUSTED) ?? null,
      exportScript: found.get(OS_SCRIPT_EXPORT)!,
      importScript: found.get(OS_SCRIPT_IMPORT)!,
      renameScript: found.get(OS_SCRIPT_RENAME)!,
      verifyScript: found.get(OS_SCRIPT_VERIFY) ?? null,
      variants,
      parameters,
      apiVersions: versions,
    },
  };
}

/** OSFromDisk: the OS of a full name ("name+variant"), or the RPC fails with the reason. */
export function osFromDisk(fullName: string, searchPath: readonly string[]): OsDefinition {
  const found = tryOsFromDisk(splitNameVariant(fullName)[0], searchPath);
  if (!found.ok) throw new RpcFail(found.message);
  return found.os;
}

/** One os_diagnose row: [name, path, status, diagnose, variants, parameters, api_versions, trusted]. */
export type DiagnoseRow = [string, string, boolean, string, string[], string[][], number[], boolean];

/**
 * DiagnoseOS: every visible entry of every existing search directory, valid or not,
 * in search-path order (the master hides later duplicates of a name).
 */
export function diagnoseOs(searchPath: readonly string[]): DiagnoseRow[] {
  const rows: DiagnoseRow[] = [];
  for (const dir of searchPath) {
    if (!isDir(dir)) continue;
    let names: string[];
    try {
      names = fs.readdirSync(dir).filter((n) => !n.startsWith('.')).sort();
    } catch {
      // Upstream stops at a directory it cannot list.
      break;
    }
    for (const name of names) {
      const found = tryOsFromDisk(name, [dir]);
      if (found.ok) {
        const os = found.os;
        rows.push([name, path.join(dir, name), true, '', os.variants, os.parameters, os.apiVersions, os.createScriptUntrusted === null]);
      } else {
        rows.push([name, path.join(dir, name), false, found.message, [], [], [], true]);
      }
    }
  }
  return rows;
}

/** _CheckOSVariant: the variant in `fullName` must be one the OS lists (and present when it lists any). */
export function checkOsVariant(os: OsDefinition, fullName: string): void {
  const variant = splitNameVariant(fullName)[1];
  if (os.variants.length === 0) {
    if (variant) throw new RpcFail(`OS '${os.name}' does not support variants ('${variant}' passed)`);
    return;
  }
  if (!variant) throw new RpcFail(`OS name '${fullName}' must include a variant`);
  if (!os.variants.includes(variant)) throw new RpcFail(`OS '${os.name}' does not support variant '${variant}'`);
}

/** _CheckOSPList: every parameter given must be declared in parameters.list. */
export function checkOsParameters(os: OsDefinition, names: string[]): void {
  const supported = new Set(os.parameters.map((p) => p[0]));
  const unknown = [...new Set(names)].filter((n) => !supported.has(n)).sort();
  if (unknown.length > 0) {
    throw new RpcFail(`The following parameters are not supported by the OS ${os.name}: ${unknown.join(', ')}`);
  }
}
