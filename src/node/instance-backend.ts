// noded's instance and block-device procedures (src/rpc/procedures-instance.ts), after
// upstream's backend.py: StartInstance, InstanceShutdown, InstanceReboot,
// GetAllInstancesInfo, Blockdev*, *FileStorageDir. Hypervisors are in ./hypervisor/,
// disks in ./storage/. Failures of those layers become RpcFail messages here, with
// upstream's wording, in one place (fail()).
//
// Payload shapes (what the master reads):
//   all_instances_info → {name: {memory, vcpus, state: "running"|"shutdown", time}}
//   instance_info      → the same dict for one instance, or {}
//   blockdev_assemble  → [dev_path, link_name, null] on the primary; [true, true, null]
//                        when not on_primary (nothing to assemble on a secondary for
//                        file and plain disks; upstream answers (True, True))
//   blockdev_find      → null or {dev_path, major, minor, sync_percent, estimated_time,
//                        is_degraded, ldisk_status}
// Device paths are in cluster form: the file's cluster path, or /dev/<vg>/<lv>.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { HypervisorError } from '../core/errors.ts';
import { nowNs } from '../core/json.ts';
import { writeFileAtomic } from '../util/fs.ts';
import type { INSTANCE_PROCEDURES } from '../rpc/procedures-instance.ts';
import { RpcFail, type Handler, type NodeContext } from './context.ts';
import { getHypervisor, isMissingHypervisor, type HvBlockDevice, type HvInstance, type HvInstanceInfo, type Hypervisor } from './hypervisor/index.ts';
import {
  BlockDeviceError, createDevice, describeDisk, diskSpec, FileStoragePathError, findDevice, openDevice, pyTuple, storageEnv,
  type BlockDevice, type DiskSpec, type StorageEnv,
} from './storage/index.ts';
import { linkDisk, removeDiskLinks } from './storage/links.ts';
import { resolveStoragePath } from './storage/paths.ts';
import { zeroRange } from './storage/wipe.ts';
import { vgInfo } from './storage/lvm.ts';
import { fsErrorText } from './storage/errors.ts';

type Dict = Record<string, unknown>;

/** The RpcFail for a failure of the storage or hypervisor layer; anything else is a bug and stays as it is. */
function fail(prefix: string, err: unknown): Error {
  if (err instanceof RpcFail) return err;
  if (err instanceof BlockDeviceError || err instanceof FileStoragePathError || err instanceof HypervisorError) {
    return new RpcFail(`${prefix}${err.message}`);
  }
  return err as Error;
}

/** Run a storage or hypervisor call; its failures become RpcFail with `prefix` (upstream's _Fail texts). */
export async function guard<T>(prefix: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw fail(prefix, err);
  }
}

// ---------------------------------------------------------------------------------------
// Arguments

export interface InstanceArg extends HvInstance {
  disks_info: unknown[];
  disks?: unknown[];
  /** The NICs with their filled nicparams (kvm makes its network devices from them). */
  nics: Dict[];
  /** The instance's VNC/SPICE port (kvm), if it has one. */
  network_port?: number | null;
}

export function instanceArg(value: unknown): InstanceArg {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new RpcFail(`Invalid instance ${JSON.stringify(value)}`);
  const i = value as Dict;
  if (typeof i.name !== 'string' || i.name === '') throw new RpcFail('Instance has no name');
  // Names become file names (state, reason trail, disk links) on the node.
  if (i.name.includes('/') || i.name.includes('\0') || i.name.startsWith('.')) throw new RpcFail(`Invalid instance name ${JSON.stringify(i.name)}`);
  if (typeof i.hypervisor !== 'string') throw new RpcFail(`Instance ${i.name} has no hypervisor`);
  const dict = (v: unknown) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Dict) : {});
  return {
    name: i.name,
    uuid: typeof i.uuid === 'string' ? i.uuid : undefined,
    hypervisor: i.hypervisor,
    hvparams: dict(i.hvparams),
    beparams: dict(i.beparams),
    disks_info: Array.isArray(i.disks_info) ? i.disks_info : [],
    disks: Array.isArray(i.disks) ? i.disks : [],
    nics: Array.isArray(i.nics) ? i.nics.filter((n): n is Dict => n !== null && typeof n === 'object') : [],
    network_port: typeof i.network_port === 'number' ? i.network_port : null,
  };
}

