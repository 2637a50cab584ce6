// What every node procedure gets: the node's paths, its name and its log.
import type { NodePaths } from '../util/paths.ts';
import type { Logger } from '../util/log.ts';

export interface NodeContext {
  paths: NodePaths;
  hostname: string;
  log: Logger;
}

/** A procedure's failure, sent back to the master as [false, message]. */
export class RpcFail extends Error {}

export type Handler = (ctx: NodeContext, args: unknown[]) => unknown;
