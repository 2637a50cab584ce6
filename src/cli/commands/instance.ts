// gnt-instance: instance administration (upstream's gnt_instance.py): add, remove, list,
// list-fields, info, the power commands on one or many instances, reinstall, rename,
// modify, the disk commands, console and tags; migrate, failover and replace-disks are in
// ./instance-migrate.ts.
import { ECODE, GenericError, OpExecError, OpPrereqError } from '../../core/errors.ts';
import { rawToBigInt } from '../../core/json.ts';
import { BES_PARAMETER_COMPAT, HVS_PARAMETER_TYPES, forceDictType, parseUnit, type VType } from '../../core/params.ts';
import { pyStr } from '../../core/pyrepr.ts';
import { askChoice, askUser } from '../confirm.ts';
import { makeNameFilter } from '../filter-parser.ts';
import { formatInfo, type InfoValue } from '../format/info.ts';
import { toolMain, type Command, type CommandContext } from '../framework.ts';
import { DRY_RUN_OPT, PRINT_JOBID_OPT, PRIORITY_OPT, SUBMIT_OPT, submitAndWait } from '../jobs.ts';
import { parseIdentKeyVal, type KeyValues } from '../keyvalue.ts';
import { LIST_FIELDS_OPTIONS, LIST_OPTIONS, UNITS_OPTION, runList, runListFields } from '../list.ts';
import type { OptionSpec } from '../parser.ts';
import {
  ADD_OPTS, BACKEND_OPT, COMMON_CREATE_OPTS, DISK_OPT, DISK_TEMPLATE_OPT, FILESTORE_DIR_OPT, FILESTORE_DRIVER_OPT, FORCE_VARIANT_OPT,
  IALLOCATOR_OPT, IGNORE_IPOLICY_OPT, NET_OPT, NOCONFLICTSCHECK_OPT, NOIPCHECK_OPT, NONAMECHECK_OPT, NWSYNC_OPT, OSPARAMS_OPT, OSPARAMS_PRIVATE_OPT,
  OSPARAMS_SECRET_OPT, OS_OPT, genericInstanceCreate, keyValOpt, splitNodeOption, unitOpt, yesNoOpt,
} from './instance-create.ts';
import { instanceInfoEntry } from './instance-info.ts';
import { failover, migrate, replaceDisks } from './instance-migrate.ts';
import {
  ALL_SEL_OPT, FORCE_MULTI_OPT, INSTANCE_SEL_OPT, INSTANCE_TAGS_SEL_OPT, NODE_SEL_OPT, NODE_TAGS_SEL_OPT, PRI_NODE_SEL_OPT,
  PRI_NODE_TAGS_SEL_OPT, SEC_NODE_SEL_OPT, SEC_NODE_TAGS_SEL_OPT, confirmOperation, expandMultiNames, manyOps, runJobs,
  type SelectionMode,
} from './instance-multi.ts';
import { calculateOsNames } from './os.ts';
import { tagCommands } from './tags.ts';

type Dict = Record<string, unknown>;

export const LIST_DEFAULT_FIELDS = ['name', 'hypervisor', 'os', 'pnode', 'status', 'oper_ram'];

/** List-valued fields `gnt-instance list` prints joined with "," (the others as Python lists). */
export const LIST_JOINED_FIELDS = ['tags', 'disk.sizes', 'nic.macs', 'nic.ips', 'nic.modes', 'nic.links', 'nic.bridges',
  'nic.networks', 'snodes', 'snodes.group', 'snodes.group.uuid'];

const FORCE_OPT: OptionSpec = { flags: ['-f', '--force'], dest: 'force', help: 'Force the operation' };
const SUBMIT_OPTS = [SUBMIT_OPT, PRINT_JOBID_OPT];
const SHUTDOWN_TIMEOUT_OPT: OptionSpec = { flags: ['--shutdown-timeout'], dest: 'shutdown_timeout', type: 'int', default: 120, help: 'Maximum time to wait for instance shutdown' };
const IGNORE_OFFLINE_OPT: OptionSpec = { flags: ['--ignore-offline'], dest: 'ignore_offline', help: 'Ignore offline nodes and do as much as possible' };
const NO_REMEMBER_OPT: OptionSpec = { flags: ['--no-remember'], dest: 'no_remember', help: 'Perform but do not record the change in the configuration' };
const HVOPTS_OPT: OptionSpec = { flags: ['-H', '--hypervisor-parameters'], dest: 'hvparams', type: 'string', metavar: 'HVPARAMS', help: 'Hypervisor parameters' };
const SELECTION_OPTS = [NODE_SEL_OPT, PRI_NODE_SEL_OPT, SEC_NODE_SEL_OPT, ALL_SEL_OPT, INSTANCE_SEL_OPT, NODE_TAGS_SEL_OPT,
  PRI_NODE_TAGS_SEL_OPT, SEC_NODE_TAGS_SEL_OPT, INSTANCE_TAGS_SEL_OPT];

