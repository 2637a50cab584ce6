// Creating an instance from the command line, shared by `gnt-instance add` and
// `gnt-backup import` (upstream's COMMON_CREATE_OPTS and cli.GenericInstanceCreate):
// --disk/-s, --net/--no-nics, -n pnode[:snode], -H hv:params, -B, -O and the checks
// upstream's client makes before it submits OP_INSTANCE_CREATE.
import { DISK_TEMPLATES } from '../../core/constants.ts';
import { ECODE, OpPrereqError, ParameterError } from '../../core/errors.ts';
import { BES_PARAMETER_COMPAT, HVS_PARAMETER_TYPES, forceDictType, parseUnit } from '../../core/params.ts';
import { pyStr } from '../../core/pyrepr.ts';
import type { CommandContext } from '../framework.ts';
import { DRY_RUN_OPT, PRINT_JOBID_OPT, PRIORITY_OPT, SUBMIT_OPT, submitAndWait } from '../jobs.ts';
import { parseIdentKeyVal, parseKeyVal, type KeyValues } from '../keyvalue.ts';
import type { OptionSpec } from '../parser.ts';
import { INIC_PARAMS_TYPES } from '../../master/cmdlib/instance-nics.ts';

type Dict = Record<string, unknown>;

export const BACKEND_OPT: OptionSpec = { flags: ['-B', '--backend-parameters'], dest: 'beparams', type: 'string', metavar: 'BEPARAMS', help: 'Backend parameters' };
export const DISK_OPT: OptionSpec = { flags: ['--disk'], dest: 'disks', type: 'append', metavar: 'DISKS', help: 'Disk parameters' };
export const DISK_TEMPLATE_OPT: OptionSpec = {
  flags: ['-t', '--disk-template'], dest: 'disk_template', type: 'choice', choices: [...DISK_TEMPLATES], metavar: 'TEMPL',
  help: `Custom disk setup (${DISK_TEMPLATES.join(', ')})`,
};
export const FILESTORE_DIR_OPT: OptionSpec = { flags: ['--file-storage-dir'], dest: 'file_storage_dir', type: 'string', metavar: '<DIR>', help: 'Relative path under default cluster-wide file storage dir to store file-based disks' };
export const FILESTORE_DRIVER_OPT: OptionSpec = { flags: ['--file-driver'], dest: 'file_driver', type: 'choice', choices: ['loop', 'blktap', 'blktap2'], metavar: '<DRIVER>', help: 'Driver to use for image files' };
export const IALLOCATOR_OPT: OptionSpec = { flags: ['-I', '--iallocator'], dest: 'iallocator', type: 'string', metavar: '<NAME>', help: 'Select nodes for the instance automatically using the <NAME> iallocator plugin' };
export const NET_OPT: OptionSpec = { flags: ['--net'], dest: 'nics', type: 'append', metavar: 'NICS', help: 'NIC parameters' };
export const NODE_PLACEMENT_OPT: OptionSpec = { flags: ['-n', '--node'], dest: 'node', type: 'string', metavar: '<pnode>[:<snode>]', help: 'Target node and optional secondary node' };
export const OSPARAMS_OPT: OptionSpec = { flags: ['-O', '--os-parameters'], dest: 'osparams', type: 'string', metavar: 'OSPARAMS', help: 'OS parameters' };
export const OSPARAMS_PRIVATE_OPT: OptionSpec = { flags: ['--os-parameters-private'], dest: 'osparams_private', type: 'string', metavar: 'OSPARAMS', help: "Private OS parameters (won't be logged)" };
export const OSPARAMS_SECRET_OPT: OptionSpec = { flags: ['--os-parameters-secret'], dest: 'osparams_secret', type: 'string', metavar: 'OSPARAMS', help: "Secret OS parameters (won't be logged or saved; you must supply these for every operation.)" };
export const OS_OPT: OptionSpec = { flags: ['-o', '--os-type'], dest: 'os', type: 'string', metavar: '<os>', help: 'What OS to run' };
export const FORCE_VARIANT_OPT: OptionSpec = { flags: ['--force-variant'], dest: 'force_variant', help: 'Force an unknown variant' };
export const IGNORE_IPOLICY_OPT: OptionSpec = { flags: ['--ignore-ipolicy'], dest: 'ignore_ipolicy', help: 'Ignore instance policy violations' };
export const NOIPCHECK_OPT: OptionSpec = { flags: ['--no-ip-check'], dest: 'ip_check', type: 'false', help: "Don't check that the instance's IP is alive" };
export const NONAMECHECK_OPT: OptionSpec = { flags: ['--no-name-check'], dest: 'name_check', type: 'false', help: "Don't check that the instance's name is resolvable" };
export const NWSYNC_OPT: OptionSpec = { flags: ['--no-wait-for-sync'], dest: 'wait_for_sync', type: 'false', help: "Don't wait for sync (DANGEROUS!)" };
export const NOCONFLICTSCHECK_OPT: OptionSpec = { flags: ['--no-conflicts-check'], dest: 'conflicts_check', type: 'false', help: "Don't check for conflicting IPs" };
export const HELPER_STARTUP_TIMEOUT_OPT: OptionSpec = { flags: ['--helper-startup-timeout'], dest: 'helper_startup_timeout', type: 'int', help: 'Startup timeout for the helper VM' };
export const HELPER_SHUTDOWN_TIMEOUT_OPT: OptionSpec = { flags: ['--helper-shutdown-timeout'], dest: 'helper_shutdown_timeout', type: 'int', help: 'Shutdown timeout for the helper VM' };

