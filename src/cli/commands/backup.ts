// gnt-backup: instance exports (upstream's gnt_backup.py): export an instance to a node,
// import one from an export, list and remove exports.
import { ECODE, OpPrereqError } from '../../core/errors.ts';
import { toolMain, type Command } from '../framework.ts';
import { DRY_RUN_OPT, PRINT_JOBID_OPT, PRIORITY_OPT, SUBMIT_OPT, submitAndWait } from '../jobs.ts';
import { LIST_FIELDS_OPTIONS, LIST_OPTIONS, UNITS_OPTION, runList, runListFields } from '../list.ts';
import { COMMON_CREATE_OPTS, IMPORT_OPTS, genericInstanceCreate } from './instance-create.ts';

export const LIST_DEFAULT_FIELDS = ['node', 'export'];

const exportCmd: Command = {
  name: 'export',
  usage: '-n <node-name> [opts...] <instance-name>',
  description: 'Exports an instance to an image',
  args: { min: 1, max: 1 },
  options: [
    { flags: ['-f', '--force'], dest: 'force', help: 'Force the operation' },
    { flags: ['-n', '--node'], dest: 'node', type: 'string', metavar: '<node>', help: 'Target node' },
    { flags: ['--transport-compression'], dest: 'transport_compression', type: 'string', default: 'none', help: 'The compression mode to use during transport' },
    { flags: ['--noshutdown'], dest: 'shutdown', type: 'false', help: "Don't shutdown the instance (unsafe)" },
    { flags: ['--shutdown-timeout'], dest: 'shutdown_timeout', type: 'int', default: 120, help: 'Maximum time to wait for instance shutdown' },
    { flags: ['--remove-instance'], dest: 'remove_instance', help: 'Remove the instance from the cluster' },
    { flags: ['--ignore-remove-failures'], dest: 'ignore_remove_failures', help: 'Remove the instance from the cluster configuration even if there are failures during the removal process' },
    { flags: ['--zero-free-space'], dest: 'zero_free_space', help: 'Whether to zero the free space on the disks of the instance prior to the export' },
    { flags: ['--zeroing-timeout-fixed'], dest: 'zeroing_timeout_fixed', type: 'int', help: 'The fixed amount of time to wait before assuming that the zeroing failed' },
    { flags: ['--zeroing-timeout-per-mib'], dest: 'zeroing_timeout_per_mib', type: 'float', help: 'The amount of time to wait per MiB of data to zero, in addition to the fixed timeout' },
    { flags: ['--long-sleep'], dest: 'long_sleep', help: 'Allow long shutdowns when backing up instances' },
    SUBMIT_OPT, PRINT_JOBID_OPT, DRY_RUN_OPT, PRIORITY_OPT,
  ],
  async run(ctx) {
    const o = ctx.opts;
    if (!o.node) throw new OpPrereqError('Target node must be specified', ECODE.INVAL);
    await submitAndWait(ctx, [{
      OP_ID: 'OP_BACKUP_EXPORT',
      instance_name: ctx.args[0],
      target_node: o.node,
      compress: o.transport_compression,
      shutdown: o.shutdown !== false,
      shutdown_timeout: o.shutdown_timeout,
      remove_instance: Boolean(o.remove_instance),
      ignore_remove_failures: Boolean(o.ignore_remove_failures),
      zero_free_space: Boolean(o.zero_free_space),
      zeroing_timeout_fixed: o.zeroing_timeout_fixed ?? null,
      zeroing_timeout_per_mib: o.zeroing_timeout_per_mib ?? null,
      long_sleep: Boolean(o.long_sleep),
    }]);
    return 0;
  },
};

const importCmd: Command = {
  name: 'import',
  usage: '[...] -t disk-type -n node[:secondary-node] <instance-name>',
  description: 'Imports an instance from an exported image',
  args: { min: 1, max: 1 },
  options: [...COMMON_CREATE_OPTS, ...IMPORT_OPTS],
  run: (ctx) => genericInstanceCreate(ctx, 'import'),
};

const list: Command = {
  name: 'list',
  usage: '',
  description: 'Lists instance exports available in the ganeti cluster',
  args: { min: 0, max: 0 },
  options: [
    { flags: ['-n', '--node'], dest: 'nodes', type: 'append', metavar: '<node>', help: 'Use only this node (can be used multiple times, if not given defaults to all nodes)' },
    ...LIST_OPTIONS.filter((o) => o.dest !== 'force_filter'),
    UNITS_OPTION,
  ],
  run: (ctx) => runList(ctx, {
    resource: 'export',
    defaultFields: LIST_DEFAULT_FIELDS,
    filter: (c) => {
      const nodes = c.opts.nodes as string[];
      return nodes.length === 0 ? null : ['|', ...nodes.map((n) => ['=', 'node', n])];
    },
  }),
};

const listFields: Command = {
  name: 'list-fields',
  usage: '[fields...]',
  description: 'Lists all available fields for exports',
  args: { min: 0, max: null },
  options: LIST_FIELDS_OPTIONS,
  run: (ctx) => runListFields(ctx, 'export'),
};

const remove: Command = {
  name: 'remove',
  usage: '<instance-name>',
  description: 'Remove exports of named instance from the filesystem.',
  args: { min: 1, max: 1 },
  options: [DRY_RUN_OPT, PRIORITY_OPT, SUBMIT_OPT, PRINT_JOBID_OPT],
  async run(ctx) {
    await submitAndWait(ctx, [{ OP_ID: 'OP_BACKUP_REMOVE', instance_name: ctx.args[0] }]);
    return 0;
  },
};

export const main = toolMain('gnt-backup', [exportCmd, importCmd, list, listFields, remove]);
