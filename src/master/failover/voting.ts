// Who is the master: every node's vote (spec/core.md §5, upstream's modern
// verifyMasterVotes), each carrying the serial number of the voter's configuration.
// A node becomes or stays master only with more than half of all nodes (offline ones
// included) voting for it, and never while a reachable node holds a newer configuration
// than its own: that is how a failover cannot hand over a stale config (Ganeti #1242).
import type { RpcClient, RpcTarget } from '../../rpc/client.ts';
import type { MasterVote } from '../../node/master-role.ts';

export interface Ballot {
  node: string;
  /** null: the node did not answer (or answered nonsense). */
  vote: MasterVote | null;
  error?: string;
}

export type Verdict =
  | { kind: 'won'; inFavor: number; voters: number }
  | { kind: 'retry'; reason: string }
  | { kind: 'lost'; reason: string };

function validVote(v: unknown): v is MasterVote {
  const x = v as MasterVote | null;
  return x !== null && typeof x === 'object' && (x.master === null || typeof x.master === 'string') &&
    (x.serial === null || Number.isInteger(x.serial));
}

/** Ask every node (offline ones too: voting is the exception) for its vote, in parallel. */
export async function gatherVotes(rpc: RpcClient, nodes: RpcTarget[]): Promise<Ballot[]> {
  const results = await rpc.callMany(nodes.map((n) => ({ ...n, offline: false })), 'master_vote', []);
  return nodes.map((n) => {
    const r = results.get(n.name)!;
    if (!r.ok) return { node: n.name, vote: null, error: r.error };
    return validVote(r.payload) ? { node: n.name, vote: r.payload } : { node: n.name, vote: null, error: 'invalid answer' };
  });
}

/**
 * The verdict for `self` (whose configuration has serial `ownSerial`) from the ballots of
 * all `voters` nodes: won with a strict majority; retry while the nodes that did not
 * answer could still make one; lost otherwise, or at once when a node has a newer
 * configuration.
 */
export function judgeVotes(self: string, ownSerial: number, voters: number, ballots: Ballot[]): Verdict {
  const newer = ballots.find((b) => b.vote?.serial !== null && b.vote?.serial !== undefined && b.vote.serial > ownSerial);
  if (newer) {
    return { kind: 'lost', reason: `node ${newer.node} has a newer configuration (serial ${newer.vote!.serial}) than this node (serial ${ownSerial})` };
  }
  const inFavor = ballots.filter((b) => b.vote?.master === self).length;
  const unknown = ballots.filter((b) => b.vote === null).length;
  if (2 * inFavor > voters) return { kind: 'won', inFavor, voters };
  const others = ballots.filter((b) => b.vote !== null && b.vote.master !== self).map((b) => `${b.node} votes for ${b.vote!.master ?? 'no master'}`);
  const tally = `${inFavor} of ${voters} nodes vote for ${self}${others.length ? ` (${others.join(', ')})` : ''}, ${unknown} did not answer`;
  if (2 * (inFavor + unknown) > voters) return { kind: 'retry', reason: tally };
  return { kind: 'lost', reason: `voting cannot be won by ${self}: ${tally}` };
}

/** Gather and judge until the verdict is final or the time is up (then the last reason counts as lost). */
export async function verifyMasterVotes(opts: {
  rpc: RpcClient;
  /** The other nodes; this one votes for itself without a call. */
  nodes: RpcTarget[];
  self: string;
  ownSerial: number;
  timeoutMs: number;
  intervalMs?: number;
  onRetry?: (reason: string) => void;
}): Promise<Verdict> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const own: Ballot = { node: opts.self, vote: { master: opts.self, serial: opts.ownSerial } };
    const verdict = judgeVotes(opts.self, opts.ownSerial, opts.nodes.length + 1, [own, ...await gatherVotes(opts.rpc, opts.nodes)]);
    if (verdict.kind !== 'retry') return verdict;
    if (Date.now() >= deadline) return { kind: 'lost', reason: `most nodes did not answer in ${Math.round(opts.timeoutMs / 1000)} s: ${verdict.reason}` };
    opts.onRetry?.(verdict.reason);
    await new Promise((r) => setTimeout(r, Math.min(opts.intervalMs ?? 1000, Math.max(0, deadline - Date.now()))));
  }
}

/** How long masterd and master-failover wait for the votes (cold start of every node); GANETI_VOTING_TIMEOUT in seconds for tests. */
export function votingTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const s = Number(env.GANETI_VOTING_TIMEOUT);
  return Number.isFinite(s) && s >= 0 ? s * 1000 : 60_000;
}
