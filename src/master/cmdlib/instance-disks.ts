// The disk operations of an instance (upstream's LUInstanceActivateDisks,
// LUInstanceDeactivateDisks, LUInstanceGrowDisk, LUInstanceRecreateDisks).
import { ECODE, OpExecError, OpPrereqError } from '../../core/errors.ts';
import type { OpInput } from '../../core/opcodes.ts';
import { formatUnit } from '../../cli/format/table.ts';
import { instanceDisks } from '../config/instance-params.ts';
import type { DiskObject, InstanceObject } from '../config/model.ts';
import type { HookSpec, LogicalUnit, LUContext } from './base.ts';
import {
  assembleInstanceDisks, checkNodesFreeDiskPerVG, createDisks, DTS_GROWABLE, exclusiveStorage, findDisk, forceDiskParams,
  growNeedsSpaceCheck, safeShutdownInstanceDisks, shutdownInstanceDisks, undoCreateDisks, waitForSync, wipeDisks,
} from './instance-storage.ts';
import {
  callNode, checkInstanceState, checkNodeOnline, INSTANCE_NOT_RUNNING, instanceHooks, instanceLU, instanceNodes,
  logWarning, nodeName, raiseRpc, setInstanceStatus,
} from './instance-utils.ts';

type Dict = Record<string, unknown>;

/** OP_INSTANCE_ACTIVATE_DISKS: returns [[node, iv_name, device path], ...]. */
export function instanceActivateDisks(op: OpInput, ctx: LUContext): LogicalUnit {
  let inst: InstanceObject;
  return instanceLU(op, ctx, {}, (current) => { inst = current; }, {
    checkPrereq() {
      checkNodeOnline(ctx, inst.primary_node);
    },
    async exec() {
      const { ok, info } = await assembleInstanceDisks(ctx, inst, { ignoreSize: op.ignore_size === true });
      if (!ok) throw new OpExecError('Cannot activate block devices');
      if (op.wait_for_sync) {
        if (!(await waitForSync(ctx, ctx.config.data.instances[inst.uuid]))) {
          await setInstanceStatus(ctx, inst.uuid, { disksActive: false });
          throw new OpExecError('Some disks of the instance are degraded!');
        }
      }
      return info;
    },
  });
}

/** OP_INSTANCE_DEACTIVATE_DISKS */
export function instanceDeactivateDisks(op: OpInput, ctx: LUContext): LogicalUnit {
  let inst: InstanceObject;
  return instanceLU(op, ctx, {}, (current) => { inst = current; }, {
    async exec() {
      if (op.force) await shutdownInstanceDisks(ctx, inst);
      else await safeShutdownInstanceDisks(ctx, inst);
      return null;
    },
  });
}

/** OP_INSTANCE_GROW_DISK */
export function instanceGrowDisk(op: OpInput, ctx: LUContext): LogicalUnit {
  let inst: InstanceObject;
  let disk: DiskObject;
  let delta = 0;
  let target = 0;
  return instanceLU(op, ctx, { nodeRes: 'all' }, (current) => { inst = current; }, {
    async checkPrereq() {
      const nodes = instanceNodes(ctx.config.data, inst);
      for (const n of nodes) checkNodeOnline(ctx, n);
      disk = findDisk(instanceDisks(ctx.config.data, inst), op.disk as number);
      if (!DTS_GROWABLE.includes(disk.dev_type)) {
        throw new OpPrereqError(`Instance's disk layout ${disk.dev_type} does not support growing`, ECODE.INVAL);
      }
      const amount = op.amount as number;
      if (op.absolute) {
        target = amount;
        delta = target - disk.size;
        if (delta < 0) {
          throw new OpPrereqError(`Requested size (${formatUnit(target, 'h')}) is smaller than current disk size (${formatUnit(disk.size, 'h')})`, ECODE.STATE);
        }
      } else {
        delta = amount;
        target = disk.size + delta;
        if (delta < 0) throw new OpPrereqError(`Requested increment (${formatUnit(delta, 'h')}) is negative`, ECODE.INVAL);
      }
      if (growNeedsSpaceCheck(disk.dev_type) && !nodes.some((n) => exclusiveStorage(ctx, n))) {
        await checkNodesFreeDiskPerVG(ctx, nodes, { [String(disk.logical_id[0])]: delta });
      }
    },
    hooks(): HookSpec {
      return instanceHooks(ctx, 'disk-grow', ctx.config.data.instances[inst.uuid] ?? inst, {
        DISK: op.disk as number, AMOUNT: op.amount as number, ABSOLUTE: op.absolute as boolean,
      });
    },
    async exec() {
      const wipe = (ctx.config.cluster as Dict).prealloc_wipe_disks === true;
      const { ok } = await assembleInstanceDisks(ctx, inst, { disks: [disk] });
      if (!ok) throw new OpExecError('Cannot activate block device to grow');
      ctx.feedback(`Growing disk ${String(op.disk)} of instance '${inst.name}' by ${formatUnit(delta, 'h')} to ${formatUnit(target, 'h')}`);
      const nodes = instanceNodes(ctx.config.data, inst);
      for (const n of nodes) {
        const r = await callNode(ctx, n, 'blockdev_grow', [disk, delta, true, true, exclusiveStorage(ctx, n)]);
        raiseRpc(r, `Dry-run grow request failed to node ${nodeName(ctx, n)}`);
      }
      let oldSize: number | null = null;
      if (wipe) {
        const r = await callNode(ctx, inst.primary_node, 'blockdev_getdimensions', [[disk]]);
        const dims = raiseRpc(r, `Failed to retrieve disk size from node '${inst.primary_node}'`) as Array<[number, unknown] | null>;
        const first = Array.isArray(dims) ? dims[0] : null;
        if (!first) throw new OpExecError(`Failed to retrieve disk size from primary node '${inst.primary_node}'`);
        const bytes = Number(first[0]);
        oldSize = Math.floor(bytes / 1048576);
        const remainder = bytes % 1048576;
        if (remainder !== 0) {
          logWarning(ctx, `Disk size is not an even multiple of 1 MiB; rounding up to not overwrite existing data (${1048576 - remainder} bytes will not be wiped)`);
          oldSize += 1;
        }
      }
      for (const n of nodes) {
        const r = await callNode(ctx, n, 'blockdev_grow', [disk, delta, false, true, exclusiveStorage(ctx, n)]);
        raiseRpc(r, `Grow request failed to node ${nodeName(ctx, n)}`);
      }
      const logical = await callNode(ctx, inst.primary_node, 'blockdev_grow', [disk, delta, false, false, exclusiveStorage(ctx, inst.primary_node)]);
      raiseRpc(logical, `Grow request failed to node ${nodeName(ctx, inst.primary_node)}`);
      disk = await ctx.config.update((tx) => {
        const d = tx.data.disks[disk.uuid];
        d.size += delta;
        tx.modified(d);
        return d;
      });
      inst = ctx.config.data.instances[inst.uuid];
      if (wipe && oldSize !== null) await wipeDisks(ctx, inst, [[op.disk as number, disk, oldSize]]);
      if (op.wait_for_sync) {
        if (!(await waitForSync(ctx, inst, [disk]))) logWarning(ctx, 'Disk syncing has not returned a good status; check the instance');
        if (!inst.disks_active) await safeShutdownInstanceDisks(ctx, inst, [disk]);
      } else if (!inst.disks_active) {
        logWarning(ctx, 'Not shutting down the disk even if the instance is not supposed to be running because no wait for sync mode was requested');
      }
      return null;
    },
  });
}

