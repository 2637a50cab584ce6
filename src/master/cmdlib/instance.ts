// Instance logical units (upstream's cmdlib/instance*.py), one module per family:
// create, remove, state (startup/shutdown/reboot), reinstall and rename, set-params,
// disks (activate/deactivate/grow/recreate) and console. The query-side opcodes
// (OP_INSTANCE_QUERY_DATA) are in query.ts, the backup ones in backup.ts.
import type { LUFactory } from './base.ts';
import { instanceConsole } from './instance-console.ts';
import { instanceCreate } from './instance-create.ts';
import { instanceActivateDisks, instanceDeactivateDisks, instanceGrowDisk, instanceRecreateDisks } from './instance-disks.ts';
import { instanceReinstall, instanceRename } from './instance-reinstall.ts';
import { instanceRemove } from './instance-remove.ts';
import { instanceSetParams } from './instance-set-params.ts';
import { instanceReboot, instanceShutdown, instanceStartup } from './instance-state.ts';

export const INSTANCE_LUS: Readonly<Record<string, LUFactory>> = {
  OP_INSTANCE_CREATE: instanceCreate,
  OP_INSTANCE_REMOVE: instanceRemove,
  OP_INSTANCE_STARTUP: instanceStartup,
  OP_INSTANCE_SHUTDOWN: instanceShutdown,
  OP_INSTANCE_REBOOT: instanceReboot,
  OP_INSTANCE_REINSTALL: instanceReinstall,
  OP_INSTANCE_RENAME: instanceRename,
  OP_INSTANCE_SET_PARAMS: instanceSetParams,
  OP_INSTANCE_ACTIVATE_DISKS: instanceActivateDisks,
  OP_INSTANCE_DEACTIVATE_DISKS: instanceDeactivateDisks,
  OP_INSTANCE_GROW_DISK: instanceGrowDisk,
  OP_INSTANCE_RECREATE_DISKS: instanceRecreateDisks,
  OP_INSTANCE_CONSOLE: instanceConsole,
};
