// gnt-instance migrate, failover and replace-disks (upstream's gnt_instance.py
// MigrateInstance, FailoverInstance, ReplaceDisks): the confirmation texts, the option
// checks made before anything is submitted, and the opcodes.
import { ECODE, OpPrereqError } from '../../core/errors.ts';
import { askUser } from '../confirm.ts';
import type { Command, CommandContext } from '../framework.ts';
import { DRY_RUN_OPT, PRINT_JOBID_OPT, PRIORITY_OPT, SUBMIT_OPT, submitAndWait } from '../jobs.ts';
import type { OptionSpec } from '../parser.ts';
import { IALLOCATOR_OPT, IGNORE_IPOLICY_OPT } from './instance-create.ts';

const FORCE_OPT: OptionSpec = { flags: ['-f', '--force'], dest: 'force', help: 'Force the operation' };
const SUBMIT_OPTS = [SUBMIT_OPT, PRINT_JOBID_OPT];
const SHUTDOWN_TIMEOUT_OPT: OptionSpec = { flags: ['--shutdown-timeout'], dest: 'shutdown_timeout', type: 'int', default: 120, help: 'Maximum time to wait for instance shutdown' };
export const NONLIVE_OPT: OptionSpec = {
  flags: ['--non-live'], dest: 'live', type: 'false',
  help: 'Do a non-live migration (this usually means freeze the instance, save the state, transfer and only then resume running on the secondary node)',
};
export const MIGRATION_MODE_OPT: OptionSpec = {
  flags: ['--migration-mode'], dest: 'migration_mode', type: 'choice', choices: ['live', 'non-live'],
  help: 'Override default migration mode (choose either live or non-live',
};
const CLEANUP_OPT: OptionSpec = {
  flags: ['--cleanup'], dest: 'cleanup',
  help: 'Instead of performing the migration/failover, try to recover from a failed cleanup. This is safe to run even if the instance is healthy, but it will create extra replication traffic and  disrupt briefly the replication (like during the migration/failover',
};
export const DST_NODE_OPT: OptionSpec = { flags: ['-n', '--target-node'], dest: 'dst_node', type: 'string', metavar: 'NODE', help: 'Specifies the new node for the instance' };
const ALLOW_FAILOVER_OPT: OptionSpec = { flags: ['--allow-failover'], dest: 'allow_failover', help: 'If migration is not possible fallback to failover' };
const IGNORE_HVVERSIONS_OPT: OptionSpec = { flags: ['--ignore-hvversions'], dest: 'ignore_hvversions', help: 'Ignore incompatible hypervisor versions between source and target' };
export const NORUNTIME_CHGS_OPT: OptionSpec = { flags: ['--no-runtime-changes'], dest: 'allow_runtime_chgs', type: 'false', help: "Don't allow runtime changes" };
const IGNORE_CONSIST_OPT: OptionSpec = {
  flags: ['--ignore-consistency'], dest: 'ignore_consistency',
  help: 'Ignore the consistency of the disks on the secondary. The source node must be marked offline first for this to succeed.',
};
export const EARLY_RELEASE_OPT: OptionSpec = { flags: ['--early-release'], dest: 'early_release', help: 'Release the locks on the secondary node(s) early' };
const INT_MIRROR = 'drbd';

/** _EnsureInstancesExist for one name (asked before a confirmation prompt). */
async function ensureInstanceExists(ctx: CommandContext, name: string): Promise<void> {
  const rows = (await (await ctx.client()).call('QueryInstances', [[name], ['name'], false])) as unknown[][];
  if (!rows[0] || rows[0][0] === null) throw new OpPrereqError(`Instance '${name}' does not exist`, ECODE.NOENT);
}

function checkIallocatorOrNode(ctx: CommandContext): void {
  if (ctx.opts.iallocator && ctx.opts.dst_node) {
    throw new OpPrereqError('Specify either an iallocator (-I), or a target node (-n) but not both', ECODE.INVAL);
  }
}

/** --non-live and --migration-mode exclude each other; the opcode's mode. */
export function migrationMode(ctx: CommandContext): string | null {
  if (ctx.opts.live === false && ctx.opts.migration_mode !== null && ctx.opts.migration_mode !== undefined) {
    throw new OpPrereqError('Only one of the --non-live and --migration-mode options can be passed', ECODE.INVAL);
  }
  return ctx.opts.live === false ? 'non-live' : (ctx.opts.migration_mode ?? null);
}

export const migrate: Command = {
  name: 'migrate',
  usage: '[-f] <instance-name>',
  description: 'Migrate instance to its secondary node (only for mirrored instances)',
  args: { min: 1, max: 1 },
  options: [FORCE_OPT, NONLIVE_OPT, MIGRATION_MODE_OPT, CLEANUP_OPT, DRY_RUN_OPT, PRIORITY_OPT, DST_NODE_OPT, IALLOCATOR_OPT,
    ALLOW_FAILOVER_OPT, IGNORE_IPOLICY_OPT, IGNORE_HVVERSIONS_OPT, NORUNTIME_CHGS_OPT, ...SUBMIT_OPTS],
  async run(ctx) {
    const name = ctx.args[0];
    checkIallocatorOrNode(ctx);
    if (!ctx.opts.force) {
      await ensureInstanceExists(ctx, name);
      const text = ctx.opts.cleanup
        ? `Instance ${name} will be recovered from a failed migration. Note that the migration procedure (including cleanup)`
        : `Instance ${name} will be migrated. Note that migration`;
      if (!(await askUser(`${text} might impact the instance if anything goes wrong (e.g. due to bugs in the hypervisor). Continue?`))) return 1;
    }
    const mode = migrationMode(ctx);
    await submitAndWait(ctx, [{
      OP_ID: 'OP_INSTANCE_MIGRATE', instance_name: name, mode, cleanup: Boolean(ctx.opts.cleanup), iallocator: ctx.opts.iallocator ?? null,
      target_node: ctx.opts.dst_node ?? null, allow_failover: Boolean(ctx.opts.allow_failover),
      allow_runtime_changes: ctx.opts.allow_runtime_chgs !== false, ignore_ipolicy: Boolean(ctx.opts.ignore_ipolicy),
      ignore_hvversions: Boolean(ctx.opts.ignore_hvversions),
    }]);
    return 0;
  },
};

