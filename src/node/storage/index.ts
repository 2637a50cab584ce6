// The node's disks by template: `file` and `sharedfile` (files below the node's root),
// `plain` (LVM). Other templates (drbd, blockdev, rbd, ext, gluster) are not supported
// here and say so. Other node modules (the OS scripts, export/import) use findDevice() to
// learn where an instance's disk is on this machine.
import type { NodePaths } from '../../util/paths.ts';
import { pyRepr } from '../../core/pyrepr.ts';
import { storageRunner, type StorageRunner } from './commands.ts';
import { BlockDeviceError } from './errors.ts';
import { FILE_BACKEND } from './file.ts';
import { LVM_BACKEND } from './lvm.ts';
import type { BlockDevice, DiskBackend, DiskSpec, StorageEnv } from './device.ts';

export type { BlockDevice, BlockDevStatus, DiskSpec, StorageEnv } from './device.ts';
export { BlockDeviceError, FileStoragePathError } from './errors.ts';

const BACKENDS: Record<string, DiskBackend> = {
  file: FILE_BACKEND,
  sharedfile: FILE_BACKEND,
  plain: LVM_BACKEND,
};

export function storageEnv(paths: NodePaths, runner: StorageRunner = storageRunner()): StorageEnv {
  return { paths, runner };
}

/** A disk object from the master, checked for the fields every backend reads. */
export function diskSpec(value: unknown): DiskSpec {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new BlockDeviceError(`Invalid disk ${JSON.stringify(value)}`);
  const d = value as DiskSpec;
  if (typeof d.dev_type !== 'string') throw new BlockDeviceError('Disk has no dev_type');
  if (!Array.isArray(d.logical_id)) throw new BlockDeviceError(`Disk ${d.iv_name ?? d.dev_type} has no logical_id`);
  if (Array.isArray(d.children) && d.children.length > 0) throw new BlockDeviceError(`Disks with children (${d.dev_type}) are not supported`);
  return d;
}

function backend(disk: DiskSpec): DiskBackend {
  const b = BACKENDS[disk.dev_type];
  if (!b) throw new BlockDeviceError(`Disk template '${disk.dev_type}' is not supported on this node`);
  return b;
}

export function createDevice(env: StorageEnv, disk: DiskSpec, sizeMib: number, exclusiveStorage: boolean): Promise<BlockDevice> {
  return backend(disk).create(env, disk, sizeMib, exclusiveStorage);
}

/** The device object whether or not it exists (assemble reports a missing one its own way). */
export function openDevice(env: StorageEnv, disk: DiskSpec): Promise<BlockDevice> {
  return backend(disk).open(env, disk);
}

/** The device if it exists on this node, else null; throws for a disk that cannot be valid here. */
export async function findDevice(env: StorageEnv, disk: DiskSpec): Promise<BlockDevice | null> {
  const device = await openDevice(env, disk);
  return device.attached ? device : null;
}

/** A logical_id as Python prints the tuple upstream keeps it in. */
export function pyTuple(value: unknown): string {
  return Array.isArray(value) ? `(${value.map(pyRepr).join(', ')}${value.length === 1 ? ',' : ''})` : pyRepr(value);
}

/** Upstream's str(objects.Disk), used in messages that name a disk. */
export function describeDisk(disk: DiskSpec): string {
  let val: string;
  if (disk.dev_type === 'plain' && Array.isArray(disk.logical_id) && disk.logical_id.length === 2) {
    val = `<LogicalVolume(/dev/${String(disk.logical_id[0])}/${String(disk.logical_id[1])}`;
  } else {
    val = `<Disk(type=${disk.dev_type}, logical_id=${pyTuple(disk.logical_id)}, children=${pyRepr(disk.children ?? [])}`;
  }
  val += disk.iv_name ? `, visible as /dev/${disk.iv_name}` : ', not visible';
  if (disk.spindles !== null && disk.spindles !== undefined) val += `, spindles=${disk.spindles}`;
  val += Number.isInteger(disk.size) ? `, size=${disk.size}m)>` : `, size='${String(disk.size)}')>`;
  return val;
}
