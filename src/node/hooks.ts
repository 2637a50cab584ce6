// Hooks on the node: run-parts over etc/ganeti/hooks/<hpath>-<phase>.d (hooks_runner),
// as upstream's backend.HooksRunner.RunHooks over utils.RunParts (spec/surface.md §6.1).
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { RPC_TMO } from '../core/constants.ts';
import { RpcFail, type NodeContext } from './context.ts';

/** Per-script results on the wire (upstream's HKR_*). */
export const HKR_SKIP = 0;
export const HKR_FAIL = 1;
export const HKR_SUCCESS = 2;

/** Upstream's EXT_PLUGIN_MASK: what run-parts runs; anything else is skipped. */
const PLUGIN_MASK = /^[a-zA-Z0-9_-]+$/;
/** hpath is a directory-name prefix chosen by the master; refuse anything that could leave hooks/. */
const HPATH_RE = /^[a-zA-Z0-9_-]+$/;

/**
 * Upstream runs hooks without a timeout of its own; the master stops waiting when the
 * hooks_runner RPC times out. A script still running then is of no use to anyone, so it
 * is stopped at that point: SIGTERM, then SIGKILL after upstream's CHILD_LINGER_TIMEOUT.
 */
export const HOOKS_SCRIPT_TIMEOUT_S = RPC_TMO.NORMAL;
const CHILD_LINGER_TIMEOUT_S = 5;
/** Output kept per script: it travels in the RPC reply, the job file and error messages. */
export const HOOKS_MAX_OUTPUT = 64 * 1024;

export type RunPartsStatus = 'skip' | 'run' | 'error';

export interface ScriptRun {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** stdout followed by stderr, as upstream's RunResult.output (not interleaved). */
  output: string;
  /** Notes of ours after the output: truncation, the timeout. */
  notes: string[];
}

export interface RunPartsEntry {
  name: string;
  status: RunPartsStatus;
  /** 'run': the script's result; 'error': why it could not be started. */
  result?: ScriptRun;
  error?: string;
}

export interface RunPartsOptions {
  env: Record<string, string>;
  timeoutS?: number;
  lingerS?: number;
  maxOutput?: number;
}