const add: Command = {
  name: 'add',
  usage: '[...] -t disk-type -n node[:secondary-node] -o os-type <instance-name>',
  description: 'Creates and adds a new instance to the cluster',
  args: { min: 1, max: 1 },
  options: [...COMMON_CREATE_OPTS, ...ADD_OPTS],
  run: (ctx) => genericInstanceCreate(ctx, 'create'),
};

/** _EnsureInstancesExist: each name must be an instance (asked before a confirmation prompt). */
async function ensureInstancesExist(ctx: CommandContext, names: string[]): Promise<void> {
  const rows = (await (await ctx.client()).call('QueryInstances', [names, ['name'], false])) as unknown[][];
  names.forEach((name, i) => {
    if (!rows[i] || rows[i][0] === null) throw new OpPrereqError(`Instance '${name}' does not exist`, ECODE.NOENT);
  });
}

const remove: Command = {
  name: 'remove',
  usage: '[-f] <instance-name>',
  description: 'Shuts down the instance and removes it',
  args: { min: 1, max: 1 },
  options: [FORCE_OPT, SHUTDOWN_TIMEOUT_OPT,
    { flags: ['--ignore-failures'], dest: 'ignore_failures', help: 'Remove the instance from the cluster configuration even if there are failures during the removal process' },
    ...SUBMIT_OPTS, DRY_RUN_OPT, PRIORITY_OPT],
  async run(ctx) {
    const name = ctx.args[0];
    if (!ctx.opts.force) {
      await ensureInstancesExist(ctx, [name]);
      const question = `This will remove the volumes of the instance ${name} (including mirrors), thus removing all the data of the instance. Continue?`;
      if (!(await askUser(question))) return 1;
    }
    await submitAndWait(ctx, [{
      OP_ID: 'OP_INSTANCE_REMOVE', instance_name: name, ignore_failures: Boolean(ctx.opts.ignore_failures),
      shutdown_timeout: ctx.opts.shutdown_timeout,
    }]);
    return 0;
  },
};

const list: Command = {
  name: 'list',
  usage: '[<instance-name>...]',
  description: `Lists the instances and their status. The available fields can be shown using the "list-fields" command (see the man page for details). The default field list is (in order): ${LIST_DEFAULT_FIELDS.join(', ')}.`,
  args: { min: 0, max: null },
  options: [...LIST_OPTIONS, UNITS_OPTION],
  run: (ctx) => runList(ctx, {
    resource: 'instance',
    defaultFields: LIST_DEFAULT_FIELDS,
    joinedFields: LIST_JOINED_FIELDS,
    filter: (c) => makeNameFilter(c.args, { forceFilter: Boolean(c.opts.force_filter) }),
  }),
};

const listFields: Command = {
  name: 'list-fields',
  usage: '[fields...]',
  description: 'Lists all available fields for instances',
  args: { min: 0, max: null },
  options: LIST_FIELDS_OPTIONS,
  run: (ctx) => runListFields(ctx, 'instance'),
};

const info: Command = {
  name: 'info',
  aliases: ['show'],
  usage: '[-s] {--all | <instance-name>...}',
  description: 'Show information on the specified instance(s)',
  args: { min: 0, max: null },
  options: [
    { flags: ['-s', '--static'], dest: 'static', help: 'Only show configuration data, not runtime data' },
    { flags: ['--all'], dest: 'show_all', help: 'Show info on all instances on the cluster. This can take a long time to run, use wisely' },
    { flags: ['--roman'], dest: 'roman_integers', help: 'Use roman numbers for positive integers' },
    PRIORITY_OPT,
  ],
  async run(ctx) {
    if (ctx.args.length === 0 && !ctx.opts.show_all) {
      ctx.err('No instance selected. Please pass in --all if you want to query all instances.\nNote that this can take a long time on a big cluster.\n');
      return 1;
    }
    if (ctx.args.length > 0 && ctx.opts.show_all) {
      ctx.err('Cannot use --all if you specify instance names.\n');
      return 1;
    }
    const isStatic = Boolean(ctx.opts.static);
    const [result] = await submitAndWait(ctx, [{ OP_ID: 'OP_INSTANCE_QUERY_DATA', instances: ctx.args, static: isStatic, use_locking: !isStatic }]);
    const instances = Object.values((rawToBigInt(result) ?? {}) as Record<string, Dict>);
    if (instances.length === 0) {
      ctx.out('No instances.\n');
      return 1;
    }
    const entries: InfoValue[] = instances.map((i) => instanceInfoEntry(i, Boolean(ctx.opts.roman_integers)));
    for (const line of formatInfo(entries)) ctx.out(`${line}\n`);
    return 0;
  },
};

