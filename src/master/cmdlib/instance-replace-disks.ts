// OP_INSTANCE_REPLACE_DISKS (upstream's LUInstanceReplaceDisks / TLReplaceDisks): replacing
// the disks of a DRBD instance on its primary, its secondary or a new secondary. This
// cluster has no DRBD, so after upstream's argument checks every instance meets upstream's
// prerequisite error for the other templates; nothing is ever changed.
import { ECODE, OpPrereqError } from '../../core/errors.ts';
import type { OpInput } from '../../core/opcodes.ts';
import type { InstanceObject } from '../config/model.ts';
import { expandNode, type LogicalUnit, type LUContext } from './base.ts';
import { instanceDiskTemplate } from '../config/instance-params.ts';
import { instanceLocks, instanceLU } from './instance-utils.ts';

/** REPLACE_DISK_CHG */
const REPLACE_NEW_SECONDARY = 'replace_new_secondary';

/** TLReplaceDisks.CheckArguments */
export function checkReplaceDisksArguments(mode: string, remoteNode: unknown, iallocator: unknown): void {
  const hasNode = remoteNode !== null && remoteNode !== undefined;
  const hasAlloc = iallocator !== null && iallocator !== undefined;
  if (mode === REPLACE_NEW_SECONDARY) {
    if (!hasNode && !hasAlloc) {
      throw new OpPrereqError('When changing the secondary either an iallocator script must be used or the new node given', ECODE.INVAL);
    }
    if (hasNode && hasAlloc) throw new OpPrereqError('Give either the iallocator or the new secondary, not both', ECODE.INVAL);
  } else if (hasNode || hasAlloc) {
    throw new OpPrereqError('The iallocator and new node options can only be used when changing the secondary node', ECODE.INVAL);
  }
}

/** OP_INSTANCE_REPLACE_DISKS */
export function instanceReplaceDisks(op: OpInput, ctx: LUContext): LogicalUnit {
  let inst: InstanceObject;
  return instanceLU(op, ctx, (current) => {
    const plan = instanceLocks(ctx.config.data, current, { nodeRes: 'all' });
    if (op.remote_node_uuid) plan.levels.node!.names!.push(op.remote_node_uuid as string);
    return plan;
  }, (current) => { inst = current; }, {
    checkArguments() {
      checkReplaceDisksArguments(op.mode as string, op.remote_node, op.iallocator);
    },
    expandNames() {
      if (op.remote_node !== null && op.remote_node !== undefined) {
        const node = expandNode(ctx, op.remote_node as string);
        op.remote_node = node.name;
        op.remote_node_uuid = node.uuid;
      }
    },
    checkPrereq() {
      if (instanceDiskTemplate(ctx.config.data, inst) !== 'drbd') {
        throw new OpPrereqError('Can only run replace disks for DRBD8-based instances', ECODE.INVAL);
      }
      throw new OpPrereqError('The drbd disk template is not supported', ECODE.INVAL);
    },
    exec(): Promise<unknown> {
      return Promise.resolve(null);
    },
  });
}
