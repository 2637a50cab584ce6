// Hypervisor parameters checked on the nodes that will run an instance (upstream's
// CheckHVParams: the hypervisor_validate_params RPC), so a value the node's hypervisor
// cannot use fails before anything is created, started or stopped.
import { ECODE, OpPrereqError } from '../../core/errors.ts';
import type { LUContext } from './base.ts';
import { callNode } from './instance-utils.ts';

type Dict = Record<string, unknown>;

/**
 * Throws OpPrereqError naming the node and the problem when a node refuses `hvparams`
 * (filled over the cluster's defaults, as upstream). `nodes` are node uuids or names;
 * offline and non-vm-capable nodes are skipped (upstream's _FilterVmNodes, info.offline).
 */
export async function checkHypervisorParams(ctx: LUContext, nodes: string[], hypervisor: string, hvparams: Dict): Promise<void> {
  const data = ctx.config.data;
  const byName = new Map(Object.values(data.nodes).map((n) => [n.name, n]));
  const targets = nodes
    .map((id) => ctx.config.node(id) ?? byName.get(id))
    .filter((n) => n !== undefined && !n.offline && n.vm_capable !== false);
  if (targets.length === 0) return;
  const clusterHv = ((data.cluster.hvparams as Record<string, Dict> | undefined)?.[hypervisor]) ?? {};
  const full = { ...clusterHv, ...hvparams };
  const results = await Promise.all(targets.map((n) => callNode(ctx, n!.uuid, 'hypervisor_validate_params', [hypervisor, full])));
  results.forEach((r, i) => {
    if (!r.ok) throw new OpPrereqError(`Hypervisor parameter validation failed on node ${targets[i]!.name}: ${r.error}`, ECODE.INVAL);
  });
}
