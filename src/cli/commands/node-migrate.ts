// gnt-node migrate and evacuate (upstream's gnt_node.py MigrateNode, EvacuateNode): ask
// which instances are affected, confirm, submit OP_NODE_MIGRATE / OP_NODE_EVACUATE, then
// follow the jobs the opcode submitted, one per instance, as upstream's JobExecutor does.
import { EXIT_CONFIRMATION, EXIT_FAILURE, EXIT_SUCCESS } from '../../core/constants.ts';
import { ECODE, OpPrereqError } from '../../core/errors.ts';
import { niceSort } from '../../master/config/ssconf.ts';
import { askUser } from '../confirm.ts';
import type { Command, CommandContext } from '../framework.ts';
import { PRINT_JOBID_OPT, PRIORITY_OPT, SUBMIT_OPT, submitAndWait } from '../jobs.ts';
import type { OptionSpec } from '../parser.ts';
import { followJobs } from './cluster-verify.ts';
import { IALLOCATOR_OPT, IGNORE_IPOLICY_OPT } from './instance-create.ts';
import { DST_NODE_OPT, EARLY_RELEASE_OPT, MIGRATION_MODE_OPT, NONLIVE_OPT, NORUNTIME_CHGS_OPT, migrationMode } from './instance-migrate.ts';

const FORCE_OPT: OptionSpec = { flags: ['-f', '--force'], dest: 'force', help: 'Force the operation' };
const SUBMIT_OPTS = [SUBMIT_OPT, PRINT_JOBID_OPT];

/** Rows of the classic QueryNodes call for the named nodes (unknown names are an error). */
async function queryNodes(ctx: CommandContext, names: string[], fields: string[]): Promise<unknown[][]> {
  const rows = (await (await ctx.client()).call('QueryNodes', [names, fields, false])) as unknown[][];
  if (rows.length < names.length) throw new OpPrereqError(`Node '${names[rows.length] ?? names[0]}' not known`, ECODE.NOENT);
  return rows;
}

/** The jobs an opcode submitted (its result's "jobs"), followed to their ends. */
async function followSubmitted(ctx: CommandContext, result: unknown): Promise<number> {
  const jobs = (result as { jobs?: Array<[boolean, number | string]> } | null)?.jobs ?? [];
  const results = await followJobs(ctx, jobs);
  return results.filter(([ok]) => !ok).length;
}

const migrate: Command = {
  name: 'migrate',
  usage: '[-f] <node>',
  description: 'Migrate all the primary instance on a node away from it (only for instances of type drbd)',
  args: { min: 1, max: 1 },
  options: [FORCE_OPT, NONLIVE_OPT, MIGRATION_MODE_OPT, DST_NODE_OPT, IALLOCATOR_OPT, PRIORITY_OPT, IGNORE_IPOLICY_OPT, NORUNTIME_CHGS_OPT,
    ...SUBMIT_OPTS],
  async run(ctx) {
    const [[node, pinstRaw]] = await queryNodes(ctx, ctx.args, ['name', 'pinst_list']);
    const pinst = niceSort((pinstRaw as string[] | null) ?? []);
    if (pinst.length === 0) {
      ctx.out(`No primary instances on node ${String(node)}, exiting.\n`);
      return EXIT_SUCCESS;
    }
    if (!ctx.opts.force && !(await askUser(`Migrate instance(s) ${pinst.join(', ')}?`))) return EXIT_CONFIRMATION;
    const mode = migrationMode(ctx);
    const [result] = await submitAndWait(ctx, [{
      OP_ID: 'OP_NODE_MIGRATE', node_name: ctx.args[0], mode, iallocator: ctx.opts.iallocator ?? null, target_node: ctx.opts.dst_node ?? null,
      allow_runtime_changes: ctx.opts.allow_runtime_chgs !== false, ignore_ipolicy: Boolean(ctx.opts.ignore_ipolicy),
    }]);
    const bad = await followSubmitted(ctx, result);
    if (bad === 0) {
      ctx.out('All instances migrated successfully.\n');
      return EXIT_SUCCESS;
    }
    ctx.out(`There were ${bad} errors during the node migration.\n`);
    return EXIT_FAILURE;
  },
};

const evacuate: Command = {
  name: 'evacuate',
  usage: '[-f] {-I <iallocator> | -n <dst>} [-p | -s] [options...] <node>',
  description: 'Relocate the primary and/or secondary instances from a node',
  args: { min: 1, max: 1 },
  options: [FORCE_OPT, IALLOCATOR_OPT,
    { flags: ['-n', '--new-secondary'], dest: 'dst_node', type: 'string', metavar: 'NODE', help: 'Specifies the new secondary node' },
    EARLY_RELEASE_OPT, PRIORITY_OPT,
    { flags: ['-p', '--primary-only'], dest: 'primary_only', help: 'Evacuate primary instances only' },
    { flags: ['-s', '--secondary-only'], dest: 'secondary_only', help: 'Evacuate secondary instances only (applies only to internally mirrored disk templates, e.g. drbd)' },
    ...SUBMIT_OPTS],
  async run(ctx) {
    const o = ctx.opts;
    if (o.dst_node !== null && o.dst_node !== undefined) {
      ctx.err('New secondary node given (disabling iallocator), hence evacuating secondary instances only.\n');
      o.secondary_only = true;
      o.primary_only = false;
    }
    let mode: string;
    if (o.secondary_only && o.primary_only) {
      throw new OpPrereqError('Only one of the --primary-only and --secondary-only options can be passed', ECODE.INVAL);
    } else if (o.primary_only) mode = 'primary-only';
    else if (o.secondary_only) mode = 'secondary-only';
    else mode = 'all';
    const fields: string[] = [];
    if (!o.secondary_only) fields.push('pinst_list');
    if (!o.primary_only) fields.push('sinst_list');
    const rows = await queryNodes(ctx, ctx.args, fields);
    const instances = [...new Set(rows.flatMap((row) => row.flatMap((cell) => (cell as string[] | null) ?? [])))];
    if (instances.length === 0) {
      ctx.err(`No instances to evacuate on node(s) ${ctx.args.join(', ')}, exiting.\n`);
      return EXIT_SUCCESS;
    }
    if (!o.force && !(await askUser(`Relocate instance(s) ${niceSort(instances).join(', ')} from node(s) ${ctx.args.join(', ')}?`))) {
      return EXIT_CONFIRMATION;
    }
    const [result] = await submitAndWait(ctx, [{
      OP_ID: 'OP_NODE_EVACUATE', node_name: ctx.args[0], mode, remote_node: o.dst_node ?? null, iallocator: o.iallocator ?? null,
      early_release: Boolean(o.early_release),
    }]);
    const bad = await followSubmitted(ctx, result);
    if (bad === 0) {
      ctx.out('All instances evacuated successfully.\n');
      return EXIT_SUCCESS;
    }
    ctx.out(`There were ${bad} errors during the evacuation.\n`);
    return EXIT_FAILURE;
  },
};

export const nodeMoveCommands: Command[] = [evacuate, migrate];
