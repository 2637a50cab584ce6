// /2/groups and below (upstream's rlib2 R_2_groups*).
import type { Route } from '../routes.ts';
import type { RequestContext } from '../context.ts';
import { listOrBulk, oneItem, opcodeHandler, tagsResource } from './common.ts';

/** The fields of a node group dictionary (upstream's G_FIELDS). */
export const G_FIELDS = [
  'alloc_policy', 'name', 'node_cnt', 'node_list', 'ipolicy', 'custom_ipolicy', 'diskparams', 'custom_diskparams',
  'ndparams', 'custom_ndparams', 'ctime', 'mtime', 'uuid', 'serial_no', 'tags',
] as const;

const groupName = (ctx: RequestContext) => ({ group_name: ctx.items[0] });

export const GROUP_ROUTES: Route[] = [
  ['/2/groups', {
    name: 'groups',
    GET: (ctx) => listOrBulk(ctx, 'QueryGroups', G_FIELDS, '/2/groups/', 'name'),
    POST: opcodeHandler('OP_GROUP_ADD', (ctx) => ({ dry_run: ctx.dryRun }), { name: 'group_name' }),
  }],
  ['/2/groups/{name}', {
    name: 'groups_name',
    GET: (ctx) => oneItem(ctx, 'QueryGroups', ctx.items[0], G_FIELDS),
    DELETE: (ctx) => ctx.submitOpcode({ opId: 'OP_GROUP_REMOVE', body: {}, fixed: { ...groupName(ctx), dry_run: ctx.dryRun } }),
  }],
  ['/2/groups/{name}/modify', {
    name: 'groups_name_modify',
    PUT: opcodeHandler('OP_GROUP_SET_PARAMS', groupName, { custom_ndparams: 'ndparams', custom_ipolicy: 'ipolicy', custom_diskparams: 'diskparams' }),
  }],
  ['/2/groups/{name}/rename', {
    name: 'groups_name_rename',
    PUT: opcodeHandler('OP_GROUP_RENAME', (ctx) => ({ ...groupName(ctx), dry_run: ctx.dryRun })),
  }],
  ['/2/groups/{name}/assign-nodes', {
    name: 'groups_name_assign_nodes',
    PUT: opcodeHandler('OP_GROUP_ASSIGN_NODES', (ctx) => ({ ...groupName(ctx), dry_run: ctx.dryRun, force: ctx.force })),
  }],
  ['/2/groups/{name}/tags', tagsResource('groups_name_tags', 'nodegroup')],
];
