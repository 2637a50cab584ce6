// Job filter rules applied to the queue (upstream's doc/design-optables.rst and
// src/Ganeti/JQScheduler/Filtering.hs, ReasonRateLimiting.hs). Rules are taken in order of
// priority, then watermark, then uuid; the rule that *applies* to a job is the first whose
// predicates all match and whose action is not CONTINUE. ACCEPT runs the job, PAUSE keeps
// it queued, REJECT cancels it, RATE_LIMIT n lets at most n jobs it applies to run at once.
// Only queued jobs that have not started are filtered; a started job keeps running.
// Besides the rules, a reason "rate-limit:N:<label>" in a job's reason trail puts the job in
// a bucket of which at most N jobs run at once (the ad-hoc rate limiting of the design).
import type { Job } from '../../core/jobs.ts';
import { isRawJson } from '../../core/json.ts';
import type { FilterRuleObject } from '../config/model.ts';

export const FILTER_ACTIONS = ['ACCEPT', 'PAUSE', 'REJECT', 'CONTINUE'] as const;
export const FILTER_PREDICATES = ['jobid', 'opcode', 'reason'] as const;

/** Upstream's filterRuleOrder: priority, then watermark, then uuid. */
export function compareRules(a: FilterRuleObject, b: FilterRuleObject): number {
  return a.priority - b.priority || a.watermark - b.watermark || (a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0);
}

/** A value of a filter or of a job: numbers (big ones as BigInt) and strings compare; anything else is not comparable. */
type Scalar = string | number | bigint | boolean | null;

class Invalid extends Error {}

function scalar(v: unknown): Scalar | undefined {
  if (isRawJson(v)) return BigInt(v.rawJSON);
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean' || v === null) return v;
  return undefined;
}

function isNum(v: Scalar | undefined): v is number | bigint {
  return typeof v === 'number' || typeof v === 'bigint';
}

/** Ordering of two scalars: numbers numerically, strings by code unit; mixed kinds: strings first (Haskell's derived Ord). */
function order(a: Scalar, b: Scalar): number {
  if (isNum(a) && isNum(b)) {
    if (typeof a === 'bigint' || typeof b === 'bigint') {
      const [x, y] = [BigInt(a), BigInt(b)];
      return x < y ? -1 : x > y ? 1 : 0;
    }
    return a - b;
  }
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  const rank = (v: Scalar) => (typeof v === 'string' ? 0 : isNum(v) ? 1 : 2);
  return rank(a) - rank(b) || (a === b ? 0 : 1);
}

const COMPARISONS: Record<string, (c: number) => boolean> = {
  '=': (c) => c === 0, '==': (c) => c === 0, '!=': (c) => c !== 0,
  '<': (c) => c < 0, '>': (c) => c > 0, '<=': (c) => c <= 0, '>=': (c) => c >= 0,
};

/**
 * Evaluate a query-language filter against one item: `field(name)` gives the item's value
 * of a field (throw Invalid for a field the predicate does not know), `value(v)` maps a
 * filter value (the jobid predicate's "watermark"). Malformed filters throw Invalid.
 */
function evaluate(filter: unknown, field: (name: string) => unknown, value: (v: unknown) => Scalar = (v) => scalar(v) ?? null): boolean {
  if (!Array.isArray(filter) || filter.length === 0 || typeof filter[0] !== 'string') throw new Invalid('bad filter');
  const [op, ...rest] = filter as [string, ...unknown[]];
  switch (op) {
    case '&': return rest.every((f) => evaluate(f, field, value));
    case '|': return rest.some((f) => evaluate(f, field, value));
    case '!':
      if (rest.length !== 1) throw new Invalid('! takes one operand');
      return !evaluate(rest[0], field, value);
    case '?': {
      const v = field(String(rest[0]));
      return Array.isArray(v) ? v.length > 0 : Boolean(scalar(v));
    }
    case '=~': {
      const v = field(String(rest[0]));
      if (typeof v !== 'string' || typeof rest[1] !== 'string') return false;
      try {
        return new RegExp(rest[1]).test(v);
      } catch {
        throw new Invalid('bad regular expression');
      }
    }
    case '=[]': {
      const v = field(String(rest[0]));
      const want = value(rest[1]);
      return Array.isArray(v) && v.some((x) => { const s = scalar(x); return s !== undefined && order(s, want) === 0; });
    }
    default: {
      const cmp = COMPARISONS[op];
      if (!cmp || rest.length !== 2 || typeof rest[0] !== 'string') throw new Invalid(`bad operator ${op}`);
      const v = scalar(field(rest[0]));
      if (v === undefined) return false;
      return cmp(order(v, value(rest[1])));
    }
  }
}

