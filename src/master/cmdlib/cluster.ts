// Cluster-wide opcodes.
import { ECODE, OpPrereqError } from '../../core/errors.ts';
import type { OpInput } from '../../core/opcodes.ts';
import type { LogicalUnit, LUContext } from './base.ts';

/** Run after `gnt-cluster init` (upstream runs the cluster-init hooks here). */
export function clusterPostInit(_op: OpInput, _ctx: LUContext): LogicalUnit {
  return { exec: async () => true };
}

/** Checks that only the master is left; the CLI then stops the daemons and removes the files. */
export function clusterDestroy(_op: OpInput, ctx: LUContext): LogicalUnit {
  return {
    checkPrereq() {
      const nodes = ctx.config.nodes();
      if (nodes.length > 1) {
        throw new OpPrereqError(`There are still ${nodes.length - 1} node(s) in this cluster.`, ECODE.INVAL);
      }
      const instances = Object.keys(ctx.config.data.instances).length;
      if (instances > 0) throw new OpPrereqError(`There are still ${instances} instance(s) in this cluster.`, ECODE.INVAL);
    },
    exec: async () => ctx.config.cluster.master_node,
  };
}

/** OP_CLUSTER_SET_PARAMS: the parameters given are written to the configuration. */
export function clusterSetParams(op: OpInput, ctx: LUContext): LogicalUnit {
  const keys = ['candidate_pool_size', 'max_running_jobs', 'max_tracked_jobs'] as const;
  return {
    checkArguments() {
      if (!keys.some((k) => op[k] !== undefined)) throw new OpPrereqError('Please give at least one of the parameters', ECODE.INVAL);
    },
    hooks() {
      const master = ctx.config.masterNode().name;
      return { path: 'cluster-modify', type: 'CLUSTER', env: { OP_TARGET: ctx.config.cluster.cluster_name, NEW_VG_NAME: (op.vg_name as string | undefined) ?? null }, preNodes: [master], postNodes: [master] };
    },
    async exec() {
      await ctx.config.update((tx) => {
        for (const k of keys) if (op[k] !== undefined) (tx.data.cluster as Record<string, unknown>)[k] = op[k];
        tx.modified(tx.data.cluster);
      });
      return null;
    },
  };
}

/** OP_CLUSTER_REDIST_CONF: the configuration to every candidate, ssconf to every node. */
export function clusterRedistConf(op: OpInput, _ctx: LUContext): LogicalUnit {
  return { exec: async () => { throw new OpPrereqError(`${op.OP_ID} is not implemented yet`); } };
}

/** OP_CLUSTER_RENAME */
export function clusterRename(op: OpInput, _ctx: LUContext): LogicalUnit {
  return { exec: async () => { throw new OpPrereqError(`${op.OP_ID} is not implemented yet`); } };
}
