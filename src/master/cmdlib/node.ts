// Node opcodes: add, remove, modify (roles and parameters).
import { OpExecError } from '../../core/errors.ts';
import type { OpInput } from '../../core/opcodes.ts';
import type { LogicalUnit, LUContext } from './base.ts';

const todo = (op: OpInput, _ctx: LUContext): LogicalUnit => ({ exec: async () => { throw new OpExecError(`${op.OP_ID} is not implemented yet`); } });

export const nodeAdd = todo;
export const nodeRemove = todo;
export const nodeSetParams = todo;