/** A dotted path into an opcode ("OP_ID", "beparams.memory"); a missing key makes the predicate fail. */
function opcodeField(op: Record<string, unknown>, path: string): unknown {
  let v: unknown = op;
  for (const key of path.split('.')) {
    if (v === null || typeof v !== 'object' || Array.isArray(v) || !Object.hasOwn(v, key)) throw new Invalid(`no field ${path}`);
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

function reasonsOf(job: Job): unknown[][] {
  return job.ops.flatMap((op) => (Array.isArray(op.input.reason) ? op.input.reason as unknown[][] : []));
}

/** Whether one predicate holds for the job. */
export function matchPredicate(job: Job, watermark: number, predicate: unknown[]): boolean {
  const [name, filter] = predicate;
  try {
    switch (name) {
      case 'jobid':
        return evaluate(filter, (f) => {
          if (f !== 'id') throw new Invalid(`no field ${f}`);
          return job.id;
        }, (v) => {
          if (v === 'watermark') return watermark;
          if (typeof v === 'string') throw new Invalid('jobid compares with numbers or "watermark"');
          return scalar(v) ?? null;
        });
      case 'opcode':
        return job.ops.some((op) => {
          try {
            return evaluate(filter, (f) => opcodeField(op.input, f));
          } catch (err) {
            if (err instanceof Invalid) return false;
            throw err;
          }
        });
      case 'reason':
        return reasonsOf(job).some(([source, reason, timestamp]) => evaluate(filter, (f) => {
          if (f === 'source') return source;
          if (f === 'reason') return reason;
          if (f === 'timestamp') return timestamp;
          throw new Invalid(`no field ${f}`);
        }));
      default:
        return false;
    }
  } catch (err) {
    if (err instanceof Invalid) return false;
    throw err;
  }
}

export function matches(job: Job, rule: FilterRuleObject): boolean {
  return rule.predicates.every((p) => Array.isArray(p) && matchPredicate(job, rule.watermark, p));
}

/** The rule that applies to the job (rules already in order), or null. */
export function applyingRule(ordered: readonly FilterRuleObject[], job: Job): FilterRuleObject | null {
  for (const rule of ordered) if (rule.action !== 'CONTINUE' && matches(job, rule)) return rule;
  return null;
}

function rateLimit(rule: FilterRuleObject): number | null {
  return Array.isArray(rule.action) && rule.action[0] === 'RATE_LIMIT' ? Number(rule.action[1]) : null;
}

const REASON_LIMIT = /^rate-limit:(\d+):/;

/** A job's reasons never change once submitted: the scheduler asks for its buckets at every round. */
const bucketsSeen = new WeakMap<Job, Map<string, number>>();

/** The ad-hoc rate-limit buckets of a job: reason texts "rate-limit:N:…" with their N. */
export function reasonBuckets(job: Job): Map<string, number> {
  const seen = bucketsSeen.get(job);
  if (seen) return seen;
  const out = new Map<string, number>();
  bucketsSeen.set(job, out);
  for (const r of reasonsOf(job)) {
    const text = Array.isArray(r) ? r[1] : undefined;
    const m = typeof text === 'string' ? REASON_LIMIT.exec(text) : null;
    if (m && Number(m[1]) > 0) out.set(text as string, Number(m[1]));
  }
  return out;
}

export type Verdict = 'run' | 'hold' | 'reject';

/**
 * One scheduling round: the rules (any order) and the jobs already started. `decide` says
 * what to do with a queued job, taken in the order they would start; a job it lets run
 * takes its rate-limit slots at once. Without rules and buckets every job runs.
 */
export class JobFilterGate {
  private readonly ordered: FilterRuleObject[];
  private readonly ruleCount = new Map<string, number>();
  private readonly bucketCount = new Map<string, number>();
  private readonly applying = new Map<number, FilterRuleObject | null>();
  readonly trivial: boolean;

  constructor(rules: Iterable<FilterRuleObject>, running: Iterable<Job>) {
    this.ordered = [...rules].sort(compareRules);
    let anyBucket = false;
    for (const job of running) {
      const rule = this.ordered.length > 0 ? applyingRule(this.ordered, job) : null;
      if (rule && rateLimit(rule) !== null) this.ruleCount.set(rule.uuid, (this.ruleCount.get(rule.uuid) ?? 0) + 1);
      for (const bucket of reasonBuckets(job).keys()) {
        anyBucket = true;
        this.bucketCount.set(bucket, (this.bucketCount.get(bucket) ?? 0) + 1);
      }
    }
    this.trivial = this.ordered.length === 0 && !anyBucket;
  }

  get hasReject(): boolean {
    return this.ordered.some((r) => r.action === 'REJECT');
  }

  /** The rule that applies to a job (cached for this round). */
  rule(job: Job): FilterRuleObject | null {
    if (this.ordered.length === 0) return null;
    if (!this.applying.has(job.id)) this.applying.set(job.id, applyingRule(this.ordered, job));
    return this.applying.get(job.id)!;
  }

  decide(job: Job): Verdict {
    if (this.trivial && reasonBuckets(job).size === 0) return 'run';
    const rule = this.rule(job);
    if (rule?.action === 'REJECT') return 'reject';
    if (rule?.action === 'PAUSE') return 'hold';
    const buckets = reasonBuckets(job);
    for (const [bucket, limit] of buckets) if ((this.bucketCount.get(bucket) ?? 0) >= limit) return 'hold';
    const limit = rule ? rateLimit(rule) : null;
    if (rule && limit !== null) {
      const used = this.ruleCount.get(rule.uuid) ?? 0;
      if (used >= limit) return 'hold';
      this.ruleCount.set(rule.uuid, used + 1);
    }
    for (const bucket of buckets.keys()) this.bucketCount.set(bucket, (this.bucketCount.get(bucket) ?? 0) + 1);
    return 'run';
  }
}
