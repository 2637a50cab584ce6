// Running an instance allocator (spec/surface.md §7): the request built from the
// configuration (./input.ts), the script found on the allocator search path or the
// built-in hail (./runner.ts), its answer checked as upstream's IAllocator._ValidateResult
// and the requests' ValidateResult. Logical units call the functions below.
import { ECODE, OpExecError, OpPrereqError, ResultValidationError } from '../../core/errors.ts';
import type { LUContext } from '../cmdlib/base.ts';
import { buildInput, requiredNodes, type AllocRequest, type IARequest } from './input.ts';
import { runAllocator } from './runner.ts';

export { iallocatorAvailable, findIAllocator, iallocatorSearchPath, IALLOCATOR_SEARCH_PATH } from './runner.ts';
export { computeDiskSize, requiredNodes, type AllocRequest, type IARequest } from './input.ts';

type Dict = Record<string, unknown>;

/** What an allocator answered, checked. */
export interface IAllocatorRun {
  success: boolean;
  info: string;
  result: unknown;
  /** The input message (in_data) and its text, and the raw answer (out_text). */
  inData: Dict;
  inText: string;
  outText: string;
}

/** The allocator an opcode names, else the cluster's default; null when neither is set. */
export function chooseAllocator(ctx: LUContext, requested: unknown): string | null {
  if (typeof requested === 'string' && requested !== '') return requested;
  const def = (ctx.config.cluster as Dict).default_iallocator;
  return typeof def === 'string' && def !== '' ? def : null;
}

/** The cluster's default_iallocator_params plus a request's own (node-evacuate's ignore-soft-errors). */
function allocatorParams(ctx: LUContext, req: IARequest): Dict {
  const params: Dict = { ...(((ctx.config.cluster as Dict).default_iallocator_params as Dict | undefined) ?? {}) };
  if (req.mode === 'node-evacuate' && req.ignoreSoftErrors) params['ignore-soft-errors'] = null;
  return params;
}

/** Python's str() of a JSON value, for the validation messages. */
function pyRepr(v: unknown): string {
  if (v === null) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'string') return `'${v}'`;
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  if (typeof v === 'object') return `{${Object.entries(v as Dict).map(([k, x]) => `'${k}': ${pyRepr(x)}`).join(', ')}}`;
  return String(v);
}

const isStr = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isStrList = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');
const EVAC_OPS = ['OP_INSTANCE_FAILOVER', 'OP_INSTANCE_MIGRATE', 'OP_INSTANCE_REPLACE_DISKS'];

function invalid(expected: string, got: unknown): ResultValidationError {
  return new ResultValidationError(`iallocator returned invalid result, expected ${expected}, got ${pyRepr(got)}`);
}

/** _NEVAC_RESULT */
function checkEvacResult(result: unknown): void {
  const expected = '[[[instance, group, [node, ...]], ...], [[instance, reason or None], ...], [[opcode, ...], ...]]';
  if (!Array.isArray(result) || result.length !== 3) throw invalid(expected, result);
  const [moved, failed, jobs] = result as unknown[];
  const ok = Array.isArray(moved) && moved.every((m) => Array.isArray(m) && m.length === 3 && isStr(m[0]) && isStr(m[1]) && isStrList(m[2])) &&
    Array.isArray(failed) && failed.every((f) => Array.isArray(f) && f.length === 2 && isStr(f[0]) && (f[1] === null || typeof f[1] === 'string')) &&
    Array.isArray(jobs) && jobs.every((j) => Array.isArray(j) && j.every((o) =>
      o !== null && typeof o === 'object' && !Array.isArray(o) && EVAC_OPS.includes((o as Dict).OP_ID as string)));
  if (!ok) throw invalid(expected, result);
}

