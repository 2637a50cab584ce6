// Node-group opcodes: add, modify, remove, rename, assign nodes.
import { OpExecError } from '../../core/errors.ts';
import type { OpInput } from '../../core/opcodes.ts';
import type { LogicalUnit, LUContext } from './base.ts';

const todo = (op: OpInput, _ctx: LUContext): LogicalUnit => ({ exec: async () => { throw new OpExecError(`${op.OP_ID} is not implemented yet`); } });

export const groupAdd = todo;
export const groupSetParams = todo;
export const groupRemove = todo;
export const groupRename = todo;
export const groupAssignNodes = todo;
