// noded's handlers for src/rpc/procedures-migration.ts: instance migration on this node
// (upstream's backend.GetInstanceMigratable, MigrationInfo, AcceptInstance,
// MigrateInstance, GetMigrationStatus, FinalizeMigrationDst/Source, BridgesExist). The
// hypervisor does the work (src/node/hypervisor/types.ts); failures come back with
// upstream's prefixes ("Failed to accept instance: …").
//
// The target of a migration of an externally mirrored instance (sharedfile, blockdev, …)
// links the instance's disks before it accepts it, as upstream: a target that cannot see
// a disk fails there ("Block device error: …") and nothing is left behind.
import fs from 'node:fs';
import path from 'node:path';
import type { MIGRATION_PROCEDURES } from '../rpc/procedures-migration.ts';
import { RpcFail, type Handler, type NodeContext } from './context.ts';
import type { HvBlockDevice } from './hypervisor/index.ts';
import { gatherAndLinkDisks, guard, hypervisor, instanceArg, type InstanceArg } from './instance-backend.ts';
import { BlockDeviceError, describeDisk, diskSpec, FileStoragePathError, findDevice, storageEnv } from './storage/index.ts';
import { diskLink, removeDiskLinks } from './storage/links.ts';

type Dict = Record<string, unknown>;

/** Upstream's DTS_EXT_MIRROR: disks every node reaches by itself. */
const DTS_EXT_MIRROR = ['diskless', 'sharedfile', 'blockdev', 'rbd', 'ext', 'gluster'];

/** The instance's disks as upstream's objects.Instance.disk_template would name their template. */
function diskTemplate(inst: InstanceArg): string {
  const types = new Set(inst.disks_info.map((d) => (d as Dict)?.dev_type));
  if (types.size === 0) return 'diskless';
  return types.size === 1 ? String([...types][0]) : 'mixed';
}

/** Every disk of the list found on this node, else upstream's "Can't find device …". */
async function requireDisks(ctx: NodeContext, value: unknown): Promise<void> {
  if (!Array.isArray(value)) throw new RpcFail(`Invalid disk list ${JSON.stringify(value)}`);
  const env = storageEnv(ctx.paths);
  for (const raw of value) {
    let disk;
    try {
      disk = diskSpec(raw);
    } catch (err) {
      throw new RpcFail((err as Error).message);
    }
    let device = null;
    try {
      device = await findDevice(env, disk);
    } catch (err) {
      if (!(err instanceof BlockDeviceError || err instanceof FileStoragePathError)) throw err;
    }
    if (!device) throw new RpcFail(`Can't find device ${describeDisk(disk)}`);
  }
}

/** Upstream's utils.BridgeExists: a bridge is a network device with a bridge/ directory. */
export function bridgeExists(name: string, sysfs = '/sys/class/net'): boolean {
  if (name === '' || name.includes('/') || name.startsWith('.')) return false;
  try {
    return fs.statSync(path.join(sysfs, name, 'bridge')).isDirectory();
  } catch {
    return false;
  }
}

function boolArg(value: unknown, what: string): boolean {
  if (typeof value !== 'boolean') throw new RpcFail(`Invalid ${what} ${JSON.stringify(value)}`);
  return value;
}