/** A keyval option's dictionary with "default" turned into upstream's VALUE_DEFAULT, then typed. */
function typedParams(ctx: CommandContext, dest: string, option: string, types: Readonly<Record<string, VType>>, allowDefault: boolean): Dict {
  const params = keyValOpt(ctx, dest, option);
  if (allowDefault) {
    for (const [k, v] of Object.entries(params)) if (typeof v === 'string' && v.toLowerCase() === 'default') params[k] = 'default';
  }
  forceDictType(params, types, allowDefault ? ['default'] : []);
  return params;
}

const startup: Command = {
  name: 'startup',
  aliases: ['start'],
  usage: '<instance>',
  description: 'Starts an instance',
  args: { min: 0, max: null },
  options: [FORCE_OPT, FORCE_MULTI_OPT, ...SELECTION_OPTS, ...SUBMIT_OPTS, HVOPTS_OPT, BACKEND_OPT, DRY_RUN_OPT, PRIORITY_OPT,
    IGNORE_OFFLINE_OPT, NO_REMEMBER_OPT, { flags: ['--paused'], dest: 'startup_paused', help: 'Pause instance at startup' }],
  run(ctx) {
    const hvparams = keyValOpt(ctx, 'hvparams', '-H');
    const beparams = keyValOpt(ctx, 'beparams', '-B');
    return manyOps(ctx, 'startup', (name) => ({
      OP_ID: 'OP_INSTANCE_STARTUP',
      instance_name: name,
      force: Boolean(ctx.opts.force),
      ignore_offline_nodes: Boolean(ctx.opts.ignore_offline),
      no_remember: Boolean(ctx.opts.no_remember),
      startup_paused: Boolean(ctx.opts.startup_paused),
      // Only given temporary parameters go into the opcode.
      ...(Object.keys(hvparams).length > 0 ? { hvparams } : {}),
      ...(Object.keys(beparams).length > 0 ? { beparams } : {}),
    }));
  },
};

const shutdown: Command = {
  name: 'shutdown',
  aliases: ['stop'],
  usage: '<instance>',
  description: 'Stops an instance',
  args: { min: 0, max: null },
  options: [FORCE_OPT, ...SELECTION_OPTS, FORCE_MULTI_OPT,
    { flags: ['--timeout'], dest: 'timeout', type: 'int', default: 120, help: 'Maximum time to wait' },
    ...SUBMIT_OPTS, DRY_RUN_OPT, PRIORITY_OPT, IGNORE_OFFLINE_OPT, NO_REMEMBER_OPT],
  run: (ctx) => manyOps(ctx, 'shutdown', (name) => ({
    OP_ID: 'OP_INSTANCE_SHUTDOWN',
    instance_name: name,
    force: Boolean(ctx.opts.force),
    timeout: ctx.opts.timeout,
    ignore_offline_nodes: Boolean(ctx.opts.ignore_offline),
    no_remember: Boolean(ctx.opts.no_remember),
  })),
};

const reboot: Command = {
  name: 'reboot',
  usage: '<instance>',
  description: 'Reboots an instance',
  args: { min: 0, max: null },
  options: [FORCE_MULTI_OPT,
    { flags: ['-t', '--type'], dest: 'reboot_type', type: 'choice', choices: ['soft', 'hard', 'full'], default: 'hard', metavar: '<REBOOT>', help: 'Type of reboot: soft/hard/full' },
    { flags: ['--ignore-secondaries'], dest: 'ignore_secondaries', help: 'Ignore errors from secondaries' },
    ...SELECTION_OPTS, ...SUBMIT_OPTS, SHUTDOWN_TIMEOUT_OPT, DRY_RUN_OPT, PRIORITY_OPT],
  run: (ctx) => manyOps(ctx, 'reboot', (name) => ({
    OP_ID: 'OP_INSTANCE_REBOOT',
    instance_name: name,
    reboot_type: ctx.opts.reboot_type,
    ignore_secondaries: Boolean(ctx.opts.ignore_secondaries),
    shutdown_timeout: ctx.opts.shutdown_timeout,
  })),
};

