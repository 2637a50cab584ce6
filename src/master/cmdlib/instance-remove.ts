// OP_INSTANCE_REMOVE (upstream's LUInstanceRemove): stop the instance, remove its disks
// and directories on the nodes, then its disks and itself from the configuration.
import { OpExecError } from '../../core/errors.ts';
import type { OpInput } from '../../core/opcodes.ts';
import type { InstanceObject } from '../config/model.ts';
import type { HookSpec, LogicalUnit, LUContext } from './base.ts';
import { releaseNicIps } from './instance-nics.ts';
import { removeDisks } from './instance-storage.ts';
import { callNode, instanceHooks, instanceLU, instDict, nodeName, raiseRpc } from './instance-utils.ts';

/** RemoveInstance: the disks on the nodes, then the configuration. */
export async function removeInstance(ctx: LUContext, inst: InstanceObject, ignoreFailures: boolean): Promise<void> {
  ctx.log.info({ instance: inst.name }, 'Removing block devices for instance');
  if (!(await removeDisks(ctx, inst))) {
    if (!ignoreFailures) throw new OpExecError("Can't remove instance's disks");
    ctx.feedback("Warning: can't remove instance's disks");
  }
  ctx.log.info({ instance: inst.name }, 'Removing instance out of cluster config');
  await removeInstanceFromConfig(ctx, inst);
}

/** config.RemoveInstance with its disks: the configuration side of removing an instance. */
export async function removeInstanceFromConfig(ctx: LUContext, inst: InstanceObject): Promise<void> {
  await ctx.config.update((tx) => {
    for (const d of inst.disks) tx.remove('disks', d);
    releaseNicIps(tx, inst);
    tx.remove('instances', inst.uuid);
  });
}

/** OP_INSTANCE_REMOVE */
export function instanceRemove(op: OpInput, ctx: LUContext): LogicalUnit {
  let inst: InstanceObject;
  let hooks: HookSpec;
  return instanceLU(op, ctx, { nodeRes: 'all' }, (current) => { inst = current; }, {
    checkPrereq() {
      // Computed once: after exec the instance is gone, the post hooks see it as it was.
      hooks = instanceHooks(ctx, 'instance-remove', inst, { SHUTDOWN_TIMEOUT: op.shutdown_timeout as number });
      hooks.preNodes = [ctx.config.masterNode().name];
    },
    hooks: () => hooks,
    async exec() {
      const r = await callNode(ctx, inst.primary_node, 'instance_shutdown', [instDict(ctx, inst), op.shutdown_timeout, op.reason]);
      if (op.ignore_failures) {
        if (!r.ok) ctx.feedback(`Warning: can't shutdown instance: ${r.error}`);
      } else {
        raiseRpc(r, `Could not shutdown instance ${inst.name} on node ${nodeName(ctx, inst.primary_node)}`);
      }
      await removeInstance(ctx, ctx.config.data.instances[inst.uuid] ?? inst, op.ignore_failures === true);
      return null;
    },
  });
}
