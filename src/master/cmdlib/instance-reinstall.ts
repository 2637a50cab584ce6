// Reinstalling and renaming an instance (upstream's LUInstanceReinstall and
// LUInstanceRename): both run OS scripts on the primary with the disks assembled.
import path from 'node:path';
import { ECODE, OpPrereqError } from '../../core/errors.ts';
import type { OpInput } from '../../core/opcodes.ts';
import { osBaseName, instanceDisks } from '../config/instance-params.ts';
import type { InstanceObject } from '../config/model.ts';
import { logInfo, type HookSpec, type LogicalUnit, type LUContext } from './base.ts';
import { checkHostnameSane, checkInstanceExistence } from './instance-create.ts';
import { checkDiskTemplateEnabled, DTS_FILEBASED, shutdownInstanceDisks, startInstanceDisks } from './instance-storage.ts';
import {
  callNode, checkInstanceState, checkNodeOnline, checkOsParams, INSTANCE_DOWN, INSTANCE_NOT_RUNNING, instanceHooks,
  instanceLocks, instanceLU, instanceNodes, instDict, nodeName, raiseRpc, updatedParams, warnRpc,
} from './instance-utils.ts';

type Dict = Record<string, unknown>;

/** OP_INSTANCE_REINSTALL */
export function instanceReinstall(op: OpInput, ctx: LUContext): LogicalUnit {
  let inst: InstanceObject;
  let osparams: Dict = {};
  return instanceLU(op, ctx, { nodes: false }, (current) => { inst = current; }, {
    async checkPrereq() {
      checkNodeOnline(ctx, inst.primary_node, 'Instance primary node offline, cannot reinstall');
      if (inst.disks.length === 0) throw new OpPrereqError(`Instance '${String(op.instance_name)}' has no disks`, ECODE.INVAL);
      await checkInstanceState(ctx, inst, INSTANCE_DOWN, 'cannot reinstall');
      // _MergeValidateOsParams: "default" resets a parameter to the cluster's value.
      const pub = updatedParams(inst.osparams ?? {}, (op.osparams as Dict | undefined) ?? {});
      const priv = updatedParams(inst.osparams_private ?? {}, (op.osparams_private as Dict | undefined) ?? {});
      const osName = (op.os_type as string | undefined) ?? inst.os;
      const all = ((ctx.config.cluster as Dict).osparams as Record<string, Dict> | undefined) ?? {};
      osparams = {
        ...(all[osBaseName(osName)] ?? {}), ...(osName !== osBaseName(osName) ? all[osName] ?? {} : {}),
        ...pub, ...priv, ...((op.osparams_secret as Dict | undefined) ?? {}),
      };
      await checkOsParams(ctx, true, instanceNodes(ctx.config.data, inst), osName, osparams, op.force_variant === true);
    },
    hooks(): HookSpec {
      return instanceHooks(ctx, 'instance-reinstall', ctx.config.data.instances[inst.uuid] ?? inst);
    },
    async exec() {
      const osType = op.os_type as string | undefined;
      if (osType) {
        ctx.feedback(`Changing OS scripts to '${osType}'...`);
        inst = await ctx.config.update((tx) => {
          const i = tx.data.instances[inst.uuid];
          i.os = osType;
          tx.modified(i);
          return i;
        });
      }
      if (!inst.os) {
        logInfo(ctx, "No OS scripts or OS image specified or found in the instance's configuration, nothing to install");
        return null;
      }
      await startInstanceDisks(ctx, inst, null);
      inst = ctx.config.data.instances[inst.uuid];
      try {
        logInfo(ctx, 'Running instance OS create scripts...');
        const r = await callNode(ctx, inst.primary_node, 'instance_os_add', [instDict(ctx, inst, { osparams }), true, op.debug_level ?? 0]);
        raiseRpc(r, `Could not install OS for instance '${inst.name}' on node '${nodeName(ctx, inst.primary_node)}'`);
      } finally {
        await shutdownInstanceDisks(ctx, ctx.config.data.instances[inst.uuid] ?? inst);
      }
      return null;
    },
  });
}

/**
 * config.RenameInstance: the new name, and file disks moved along into the new
 * instance directory (<storage dir>/<new name>/<file>).
 */