const reinstall: Command = {
  name: 'reinstall',
  usage: '[-f] <instance>',
  description: 'Reinstall a stopped instance',
  args: { min: 0, max: null },
  options: [FORCE_OPT, OS_OPT, FORCE_VARIANT_OPT, FORCE_MULTI_OPT, ...SELECTION_OPTS,
    { flags: ['--select-os'], dest: 'select_os', help: 'Interactive OS reinstall, lists available OS templates for selection' },
    ...SUBMIT_OPTS, DRY_RUN_OPT, PRIORITY_OPT, OSPARAMS_OPT, OSPARAMS_PRIVATE_OPT, OSPARAMS_SECRET_OPT],
  async run(ctx) {
    const mode = (ctx.opts.multi_mode as SelectionMode | null) ?? 'instances';
    const names = await expandMultiNames(ctx, mode, ctx.args);
    if (names.length === 0) throw new OpPrereqError('Selection filter does not match any instances', ECODE.INVAL);
    let osName = (ctx.opts.os as string | null) ?? null;
    let osMsg = osName === null ? 'keep the same OS' : `change the OS to '${osName}'`;
    if (ctx.opts.select_os) {
      const [result] = (await submitAndWait(ctx, [{ OP_ID: 'OP_OS_DIAGNOSE', output_fields: ['name', 'variants'], names: [] }])) as [Array<[string, string[]]>];
      if (!result || result.length === 0) {
        ctx.out("Can't get the OS list\n");
        return 1;
      }
      ctx.out('Available OS templates:\n');
      const choices = result.flatMap(([name, variants]) => calculateOsNames(name, variants));
      choices.forEach((entry, i) => ctx.out(`${String(i).padStart(3)}: ${entry}\n`));
      const selected = await askChoice<string>('Enter OS template number (or x to abort):',
        [...choices.map((c, i): [string, string, string] => [String(i), c, c]), ['x', 'exit', 'Exit gnt-instance reinstall']]);
      if (selected === 'exit') {
        ctx.err('User aborted reinstall, exiting\n');
        return 1;
      }
      osName = selected;
      osMsg = `change the OS to '${selected}'`;
    }
    const multi = mode !== 'instances' || names.length > 1;
    if (multi) {
      const warn = `Note: this will remove *all* data for the below instances! It will ${osMsg}.\n`;
      if (!ctx.opts.force_multi && !(await confirmOperation(names, 'instances', 'reinstall', warn))) return 1;
    } else if (!ctx.opts.force && !ctx.opts.force_multi) {
      const question = `This will reinstall the instance '${names[0]}' (and ${osMsg}) which removes all data. Continue?`;
      if (!(await askUser(question))) return 1;
    }
    const osparams = keyValOpt(ctx, 'osparams', '-O');
    const outcomes = await runJobs(ctx, names.map((name) => [name, [{
      OP_ID: 'OP_INSTANCE_REINSTALL',
      instance_name: name,
      os_type: osName,
      force_variant: Boolean(ctx.opts.force_variant),
      osparams,
      osparams_private: keyValOpt(ctx, 'osparams_private', '--os-parameters-private'),
      osparams_secret: keyValOpt(ctx, 'osparams_secret', '--os-parameters-secret'),
    }]]), multi);
    return outcomes.every(([ok]) => ok) ? 0 : 1;
  },
};

const rename: Command = {
  name: 'rename',
  usage: '<old-name> <new-name>',
  description: 'Rename the instance',
  args: { min: 2, max: 2 },
  options: [FORCE_OPT, NOIPCHECK_OPT, NONAMECHECK_OPT, ...SUBMIT_OPTS, DRY_RUN_OPT, PRIORITY_OPT],
  async run(ctx) {
    const nameCheck = ctx.opts.name_check !== false;
    if (!ctx.opts.force && !nameCheck) {
      const question = `As you disabled the check of the DNS entry, please verify that '${ctx.args[1]}' is a FQDN. Continue?`;
      if (!(await askUser(question))) return 1;
    }
    const [result] = await submitAndWait(ctx, [{
      OP_ID: 'OP_INSTANCE_RENAME', instance_name: ctx.args[0], new_name: ctx.args[1],
      ip_check: ctx.opts.ip_check !== false, name_check: nameCheck,
    }]);
    if (result) ctx.out(`Instance '${ctx.args[0]}' renamed to '${String(result)}'\n`);
    return 0;
  },
};


