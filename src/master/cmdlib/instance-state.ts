// Starting, stopping and rebooting an instance (upstream's LUInstanceStartup,
// LUInstanceShutdown, LUInstanceReboot): the admin state in the configuration, the
// disks, and instance_start/instance_shutdown/instance_reboot on the primary node.
import { ECODE, OpExecError, OpPrereqError } from '../../core/errors.ts';
import type { OpInput } from '../../core/opcodes.ts';
import { BES_PARAMETER_TYPES, forceDictType, HVS_PARAMETER_TYPES } from '../../core/params.ts';
import { filledBeParams, filledHvParams } from '../config/instance-params.ts';
import type { InstanceObject } from '../config/model.ts';
import { logInfo, type HookSpec, type LogicalUnit, type LUContext } from './base.ts';
import { shutdownInstanceDisks, startInstanceDisks } from './instance-storage.ts';
import {
  callNode, checkInstanceState, checkNodeFreeMemory, checkNodeOnline, clusterHvParamsFor, INSTANCE_ONLINE, instanceHooks,
  instanceLU, instDict, logWarning, markInstanceDown, markInstanceUp, nodeName, nodeOf, raiseRpc, upgradeBeParams,
} from './instance-utils.ts';

type Dict = Record<string, unknown>;

/**
 * instance_info on the primary: the running instance's data, or null when it is not
 * running. A failure is raised as `raise` says: "<message>: <error>" (message by default
 * "Error checking node <node>"), an OpPrereqError with `ecode` in a prerequisite check.
 */
async function remoteInstanceInfo(ctx: LUContext, inst: InstanceObject,
  raise: { prereq: boolean; message?: string; ecode?: string }): Promise<Dict | null> {
  const r = await callNode(ctx, inst.primary_node, 'instance_info', [inst.name, inst.hypervisor, clusterHvParamsFor(ctx, inst.hypervisor)]);
  const payload = raiseRpc(r, raise.message ?? `Error checking node ${nodeName(ctx, inst.primary_node)}`, raise.prereq, raise.ecode);
  return payload !== null && typeof payload === 'object' && Object.keys(payload).length > 0 ? (payload as Dict) : null;
}

/** _IsInstanceUserDown: the guest shut itself down, and (on KVM) its user_shutdown parameter tracks that. */
function isUserDown(ctx: LUContext, inst: InstanceObject, info: Dict | null): boolean {
  return info?.state === 'shutdown' && (inst.hypervisor !== 'kvm' || filledHvParams(ctx.config.data, inst, true).user_shutdown === true);
}

/** OP_INSTANCE_STARTUP */
export function instanceStartup(op: OpInput, ctx: LUContext): LogicalUnit {
  let inst: InstanceObject;
  let primaryOffline = false;
  /** A guest that shut itself down is stopped for good before it starts again. */
  let requiresCleanup = false;
  const hvparams = () => op.hvparams as Dict;
  const beparams = () => op.beparams as Dict;
  return instanceLU(op, ctx, { nodes: false, nodeRes: 'primary' }, (current) => { inst = current; }, {
    checkArguments() {
      if (Object.keys(beparams()).length > 0) {
        upgradeBeParams(beparams());
        forceDictType(beparams(), BES_PARAMETER_TYPES);
      }
    },
    async checkPrereq() {
      if (Object.keys(hvparams()).length > 0) forceDictType(hvparams(), HVS_PARAMETER_TYPES);
      await checkInstanceState(ctx, inst, INSTANCE_ONLINE);
      primaryOffline = nodeOf(ctx, inst.primary_node).offline;
      if (primaryOffline && op.ignore_offline_nodes) {
        logWarning(ctx, 'Ignoring offline primary node');
        if (Object.keys(hvparams()).length > 0 || Object.keys(beparams()).length > 0) logWarning(ctx, 'Overridden parameters are ignored');
        return;
      }
      checkNodeOnline(ctx, inst.primary_node);
      const bep = { ...filledBeParams(ctx.config.data, inst), ...beparams() };
      const info = await remoteInstanceInfo(ctx, inst, { prereq: true, ecode: ECODE.ENVIRON });
      requiresCleanup = isUserDown(ctx, inst, info);
      if (!info) {
        await checkNodeFreeMemory(ctx, inst.primary_node, `starting instance ${inst.name}`, Number(bep.minmem),
          inst.hypervisor, clusterHvParamsFor(ctx, inst.hypervisor));
      }
    },
    hooks(): HookSpec {
      return instanceHooks(ctx, 'instance-start', ctx.config.data.instances[inst.uuid] ?? inst, { FORCE: op.force as boolean });
    },
    async exec() {
      if (!op.no_remember) inst = await markInstanceUp(ctx, inst.uuid);
      if (primaryOffline) {
        logInfo(ctx, 'Primary node offline, marked instance as started');
        return null;
      }
      if (requiresCleanup) {
        const r = await callNode(ctx, inst.primary_node, 'instance_shutdown', [instDict(ctx, inst), op.shutdown_timeout, op.reason]);
        raiseRpc(r, `Could not shutdown instance '${inst.name}'`);
        await shutdownInstanceDisks(ctx, inst);
      }
      await startInstanceDisks(ctx, inst, op.force as boolean);
      inst = ctx.config.data.instances[inst.uuid];
      const r = await callNode(ctx, inst.primary_node, 'instance_start', [
        instDict(ctx, inst, { hvparams: hvparams(), beparams: beparams() }), op.startup_paused, op.reason]);
      if (!r.ok) {
        await shutdownInstanceDisks(ctx, inst);
        raiseRpc(r, `Could not start instance '${inst.name}'`);
      }
      if (r.ok && typeof r.payload === 'string') logInfo(ctx, r.payload);
      return null;
    },
  });
}

