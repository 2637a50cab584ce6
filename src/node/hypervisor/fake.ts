// The `fake` hypervisor (upstream's hv_fake): an instance is a state file, nothing runs.
// One JSON file per instance in <root>/var/run/ganeti/fake-hypervisor/<name>, replaced
// atomically:
//   {"name", "uuid", "memory" (MiB), "vcpus", "state": "running"|"shutdown",
//    "paused": bool, "started": epoch seconds}
// The file existing is the instance existing on this node. Removing it behind the
// master's back is the instance dying (tests and the watcher use that); setting "state"
// to "shutdown" (setFakeGuestState) is the guest shutting itself down, which the master
// shows as USER_down. As upstream: start fails if the instance runs, stop fails if it
// does not, a soft reboot does nothing, and the memory the instances hold is taken off
// the node's free memory. A node powercycle reboots nothing (upstream's fake reboots
// the machine): it is recorded as one JSON line {"time", "hvparams"} in
// <dir>/.powercycle (no instance name starts with a dot), and the instances stay.
//
// Migration (upstream's hv_fake): nothing moves but the state file. acceptInstance
// refuses an instance already running here (and one the node has not the memory for),
// migrateInstance records the transfer in the source's state file ("migration":
// {target, live, started}), getMigrationStatus reports it 'completed' at once, the
// target's finalize marks the instance running there (a state file under the target's
// own root) and the source's finalize removes it from the source (or, after a failure,
// forgets the recorded transfer: the instance runs on). A file <dir>/.fail-migration
// makes every migration from this node end 'failed', so tests can see the abort path.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { HypervisorError } from '../../core/errors.ts';
import type { NodePaths } from '../../util/paths.ts';
import { syncDir, writeFileAtomic } from '../../util/fs.ts';
import { linuxNodeInfo } from './linux.ts';
import type {
  HvBlockDevice, HvInstance, HvInstanceInfo, HvNodeInfo, HvState, Hypervisor, InstanceConsole, MigrationStatus, StopOptions,
} from './types.ts';

interface FakeState {
  name: string;
  uuid?: string;
  memory: number;
  vcpus: number;
  state: HvState;
  paused: boolean;
  started: number;
  /** A transfer to another node that migrateInstance started (until finalized). */
  migration?: { target: string; live: boolean; started: number };
}

/** The migration modes hvparams may name (upstream's HT_MIGRATION_MODES). */
const MIGRATION_MODES = ['live', 'non-live'];

export function fakeHypervisorDir(paths: NodePaths): string {
  return path.join(paths.runDir, 'fake-hypervisor');
}

/** An instance name usable as a file name (names come from the master, checked anyway). */
function stateFile(dir: string, name: string): string {
  if (typeof name !== 'string' || name === '' || name.startsWith('.') || name.includes('/') || name.includes('\0')) {
    throw new HypervisorError(`Invalid instance name ${JSON.stringify(name)}`);
  }
  return path.join(dir, name);
}

function intParam(params: Record<string, unknown>, key: string, fallback: number): number {
  const v = Number(params[key]);
  return Number.isFinite(v) ? Math.floor(v) : fallback;
}

export class FakeHypervisor implements Hypervisor {
  readonly name = 'fake';
  private readonly dir: string;
  private readonly nodeMemory: () => HvNodeInfo;

