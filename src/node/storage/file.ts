// `file` and `sharedfile` disks: one sparse file per disk, logical_id [driver, path] with
// the path in cluster form (upstream's storage.filestorage.FileStorage). The file lives
// below the node's root and inside a storage directory (./paths.ts).
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { BlockDeviceError, fsErrorText } from './errors.ts';
import { resolveStoragePath, type FileStorageKind } from './paths.ts';
import { idPair, LDS_OKAY, type BlockDevice, type BlockDevStatus, type DiskBackend, type DiskSpec, type StorageEnv } from './device.ts';

/** Upstream's FILE_DRIVER values. */
export const FILE_DRIVERS: readonly string[] = ['loop', 'blktap', 'blktap2'];

const MIB = 1024 * 1024;

function kindOf(disk: DiskSpec): FileStorageKind {
  return disk.dev_type === 'sharedfile' ? 'sharedfile' : 'file';
}

function parseId(env: StorageEnv, disk: DiskSpec): { driver: string; virtual: string; local: string } {
  const [driver, p] = idPair(disk);
  if (!FILE_DRIVERS.includes(driver)) throw new BlockDeviceError(`Invalid file driver '${driver}'`);
  const { virtual, local } = resolveStoragePath(env.paths, p, [kindOf(disk)]);
  return { driver, virtual, local };
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

class FileDevice implements BlockDevice {
  private readonly env: StorageEnv;
  private readonly kind: FileStorageKind;
  private driver: string;
  devPath: string;
  localPath: string;

  constructor(env: StorageEnv, kind: FileStorageKind, driver: string, devPath: string, localPath: string) {
    this.env = env;
    this.kind = kind;
    this.driver = driver;
    this.devPath = devPath;
    this.localPath = localPath;
  }

  get uniqueId(): unknown[] {
    return [this.driver, this.devPath];
  }

  get attached(): boolean {
    return isFile(this.localPath);
  }

  private mustExist(): void {
    if (!isFile(this.localPath)) throw new BlockDeviceError(`${this.devPath}: No such file`);
  }

  async assemble(): Promise<void> {
    this.mustExist();
  }

  async shutdown(): Promise<void> {
    // Files are not deactivated (upstream: a no-op).
  }

  async remove(): Promise<void> {
    try {
      await fsp.unlink(this.localPath);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new BlockDeviceError(`${this.devPath}: can't remove: ${fsErrorText(err)}`);
    }
  }

  async grow(amountMib: number, dryrun: boolean, backingstore: boolean): Promise<void> {
    if (!backingstore) return;
    this.mustExist();
    if (amountMib < 0) throw new BlockDeviceError(`${this.devPath}: can't grow by negative amount`);
    if (dryrun) return;
    const size = fs.statSync(this.localPath).size;
    try {
      await fsp.truncate(this.localPath, size + amountMib * MIB);
    } catch (err) {
      throw new BlockDeviceError(`${this.devPath}: can't grow: ${fsErrorText(err)}`);
    }
  }

  async rename(newId: unknown[]): Promise<void> {
    this.mustExist();
    const target = parseId(this.env, { dev_type: this.kind, logical_id: newId });
    try {
      await fsp.mkdir(path.dirname(target.local), { recursive: true, mode: 0o750 });
      await fsp.rename(this.localPath, target.local);
    } catch (err) {
      throw new BlockDeviceError(`${this.devPath}: can't rename to ${target.virtual}: ${fsErrorText(err)}`);
    }
    this.driver = target.driver;
    this.devPath = target.virtual;
    this.localPath = target.local;
  }

  async setInfo(): Promise<void> {
    // A file has nowhere to keep the owner's name (upstream: the base class no-op).
  }

  async dimensions(): Promise<[number, number | null]> {
    this.mustExist();
    return [fs.statSync(this.localPath).size, null];
  }

  status(): BlockDevStatus {
    return { dev_path: this.devPath, major: null, minor: null, sync_percent: null, estimated_time: null, is_degraded: false, ldisk_status: LDS_OKAY };
  }
}

export const FILE_BACKEND: DiskBackend = {
  async create(env, disk, sizeMib, exclusiveStorage) {
    if (exclusiveStorage) throw new BlockDeviceError('File storage does not support exclusive storage');
    const { driver, virtual, local } = parseId(env, disk);
    let created = false;
    try {
      await fsp.mkdir(path.dirname(local), { recursive: true, mode: 0o750 });
      const fh = await fsp.open(local, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600);
      created = true;
      try {
        // Sparse: only the size is set, blocks are allocated when written (or wiped).
        await fh.truncate(sizeMib * MIB);
      } finally {
        await fh.close();
      }
    } catch (err) {
      if (created) await fsp.rm(local, { force: true });
      throw new BlockDeviceError(`${virtual}: can't create: ${fsErrorText(err)}`);
    }
    return new FileDevice(env, kindOf(disk), driver, virtual, local);
  },

  async open(env, disk) {
    const { driver, virtual, local } = parseId(env, disk);
    return new FileDevice(env, kindOf(disk), driver, virtual, local);
  },
};
