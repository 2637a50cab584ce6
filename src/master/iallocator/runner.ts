// Running an allocator (upstream's IAllocatorRunner, which noded runs on the master for
// the master; here the master daemon runs it itself, on the same machine): the script
// found on the search path gets the input in a temporary file `ganeti-iallocator.XXXXXX`
// (0600, removed afterwards) and the cluster's default_iallocator_params as `--key=value`
// arguments; its standard output is the answer. `hail` needs no file: when no script of
// that name is installed, our built-in allocator answers in-process.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OpExecError } from '../../core/errors.ts';
import { runIAllocator, HailInputError, type HailOptions } from '../../htools/hail-core.ts';

/** pathutils.IALLOCATOR_SEARCH_PATH */
export const IALLOCATOR_SEARCH_PATH: readonly string[] = ['/usr/local/lib/ganeti/iallocators', '/usr/lib/ganeti/iallocators'];
/** constants.EXT_PLUGIN_MASK: what an allocator's name may be. */
const EXT_PLUGIN_MASK = /^[a-zA-Z0-9_-]+$/;
/** The name the built-in allocator answers to. */
export const BUILTIN_ALLOCATOR = 'hail';
/** upstream's RPC_TMO_NORMAL for iallocator_runner, in seconds. */
const RUN_TIMEOUT_S = 900;

/**
 * The allocator directories of a node: upstream's list; a virtual node (root other than
 * "/") looks below its own root first, then at the machine's, as the OS search path does.
 */
export function iallocatorSearchPath(root: string): string[] {
  if (root === '/' || root === '') return [...IALLOCATOR_SEARCH_PATH];
  return [...IALLOCATOR_SEARCH_PATH.map((d) => path.join(root, d)), ...IALLOCATOR_SEARCH_PATH];
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/** utils.FindFile for an allocator: its path, or null (also for a name outside the mask). */
export function findIAllocator(root: string, name: string): string | null {
  if (!EXT_PLUGIN_MASK.test(name)) return null;
  return iallocatorSearchPath(root).map((d) => path.join(d, name)).find(isFile) ?? null;
}

/** Whether the cluster can run the allocator `name` (a script, or the built-in hail). */
export function iallocatorAvailable(root: string, name: string): boolean {
  return name === BUILTIN_ALLOCATOR || findIAllocator(root, name) !== null;
}

/** The command-line arguments of the parameters: --key=value, or --key for a null value. */
export function paramArgs(params: Record<string, unknown>): string[] {
  return Object.entries(params).map(([k, v]) => (v === null || v === undefined ? `--${k}` : `--${k}=${String(v)}`));
}

/** The built-in allocator's options from the same parameters (those it knows). */
function builtinOptions(args: string[]): HailOptions {
  const opts: HailOptions = {};
  for (const a of args) {
    if (a === '--ignore-soft-errors') opts.ignoreSoftErrors = true;
    else if (a === '--no-capacity-checks') opts.noCapacityChecks = true;
    else if (a.startsWith('--restrict-allocation-to=')) opts.restrictTo = a.slice(a.indexOf('=') + 1).split(',').filter((x) => x);
  }
  return opts;
}

const fail = (msg: string) => new OpExecError(`Failure while running the iallocator script: ${msg}`);

/** A temporary file holding `text`, created 0600 and exclusively (mkstemp). */
function writeTempInput(text: string): string {
  for (;;) {
    const name = path.join(os.tmpdir(), `ganeti-iallocator.${crypto.randomBytes(6).toString('base64url').slice(0, 6)}`);
    try {
      fs.writeFileSync(name, text, { mode: 0o600, flag: 'wx' });
      return name;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

function runScript(script: string, args: string[], signal?: AbortSignal): Promise<{ code: number | null; sig: string | null; stdout: string; stderr: string; timedOut: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(script, args, { cwd: '/', env: { ...process.env, LC_ALL: 'C' }, stdio: ['ignore', 'pipe', 'pipe'], signal });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, RUN_TIMEOUT_S * 1000);
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      resolve({ code, sig, stdout, stderr, timedOut });
    });
  });
}

/**
 * Run allocator `name` on the input text; its output text. Failures are upstream's
 * "Failure while running the iallocator script: ..." (OpExecError).
 */
export async function runAllocator(root: string, name: string, inText: string, params: Record<string, unknown>, signal?: AbortSignal): Promise<string> {
  const args = paramArgs(params);
  const script = findIAllocator(root, name);
  if (script === null) {
    if (name !== BUILTIN_ALLOCATOR) throw fail(`iallocator module '${name}' not found in the search path`);
    try {
      return JSON.stringify(runIAllocator(JSON.parse(inText), builtinOptions(args)));
    } catch (err) {
      if (err instanceof HailInputError) throw fail(`iallocator module '${name}' failed: ${err.message}`);
      throw err;
    }
  }
  const file = writeTempInput(inText);
  try {
    let r;
    try {
      r = await runScript(script, [file, ...args], signal);
    } catch (err) {
      throw fail(`iallocator module '${name}' failed: ${(err as Error).message}, output ''`);
    }
    if (r.code !== 0 || r.sig !== null) {
      const reasons = [r.sig !== null ? `terminated by signal ${r.sig}` : `exited with exit code ${r.code}`];
      if (r.timedOut) reasons.push(`force termination after timeout of ${RUN_TIMEOUT_S.toFixed(2)} seconds`);
      throw fail(`iallocator module '${name}' failed: ${reasons.join(', ')}, output '${r.stdout}${r.stderr}'`);
    }
    return r.stdout;
  } finally {
    fs.rmSync(file, { force: true });
  }
}