export const failover: Command = {
  name: 'failover',
  usage: '[-f] <instance-name>',
  description: 'Stops the instance, changes its primary node and (if it was originally running) starts it on the new node ' +
    '(the secondary for mirrored instances or any node for shared storage).',
  args: { min: 1, max: 1 },
  options: [FORCE_OPT, IGNORE_CONSIST_OPT, ...SUBMIT_OPTS, SHUTDOWN_TIMEOUT_OPT, DRY_RUN_OPT, PRIORITY_OPT, DST_NODE_OPT, IALLOCATOR_OPT,
    IGNORE_IPOLICY_OPT, CLEANUP_OPT],
  async run(ctx) {
    const name = ctx.args[0];
    checkIallocatorOrNode(ctx);
    if (!ctx.opts.force) {
      await ensureInstanceExists(ctx, name);
      if (!(await askUser(`Failover will happen to image ${name}. This requires a shutdown of the instance. Continue?`))) return 1;
    }
    if (ctx.opts.ignore_consistency) {
      if (!(await askUser(`To failover instance ${name}, the source node must be marked offline first. Is this already the case?`))) return 1;
    }
    // As upstream, --cleanup is accepted and not passed on: a failover cleans nothing up.
    await submitAndWait(ctx, [{
      OP_ID: 'OP_INSTANCE_FAILOVER', instance_name: name, ignore_consistency: Boolean(ctx.opts.ignore_consistency),
      shutdown_timeout: ctx.opts.shutdown_timeout, iallocator: ctx.opts.iallocator ?? null, target_node: ctx.opts.dst_node ?? null,
      ignore_ipolicy: Boolean(ctx.opts.ignore_ipolicy),
    }]);
    return 0;
  },
};

export const replaceDisks: Command = {
  name: 'replace-disks',
  usage: '[-s|-p|-a|-n NODE|-I NAME] <instance-name>',
  description: 'Replaces disks for the instance',
  args: { min: 1, max: 1 },
  options: [
    { flags: ['-a', '--auto'], dest: 'auto', help: `Automatically replace faulty disks (applies only to internally mirrored disk templates, e.g. ${INT_MIRROR})` },
    { flags: ['--disks'], dest: 'disks', type: 'string', help: 'Comma-separated list of disks indices to act on (e.g. 0,2) (optional, defaults to all disks)' },
    IALLOCATOR_OPT, EARLY_RELEASE_OPT,
    { flags: ['-n', '--new-secondary'], dest: 'dst_node', type: 'string', metavar: 'NODE', help: 'Specifies the new secondary node' },
    { flags: ['-p', '--on-primary'], dest: 'on_primary', help: `Replace the disk(s) on the primary node (applies only to internally mirrored disk templates, e.g. ${INT_MIRROR})` },
    { flags: ['-s', '--on-secondary'], dest: 'on_secondary', help: `Replace the disk(s) on the secondary node (applies only to internally mirrored disk templates, e.g. ${INT_MIRROR})` },
    ...SUBMIT_OPTS, DRY_RUN_OPT, PRIORITY_OPT, IGNORE_IPOLICY_OPT,
  ],
  async run(ctx) {
    const o = ctx.opts;
    let disks: number[] = [];
    if (o.disks !== null && o.disks !== undefined) {
      disks = String(o.disks).split(',').map((p) => {
        if (!/^\s*[-+]?\d+\s*$/.test(p)) {
          throw new OpPrereqError(`Invalid disk index passed: invalid literal for int() with base 10: '${p}'`, ECODE.INVAL);
        }
        return Number.parseInt(p, 10);
      });
    }
    const newSecondary = o.dst_node ?? null;
    const iallocator = o.iallocator ?? null;
    const count = [Boolean(o.on_primary), Boolean(o.on_secondary), Boolean(o.auto), newSecondary !== null, iallocator !== null].filter(Boolean).length;
    if (count !== 1) throw new OpPrereqError('One and only one of the -p, -s, -a, -n and -I options must be passed', ECODE.INVAL);
    let mode: string;
    if (o.on_primary) mode = 'replace_on_primary';
    else if (o.on_secondary) mode = 'replace_on_secondary';
    else if (o.auto) {
      mode = 'replace_auto';
      if (disks.length > 0) throw new OpPrereqError('Cannot specify disks when using automatic mode', ECODE.INVAL);
    } else mode = 'replace_new_secondary';
    await submitAndWait(ctx, [{
      OP_ID: 'OP_INSTANCE_REPLACE_DISKS', instance_name: ctx.args[0], disks, remote_node: newSecondary, mode, iallocator,
      early_release: Boolean(o.early_release), ignore_ipolicy: Boolean(o.ignore_ipolicy),
    }]);
    return 0;
  },
};
