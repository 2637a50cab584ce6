// Running OS scripts the way upstream's utils.RunCmd(reset_env=True, cwd=os_dir,
// output=logfile) does: exactly the given environment, the OS directory as working
// directory, stdin closed, stdout and stderr appended to the operation's log file under
// var/log/ganeti/os/, and Ganeti's wording for how a script ended.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type StdioOptions } from 'node:child_process';
import { safeEncode } from '../hooks.ts';
import { zeroes } from '../../rpc/procedures-os.ts';
import { outputCollector } from '../../util/output.ts';
import type { NodePaths } from '../../util/paths.ts';
import { splitLines } from './definition.ts';

/** The file descriptor an export script may write the expected size to (EXP_SIZE_FD). */
export const EXP_SIZE_FD = 3;
/** After SIGTERM at the time limit, how long before SIGKILL (constants.CHILD_LINGER_TIMEOUT). */
const CHILD_LINGER_TIMEOUT_S = 5;
/** Output kept from scripts whose output is returned (verify): it travels in an error message. */
const MAX_CAPTURED_OUTPUT = 64 * 1024;

export interface ScriptOptions {
  cwd: string;
  env: Record<string, string>;
  args?: string[];
  /** stdout and stderr are appended here; with stdoutFile, only stderr. */
  logFile?: string;
  /** The script's stdin (an import's image); otherwise stdin is closed. */
  stdinFile?: string;
  /** The script's stdout, truncated first (an export's image); runs of zeroes become holes. */
  stdoutFile?: string;
  /** Open EXP_SIZE_FD as a pipe and read the size the script announces there. */
  expectedSizeFd?: boolean;
  /** Stop the script (its whole process group) after this long. */
  timeoutS: number;
}

export interface ScriptResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  failed: boolean;
  /** RunResult.fail_reason: "exited with exit code N", "terminated by signal N". */
  failReason: string;
  /** stdout then stderr, when neither went to a file. */
  output: string;
  /** Bytes announced on EXP_SIZE_FD, if any. */
  expectedSize: number | null;
}

/**
 * A file written front to back from a pipe, leaving holes where the data is zeroes: a
 * disk image is mostly empty, and the export directory should not hold more than the
 * disk does.
 */
class SparseWriter {
  readonly fd: number;
  private position = 0;

  constructor(fd: number) {
    this.fd = fd;
  }

  write(data: Buffer): void {
    if (!data.equals(zeroes(data.length))) {
      let done = 0;
      while (done < data.length) done += fs.writeSync(this.fd, data, done, data.length - done, this.position + done);
    }
    this.position += data.length;
  }

  /** The file's length is what was written, trailing zeroes included; then to disk. */
  finish(): void {
    fs.ftruncateSync(this.fd, this.position);
    fs.fsyncSync(this.fd);
  }

  close(): void {
    try {
      fs.closeSync(this.fd);
    } catch { /* already closed */ }
  }
}