/** The request's ValidateResult (only when the allocator reports success). */
function validateResult(ctx: LUContext, req: IARequest, inData: Dict, result: unknown): unknown {
  switch (req.mode) {
    case 'allocate': {
      if (!Array.isArray(result)) throw invalid('list', result);
      const need = requiredNodes(req.disk_template);
      if (result.length !== need) throw new ResultValidationError(`iallocator returned invalid number of nodes (${result.length}), required ${need}`);
      if (!isStrList(result)) throw invalid('list of node names', result);
      return result;
    }
    case 'multi-allocate': {
      if (!Array.isArray(result) || result.length !== 2) throw invalid('[[[instance, [node, ...]], ...], [instance, ...]]', result);
      const [allocated, failed] = result as unknown[];
      const goodAlloc = Array.isArray(allocated) && allocated.every((a) => Array.isArray(a) && a.length === 2 && isStr(a[0]) && isStrList(a[1]));
      // Ganeti's validator wants names in the failed list; htools' hail writes [name, reason]
      // pairs there: both are accepted, the names kept.
      const goodFailed = Array.isArray(failed) && failed.every((f) => isStr(f) || (Array.isArray(f) && f.length === 2 && isStr(f[0])));
      if (!goodAlloc || !goodFailed) throw invalid('[[[instance, [node, ...]], ...], [instance, ...]]', result);
      return [allocated, (failed as unknown[]).map((f) => (Array.isArray(f) ? f[0] : f))];
    }
    case 'relocate': {
      if (!Array.isArray(result) || !isStrList(result)) throw invalid('list', result);
      const nodes = inData.nodes as Record<string, Dict>;
      const groups = inData.nodegroups as Record<string, Dict>;
      const toGroups = (names: string[]) => [...new Set(names.filter((n) => nodes[n]).map((n) => {
        const g = nodes[n].group as string;
        return (groups[g]?.name as string | undefined) ?? g;
      }))].sort();
      const inst = ctx.config.data.instances[req.instUuid];
      const pname = ctx.config.data.nodes[inst.primary_node]?.name ?? inst.primary_node;
      const fromNames = req.relocateFrom.map((u) => ctx.config.data.nodes[u]?.name ?? u);
      const requestGroups = toGroups([...fromNames, pname]);
      const resultGroups = toGroups([...result, pname]);
      if (!resultGroups.every((g) => requestGroups.includes(g))) {
        throw new ResultValidationError(`Groups of nodes returned by iallocator (${resultGroups.join(', ')}) differ from original groups (${requestGroups.join(', ')})`);
      }
      return result;
    }
    case 'node-evacuate':
    case 'change-group':
      checkEvacResult(result);
      return result;
  }
}

/** _ValidateResult: parse the answer and check its keys (and, on success, its result). */
export function parseAnswer(ctx: LUContext, req: IARequest, inData: Dict, outText: string, validate = true): { success: boolean; info: string; result: unknown } {
  let rdict: unknown;
  try {
    rdict = JSON.parse(outText);
  } catch (err) {
    throw new OpExecError(`Can't parse iallocator results: ${(err as Error).message}`);
  }
  if (rdict === null || typeof rdict !== 'object' || Array.isArray(rdict)) throw new OpExecError("Can't parse iallocator results: not a dict");
  const d = rdict as Dict;
  if (Object.hasOwn(d, 'nodes') && !Object.hasOwn(d, 'result')) {
    d.result = d.nodes;
    delete d.nodes;
  }
  for (const k of ['success', 'info', 'result']) {
    if (!Object.hasOwn(d, k)) throw new OpExecError(`Can't parse iallocator results: missing key '${k}'`);
  }
  const success = Boolean(d.success);
  const info = typeof d.info === 'string' ? d.info : pyRepr(d.info);
  const result = validate && success ? validateResult(ctx, req, inData, d.result) : d.result;
  return { success, info, result };
}

/** Build the request's input, run the allocator and check its answer (IAllocator.Run). */
export async function runIAllocatorRequest(ctx: LUContext, name: string, req: IARequest, validate = true): Promise<IAllocatorRun> {
  const inData = await buildInput(ctx, req);
  const inText = JSON.stringify(inData);
  ctx.log.debug({ iallocator: name, mode: req.mode }, 'running iallocator');
  const outText = await runAllocator(ctx.master.paths.root, name, inText, allocatorParams(ctx, req), ctx.signal);
  const parsed = parseAnswer(ctx, req, inData, outText, validate);
  return { ...parsed, inData, inText, outText };
}

/** allocate: the node names for a new instance (primary first); OpPrereqError(ECODE_NORES) when the allocator finds none. */
export async function allocateInstance(ctx: LUContext, allocator: string, req: AllocRequest, opportunistic = false): Promise<string[]> {
  const ial = await runIAllocatorRequest(ctx, allocator, { mode: 'allocate', ...req });
  if (!ial.success) {
    if (opportunistic) ctx.feedback(` - INFO: IAllocator '${allocator}' failed on opportunistically acquired nodes: ${ial.info}`);
    throw new OpPrereqError(`Can't compute nodes using iallocator '${allocator}': ${ial.info}`, opportunistic ? ECODE.TEMP_NORES : ECODE.NORES);
  }
  return ial.result as string[];
}