export async function renameInstanceInConfig(ctx: LUContext, uuid: string, newName: string): Promise<InstanceObject> {
  return ctx.config.update((tx) => {
    checkInstanceExistence(tx.data, newName);
    const inst = tx.data.instances[uuid];
    inst.name = newName;
    tx.modified(inst);
    for (const disk of instanceDisks(tx.data, inst)) {
      if (disk.dev_type !== 'file' && disk.dev_type !== 'sharedfile') continue;
      const file = String(disk.logical_id[1]);
      const storageDir = path.posix.dirname(path.posix.dirname(file));
      disk.logical_id = [disk.logical_id[0], `${storageDir}/${newName}/${path.posix.basename(file)}`];
      tx.modified(disk);
    }
    return inst;
  });
}

/** OP_INSTANCE_RENAME */
export function instanceRename(op: OpInput, ctx: LUContext): LogicalUnit {
  let inst: InstanceObject;
  /** The instance as it was before the rename: both hook phases describe it (as upstream). */
  let before: InstanceObject;
  let oldName = '';
  // The new name is locked too, as instance creation locks a new instance's name.
  const locking = (current: InstanceObject) => instanceLocks(ctx.config.data, current, {
    nodes: false, extraInstanceLocks: op.new_name !== current.name ? [op.new_name as string] : [],
  });
  return instanceLU(op, ctx, locking, (current) => { inst = current; }, {
    checkArguments() {
      if (op.ip_check && !op.name_check) throw new OpPrereqError('IP address check requires a name check', ECODE.INVAL);
    },
    expandNames() {
      if (op.new_name !== inst.name) checkInstanceExistence(ctx.config.data, op.new_name as string);
    },
    async checkPrereq() {
      before = structuredClone(inst);
      oldName = inst.name;
      for (const disk of instanceDisks(ctx.config.data, inst)) {
        if (DTS_FILEBASED.includes(disk.dev_type) && op.new_name !== inst.name) checkDiskTemplateEnabled(ctx.config.cluster, disk.dev_type);
      }
      checkNodeOnline(ctx, inst.primary_node);
      await checkInstanceState(ctx, inst, INSTANCE_NOT_RUNNING, 'cannot rename');
      if (op.name_check) await checkHostnameSane(op.new_name as string);
      if (op.new_name !== inst.name) checkInstanceExistence(ctx.config.data, op.new_name as string);
    },
    hooks(): HookSpec {
      return instanceHooks(ctx, 'instance-rename', before, { INSTANCE_NEW_NAME: op.new_name as string });
    },
    async exec() {
      const newName = op.new_name as string;
      const disks = instanceDisks(ctx.config.data, inst);
      const fileDisks = disks.filter((d) => d.dev_type === 'file' || d.dev_type === 'sharedfile');
      const renameStorage = fileDisks.length > 0 && newName !== oldName;
      const oldDir = renameStorage ? path.posix.dirname(String(fileDisks[0].logical_id[1])) : '';
      inst = await renameInstanceInConfig(ctx, inst.uuid, newName);
      if (renameStorage) {
        const newDir = path.posix.dirname(String(instanceDisks(ctx.config.data, inst).find((d) => d.uuid === fileDisks[0].uuid)?.logical_id[1]));
        const r = await callNode(ctx, inst.primary_node, 'file_storage_dir_rename', [oldDir, newDir]);
        raiseRpc(r, `Could not rename on node ${nodeName(ctx, inst.primary_node)} directory '${oldDir}' to '${newDir}' (but the instance has been renamed in Ganeti)`);
      }
      await startInstanceDisks(ctx, inst, null);
      inst = ctx.config.data.instances[inst.uuid];
      try {
        const r = await callNode(ctx, inst.primary_node, 'instance_run_rename', [instDict(ctx, inst), oldName, op.debug_level ?? 0]);
        warnRpc(ctx, r, `Could not run OS rename script for instance ${inst.name} on node ${nodeName(ctx, inst.primary_node)} (but the instance has been renamed in Ganeti)`);
      } finally {
        await shutdownInstanceDisks(ctx, ctx.config.data.instances[inst.uuid] ?? inst);
      }
      return inst.name;
    },
  });
}
