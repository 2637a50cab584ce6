// The `group` query resource.
import type { Field } from '../../core/query.ts';
import type { ConfigData, NodeGroupObject } from './model.ts';
import type { ConfigStore } from './store.ts';

export interface GroupView {
  group: NodeGroupObject;
  config: ConfigData;
}

export const GROUP_FIELDS: ReadonlyMap<string, Field<GroupView>> = new Map();

export function groupViews(config: ConfigStore): GroupView[] {
  return config.groups().map((group) => ({ group, config: config.data }));
}
