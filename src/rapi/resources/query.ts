// /2/query/<resource> and /2/query/<resource>/fields (upstream's rlib2 R_2_query*): the
// query2 layer as it is, fields and a filter in, [status, value] cells out.
import { badRequest } from '../errors.ts';
import { checkType } from '../opcode-input.ts';
import { RAPI_ACCESS_READ, RAPI_ACCESS_WRITE } from '../users.ts';
import type { RequestContext } from '../context.ts';
import type { Route } from '../routes.ts';

const READERS = [RAPI_ACCESS_WRITE, RAPI_ACCESS_READ];

const splitFields = (text: string) => text.split(',').map((f) => f.trim());

function queryArgFields(ctx: RequestContext): string[] {
  const fields = ctx.stringArg('fields');
  if (fields === null) throw badRequest("Missing 'fields' query argument");
  return splitFields(fields);
}

/** The answer as upstream's QueryResponse.ToDict() orders it: data first, then the field definitions. */
async function query(ctx: RequestContext, fields: unknown, filter: unknown): Promise<unknown> {
  const r = (await ctx.call('Query', [ctx.items[0], fields, filter])) as { fields: unknown; data: unknown };
  return { data: r.data, fields: r.fields };
}

function put(ctx: RequestContext): Promise<unknown> {
  const body = checkType<Record<string, unknown>>(ctx.body, 'dict', 'Body contents');
  const fields = Object.hasOwn(body, 'fields') ? body.fields : queryArgFields(ctx);
  const filter = body.qfilter ?? body.filter ?? null;
  return query(ctx, fields, filter);
}

export const QUERY_ROUTES: Route[] = [
  ['/2/query/{name}', {
    name: 'query',
    GET: (ctx) => query(ctx, queryArgFields(ctx), null),
    PUT: put,
    access: { GET: READERS, PUT: READERS },
  }],
  ['/2/query/{name}/fields', {
    name: 'query_fields',
    GET: (ctx) => {
      const fields = ctx.stringArg('fields');
      return ctx.call('QueryFields', [ctx.items[0], fields === null ? null : splitFields(fields)]);
    },
  }],
];
