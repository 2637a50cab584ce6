// The tag commands every tool has: list-tags, add-tags, remove-tags (and gnt-cluster's
// search-tags), for one kind of object, as upstream's cli.ListTags/AddTags/RemoveTags.
import fs from 'node:fs';
import { ECODE, OpPrereqError } from '../../core/errors.ts';
import type { Command, CommandContext } from '../framework.ts';
import { PRINT_JOBID_OPT, PRIORITY_OPT, SUBMIT_OPT, submitAndWait } from '../jobs.ts';
import type { OptionSpec } from '../parser.ts';

export type TagKind = 'cluster' | 'node' | 'nodegroup' | 'instance' | 'network';

const TAG_SRC_OPT: OptionSpec = { flags: ['--from'], dest: 'tags_source', type: 'string', metavar: 'FILE', help: 'File with tag names' };

/** Per kind: the object's argument in usage lines and its words in descriptions. */
const KINDS: Record<TagKind, { arg: string; list: string; add: string; remove: string }> = {
  cluster: { arg: '', list: 'List the tags of the cluster', add: 'Add tags to the cluster', remove: 'Remove tags from the cluster' },
  node: { arg: '<node-name>', list: 'List the tags of the given node', add: 'Add tags to the given node', remove: 'Remove tags from the given node' },
  nodegroup: { arg: '<group>', list: 'List the tags of the given group', add: 'Add tags to the given group', remove: 'Remove tags from the given group' },
  instance: { arg: '<instance-name>', list: 'List the tags of the given instance', add: 'Add tags to the given instance', remove: 'Remove tags from given instance' },
  network: { arg: '<network>', list: 'List the tags of the given network', add: 'Add tags to the given network', remove: 'Remove tags from the given network' },
};

/** _ExtractTagsObject: the cluster's name is "", the other kinds take the first argument. */
function tagsObject(kind: TagKind, args: string[]): [string, string[]] {
  if (kind === 'cluster') return ['', [...args]];
  if (args.length === 0) throw new OpPrereqError('no arguments passed to the command', ECODE.INVAL);
  return [args[0], args.slice(1)];
}

/** _ExtendTags: --from FILE ("-" is stdin) adds one tag per line, each stripped. */
function extendTags(ctx: CommandContext, tags: string[]): string[] {
  const source = ctx.opts.tags_source as string | null;
  if (source === null || source === undefined) return tags;
  const text = fs.readFileSync(source === '-' ? 0 : source, 'utf8');
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  // Python's str.strip() without arguments strips all whitespace.
  return [...tags, ...lines.map((l) => l.trim())];
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** list-tags, add-tags and remove-tags for one kind (the cluster's take no name argument). */
export function tagCommands(kind: TagKind): Command[] {
  const k = KINDS[kind];
  const withArg = (rest: string) => (k.arg ? `${k.arg} ${rest}` : rest);
  const minArgs = kind === 'cluster' ? 0 : 1;
  const change = (opId: 'OP_TAGS_SET' | 'OP_TAGS_DEL', none: string) => async (ctx: CommandContext) => {
    const [name, given] = tagsObject(kind, ctx.args);
    const tags = extendTags(ctx, given);
    if (tags.length === 0) throw new OpPrereqError(none, ECODE.INVAL);
    await submitAndWait(ctx, [{ OP_ID: opId, kind, name, tags }]);
    return 0;
  };
  return [
    {
      name: 'list-tags',
      usage: k.arg,
      description: k.list,
      args: kind === 'cluster' ? { min: 0, max: 0 } : { min: 1, max: 1 },
      options: [],
      async run(ctx) {
        const [name] = tagsObject(kind, ctx.args);
        const tags = (await (await ctx.client()).call('QueryTags', [kind, name])) as string[];
        for (const tag of [...tags].sort(compareStrings)) ctx.out(`${tag}\n`);
        return 0;
      },
    },
    {
      name: 'add-tags',
      usage: withArg('<tag>...'),
      description: k.add,
      args: { min: minArgs, max: null },
      options: [TAG_SRC_OPT, PRIORITY_OPT, SUBMIT_OPT, PRINT_JOBID_OPT],
      run: change('OP_TAGS_SET', 'No tags to be added'),
    },
    {
      name: 'remove-tags',
      usage: withArg('<tag>...'),
      description: k.remove,
      args: { min: minArgs, max: null },
      options: [TAG_SRC_OPT, PRIORITY_OPT, SUBMIT_OPT, PRINT_JOBID_OPT],
      run: change('OP_TAGS_DEL', 'No tags to be removed'),
    },
  ];
}

/** gnt-cluster search-tags PATTERN: "path tag" lines, sorted; exit 1 when nothing matches. */
export const searchTags: Command[] = [{
  name: 'search-tags',
  usage: '',
  description: 'Searches the tags on all objects on the cluster for a given pattern (regex)',
  args: { min: 1, max: 1 },
  options: [PRIORITY_OPT],
  async run(ctx) {
    const [result] = (await submitAndWait(ctx, [{ OP_ID: 'OP_TAGS_SEARCH', pattern: ctx.args[0] }])) as [Array<[string, string]>];
    if (!result || result.length === 0) return 1;
    const sorted = [...result].sort(([p1, t1], [p2, t2]) => compareStrings(p1, p2) || compareStrings(t1, t2));
    for (const [path, tag] of sorted) ctx.out(`${path} ${tag}\n`);
    return 0;
  },
}];
