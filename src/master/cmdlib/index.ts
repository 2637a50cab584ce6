// OP_ID → logical unit: one static table, so the bundler sees every module.
import type { LUFactory } from './base.ts';
import { clusterDestroy, clusterPostInit, clusterRedistConf, clusterRename, clusterSetParams } from './cluster.ts';
import { groupAdd, groupAssignNodes, groupRemove, groupRename, groupSetParams } from './group.ts';
import { nodeAdd, nodePowercycle, nodeRemove, nodeSetParams } from './node.ts';
import { tagsDel, tagsGet, tagsSearch, tagsSet } from './tags.ts';
import { testDelay } from './test.ts';
import { INSTANCE_LUS } from './instance.ts';
import { QUERY_LUS } from './query.ts';
import { BACKUP_LUS } from './backup.ts';
import { MIGRATION_LUS } from './migration.ts';
import { NETWORK_LUS } from './network.ts';
import { FILTER_LUS } from './filter.ts';
import { ALLOCATION_LUS } from './allocation.ts';
import { STORAGE_LUS } from './node-storage.ts';
import { clusterVerify, clusterVerifyConfig, clusterVerifyGroup } from './verify.ts';

export const LOGICAL_UNITS: Readonly<Record<string, LUFactory>> = {
  OP_CLUSTER_POST_INIT: clusterPostInit,
  OP_CLUSTER_DESTROY: clusterDestroy,
  OP_CLUSTER_SET_PARAMS: clusterSetParams,
  OP_CLUSTER_REDIST_CONF: clusterRedistConf,
  OP_CLUSTER_RENAME: clusterRename,
  OP_CLUSTER_VERIFY: clusterVerify,
  OP_CLUSTER_VERIFY_CONFIG: clusterVerifyConfig,
  OP_CLUSTER_VERIFY_GROUP: clusterVerifyGroup,
  OP_NODE_ADD: nodeAdd,
  OP_NODE_REMOVE: nodeRemove,
  OP_NODE_SET_PARAMS: nodeSetParams,
  OP_NODE_POWERCYCLE: nodePowercycle,
  OP_GROUP_ADD: groupAdd,
  OP_GROUP_SET_PARAMS: groupSetParams,
  OP_GROUP_REMOVE: groupRemove,
  OP_GROUP_RENAME: groupRename,
  OP_GROUP_ASSIGN_NODES: groupAssignNodes,
  OP_TAGS_GET: tagsGet,
  OP_TAGS_SET: tagsSet,
  OP_TAGS_DEL: tagsDel,
  OP_TAGS_SEARCH: tagsSearch,
  OP_TEST_DELAY: testDelay,
  ...INSTANCE_LUS,
  ...QUERY_LUS,
  ...BACKUP_LUS,
  ...MIGRATION_LUS,
  ...NETWORK_LUS,
  ...FILTER_LUS,
  ...ALLOCATION_LUS,
  ...STORAGE_LUS,
};