const MODIFICATION_ACTIONS = ['add', 'attach', 'remove', 'detach', 'modify'] as const;

/**
 * _ConvertNicDiskModifications: "add"/"attach"/"remove"/"detach" (legacy: at the end) or
 * "INDEX:add,…", "INDEX:remove", "INDEX:modify,…" (the default) into [action, identifier,
 * params].
 */
export function convertModifications(mods: Array<[string, KeyValues | false | null]>): Array<[string, string | number, Dict]> {
  return mods.map(([ident, given]) => {
    const params: Dict = given ? { ...given } : {};
    let action: string;
    let identifier: string | number = ident;
    if (ident === 'add' || ident === 'attach' || ident === 'remove' || ident === 'detach') {
      action = ident;
      identifier = -1;
    } else {
      const found = MODIFICATION_ACTIONS.filter((k) => {
        if (!(k in params)) return false;
        delete params[k];
        return true;
      });
      if (found.length > 1) {
        throw new OpPrereqError(`Cannot do more than one of the following operations at the same time: ${MODIFICATION_ACTIONS.join(', ')}`, ECODE.INVAL);
      }
      action = found[0] ?? 'modify';
    }
    if ((action === 'remove' || action === 'detach') && Object.keys(params).length > 0) {
      throw new OpPrereqError('Not accepting parameters on removal/detach', ECODE.INVAL);
    }
    return [action, identifier, params];
  });
}

/** _ParseDiskSizes: disk sizes in MiB; an added disk needs one. */
function parseDiskSizes(mods: Array<[string, string | number, Dict]>): Array<[string, string | number, Dict]> {
  for (const [action, , params] of mods) {
    if ('spindles' in params) params.spindles = Number.parseInt(String(params.spindles), 10);
    if ('size' in params) {
      try {
        params.size = parseUnit(params.size);
      } catch (err) {
        throw new OpPrereqError(`Invalid disk size: ${(err as Error).message}`, ECODE.INVAL);
      }
    } else if (action === 'add') {
      throw new OpPrereqError("Missing required parameter 'size'", ECODE.INVAL);
    }
  }
  return mods;
}

