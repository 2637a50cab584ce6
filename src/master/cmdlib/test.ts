// Test opcodes. OP_TEST_DELAY sleeps through the node RPC on the chosen nodes (the
// master included when on_master), so a job exercises the whole pipeline.
import { OpExecError, OpPrereqError } from '../../core/errors.ts';
import type { OpInput } from '../../core/opcodes.ts';
import { expandNode, logInfo, raiseOnFailure, rpcTarget, type LogicalUnit, type LUContext } from './base.ts';

export function testDelay(op: OpInput, ctx: LUContext): LogicalUnit {
  const duration = op.duration as number;
  const repeat = op.repeat as number;
  let nodeUuids: string[] = [];
  const delay = async () => {
    const targets = nodeUuids.map((u) => rpcTarget(ctx.config.node(u)!));
    const call = ctx.rpc.callMany(targets, 'test_delay', [duration]);
    // A killed job stops waiting; the nodes finish their sleep on their own.
    const aborted = new Promise<never>((_, reject) => {
      if (ctx.signal.aborted) reject(new OpExecError('Job killed while delaying'));
      ctx.signal.addEventListener('abort', () => reject(new OpExecError('Job killed while delaying')), { once: true });
    });
    const results = await Promise.race([call, aborted]);
    for (const r of results.values()) raiseOnFailure(r, 'Failure during rpc call', OpExecError);
  };
  return {
    checkArguments() {
      if (!(duration > 0)) throw new OpPrereqError('Duration must be greater than zero');
    },
    expandNames() {
      nodeUuids = (op.on_nodes as string[]).map((n) => expandNode(ctx, n).uuid);
      if (op.on_master) {
        const master = ctx.config.cluster.master_node;
        if (!nodeUuids.includes(master)) nodeUuids.push(master);
      }
      op.on_node_uuids = nodeUuids;
    },
    locks() {
      // REQ_BGL is false; node locks unless no_locks, as upstream's LUTestDelay.
      return { bglShared: true, levels: op.no_locks ? {} : { node: { names: nodeUuids, shared: false } } };
    },
    async exec() {
      if (repeat === 0) {
        await delay();
      } else {
        for (let i = 0; i < repeat; i++) {
          logInfo(ctx, `Test delay iteration ${i}/${repeat - 1}`);
          await delay();
        }
      }
      return null;
    },
  };
}
