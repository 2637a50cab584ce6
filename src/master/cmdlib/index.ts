// OP_ID → logical unit: one static table, so the bundler sees every module.
import type { LUFactory } from './base.ts';
import { clusterDestroy, clusterPostInit, clusterSetParams } from './cluster.ts';
import { testDelay } from './test.ts';

export const LOGICAL_UNITS: Readonly<Record<string, LUFactory>> = {
  OP_CLUSTER_POST_INIT: clusterPostInit,
  OP_CLUSTER_DESTROY: clusterDestroy,
  OP_CLUSTER_SET_PARAMS: clusterSetParams,
  OP_TEST_DELAY: testDelay,
};
