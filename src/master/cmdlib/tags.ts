// Tag opcodes for every taggable object (cluster, node, nodegroup, instance, network),
// and LUXI's QueryTags.
import { OpExecError } from '../../core/errors.ts';
import type { OpInput } from '../../core/opcodes.ts';
import type { ConfigStore } from '../config/store.ts';
import type { LogicalUnit, LUContext } from './base.ts';

const todo = (op: OpInput, _ctx: LUContext): LogicalUnit => ({ exec: async () => { throw new OpExecError(`${op.OP_ID} is not implemented yet`); } });

export const tagsGet = todo;
export const tagsSet = todo;
export const tagsDel = todo;
export const tagsSearch = todo;

/** LUXI QueryTags: [kind, name] → the object's tags. */
export function queryTags(_config: ConfigStore, _args: unknown[]): string[] {
  throw new OpExecError('QueryTags is not implemented yet');
}
