// /2/nodes and below (upstream's rlib2 R_2_nodes*): listing, one node, its role, its
// parameters, evacuation, migration, power cycling, storage units and tags.
import { badRequest, notFound } from '../errors.ts';
import { checkType } from '../opcode-input.ts';
import { RAPI_ACCESS_WRITE } from '../users.ts';
import type { RequestContext } from '../context.ts';
import type { Route } from '../routes.ts';
import { classicQuery, listOrBulk, oneItem, opcodeHandler, tagsResource, withAliases } from './common.ts';

/** The fields of a node dictionary (upstream's N_FIELDS). */
export const N_FIELDS = [
  'name', 'offline', 'master_candidate', 'drained', 'dtotal', 'dfree', 'sptotal', 'spfree', 'mtotal', 'mnode', 'mfree',
  'pinst_cnt', 'sinst_cnt', 'ctotal', 'cnos', 'cnodes', 'csockets', 'pip', 'sip', 'role', 'pinst_list', 'sinst_list',
  'master_capable', 'vm_capable', 'ndparams', 'group.uuid', 'ctime', 'mtime', 'uuid', 'serial_no', 'tags',
] as const;

/** The role letters of the `role` field and the names RAPI uses for them. */
const ROLE_NAMES: Record<string, string> = { M: 'master', C: 'master-candidate', D: 'drained', O: 'offline', R: 'regular' };

/** The flags OP_NODE_SET_PARAMS gets for a role set through PUT /2/nodes/<n>/role. */
function roleFlags(role: string): { master_candidate: boolean | null; offline: boolean | null; drained: boolean | null } {
  switch (role) {
    case 'regular': return { master_candidate: false, offline: false, drained: false };
    case 'master-candidate': return { master_candidate: true, offline: null, drained: null };
    case 'drained': return { master_candidate: null, offline: null, drained: true };
    case 'offline': return { master_candidate: null, offline: true, drained: null };
    default: throw badRequest(`Can't set '${role}' role`);
  }
}

async function getRole(ctx: RequestContext): Promise<string> {
  const rows = await classicQuery(ctx, 'QueryNodes', [ctx.items[0]], ['role']);
  if (rows.length === 0) throw notFound();
  return ROLE_NAMES[String(rows[0][0])] ?? String(rows[0][0]);
}

function setRole(ctx: RequestContext): Promise<unknown> {
  const role = checkType<string>(ctx.body, 'str', 'Body contents');
  return ctx.submitOpcode({
    opId: 'OP_NODE_SET_PARAMS',
    body: {},
    fixed: { node_name: ctx.items[0], ...roleFlags(role), force: ctx.force, auto_promote: Boolean(ctx.intArg('auto-promote', 0)) },
  });
}

/** POST /2/nodes/<n>/migrate: the body, or the legacy query form (`live` or `mode`, not both). */
function migrate(ctx: RequestContext): Promise<unknown> {
  let body: unknown = ctx.body;
  if (ctx.query.size > 0) {
    if (ctx.query.has('live') && ctx.query.has('mode')) throw badRequest("Only one of 'live' and 'mode' should be passed");
    const mode = ctx.query.has('live') ? (ctx.intArg('live', 1) ? 'live' : 'non-live') : ctx.stringArg('mode');
    body = { mode };
  }
  return ctx.submitOpcode({ opId: 'OP_NODE_MIGRATE', body, fixed: { node_name: ctx.items[0] } });
}

function queryStorage(ctx: RequestContext): Promise<unknown> {
  const outputFields = ctx.stringArg('output_fields');
  if (!outputFields) throw badRequest("Missing the required 'output_fields' parameter");
  return ctx.submitOpcode({
    opId: 'OP_NODE_QUERY_STORAGE',
    body: {},
    fixed: { nodes: [ctx.items[0]], storage_type: ctx.stringArg('storage_type'), output_fields: outputFields.split(',') },
  });
}

function storageName(ctx: RequestContext): string {
  const name = ctx.stringArg('name');
  if (!name) throw badRequest("Missing the required 'name' parameter");
  return name;
}

function modifyStorage(ctx: RequestContext): Promise<unknown> {
  const name = storageName(ctx);
  const changes: Record<string, unknown> = {};
  if (ctx.query.has('allocatable')) changes.allocatable = Boolean(ctx.intArg('allocatable', 1));
  return ctx.submitOpcode({
    opId: 'OP_NODE_MODIFY_STORAGE',
    body: {},
    fixed: { node_name: ctx.items[0], storage_type: ctx.stringArg('storage_type'), name, changes },
  });
}

function repairStorage(ctx: RequestContext): Promise<unknown> {
  const name = storageName(ctx);
  return ctx.submitOpcode({
    opId: 'OP_REPAIR_NODE_STORAGE',
    body: {},
    fixed: { node_name: ctx.items[0], storage_type: ctx.stringArg('storage_type'), name },
  });
}

const nodeName = (ctx: RequestContext) => ({ node_name: ctx.items[0] });

export const NODE_ROUTES: Route[] = [
  ['/2/nodes', { name: 'nodes', GET: (ctx) => listOrBulk(ctx, 'QueryNodes', N_FIELDS, '/2/nodes/', 'id') }],
  ['/2/nodes/{name}', {
    name: 'nodes_name',
    GET: async (ctx) => withAliases(await oneItem(ctx, 'QueryNodes', ctx.items[0], N_FIELDS), { sip: 'secondary_ip' }),
  }],
  ['/2/nodes/{name}/powercycle', {
    name: 'nodes_name_powercycle',
    POST: opcodeHandler('OP_NODE_POWERCYCLE', (ctx) => ({ ...nodeName(ctx), force: ctx.force })),
  }],
  ['/2/nodes/{name}/tags', tagsResource('nodes_name_tags', 'node')],
  ['/2/nodes/{name}/role', { name: 'nodes_name_role', GET: getRole, PUT: setRole }],
  ['/2/nodes/{name}/evacuate', {
    name: 'nodes_name_evacuate',
    POST: opcodeHandler('OP_NODE_EVACUATE', (ctx) => ({ ...nodeName(ctx), dry_run: ctx.dryRun })),
  }],
  ['/2/nodes/{name}/migrate', { name: 'nodes_name_migrate', POST: migrate }],
  ['/2/nodes/{name}/modify', { name: 'nodes_name_modify', POST: opcodeHandler('OP_NODE_SET_PARAMS', nodeName) }],
  ['/2/nodes/{name}/storage', { name: 'nodes_name_storage', GET: queryStorage, access: { GET: [RAPI_ACCESS_WRITE] } }],
  ['/2/nodes/{name}/storage/modify', { name: 'nodes_name_storage_modify', PUT: modifyStorage }],
  ['/2/nodes/{name}/storage/repair', { name: 'nodes_name_storage_repair', PUT: repairStorage }],
];