const modify: Command = {
  name: 'modify',
  usage: '<instance-name>',
  description: 'Alters the parameters of an instance',
  args: { min: 1, max: 1 },
  options: [BACKEND_OPT, DISK_OPT, FORCE_OPT, HVOPTS_OPT, NET_OPT, ...SUBMIT_OPTS, DISK_TEMPLATE_OPT,
    { flags: ['-n', '--node'], dest: 'node', type: 'string', metavar: '<node>', help: 'Target node' },
    IALLOCATOR_OPT, OS_OPT, FORCE_VARIANT_OPT, OSPARAMS_OPT, OSPARAMS_PRIVATE_OPT, DRY_RUN_OPT, PRIORITY_OPT, NWSYNC_OPT,
    { flags: ['--offline'], dest: 'offline_inst', help: 'Disable down instance' },
    { flags: ['--online'], dest: 'online_inst', help: 'Enable offline instance' },
    IGNORE_IPOLICY_OPT,
    { flags: ['-m', '--runtime-memory'], dest: 'runtime_mem', type: 'string', metavar: '<size>', help: "Sets the instance's runtime memory, ballooning it up or down to the new value" },
    NOCONFLICTSCHECK_OPT,
    { flags: ['--new-primary'], dest: 'new_primary_node', type: 'string', metavar: '<node>', help: 'Specifies the new primary node' },
    { flags: ['--hotplug'], dest: 'hotplug', help: 'Hotplug supported devices (NICs and Disks)' },
    { flags: ['--hotplug-if-possible'], dest: 'hotplug_if_possible', help: 'Hotplug devices in case hotplug is supported' },
    { flags: ['-c', '--communication'], dest: 'instance_communication', type: 'string', metavar: 'yes|no', help: 'Enable or disable the communication mechanism for an instance' },
    { flags: ['-e', '--ext-params'], dest: 'ext_params', type: 'string', help: 'Parameters for ExtStorage template conversions in the format: provider=prvdr[,param1=val1,param2=val2,...]' },
    FILESTORE_DRIVER_OPT, FILESTORE_DIR_OPT],
  async run(ctx) {
    const o = ctx.opts;
    const communication = yesNoOpt(ctx, 'instance_communication');
    const beparams = typedParams(ctx, 'beparams', '-B', BES_PARAMETER_COMPAT, true);
    const hvparams = typedParams(ctx, 'hvparams', '-H', HVS_PARAMETER_TYPES, true);
    const osparams = keyValOpt(ctx, 'osparams', '-O');
    const osparamsPrivate = keyValOpt(ctx, 'osparams_private', '--os-parameters-private');
    const nicMods = (o.nics as string[]).map((v) => parseIdentKeyVal('--net', v));
    const diskMods = (o.disks as string[]).map((v) => parseIdentKeyVal('--disk', v));
    const runtimeMem = unitOpt(ctx, 'runtime_mem');
    const anything = nicMods.length > 0 || diskMods.length > 0 || o.disk_template || Object.keys(hvparams).length > 0 ||
      Object.keys(beparams).length > 0 || o.os || Object.keys(osparams).length > 0 || Object.keys(osparamsPrivate).length > 0 ||
      o.offline_inst || o.online_inst || runtimeMem || o.new_primary_node || communication !== null;
    if (!anything) {
      ctx.err('Please give at least one of the parameters.\n');
      return 1;
    }
    const nics = convertModifications(nicMods);
    if (o.hotplug && !o.force && nics.some(([action]) => action === 'modify')) {
      const question = 'You are about to hot-modify a NIC. This will be done by removing the existing NIC and then adding a new one. Network connection might be lost. Continue?';
      if (!(await askUser(question))) return 1;
    }
    const disks = parseDiskSizes(convertModifications(diskMods));
    const extParams = keyValOpt(ctx, 'ext_params', '-e');
    if (o.disk_template) {
      if (Object.keys(extParams).length > 0 && o.disk_template !== 'ext') {
        ctx.err("Specifying ExtStorage parameters requires converting to the 'ext' disk template\n");
        return 1;
      }
      if (Object.keys(extParams).length === 0 && o.disk_template === 'ext') {
        ctx.err("Provider option is missing, use either the '--ext-params' or '-e' option\n");
        return 1;
      }
    }
    if ((o.file_driver || o.file_storage_dir) && !['file', 'sharedfile', 'gluster'].includes(o.disk_template)) {
      ctx.err('Specifying file-based configuration arguments requires converting to a file-based disk template\n');
      return 1;
    }
    const [result] = (await submitAndWait(ctx, [{
      OP_ID: 'OP_INSTANCE_SET_PARAMS',
      instance_name: ctx.args[0],
      nics,
      disks,
      hotplug: Boolean(o.hotplug),
      hotplug_if_possible: Boolean(o.hotplug_if_possible),
      disk_template: o.disk_template ?? null,
      ext_params: extParams,
      file_driver: o.file_driver ?? null,
      file_storage_dir: o.file_storage_dir ?? null,
      remote_node: o.node ?? null,
      iallocator: o.iallocator ?? null,
      pnode: o.new_primary_node ?? null,
      hvparams,
      beparams,
      runtime_mem: runtimeMem,
      os_name: o.os ?? null,
      osparams,
      osparams_private: osparamsPrivate,
      force_variant: Boolean(o.force_variant),
      force: Boolean(o.force),
      wait_for_sync: o.wait_for_sync !== false,
      offline: o.offline_inst ? true : o.online_inst ? false : null,
      conflicts_check: o.conflicts_check !== false,
      ignore_ipolicy: Boolean(o.ignore_ipolicy),
      instance_communication: communication,
    }])) as [Array<[string, unknown]> | null];
    if (result && result.length > 0) {
      ctx.out(`Modified instance ${ctx.args[0]}\n`);
      for (const [param, data] of rawToBigInt(result) as Array<[string, unknown]>) ctx.out(` - ${param.padEnd(5)} -> ${pyStr(data)}\n`);
      ctx.out("Please don't forget that most parameters take effect only at the next (re)start of the instance initiated by ganeti; restarting from within the instance will not be enough.\n");
      if (Object.keys(hvparams).length > 0) {
        ctx.out('Note that changing hypervisor parameters without performing a restart might lead to a crash while performing a live migration. This will be addressed in future Ganeti versions.\n');
      }
    }
    return 0;
  },
};

