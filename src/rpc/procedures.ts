// The node-RPC procedure table shared by both sides (spec/core.md §4.3): name, timeout
// class and whether offline nodes are still contacted. The master's client and noded's
// dispatcher both read it, so a procedure cannot exist on one side only.
import { RPC_TMO } from '../core/constants.ts';
import { INSTANCE_PROCEDURES } from './procedures-instance.ts';
import { OS_PROCEDURES } from './procedures-os.ts';
import { MIGRATION_PROCEDURES } from './procedures-migration.ts';
import { HYPERVISOR_PROCEDURES } from './procedures-hypervisor.ts';
import { STORAGE_PROCEDURES } from './procedures-storage.ts';

export interface ProcedureSpec {
  /** Read timeout in seconds, or a function of the arguments (test_delay). */
  timeout: number | ((args: unknown[]) => number);
  /** Offline nodes are contacted for this call (version, node_powercycle). */
  allowOffline?: boolean;
}

export const PROCEDURES = {
  version: { timeout: RPC_TMO.URGENT, allowOffline: true },
  node_info: { timeout: RPC_TMO.URGENT },
  test_delay: { timeout: (args: unknown[]) => Math.floor(Number(args[0]) + 5) },
  write_ssconf_files: { timeout: RPC_TMO.NORMAL },
  jobqueue_update: { timeout: RPC_TMO.URGENT },
  jobqueue_rename: { timeout: RPC_TMO.URGENT },
  jobqueue_set_drain_flag: { timeout: RPC_TMO.URGENT },
  set_watcher_pause: { timeout: RPC_TMO.URGENT },
  hooks_runner: { timeout: RPC_TMO.NORMAL },
  node_verify: { timeout: RPC_TMO.NORMAL },
  config_update: { timeout: RPC_TMO.URGENT },
  upload_file_single: { timeout: RPC_TMO.NORMAL },
  set_cluster_key: { timeout: RPC_TMO.URGENT },
  node_demote_from_mc: { timeout: RPC_TMO.URGENT },
  node_leave_cluster: { timeout: RPC_TMO.NORMAL },
  run_command: { timeout: RPC_TMO.FAST },
  master_node_name: { timeout: RPC_TMO.URGENT, allowOffline: true },
  master_vote: { timeout: RPC_TMO.URGENT, allowOffline: true },
  node_stop_master: { timeout: RPC_TMO.FAST },
  node_start_master_daemons: { timeout: RPC_TMO.FAST },
  node_release_config: { timeout: RPC_TMO.URGENT },
  node_activate_master_ip: { timeout: RPC_TMO.FAST },
  node_deactivate_master_ip: { timeout: RPC_TMO.FAST },
  node_change_master_netmask: { timeout: RPC_TMO.FAST },
  copy_file: { timeout: RPC_TMO.NORMAL },
  node_powercycle: { timeout: RPC_TMO.NORMAL, allowOffline: true },
  ...INSTANCE_PROCEDURES,
  ...OS_PROCEDURES,
  ...MIGRATION_PROCEDURES,
  ...HYPERVISOR_PROCEDURES,
  ...STORAGE_PROCEDURES,
} satisfies Record<string, ProcedureSpec>;

export type ProcedureName = keyof typeof PROCEDURES;

export function isProcedure(name: string): name is ProcedureName {
  return Object.hasOwn(PROCEDURES, name);
}

export function procedureTimeout(name: ProcedureName, args: unknown[]): number {
  const t = (PROCEDURES[name] as ProcedureSpec).timeout;
  return typeof t === 'function' ? t(args) : t;
}

/** The compressed-blob encoding of jobqueue_update/upload_file: [0, text] or [1, base64(zlib)]. */
export const RPC_ENCODING_NONE = 0;
export const RPC_ENCODING_ZLIB_BASE64 = 1;