function infoArg(value: unknown): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export const MIGRATION_BACKEND: Record<keyof typeof MIGRATION_PROCEDURES, Handler> = {
  // GetInstanceMigratable: the instance must run here; missing disk links are only logged.
  instance_migratable: async (ctx, args) => {
    const inst = instanceArg(args[0]);
    const hyper = hypervisor(ctx, inst.hypervisor);
    const running = await guard('', () => hyper.listInstances(inst.hvparams));
    if (!running.includes(inst.name)) throw new RpcFail(`Instance ${inst.name} is not running`);
    for (let idx = 0; idx < inst.disks_info.length; idx++) {
      const link = diskLink(ctx.paths, inst.name, idx).local;
      let isLink = false;
      try {
        isLink = fs.lstatSync(link).isSymbolicLink();
      } catch { /* missing */ }
      if (!isLink) ctx.log.warn({ instance: inst.name, link, idx }, `Instance ${inst.name} is missing symlink ${link} for disk ${idx}`);
    }
    return null;
  },

  migration_info: async (ctx, args) => {
    const inst = instanceArg(args[0]);
    const hyper = hypervisor(ctx, inst.hypervisor);
    return guard('Failed to fetch migration information: ', () => hyper.migrationInfo(inst));
  },

  accept_instance: async (ctx, args) => {
    const [instValue, info, target] = args;
    const inst = instanceArg(instValue);
    if (typeof target !== 'string' || target === '') throw new RpcFail(`Invalid migration target ${JSON.stringify(target)}`);
    const hyper = hypervisor(ctx, inst.hypervisor);
    const extMirror = DTS_EXT_MIRROR.includes(diskTemplate(inst));
    let devices: HvBlockDevice[] = [];
    if (extMirror) {
      try {
        devices = await gatherAndLinkDisks(ctx, inst);
      } catch (err) {
        if (err instanceof BlockDeviceError || err instanceof FileStoragePathError) {
          await removeDiskLinks(ctx.paths, inst.name, inst.disks_info.length);
          throw new RpcFail(`Block device error: ${err.message}`);
        }
        throw err;
      }
    }
    try {
      await guard('Failed to accept instance: ', () => hyper.acceptInstance(inst, devices, infoArg(info), target));
    } catch (err) {
      if (extMirror) await removeDiskLinks(ctx.paths, inst.name, inst.disks_info.length);
      throw err;
    }
    ctx.log.info({ instance: inst.name, target }, 'prepared to accept instance');
    return null;
  },

  instance_finalize_migration_dst: async (ctx, args) => {
    const [instValue, info, success] = args;
    const inst = instanceArg(instValue);
    const ok = boolArg(success, 'success flag');
    const hyper = hypervisor(ctx, inst.hypervisor);
    await guard('Failed to finalize migration on the target node: ', () => hyper.finalizeMigrationDst(inst, infoArg(info), ok));
    // A refused instance leaves no disk links behind on the would-be target.
    if (!ok) await removeDiskLinks(ctx.paths, inst.name, inst.disks_info.length);
    ctx.log.info({ instance: inst.name, success: ok }, 'migration finalized on the target');
    return null;
  },

  instance_migrate: async (ctx, args) => {
    const [clusterName, instValue, target, live] = args;
    const inst = instanceArg(instValue);
    if (typeof target !== 'string' || target === '') throw new RpcFail(`Invalid migration target ${JSON.stringify(target)}`);
    const hyper = hypervisor(ctx, inst.hypervisor);
    await guard('Failed to migrate instance: ', () => hyper.migrateInstance(String(clusterName ?? ''), inst, target, Boolean(live)));
    ctx.log.info({ instance: inst.name, target, live: Boolean(live) }, 'instance migration started');
    return null;
  },

  instance_finalize_migration_src: async (ctx, args) => {
    const [instValue, success, live] = args;
    const inst = instanceArg(instValue);
    const ok = boolArg(success, 'success flag');
    const hyper = hypervisor(ctx, inst.hypervisor);
    await guard('Failed to finalize the migration on the source node: ', () => hyper.finalizeMigrationSource(inst, ok, Boolean(live)));
    // The instance left: its disk links on this node go with it.
    if (ok) await removeDiskLinks(ctx.paths, inst.name, inst.disks_info.length);
    ctx.log.info({ instance: inst.name, success: ok }, 'migration finalized on the source');
    return null;
  },

  instance_get_migration_status: async (ctx, args) => {
    const inst = instanceArg(args[0]);
    const hyper = hypervisor(ctx, inst.hypervisor);
    return guard('Failed to get migration status: ', () => hyper.getMigrationStatus(inst));
  },

  // BlockdevOpen / BlockdevClose: file and LVM disks have no open mode (upstream's
  // FileStorage/LogicalVolume Open and Close do nothing), but each disk must be on this node.
  blockdev_open: async (ctx, args) => {
    await requireDisks(ctx, args[1]);
    return null;
  },

  blockdev_close: async (ctx, args) => {
    await requireDisks(ctx, args[1]);
    return null;
  },

  bridges_exist: (_ctx, args) => {
    const list = args[0];
    if (!Array.isArray(list) || list.some((b) => typeof b !== 'string')) throw new RpcFail(`Invalid bridge list ${JSON.stringify(list)}`);
    const missing = (list as string[]).filter((b) => !bridgeExists(b));
    if (missing.length > 0) throw new RpcFail(`Missing bridges ${missing.join(', ')}`);
    return null;
  },
};
