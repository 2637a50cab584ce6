// node_verify on the node: the checks the master asks for in `gnt-cluster verify`.
import { RpcFail, type NodeContext } from './context.ts';

/** node_verify: [checkdict, cluster_name, all_hvparams] → results per check. */
export async function nodeVerify(_ctx: NodeContext, _args: unknown[]): Promise<unknown> {
  throw new RpcFail('node_verify is not implemented yet');
}