function diskArg(value: unknown): DiskSpec {
  try {
    return diskSpec(value);
  } catch (err) {
    throw fail('', err);
  }
}

function mib(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw new RpcFail(`Invalid ${what} ${JSON.stringify(value)}`);
  return value;
}

function hvparamsFor(all: unknown, hv: string): Dict {
  const v = all !== null && typeof all === 'object' ? (all as Dict)[hv] : undefined;
  return v !== null && typeof v === 'object' ? (v as Dict) : {};
}

export function hypervisor(ctx: NodeContext, name: unknown): Hypervisor {
  try {
    return getHypervisor(ctx.paths, name, ctx.log);
  } catch (err) {
    throw fail('', err);
  }
}

/**
 * The hypervisors of a listing call that exist here. One of Ganeti's hypervisors without
 * a backend on this node runs no instances here, so it adds nothing to a listing (a
 * cluster may enable kvm next to fake); an unknown name is an error.
 */
function listedHypervisors(ctx: NodeContext, value: unknown): Array<[string, Hypervisor]> {
  return stringList(value, 'hypervisor list').filter((n) => !isMissingHypervisor(n)).map((n) => [n, hypervisor(ctx, n)]);
}

function stringList(value: unknown, what: string): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw new RpcFail(`Invalid ${what} ${JSON.stringify(value)}`);
  return value as string[];
}

// ---------------------------------------------------------------------------------------
// Reason trail: upstream keeps the last one per instance in var/run/ganeti/instance-reason.

/** noded's own entry, as upstream's _extendReasonTrail. */
function extendReasonTrail(trail: unknown, op: string): unknown[] {
  const list = Array.isArray(trail) ? [...trail] : [];
  list.push([`gnt:daemon:noded:${op}`, '', nowNs()]);
  return list;
}

async function storeReasonTrail(ctx: NodeContext, instanceName: string, trail: unknown[]): Promise<void> {
  const dir = path.join(ctx.paths.runDir, 'instance-reason');
  await fsp.mkdir(dir, { recursive: true, mode: 0o755 });
  await writeFileAtomic(path.join(dir, instanceName), JSON.stringify(trail), { mode: 0o644, syncDir: false });
}

// ---------------------------------------------------------------------------------------
// Instances

const isUp = (info: HvInstanceInfo | null) => info !== null && info.state !== 'shutdown';

/** The instance's disks found and linked for the hypervisor (upstream's _GatherAndLinkBlockDevs). */
export async function gatherAndLinkDisks(ctx: NodeContext, inst: InstanceArg): Promise<HvBlockDevice[]> {
  const env = storageEnv(ctx.paths);
  const result: HvBlockDevice[] = [];
  for (const [idx, raw] of inst.disks_info.entries()) {
    const disk = diskSpec(raw);
    const device = await findDevice(env, disk);
    if (!device) throw new BlockDeviceError(`Block device '${describeDisk(disk)}' is not set up.`);
    let link;
    try {
      link = await linkDisk(ctx.paths, inst.name, idx, device.localPath);
    } catch (err) {
      throw new BlockDeviceError(`Cannot create block device symlink: ${fsErrorText(err)}`);
    }
    result.push({ disk, localPath: device.localPath, linkName: link.local, uri: null });
  }
  return result;
}