/** The MODIFYABLE disk parameters of recreate-disks. */
const RECREATE_MODIFYABLE = ['size', 'mode', 'spindles'];

/** OP_INSTANCE_RECREATE_DISKS (on the instance's own nodes; moving to new nodes is not offered). */
export function instanceRecreateDisks(op: OpInput, ctx: LUContext): LogicalUnit {
  let inst: InstanceObject;
  let wanted = new Map<number, Dict>();
  return instanceLU(op, ctx, { nodeRes: 'all' }, (current) => { inst = current; }, {
    checkArguments() {
      let disks = op.disks as unknown[];
      if (disks.length > 0 && typeof disks[0] === 'number') {
        disks = [...new Set(disks as number[])].sort((a, b) => a - b).map((i) => [i, {}]);
      }
      const pairs = disks as Array<[number, Dict]>;
      const seen = new Set<number>();
      const dups = new Set<number>();
      for (const [idx] of pairs) (seen.has(idx) ? dups : seen).add(idx);
      if (dups.size > 0) throw new OpPrereqError(`Some disks have been specified more than once: ${[...dups].join(', ')}`, ECODE.INVAL);
      if (op.iallocator || (op.nodes as string[]).length > 0) {
        throw new OpPrereqError('Recreating disks on other nodes is not supported', ECODE.INVAL);
      }
      for (const [idx, params] of pairs) {
        forceDiskParams(params);
        const unsupported = Object.keys(params).filter((k) => !RECREATE_MODIFYABLE.includes(k));
        if (unsupported.length > 0) {
          throw new OpPrereqError(`Parameters for disk ${idx} try to change unmodifyable parameter(s): ${unsupported.join(', ')}`, ECODE.INVAL);
        }
      }
      op.disks = pairs;
    },
    async checkPrereq() {
      checkNodeOnline(ctx, inst.primary_node);
      if (inst.disks.length === 0) throw new OpPrereqError(`Instance '${String(op.instance_name)}' has no disks`, ECODE.INVAL);
      await checkInstanceState(ctx, inst, INSTANCE_NOT_RUNNING, 'cannot recreate disks');
      const pairs = op.disks as Array<[number, Dict]>;
      wanted = new Map(pairs.length > 0 ? pairs : inst.disks.map((_, i) => [i, {}] as [number, Dict]));
      const maxIdx = Math.max(...wanted.keys());
      if (maxIdx >= inst.disks.length) throw new OpPrereqError(`Invalid disk index '${maxIdx}'`, ECODE.INVAL);
    },
    hooks(): HookSpec {
      return instanceHooks(ctx, 'instance-recreate-disks', ctx.config.data.instances[inst.uuid] ?? inst);
    },
    async exec() {
      const disks = await ctx.config.update((tx) => {
        const all = instanceDisks(tx.data, tx.data.instances[inst.uuid]);
        for (const [idx, changes] of wanted) {
          const d = all[idx];
          if (Object.keys(changes).length === 0) continue;
          if (changes.size !== undefined) d.size = changes.size as number;
          if (changes.mode !== undefined) d.mode = changes.mode as DiskObject['mode'];
          if (changes.spindles !== undefined) d.spindles = changes.spindles as number;
          tx.modified(d);
        }
        return all.filter((_, i) => wanted.has(i));
      });
      inst = ctx.config.data.instances[inst.uuid];
      const created = await createDisks(ctx, inst, disks);
      if ((ctx.config.cluster as Dict).prealloc_wipe_disks === true) {
        const all = instanceDisks(ctx.config.data, inst);
        try {
          await wipeDisks(ctx, inst, disks.map((d) => [all.findIndex((x) => x.uuid === d.uuid), d, 0] as [number, DiskObject, number]));
        } catch (err) {
          await undoCreateDisks(ctx, created);
          throw err;
        }
      }
      return null;
    },
  });
}