/** utils.TimestampForFilename: local time as YYYY-MM-DD_HH_MM_SS. */
export function timestampForFilename(date: Date = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())}_${p(date.getHours())}_${p(date.getMinutes())}_${p(date.getSeconds())}`;
}

/**
 * _InstanceLogName: var/log/ganeti/os/<kind>-<os>-<instance>[-<component>]-<timestamp>.log.
 * Names come from the master; a '/' in them (a variant can hold anything) must not leave the directory.
 */
export function instanceLogName(paths: NodePaths, kind: string, osName: string, instance: string, component: string | null = null, date?: Date): string {
  const safe = (s: string) => s.replace(/\//g, '_');
  const c = component ? `-${safe(component)}` : '';
  return path.join(paths.logDir, 'os', `${kind}-${safe(osName)}-${safe(instance)}${c}-${timestampForFilename(date)}.log`);
}

/** utils.TailFile: the last `lines` lines of the file's last 4 KiB. */
export function tailFile(file: string, lines = 20): string[] {
  let data: Buffer;
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const start = Math.max(0, size - 4096);
      data = Buffer.alloc(size - start);
      fs.readSync(fd, data, 0, data.length, start);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return [];
  }
  return splitLines(data.toString('utf8')).slice(-lines);
}

/** The last lines of a log, escaped as upstream's SafeEncode, for an error message. */
export function logTail(file: string, lines = 20): string {
  return tailFile(file, lines).map(safeEncode).join('\n');
}

function signalNumber(sig: NodeJS.Signals): number {
  return (os.constants.signals as Record<string, number>)[sig] ?? 0;
}

export function failReason(exitCode: number | null, signal: NodeJS.Signals | null): string {
  if (signal !== null) return `terminated by signal ${signalNumber(signal)}`;
  if (exitCode !== null) return `exited with exit code ${exitCode}`;
  return 'unable to determine termination reason';
}

/**
 * Run one script. Its process group is its own, so a time limit stops whatever it
 * started too. Fails (rejects) only when it cannot be started at all.
 */
export function runScript(script: string, opts: ScriptOptions): Promise<ScriptResult> {
  const fds: number[] = [];
  const open = (file: string, flags: string, mode?: number) => {
    const fd = fs.openSync(file, flags, mode);
    fds.push(fd);
    return fd;
  };
  const closeAll = () => {
    for (const fd of fds.splice(0)) {
      try {
        fs.closeSync(fd);
      } catch { /* already closed */ }
    }
  };
  return new Promise<ScriptResult>((resolve, reject) => {
    let stdio: StdioOptions;
    let image: SparseWriter | null = null;
    try {
      if (opts.stdoutFile) image = new SparseWriter(open(opts.stdoutFile, 'w', 0o640));
      if (opts.logFile) fs.mkdirSync(path.dirname(opts.logFile), { recursive: true, mode: 0o750 });
      const logFd = opts.logFile ? open(opts.logFile, 'a', 0o640) : null;
      const stdin = opts.stdinFile ? open(opts.stdinFile, 'r') : 'ignore';
      const stdout = opts.stdoutFile ? 'pipe' : logFd ?? 'pipe';
      const stderr = logFd ?? 'pipe';
      stdio = opts.expectedSizeFd ? [stdin, stdout, stderr, 'pipe'] : [stdin, stdout, stderr];
    } catch (err) {
      closeAll();
      reject(err);
      return;
    }
    const env = opts.expectedSizeFd ? { ...opts.env, EXP_SIZE_FD: String(EXP_SIZE_FD) } : opts.env;
    const child = spawn(script, opts.args ?? [], { cwd: opts.cwd, env, stdio, detached: true });
    // The child holds its own copies now (the image file is written here, from the pipe).
    for (const fd of fds.splice(0)) {
      if (fd === image?.fd) continue;
      try {
        fs.closeSync(fd);
      } catch { /* already closed */ }
    }
    const out = outputCollector(MAX_CAPTURED_OUTPUT);
    const err = outputCollector(MAX_CAPTURED_OUTPUT);
    let writeError: Error | null = null;
    child.stdout?.on('data', (c: Buffer) => {
      if (!image) return out.add(c);
      if (writeError) return;
      try {
        image.write(c);
      } catch (e) {
        // Keep draining the pipe so the script ends; the run counts as failed.
        writeError = e as Error;
      }
    });
    child.stderr?.on('data', (c: Buffer) => err.add(c));
    let sizeText = '';
    const sizePipe = opts.expectedSizeFd ? child.stdio[EXP_SIZE_FD] : null;
    sizePipe?.on('data', (c: Buffer) => {
      if (sizeText.length < 64) sizeText += c.toString('latin1');
    });
    const killGroup = (sig: NodeJS.Signals) => {
      try {
        if (child.pid) process.kill(-child.pid, sig);
      } catch { /* already gone */ }
    };
    let lingerTimer: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      killGroup('SIGTERM');
      lingerTimer = setTimeout(() => {
        killGroup('SIGKILL');
        // A descendant that keeps the pipes open must not hold the RPC.
        child.stdout?.destroy();
        child.stderr?.destroy();
        sizePipe?.destroy();
      }, CHILD_LINGER_TIMEOUT_S * 1000);
    }, opts.timeoutS * 1000);
    let settled = false;
    child.on('error', (e) => {
      clearTimeout(timer);
      clearTimeout(lingerTimer);
      if (settled) return;
      settled = true;
      image?.close();
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(lingerTimer);
      if (settled) return;
      settled = true;
      if (image) {
        try {
          image.finish();
        } catch (e) {
          writeError ??= e as Error;
        }
        image.close();
      }
      const size = /^\s*(\d+)\s*$/.exec(sizeText);
      resolve({
        exitCode: code,
        signal,
        failed: signal !== null || code !== 0 || writeError !== null,
        failReason: writeError ? `output could not be written: ${writeError.message}` : failReason(code, signal),
        output: out.text() + err.text(),
        expectedSize: size ? Number(size[1]) : null,
      });
    });
  });
}
