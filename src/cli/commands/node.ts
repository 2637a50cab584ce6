// gnt-node: node administration.
import { toolMain, type Command } from '../framework.ts';
import { LIST_FIELDS_OPTIONS, LIST_OPTIONS, UNITS_OPTION, runList, runListFields } from '../list.ts';
import { makeNameFilter } from '../filter-parser.ts';

const list: Command = {
  name: 'list',
  usage: '[<node-name>...]',
  description: 'Lists the nodes in the cluster. The available fields can be shown using the "list-fields" command (see the man page for details). The default field list is (in order): name, dtotal, dfree, mtotal, mnode, mfree, pinst_cnt, sinst_cnt.',
  args: { min: 0, max: null },
  options: [...LIST_OPTIONS, UNITS_OPTION],
  run: (ctx) => runList(ctx, {
    resource: 'node',
    // The live fields (disk, memory, instance counts) arrive with node management.
    defaultFields: ['name', 'pip', 'sip', 'role', 'group'],
    joinedFields: ['tags'],
    filter: (c) => makeNameFilter(c.args, { forceFilter: Boolean(c.opts.force_filter) }),
  }),
};

const listFields: Command = {
  name: 'list-fields',
  usage: '[<fields>...]',
  description: 'Lists all available fields for nodes',
  args: { min: 0, max: null },
  options: LIST_FIELDS_OPTIONS,
  run: (ctx) => runListFields(ctx, 'node'),
};

export const main = toolMain('gnt-node', [list, listFields]);
