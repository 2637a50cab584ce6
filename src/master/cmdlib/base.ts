// Logical units: one per opcode, in the module of its object family. The processor
// (src/master/jobs/executor.ts) runs each in Ganeti's phases: checkArguments →
// expandNames → checkPrereq (the opcode is "waiting") → exec (the opcode is "running").
// A logical unit touches nodes only through the RPC client.
import { ECODE, OpPrereqError } from '../../core/errors.ts';
import { validateOpcode, type OpInput } from '../../core/opcodes.ts';
import type { Logger } from '../../util/log.ts';
import type { RpcClient, RpcResult, RpcTarget } from '../../rpc/client.ts';
import { nodedPort } from '../../util/services.ts';
import type { ConfigStore } from '../config/store.ts';
import type { NodeObject } from '../config/model.ts';
import type { Level } from '../locking/manager.ts';
import type { NodePaths } from '../../util/paths.ts';

/** What the master offers logical units beyond configuration and RPC. */
export interface MasterServices {
  /** This (the master) node's name and paths. */
  readonly hostname: string;
  readonly paths: NodePaths;
  /** Submit jobs from inside a job (OP_CLUSTER_VERIFY's result); upstream's JobIdListOnly. */
  submitJobs(jobs: OpInput[][]): Promise<Array<[boolean, number | string]>>;
  /** Give a node that became a master candidate the cluster key, the config and the job queue. */
  seedCandidate(node: NodeObject): Promise<void>;
  /** Take the replicas and the cluster key away from a node that is no longer a candidate. */
  demoteCandidate(node: NodeObject): Promise<void>;
  /** Upload the full configuration to every candidate and ssconf to every online node; failures per node. */
  redistributeConfig(): Promise<Array<{ node: string; error: string }>>;
}

/** Environment and nodes of an LU's hooks (upstream's BuildHooksEnv / BuildHooksNodes). */
export interface HookSpec {
  /** hpath, e.g. "node-add": scripts in etc/ganeti/hooks/<path>-{pre,post}.d */
  path: string;
  /** GANETI_OBJECT_TYPE */
  type: 'CLUSTER' | 'NODE' | 'GROUP' | 'INSTANCE' | 'NETWORK';
  /** Variables without the GANETI_ prefix, which the hooks runner adds. */
  env: Record<string, string | number | boolean | null>;
  /** Node names the pre and post hooks run on. */
  preNodes: string[];
  postNodes: string[];
}

export interface LUContext {
  config: ConfigStore;
  rpc: RpcClient;
  log: Logger;
  master: MasterServices;
  /** Add a line to the job's log (what `gnt-* ` prints while it waits). */
  feedback(message: string): void;
  /** Aborted when the job is cancelled with --kill while it runs. */
  signal: AbortSignal;
  /**
   * Give back this opcode's locks of `level` except `keep` (upstream's ReleaseLocks), e.g.
   * the node locks an allocator did not choose. Absent where no lock manager runs the LU.
   */
  releaseLocks?(level: Level, keep: string[]): void;
}

/** The locks one opcode needs, per level (names null = every lock of the level). */
export interface LockPlan {
  /** The Big Ganeti Lock in shared mode (upstream's REQ_BGL = False). */
  bglShared: boolean;
  levels: Partial<Record<Level, { names: string[] | null; shared: boolean }>>;
}

/** Upstream's default: the BGL exclusively, nothing else. */
export const EXCLUSIVE_BGL: LockPlan = { bglShared: false, levels: {} };

export interface LogicalUnit {
  checkArguments?(): void;
  expandNames?(): void;
  /** Locks to hold from checkPrereq to the end of exec; default EXCLUSIVE_BGL. */
  locks?(): LockPlan;
  checkPrereq?(): void | Promise<void>;
  /**
   * Hooks around exec: pre after checkPrereq, post after a successful exec (called again
   * then, for the post environment). None by default.
   */
  hooks?(): HookSpec | null;
  /** Sees each phase's results per node (upstream's HooksCallBack); after post, its return value is the opcode's result. */
  hooksCallback?(phase: 'pre' | 'post', results: Map<string, RpcResult>, luResult: unknown): unknown;
  exec(): Promise<unknown>;
}

export type LUFactory = (op: OpInput, ctx: LUContext) => LogicalUnit;

/** Where a node's noded listens: its primary IP on the cluster's noded port (/etc/services, else 1811). */
export function rpcTarget(node: NodeObject): RpcTarget {
  const port = Number((node.ndparams as Record<string, unknown>)?.noded_port ?? nodedPort());
  return { name: node.name, address: node.primary_ip, port, offline: node.offline };
}

/** Resolve a node name (or uuid) from an opcode; unknown names are a prerequisite error. */
export function expandNode(ctx: LUContext, name: string): NodeObject {
  const node = ctx.config.node(name) ?? ctx.config.nodeByName(name) ??
    ctx.config.nodes().find((n) => n.name.split('.')[0] === name);
  if (!node) throw new OpPrereqError(`Node '${name}' not known`, ECODE.NOENT);
  return node;
}

/** Raise a failed RPC result the way Ganeti's RpcResult.Raise does. */
export function raiseOnFailure(result: RpcResult, msg: string, errorClass: new (m: string) => Error): unknown {
  if (!result.ok) throw new errorClass(`${msg} (node ${result.node}): ${result.error}`);
  return result.payload;
}

export function logInfo(ctx: LUContext, message: string): void {
  ctx.feedback(` - INFO: ${message}`);
}

/**
 * Submit jobs from inside an opcode (upstream's ResultWithJobs), each opcode given mcpu's
 * _SetBaseOpParams: the parent's debug level and priority, "Submitted by OP_…" as comment,
 * and the parent's reason trail after its own. Answers [ok, job id or error] per job.
 */
export async function submitChildJobs(ctx: LUContext, parent: OpInput, jobs: Array<Array<Record<string, unknown>>>): Promise<Array<[boolean, number | string]>> {
  if (jobs.length === 0) return [];
  return ctx.master.submitJobs(jobs.map((ops) => ops.map((op) => validateOpcode({
    ...op,
    debug_level: parent.debug_level,
    priority: parent.priority,
    comment: (op.comment as string | null | undefined) || `Submitted by ${parent.OP_ID}`,
    reason: [...((op.reason as unknown[] | undefined) ?? []), ...((parent.reason as unknown[]) ?? [])],
  }))));
}