/** Start the instance; returns the hypervisor's line for the operator, or null. */
async function startInstance(ctx: NodeContext, hv: Hypervisor, inst: InstanceArg, paused: boolean, trail: unknown[] | null): Promise<string | null> {
  if (isUp(await guard('', () => hv.instanceInfo(inst.name, inst.hvparams)))) {
    ctx.log.info({ instance: inst.name }, 'instance already running, not starting');
    return null;
  }
  let devices: HvBlockDevice[];
  try {
    devices = await gatherAndLinkDisks(ctx, inst);
  } catch (err) {
    throw fail('Block device error: ', err);
  }
  let note: string | void;
  try {
    note = await hv.start(inst, devices, paused);
  } catch (err) {
    await removeDiskLinks(ctx.paths, inst.name, inst.disks_info.length);
    throw fail('Hypervisor error: ', err);
  }
  if (trail) await storeReasonTrail(ctx, inst.name, trail);
  ctx.log.info({ instance: inst.name, paused }, 'instance started');
  return note || null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function listed(hv: Hypervisor, inst: InstanceArg): Promise<boolean> {
  return (await guard('', () => hv.listInstances(inst.hvparams))).includes(inst.name);
}

/** Seconds between soft shutdown attempts (upstream's utils.Retry delay). */
const SHUTDOWN_RETRY_S = 5;

/**
 * Ask the guest to stop, again every few seconds, until it is gone or `timeout` seconds
 * passed; then destroy it (upstream's InstanceShutdown).
 */
async function shutdownInstance(ctx: NodeContext, hv: Hypervisor, inst: InstanceArg, timeout: number, trail: unknown[] | null): Promise<void> {
  if (!(await guard('', () => hv.instanceInfo(inst.name, inst.hvparams)))) {
    ctx.log.info({ instance: inst.name }, 'instance not running, doing nothing');
    // What a dead process left (kvm: its taps, sockets, pid and runtime files) still goes.
    try {
      await hv.cleanup(inst.name);
    } catch (err) {
      ctx.log.warn({ instance: inst.name, err: (err as Error).message }, 'failed to execute post-shutdown cleanup step');
    }
    return;
  }
  const deadline = Date.now() + timeout * 1000;
  let tried = false;
  let stopped = false;
  while (!stopped) {
    if (!(await listed(hv, inst))) break;
    try {
      await hv.stop(inst, { force: false, retry: tried, timeout });
    } catch (err) {
      if (!(await listed(hv, inst))) break; // gone meanwhile: that is success
      if (err instanceof HypervisorError) throw new RpcFail(`Failed to stop instance ${inst.name}: ${err.message}`);
      throw err;
    }
    tried = true;
    const retryAt = Math.min(deadline, Date.now() + SHUTDOWN_RETRY_S * 1000);
    for (;;) {
      stopped = !(await listed(hv, inst));
      if (stopped || Date.now() >= retryAt) break;
      await sleep(200);
    }
    if (!stopped && Date.now() >= deadline) {
      ctx.log.error({ instance: inst.name }, 'shutdown unsuccessful, forcing');
      try {
        await hv.stop(inst, { force: true, retry: true });
      } catch (err) {
        if (await listed(hv, inst)) throw new RpcFail(`Failed to force stop instance ${inst.name}: ${(err as Error).message}`);
      }
      await sleep(1000);
      if (await listed(hv, inst)) throw new RpcFail(`Could not shutdown instance ${inst.name} even by destroy`);
      break;
    }
  }
  if (trail) await storeReasonTrail(ctx, inst.name, trail);
  try {
    await hv.cleanup(inst.name);
  } catch (err) {
    ctx.log.warn({ instance: inst.name, err: (err as Error).message }, 'failed to execute post-shutdown cleanup step');
  }
  await removeDiskLinks(ctx.paths, inst.name, Math.max(inst.disks_info.length, inst.disks?.length ?? 0));
  ctx.log.info({ instance: inst.name }, 'instance stopped');
}

function toWire(info: HvInstanceInfo): Dict {
  return { memory: info.memory, vcpus: info.vcpus, state: info.state, time: info.time };
}

/** [inst, node, group, hvparams, beparams] or upstream's {instance, node, group, hvParams, beParams}. */
function consoleParams(value: unknown): [unknown, unknown, unknown, unknown, unknown] {
  if (Array.isArray(value)) return [value[0], value[1], value[2], value[3], value[4]];
  const v = (value ?? {}) as Dict;
  return [v.instance, v.node, v.group, v.hvParams ?? v.hvparams, v.beParams ?? v.beparams];
}

// ---------------------------------------------------------------------------------------
// Block devices

/** How long and how often a failing removal is tried again (constants.DISK_REMOVE_RETRY_*). */
const DISK_REMOVE_RETRY = { intervalMs: 3_000, timeoutMs: 30_000 };

async function removeWithRetry(device: BlockDevice): Promise<string | null> {
  const deadline = Date.now() + DISK_REMOVE_RETRY.timeoutMs;
  for (;;) {
    try {
      await device.remove();
      return null;
    } catch (err) {
      if (!(err instanceof BlockDeviceError)) throw err;
      if (Date.now() + DISK_REMOVE_RETRY.intervalMs > deadline) return err.message;
      await sleep(DISK_REMOVE_RETRY.intervalMs);
    }
  }
}

/**
 * The disk's device, or null when it is not there or cannot be attached (upstream's
 * "except BlockDeviceError: rdev = None"); a path this node must not touch stays an error.
 */
async function deviceOrNull(env: StorageEnv, disk: DiskSpec): Promise<BlockDevice | null> {
  try {
    return await findDevice(env, disk);
  } catch (err) {
    if (err instanceof FileStoragePathError) throw fail('', err);
    return null;
  }
}

/** A device that must exist, or the RpcFail `notFound` says. */
async function existing(ctx: NodeContext, disk: DiskSpec, findPrefix: string, notFound: string): Promise<BlockDevice> {
  const device = await guard(findPrefix, () => findDevice(storageEnv(ctx.paths), disk));
  if (!device) throw new RpcFail(notFound);
  return device;
}

function ownerName(value: unknown): string {
  if (typeof value === 'string' && value !== '') return value;
  return instanceArg(value).name;
}

/** Upstream's _TransformFileStorageDir: a storage directory (or one below it) on this node. */
function storageDir(ctx: NodeContext, p: unknown): { virtual: string; local: string } {
  try {
    return resolveStoragePath(ctx.paths, p, ['file', 'sharedfile'], true);
  } catch (err) {
    throw fail('', err);
  }
}

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

export const INSTANCE_BACKEND: Record<keyof typeof INSTANCE_PROCEDURES, Handler> = {
  instance_start: async (ctx, args) => {
    const [instValue, startupPaused, reason] = args;
    const inst = instanceArg(instValue);
    // Upstream answers None; the line (if any) is shown to the operator by the start LU.
    return startInstance(ctx, hypervisor(ctx, inst.hypervisor), inst, Boolean(startupPaused), extendReasonTrail(reason, 'start'));
  },

  instance_shutdown: async (ctx, args) => {
    const [instValue, timeout, reason] = args;
    const inst = instanceArg(instValue);
    const seconds = timeout === undefined || timeout === null ? 120 : Number(timeout);
    if (!Number.isFinite(seconds) || seconds < 0) throw new RpcFail(`Invalid shutdown timeout ${JSON.stringify(timeout)}`);
    await shutdownInstance(ctx, hypervisor(ctx, inst.hypervisor), inst, seconds, extendReasonTrail(reason, 'shutdown'));
    return null;
  },

  instance_reboot: async (ctx, args) => {
    const [instValue, rebootType, shutdownTimeout, reason] = args;
    const inst = instanceArg(instValue);
    const hv = hypervisor(ctx, inst.hypervisor);
    const trail = extendReasonTrail(reason, 'reboot');
    if (!(await guard('', () => hv.instanceInfo(inst.name, inst.hvparams)))) {
      throw new RpcFail(`Cannot reboot instance ${inst.name} that is not running`);
    }
    if (rebootType === 'soft') {
      await guard(`Failed to soft reboot instance ${inst.name}: `, () => hv.reboot(inst));
    } else if (rebootType === 'hard') {
      const seconds = Number(shutdownTimeout ?? 120);
      await guard(`Failed to hard reboot instance ${inst.name}: `, async () => {
        await shutdownInstance(ctx, hv, inst, Number.isFinite(seconds) ? seconds : 120, null);
        await startInstance(ctx, hv, inst, false, null);
      });
    } else {
      throw new RpcFail(`Invalid reboot_type received: ${String(rebootType)}`);
    }
    await storeReasonTrail(ctx, inst.name, trail);
    return null;
  },

  instance_list: async (ctx, args) => {
    const [hvList, hvparams] = args;
    const names = new Set<string>();
    for (const [hvName, hv] of listedHypervisors(ctx, hvList)) {
      for (const n of await guard(`Error enumerating instances (hypervisor ${hvName}): `, () => hv.listInstances(hvparamsFor(hvparams, hvName)))) names.add(n);
    }
    return [...names].sort();
  },

  all_instances_info: async (ctx, args) => {
    const [hvList, allHvparams] = args;
    const output: Record<string, Dict> = {};
    for (const [hvName, hv] of listedHypervisors(ctx, hvList)) {
      for (const info of await guard('', () => hv.allInstancesInfo(hvparamsFor(allHvparams, hvName)))) {
        const value = toWire(info);
        const seen = output[info.name];
        if (seen && (seen.memory !== value.memory || seen.vcpus !== value.vcpus)) {
          throw new RpcFail(`Instance ${info.name} is running twice with different parameters`);
        }
        output[info.name] = value;
      }
    }
    return output;
  },

  instance_info: async (ctx, args) => {
    const [name, hvName, hvparams] = args;
    if (typeof name !== 'string' || name === '') throw new RpcFail(`Invalid instance name ${JSON.stringify(name)}`);
    if (isMissingHypervisor(hvName)) return {};
    const hv = hypervisor(ctx, hvName);
    const params = hvparams !== null && typeof hvparams === 'object' ? (hvparams as Dict) : {};
    const info = await guard('', () => hv.instanceInfo(name, params));
    return info ? toWire(info) : {};
  },

  instance_console_info: (ctx, args) => {
    const all = args[0];
    if (all === null || typeof all !== 'object' || Array.isArray(all)) throw new RpcFail('instance_console_info expects a dictionary of instances');
    const output: Dict = {};
    for (const [name, value] of Object.entries(all as Dict)) {
      const [instValue, node, group, hvparams, beparams] = consoleParams(value);
      const inst = instanceArg(instValue);
      const dict = (v: unknown) => (v !== null && typeof v === 'object' ? (v as Dict) : {});
      output[name] = hypervisor(ctx, inst.hypervisor).console(inst, node, group, dict(hvparams), dict(beparams));
    }
    return output;
  },

  instance_balloon_memory: async (ctx, args) => {
    const [instValue, memory] = args;
    const inst = instanceArg(instValue);
    const amount = mib(memory, 'memory size');
    const hv = hypervisor(ctx, inst.hypervisor);
    if (!(await listed(hv, inst))) {
      ctx.log.info({ instance: inst.name }, 'instance is not running, cannot balloon');
      return null;
    }
    await guard('Failed to balloon instance memory: ', () => hv.balloon(inst, amount));
    return null;
  },

  blockdev_create: async (ctx, args) => {
    const [diskValue, size, owner, onPrimary, info, exclusiveStorage] = args;
    const disk = diskArg(diskValue);
    const sizeMib = mib(size, 'disk size');
    const env = storageEnv(ctx.paths);
    const device = await guard("Can't create block device: ", () => createDevice(env, disk, sizeMib, Boolean(exclusiveStorage)));
    if (onPrimary) await guard("Can't assemble device after creation, unusual event: ", () => device.assemble());
    if (typeof info === 'string' && info !== '') await guard('Failed to set information on block device: ', () => device.setInfo(info));
    ctx.log.info({ device: device.devPath, size: sizeMib, owner }, 'block device created');
    return device.uniqueId;
  },

  blockdev_remove: async (ctx, args) => {
    const disk = diskArg(args[0]);
    let device: BlockDevice | null;
    try {
      device = await findDevice(storageEnv(ctx.paths), disk);
    } catch (err) {
      // A path this node must not touch is an error; a device that cannot be attached is gone.
      if (err instanceof FileStoragePathError) throw fail("Can't remove block device: ", err);
      if (!(err instanceof BlockDeviceError)) throw err;
      ctx.log.info({ disk: describeDisk(disk), err: err.message }, "can't attach to device in remove");
      device = null;
    }
    if (device) {
      const error = await removeWithRetry(device);
      if (error) throw new RpcFail(error);
      ctx.log.info({ device: device.devPath }, 'block device removed');
    }
    return null;
  },

  blockdev_assemble: async (ctx, args) => {
    const [diskValue, instValue, onPrimary, idx] = args;
    const disk = diskArg(diskValue);
    const owner = ownerName(instValue);
    // File and LV disks exist on one node only: nothing to do on a secondary.
    if (!onPrimary) return [true, true, null];
    const index = typeof idx === 'number' && Number.isInteger(idx) && idx >= 0 ? idx : null;
    if (index === null) throw new RpcFail(`Invalid disk index ${JSON.stringify(idx)}`);
    const device = await guard('Error while assembling disk: ', async () => {
      const d = await openDevice(storageEnv(ctx.paths), disk);
      await d.assemble();
      return d;
    });
    let link;
    try {
      link = await linkDisk(ctx.paths, owner, index, device.localPath);
    } catch (err) {
      throw new RpcFail(`Error while symlinking disk: ${err instanceof BlockDeviceError ? err.message : fsErrorText(err)}`);
    }
    return [device.devPath, link.virtual, null];
  },

  blockdev_shutdown: async (ctx, args) => {
    const disk = diskArg(args[0]);
    const device = await guard("Can't shut down block device: ", () => findDevice(storageEnv(ctx.paths), disk));
    if (device) await guard('', () => device.shutdown());
    return null;
  },

  blockdev_grow: async (ctx, args) => {
    const [diskValue, amount, dryrun, backingstore, exclusiveStorage] = args;
    const disk = diskArg(diskValue);
    const amountMib = mib(amount, 'grow amount');
    const device = await existing(ctx, disk, 'Failed to find device: ', `Cannot find block device ${describeDisk(disk)}`);
    await guard('Failed to grow block device: ', () => device.grow(amountMib, Boolean(dryrun), Boolean(backingstore), Boolean(exclusiveStorage)));
    if (!dryrun && backingstore) ctx.log.info({ device: device.devPath, amount: amountMib }, 'block device grown');
    return null;
  },

  blockdev_wipe: async (ctx, args) => {
    const [diskValue, offset, size] = args;
    const disk = diskArg(diskValue);
    const device = await deviceOrNull(storageEnv(ctx.paths), disk);
    if (!device) throw new RpcFail(`Cannot wipe device ${disk.iv_name ?? describeDisk(disk)}: device not found`);
    const dev = device;
    const deviceMib = Number.isInteger(disk.size) ? disk.size as number : Math.floor((await guard('', () => dev.dimensions()))[0] / 1048576);
    const started = Date.now();
    let lastLog = started;
    await guard('', () => zeroRange(dev.localPath, dev.devPath, deviceMib, offset as number, size as number, (done, total) => {
      const now = Date.now();
      if (now - lastLog >= 5_000) {
        lastLog = now;
        ctx.log.info({ device: dev.devPath, offset, size }, `Wiping ${dev.devPath}: ${((done / total) * 100).toFixed(1)}% done`);
      }
    }));
    ctx.log.info({ device: dev.devPath, offset, size, ms: Date.now() - started }, `Wiped ${dev.devPath} from ${String(offset)} MiB, ${String(size)} MiB`);
    return null;
  },

  // [disks, pause] → [[success, message-or-null] per disk]. Only mirrored disks (DRBD)
  // sync; for file and plain disks pausing is a no-op that succeeds, as upstream's
  // BlockDev.PauseResumeSync (WipeDisks calls it around the wipe).
  blockdev_pause_resume_sync: async (ctx, args) => {
    const [disks] = args;
    if (!Array.isArray(disks)) throw new RpcFail('blockdev_pause_resume_sync expects a list of disks');
    const env = storageEnv(ctx.paths);
    const result: Array<[boolean, string | null]> = [];
    for (const value of disks) {
      const disk = diskArg(value);
      const device = await deviceOrNull(env, disk);
      result.push(device ? [true, null] : [false, `Cannot change sync for device ${disk.iv_name ?? describeDisk(disk)}: device not found`]);
    }
    return result;
  },

  blockdev_find: async (ctx, args) => {
    const disk = diskArg(args[0]);
    const device = await guard('Failed to find device: ', () => findDevice(storageEnv(ctx.paths), disk));
    return device ? device.status() : null;
  },

  // The volume groups and their sizes in MiB (upstream's ListVolumeGroups); {} without lvm2.
  vg_list: async (ctx) => {
    const vgs = await vgInfo(storageEnv(ctx.paths).runner, [], false);
    return Object.fromEntries((vgs ?? []).map((vg) => [vg.name, Math.floor(vg.size)]));
  },

  blockdev_getdimensions: async (ctx, args) => {
    const disks = args[0];
    if (!Array.isArray(disks)) throw new RpcFail('blockdev_getdimensions expects a list of disks');
    const env = storageEnv(ctx.paths);
    const result: Array<[number, number | null] | null> = [];
    for (const value of disks) {
      const disk = diskArg(value);
      const device = await deviceOrNull(env, disk);
      result.push(device ? await guard(`Can't compute the size of ${describeDisk(disk)}: `, () => device.dimensions()) : null);
    }
    return result;
  },

  blockdev_rename: async (ctx, args) => {
    const pairs = args[0];
    if (!Array.isArray(pairs)) throw new RpcFail('blockdev_rename expects a list of [disk, new_unique_id] pairs');
    const env = storageEnv(ctx.paths);
    const msgs: string[] = [];
    for (const pair of pairs) {
      if (!Array.isArray(pair) || pair.length !== 2 || !Array.isArray(pair[1])) throw new RpcFail('blockdev_rename expects [disk, new_unique_id] pairs');
      const disk = diskArg(pair[0]);
      const newId = pair[1] as unknown[];
      const device = await guard('', () => findDevice(env, disk));
      if (!device) {
        msgs.push(`Can't find device ${describeDisk(disk)} in rename`);
        continue;
      }
      try {
        await device.rename(newId);
      } catch (err) {
        if (!(err instanceof BlockDeviceError || err instanceof FileStoragePathError)) throw err;
        msgs.push(`Can't rename device '${describeDisk(disk)}' to '${pyTuple(newId)}': ${err.message}`);
      }
    }
    if (msgs.length > 0) throw new RpcFail(msgs.join('; '));
    return null;
  },

  file_storage_dir_create: async (ctx, args) => {
    const dir = storageDir(ctx, args[0]);
    if (fs.existsSync(dir.local)) {
      if (!isDir(dir.local)) throw new RpcFail(`Specified storage dir '${dir.virtual}' is not a directory`);
      return null;
    }
    try {
      await fsp.mkdir(dir.local, { recursive: true, mode: 0o750 });
    } catch (err) {
      throw new RpcFail(`Cannot create file storage directory '${dir.virtual}': ${fsErrorText(err)}`);
    }
    return null;
  },

  file_storage_dir_remove: async (ctx, args) => {
    const dir = storageDir(ctx, args[0]);
    if (!fs.existsSync(dir.local)) return null;
    if (!isDir(dir.local)) throw new RpcFail(`Specified Storage directory '${dir.virtual}' is not a directory`);
    try {
      // Only an empty directory goes: disks left in it must make the call fail.
      await fsp.rmdir(dir.local);
    } catch (err) {
      throw new RpcFail(`Cannot remove file storage directory '${dir.virtual}': ${fsErrorText(err)}`);
    }
    return null;
  },

  file_storage_dir_rename: async (ctx, args) => {
    const from = storageDir(ctx, args[0]);
    const to = storageDir(ctx, args[1]);
    if (!fs.existsSync(to.local)) {
      if (!isDir(from.local)) throw new RpcFail(`Specified storage dir '${from.virtual}' is not a directory`);
      try {
        await fsp.rename(from.local, to.local);
      } catch (err) {
        throw new RpcFail(`Cannot rename '${from.virtual}' to '${to.virtual}': ${fsErrorText(err)}`);
      }
    } else if (fs.existsSync(from.local)) {
      throw new RpcFail(`Cannot rename '${from.virtual}' to '${to.virtual}': both locations exist`);
    }
    return null;
  },
};
