// Cluster-wide resources: /, /2, /version, /2/info, /2/features, /2/os,
// /2/redistribute-config, /2/modify and the cluster tags (upstream's rlib2).
import { HttpError } from '../errors.ts';
import { refuseForbidden } from '../opcode-input.ts';
import type { RequestContext } from '../context.ts';
import type { Route } from '../routes.ts';
import { opcodeHandler, tagsResource, withAliases } from './common.ts';

/** The remote API's version (constants.RAPI_VERSION). */
export const RAPI_VERSION = 2;

/**
 * Optional features clients test for (GET /2/features), in the order real Ganeti 3.0.2
 * lists them (golden rapi-004).
 */
export const RAPI_FEATURES = ['node-migrate-reqv1', 'instance-reinstall-reqv1', 'node-evac-res1', 'instance-create-reqv1'];

/** Parameters of OP_CLUSTER_SET_PARAMS that RAPI may not set. */
const MODIFY_FORBIDDEN = ['compression_tools'];

/** upstream's cli.CalculateOSNames: an OS with variants is only reachable as name+variant. */
function osNames(name: string, variants: unknown): string[] {
  return Array.isArray(variants) && variants.length > 0 ? variants.map((v) => `${name}+${String(v)}`) : [name];
}

/**
 * GET /2/os: the valid, visible OS names (upstream runs OP_OS_DIAGNOSE, whose legacy
 * filter hides hidden, blacklisted and invalid OSes; the same query, without a job).
 */
async function listOses(ctx: RequestContext): Promise<string[]> {
  const filter = ['&', ['!', ['?', 'hidden']], ['!', ['?', 'blacklisted']], ['?', 'valid']];
  const r = (await ctx.call('Query', ['os', ['name', 'variants'], filter])) as { data: Array<Array<[number, unknown]>> };
  if (!r || !Array.isArray(r.data)) throw new HttpError(502, "Can't get OS list");
  return r.data.flatMap(([[, name], [, variants]]) => osNames(String(name), variants));
}

export const CLUSTER_ROUTES: Route[] = [
  ['/', { name: 'root', GET: () => null }],
  ['/2', { name: '2', GET: () => null }],
  ['/version', { name: 'version', GET: () => RAPI_VERSION }],
  ['/2/info', {
    name: 'info',
    GET: async (ctx) => withAliases((await ctx.call('QueryClusterInfo', [])) as Record<string, unknown>,
      { volume_group_name: 'vg_name', drbd_usermode_helper: 'drbd_helper' }),
  }],
  ['/2/features', { name: 'features', GET: () => [...RAPI_FEATURES] }],
  ['/2/os', { name: 'os', GET: listOses }],
  ['/2/redistribute-config', { name: 'redist_config', PUT: opcodeHandler('OP_CLUSTER_REDIST_CONF') }],
  ['/2/modify', {
    name: 'cluster_modify',
    PUT: (ctx) => {
      refuseForbidden([Object.fromEntries(ctx.query), ctx.body as Record<string, unknown> | null], MODIFY_FORBIDDEN);
      return ctx.submitOpcode({ opId: 'OP_CLUSTER_SET_PARAMS', body: ctx.body, fixed: {} });
    },
  }],
  ['/2/tags', tagsResource('tags', 'cluster')],
];

