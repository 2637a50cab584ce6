// Test opcodes. OP_TEST_DELAY sleeps on the master itself when on_master (upstream's
// utils.TestDelay in the master process) and through the node RPC test_delay when
// on_nodes names nodes, as upstream's LUTestDelay.
import { setTimeout as sleep } from 'node:timers/promises';
import { OpExecError, OpPrereqError } from '../../core/errors.ts';
import type { OpInput } from '../../core/opcodes.ts';
import { expandNode, logInfo, raiseOnFailure, rpcTarget, type LogicalUnit, type LUContext } from './base.ts';

export function testDelay(op: OpInput, ctx: LUContext): LogicalUnit {
  const duration = op.duration as number;
  const repeat = op.repeat as number;
  let nodeUuids: string[] = [];
  const killed = () => new OpExecError('Job killed while delaying');
  const delay = async () => {
    if (op.on_master) {
      await sleep(duration * 1000, undefined, { signal: ctx.signal }).catch(() => {
        throw killed();
      });
    }
    if ((op.on_nodes as string[]).length === 0) return;
    // Upstream (3.0) calls test_delay on on_node_uuids, which holds the master too when on_master.
    const call = ctx.rpc.callMany(nodeUuids.map((u) => rpcTarget(ctx.config.node(u)!)), 'test_delay', [duration]);
    // A killed job stops waiting; the nodes finish their sleep on their own.
    const aborted = new Promise<never>((_, reject) => {
      if (ctx.signal.aborted) reject(killed());
      ctx.signal.addEventListener('abort', () => reject(killed()), { once: true });
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
