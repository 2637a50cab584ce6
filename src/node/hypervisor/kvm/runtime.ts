// The kvm hypervisor's files on a node, upstream's layout below the node's root:
//   var/run/ganeti/kvm-hypervisor/pid/<instance>              qemu's pid (written by qemu, -pidfile)
//   var/run/ganeti/kvm-hypervisor/conf/<instance>.runtime     [cmdline, nics, hvparams, disks] (JSON)
//   var/run/ganeti/kvm-hypervisor/ctrl/<instance>.{qmp,serial,monitor,qga}   qemu's sockets
//   var/run/ganeti/kvm-hypervisor/ctrl/<instance>.powerdown   a soft stop was asked (ours)
//   var/run/ganeti/kvm-hypervisor/ctrl/<instance>.migration-stopped   a non-live migration paused it (ours)
//   var/run/ganeti/kvm-hypervisor/socket-dir   the private short socket directory, where ctrl/ is too deep (ours)
//   var/run/ganeti/kvm-hypervisor/nic/<instance>/<seq>        the tap device of NIC <seq>
//   var/run/ganeti/kvm-hypervisor/{uid,chroot,chroot-quarantine,keymap}/
// A pid file alone proves nothing: the process must be alive and its /proc/<pid>/cmdline
// must carry "-name <instance>" (upstream's _InstancePidInfo), so a recycled pid or a
// stale file is never taken for the instance.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HypervisorError } from '../../../core/errors.ts';
import type { NodePaths } from '../../../util/paths.ts';
import { writeFileAtomic, writeFileAtomicSync } from '../../../util/fs.ts';
import { closeTaps, savedTaps } from './netdev.ts';

type Dict = Record<string, unknown>;

/** Upstream's runtime tuple: (kvm_cmd, nics, hvparams, disks as [disk, link, uri]). */
export type KvmRuntime = [string[], Dict[], Dict, Array<[Dict, string, string | null]>];

/** Longest unix socket path (sun_path is 108 bytes with its NUL). */
const MAX_SOCKET_PATH = 107;

export class KvmFiles {
  readonly root: string;
  readonly pidDir: string;
  readonly uidDir: string;
  readonly ctrlDir: string;
  readonly confDir: string;
  readonly nicDir: string;
  readonly chrootDir: string;
  readonly quarantineDir: string;
  readonly keymapDir: string;

  constructor(paths: NodePaths) {
    this.root = path.join(paths.runDir, 'kvm-hypervisor');
    this.pidDir = path.join(this.root, 'pid');
    this.uidDir = path.join(this.root, 'uid');
    this.ctrlDir = path.join(this.root, 'ctrl');
    this.confDir = path.join(this.root, 'conf');
    this.nicDir = path.join(this.root, 'nic');
    this.chrootDir = path.join(this.root, 'chroot');
    this.quarantineDir = path.join(this.root, 'chroot-quarantine');
    this.keymapDir = path.join(this.root, 'keymap');
  }

  ensureDirs(): void {
    for (const d of [this.root, this.pidDir, this.uidDir, this.ctrlDir, this.confDir, this.nicDir, this.chrootDir, this.quarantineDir, this.keymapDir]) {
      fs.mkdirSync(d, { recursive: true, mode: 0o775 });
    }
  }

  pidFile(name: string): string {
    return path.join(this.pidDir, checkName(name));
  }

  runtimeFile(name: string): string {
    return path.join(this.confDir, `${checkName(name)}.runtime`);
  }

  powerdownFile(name: string): string {
    return path.join(this.ctrlDir, `${checkName(name)}.powerdown`);
  }

  /** A non-live migration stopped this guest (ours: a failed migration resumes only such a guest). */
  migrationStopFile(name: string): string {
    return path.join(this.ctrlDir, `${checkName(name)}.migration-stopped`);
  }

  instanceNicDir(name: string): string {
    return path.join(this.nicDir, checkName(name));
  }

  instanceChrootDir(name: string): string {
    return path.join(this.chrootDir, checkName(name));
  }

  keymapFile(name: string): string {
    return path.join(this.keymapDir, checkName(name));
  }

  /** Where the private short socket directory of this node is recorded (see socketDir). */
  get socketDirRecord(): string {
    return path.join(this.root, 'socket-dir');
  }

  /**
   * The directory qemu's sockets are made in: ctrl/, or, where the node's root makes
   * ctrl/<name>.monitor longer than a unix socket path may be, "<private>/c", a link to
   * ctrl/ inside a private directory of the system's temporary directory (made with
   * mkdtemp, mode 0700, ours) whose path is recorded in kvm-hypervisor/socket-dir and
   * reused while it is still that: a predictable name in /tmp could be anybody's.
   */
  socketDir(name: string): string {
    const longest = path.join(this.ctrlDir, `${checkName(name)}.monitor`);
    if (longest.length <= MAX_SOCKET_PATH) return this.ctrlDir;
    const link = path.join(this.privateShortDir(), 'c');
    if (path.join(link, `${name}.monitor`).length > MAX_SOCKET_PATH) {
      throw new HypervisorError(`Instance name ${name} is too long for qemu's control sockets`);
    }
    return link;
  }

  private privateShortDir(): string {
    let recorded: string | null = null;
    try {
      recorded = fs.readFileSync(this.socketDirRecord, 'utf8').trim() || null;
    } catch { /* none yet */ }
    if (recorded && this.validShortDir(recorded)) return recorded;
    try {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gnt-kvm-'));
      fs.chmodSync(dir, 0o700);
      fs.symlinkSync(this.ctrlDir, path.join(dir, 'c'));
      writeFileAtomicSync(this.socketDirRecord, `${dir}\n`, { mode: 0o600 });
      return dir;
    } catch (err) {
      throw new HypervisorError(`Cannot make a short directory for qemu's control sockets: ${(err as Error).message}`);
    }
  }

