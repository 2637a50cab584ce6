// The per-instance disk symlinks upstream keeps for the hypervisor:
// var/run/ganeti/instance-disks/<instance>:<idx> → the device (or file) on this node.
// They are made when a disk is assembled on the primary or the instance starts, and go
// when the instance stops.
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { NodePaths } from '../../util/paths.ts';
import { BlockDeviceError } from './errors.ts';

export const DISK_SEPARATOR = ':';

export interface DiskLink {
  /** On this machine. */
  local: string;
  /** In cluster form, as returned to the master. */
  virtual: string;
}

export function diskLinksDir(paths: NodePaths): string {
  return path.join(paths.runDir, 'instance-disks');
}

export function diskLink(paths: NodePaths, instanceName: string, idx: number): DiskLink {
  if (!instanceName || instanceName.includes('/') || instanceName.startsWith('.') || instanceName.includes('\0')) {
    throw new BlockDeviceError(`Invalid instance name ${JSON.stringify(instanceName)}`);
  }
  if (!Number.isInteger(idx) || idx < 0) throw new BlockDeviceError(`Invalid disk index ${JSON.stringify(idx)}`);
  const local = path.join(diskLinksDir(paths), `${instanceName}${DISK_SEPARATOR}${idx}`);
  return { local, virtual: `/${path.relative(paths.root, local)}` };
}

/** Point the instance's link for disk `idx` at `target`, replacing a stale one. */
export async function linkDisk(paths: NodePaths, instanceName: string, idx: number, target: string): Promise<DiskLink> {
  const link = diskLink(paths, instanceName, idx);
  await fsp.mkdir(path.dirname(link.local), { recursive: true, mode: 0o755 });
  try {
    await fsp.symlink(target, link.local);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const current = await fsp.readlink(link.local).catch(() => null);
    if (current !== target) {
      await fsp.rm(link.local, { force: true });
      await fsp.symlink(target, link.local);
    }
  }
  return link;
}

export async function removeDiskLinks(paths: NodePaths, instanceName: string, count: number): Promise<void> {
  for (let idx = 0; idx < count; idx++) {
    const { local } = diskLink(paths, instanceName, idx);
    try {
      if ((await fsp.lstat(local)).isSymbolicLink()) await fsp.unlink(local);
    } catch {
      // not there: nothing to remove
    }
  }
}
