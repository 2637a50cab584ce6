// The commands the storage backends run (lvm2's tools, blockdev), behind one small
// interface so that their output can be recorded on a machine that has the real thing and
// replayed where it is missing (without device-mapper, `lvcreate` cannot succeed, while
// pvs/vgs still work on a loop-backed volume group).
//
// Environment (read by noded and the tests):
//   GANETI_LVM_REPLAY=<dir>  answer every storage command from the fixtures in <dir>
//                            instead of running it (see test/fixtures/lvm/README.md);
//   GANETI_LVM_RECORD=<dir>  run the real commands and also write each invocation and
//                            its output into <dir> as a fixture (for making new ones;
//                            GANETI_LVM_RECORD_SOURCE says where, in each fixture).
//
// A fixture is one JSON file per invocation, named NNN-<tool>.json in call order:
//   {"argv": [...], "exit_code": 0, "stdout": "...", "stderr": "...", "source": "..."}
// Replay treats a directory as one recorded session. Commands that change LVM state
// (lvcreate, lvremove, lvextend, lvchange, ...) must come in the recorded order; each
// read-only query (lvs, vgs, pvs, blockdev) is answered with the latest recording of the
// same command line made before the next state change, i.e. as the state was then.
import fs from 'node:fs';
import path from 'node:path';
import { defaultCommandRunner, type RunResult } from '../master-ip.ts';
import { failReason as exitReason } from '../os/scripts.ts';

export type { RunResult };

/** Runs argv[0] with the rest as arguments; a failing command is a result, not an exception
 * (replay throws only for a command its session has no recording of). */
export type StorageRunner = (argv: readonly string[]) => Promise<RunResult>;

/** lvm2 can hang on a stuck device; anything slower than this is a broken system. */
const COMMAND_TIMEOUT_MS = 300_000;

/** Tools whose output describes state without changing it. */
const READ_ONLY_TOOLS = new Set(['lvs', 'vgs', 'pvs', 'blockdev', 'lvm']);

/**
 * Environment of the storage tools: sbin directories on PATH, C locale (the output is
 * parsed, and upstream's RunCmd sets LC_ALL=C too), and no warnings about descriptors a
 * daemon inherited (lvm2 prints one per open descriptor otherwise).
 */
function toolEnv(): Record<string, string> {
  const base = process.env.PATH || '/usr/local/bin:/usr/bin:/bin';
  return { PATH: `/usr/local/sbin:/usr/sbin:/sbin:${base}`, LC_ALL: 'C', LVM_SUPPRESS_FD_WARNINGS: '1' };
}

export const realStorageRunner: StorageRunner = (argv) =>
  defaultCommandRunner(argv[0], argv.slice(1), { env: toolEnv(), timeoutMs: COMMAND_TIMEOUT_MS });

export interface Fixture {
  argv: string[];
  exit_code: number | null;
  stdout: string;
  stderr: string;
  /** Where the output came from: a real run (tool and version) or crafted, and why. */
  source?: string;
}

/** Runs the real commands and writes each invocation into `dir` as the next fixture. */
export function recordingRunner(dir: string, inner: StorageRunner = realStorageRunner, source = 'recorded'): StorageRunner {
  fs.mkdirSync(dir, { recursive: true });
  let next = fs.readdirSync(dir).filter((n) => /^\d+-.*\.json$/.test(n)).length;
  return async (argv) => {
    const result = await inner(argv);
    next += 1;
    const fixture: Fixture = { argv: [...argv], exit_code: result.code, stdout: result.stdout, stderr: result.stderr, source };
    const name = `${String(next).padStart(3, '0')}-${path.basename(argv[0])}.json`;
    fs.writeFileSync(path.join(dir, name), `${JSON.stringify(fixture, null, 2)}\n`);
    return result;
  };
}

export function loadFixtures(dir: string): Fixture[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => n.endsWith('.json')).sort();
  } catch (err) {
    throw new Error(`Cannot read the LVM replay directory ${dir}: ${(err as Error).message}`, { cause: err });
  }
  return names.map((n) => {
    const f = JSON.parse(fs.readFileSync(path.join(dir, n), 'utf8')) as Fixture;
    if (!Array.isArray(f.argv) || typeof f.stdout !== 'string' || typeof f.stderr !== 'string') {
      throw new Error(`Invalid LVM fixture ${path.join(dir, n)}`);
    }
    return f;
  });
}

const sameArgv = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);
const isReadOnly = (argv: readonly string[]) => READ_ONLY_TOOLS.has(path.basename(argv[0]));

/** Answers from a recorded session (see the top of this file for the rules). */
export function replayRunner(fixtures: Fixture[], label = 'replay'): StorageRunner {
  /** Index of the last state-changing fixture consumed. */
  let position = -1;
  const nextChange = () => {
    for (let i = position + 1; i < fixtures.length; i++) if (!isReadOnly(fixtures[i].argv)) return i;
    return fixtures.length;
  };
  const answer = (f: Fixture): RunResult => ({ code: f.exit_code, signal: null, stdout: f.stdout, stderr: f.stderr });
  return async (argv) => {
    const limit = nextChange();
    if (!isReadOnly(argv)) {
      const expected = fixtures[limit];
      if (!expected) throw new Error(`LVM ${label}: unexpected \`${argv.join(' ')}\` after the end of the recorded session`);
      if (!sameArgv(expected.argv, argv)) {
        throw new Error(`LVM ${label}: got \`${argv.join(' ')}\` where the recorded session has \`${expected.argv.join(' ')}\``);
      }
      position = limit;
      return answer(expected);
    }
    for (let i = limit - 1; i >= 0; i--) if (sameArgv(fixtures[i].argv, argv)) return answer(fixtures[i]);
    throw new Error(`LVM ${label}: no recorded output for \`${argv.join(' ')}\``);
  };
}

const runners = new Map<string, StorageRunner>();

/** The runner noded uses: replay, recording or real, as the environment says. */
export function storageRunner(env: NodeJS.ProcessEnv = process.env): StorageRunner {
  const replayDir = env.GANETI_LVM_REPLAY;
  if (replayDir) {
    let r = runners.get(replayDir);
    if (!r) {
      r = replayRunner(loadFixtures(replayDir), replayDir);
      runners.set(replayDir, r);
    }
    return r;
  }
  const recordDir = env.GANETI_LVM_RECORD;
  if (recordDir) {
    let r = runners.get(`record:${recordDir}`);
    if (!r) {
      r = recordingRunner(recordDir, realStorageRunner, env.GANETI_LVM_RECORD_SOURCE || 'recorded');
      runners.set(`record:${recordDir}`, r);
    }
    return r;
  }
  return realStorageRunner;
}

/** Upstream's RunResult.fail_reason (a signal by its number, as the OS scripts' failures name it). */
export function failReason(r: RunResult): string {
  if (r.timedOut) return `timeout after ${COMMAND_TIMEOUT_MS / 1000}s`;
  if (r.spawnError) return `can't run: ${r.spawnError}`;
  return exitReason(r.code, r.signal as NodeJS.Signals | null);
}

export function failed(r: RunResult): boolean {
  return r.code !== 0;
}

/** stdout and stderr together, as upstream's RunResult.output. */
export function output(r: RunResult): string {
  return `${r.stdout}${r.stderr}`.trimEnd();
}
