// /2/networks and below (upstream's rlib2 R_2_networks*): LUXI QueryNetworks and the
// OP_NETWORK_* opcodes (src/master/cmdlib/network.ts).
import type { RequestContext } from '../context.ts';
import type { Route } from '../routes.ts';
import { listOrBulk, oneItem, opcodeHandler, tagsResource } from './common.ts';

/** The fields of a network dictionary (upstream's NET_FIELDS). */
export const NET_FIELDS = [
  'name', 'network', 'gateway', 'network6', 'gateway6', 'mac_prefix', 'free_count', 'reserved_count', 'map', 'group_list',
  'inst_list', 'external_reservations', 'ctime', 'mtime', 'uuid', 'serial_no', 'tags',
] as const;

const networkName = (ctx: RequestContext) => ({ network_name: ctx.items[0] });
const withDryRun = (ctx: RequestContext) => ({ ...networkName(ctx), dry_run: ctx.dryRun });

export const NETWORK_ROUTES: Route[] = [
  ['/2/networks', {
    name: 'networks',
    GET: (ctx) => listOrBulk(ctx, 'QueryNetworks', NET_FIELDS, '/2/networks/', 'name'),
    POST: opcodeHandler('OP_NETWORK_ADD', (ctx) => ({ dry_run: ctx.dryRun }), { name: 'network_name' }),
  }],
  ['/2/networks/{name}', {
    name: 'networks_name',
    GET: (ctx) => oneItem(ctx, 'QueryNetworks', ctx.items[0], NET_FIELDS),
    DELETE: opcodeHandler('OP_NETWORK_REMOVE', withDryRun),
  }],
  ['/2/networks/{name}/connect', { name: 'networks_name_connect', PUT: opcodeHandler('OP_NETWORK_CONNECT', withDryRun) }],
  ['/2/networks/{name}/disconnect', { name: 'networks_name_disconnect', PUT: opcodeHandler('OP_NETWORK_DISCONNECT', withDryRun) }],
  ['/2/networks/{name}/modify', { name: 'networks_name_modify', PUT: opcodeHandler('OP_NETWORK_SET_PARAMS', networkName) }],
  ['/2/networks/{name}/tags', tagsResource('networks_name_tags', 'network')],
];