const activateDisks: Command = {
  name: 'activate-disks',
  usage: '<instance-name>',
  description: "Activate an instance's disks",
  args: { min: 1, max: 1 },
  options: [...SUBMIT_OPTS,
    { flags: ['--ignore-size'], dest: 'ignore_size', help: 'Ignore current recorded size (useful for forcing activation when the recorded size is wrong)' },
    PRIORITY_OPT,
    { flags: ['--wait-for-sync'], dest: 'wait_for_sync', help: 'Wait for disks to sync' }],
  async run(ctx) {
    const [result] = (await submitAndWait(ctx, [{
      OP_ID: 'OP_INSTANCE_ACTIVATE_DISKS', instance_name: ctx.args[0], ignore_size: Boolean(ctx.opts.ignore_size),
      wait_for_sync: Boolean(ctx.opts.wait_for_sync),
    }])) as [Array<[string, string, string]> | null];
    for (const [host, iname, dev] of result ?? []) ctx.out(`${host}:${iname}:${dev}\n`);
    return 0;
  },
};

const deactivateDisks: Command = {
  name: 'deactivate-disks',
  usage: '[-f] <instance-name>',
  description: "Deactivate an instance's disks",
  args: { min: 1, max: 1 },
  options: [FORCE_OPT, ...SUBMIT_OPTS, DRY_RUN_OPT, PRIORITY_OPT],
  async run(ctx) {
    await submitAndWait(ctx, [{ OP_ID: 'OP_INSTANCE_DEACTIVATE_DISKS', instance_name: ctx.args[0], force: Boolean(ctx.opts.force) }]);
    return 0;
  },
};

const recreateDisks: Command = {
  name: 'recreate-disks',
  usage: '<instance-name>',
  description: "Recreate an instance's disks",
  args: { min: 1, max: 1 },
  options: [...SUBMIT_OPTS, DISK_OPT,
    { flags: ['-n', '--node'], dest: 'node', type: 'string', metavar: '<pnode>[:<snode>]', help: 'Target node and optional secondary node' },
    DRY_RUN_OPT, PRIORITY_OPT, IALLOCATOR_OPT],
  async run(ctx) {
    const disks: Array<[number, Dict]> = (ctx.opts.disks as string[]).map((v) => {
      const [ident, params] = parseIdentKeyVal('--disk', v);
      const idx = Number.parseInt(ident, 10);
      if (!params) throw new OpPrereqError(`Invalid disk/${idx} value: expected dict, got ${String(params)}`, ECODE.INVAL);
      const d: Dict = { ...params };
      if ('size' in d) {
        try {
          d.size = parseUnit(d.size);
        } catch (err) {
          throw new OpPrereqError(`Invalid disk size for disk ${idx}: ${(err as Error).message}`, ECODE.INVAL);
        }
      }
      if ('spindles' in d) d.spindles = Number.parseInt(String(d.spindles), 10);
      return [idx, d];
    });
    let nodes: string[] = [];
    if (ctx.opts.node) {
      if (ctx.opts.iallocator) throw new OpPrereqError('At most one of either --nodes or --iallocator can be passed', ECODE.INVAL);
      const [pnode, snode] = splitNodeOption(ctx.opts.node);
      nodes = snode === null ? [pnode!] : [pnode!, snode];
    }
    await submitAndWait(ctx, [{ OP_ID: 'OP_INSTANCE_RECREATE_DISKS', instance_name: ctx.args[0], disks, nodes, iallocator: ctx.opts.iallocator ?? null }]);
    return 0;
  },
};

