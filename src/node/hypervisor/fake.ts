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
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { HypervisorError } from '../../core/errors.ts';
import type { NodePaths } from '../../util/paths.ts';
import { syncDir, writeFileAtomic } from '../../util/fs.ts';
import { linuxNodeInfo } from './linux.ts';
import type { HvBlockDevice, HvInstance, HvInstanceInfo, HvNodeInfo, HvState, Hypervisor, InstanceConsole, StopOptions } from './types.ts';

interface FakeState {
  name: string;
  uuid?: string;
  memory: number;
  vcpus: number;
  state: HvState;
  paused: boolean;
  started: number;
}

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
}

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
