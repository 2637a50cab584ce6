// The `filter` query resource (job filter rules; Ganeti 3.0's src/Ganeti/Query/FilterRules.hs)
// and the checks luxid's decoding makes on a rule (objects.FilterRule, FilterAction,
// FilterPredicate).
import type { Field, FieldKind } from '../../core/query.ts';
import { isJsonInteger } from '../../core/json.ts';
import type { ConfigData, FilterRuleObject } from './model.ts';

const f = (name: string, title: string, kind: FieldKind, doc: string, get: (r: FilterRuleObject) => unknown): Field<FilterRuleObject> =>
  ({ name, title, kind, doc, get });

export const FILTER_FIELDS: ReadonlyMap<string, Field<FilterRuleObject>> = new Map([
  f('watermark', 'Watermark', 'other', 'Highest job ID used at the time when the filter was added', (r) => r.watermark),
  f('priority', 'Priority', 'other', 'Filter priority', (r) => r.priority),
  f('predicates', 'Predicates', 'other', 'List of filter predicates', (r) => r.predicates),
  f('action', 'Action', 'other', 'Filter action', (r) => r.action),
  f('reason_trail', 'ReasonTrail', 'other', 'Reason why this filter was added', (r) => r.reason_trail),
  f('uuid', 'UUID', 'other', 'Filter ID', (r) => r.uuid),
].map((x) => [x.name, x]));

/** Every rule, by uuid as luxid keeps them. */
export function filterViews(data: ConfigData): FilterRuleObject[] {
  return Object.values(data.filters ?? {}).sort((a, b) => (a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0));
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(s: unknown): s is string {
  return typeof s === 'string' && UUID_RE.test(s);
}

/** What is wrong with an action (null when it is one): "ACCEPT" … or ["RATE_LIMIT", n], n > 0. */
export function actionError(action: unknown): string | null {
  if (typeof action === 'string') return ['ACCEPT', 'PAUSE', 'REJECT', 'CONTINUE'].includes(action) ? null : `unknown filter action '${action}'`;
  if (Array.isArray(action) && action.length === 2 && action[0] === 'RATE_LIMIT') {
    return typeof action[1] === 'number' && Number.isInteger(action[1]) && action[1] > 0 ? null : 'RATE_LIMIT needs a positive integer';
  }
  return `invalid filter action ${JSON.stringify(action)}`;
}

/** A query-language filter's shape: [op, ...] with known operators. */
function filterShapeError(filter: unknown): string | null {
  if (!Array.isArray(filter) || filter.length === 0 || typeof filter[0] !== 'string') return `invalid filter ${JSON.stringify(filter)}`;
  const [op, ...rest] = filter as [string, ...unknown[]];
  if (op === '&' || op === '|') {
    for (const sub of rest) {
      const e = filterShapeError(sub);
      if (e) return e;
    }
    return null;
  }
  if (op === '!') return rest.length === 1 ? filterShapeError(rest[0]) : "'!' takes exactly one operand";
  if (op === '?') return rest.length === 1 && typeof rest[0] === 'string' ? null : "'?' takes a field name";
  if (['=', '==', '!=', '<', '>', '<=', '>=', '=~', '=[]'].includes(op)) {
    if (rest.length !== 2 || typeof rest[0] !== 'string') return `operator '${op}' takes a field and a value`;
    const v = rest[1];
    return typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v)) ? null : `value for '${op}' must be a string or integer`;
  }
  return `unknown filter operator '${op}'`;
}

/** What is wrong with a predicate list (null when it is fine): [["jobid"|"opcode"|"reason", filter], ...]. */
export function predicatesError(predicates: unknown): string | null {
  if (!Array.isArray(predicates)) return 'predicates must be a list';
  for (const p of predicates) {
    if (!Array.isArray(p) || p.length !== 2 || !['jobid', 'opcode', 'reason'].includes(p[0] as string)) {
      return `invalid filter predicate ${JSON.stringify(p)} (expected ["jobid"|"opcode"|"reason", <filter>])`;
    }
    const e = filterShapeError(p[1]);
    if (e) return e;
  }
  return null;
}

/** What is wrong with a reason trail (null when it is fine): [[source, reason, timestamp], ...]. */
export function reasonError(reason: unknown): string | null {
  if (!Array.isArray(reason)) return 'the reason trail must be a list';
  const ok = reason.every((r) => Array.isArray(r) && r.length === 3 && typeof r[0] === 'string' && typeof r[1] === 'string' && isJsonInteger(r[2]));
  return ok ? null : 'the reason trail must be a list of [source, reason, timestamp]';
}