const growDisk: Command = {
  name: 'grow-disk',
  usage: '<instance-name> <disk> <size>',
  description: "Grow an instance's disk",
  args: { min: 3, max: 3 },
  options: [...SUBMIT_OPTS, NWSYNC_OPT, DRY_RUN_OPT, PRIORITY_OPT,
    { flags: ['--absolute'], dest: 'absolute', help: 'Marks the grow as absolute instead of the (default) relative mode' },
    IGNORE_IPOLICY_OPT],
  async run(ctx) {
    const [instance, diskText, sizeText] = ctx.args;
    if (!/^\s*[-+]?\d+\s*$/.test(diskText)) {
      throw new OpPrereqError(`Invalid disk index: invalid literal for int() with base 10: '${diskText}'`, ECODE.INVAL);
    }
    let amount: number;
    try {
      amount = parseUnit(sizeText);
    } catch {
      throw new OpPrereqError(`Can't parse the given amount '${sizeText}'`, ECODE.INVAL);
    }
    await submitAndWait(ctx, [{
      OP_ID: 'OP_INSTANCE_GROW_DISK', instance_name: instance, disk: Number.parseInt(diskText, 10), amount,
      wait_for_sync: ctx.opts.wait_for_sync !== false, absolute: Boolean(ctx.opts.absolute), ignore_ipolicy: Boolean(ctx.opts.ignore_ipolicy),
    }]);
    return 0;
  },
};

/** _DoConsole for the kinds that need no ssh: a message, or where VNC/SPICE listen; ssh consoles print or run the command. */
async function doConsole(ctx: CommandContext, console: Dict, showCommand: boolean): Promise<number> {
  switch (console.kind) {
    case 'msg':
      ctx.out(`${String(console.message)}\n`);
      return 0;
    case 'vnc':
      ctx.out(`Instance ${String(console.instance)} has VNC listening on ${String(console.host)}:${String(console.port)} (display ${String(console.display)}), URL <vnc://${String(console.host)}:${String(console.port)}/>\n`);
      return 0;
    case 'spice':
      ctx.out(`Instance ${String(console.instance)} has SPICE listening on ${String(console.host)}:${String(console.port)}\n`);
      return 0;
    case 'ssh': {
      const command = Array.isArray(console.command) ? (console.command as string[]).map(shellQuote).join(' ') : String(console.command);
      const argv = ['ssh', '-oEscapeChar=none', '-oBatchMode=yes', '-oStrictHostKeyChecking=yes', '-t',
        ...(console.port ? ['-p', String(console.port)] : []), `${String(console.user)}@${String(console.host)}`, command];
      if (showCommand) {
        ctx.out(`${argv.map(shellQuote).join(' ')}\n`);
        return 0;
      }
      // A serial console of this very node (or of a virtual node of this machine) needs no
      // ssh: attached in-process; a socket nobody listens on any more falls back to ssh.
      const { attachConsole, localConsoleSocket, NOT_CONNECTED } = await import('../../node/hypervisor/kvm/console-attach.ts');
      const socket = localConsoleSocket(console);
      if (socket) {
        const code = await attachConsole(socket);
        if (code !== NOT_CONNECTED) return code;
      }
      const { spawnSync } = await import('node:child_process');
      const r = spawnSync(argv[0], argv.slice(1), { stdio: 'inherit' });
      if (r.status !== 0) throw new OpExecError(`Connection to console of instance ${String(console.instance)} failed, please check cluster configuration`);
      return 0;
    }
    default:
      throw new GenericError(`Unknown console type '${String(console.kind)}'`);
  }
}

/** utils.ShellQuoteArgs' quoting of one word. */
function shellQuote(word: string): string {
  return /^[-.,=+/:@\w]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`;
}

const consoleCmd: Command = {
  name: 'console',
  usage: '[--show-cmd] <instance-name>',
  description: 'Opens a console on the specified instance',
  args: { min: 1, max: 1 },
  options: [{ flags: ['--show-cmd'], dest: 'show_command', help: 'Show command instead of executing it' }, PRIORITY_OPT],
  async run(ctx) {
    const name = ctx.args[0];
    const client = await ctx.client();
    const rows = (await client.call('QueryInstances', [[name], ['console', 'oper_state'], false])) as unknown[][];
    if (rows.length === 0) throw new OpPrereqError(`Instance '${name}' does not exist`, ECODE.NOENT);
    const [console, operState] = rows[0];
    if (!console) {
      if (operState) throw new OpExecError(`Console information for instance ${name} is unavailable`);
      throw new OpExecError(`Instance ${name} is not running, can't get console`);
    }
    return doConsole(ctx, console as Dict, Boolean(ctx.opts.show_command));
  },
};

export const main = toolMain('gnt-instance', [
  activateDisks, add, consoleCmd, deactivateDisks, failover, growDisk, info, list, listFields, migrate, modify, reboot, recreateDisks,
  reinstall, remove, rename, replaceDisks, shutdown, startup, ...tagCommands('instance'),
]);
