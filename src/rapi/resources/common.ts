// Helpers the resource families share (upstream's baserlib): URI lists, rows mapped to
// dictionaries, single-item lookups that answer 404, and the tag resources.
import { badRequest, notFound } from '../errors.ts';
import type { RequestContext } from '../context.ts';
import type { Resource } from '../routes.ts';

/** `[{<idKey>: id, uri: "<prefix><id>"}]`, sorted by id as upstream sorts (numbers numerically). */
export function uriList(ids: Array<string | number>, prefix: string, idKey: 'id' | 'name' | 'uuid'): Array<Record<string, unknown>> {
  const sorted = [...ids].sort((a, b) => (typeof a === 'number' && typeof b === 'number' ? a - b : String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0));
  return sorted.map((id) => ({ [idKey]: id, uri: `${prefix}${id}` }));
}

/** One row of a classic query as a dictionary of the fields asked. */
export function mapFields(names: readonly string[], row: readonly unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  names.forEach((n, i) => { out[n] = row[i]; });
  return out;
}

/** Add aliases to a dictionary answer (upstream's GET_ALIASES): alias ← value of the field. */
export function withAliases(result: Record<string, unknown>, aliases: Record<string, string>): Record<string, unknown> {
  for (const [field, alias] of Object.entries(aliases)) if (Object.hasOwn(result, field)) result[alias] = result[field];
  return result;
}

/** The rows of a classic LUXI query (QueryInstances, QueryNodes, QueryGroups, QueryNetworks). */
export async function classicQuery(ctx: RequestContext, method: string, names: string[], fields: readonly string[]): Promise<unknown[][]> {
  return (await ctx.call(method, [names, fields, false])) as unknown[][];
}

/** The one item a URL names, as a dictionary of `fields`; 404 when there is no such item. */
export async function oneItem(ctx: RequestContext, method: string, name: string, fields: readonly string[]): Promise<Record<string, unknown>> {
  const rows = await classicQuery(ctx, method, [name], fields);
  if (rows.length === 0) throw notFound();
  return mapFields(fields, rows[0]);
}

/** A list resource's GET: URIs, or with ?bulk=1 every item's fields. */
export async function listOrBulk(ctx: RequestContext, method: string, fields: readonly string[], prefix: string, idKey: 'id' | 'name'): Promise<unknown> {
  if (ctx.bulk) return (await classicQuery(ctx, method, [], fields)).map((row) => mapFields(fields, row));
  return uriList((await classicQuery(ctx, method, [], ['name'])).map((row) => String(row[0])), prefix, idKey);
}

/** The body-driven opcode handler (upstream's generic handler): body + the URL's fixed parameters. */
export function opcodeHandler(opId: string, fixed: (ctx: RequestContext) => Record<string, unknown> = () => ({}), rename?: Record<string, string>) {
  return (ctx: RequestContext) => ctx.submitOpcode({ opId, body: ctx.body, fixed: fixed(ctx), rename });
}

/**
 * Tags of the cluster (kind "cluster", no name in the URL) or of the object the URL names:
 * GET lists them; PUT adds and DELETE removes the `tag=` query arguments, as a job.
 */
export function tagsResource(name: string, kind: 'cluster' | 'node' | 'instance' | 'nodegroup' | 'network'): Resource {
  const objectName = (ctx: RequestContext) => (kind === 'cluster' ? null : ctx.items[0]);
  const change = (opId: string) => (ctx: RequestContext) => ctx.submitOpcode({
    opId,
    body: {},
    fixed: { kind, name: objectName(ctx), tags: ctx.query.get('tag') ?? [], dry_run: ctx.dryRun },
  });
  return {
    name,
    GET: async (ctx) => [...(await ctx.call('QueryTags', [kind, objectName(ctx) ?? ''])) as string[]],
    PUT: change('OP_TAGS_SET'),
    DELETE: change('OP_TAGS_DEL'),
  };
}

/** A body that must be absent or a dictionary (for handlers that read keys from it). */
export function bodyDict(ctx: RequestContext): Record<string, unknown> {
  if (ctx.body === null) return {};
  if (typeof ctx.body !== 'object' || Array.isArray(ctx.body)) throw badRequest('Invalid body contents, not a dictionary');
  return ctx.body as Record<string, unknown>;
}
