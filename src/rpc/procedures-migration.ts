// Node-RPC procedures for instance migration (upstream's lib/rpc_defs.py: names,
// argument order and timeout classes). noded's handlers are in src/node/migration-backend.ts.
//   instance_migratable             [inst]                       → null, or fails when not running
//   migration_info                  [inst]                       → opaque info for the target
//   accept_instance                 [inst, info, target_ip]      → null (on the target)
//   instance_migrate                [cluster_name, inst, target_ip, live] → null (on the source)
//   instance_get_migration_status   [inst]                       → {status, transferred_ram?, total_ram?}
//   instance_finalize_migration_dst [inst, info, success]        → null (on the target)
//   instance_finalize_migration_src [inst, success, live]        → null (on the source)
//   blockdev_open                   [instance_name, disks, exclusive] → null (each disk must be there)
//   blockdev_close                  [instance_name, disks]       → null (each disk must be there)
//   bridges_exist                   [[bridge, ...]]              → null, or fails naming the missing ones
// Upstream has no abort procedure: a failed migration is undone by the two finalize calls
// with success=false.
import { RPC_TMO } from '../core/constants.ts';
import type { ProcedureSpec } from './procedures.ts';

export const MIGRATION_PROCEDURES = {
  instance_migratable: { timeout: RPC_TMO.NORMAL },
  migration_info: { timeout: RPC_TMO.NORMAL },
  accept_instance: { timeout: RPC_TMO.NORMAL },
  instance_finalize_migration_dst: { timeout: RPC_TMO.NORMAL },
  instance_migrate: { timeout: RPC_TMO.SLOW },
  instance_finalize_migration_src: { timeout: RPC_TMO.SLOW },
  instance_get_migration_status: { timeout: RPC_TMO.SLOW },
  blockdev_open: { timeout: RPC_TMO.NORMAL },
  blockdev_close: { timeout: RPC_TMO.NORMAL },
  bridges_exist: { timeout: RPC_TMO.URGENT },
} satisfies Record<string, ProcedureSpec>;
