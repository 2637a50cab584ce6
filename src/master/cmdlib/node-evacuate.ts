// Moving every instance off a node (upstream's cmdlib/node.py LUNodeMigrate and
// LUNodeEvacuate): both only plan and submit one job per instance (upstream's
// ResultWithJobs); their result is {"jobs": [[true, job id] | [false, error], ...]}, which
// `gnt-node migrate|evacuate` and RAPI clients follow.
import { ECODE, OpExecError, OpPrereqError } from '../../core/errors.ts';
import { OPCODE_TABLE, type OpInput } from '../../core/opcodes.ts';
import { niceSort } from '../config/ssconf.ts';
import type { InstanceObject, NodeObject } from '../config/model.ts';
import { planNodeEvacuation, type EvacuationPlan } from '../iallocator/index.ts';
import { expandNode, logInfo, submitChildJobs, type HookSpec, type LockPlan, type LogicalUnit, type LUContext } from './base.ts';
import { checkIAllocatorOrNode } from './instance-migration.ts';
import { logWarning } from './instance-utils.ts';
import { secondaryNodes } from '../config/instance-params.ts';

type EvacMode = 'primary-only' | 'secondary-only' | 'all';

async function submit(ctx: LUContext, parent: OpInput, jobs: Array<Array<Record<string, unknown>>>): Promise<{ jobs: Array<[boolean, number | string]> }> {
  return { jobs: await submitChildJobs(ctx, parent, jobs) };
}

function primaryInstances(ctx: LUContext, nodeUuid: string): InstanceObject[] {
  return Object.values(ctx.config.data.instances).filter((i) => i.primary_node === nodeUuid);
}

function secondaryInstances(ctx: LUContext, nodeUuid: string): InstanceObject[] {
  return Object.values(ctx.config.data.instances).filter((i) => secondaryNodes(ctx.config.data, i).includes(nodeUuid));
}

/** OP_NODE_MIGRATE */
export function nodeMigrate(op: OpInput, ctx: LUContext): LogicalUnit {
  let node: NodeObject;
  return {
    expandNames() {
      node = expandNode(ctx, op.node_name as string);
      op.node_name = node.name;
      op.node_uuid = node.uuid;
    },
    locks: (): LockPlan => ({ bglShared: true, levels: { node: { names: [node.uuid], shared: true } } }),
    hooks(): HookSpec {
      const master = ctx.config.masterNode().name;
      return {
        path: 'node-migrate',
        type: 'NODE',
        env: { NODE_NAME: node.name, ALLOW_RUNTIME_CHANGES: op.allow_runtime_changes as boolean },
        preNodes: [master],
        postNodes: [master],
      };
    },
    exec() {
      const names = niceSort(primaryInstances(ctx, node.uuid).map((i) => i.name));
      const jobs = names.map((name) => [{
        OP_ID: 'OP_INSTANCE_MIGRATE',
        instance_name: name,
        mode: op.mode ?? null,
        live: op.live ?? null,
        iallocator: op.iallocator ?? null,
        target_node: op.target_node ?? null,
        allow_runtime_changes: op.allow_runtime_changes,
        ignore_ipolicy: op.ignore_ipolicy,
      }]);
      return submit(ctx, op, jobs);
    },
  };
}

/** _NodeEvacDest */
function evacDestination(useNodes: boolean, group: string, nodes: string[]): string {
  return useNodes ? nodes.join(', ') : group;
}

/**
 * LoadNodeEvacResult: failures stop everything (a warning and OpExecError naming them),
 * the moves are logged, and every opcode that takes early_release gets the operator's.
 */
export function loadNodeEvacResult(ctx: LUContext, plan: EvacuationPlan, earlyRelease: boolean, useNodes: boolean): Array<Array<Record<string, unknown>>> {
  if (plan.failed.length > 0) {
    const reasons = plan.failed.map(([name, reason]) => `${name} (${reason === null ? 'None' : reason})`).join(', ');
    logWarning(ctx, `Unable to evacuate instances ${reasons}`);
    throw new OpExecError(`Unable to evacuate instances ${reasons}`);
  }
  if (plan.moved.length > 0) {
    logInfo(ctx, `Instances to be moved: ${plan.moved.map(([name, group, nodes]) => `${name} (to ${evacDestination(useNodes, group, nodes)})`).join(', ')}`);
  }
  return plan.jobs.map((ops) => ops.map((o) => {
    const id = String(o.OP_ID ?? '');
    return OPCODE_TABLE.get(id)?.params.early_release ? { ...o, early_release: earlyRelease } : { ...o };
  }));
}

