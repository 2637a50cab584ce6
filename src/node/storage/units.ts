// node_info's storage part: free and total space per storage unit, as upstream's
// backend.GetNodeInfo reports it ({type, name, storage_free, storage_size}, MiB):
//  * file / sharedfile: the file system holding the node's storage directory;
//  * lvm-vg: the volume group from `vgs` (null figures when it is not there);
//  * lvm-pv: spindles (empty PVs / all PVs) under exclusive storage, else 0 / 0.
import fs from 'node:fs';
import { vgInfo, vgSpindles } from './lvm.ts';
import type { StorageEnv } from './device.ts';

export interface StorageUnitInfo {
  type: string;
  name: string;
  storage_free: number | null;
  storage_size: number | null;
}

function fileSpace(env: StorageEnv, type: string, name: string): StorageUnitInfo {
  const dir = type === 'file' ? env.paths.fileStorageDir : env.paths.sharedFileStorageDir;
  try {
    const st = fs.statfsSync(fs.existsSync(dir) ? dir : env.paths.root);
    return { type, name, storage_free: Math.floor((st.bavail * st.bsize) / 1048576), storage_size: Math.floor((st.blocks * st.bsize) / 1048576) };
  } catch {
    return { type, name, storage_free: 0, storage_size: 0 };
  }
}

/** Python 3's round(): exact halves go to the even neighbour. */
function pyRound(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** One [type, key, params] unit of node_info's first argument. */
export async function storageUnitInfo(env: StorageEnv, unit: unknown): Promise<StorageUnitInfo> {
  const [type, key, params] = (Array.isArray(unit) ? unit : []) as [string, string, unknown];
  const exclusiveStorage = Array.isArray(params) && Boolean(params[0]);
  switch (type) {
    case 'file':
    case 'sharedfile':
      return fileSpace(env, type, key);
    case 'lvm-vg': {
      const vg = (await vgInfo(env.runner, [key], exclusiveStorage))?.[0];
      return { type, name: key, storage_free: vg ? pyRound(vg.free) : null, storage_size: vg ? pyRound(vg.size) : null };
    }
    case 'lvm-pv': {
      const [free, size] = exclusiveStorage ? await vgSpindles(env.runner, key) : [0, 0];
      return { type, name: key, storage_free: free, storage_size: size };
    }
    default:
      return { type, name: key, storage_free: 0, storage_size: 0 };
  }
}