/** The options both add and import take (COMMON_CREATE_OPTS). */
export const COMMON_CREATE_OPTS: OptionSpec[] = [
  BACKEND_OPT,
  DISK_OPT,
  DISK_TEMPLATE_OPT,
  FILESTORE_DIR_OPT,
  FILESTORE_DRIVER_OPT,
  { flags: ['-H', '--hypervisor-parameters'], dest: 'hypervisor', type: 'string', metavar: 'HYPERVISOR', help: 'Hypervisor and hypervisor options, in the format hypervisor:option=value,option=value,...' },
  IALLOCATOR_OPT,
  NET_OPT,
  NODE_PLACEMENT_OPT,
  { flags: ['-g', '--node-group'], dest: 'nodegroup', type: 'string', metavar: '<nodegroup>', help: 'Node group (name or uuid)' },
  NOIPCHECK_OPT,
  NOCONFLICTSCHECK_OPT,
  NONAMECHECK_OPT,
  { flags: ['--no-nics'], dest: 'no_nics', help: 'Do not create any network cards for the instance' },
  NWSYNC_OPT,
  OSPARAMS_OPT,
  OSPARAMS_PRIVATE_OPT,
  OSPARAMS_SECRET_OPT,
  { flags: ['-s', '--os-size'], dest: 'sd_size', type: 'string', metavar: '<size>', help: 'Enforces a single-disk configuration using the given disk size, in MiB unless a suffix is used' },
  { flags: ['--opportunistic-locking'], dest: 'opportunistic_locking', help: 'Opportunistically acquire locks' },
  SUBMIT_OPT,
  PRINT_JOBID_OPT,
  { flags: ['--tags'], dest: 'tags', type: 'string', help: 'Comma-separated list of instance tags' },
  DRY_RUN_OPT,
  PRIORITY_OPT,
];

/** The options only `add` has. */
export const ADD_OPTS: OptionSpec[] = [
  { flags: ['--forthcoming'], dest: 'forthcoming', help: 'Only reserve resources, but do not create the instance yet' },
  { flags: ['--commit'], dest: 'commit', help: 'The instance is already reserved and should be committed now' },
  { flags: ['--no-start'], dest: 'start', type: 'false', help: "Don't start the instance after creation" },
  OS_OPT,
  FORCE_VARIANT_OPT,
  { flags: ['--no-install'], dest: 'no_install', help: 'Do not install the OS (will enable no-start)' },
  IGNORE_IPOLICY_OPT,
  { flags: ['-c', '--communication'], dest: 'instance_communication', type: 'string', metavar: 'yes|no', help: 'Enable or disable the communication mechanism for an instance' },
  HELPER_STARTUP_TIMEOUT_OPT,
  HELPER_SHUTDOWN_TIMEOUT_OPT,
];

/** The options only `import` has. */
export const IMPORT_OPTS: OptionSpec[] = [
  { flags: ['--identify-defaults'], dest: 'identify_defaults', help: 'Identify which saved instance parameters are equal to the current cluster defaults and set them as such, instead of marking them as overridden' },
  { flags: ['--src-dir'], dest: 'src_dir', type: 'string', metavar: '<dir>', help: 'Source directory' },
  { flags: ['--src-node'], dest: 'src_node', type: 'string', metavar: '<node>', help: 'Source node' },
  { flags: ['--compress'], dest: 'compress', type: 'string', default: 'none', help: 'The compression mode to use' },
  IGNORE_IPOLICY_OPT,
  HELPER_STARTUP_TIMEOUT_OPT,
  HELPER_SHUTDOWN_TIMEOUT_OPT,
];

/** cli.SplitNodeOption: "pnode[:snode]". */
export function splitNodeOption(value: string | null | undefined): [string | null, string | null] {
  if (value && value.includes(':')) {
    const i = value.indexOf(':');
    return [value.slice(0, i), value.slice(i + 1)];
  }
  return [value ?? null, null];
}