/** OP_NODE_EVACUATE (upstream: a NoHooksLU) */
export function nodeEvacuate(op: OpInput, ctx: LUContext): LogicalUnit {
  let node: NodeObject;
  let remote: NodeObject | null = null;
  let lockNodes: string[] = [];
  let instances: InstanceObject[] = [];

  const determineNodes = (): string[] => {
    const group = remote === null ? ctx.config.nodes().filter((n) => n.group === node.group).map((n) => n.uuid) : [remote.uuid];
    return [...new Set([node.uuid, ...group])];
  };
  const determineInstances = (): InstanceObject[] => {
    switch (op.mode as EvacMode) {
      case 'primary-only':
        return primaryInstances(ctx, node.uuid);
      case 'secondary-only':
        return secondaryInstances(ctx, node.uuid);
      default:
        // upstream: the iallocator interface has no evacuation mode per instance
        throw new OpPrereqError('Due to an issue with the iallocator interface it is not possible to evacuate all instances at once; ' +
          'specify explicitly whether to evacuate primary or secondary instances', ECODE.INVAL);
    }
  };

  return {
    checkArguments() {
      checkIAllocatorOrNode(ctx, op, 'iallocator', 'remote_node');
    },
    expandNames() {
      node = expandNode(ctx, op.node_name as string);
      op.node_name = node.name;
      op.node_uuid = node.uuid;
      if (op.remote_node !== null && op.remote_node !== undefined) {
        remote = expandNode(ctx, op.remote_node as string);
        op.remote_node = remote.name;
        op.remote_node_uuid = remote.uuid;
        if (remote.uuid === node.uuid) throw new OpPrereqError('Can not use evacuated node as a new secondary node', ECODE.INVAL);
        if (op.mode !== 'secondary-only') {
          throw new OpPrereqError('Without the use of an iallocator only secondary instances can be evacuated', ECODE.INVAL);
        }
      }
      lockNodes = determineNodes();
      instances = determineInstances();
    },
    locks: (): LockPlan => ({
      bglShared: true,
      levels: {
        instance: { names: instances.map((i) => i.uuid), shared: true },
        nodegroup: { names: [...new Set(lockNodes.map((u) => ctx.config.node(u)?.group).filter((g): g is string => !!g))], shared: true },
        node: { names: lockNodes, shared: true },
      },
    }),
    checkPrereq() {
      const need = determineNodes();
      if (!need.every((u) => lockNodes.includes(u))) {
        throw new OpPrereqError(`Nodes in same group as '${node.name}' changed since locks were acquired, current nodes are are ` +
          `'${need.map((u) => ctx.config.node(u)?.name ?? u).join(', ')}', used to be '${lockNodes.map((u) => ctx.config.node(u)?.name ?? u).join(', ')}'; retry the operation`, ECODE.STATE);
      }
      const current = determineInstances();
      const names = current.map((i) => i.name);
      const owned = instances.map((i) => i.name);
      if (names.length !== owned.length || !names.every((n) => owned.includes(n))) {
        throw new OpExecError(`Instances on node '${node.name}' changed since locks were acquired, current instances are ` +
          `'${names.join(', ')}', used to be '${owned.join(', ')}'; retry the operation`);
      }
      instances = current;
      if (names.length > 0) logInfo(ctx, `Evacuating instances from node '${node.name}': ${niceSort(names).join(', ')}`);
      else logInfo(ctx, `No instances to evacuate from node '${node.name}'`);
      if (remote !== null) {
        for (const i of instances) {
          if (i.primary_node === remote.uuid) {
            throw new OpPrereqError(`Node ${remote.name} is the primary node of instance ${i.name}, cannot use it as secondary`, ECODE.INVAL);
          }
        }
      }
    },
    async exec() {
      const names = instances.map((i) => i.name);
      let jobs: Array<Array<Record<string, unknown>>>;
      if (names.length === 0) {
        jobs = [];
      } else if (op.iallocator !== null && op.iallocator !== undefined) {
        const plan = await planNodeEvacuation(ctx, op.iallocator as string, op.mode as EvacMode, names);
        jobs = loadNodeEvacResult(ctx, plan, op.early_release === true, true);
      } else {
        jobs = names.map((name) => [{
          OP_ID: 'OP_INSTANCE_REPLACE_DISKS', instance_name: name, remote_node: op.remote_node, disks: [],
          mode: 'replace_new_secondary', early_release: op.early_release,
        }]);
      }
      return submit(ctx, op, jobs);
    },
  };
}
