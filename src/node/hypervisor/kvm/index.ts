// The `kvm` hypervisor: real guests under qemu-system-x86_64 (upstream's hv_kvm).
//
// qemu runs detached (-daemonize: its own session, reparented to init), so it outlives
// noded: a restarted noded finds its instances again from the pid files (checked against
// /proc/<pid>/cmdline, ./runtime.ts) and talks to them over their QMP sockets (./qmp.ts).
// The command line is built from hvparams/beparams against the probed qemu
// (./cmdline.ts, ./capabilities.ts). Acceleration: KVM where /dev/kvm exists (and
// kvm_flag is not "disabled"), TCG otherwise; every start logs which, and a start with
// kvm_flag "enabled" on a node without /dev/kvm fails.
//
// A start (upstream's _ExecuteKVMRuntime): the VNC password file read, the taps made and
// recorded (nic/<name>), qemu run paused (-S) within START_TIMEOUT_MS, then CPU pinning,
// the VNC password and the start-up balloon set over QMP, then "cont". Whatever fails
// after qemu came up destroys it and removes its taps and runtime files: a failed start
// leaves nothing behind.
//
// States: a live qemu is "running" (QMP status running, paused, inmigrate, postmigrate…);
// with user_shutdown a guest's own power-off leaves qemu up in status "shutdown"
// (-no-shutdown), reported as state "shutdown" (USER_down); without it qemu exits and the
// instance is gone (ERROR_down on the master, as a crash). A soft stop is ACPI
// (system_powerdown, remembered in ctrl/<name>.powerdown so that the powered-off qemu is
// then quit rather than shown as a user shutdown); a forced one is QMP quit, then SIGKILL.
import fs from 'node:fs';
import { spawn } from 'node:child_process';
import { HypervisorError } from '../../../core/errors.ts';
import type { NodePaths } from '../../../util/paths.ts';
import type { Logger } from '../../../util/log.ts';
import { linuxNodeInfo, linuxPowercycle } from '../linux.ts';
import type {
  HvBlockDevice, HvInstance, HvInstanceInfo, HvNodeInfo, Hypervisor, InstanceConsole, MigrationStatus, StopOptions,
} from '../types.ts';
import { qemuCaps, type QemuCaps } from './capabilities.ts';
import { buildKvmCommand, resolveBindAddress, VNC_BASE_PORT } from './cmdline.ts';
import { closeTaps, openNics, savedTaps } from './netdev.ts';
import { applyCpuMask, needsPinning } from './pinning.ts';
import { withQmp } from './qmp.ts';
import { KvmFiles, parseRuntime, pidInfo, type KvmRuntime } from './runtime.ts';
import { validateKvmParams, validateWithCaps } from './validation.ts';

type Dict = Record<string, unknown>;

const DEFAULT_KVM_PATH = '/usr/bin/kvm';
const SOCAT_PATH = '/usr/bin/socat';
/** socat's console options with Ctrl-] (0x1d) as the escape (upstream's SOCAT_USE_ESCAPE). */
export const SOCAT_CONSOLE_PARAMS = 'raw,echo=0,escape=0x1d';
/** QMP statuses of a qemu that holds no running guest any more. */
const GUEST_OFF = new Set(['shutdown', 'guest-panicked', 'internal-error', 'io-error']);
const MIGRATION_INFO_MAX_BAD_ANSWERS = 5;
/** qemu's start (until its daemonizing parent exits), at most. */
const START_TIMEOUT_MS = 60_000;
const MIGRATION_INFO_RETRY_DELAY_MS = 2_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const str = (v: unknown): string => (v === null || v === undefined ? '' : String(v));

