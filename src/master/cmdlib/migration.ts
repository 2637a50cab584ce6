// Migration, failover and evacuation logical units (upstream's instance_migration.py,
// node.py's LUNodeMigrate/LUNodeEvacuate, instance_storage.py's LUInstanceReplaceDisks).
import type { LUFactory } from './base.ts';
import { instanceFailover, instanceMigrate } from './instance-migration.ts';
import { instanceReplaceDisks } from './instance-replace-disks.ts';
import { nodeEvacuate, nodeMigrate } from './node-evacuate.ts';

export const MIGRATION_LUS: Readonly<Record<string, LUFactory>> = {
  OP_INSTANCE_MIGRATE: instanceMigrate,
  OP_INSTANCE_FAILOVER: instanceFailover,
  OP_NODE_MIGRATE: nodeMigrate,
  OP_NODE_EVACUATE: nodeEvacuate,
  OP_INSTANCE_REPLACE_DISKS: instanceReplaceDisks,
};
