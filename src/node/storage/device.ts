// What every disk backend offers (upstream's storage.base.BlockDev, reduced to what the
// node procedures use), and the disk object as the master sends it.
import type { NodePaths } from '../../util/paths.ts';
import type { StorageRunner } from './commands.ts';
import { BlockDeviceError } from './errors.ts';

/** A disk as it arrives over RPC: config.disks' DiskObject (only what storage reads). */
export interface DiskSpec {
  dev_type: string;
  logical_id: unknown[];
  /** MiB. */
  size?: number;
  iv_name?: string;
  spindles?: number | null;
  params?: Record<string, unknown>;
  children?: unknown[];
}

/** Upstream's objects.BlockDevStatus, the payload of blockdev_find. */
export interface BlockDevStatus {
  dev_path: string;
  major: number | null;
  minor: number | null;
  sync_percent: number | null;
  estimated_time: number | null;
  is_degraded: boolean;
  ldisk_status: number;
}

/** Local disk status (constants.LDS_*). */
export const LDS_OKAY = 1;
export const LDS_UNKNOWN = 2;
export const LDS_FAULTY = 3;

/** What a backend needs from the node. */
export interface StorageEnv {
  paths: NodePaths;
  runner: StorageRunner;
}

export interface BlockDevice {
  /** The device as the master names it: a cluster path (file disks) or /dev/<vg>/<lv>. */
  readonly devPath: string;
  /** Where the data is on this machine (file disks: below the node's root). */
  readonly localPath: string;
  readonly uniqueId: unknown[];
  /** The device exists on this node (upstream's Attach() result). */
  readonly attached: boolean;
  /** Make the device usable (the file exists; the LV is active). */
  assemble(): Promise<void>;
  /** Stop using it (nothing to do for files and LVs, as upstream). */
  shutdown(): Promise<void>;
  remove(): Promise<void>;
  /** Grow by `amountMib`; dryrun checks only; nothing happens unless `backingstore`. */
  grow(amountMib: number, dryrun: boolean, backingstore: boolean, exclusiveStorage: boolean): Promise<void>;
  rename(newId: unknown[]): Promise<void>;
  /** Metadata naming the owner (LVM tags); a no-op where there is nowhere to keep it. */
  setInfo(text: string): Promise<void>;
  /** [size in bytes, spindles or null]. */
  dimensions(): Promise<[number, number | null]>;
  status(): BlockDevStatus;
}

/** One disk template's device operations. */
export interface DiskBackend {
  /** Create the device; fails if it exists. */
  create(env: StorageEnv, disk: DiskSpec, sizeMib: number, exclusiveStorage: boolean): Promise<BlockDevice>;
  /** The device object, attached if it exists (upstream's constructor + Attach). */
  open(env: StorageEnv, disk: DiskSpec): Promise<BlockDevice>;
}

/** logical_id as a pair of strings, or a BlockDeviceError naming what is wrong. */
export function idPair(disk: Pick<DiskSpec, 'logical_id' | 'dev_type'>): [string, string] {
  const id = disk.logical_id;
  if (!Array.isArray(id) || id.length !== 2 || typeof id[0] !== 'string' || typeof id[1] !== 'string') {
    throw new BlockDeviceError(`Invalid logical_id ${JSON.stringify(id)} for a ${disk.dev_type} disk`);
  }
  return [id[0], id[1]];
}

/** Python's repr of a float as upstream prints sizes ("60.0"). */
export function pyFloat(x: number): string {
  return Number.isInteger(x) ? `${x}.0` : String(x);
}
