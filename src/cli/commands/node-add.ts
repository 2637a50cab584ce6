// gnt-node add: joins the new node over the authenticated RPC, then submits OP_NODE_ADD.
import type { Command } from '../framework.ts';
import { exitWith } from '../framework.ts';

export const add: Command = {
  name: 'add',
  usage: '[-s ip] [--readd] [--join-token TOKEN] <node-name>',
  description: 'Add a node to the cluster',
  args: { min: 1, max: 1 },
  options: [],
  run: async () => exitWith('gnt-node add is not implemented yet'),
};
