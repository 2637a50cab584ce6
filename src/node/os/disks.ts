// Where an instance's disks are on this node, for OS scripts (DISK_N_PATH, EXPORT_DEVICE,
// IMPORT_DEVICE) and raw copies: upstream's _OpenRealBD. The storage layer
// (src/node/storage/) knows each template's devices: file disks are files below the
// node's root inside a storage directory, LVM volumes /dev/<vg>/<lv>. A disk that is not
// there is "not set up", as upstream says.
import { describeDisk, diskSpec, findDevice, storageEnv } from '../storage/index.ts';
import { RpcFail, type NodeContext } from '../context.ts';
import type { DiskAccess } from './environment.ts';

type Dict = Record<string, unknown>;

/** _OpenRealBD: the node-local path of an existing (activated) disk. */
export async function openDisk(ctx: NodeContext, disk: Dict): Promise<DiskAccess> {
  let device;
  try {
    const spec = diskSpec(disk);
    device = await findDevice(storageEnv(ctx.paths), spec);
    if (!device) throw new RpcFail(`Block device '${describeDisk(spec)}' is not set up`);
  } catch (err) {
    if (err instanceof RpcFail) throw err;
    throw new RpcFail((err as Error).message);
  }
  return { path: device.localPath, uri: null };
}

/** Every disk of an instance dict (its disks_info), opened, in index order. */
export async function openInstanceDisks(ctx: NodeContext, inst: Dict): Promise<DiskAccess[]> {
  const disks = Array.isArray(inst.disks_info) ? (inst.disks_info as Dict[]) : [];
  const opened: DiskAccess[] = [];
  for (const d of disks) opened.push(await openDisk(ctx, d));
  return opened;
}