/** Whether this node can use KVM acceleration. */
export function kvmAvailable(dev = '/dev/kvm'): boolean {
  try {
    fs.accessSync(dev, fs.constants.R_OK | fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** The VNC password (first line of vnc_password_file) when VNC is on and one is set; read errors are the start's. */
export function readVncPassword(hvp: Dict): string | null {
  const pwFile = str(hvp.vnc_password_file);
  if (!pwFile || !str(hvp.vnc_bind_address)) return null;
  try {
    return fs.readFileSync(pwFile, 'utf8').split('\n')[0].trim();
  } catch (err) {
    throw new HypervisorError(`Failed to open VNC password file ${pwFile}: ${(err as Error).message}`);
  }
}

/** Whether the migration info says the guest ran on the source (no record: it did not, as upstream never resumes). */
export function guestRanBefore(info: string): boolean {
  try {
    const v = JSON.parse(info) as unknown;
    const extra = Array.isArray(v) ? v[4] as Dict | undefined : undefined;
    return extra?.guest_running === true;
  } catch {
    return false;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return pidInfo(pid) !== null;
  } catch {
    return false;
  }
}

/** CPU seconds a process used (utime + stime of /proc/<pid>/stat). */
function cpuSeconds(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

export class KvmHypervisor implements Hypervisor {
  readonly name = 'kvm';
  readonly files: KvmFiles;
  private readonly log: Logger | undefined;
  /** The last start's line for the operator (which accelerator, which qemu). */
  private startNote = '';
  /** How long qemu's daemonizing parent may take to exit (upstream has no limit). */
  startTimeoutMs = START_TIMEOUT_MS;
  /** How long a target may stay "inmigrate" after the source completed. */
  migrationArrivalTimeoutMs = 30_000;

  constructor(paths: NodePaths, log?: Logger) {
    this.files = new KvmFiles(paths);
    this.files.ensureDirs();
    this.log = log;
  }

  private info(msg: string, extra: Dict = {}): void {
    this.log?.info(extra, msg);
  }

  private warn(msg: string, extra: Dict = {}): void {
    this.log?.warn(extra, msg);
  }

  private kvmPath(hvparams?: Dict): string {
    return str(hvparams?.kvm_path) || DEFAULT_KVM_PATH;
  }

  private accelFor(hvp: Dict): 'kvm' | 'tcg' {
    if (str(hvp.kvm_flag) === 'disabled') return 'tcg';
    return kvmAvailable() ? 'kvm' : 'tcg';
  }

  // -------------------------------------------------------------------------------------
  // Listing

  /** The QMP status of a live instance ("running", "paused", "shutdown", …), or null when QMP does not answer. */
  async qmpStatus(name: string): Promise<string | null> {
    try {
      const r = await withQmp(this.files.qmpSocket(name), (q) => q.execute('query-status'), 5_000) as Dict;
      return str(r?.status) || null;
    } catch {
      return null;
    }
  }

  /**
   * A live qemu whose guest powered off after we asked it to (a soft stop of a
   * user_shutdown instance): quit it now; true when it is gone.
   */
  private async reapRequestedPowerdown(name: string, pid: number): Promise<boolean> {
    if (!fs.existsSync(this.files.powerdownFile(name))) return false;
    const status = await this.qmpStatus(name);
    if (status === null || !GUEST_OFF.has(status)) return false;
    await this.destroy(name, pid);
    return true;
  }

  async listInstances(): Promise<string[]> {
    const result: string[] = [];
    for (const name of this.files.listPidFiles()) {
      const pid = this.files.alivePid(name);
      if (pid === null) continue;
      if (await this.reapRequestedPowerdown(name, pid)) continue;
      result.push(name);
    }
    return result;
  }

  async instanceInfo(name: string): Promise<HvInstanceInfo | null> {
    const pid = this.files.alivePid(name);
    if (pid === null) return null;
    const fromCmdline = pidInfo(pid);
    if (!fromCmdline) return null;
    let memory = fromCmdline.memory;
    let vcpus = fromCmdline.vcpus;
    let status: string | null = null;
    try {
      await withQmp(this.files.qmpSocket(name), async (q) => {
        status = str(((await q.execute('query-status')) as Dict)?.status) || null;
        try {
          const cpus = await q.execute('query-cpus-fast');
          if (Array.isArray(cpus) && cpus.length > 0) vcpus = cpus.length;
        } catch { /* older qemu: the command line's count */ }
        try {
          const balloon = (await q.execute('query-balloon')) as Dict;
          if (typeof balloon?.actual === 'number') memory = Math.floor(balloon.actual / 1048576);
        } catch { /* no balloon: the command line's size */ }
      }, 5_000);
    } catch {
      // QMP busy or not answering: the process is there, so it runs.
    }
    if (status !== null && GUEST_OFF.has(status)) {
      if (fs.existsSync(this.files.powerdownFile(name))) {
        await this.destroy(name, pid);
        return null;
      }
      return { name, memory, vcpus, state: 'shutdown', time: cpuSeconds(pid) };
    }
    return { name, memory, vcpus, state: 'running', time: cpuSeconds(pid) };
  }

  async allInstancesInfo(): Promise<HvInstanceInfo[]> {
    // One QMP session per instance, all at once (each qemu answers for itself).
    const infos = await Promise.all(this.files.listPidFiles().map(async (name) => {
      try {
        return await this.instanceInfo(name);
      } catch (err) {
        if (err instanceof HypervisorError) return null; // gone meanwhile
        throw err;
      }
    }));
    return infos.filter((i): i is HvInstanceInfo => i !== null);
  }

  // -------------------------------------------------------------------------------------
  // Start

  private instanceFiles(name: string) {
    return {
      pidFile: this.files.pidFile(name),
      qmp: this.files.qmpSocket(name),
      serial: this.files.serialSocket(name),
      monitor: this.files.monitorSocket(name),
      qga: this.files.qgaSocket(name),
      chroot: this.files.instanceChrootDir(name),
      keymap: this.files.keymapFile(name),
    };
  }

  private checkDown(name: string): void {
    if (this.files.alivePid(name) !== null) throw new HypervisorError(`Failed to start instance ${name}: already running`);
  }

  private async capsChecked(hvp: Dict): Promise<QemuCaps> {
    const caps = await qemuCaps(this.kvmPath(hvp));
    const problem = validateWithCaps(hvp, caps, kvmAvailable());
    if (problem) throw new HypervisorError(problem);
    return caps;
  }

  /**
   * Build the command line and run qemu (upstream's _ExecuteKVMRuntime). `runtime` gives
   * the NICs, the hvparams at first start and the disks; `incoming` makes it wait for a
   * migration. Writes the runtime file with the command line actually run.
   */
  private async execute(inst: HvInstance, runtime: KvmRuntime, startupPaused: boolean, incoming?: { host: string; port: number }): Promise<void> {
    const name = inst.name;
    this.checkDown(name);
    // Whatever a dead qemu left (a stale pid file, sockets, its taps) goes first.
    this.files.removeRuntimeFiles(name);
    const [, nics, upHvp, disks] = runtime;
    // Runtime values win over the configuration for what the guest sees (upstream's up_hvp).
    const hvp: Dict = { ...inst.hvparams, ...upHvp };
    const caps = await this.capsChecked(hvp);
    const accel = this.accelFor(hvp);
    // Read before qemu starts (upstream does): a missing password file starts nothing.
    const vncPassword = readVncPassword(hvp);
    if (this.files.instanceChrootDir(name) && hvp.use_chroot === true) {
      fs.mkdirSync(this.files.instanceChrootDir(name), { recursive: true, mode: 0o700 });
    }
    // Upstream starts paused (-S) unless asked to or waiting for a migration: CPU pinning,
    // the VNC password and the balloon are set before the guest runs, then "cont".
    const resume = !startupPaused && !incoming;
    // The taps are recorded (nic/<instance>) as they are made, before qemu starts.
    const backends = openNics(name, nics, this.files.root, this.files.instanceNicDir(name));
    try {
      const built = buildKvmCommand({
        name,
        uuid: inst.uuid,
        hvp,
        bep: inst.beparams,
        networkPort: (inst as unknown as Dict).network_port as number | null | undefined,
        disks: disks.map(([disk, link, uri]) => ({ disk, link, uri })),
        nics,
        netBackends: backends.map((b) => b.netdev),
        startupPaused: startupPaused || resume,
        incoming,
        caps,
        accel,
        files: this.instanceFiles(name),
      });
      for (const note of [...built.notes, ...backends.map((b) => b.note).filter((n): n is string => n !== null)]) {
        this.warn(`KVM: ${note}`, { instance: name });
      }
      const saved: KvmRuntime = [built.argv, nics, { ...upHvp, machine_version: built.machine }, disks];
      await this.files.writeRuntime(name, saved);
      await this.run(name, built.argv);
      this.startNote = `KVM: instance ${name} started with ${accel === 'kvm' ? 'KVM acceleration (/dev/kvm)' : 'TCG software emulation (no /dev/kvm on this node: slow)'}` +
        `, qemu ${caps.versionText}, machine ${built.machine}${incoming ? `, waiting for a migration on ${incoming.host}:${incoming.port}` : ''}`;
      this.info(this.startNote, { instance: name, accel, qemu: caps.versionText, machine: built.machine, pid: this.files.readPid(name) });
      await this.afterStart(inst, hvp, vncPassword, resume);
    } catch (err) {
      // Nothing half-started stays: no qemu (paused by -S, waiting for its "cont"), no
      // taps, no runtime files; the start fails with the first error.
      await this.abandonStart(name);
      throw err;
    }
  }

  /** Undo a failed start: kill a qemu that did come up, delete the taps, remove the runtime files. */
  private async abandonStart(name: string): Promise<void> {
    try {
      const pid = this.files.alivePid(name);
      if (pid !== null) await this.destroy(name, pid);
      this.files.removeRuntimeFiles(name);
    } catch (err) {
      this.warn(`KVM: cleaning up after the failed start of ${name}: ${(err as Error).message}`, { instance: name });
    }
  }

  /** Run qemu; it daemonizes, so the parent's exit is the start's result (within START_TIMEOUT_MS). */
  private run(name: string, argv: string[]): Promise<void> {
    return new Promise((resolve, reject) => {
      let stderr = '';
      let stdout = '';
      let settled = false;
      const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: { ...process.env, LC_ALL: 'C' } });
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        // The whole process group (detached: qemu's parent leads it); a daemon child that
        // already left it is killed by the caller from the pid file.
        try {
          if (child.pid) process.kill(-child.pid, 'SIGKILL');
        } catch { /* gone */ }
        child.stdout.destroy();
        child.stderr.destroy();
        const output = `${stdout}${stderr}`.trim();
        reject(new HypervisorError(`Failed to start instance ${name}: qemu did not finish starting within ${Math.round(this.startTimeoutMs / 1000)} seconds${output ? ` (${output})` : ''}`));
      }, this.startTimeoutMs);
      child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
      child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
      child.on('error', (err) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(new HypervisorError(`Failed to start instance ${name}: ${err.message}`));
      });
      child.on('exit', (code, signal) => {
        if (settled) return;
        clearTimeout(timer);
        // The daemon child keeps the pipes until it is set up: do not wait for them.
        setTimeout(() => {
          if (settled) return;
          settled = true;
          child.stdout.destroy();
          child.stderr.destroy();
          const output = `${stdout}${stderr}`.trim();
          if (code !== 0) {
            const why = signal ? `terminated by signal ${signal}` : `exited with exit code ${String(code)}`;
            reject(new HypervisorError(`Failed to start instance ${name}: ${why} (${output})`));
            return;
          }
          if (this.files.alivePid(name) === null) {
            reject(new HypervisorError(`Failed to start instance ${name}${output ? ` (${output})` : ''}`));
            return;
          }
          resolve();
        }, 50);
      });
    });
  }

  /** CPU pinning, the VNC password, the start-up balloon; then the guest runs if it was paused for them. */
  private async afterStart(inst: HvInstance, hvp: Dict, vncPassword: string | null, resume: boolean): Promise<void> {
    if (needsPinning(hvp.cpu_mask)) {
      const pid = this.files.alivePid(inst.name);
      if (pid !== null) await withQmp(this.files.qmpSocket(inst.name), (q) => applyCpuMask(str(hvp.cpu_mask), pid, q));
    }
    if (vncPassword !== null) {
      await withQmp(this.files.qmpSocket(inst.name), (q) => q.execute('set_password', { protocol: 'vnc', password: vncPassword }));
    }
    // Upstream's _InstanceStartupMemory: maxmem if the node has it free, never below minmem.
    const maxmem = Number(inst.beparams.maxmem ?? inst.beparams.memory ?? 0);
    const minmem = Number(inst.beparams.minmem ?? maxmem);
    if (maxmem > 0) {
      const start = Math.max(minmem, Math.min(maxmem, linuxNodeInfo().memory_free));
      if (start < maxmem) {
        this.info(`KVM: starting instance ${inst.name} with ${start} MiB (the node has less than maxmem free)`, { instance: inst.name });
        await this.balloon(inst, start);
      }
    }
    if (resume) await withQmp(this.files.qmpSocket(inst.name), (q) => q.execute('cont'));
  }

  async start(inst: HvInstance, blockDevices: HvBlockDevice[], startupPaused: boolean): Promise<string> {
    this.checkDown(inst.name);
    const disks: KvmRuntime[3] = blockDevices.map((b) => [b.disk as unknown as Dict, b.linkName, b.uri]);
    const nics = (((inst as unknown as Dict).nics as Dict[] | undefined) ?? []).map((n) => ({ ...n }));
    await this.execute(inst, [[], nics, { ...inst.hvparams }, disks], startupPaused);
    return this.startNote;
  }

  // -------------------------------------------------------------------------------------
  // Stop

  /** Quit qemu (QMP), SIGKILL if it lingers; wait for the process to go. */
  private async destroy(name: string, pid: number): Promise<void> {
    try {
      await withQmp(this.files.qmpSocket(name), (q) => q.execute('quit'), 3_000);
    } catch { /* not answering: killed below */ }
    for (let i = 0; i < 30 && alive(pid); i++) await sleep(100);
    if (alive(pid)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch { /* gone */ }
      for (let i = 0; i < 50 && alive(pid); i++) await sleep(100);
    }
    if (alive(pid)) throw new HypervisorError(`Failed to kill qemu (pid ${pid}) of instance ${name}`);
  }

  async stop(inst: HvInstance, opts: StopOptions): Promise<void> {
    const pid = this.files.alivePid(inst.name);
    if (pid === null) return;
    const acpi = inst.hvparams?.acpi !== false;
    if (opts.force || !acpi) {
      await this.destroy(inst.name, pid);
      return;
    }
    const status = await this.qmpStatus(inst.name);
    if (status !== null && GUEST_OFF.has(status)) {
      // Already powered off (a user shutdown being cleaned up): nothing to ask.
      await this.destroy(inst.name, pid);
      return;
    }
    fs.writeFileSync(this.files.powerdownFile(inst.name), `${Date.now()}\n`);
    await withQmp(this.files.qmpSocket(inst.name), (q) => q.execute('system_powerdown'), (opts.timeout ?? 10) * 1000 || 10_000);
    this.info(`KVM: ACPI power-down sent to instance ${inst.name}`, { instance: inst.name, retry: opts.retry });
  }

  async cleanup(name: string): Promise<void> {
    if (this.files.alivePid(name) !== null) throw new HypervisorError('Cannot cleanup a live instance');
    closeTaps(savedTaps(this.files.instanceNicDir(name)));
    this.files.removeRuntimeFiles(name);
  }

  /** Upstream's RebootInstance: stop qemu, start it again from the saved runtime. */
  async reboot(inst: HvInstance): Promise<void> {
    const pid = this.files.alivePid(inst.name);
    if (pid === null) throw new HypervisorError(`Failed to reboot instance ${inst.name}: not running`);
    const runtime = this.files.readRuntime(inst.name);
    await this.destroy(inst.name, pid);
    // execute() deletes the old qemu's taps with its runtime files.
    await this.execute(inst, runtime, false);
  }

  async balloon(inst: HvInstance, memoryMib: number): Promise<void> {
    await withQmp(this.files.qmpSocket(inst.name), (q) => q.execute('balloon', { value: Math.floor(memoryMib) * 1048576 }));
  }

  async nodeInfo(): Promise<HvNodeInfo> {
    return linuxNodeInfo();
  }

  console(inst: HvInstance, node: unknown, group: unknown, hvparams: Dict, _beparams: Dict): InstanceConsole {
    const hvp = { ...inst.hvparams, ...hvparams };
    const nodeDict = (node ?? {}) as Dict;
    if (hvp.serial_console !== false) {
      const groupNd = (((group ?? {}) as Dict).ndparams ?? {}) as Dict;
      const nodeNd = (nodeDict.ndparams ?? {}) as Dict;
      const port = Number(nodeNd.ssh_port ?? groupNd.ssh_port ?? 22);
      return {
        instance: inst.name,
        kind: 'ssh',
        host: str(nodeDict.name) || str(nodeDict.primary_ip),
        port: Number.isInteger(port) ? port : 22,
        user: 'root',
        command: [SOCAT_PATH, `STDIO,${SOCAT_CONSOLE_PARAMS}`, `UNIX-CONNECT:${this.files.serialSocket(inst.name)}`],
      };
    }
    // Where qemu listens: an interface name stands for its address (as on the command line).
    let vnc: string;
    let spice: string;
    try {
      vnc = resolveBindAddress('VNC', str(hvp.vnc_bind_address), 4);
      spice = vnc ? '' : resolveBindAddress('SPICE', str(hvp.spice_bind), Number(hvp.spice_ip_version ?? 0) || 0);
    } catch (err) {
      return { instance: inst.name, kind: 'msg', message: `Console of instance ${inst.name}: ${(err as Error).message}` };
    }
    const networkPort = Number((inst as unknown as Dict).network_port ?? 0);
    if (vnc && networkPort > VNC_BASE_PORT) {
      return { instance: inst.name, kind: 'vnc', host: vnc, port: networkPort, display: networkPort - VNC_BASE_PORT };
    }
    if (spice) return { instance: inst.name, kind: 'spice', host: spice, port: networkPort };
    return { instance: inst.name, kind: 'msg', message: `No serial shell for instance ${inst.name}` };
  }

  async verify(hvparams?: Dict): Promise<string | null> {
    const msgs: string[] = [];
    const kvmPath = this.kvmPath(hvparams);
    if (!fs.existsSync(kvmPath)) msgs.push(`The KVM binary ('${kvmPath}') does not exist`);
    if (!fs.existsSync(SOCAT_PATH)) msgs.push(`The socat binary ('${SOCAT_PATH}') does not exist`);
    return msgs.length > 0 ? msgs.join('; ') : null;
  }

  async powercycle(): Promise<void> {
    const why = linuxPowercycle();
    throw new HypervisorError(`Failed to powercycle the node: ${why}`);
  }

  async validateParameters(hvparams: Dict): Promise<string | null> {
    return validateKvmParams({ kvm_path: DEFAULT_KVM_PATH, ...hvparams }, kvmAvailable());
  }

  // -------------------------------------------------------------------------------------
  // Migration

  /**
   * The runtime file (upstream's migration info), with one more element of ours:
   * {guest_running} — whether the guest runs on the source now, so that the target
   * resumes it after a non-live migration (which stops it) and leaves a paused guest paused.
   */
  async migrationInfo(inst: HvInstance): Promise<string> {
    const runtime = this.files.readRuntime(inst.name);
    const status = await this.qmpStatus(inst.name);
    return JSON.stringify([...runtime, { guest_running: status === 'running' }]);
  }

  async acceptInstance(inst: HvInstance, blockDevices: HvBlockDevice[], info: string, target: string): Promise<void> {
    const [, nics, upHvp, sourceDisks] = parseRuntime(info);
    const port = Number(inst.hvparams.migration_port ?? upHvp.migration_port ?? 8102);
    // The disks as this node sees them (its own links); the source's when none were given.
    const disks: KvmRuntime[3] = blockDevices.length > 0
      ? blockDevices.map((b) => [b.disk as unknown as Dict, b.linkName, b.uri])
      : sourceDisks;
    await this.execute(inst, [[], nics, upHvp, disks], false, { host: target, port });
  }

  async migrateInstance(_clusterName: string, inst: HvInstance, target: string, live: boolean): Promise<void> {
    const name = inst.name;
    if (this.files.alivePid(name) === null) throw new HypervisorError('Instance not running, cannot migrate');
    const hvp = inst.hvparams;
    const port = Number(hvp.migration_port ?? 8102);
    const bandwidthMib = Number(hvp.migration_bandwidth ?? 32);
    const downtimeMs = Number(hvp.migration_downtime ?? 30);
    const stoppedMark = this.files.migrationStopFile(name);
    fs.rmSync(stoppedMark, { force: true });
    await withQmp(this.files.qmpSocket(name), async (q) => {
      if (!live) {
        // Remembered, so that a failed migration resumes only a guest we stopped.
        const wasRunning = str(((await q.execute('query-status')) as Dict)?.status) === 'running';
        if (wasRunning) fs.writeFileSync(stoppedMark, `${Date.now()}\n`);
        await q.execute('stop');
      }
      try {
        await q.execute('migrate-set-parameters', { 'max-bandwidth': bandwidthMib * 1048576, 'downtime-limit': downtimeMs });
      } catch {
        // Before 2.8 (and as a fallback): the old commands.
        await q.execute('migrate_set_speed', { value: bandwidthMib * 1048576 });
        await q.execute('migrate_set_downtime', { value: downtimeMs / 1000 });
      }
      const caps = str(hvp.migration_caps).split(':').filter((c) => c !== '');
      if (caps.length > 0) {
        await q.execute('migrate-set-capabilities', { capabilities: caps.map((capability) => ({ capability, state: true })) });
      }
      await q.execute('migrate', { uri: `tcp:${target}:${port}` });
    });
    this.info(`KVM: migration of ${name} to ${target}:${port} started (${live ? 'live' : 'non-live'}, ${bandwidthMib} MiB/s, downtime ${downtimeMs} ms)`, { instance: name });
  }

  async getMigrationStatus(inst: HvInstance): Promise<MigrationStatus> {
    for (let i = 0; i < MIGRATION_INFO_MAX_BAD_ANSWERS; i++) {
      try {
        const r = await withQmp(this.files.qmpSocket(inst.name), (q) => q.execute('query-migrate'), 5_000) as Dict;
        let raw = str(r?.status);
        // Until the outgoing migration has connected, qemu reports "none", or, for a qemu
        // that itself arrived by migration, that incoming migration's "completed" (without
        // RAM figures): ours is still being set up. Everything in progress is "active"
        // (upstream's HV_MIGRATION_ACTIVE): the master takes any other status as the end.
        if (raw === 'none' || (raw === 'completed' && r.ram === undefined && r['total-time'] === undefined)) raw = 'setup';
        const status = raw === 'completed' || raw === 'failed' || raw === 'cancelled'
          ? raw
          : ['setup', 'active', 'cancelling', 'device', 'pre-switchover', 'wait-unplug', 'postcopy-active', 'postcopy-paused', 'postcopy-recover'].includes(raw)
            ? 'active'
            : null;
        if (status !== null) {
          const result: MigrationStatus = { status };
          const ram = (r.ram ?? null) as Dict | null;
          if (ram && typeof ram.transferred === 'number') result.transferred_ram = ram.transferred;
          if (ram && typeof ram.total === 'number') result.total_ram = ram.total;
          if (raw === 'failed' && r['error-desc']) this.warn(`KVM: migration of ${inst.name} failed: ${str(r['error-desc'])}`, { instance: inst.name });
          return result;
        }
        this.warn(`KVM: unknown migration status '${raw}'`, { instance: inst.name });
      } catch (err) {
        this.warn(`KVM: cannot query the migration status: ${(err as Error).message}`, { instance: inst.name });
      }
      await sleep(MIGRATION_INFO_RETRY_DELAY_MS);
    }
    return { status: 'failed' };
  }

  async finalizeMigrationDst(inst: HvInstance, info: string, success: boolean): Promise<void> {
    const pid = this.files.alivePid(inst.name);
    if (success) {
      if (pid === null) throw new HypervisorError(`Instance ${inst.name} is not running on the target after its migration`);
      // The source reports "completed" once it sent everything; the target may still be
      // loading the last of the state for a moment: wait for it to leave "inmigrate".
      let status = await this.qmpStatus(inst.name);
      const deadline = Date.now() + this.migrationArrivalTimeoutMs;
      while ((status === 'inmigrate' || status === null) && Date.now() < deadline && this.files.alivePid(inst.name) !== null) {
        await sleep(200);
        status = await this.qmpStatus(inst.name);
      }
      if (status === 'inmigrate') throw new HypervisorError(`Instance ${inst.name} has not arrived on the target (qemu still waits for the migration)`);
      // A non-live migration stopped the source: the guest arrives paused and runs here
      // now, as it did before; a guest that was paused on the source stays paused.
      if (status === 'paused' && guestRanBefore(info)) {
        await withQmp(this.files.qmpSocket(inst.name), (q) => q.execute('cont'));
      }
      return;
    }
    if (pid !== null) await this.destroy(inst.name, pid);
    await this.cleanup(inst.name);
  }

  async finalizeMigrationSource(inst: HvInstance, success: boolean, _live: boolean): Promise<void> {
    const pid = this.files.alivePid(inst.name);
    if (success) {
      if (pid !== null) await this.destroy(inst.name, pid);
      await this.cleanup(inst.name);
      return;
    }
    if (pid !== null) {
      try {
        await withQmp(this.files.qmpSocket(inst.name), (q) => q.execute('migrate_cancel'));
      } catch { /* nothing to cancel */ }
      // Only a guest this migration stopped (non-live) is resumed.
      const stoppedMark = this.files.migrationStopFile(inst.name);
      if (fs.existsSync(stoppedMark)) {
        await withQmp(this.files.qmpSocket(inst.name), (q) => q.execute('cont'));
        fs.rmSync(stoppedMark, { force: true });
      }
    } else {
      await this.cleanup(inst.name);
    }
  }
}
