// The tag commands every tool has: list-tags, add-tags, remove-tags (and gnt-cluster's
// search-tags), for one kind of object.
import type { Command } from '../framework.ts';

export type TagKind = 'cluster' | 'node' | 'nodegroup' | 'instance' | 'network';

/** list-tags, add-tags and remove-tags for one kind (the cluster's take no name argument). */
export function tagCommands(_kind: TagKind): Command[] {
  return [];
}

/** gnt-cluster search-tags PATTERN */
export const searchTags: Command[] = [];
