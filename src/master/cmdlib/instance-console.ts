// OP_INSTANCE_CONSOLE (upstream's LUInstanceConsole): how to reach a running instance's
// console, as the primary node's hypervisor describes it (instance_console_info).
import { OpExecError } from '../../core/errors.ts';
import type { OpInput } from '../../core/opcodes.ts';
import { filledBeParams, filledHvParams } from '../config/instance-params.ts';
import type { InstanceObject } from '../config/model.ts';
import type { LogicalUnit, LUContext } from './base.ts';
import {
  callNode, checkNodeOnline, instanceLU, instDict, nodeName, nodeOf, raiseRpc, runningInstances,
} from './instance-utils.ts';

/** The instance status upstream reports for an instance that is not running. */
function notRunningState(inst: InstanceObject): string {
  if (inst.admin_state === 'up') return 'ERROR_down';
  if (inst.admin_state === 'down') return 'ADMIN_down';
  return 'ADMIN_offline';
}

/** OP_INSTANCE_CONSOLE: returns the console dict (instance, kind, message/host/port/user/command/display). */
export function instanceConsole(op: OpInput, ctx: LUContext): LogicalUnit {
  let inst: InstanceObject;
  return instanceLU(op, ctx, { nodes: false, shared: true }, (current) => { inst = current; }, {
    checkPrereq() {
      checkNodeOnline(ctx, inst.primary_node);
    },
    async exec() {
      const pnode = inst.primary_node;
      const running = raiseRpc(await runningInstances(ctx, pnode, inst.hypervisor), `Can't get node information from ${nodeName(ctx, pnode)}`);
      if (!Array.isArray(running) || !running.includes(inst.name)) {
        throw new OpExecError(`Instance ${inst.name} is not running (state ${notRunningState(inst)})`);
      }
      const data = ctx.config.data;
      const node = nodeOf(ctx, pnode);
      const group = data.nodegroups[node.group] ?? null;
      const r = await callNode(ctx, pnode, 'instance_console_info', [{
        [inst.name]: [instDict(ctx, inst), node, group, filledHvParams(data, inst), filledBeParams(data, inst)],
      }]);
      const consoles = raiseRpc(r, `Failed to get console information for instance ${inst.name}`) as Record<string, unknown> | null;
      const console = consoles?.[inst.name];
      if (!console) throw new OpExecError(`No console information for instance ${inst.name} from node ${node.name}`);
      return console;
    },
  });
}
