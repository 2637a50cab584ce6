// Hooks on the node: run-parts over etc/ganeti/hooks/<hpath>-<phase>.d (hooks_runner).
import { RpcFail, type NodeContext } from './context.ts';

/** hooks_runner: [hpath, phase, env] → list of [script, status, output]. */
export async function hooksRunner(_ctx: NodeContext, _args: unknown[]): Promise<unknown> {
  throw new RpcFail('hooks_runner is not implemented yet');
}
