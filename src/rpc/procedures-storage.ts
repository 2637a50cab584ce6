// Node-RPC procedures for storage units (upstream's lib/rpc_defs.py _STORAGE_CALLS: names,
// argument order and timeout class). noded's handlers are in src/node/storage-backend.ts.
//   storage_list    [su_name, su_args, name, fields]  → rows, one value per field
//   storage_modify  [su_name, su_args, name, changes] → null
//   storage_execute [su_name, su_args, name, op]      → null
// su_name is the storage type (file, sharedfile, gluster, lvm-pv, lvm-vg); su_args are the
// type's arguments ([[directory, ...]] for the file types, [] for LVM); name is null to
// list every unit.
import { RPC_TMO } from '../core/constants.ts';
import type { ProcedureSpec } from './procedures.ts';

export const STORAGE_PROCEDURES = {
  storage_list: { timeout: RPC_TMO.NORMAL },
  storage_modify: { timeout: RPC_TMO.NORMAL },
  storage_execute: { timeout: RPC_TMO.NORMAL },
} satisfies Record<string, ProcedureSpec>;
