// noded's handlers for src/rpc/procedures-storage.ts (upstream's noded
// perspective_storage_list / _modify / _execute, which call storage/container.py). A
// StorageError is not an RpcFail: noded answers it as upstream does, "Error while
// executing backend function: <text>".
import type { STORAGE_PROCEDURES } from '../rpc/procedures-storage.ts';
import type { Handler } from './context.ts';
import { executeStorageUnit, listStorageUnits, modifyStorageUnit } from './storage/containers.ts';
import { storageEnv } from './storage/index.ts';

export const STORAGE_BACKEND: Record<keyof typeof STORAGE_PROCEDURES, Handler> = {
  storage_list: (ctx, [type, args, name, fields]) => listStorageUnits(storageEnv(ctx.paths), type, args, name, fields),
  storage_modify: (ctx, [type, args, name, changes]) => modifyStorageUnit(storageEnv(ctx.paths), type, args, name, changes),
  storage_execute: (ctx, [type, args, name, op]) => executeStorageUnit(storageEnv(ctx.paths), type, args, name, op),
};
