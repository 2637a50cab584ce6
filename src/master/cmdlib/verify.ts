// Cluster verification: OP_CLUSTER_VERIFY (submits the jobs below), OP_CLUSTER_VERIFY_CONFIG
// and OP_CLUSTER_VERIFY_GROUP, reporting in Ganeti's line style through the job log.
import { OpExecError } from '../../core/errors.ts';
import type { OpInput } from '../../core/opcodes.ts';
import type { LogicalUnit, LUContext } from './base.ts';

const todo = (op: OpInput, _ctx: LUContext): LogicalUnit => ({ exec: async () => { throw new OpExecError(`${op.OP_ID} is not implemented yet`); } });

export const clusterVerify = todo;
export const clusterVerifyConfig = todo;
export const clusterVerifyGroup = todo;