/** OP_INSTANCE_SHUTDOWN */
export function instanceShutdown(op: OpInput, ctx: LUContext): LogicalUnit {
  let inst: InstanceObject;
  let primaryOffline = false;
  return instanceLU(op, ctx, { nodes: false }, (current) => { inst = current; }, {
    async checkPrereq() {
      if (!op.force) await checkInstanceState(ctx, inst, INSTANCE_ONLINE);
      else logWarning(ctx, 'Ignoring offline instance check');
      primaryOffline = nodeOf(ctx, inst.primary_node).offline;
      if (primaryOffline && op.ignore_offline_nodes) logWarning(ctx, 'Ignoring offline primary node');
      else checkNodeOnline(ctx, inst.primary_node);
      // Recording a user shutdown needs the guest to have shut itself down.
      if (op.admin_state_source === 'user') {
        const info = await remoteInstanceInfo(ctx, inst, { prereq: true, message: `Error checking instance '${inst.name}'` });
        if (!isUserDown(ctx, inst, info)) throw new OpPrereqError(`Instance '${inst.name}' was not shutdown by the user`);
      }
    },
    hooks(): HookSpec {
      return instanceHooks(ctx, 'instance-stop', ctx.config.data.instances[inst.uuid] ?? inst, { TIMEOUT: op.timeout as number });
    },
    async exec() {
      // An offline instance stays offline: marking it down would reset the flag.
      if (!op.no_remember && (INSTANCE_ONLINE as readonly string[]).includes(inst.admin_state)) {
        inst = await markInstanceDown(ctx, inst.uuid, op.admin_state_source === 'user' ? 'user' : 'admin');
      }
      if (primaryOffline) {
        logInfo(ctx, 'Primary node offline, marked instance as stopped');
        return null;
      }
      const r = await callNode(ctx, inst.primary_node, 'instance_shutdown', [instDict(ctx, inst), op.timeout, op.reason]);
      raiseRpc(r, `Could not shutdown instance '${inst.name}'`);
      await shutdownInstanceDisks(ctx, ctx.config.data.instances[inst.uuid] ?? inst);
      return null;
    },
  });
}

/** OP_INSTANCE_REBOOT */
export function instanceReboot(op: OpInput, ctx: LUContext): LogicalUnit {
  let inst: InstanceObject;
  return instanceLU(op, ctx, { nodes: false }, (current) => { inst = current; }, {
    async checkPrereq() {
      await checkInstanceState(ctx, inst, INSTANCE_ONLINE);
      checkNodeOnline(ctx, inst.primary_node);
    },
    hooks(): HookSpec {
      return instanceHooks(ctx, 'instance-reboot', ctx.config.data.instances[inst.uuid] ?? inst, {
        IGNORE_SECONDARIES: op.ignore_secondaries as boolean,
        REBOOT_TYPE: op.reboot_type as string,
        SHUTDOWN_TIMEOUT: op.shutdown_timeout as number,
      });
    },
    async exec() {
      const running = (await remoteInstanceInfo(ctx, inst, { prereq: false })) !== null;
      const node = inst.primary_node;
      if (running && (op.reboot_type === 'soft' || op.reboot_type === 'hard')) {
        const r = await callNode(ctx, node, 'instance_reboot', [instDict(ctx, inst), op.reboot_type, op.shutdown_timeout, op.reason]);
        raiseRpc(r, 'Could not reboot instance');
      } else {
        if (running) {
          const r = await callNode(ctx, node, 'instance_shutdown', [instDict(ctx, inst), op.shutdown_timeout, op.reason]);
          raiseRpc(r, 'Could not shutdown instance for full reboot');
          await shutdownInstanceDisks(ctx, inst);
        } else {
          logInfo(ctx, `Instance ${inst.name} was already stopped, starting now`);
        }
        inst = ctx.config.data.instances[inst.uuid];
        await startInstanceDisks(ctx, inst, op.ignore_secondaries as boolean);
        inst = ctx.config.data.instances[inst.uuid];
        const r = await callNode(ctx, node, 'instance_start', [instDict(ctx, inst), false, op.reason]);
        if (!r.ok) {
          await shutdownInstanceDisks(ctx, inst);
          throw new OpExecError(`Could not start instance for full reboot: ${r.error}`);
        }
      }
      await markInstanceUp(ctx, inst.uuid);
      return null;
    },
  });
}
