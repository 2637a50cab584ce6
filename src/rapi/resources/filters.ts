// /2/filters and /2/filters/<uuid> (upstream's rlib2 R_2_filters*): job filter rules,
// through LUXI's QueryFilters, ReplaceFilter and DeleteFilter (src/master/cmdlib/filter.ts).
import { badRequest, notFound } from '../errors.ts';
import { checkType } from '../opcode-input.ts';
import type { RequestContext } from '../context.ts';
import type { Route } from '../routes.ts';
import { mapFields, uriList } from './common.ts';

/** The fields of a filter rule (upstream's FILTER_RULE_FIELDS). */
export const FILTER_RULE_FIELDS = ['watermark', 'priority', 'predicates', 'action', 'reason_trail', 'uuid'] as const;

const ALLOWED = ['priority', 'predicates', 'action', 'reason'];

/** A filter rule's body (upstream's checkFilterParameters): [priority, predicates, action, reason]. */
function ruleArgs(body: unknown): unknown[] {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badRequest('Invalid body contents, not a dictionary');
  const b = body as Record<string, unknown>;
  for (const k of Object.keys(b)) {
    if (!ALLOWED.includes(k)) throw badRequest(`Invalid body parameters: filter rule doesn't support the parameter '${k}'`);
  }
  const get = (k: string, dflt: unknown) => (Object.hasOwn(b, k) ? b[k] : dflt);
  return [
    checkType(get('priority', 0), 'int', "'priority' parameter"),
    checkType(get('predicates', []), 'list', "'predicates' parameter"),
    get('action', 'CONTINUE'),
    checkType(get('reason', []), 'list', "'reason' parameter"),
  ];
}

async function listFilters(ctx: RequestContext): Promise<unknown> {
  if (ctx.bulk) return ((await ctx.call('QueryFilters', [null, FILTER_RULE_FIELDS])) as unknown[][]).map((r) => mapFields(FILTER_RULE_FIELDS, r));
  const rows = (await ctx.call('QueryFilters', [null, ['uuid']])) as unknown[][];
  return uriList(rows.map((r) => String(r[0])), '/2/filters/', 'uuid');
}

async function getFilter(ctx: RequestContext): Promise<unknown> {
  const rows = (await ctx.call('QueryFilters', [[ctx.items[0]], FILTER_RULE_FIELDS])) as unknown[][];
  if (rows.length === 0 || rows[0] === null) throw notFound();
  return mapFields(FILTER_RULE_FIELDS, rows[0]);
}

export const FILTER_ROUTES: Route[] = [
  ['/2/filters', {
    name: 'filters',
    GET: listFilters,
    POST: (ctx) => ctx.call('ReplaceFilter', [null, ...ruleArgs(ctx.body)]),
  }],
  ['/2/filters/{name}', {
    name: 'filters_uuid',
    GET: getFilter,
    PUT: (ctx) => ctx.call('ReplaceFilter', [ctx.items[0], ...ruleArgs(ctx.body)]),
    DELETE: (ctx) => ctx.call('DeleteFilter', [ctx.items[0]]),
  }],
];