/** multi-allocate: [[instance, [nodes]], ...] and the names that could not be placed. */
export async function multiAllocate(ctx: LUContext, allocator: string, reqs: AllocRequest[]): Promise<{ allocated: Array<[string, string[]]>; failed: string[] }> {
  const ial = await runIAllocatorRequest(ctx, allocator, { mode: 'multi-allocate', instances: reqs });
  if (!ial.success) throw new OpPrereqError(`Can't compute nodes using iallocator '${allocator}': ${ial.info}`, ECODE.NORES);
  const [allocated, failed] = ial.result as [Array<[string, string[]]>, string[]];
  return { allocated, failed };
}

/** Node uuids from names or uuids. */
function nodeUuids(ctx: LUContext, names: string[]): string[] {
  return names.map((n) => ctx.config.node(n)?.uuid ?? ctx.config.nodeByName(n)?.uuid ?? n);
}

/** relocate: new node names for `instanceName`, away from `relocateFrom` (node names or uuids; same group). */
export async function relocateInstance(ctx: LUContext, allocator: string, instanceName: string, relocateFrom: string[]): Promise<string[]> {
  const inst = Object.values(ctx.config.data.instances).find((i) => i.name === instanceName || i.uuid === instanceName);
  if (!inst) throw new OpPrereqError(`Instance '${instanceName}' not known`, ECODE.NOENT);
  const ial = await runIAllocatorRequest(ctx, allocator, { mode: 'relocate', instUuid: inst.uuid, relocateFrom: nodeUuids(ctx, relocateFrom) });
  if (!ial.success) {
    throw new OpPrereqError(`Can't compute nodes using iallocator '${allocator}': ${ial.info}`, ECODE.NORES);
  }
  return ial.result as string[];
}

export interface EvacuationPlan {
  /** [instance, target group name, [nodes]] */
  moved: Array<[string, string, string[]]>;
  /** [instance, reason or null] */
  failed: Array<[string, string | null]>;
  /** Each inner list is one job's opcodes. */
  jobs: Array<Array<Record<string, unknown>>>;
}

/** node-evacuate: how to move `instances` off their node(s). */
export async function planNodeEvacuation(ctx: LUContext, allocator: string, mode: 'primary-only' | 'secondary-only' | 'all', instances: string[],
  ignoreSoftErrors = false): Promise<EvacuationPlan> {
  const ial = await runIAllocatorRequest(ctx, allocator, { mode: 'node-evacuate', instances, evacMode: mode, ignoreSoftErrors });
  if (!ial.success) {
    throw new OpPrereqError(`Can't compute node evacuation using iallocator '${allocator}': ${ial.info}`, ECODE.NORES);
  }
  const [moved, failed, jobs] = ial.result as [EvacuationPlan['moved'], EvacuationPlan['failed'], EvacuationPlan['jobs']];
  return { moved, failed, jobs };
}

/** change-group: how to move `instances` to one of `targetGroups` (group uuids; empty = any other). */
export async function planGroupChange(ctx: LUContext, allocator: string, instances: string[], targetGroups: string[]): Promise<EvacuationPlan> {
  const ial = await runIAllocatorRequest(ctx, allocator, { mode: 'change-group', instances, targetGroups });
  if (!ial.success) {
    throw new OpPrereqError(`Can't compute solution for changing group of instance(s) '${instances.join(', ')}' using iallocator '${allocator}': ${ial.info}`, ECODE.NORES);
  }
  const [moved, failed, jobs] = ial.result as [EvacuationPlan['moved'], EvacuationPlan['failed'], EvacuationPlan['jobs']];
  return { moved, failed, jobs };
}

/**
 * LoadNodeEvacResult: failed instances stop the operation ("Unable to evacuate instances
 * …"), the moves are announced, and the jobs come back (early_release set on replace-disks).
 */
export function loadNodeEvacResult(ctx: LUContext, plan: EvacuationPlan, earlyRelease: boolean, useNodes: boolean): Array<Array<Record<string, unknown>>> {
  if (plan.failed.length > 0) {
    const reason = plan.failed.map(([name, why]) => `${name} (${why === null ? 'None' : why})`).join(', ');
    ctx.feedback(` - WARNING: Unable to evacuate instances ${reason}`);
    throw new OpExecError(`Unable to evacuate instances ${reason}`);
  }
  if (plan.moved.length > 0) {
    const dest = plan.moved.map(([name, group, nodes]) => `${name} (to ${useNodes ? nodes.join(', ') : group})`).join(', ');
    ctx.feedback(` - INFO: Instances to be moved: ${dest}`);
  }
  return plan.jobs.map((ops) => ops.map((o) => (o.OP_ID === 'OP_INSTANCE_REPLACE_DISKS' ? { ...o, early_release: earlyRelease } : { ...o })));
}
