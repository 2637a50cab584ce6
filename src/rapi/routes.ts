// The RAPI routing table (upstream's rapi/connector.py): URL patterns to resources. A
// resource has a handler per HTTP method it supports and the rights each method needs
// (by default none for GET, `write` for PUT, POST and DELETE).
import type { RequestContext } from './context.ts';
import { RAPI_ACCESS_WRITE } from './users.ts';
import { CLUSTER_ROUTES } from './resources/cluster.ts';
import { NODE_ROUTES } from './resources/nodes.ts';
import { GROUP_ROUTES } from './resources/groups.ts';
import { INSTANCE_ROUTES } from './resources/instances.ts';
import { JOB_ROUTES } from './resources/jobs.ts';
import { QUERY_ROUTES } from './resources/query.ts';
import { NETWORK_ROUTES } from './resources/networks.ts';
import { FILTER_ROUTES } from './resources/filters.ts';

export const METHODS = ['GET', 'PUT', 'POST', 'DELETE'] as const;
export type Method = (typeof METHODS)[number];

export type Handler = (ctx: RequestContext) => unknown;

export interface Resource {
  /** Upstream's class name without "R_2_" (e.g. instances_name_shutdown): the reason trail names it. */
  name: string;
  GET?: Handler;
  PUT?: Handler;
  POST?: Handler;
  DELETE?: Handler;
  access?: Partial<Record<Method, readonly string[]>>;
}

/** A route: a path whose `{name}`, `{job}` and `{disk}` parts are variables. */
export type Route = [pattern: string, resource: Resource];

const DEFAULT_ACCESS: Record<Method, readonly string[]> = { GET: [], PUT: [RAPI_ACCESS_WRITE], POST: [RAPI_ACCESS_WRITE], DELETE: [RAPI_ACCESS_WRITE] };

/** The rights a method of a resource needs (empty: none). */
export function accessFor(resource: Resource, method: Method): readonly string[] {
  return resource.access?.[method] ?? DEFAULT_ACCESS[method];
}

/** Upstream's URI patterns: names `[\w._-]+`, job ids and disk indices digits. */
const VARIABLES: Record<string, string> = { name: '[\\w._-]+', job: '\\d+', disk: '\\d+' };

interface CompiledRoute {
  regex: RegExp;
  resource: Resource;
}

export class Router {
  private readonly exact = new Map<string, Resource>();
  private readonly patterns: CompiledRoute[] = [];

  constructor(routes: readonly Route[]) {
    for (const [pattern, resource] of routes) {
      if (!pattern.includes('{')) {
        this.exact.set(pattern, resource);
        continue;
      }
      const source = pattern.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{(\w+)\}/g, (_, v: string) => {
        if (!VARIABLES[v]) throw new Error(`unknown URI variable {${v}} in ${pattern}`);
        return `(${VARIABLES[v]})`;
      });
      this.patterns.push({ regex: new RegExp(`^${source}$`), resource });
    }
  }

  /** The resource for a path and the variables it captured; null when nothing matches. */
  match(path: string): { resource: Resource; items: string[] } | null {
    const exact = this.exact.get(path);
    if (exact) return { resource: exact, items: [] };
    for (const { regex, resource } of this.patterns) {
      const m = regex.exec(path);
      if (m) return { resource, items: m.slice(1) };
    }
    return null;
  }
}

export const RAPI_ROUTES: readonly Route[] = [
  ...CLUSTER_ROUTES,
  ...NODE_ROUTES,
  ...INSTANCE_ROUTES,
  ...NETWORK_ROUTES,
  ...GROUP_ROUTES,
  ...JOB_ROUTES,
  ...QUERY_ROUTES,
  ...FILTER_ROUTES,
];