/** Python's int() of an index, or the error text Python gives. */
function parseIndex(text: string): number {
  if (!/^\s*[-+]?\d+\s*$/.test(text)) throw new OpPrereqError(`invalid literal for int() with base 10: ${JSON.stringify(text).replace(/^"|"$/g, "'")}`, ECODE.INVAL);
  return Number.parseInt(text, 10);
}

/** Parsed `--net`/`--disk` values: [index text, params], false for "no_N" and null for "-N". */
type IdentValues = Array<[string, KeyValues | false | null]>;

/** Parsed `--net`/`--disk` values: [index text, params]. */
export function identValues(option: string, values: string[] | null | undefined): IdentValues {
  return (values ?? []).map((v) => parseIdentKeyVal(option, v));
}

/** A list with a slot for every index given, the highest one last (upstream's nic_max, disk_max); gaps stay empty. */
function slotsFor(kind: 'NIC' | 'disk', values: IdentValues): Dict[] {
  let max = 0;
  for (const [idx] of values) {
    try {
      max = Math.max(max, parseIndex(idx) + 1);
    } catch (err) {
      throw new OpPrereqError(`Invalid ${kind} index passed: ${(err as Error).message}`, ECODE.INVAL);
    }
  }
  return Array.from({ length: max }, () => ({}));
}

/** The parameters given for index `i` ("no_N" and "-N", which remove, make no sense here). */
function paramsAt(kind: 'NIC' | 'disk', i: number, params: KeyValues | false | null): Dict {
  if (params === null || params === false) {
    throw new OpPrereqError(`Invalid ${kind.toLowerCase()}/${i} value: expected dict, got ${pyStr(params)}`, ECODE.INVAL);
  }
  return { ...params };
}

/** cli.ParseNicOption: the NIC list, each index's parameters typed; gaps stay empty. */
export function parseNicOption(values: IdentValues): Dict[] {
  const nics = slotsFor('NIC', values);
  for (const [idx, params] of values) {
    const i = parseIndex(idx);
    const nic = paramsAt('NIC', i, params);
    forceDictType(nic, INIC_PARAMS_TYPES);
    nics[i] = nic;
  }
  return nics;
}

/** The disk list of --disk/-s for a create (or import), with sizes in MiB. */
export function parseDiskOptions(template: string | null, values: IdentValues, sdSize: number | null, importing: boolean): Dict[] {
  if (template === 'diskless') {
    if (values.length > 0 || sdSize !== null) throw new OpPrereqError('Diskless instance but disk information passed', ECODE.INVAL);
    return [];
  }
  if (values.length === 0 && !sdSize && !importing) throw new OpPrereqError('No disk information specified', ECODE.INVAL);
  if (values.length > 0 && sdSize !== null) throw new OpPrereqError("Please use either the '--disk' or '-s' option", ECODE.INVAL);
  const given: IdentValues = sdSize !== null ? [['0', { size: String(sdSize) }]] : values;
  const disks = slotsFor('disk', given);
  for (const [idx, params] of given) {
    const i = parseIndex(idx);
    const disk = paramsAt('disk', i, params);
    if ('size' in disk) {
      if ('adopt' in disk) throw new OpPrereqError(`Only one of 'size' and 'adopt' allowed (disk ${i})`, ECODE.INVAL);
      try {
        disk.size = parseUnit(disk.size);
      } catch (err) {
        throw new OpPrereqError(`Invalid disk size for disk ${i}: ${(err as Error).message}`, ECODE.INVAL);
      }
    } else if ('adopt' in disk) {
      if ('spindles' in disk) throw new OpPrereqError('spindles is not a valid option when adopting a disk', ECODE.INVAL);
      if (importing) throw new OpPrereqError('Disk adoption not allowed for instance import', ECODE.INVAL);
      disk.size = 0;
    } else {
      throw new OpPrereqError(`Missing size or adoption source for disk ${i}`, ECODE.INVAL);
    }
    if ('spindles' in disk) {
      const n = Number.parseInt(String(disk.spindles), 10);
      if (Number.isNaN(n)) throw new OpPrereqError(`Invalid spindles for disk ${i}: ${pyStr(disk.spindles)}`, ECODE.INVAL);
      disk.spindles = n;
    }
    disks[i] = disk;
  }
  return disks;
}

/** A key=value option's dictionary (empty when not given). */
export function keyValOpt(ctx: CommandContext, dest: string, option: string): Dict {
  const v = ctx.opts[dest];
  return v === null || v === undefined ? {} : parseKeyVal(option, String(v));
}