/** Python's sorted() on str: code point order (UTF-16 order differs above the BMP). */
function codePointCompare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** upstream's utils.IsExecutable: a regular file (after symlinks) with execute permission. */
function isExecutable(file: string): boolean {
  try {
    if (!fs.statSync(file).isFile()) return false;
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

const STRERROR: Record<string, [number, string]> = {
  EACCES: [13, 'Permission denied'],
  ENOENT: [2, 'No such file or directory'],
  ENOEXEC: [8, 'Exec format error'],
  ETXTBSY: [26, 'Text file busy'],
  ENOMEM: [12, 'Cannot allocate memory'],
  E2BIG: [7, 'Argument list too long'],
  ELOOP: [40, 'Too many levels of symbolic links'],
  ENOTDIR: [20, 'Not a directory'],
  EMFILE: [24, 'Too many open files'],
  EAGAIN: [11, 'Resource temporarily unavailable'],
};

/** How Python prints the OSError a failed exec raises, which upstream puts in the hook's output. */
function osErrorText(err: NodeJS.ErrnoException, file: string): string {
  const known = err.code ? STRERROR[err.code] : undefined;
  const text = known ? `[Errno ${known[0]}] ${known[1]}: '${file}'` : `${err.code ?? 'error'}: ${err.message}`;
  // RunCmd turns a missing executable into an OpExecError of its own.
  if (err.code === 'ENOENT') return `Can't execute '${file}': not found (${text})`;
  return text;
}

class Capture {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  truncated = false;
  private readonly max: number;
  constructor(max: number) {
    this.max = max;
  }
  add(chunk: Buffer): void {
    // Keep reading past the cap (a blocked pipe would stall the script) but drop the rest.
    const room = this.max - this.size;
    if (room <= 0) {
      this.truncated = true;
      return;
    }
    const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
    if (part.length < chunk.length) this.truncated = true;
    this.chunks.push(part);
    this.size += part.length;
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

/**
 * Run one script: no arguments, stdin /dev/null, cwd /, exactly the given environment,
 * in its own process group (no controlling tty, and a timeout stops its children too).
 */
function runScript(file: string, opts: RunPartsOptions): Promise<ScriptRun> {
  const timeoutMs = (opts.timeoutS ?? HOOKS_SCRIPT_TIMEOUT_S) * 1000;
  const lingerMs = (opts.lingerS ?? CHILD_LINGER_TIMEOUT_S) * 1000;
  const max = opts.maxOutput ?? HOOKS_MAX_OUTPUT;
  return new Promise((resolve, reject) => {
    const child = spawn(file, [], { cwd: '/', env: opts.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const out = new Capture(max);
    const err = new Capture(max);
    child.stdout.on('data', (c: Buffer) => out.add(c));
    child.stderr.on('data', (c: Buffer) => err.add(c));
    let timedOut = false;
    let lingerTimer: NodeJS.Timeout | undefined;
    const killGroup = (sig: NodeJS.Signals) => {
      try {
        if (child.pid) process.kill(-child.pid, sig);
      } catch { /* already gone */ }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup('SIGTERM');
      lingerTimer = setTimeout(() => {
        killGroup('SIGKILL');
        // Pipes held open by an unkillable descendant must not hang the RPC.
        child.stdout.destroy();
        child.stderr.destroy();
      }, lingerMs);
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      clearTimeout(lingerTimer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(lingerTimer);
      const notes: string[] = [];
      if (out.truncated || err.truncated) notes.push('(output truncated)');
      if (timedOut) notes.push(`terminated after timeout of ${(timeoutMs / 1000).toFixed(2)} seconds`);
      resolve({ exitCode: code, signal, output: out.text() + err.text(), notes });
    });
  });
}

/**
 * upstream's utils.RunParts: every visible entry in name order; those matching the plugin
 * mask and executable are run one after the other, the rest reported as skipped.
 * A directory that cannot be listed gives no entries.
 */
export async function runParts(dir: string, opts: RunPartsOptions): Promise<RunPartsEntry[]> {
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => !n.startsWith('.'));
  } catch {
    return [];
  }
  names.sort(codePointCompare);
  const entries: RunPartsEntry[] = [];
  for (const name of names) {
    const file = path.join(dir, name);
    if (!PLUGIN_MASK.test(name) || !isExecutable(file)) {
      entries.push({ name, status: 'skip' });
      continue;
    }
    try {
      entries.push({ name, status: 'run', result: await runScript(file, opts) });
    } catch (err) {
      entries.push({ name, status: 'error', error: osErrorText(err as NodeJS.ErrnoException, file) });
    }
  }
  return entries;
}

/**
 * upstream's utils.SafeEncode: printable ASCII kept (backslash too), \t \n \r written as
 * escapes, other control characters and non-ASCII as \xNN / \uNNNN / \UNNNNNNNN.
 */
export function safeEncode(text: string): string {
  let out = '';
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (ch === '\t') out += '\\t';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (c >= 32 && c < 127) out += ch;
    else if (c <= 0xff) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else if (c <= 0xffff) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += `\\U${c.toString(16).padStart(8, '0')}`;
  }
  return out;
}

/** Python's str.strip(): whitespace incl. the ASCII separators \x1c-\x1f that JS trim() keeps. */
function pyStrip(text: string): string {
  const space = (ch: string) => /\s/.test(ch) || (ch >= '\x1c' && ch <= '\x1f') || ch === '\x85';
  let start = 0;
  let end = text.length;
  while (start < end && space(text[start])) start++;
  while (end > start && space(text[end - 1])) end--;
  return text.slice(start, end);
}

export type HookResult = [script: string, status: number, output: string];

/** The hooks of one hpath and phase in hooksDir, as upstream's HooksRunner.RunHooks. */
export async function runHooks(hooksDir: string, hpath: string, phase: string, env: Record<string, string>, opts: Omit<RunPartsOptions, 'env'> = {}): Promise<HookResult[]> {
  const subdir = `${hpath}-${phase}.d`;
  const dir = path.join(hooksDir, subdir);
  try {
    // A missing hooks directory is the normal case, not worth a warning at every operation.
    if (!fs.statSync(dir).isDirectory()) return [];
  } catch {
    return [];
  }
  const results: HookResult[] = [];
  for (const entry of await runParts(dir, { ...opts, env })) {
    const script = `${subdir}/${entry.name}`;
    if (entry.status === 'skip') {
      results.push([script, HKR_SKIP, '']);
    } else if (entry.status === 'error') {
      results.push([script, HKR_FAIL, `Hook script execution error: ${entry.error}`]);
    } else {
      const r = entry.result!;
      const failed = r.signal !== null || r.exitCode !== 0;
      const output = [pyStrip(r.output), ...r.notes].filter((t) => t !== '').join('\n');
      results.push([script, failed ? HKR_FAIL : HKR_SUCCESS, safeEncode(output)]);
    }
  }
  return results;
}

/** hooks_runner: [hpath, phase, env] → list of [script, status, output]. */
export async function hooksRunner(ctx: NodeContext, args: unknown[]): Promise<unknown> {
  const [hpath, phase, env] = args;
  if (typeof hpath !== 'string' || !HPATH_RE.test(hpath)) throw new RpcFail(`Invalid hooks path ${JSON.stringify(hpath)}`);
  if (phase !== 'pre' && phase !== 'post') throw new RpcFail(`Unknown hooks phase '${String(phase)}'`);
  if (env === null || typeof env !== 'object' || Array.isArray(env)) throw new RpcFail('Hooks environment must be a dictionary');
  // Upstream's RunCmd(reset_env=True): the scripts see this environment and nothing else.
  const scriptEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) scriptEnv[k] = String(v);
  const results = await runHooks(path.join(ctx.paths.confDir, 'hooks'), hpath, phase, scriptEnv);
  const failed = results.filter((r) => r[1] === HKR_FAIL).map((r) => r[0]);
  if (failed.length > 0) ctx.log.warn({ hpath, phase, failed }, 'hook scripts failed');
  return results;
}