  constructor(paths: NodePaths, nodeMemory: () => HvNodeInfo = () => linuxNodeInfo()) {
    this.dir = fakeHypervisorDir(paths);
    this.nodeMemory = nodeMemory;
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o775 });
  }

  private read(name: string): FakeState | null {
    const file = stateFile(this.dir, name);
    let text: string;
    try {
      // Synchronously: a state file is ~100 bytes, and all_instances_info reads one per
      // instance; the async path's thread-pool round trips cost 10× more per file.
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new HypervisorError(`Failed to list instance ${name}: ${(err as Error).message}`);
    }
    try {
      const s = JSON.parse(text) as FakeState;
      return { ...s, name, state: s.state === 'shutdown' ? 'shutdown' : 'running' };
    } catch (err) {
      throw new HypervisorError(`Failed to list instance ${name}: invalid state file (${(err as Error).message})`);
    }
  }

  private async write(state: FakeState): Promise<void> {
    await writeFileAtomic(stateFile(this.dir, state.name), `${JSON.stringify(state)}\n`, { mode: 0o644 });
  }

  private info(s: FakeState): HvInstanceInfo {
    return { name: s.name, memory: s.memory, vcpus: s.vcpus, state: s.state, time: 0 };
  }

  async listInstances(): Promise<string[]> {
    try {
      // Dot files are the atomic writes' temporaries.
      return (await fsp.readdir(this.dir)).filter((n) => !n.startsWith('.')).sort();
    } catch (err) {
      throw new HypervisorError(`Failed to list instances: ${(err as Error).message}`);
    }
  }

  async instanceInfo(name: string): Promise<HvInstanceInfo | null> {
    const s = this.read(name);
    return s ? this.info(s) : null;
  }

  async allInstancesInfo(): Promise<HvInstanceInfo[]> {
    const result: HvInstanceInfo[] = [];
    for (const name of await this.listInstances()) {
      const s = this.read(name);
      if (s) result.push(this.info(s)); // gone since the listing: died meanwhile
    }
    return result;
  }

  /** Upstream's _InstanceStartupMemory: maxmem if the node has it free, never below minmem. */
  private async startupMemory(inst: HvInstance, heldNow: number): Promise<number> {
    const be = inst.beparams ?? {};
    const maxmem = intParam(be, 'maxmem', intParam(be, 'memory', 128));
    const minmem = intParam(be, 'minmem', maxmem);
    const free = (await this.nodeInfo()).memory_free + heldNow;
    return Math.max(minmem, Math.min(maxmem, free));
  }

  async start(inst: HvInstance, _blockDevices: HvBlockDevice[], startupPaused: boolean): Promise<void> {
    const current = this.read(inst.name);
    if (current && current.state === 'running') throw new HypervisorError(`Failed to start instance ${inst.name}: already running`);
    try {
      await this.write({
        name: inst.name,
        uuid: inst.uuid,
        memory: await this.startupMemory(inst, current?.memory ?? 0),
        vcpus: intParam(inst.beparams ?? {}, 'vcpus', 1),
        state: 'running',
        paused: Boolean(startupPaused),
        started: Date.now() / 1000,
      });
    } catch (err) {
      if (err instanceof HypervisorError) throw err;
      throw new HypervisorError(`Failed to start instance ${inst.name}: ${(err as Error).message}`);
    }
  }

  async stop(inst: HvInstance, _opts: StopOptions): Promise<void> {
    const file = stateFile(this.dir, inst.name);
    try {
      await fsp.unlink(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new HypervisorError(`Failed to stop instance ${inst.name}: not running`);
      throw new HypervisorError(`Failed to stop instance ${inst.name}: ${(err as Error).message}`);
    }
    await syncDir(this.dir);
  }

  async cleanup(): Promise<void> {
    // Nothing is left behind by a fake instance.
  }

  async reboot(): Promise<void> {
    // A fake guest has nothing to reboot (upstream: the same).
  }

  async balloon(inst: HvInstance, memoryMib: number): Promise<void> {
    const current = this.read(inst.name);
    if (!current) throw new HypervisorError(`Failed to balloon memory for ${inst.name}: not running`);
    try {
      await this.write({ ...current, memory: Math.floor(memoryMib) });
    } catch (err) {
      throw new HypervisorError(`Failed to balloon memory for ${inst.name}: ${(err as Error).message}`);
    }
  }

  async nodeInfo(): Promise<HvNodeInfo> {
    const result = this.nodeMemory();
    const used = (await this.allInstancesInfo()).reduce((sum, i) => sum + i.memory, 0);
    return { ...result, memory_free: result.memory_free - Math.min(result.memory_free, used) };
  }

  console(inst: HvInstance): InstanceConsole {
    return { instance: inst.name, kind: 'msg', message: 'Console not available for fake hypervisor' };
  }

  async verify(): Promise<string | null> {
    return fs.existsSync(this.dir) ? null : `The required directory '${this.dir}' does not exist`;
  }

  async powercycle(hvparams: Record<string, unknown> = {}): Promise<void> {
    const fh = await fsp.open(powercycleRecord(this.dir), 'a', 0o644);
    try {
      await fh.appendFile(`${JSON.stringify({ time: Date.now() / 1000, hvparams })}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
  }

  /** Upstream's fake checks nothing beyond the parameters' syntax. */
  async validateParameters(hvparams: Record<string, unknown>): Promise<string | null> {
    const mode = hvparams?.migration_mode;
    if (mode !== undefined && mode !== null && !MIGRATION_MODES.includes(String(mode))) {
      return `Parameter 'migration_mode' fails validation: invalid migration mode '${String(mode)}' (valid: ${MIGRATION_MODES.join(', ')})`;
    }
    return null;
  }

  async migrationInfo(inst: HvInstance): Promise<string> {
    // Nothing the target needs: upstream's fake answers an empty string too.
    if (!this.read(inst.name)) throw new HypervisorError(`Instance ${inst.name} is not running`);
    return '';
  }

  async acceptInstance(inst: HvInstance, _blockDevices: HvBlockDevice[], _info: string, _target: string): Promise<void> {
    if (this.read(inst.name)) throw new HypervisorError("Can't accept instance, already running");
    const be = inst.beparams ?? {};
    const needed = intParam(be, 'minmem', intParam(be, 'maxmem', intParam(be, 'memory', 128)));
    const free = (await this.nodeInfo()).memory_free;
    if (needed > free) {
      throw new HypervisorError(`Not enough memory to accept instance ${inst.name}: needed ${needed} MiB, available ${free} MiB`);
    }
  }

  async migrateInstance(_clusterName: string, inst: HvInstance, target: string, live: boolean): Promise<void> {
    const current = this.read(inst.name);
    if (!current || current.state !== 'running') throw new HypervisorError(`Instance ${inst.name} is not running`);
    if (current.migration) throw new HypervisorError(`Instance ${inst.name} is already being migrated to ${current.migration.target}`);
    try {
      await this.write({ ...current, migration: { target, live: Boolean(live), started: Date.now() / 1000 } });
    } catch (err) {
      throw new HypervisorError(`Failed to migrate instance ${inst.name}: ${(err as Error).message}`);
    }
  }

  async getMigrationStatus(inst: HvInstance): Promise<MigrationStatus> {
    const current = this.read(inst.name);
    if (!current?.migration) return { status: 'failed' };
    if (fs.existsSync(path.join(this.dir, FAIL_MIGRATION))) return { status: 'failed' };
    return { status: 'completed' };
  }

  async finalizeMigrationDst(inst: HvInstance, _info: string, success: boolean): Promise<void> {
    if (!success) {
      // Make sure nothing half-received stays (upstream's _MarkDown).
      await fsp.rm(stateFile(this.dir, inst.name), { force: true });
      return;
    }
    try {
      await this.write({
        name: inst.name,
        uuid: inst.uuid,
        memory: await this.startupMemory(inst, this.read(inst.name)?.memory ?? 0),
        vcpus: intParam(inst.beparams ?? {}, 'vcpus', 1),
        state: 'running',
        paused: false,
        started: Date.now() / 1000,
      });
    } catch (err) {
      throw new HypervisorError(`Failed to finalize migration of ${inst.name}: ${(err as Error).message}`);
    }
  }

  async finalizeMigrationSource(inst: HvInstance, success: boolean, _live: boolean): Promise<void> {
    const current = this.read(inst.name);
    if (success) {
      if (current) {
        await fsp.rm(stateFile(this.dir, inst.name), { force: true });
        await syncDir(this.dir);
      }
      return;
    }
    // A failed migration: the instance runs on here, as it was.
    if (current?.migration) {
      const rest: FakeState = { ...current };
      delete rest.migration;
      await this.write(rest);
    }
  }
}

/** The marker file that makes migrations from a node fail (tests). */
export const FAIL_MIGRATION = '.fail-migration';

/** Where the fake hypervisor records the powercycles it did not do. */
export function powercycleRecord(dir: string): string {
  return path.join(dir, '.powercycle');
}

/** Make a fake guest shut itself down (USER_down) or run again, as a test or a demo would. */
export async function setFakeGuestState(paths: NodePaths, name: string, state: HvState): Promise<void> {
  const file = stateFile(fakeHypervisorDir(paths), name);
  const current = JSON.parse(await fsp.readFile(file, 'utf8')) as FakeState;
  await writeFileAtomic(file, `${JSON.stringify({ ...current, state })}\n`, { mode: 0o644 });
}