/** A yes/no option (Ganeti's "bool" option type): null when not given. */
export function yesNoOpt(ctx: CommandContext, dest: string): boolean | null {
  const v = ctx.opts[dest];
  if (v === null || v === undefined) return null;
  const s = String(v).toLowerCase();
  if (s === 'yes' || s === 'true') return true;
  if (s === 'no' || s === 'false') return false;
  throw new ParameterError(`Invalid boolean value '${s}'`);
}

/** A size option (Ganeti's "unit" option type) in MiB, null when not given. */
export function unitOpt(ctx: CommandContext, dest: string): number | null {
  const v = ctx.opts[dest];
  return v === null || v === undefined ? null : parseUnit(v);
}

/** The OP_INSTANCE_CREATE a create or import command line stands for (GenericInstanceCreate). */
export function instanceCreateOpcode(ctx: CommandContext, mode: 'create' | 'import'): Dict {
  const o = ctx.opts;
  const forthcoming = Boolean(o.forthcoming);
  const commit = Boolean(o.commit);
  if (forthcoming && commit) {
    throw new OpPrereqError('Creating an instance only forthcoming and commiting it are mutally exclusive', ECODE.INVAL);
  }
  const [pnode, snode] = splitNodeOption(o.node);
  let hypervisor: string | null = null;
  let hvparams: Dict = {};
  if (o.hypervisor !== null && o.hypervisor !== undefined) {
    const [hv, params] = parseIdentKeyVal('-H', String(o.hypervisor));
    hypervisor = hv;
    hvparams = params ? { ...params } : {};
  }
  const nicValues = identValues('--net', o.nics);
  const nics = nicValues.length > 0 ? parseNicOption(nicValues) : o.no_nics ? [] : mode === 'create' ? [{}] : [];
  let sdSize: number | null;
  try {
    sdSize = unitOpt(ctx, 'sd_size');
  } catch (err) {
    throw new OpPrereqError(`Invalid disk size for disk 0: ${(err as Error).message}`, ECODE.INVAL);
  }
  const disks = parseDiskOptions(o.disk_template ?? null, identValues('--disk', o.disks), sdSize, mode === 'import');
  const beparams = keyValOpt(ctx, 'beparams', '-B');
  forceDictType(beparams, BES_PARAMETER_COMPAT);
  forceDictType(hvparams, HVS_PARAMETER_TYPES);
  const op: Dict = {
    OP_ID: 'OP_INSTANCE_CREATE',
    instance_name: ctx.args[0],
    mode,
    disks,
    disk_template: o.disk_template ?? null,
    group_name: o.nodegroup ?? null,
    nics,
    conflicts_check: o.conflicts_check !== false,
    pnode,
    snode,
    ip_check: o.ip_check !== false,
    name_check: o.name_check !== false,
    wait_for_sync: o.wait_for_sync !== false,
    file_storage_dir: o.file_storage_dir ?? null,
    file_driver: o.file_driver ?? null,
    iallocator: o.iallocator ?? null,
    hypervisor,
    hvparams,
    beparams,
    osparams: keyValOpt(ctx, 'osparams', '-O'),
    osparams_private: keyValOpt(ctx, 'osparams_private', '--os-parameters-private'),
    osparams_secret: keyValOpt(ctx, 'osparams_secret', '--os-parameters-secret'),
    opportunistic_locking: Boolean(o.opportunistic_locking),
    tags: o.tags === null || o.tags === undefined ? [] : String(o.tags).split(','),
    ignore_ipolicy: Boolean(o.ignore_ipolicy),
    forthcoming,
    commit,
    helper_startup_timeout: o.helper_startup_timeout ?? null,
    helper_shutdown_timeout: o.helper_shutdown_timeout ?? null,
  };
  if (mode === 'create') {
    Object.assign(op, {
      start: o.start !== false,
      os_type: o.os ?? null,
      force_variant: Boolean(o.force_variant),
      src_node: null,
      src_path: null,
      no_install: Boolean(o.no_install),
      identify_defaults: false,
      compress: 'none',
      instance_communication: yesNoOpt(ctx, 'instance_communication') ?? false,
    });
  } else {
    if (forthcoming) throw new OpPrereqError('forthcoming instances can only be created, not imported');
    Object.assign(op, {
      start: false,
      os_type: null,
      force_variant: false,
      src_node: o.src_node ?? null,
      src_path: o.src_dir ?? null,
      no_install: null,
      identify_defaults: Boolean(o.identify_defaults),
      compress: o.compress ?? 'none',
      instance_communication: false,
    });
  }
  return op;
}

/** add / import: build the opcode and run it. */
export async function genericInstanceCreate(ctx: CommandContext, mode: 'create' | 'import'): Promise<number> {
  await submitAndWait(ctx, [instanceCreateOpcode(ctx, mode)]);
  return 0;
}