  /** `dir` is a real directory of ours, closed to others, whose "c" links to ctrl/ (made again if missing). */
  private validShortDir(dir: string): boolean {
    try {
      const st = fs.lstatSync(dir);
      const uid = process.getuid?.() ?? st.uid;
      if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o077) !== 0) return false;
      const link = path.join(dir, 'c');
      let target: string | null = null;
      try {
        target = fs.readlinkSync(link);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return false;
      }
      if (target === this.ctrlDir) return true;
      if (target !== null) fs.unlinkSync(link);
      fs.symlinkSync(this.ctrlDir, link);
      return true;
    } catch {
      return false;
    }
  }

  qmpSocket(name: string): string {
    return path.join(this.socketDir(name), `${name}.qmp`);
  }

  serialSocket(name: string): string {
    return path.join(this.socketDir(name), `${name}.serial`);
  }

  monitorSocket(name: string): string {
    return path.join(this.socketDir(name), `${name}.monitor`);
  }

  qgaSocket(name: string): string {
    return path.join(this.socketDir(name), `${name}.qga`);
  }

  /** The instances with a pid file (alive or not). */
  listPidFiles(): string[] {
    try {
      return fs.readdirSync(this.pidDir).filter((n) => !n.startsWith('.')).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new HypervisorError(`Failed to list instances: ${(err as Error).message}`);
    }
  }

  readPid(name: string): number | null {
    let text: string;
    try {
      text = fs.readFileSync(this.pidFile(name), 'utf8');
    } catch {
      return null;
    }
    const pid = Number.parseInt(text.trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  }

  /** The pid of the live qemu of instance `name`, or null (upstream's _InstancePidAlive). */
  alivePid(name: string): number | null {
    const pid = this.readPid(name);
    if (pid === null) return null;
    const info = pidInfo(pid);
    return info && info.name === name ? pid : null;
  }

  async writeRuntime(name: string, runtime: KvmRuntime | string): Promise<void> {
    const text = typeof runtime === 'string' ? runtime : JSON.stringify(runtime);
    try {
      await writeFileAtomic(this.runtimeFile(name), text, { mode: 0o600 });
    } catch (err) {
      throw new HypervisorError(`Failed to save KVM runtime file: ${(err as Error).message}`);
    }
  }

  readRuntimeText(name: string): string {
    try {
      return fs.readFileSync(this.runtimeFile(name), 'utf8');
    } catch (err) {
      throw new HypervisorError(`Failed to load KVM runtime file: ${(err as Error).message}`);
    }
  }

  readRuntime(name: string): KvmRuntime {
    return parseRuntime(this.readRuntimeText(name));
  }

  /**
   * Remove what a stopped instance leaves (upstream's _RemoveInstanceRuntimeFiles); the
   * tap devices recorded in nic/<instance> are deleted before their record goes.
   */
  removeRuntimeFiles(name: string): void {
    closeTaps(savedTaps(this.instanceNicDir(name)));
    const dir = this.socketDir(name);
    for (const f of [this.pidFile(name), this.runtimeFile(name), this.powerdownFile(name), this.migrationStopFile(name), this.keymapFile(name),
      path.join(this.uidDir, name),
      ...['qmp', 'serial', 'monitor', 'qga'].map((s) => path.join(dir, `${name}.${s}`))]) {
      fs.rmSync(f, { force: true });
    }
    fs.rmSync(this.instanceNicDir(name), { recursive: true, force: true });
    const chroot = this.instanceChrootDir(name);
    try {
      fs.rmdirSync(chroot);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOTEMPTY') {
        // Not empty: a possible break-out; kept for forensics, as upstream does.
        const stamp = new Date().toISOString().replace(/[-:.]/g, '');
        fs.renameSync(chroot, fs.mkdtempSync(path.join(this.quarantineDir, `${name}-${stamp}-`)) + '/root');
      } else if (code !== 'ENOENT') {
        throw err;
      }
    }
  }
}

function checkName(name: string): string {
  if (typeof name !== 'string' || name === '' || name.startsWith('.') || name.includes('/') || name.includes('\0') || name.includes(',')) {
    throw new HypervisorError(`Invalid instance name ${JSON.stringify(name)}`);
  }
  return name;
}

/** What a qemu process's command line says: (-name, -m, -smp), or null when it is not a live ganeti qemu. */
export function pidInfo(pid: number): { name: string; memory: number; vcpus: number } | null {
  let raw: string;
  try {
    raw = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return null;
  }
  // A zombie (exited, not yet reaped) has an empty command line: not alive.
  const args = raw.split('\0');
  let name: string | null = null;
  let memory = 0;
  let vcpus = 0;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '-name') name = (args[++i] ?? '').split(',')[0].replace(/^guest=/, '');
    else if (args[i] === '-m') memory = Number.parseInt(args[++i] ?? '0', 10) || 0;
    else if (args[i] === '-smp') vcpus = Number.parseInt((args[++i] ?? '0').split(',')[0], 10) || 0;
  }
  return name === null ? null : { name, memory, vcpus };
}

export function parseRuntime(text: string): KvmRuntime {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new HypervisorError(`Invalid KVM runtime data: ${(err as Error).message}`);
  }
  if (!Array.isArray(v) || v.length < 3 || !Array.isArray(v[0]) || !Array.isArray(v[1])) {
    throw new HypervisorError('Invalid KVM runtime data: not [cmdline, nics, hvparams, disks]');
  }
  return [v[0] as string[], v[1] as Dict[], (v[2] ?? {}) as Dict, (Array.isArray(v[3]) ? v[3] : []) as KvmRuntime[3]];
}
