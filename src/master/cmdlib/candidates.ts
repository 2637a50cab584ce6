// The master-candidate pool (spec/core.md §3.3): how many candidates the cluster should
// have, whether a node promotes itself, and which nodes to promote to fill the pool.
import type { ConfigData, NodeObject } from '../config/model.ts';

export interface PoolStats {
  /** Nodes that are candidates now. */
  mcNow: number;
  /** Nodes that could be candidates: master_capable, not offline, not drained. */
  mcMax: number;
  /** min(mcMax, candidate_pool_size) */
  mcShould: number;
}

export function eligible(n: NodeObject): boolean {
  return n.master_capable && !n.offline && !n.drained;
}

/** Pool statistics over every node except those excluded (upstream's GetMasterCandidateStats). */
export function poolStats(data: ConfigData, exclude: string[] = []): PoolStats {
  let mcNow = 0;
  let mcMax = 0;
  for (const n of Object.values(data.nodes)) {
    if (exclude.includes(n.uuid)) continue;
    if (n.master_candidate) mcNow += 1;
    if (eligible(n)) mcMax += 1;
  }
  return { mcNow, mcMax, mcShould: Math.min(mcMax, data.cluster.candidate_pool_size) };
}

/** A node being added (or re-added, un-drained, un-offlined) becomes a candidate when the pool is short. */
export function decideSelfPromotion(data: ConfigData, exclude: string[] = []): boolean {
  const { mcNow, mcShould } = poolStats(data, exclude);
  return mcNow < Math.min(mcShould + 1, data.cluster.candidate_pool_size);
}

/**
 * The eligible non-candidates to promote so that the pool reaches mcShould (excluded
 * nodes neither count nor get promoted). Upstream picks at random; the order here is by
 * name, so that the outcome is predictable.
 */
export function nodesToPromote(data: ConfigData, exclude: string[] = []): NodeObject[] {
  const { mcNow, mcShould } = poolStats(data, exclude);
  if (mcNow >= mcShould) return [];
  return Object.values(data.nodes)
    .filter((n) => !exclude.includes(n.uuid) && !n.master_candidate && eligible(n))
    .sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }))
    .slice(0, mcShould - mcNow);
}
