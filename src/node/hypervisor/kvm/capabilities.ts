// What the installed qemu can do, asked from the binary itself (upstream's _GetKVMOutput:
// `-help`, `-machine help`, `-device help`), so that the command line never carries an
// option this qemu removed (Ganeti #1338: -balloon gone in 3.1, -usbdevice, -localtime;
// #1852/#1878: later removals such as -no-acpi in 9.0, -chroot/-runas in 9.x).
// One probe per binary, kept while the file's size and modification time stay the same.
import fs from 'node:fs';
import { spawn } from 'node:child_process';
import { HypervisorError } from '../../../core/errors.ts';

/** The oldest qemu driven here: QMP's migrate-set-parameters with max-bandwidth and downtime-limit (2.8). */
export const MIN_QEMU_VERSION: readonly [number, number] = [2, 8];

export interface QemuCaps {
  path: string;
  /** [major, minor, micro] from the first line of -help (upstream's _ParseKVMVersion). */
  version: [number, number, number];
  /** "7.2.22" */
  versionText: string;
  help: string;
  machines: string;
  devices: string;
}

const VERSION_RE = /\b(\d+)\.(\d+)(\.(\d+))?\b/;

export function parseQemuVersion(help: string): { version: [number, number, number]; text: string } | null {
  const m = VERSION_RE.exec(help.split('\n')[0] ?? '');
  if (!m) return null;
  return { version: [Number(m[1]), Number(m[2]), m[4] ? Number(m[4]) : 0], text: m[0] };
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Capabilities from recorded outputs (the unit tests feed fixtures here). */
export function capsFromOutputs(path: string, help: string, machines: string, devices: string): QemuCaps {
  const v = parseQemuVersion(help);
  if (!v) throw new HypervisorError(`Unable to get KVM version from '${path} -help'`);
  return { path, version: v.version, versionText: v.text, help, machines, devices };
}

/** `-opt` is listed in -help (at the start of a line, as upstream's _QMP_RE and friends). */
export function hasOption(caps: QemuCaps, opt: string): boolean {
  return new RegExp(`^${escapeRe(opt)}(\\s|\\[|$)`, 'm').test(caps.help);
}

/** A -device driver by name or alias (upstream's _DEVICE_DRIVER_SUPPORTED, plus aliases). */
export function hasDevice(caps: QemuCaps, name: string): boolean {
  const n = escapeRe(name);
  return new RegExp(`^name "${n}"`, 'm').test(caps.devices) || new RegExp(`^name "[^"]+".*, alias "${n}"`, 'm').test(caps.devices);
}

/** The machine type marked "(default)" (upstream's _GetDefaultMachineVersion), else "pc". */
export function defaultMachine(caps: QemuCaps): string {
  return /^(\S+).*\(default\)/m.exec(caps.machines)?.[1] ?? 'pc';
}

/** Whether `-machine help` lists `name` (a machine type or an alias). */
export function machineSupported(caps: QemuCaps, name: string): boolean {
  return new RegExp(`^${escapeRe(name)}\\s`, 'm').test(caps.machines);
}

export function versionAtLeast(caps: QemuCaps, major: number, minor = 0): boolean {
  const [a, b] = caps.version;
  return a > major || (a === major && b >= minor);
}

/** Options of a unix-socket character device: "server=on,wait=off" since 6.0 (the old "server,nowait" is deprecated). */
export function serverNowait(caps: QemuCaps): string {
  return versionAtLeast(caps, 6, 0) ? 'server=on,wait=off' : 'server,nowait';
}

// ---------------------------------------------------------------------------------------

function run(path: string, args: string[], timeoutMs = 20_000): Promise<{ code: number | null; out: string; err: string; error?: Error }> {
  return new Promise((resolve) => {
    let out = '';
    let err = '';
    let child;
    try {
      child = spawn(path, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    } catch (e) {
      resolve({ code: null, out, err, error: e as Error });
      return;
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { err += d; });
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: null, out, err, error: e });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

const cache = new Map<string, { stamp: string; caps: Promise<QemuCaps> }>();

function stampOf(path: string): string {
  let st: fs.Stats;
  try {
    st = fs.statSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new HypervisorError(`The KVM binary ('${path}') does not exist`);
    throw new HypervisorError(`Cannot access the KVM binary ('${path}'): ${(err as Error).message}`);
  }
  if (!st.isFile()) throw new HypervisorError(`The KVM binary ('${path}') is not a file`);
  if ((st.mode & 0o111) === 0) throw new HypervisorError(`The KVM binary ('${path}') is not executable`);
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
}

async function probe(path: string): Promise<QemuCaps> {
  const help = await run(path, ['-help']);
  if (help.error || help.code !== 0) {
    throw new HypervisorError(`Unable to get KVM -help output from '${path}': ${help.error?.message ?? (help.err.trim() || `exit code ${String(help.code)}`)}`);
  }
  const machines = await run(path, ['-machine', 'help']);
  if (machines.error || machines.code !== 0) {
    throw new HypervisorError(`Unable to get KVM -machine help output from '${path}': ${machines.error?.message ?? (machines.err.trim() || `exit code ${String(machines.code)}`)}`);
  }
  // As upstream, a failing -device listing is accepted (old binaries): no -device then.
  const devices = await run(path, ['-device', 'help']);
  const caps = capsFromOutputs(path, help.out, machines.out, `${devices.out}\n${devices.err}`);
  checkQemuVersion(caps);
  return caps;
}

/** qemu too old to be driven here: a clear error before anything starts. */
export function checkQemuVersion(caps: QemuCaps): void {
  const [maj, min] = MIN_QEMU_VERSION;
  if (!versionAtLeast(caps, maj, min)) {
    throw new HypervisorError(`The KVM binary ('${caps.path}') is qemu ${caps.versionText}; version ${maj}.${min} or newer is needed`);
  }
  if (!hasOption(caps, '-qmp')) throw new HypervisorError(`The KVM binary ('${caps.path}') has no QMP monitor (-qmp)`);
  if (!hasOption(caps, '-daemonize')) throw new HypervisorError(`The KVM binary ('${caps.path}') cannot daemonize (-daemonize)`);
}

/** The capabilities of the qemu at `path`, probed once per binary (and again when the file changes). */
export function qemuCaps(path: string): Promise<QemuCaps> {
  if (typeof path !== 'string' || !path.startsWith('/')) {
    return Promise.reject(new HypervisorError(`The KVM binary path must be absolute, not '${String(path)}'`));
  }
  let stamp: string;
  try {
    stamp = stampOf(path);
  } catch (err) {
    return Promise.reject(err as Error);
  }
  const hit = cache.get(path);
  if (hit && hit.stamp === stamp) return hit.caps;
  const caps = probe(path);
  cache.set(path, { stamp, caps });
  caps.catch(() => {
    if (cache.get(path)?.caps === caps) cache.delete(path);
  });
  return caps;
}
