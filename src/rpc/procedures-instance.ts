// Node-RPC procedures for instances and their disks (spec/core.md §4.3 "Instances" and
// "Block devices"): hypervisor calls and blockdev_*, with upstream's timeout classes
// (lib/rpc_defs.py). noded's handlers are in src/node/instance-backend.ts.
import { RPC_TMO } from '../core/constants.ts';
import type { ProcedureSpec } from './procedures.ts';

export const INSTANCE_PROCEDURES = {
  instance_start: { timeout: RPC_TMO.NORMAL },
  instance_shutdown: { timeout: RPC_TMO.NORMAL },
  instance_reboot: { timeout: RPC_TMO.NORMAL },
  instance_list: { timeout: RPC_TMO.URGENT },
  all_instances_info: { timeout: RPC_TMO.URGENT },
  instance_info: { timeout: RPC_TMO.URGENT },
  instance_console_info: { timeout: RPC_TMO.URGENT },
  instance_balloon_memory: { timeout: RPC_TMO.NORMAL },
  blockdev_create: { timeout: RPC_TMO.NORMAL },
  blockdev_remove: { timeout: RPC_TMO.NORMAL },
  blockdev_assemble: { timeout: RPC_TMO.NORMAL },
  blockdev_shutdown: { timeout: RPC_TMO.NORMAL },
  blockdev_grow: { timeout: RPC_TMO.NORMAL },
  blockdev_wipe: { timeout: RPC_TMO.SLOW },
  blockdev_pause_resume_sync: { timeout: RPC_TMO.NORMAL },
  blockdev_find: { timeout: RPC_TMO.NORMAL },
  blockdev_getdimensions: { timeout: RPC_TMO.NORMAL },
  blockdev_rename: { timeout: RPC_TMO.NORMAL },
  file_storage_dir_create: { timeout: RPC_TMO.FAST },
  file_storage_dir_remove: { timeout: RPC_TMO.FAST },
  file_storage_dir_rename: { timeout: RPC_TMO.FAST },
  vg_list: { timeout: RPC_TMO.URGENT },
} satisfies Record<string, ProcedureSpec>;
