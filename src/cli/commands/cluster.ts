// gnt-cluster: cluster-wide administration.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import {
  CONFIG_VERSION, EXPORT_VERSION, OS_API_VERSION, PROTOCOL_VERSION, RELEASE_VERSION, VCS_VERSION,
} from '../../core/constants.ts';
import { ConfigurationError, ECODE, OpPrereqError, ParameterError } from '../../core/errors.ts';
import type { QueryResponse } from '../../core/query.ts';
import { readSsconf } from '../../core/ssconf.ts';
import { nodeEnv, nodePaths } from '../../util/paths.ts';
import { nodedPort } from '../../util/services.ts';
import { loadKey } from '../../rpc/auth.ts';
import { RpcClient, type RpcTarget } from '../../rpc/client.ts';
import { clusterTransport, type RpcTransport } from '../../rpc/transport.ts';
import { RPC_ENCODING_NONE, RPC_ENCODING_ZLIB_BASE64 } from '../../rpc/procedures.ts';
import {
  BES_PARAMETER_COMPAT, DISK_DT_TYPES, forceDictType, HVS_PARAMETER_TYPES, ISPECS_PARAMETER_TYPES, ISPECS_PARAMETERS,
  NDS_PARAMETER_TYPES, NICS_PARAMETER_TYPES, parseUnit,
} from '../../core/params.ts';
import { askUser } from '../confirm.ts';
import { identDict, parseIdentKeyVal, parseKeyVal, unescapeAndSplit, type KeyValues } from '../keyvalue.ts';
import { exitWith, toolMain, type Command, type CommandContext } from '../framework.ts';
import { JOB_OPTIONS, submitAndWait } from '../jobs.ts';
import type { OptionSpec } from '../parser.ts';
import { ctime } from '../format/time.ts';
import { parseTimespec } from '../timespec.ts';
import { clusterInfoLines } from './cluster-info.ts';
import { verifyCommands } from './cluster-verify.ts';
import { failoverCommands } from './cluster-failover.ts';
import { searchTags, tagCommands } from './tags.ts';

/** The yes/no options (upstream's "bool" option type). */
function yesNo(value: string | null): boolean | null {
  if (value === null) return null;
  const v = value.toLowerCase();
  if (v === 'false' || v === 'no') return false;
  if (v === 'true' || v === 'yes') return true;
  throw new ParameterError(`Invalid boolean value '${v}'`);
}

/** uidpool.ParseUidPool: "1000-2000,3000" → [[1000, 2000], [3000, 3000]], sorted. */
export function parseUidPool(value: string): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  const int = (s: string, which: string) => {
    if (!/^\s*[-+]?\d+\s*$/.test(s)) {
      throw new OpPrereqError(`Invalid user-id value for ${which} boundary of user-id range: invalid literal for int() with base 10: '${s}'`, ECODE.INVAL);
    }
    return Number.parseInt(s, 10);
  };
  for (const def of value.split(',')) {
    if (!def) continue;
    const bounds = def.split('-');
    if (bounds.length > 2) {
      throw new OpPrereqError(`Invalid user-id range definition. Only one hyphen allowed: [${bounds.map((b) => `'${b}'`).join(', ')}]`, ECODE.INVAL);
    }
    ranges.push([int(bounds[0], 'lower'), int(bounds[bounds.length - 1], 'higher')]);
  }
  return ranges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
}

const list = (v: unknown) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : undefined);

const init: Command = {
  name: 'init',
  usage: '[<opts>...] <cluster-name>',
  description: 'Initialises a new cluster configuration',
  args: { min: 1, max: 1 },
  options: [
    { flags: ['-s', '--secondary-ip'], dest: 'secondary_ip', type: 'string', metavar: 'ADDRESS', help: 'Specify the secondary ip for this node' },
    { flags: ['--primary-ip'], dest: 'primary_ip', type: 'string', metavar: 'ADDRESS', help: "This node's primary address (default: its name resolved); loopback addresses are allowed" },
    { flags: ['--master-ip'], dest: 'master_ip', type: 'string', metavar: 'ADDRESS', help: 'The cluster (master) IP address (default: the cluster name resolved)' },
    { flags: ['--master-netdev'], dest: 'master_netdev', type: 'string', metavar: 'NETDEV', help: 'Specify the node interface (cluster-wide) on which the master IP address will be added' },
    { flags: ['--master-netmask'], dest: 'master_netmask', type: 'int', metavar: 'NETMASK', help: 'Specify the netmask of the master IP' },
    { flags: ['--enabled-hypervisors'], dest: 'enabled_hypervisors', type: 'string', metavar: 'HYPERVISORS', help: 'Comma-separated list of hypervisors (default: fake)' },
    { flags: ['--enabled-disk-templates'], dest: 'enabled_disk_templates', type: 'string', metavar: 'TEMPLATES', help: 'Comma-separated list of disk templates (default: diskless,file)' },
    { flags: ['-N', '--nic-parameters'], dest: 'nicparams', type: 'string', metavar: 'PARAMS', help: 'NIC parameters' },
    { flags: ['-C', '--candidate-pool-size'], dest: 'candidate_pool_size', type: 'int', metavar: 'SIZE', help: 'Set the candidate pool size' },
    { flags: ['-m', '--mac-prefix'], dest: 'mac_prefix', type: 'string', metavar: 'PREFIX', help: 'Specify the mac prefix for the instance IP addresses' },
    { flags: ['-g', '--vg-name'], dest: 'vg_name', type: 'string', metavar: 'VG', help: 'Specify the volume group name (cluster-wide) for disk allocation [xenvg]' },
    { flags: ['--file-storage-dir'], dest: 'file_storage_dir', type: 'string', metavar: 'DIR', help: 'Specify the default directory (cluster-wide) for storing the file-based disks' },
    { flags: ['--shared-file-storage-dir'], dest: 'shared_file_storage_dir', type: 'string', metavar: 'DIR', help: 'Specify the default directory (cluster-wide) for storing the shared file-based disks' },
    { flags: ['--no-ssh-init'], dest: 'no_ssh_init', help: 'Accepted for compatibility: no SSH set-up is ever done' },
    { flags: ['--no-etc-hosts'], dest: 'no_etc_hosts', help: 'Accepted for compatibility: /etc/hosts is never modified' },
    { flags: ['--no-ssl'], dest: 'no_ssl', help: "The node RPC of this cluster is plain HTTP, not TLS (debugging only; a new node's ganeti-noded must run with --no-ssl to join)" },
  ],
  async run(ctx) {
    const { buildInitialConfig, writeClusterFiles } = await import('../../master/bootstrap.ts');
    const { removeClusterFiles } = await import('../../util/cluster-files.ts');
    const { daemonRunning, startDaemon, stopDaemon } = await import('../../daemons/control.ts');
    const env = nodeEnv();
    const paths = nodePaths(env.root);
    const o = ctx.opts;
    const data = await buildInitialConfig(env, {
      clusterName: ctx.args[0],
      primaryIp: o.primary_ip ?? undefined,
      secondaryIp: o.secondary_ip ?? undefined,
      masterIp: o.master_ip ?? undefined,
      masterNetdev: o.master_netdev ?? undefined,
      masterNetmask: o.master_netmask ?? undefined,
      enabledHypervisors: list(o.enabled_hypervisors),
      enabledDiskTemplates: list(o.enabled_disk_templates),
      nicParams: o.nicparams ? Object.fromEntries(Object.entries(parseKeyVal('-N', o.nicparams)).map(([k, v]) => [k, String(v)])) : undefined,
      candidatePoolSize: o.candidate_pool_size ?? undefined,
      macPrefix: o.mac_prefix ?? undefined,
      fileStorageDir: o.file_storage_dir ?? undefined,
      sharedFileStorageDir: o.shared_file_storage_dir ?? undefined,
      vgName: o.vg_name ?? undefined,
    });
    writeClusterFiles(paths, data, { ssl: !o.no_ssl });
    // A noded already running (started by systemd after `ganeti install`) is kept: it
    // serves the new cluster certificate within seconds (src/node/tls.ts).
    const nodedWasRunning = daemonRunning(paths, 'ganeti-noded');
    const undo = async (why: string) => {
      await stopDaemon(paths, 'ganeti-rapi');
      await stopDaemon(paths, 'ganeti-masterd');
      if (!nodedWasRunning) await stopDaemon(paths, 'ganeti-noded');
      removeClusterFiles(paths);
      exitWith(`Cluster initialisation failed, nothing was kept: ${why}`);
    };
    for (const role of nodedWasRunning ? ['masterd'] as const : ['noded', 'masterd'] as const) {
      const r = await startDaemon(role);
      if (r.code !== 0) await undo(r.stderr.trim() || `${role} exited with code ${r.code}`);
    }
    // The remote API runs with the master daemon; the cluster works without it, so its failure only warns.
    const rapi = await startDaemon('rapi');
    if (rapi.code !== 0) process.stderr.write(`Warning: could not start ganeti-rapi: ${rapi.stderr.trim() || `exit code ${rapi.code}`}\n`);
    try {
      await submitAndWait({ ...ctx, opts: { ...ctx.opts, submit_only: false, print_jobid: false } }, [{ OP_ID: 'OP_CLUSTER_POST_INIT' }]);
    } catch (err) {
      await undo((err as Error).message);
    }
    return 0;
  },
};

const destroy: Command = {
  name: 'destroy',
  usage: '',
  description: 'Destroy cluster',
  args: { min: 0, max: 0 },
  options: [{ flags: ['--yes-do-it', '--ya-rly'], dest: 'yes_do_it', help: 'Destroy cluster' }],
  async run(ctx) {
    if (!ctx.opts.yes_do_it) {
      exitWith('Destroying a cluster is irreversible. If you really want destroy this cluster, supply the --yes-do-it option.');
    }
    const { removeClusterFiles } = await import('../../util/cluster-files.ts');
    const { stopDaemon } = await import('../../daemons/control.ts');
    const paths = nodePaths();
    await submitAndWait(ctx, [{ OP_ID: 'OP_CLUSTER_DESTROY' }]);
    (await ctx.client()).close();
    await stopDaemon(paths, 'ganeti-rapi');
    await stopDaemon(paths, 'ganeti-masterd');
    await stopDaemon(paths, 'ganeti-noded');
    removeClusterFiles(paths);
    return 0;
  },
};

const info: Command = {
  name: 'info',
  aliases: ['show'],
  usage: '[--roman]',
  description: 'Show cluster configuration',
  args: { min: 0, max: 0 },
  options: [{ flags: ['--roman'], dest: 'roman_integers', help: 'Use roman numbers for positive integers' }],
  async run(ctx) {
    const result = (await (await ctx.client()).call('QueryClusterInfo', [])) as Record<string, unknown>;
    ctx.out(clusterInfoLines(result));
    return 0;
  },
};

async function configValue(ctx: CommandContext, name: string): Promise<unknown> {
  const [v] = (await (await ctx.client()).call('QueryConfigValues', [[name]])) as unknown[];
  return v;
}

const getmaster: Command = {
  name: 'getmaster',
  usage: '',
  description: 'Shows the cluster master',
  args: { min: 0, max: 0 },
  options: [],
  // From this node's ssconf, as upstream (bootstrap.GetMaster): it answers without a master daemon.
  async run(ctx) {
    const file = nodePaths().ssconfFile('master_node');
    const master = readSsconf(file)?.[0];
    if (!master) throw new ConfigurationError(`Can't read ssconf file ${file}: this node is not part of a cluster`);
    ctx.out(`${master}\n`);
    return 0;
  },
};

const version: Command = {
  name: 'version',
  usage: '',
  description: 'Shows the cluster version',
  args: { min: 0, max: 0 },
  options: [],
  async run(ctx) {
    ctx.out([
      `Software version: ${RELEASE_VERSION}`,
      `Internode protocol: ${PROTOCOL_VERSION}`,
      `Configuration format: ${CONFIG_VERSION}`,
      `OS api version: ${OS_API_VERSION}`,
      `Export interface: ${EXPORT_VERSION}`,
      `VCS version: ${VCS_VERSION}`,
      '',
    ].join('\n'));
    return 0;
  },
};

const queue: Command = {
  name: 'queue',
  usage: 'drain|undrain|info',
  description: 'Change queue properties',
  args: { min: 1, max: 1 },
  options: [],
  async run(ctx) {
    const client = await ctx.client();
    switch (ctx.args[0]) {
      case 'drain':
      case 'undrain':
        await client.call('SetDrainFlag', [ctx.args[0] === 'drain']);
        return 0;
      case 'info':
        ctx.out(`The drain flag is ${(await configValue(ctx, 'drain_flag')) ? 'set' : 'unset'}\n`);
        return 0;
      default:
        throw new OpPrereqError("Command must be one of 'drain', 'undrain', 'info'", ECODE.INVAL);
    }
  },
};

const watcher: Command = {
  name: 'watcher',
  usage: '{pause <timespec>|continue|info}',
  description: 'Change watcher properties',
  args: { min: 1, max: 2 },
  options: [],
  async run(ctx) {
    const client = await ctx.client();
    const [sub, arg] = ctx.args;
    const pausedUntil = (until: unknown) => `The watcher is paused until ${ctime(Number(until))}.\n`;
    if (sub === 'pause' && arg !== undefined) {
      ctx.out(pausedUntil(await client.call('SetWatcherPause', [Date.now() / 1000 + parseTimespec(arg)])));
    } else if (sub === 'continue' && arg === undefined) {
      await client.call('SetWatcherPause', [null]);
      ctx.out('The watcher is no longer paused.\n');
    } else if (sub === 'info' && arg === undefined) {
      const until = await configValue(ctx, 'watcher_pause');
      ctx.out(until === null || Number(until) < Date.now() / 1000 ? 'The watcher is not paused.\n' : pausedUntil(until));
    } else {
      throw new OpPrereqError("Command must be one of 'pause <timespec>', 'continue', 'info'", ECODE.INVAL);
    }
    return 0;
  },
};

// ---------------------------------------------------------------------------
// modify

const ipolicyOptions: OptionSpec[] = [
  { flags: ['--ipolicy-bounds-specs'], dest: 'ipolicy_bounds_specs', type: 'string', metavar: 'IPOLICY_BOUNDS_SPECS', help: 'Complete instance specs limits (min:k=v,.../max:k=v,...; several pairs separated by //)' },
  { flags: ['--ipolicy-std-specs'], dest: 'ipolicy_std_specs', type: 'string', metavar: 'STDSPECS', help: 'Complete standard instance specs' },
  { flags: ['--ipolicy-disk-templates'], dest: 'ipolicy_disk_templates', type: 'string', metavar: 'TEMPLATES', help: 'Comma-separated list of enabled disk templates' },
  { flags: ['--ipolicy-vcpu-ratio'], dest: 'ipolicy_vcpu_ratio', type: 'float', metavar: 'RATIO', help: 'The maximum allowed vcpu-to-cpu ratio' },
  { flags: ['--ipolicy-spindle-ratio'], dest: 'ipolicy_spindle_ratio', type: 'float', metavar: 'RATIO', help: 'The maximum allowed instances to spindle ratio' },
];

/** cli._ParseISpec: one instance spec, sizes with units, every value an integer. */
function parseISpec(spec: KeyValues, keyname: string, required: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = { ...spec };
  for (const k of ['disk-size', 'memory-size']) {
    if (k in out) {
      try {
        out[k] = parseUnit(out[k]);
      } catch (err) {
        throw new OpPrereqError(`Invalid parameter ${k} (${String(out[k])}) in ${keyname} instance specs: ${(err as Error).message}`, ECODE.INVAL);
      }
    }
  }
  forceDictType(out, ISPECS_PARAMETER_TYPES);
  if (required) {
    const missing = ISPECS_PARAMETERS.filter((p) => !(p in out));
    if (missing.length) throw new OpPrereqError(`Missing parameters in ipolicy spec ${keyname}: ${missing.join(', ')}`, ECODE.INVAL);
  }
  return out;
}

/** cli.CreateIPolicyFromOpts for the cluster: only what was given. */
function ipolicyFromOpts(o: Record<string, any>): Record<string, unknown> {
  const ipolicy: Record<string, unknown> = {};
  if (o.ipolicy_bounds_specs !== null) {
    ipolicy.minmax = String(o.ipolicy_bounds_specs).split('//').map((pair) => {
      const out: Record<string, unknown> = {};
      for (const part of pair.split('/')) {
        const [key, spec] = parseIdentKeyVal('--ipolicy-bounds-specs', part);
        if (key !== 'min' && key !== 'max') throw new OpPrereqError(`Invalid key in bounds instance specifications: ${key}`, ECODE.INVAL);
        out[key] = parseISpec(spec || {}, key, true);
      }
      return out;
    });
  }
  if (o.ipolicy_std_specs !== null) ipolicy.std = parseISpec(parseKeyVal('--ipolicy-std-specs', o.ipolicy_std_specs), 'std', false);
  if (o.ipolicy_disk_templates !== null) ipolicy['disk-templates'] = String(o.ipolicy_disk_templates).split(',').filter(Boolean);
  if (o.ipolicy_vcpu_ratio !== null) ipolicy['vcpu-ratio'] = o.ipolicy_vcpu_ratio;
  if (o.ipolicy_spindle_ratio !== null) ipolicy['spindle-ratio'] = o.ipolicy_spindle_ratio;
  return ipolicy;
}

const modify: Command = {
  name: 'modify',
  usage: '[<opts>...]',
  description: 'Alters the parameters of the cluster',
  args: { min: 0, max: 0 },
  options: [
    { flags: ['-f', '--force'], dest: 'force', help: 'Force the operation' },
    { flags: ['-B', '--backend-parameters'], dest: 'beparams', type: 'string', metavar: 'PARAMS', help: 'Backend parameters' },
    { flags: ['-C', '--candidate-pool-size'], dest: 'candidate_pool_size', type: 'int', metavar: 'SIZE', help: 'Set the candidate pool size' },
    { flags: ['--max-running-jobs'], dest: 'max_running_jobs', type: 'int', metavar: 'COUNT', help: 'The maximal number of jobs running simultaneously' },
    { flags: ['--max-tracked-jobs'], dest: 'max_tracked_jobs', type: 'int', metavar: 'COUNT', help: 'The maximal number of jobs tracked by the scheduler' },
    { flags: ['--enabled-hypervisors'], dest: 'enabled_hypervisors', type: 'string', metavar: 'HYPERVISORS', help: 'Comma-separated list of hypervisors' },
    { flags: ['-H', '--hypervisor-parameters'], dest: 'hvparams', type: 'append', metavar: 'HVNAME:PARAMS', help: 'Hypervisor and hypervisor options, in the format hypervisor:option=value,option=value,...' },
    { flags: ['-m', '--mac-prefix'], dest: 'mac_prefix', type: 'string', metavar: 'PREFIX', help: 'Specify the mac prefix for the instance IP addresses, in the format XX:XX:XX' },
    { flags: ['--master-netdev'], dest: 'master_netdev', type: 'string', metavar: 'NETDEV', help: 'Specify the node interface (cluster-wide) on which the master IP address will be added (cluster init default: xen-br0)' },
    { flags: ['--master-netmask'], dest: 'master_netmask', type: 'string', metavar: 'NETMASK', help: 'Specify the netmask of the master IP' },
    { flags: ['-N', '--nic-parameters'], dest: 'nicparams', type: 'string', metavar: 'PARAMS', help: 'NIC parameters' },
    { flags: ['--maintain-node-health'], dest: 'maintain_node_health', type: 'string', metavar: '<yes|no>', help: 'Configure the cluster to automatically maintain node health, by shutting down unknown instances, shutting down unknown DRBD devices, etc.' },
    { flags: ['--uid-pool'], dest: 'uid_pool', type: 'string', metavar: 'UID-POOL', help: 'A list of user-ids or user-id ranges separated by commas' },
    { flags: ['--add-uids'], dest: 'add_uids', type: 'string', metavar: 'UID-POOL', help: 'A list of user-ids or user-id ranges separated by commas, to be added to the user-id pool' },
    { flags: ['--remove-uids'], dest: 'remove_uids', type: 'string', metavar: 'UID-POOL', help: 'A list of user-ids or user-id ranges separated by commas, to be removed from the user-id pool' },
    { flags: ['-I', '--default-iallocator'], dest: 'default_iallocator', type: 'string', metavar: 'DEFAULT_IALLOCATOR', help: 'Set the default instance allocator plugin' },
    { flags: ['--default-iallocator-params'], dest: 'default_iallocator_params', type: 'string', metavar: 'PARAMS', help: 'Set the default instance allocator plugin parameters' },
    { flags: ['--reserved-lvs'], dest: 'reserved_lvs', type: 'string', metavar: 'RESERVEDLVS', help: 'A comma-separated list of reserved logical volumes names, that will be ignored by cluster verify' },
    { flags: ['--prealloc-wipe-disks'], dest: 'prealloc_wipe_disks', type: 'string', metavar: '<yes|no>', help: 'Wipe disks prior to instance creation' },
    { flags: ['--node-parameters'], dest: 'ndparams', type: 'string', metavar: 'PARAMS', help: 'Node parameters' },
    { flags: ['--use-external-mip-script'], dest: 'use_external_mip_script', type: 'string', metavar: '<yes|no>', help: 'Specify whether to run a user-provided script for the master IP address turnup and turndown operations' },
    { flags: ['-D', '--disk-parameters'], dest: 'diskparams', type: 'append', metavar: 'TEMPLATE:PARAMS', help: 'Disk template parameters, in the format template:option=value,option=value,...' },
    { flags: ['-g', '--vg-name'], dest: 'vg_name', type: 'string', metavar: 'VG', help: 'Specify the volume group name (cluster-wide) for disk allocation (empty to disable lvm storage)' },
    { flags: ['--enabled-disk-templates'], dest: 'enabled_disk_templates', type: 'string', metavar: 'TEMPLATES', help: 'Comma-separated list of disk templates' },
    { flags: ['--modify-etc-hosts'], dest: 'modify_etc_hosts', type: 'string', metavar: '<yes|no>', help: 'Defines whether the cluster should autonomously modify and keep in sync the /etc/hosts file of the nodes' },
    { flags: ['--user-shutdown'], dest: 'enabled_user_shutdown', type: 'string', metavar: '<yes|no>', help: 'Whether user shutdown is enabled' },
    { flags: ['--file-storage-dir'], dest: 'file_storage_dir', type: 'string', metavar: 'DIR', help: 'Specify the default directory (cluster-wide) for storing the file-based disks' },
    { flags: ['--shared-file-storage-dir'], dest: 'shared_file_storage_dir', type: 'string', metavar: 'SHAREDDIR', help: 'Specify the default directory (cluster-wide) for storing the shared file-based disks' },
    { flags: ['--compression-tools'], dest: 'compression_tools', type: 'string', metavar: 'TOOLS', help: 'Comma-separated list of compression tools which are allowed to be used by Ganeti in various operations' },
    ...ipolicyOptions,
    ...JOB_OPTIONS,
  ],
  async run(ctx) {
    const o = ctx.opts;
    const hv = (o.hvparams as string[]) ?? [];
    const dp = (o.diskparams as string[]) ?? [];
    const anyGiven = o.enabled_hypervisors || hv.length || o.beparams || o.nicparams || o.ndparams !== null || dp.length ||
      ['candidate_pool_size', 'max_running_jobs', 'max_tracked_jobs', 'uid_pool', 'maintain_node_health', 'add_uids', 'remove_uids',
        'default_iallocator', 'default_iallocator_params', 'reserved_lvs', 'mac_prefix', 'master_netdev', 'master_netmask',
        'use_external_mip_script', 'prealloc_wipe_disks', 'ipolicy_bounds_specs', 'ipolicy_std_specs', 'ipolicy_disk_templates',
        'ipolicy_vcpu_ratio', 'ipolicy_spindle_ratio', 'modify_etc_hosts', 'file_storage_dir', 'shared_file_storage_dir',
        'compression_tools', 'enabled_user_shutdown', 'vg_name'].some((k) => o[k] !== null) ||
      o.enabled_disk_templates;
    if (!anyGiven) {
      ctx.err('Please give at least one of the parameters.\n');
      return 1;
    }
    // The parameter dicts are checked and converted here already, as upstream's client does.
    const hvparams = identDict('--hypervisor-parameters', hv);
    for (const params of Object.values(hvparams)) forceDictType(params, HVS_PARAMETER_TYPES);
    const diskparams = identDict('--disk-parameters', dp);
    for (const params of Object.values(diskparams)) forceDictType(params, DISK_DT_TYPES);
    const beparams = o.beparams ? parseKeyVal('--backend-parameters', o.beparams) : {};
    forceDictType(beparams, BES_PARAMETER_COMPAT);
    const nicparams = o.nicparams ? parseKeyVal('--nic-parameters', o.nicparams) : {};
    forceDictType(nicparams, NICS_PARAMETER_TYPES);
    let ndparams: KeyValues | null = null;
    if (o.ndparams !== null) {
      ndparams = parseKeyVal('--node-parameters', o.ndparams);
      forceDictType(ndparams, NDS_PARAMETER_TYPES);
    }
    let masterNetmask: number | null = null;
    if (o.master_netmask !== null) {
      if (!/^\s*[-+]?\d+\s*$/.test(o.master_netmask)) {
        ctx.err('The --master-netmask option expects an int parameter.\n');
        return 1;
      }
      masterNetmask = Number.parseInt(o.master_netmask, 10);
    }
    let reservedLvs: string[] | null = null;
    if (o.reserved_lvs !== null) reservedLvs = o.reserved_lvs === '' ? [] : unescapeAndSplit(o.reserved_lvs);
    let compressionTools: string[] | null = null;
    if (o.compression_tools !== null) {
      compressionTools = String(o.compression_tools).split(',').filter(Boolean);
      if (compressionTools.length === 1 && compressionTools[0].toLowerCase() === 'default') compressionTools = ['gzip', 'gzip-fast', 'gzip-slow'];
    }
    const op: Record<string, unknown> = {
      OP_ID: 'OP_CLUSTER_SET_PARAMS',
      force: Boolean(o.force),
      enabled_hypervisors: o.enabled_hypervisors !== null ? String(o.enabled_hypervisors).split(',') : null,
      hvparams,
      beparams,
      nicparams,
      ndparams,
      diskparams,
      ipolicy: ipolicyFromOpts(o),
      candidate_pool_size: o.candidate_pool_size,
      max_running_jobs: o.max_running_jobs,
      max_tracked_jobs: o.max_tracked_jobs,
      maintain_node_health: yesNo(o.maintain_node_health),
      modify_etc_hosts: yesNo(o.modify_etc_hosts),
      uid_pool: o.uid_pool !== null ? parseUidPool(o.uid_pool) : null,
      add_uids: o.add_uids !== null ? parseUidPool(o.add_uids) : null,
      remove_uids: o.remove_uids !== null ? parseUidPool(o.remove_uids) : null,
      default_iallocator: o.default_iallocator,
      default_iallocator_params: o.default_iallocator_params !== null ? parseKeyVal('--default-iallocator-params', o.default_iallocator_params) : null,
      prealloc_wipe_disks: yesNo(o.prealloc_wipe_disks),
      mac_prefix: o.mac_prefix,
      master_netdev: o.master_netdev,
      master_netmask: masterNetmask,
      reserved_lvs: reservedLvs,
      use_external_mip_script: yesNo(o.use_external_mip_script),
      enabled_disk_templates: o.enabled_disk_templates ? String(o.enabled_disk_templates).split(',') : null,
      file_storage_dir: o.file_storage_dir,
      shared_file_storage_dir: o.shared_file_storage_dir,
      compression_tools: compressionTools,
      enabled_user_shutdown: yesNo(o.enabled_user_shutdown),
      vg_name: o.vg_name,
    };
    // Absent rather than null: the opcode table fills in its defaults.
    for (const [k, v] of Object.entries(op)) if (v === null) delete op[k];
    await submitAndWait(ctx, [op]);
    return 0;
  },
};

// ---------------------------------------------------------------------------
// rename, redist-conf

const rename: Command = {
  name: 'rename',
  usage: '<new-name>',
  description: 'Rename the cluster',
  args: { min: 1, max: 1 },
  options: [{ flags: ['-f', '--force'], dest: 'force', help: 'Do not ask for confirmation' }, ...JOB_OPTIONS.filter((opt) => opt.dest === 'dry_run')],
  async run(ctx) {
    const client = await ctx.client();
    const [clusterName] = (await client.call('QueryConfigValues', [['cluster_name']])) as [string];
    const newName = ctx.args[0];
    if (!ctx.opts.force) {
      const question = `This will rename the cluster from '${clusterName}' to '${newName}'. If you are connected over the network to the cluster name, the operation is very dangerous as the IP address will be removed from the node and the change may not go through. Continue?`;
      if (!(await askUser(question))) return 1;
    }
    const [result] = await submitAndWait(ctx, [{ OP_ID: 'OP_CLUSTER_RENAME', name: newName }]);
    if (result) ctx.out(`Cluster renamed from '${clusterName}' to '${String(result)}'\n`);
    return 0;
  },
};

const redistConf: Command = {
  name: 'redist-conf',
  usage: '',
  description: 'Forces a push of the configuration file and ssconf files to the nodes in the cluster',
  args: { min: 0, max: 0 },
  options: [{ flags: ['--yes-do-it', '--ya-rly'], dest: 'yes_do_it', help: 'Submit even if the queue is drained' }, ...JOB_OPTIONS],
  async run(ctx) {
    const op = { OP_ID: 'OP_CLUSTER_REDIST_CONF' };
    if (ctx.opts.yes_do_it) {
      // Upstream's SubmitOpCodeToDrainedQueue: submitted past the drain flag and followed.
      const { prepareOpcode, pollJob } = await import('../jobs.ts');
      const client = await ctx.client();
      const id = Number(await client.call('SubmitJobToDrainedQueue', [[prepareOpcode(ctx, op)]]));
      await pollJob(client, id, ctx);
    } else {
      await submitAndWait(ctx, [op]);
    }
    return 0;
  },
};

// ---------------------------------------------------------------------------
// command, copyfile: upstream runs ssh/scp from the master; here the master's CLI (root,
// holding the cluster key) sends authenticated node RPCs, to all nodes in parallel.

interface NodeRow {
  name: string;
  pip: string;
  offline: boolean;
  group: string;
  groupUuid: string;
  master: boolean;
}

const NODE_OPTIONS: OptionSpec[] = [
  { flags: ['-n', '--node'], dest: 'nodes', type: 'append', metavar: '<node>', help: 'Node to run the command on (can be given multiple times; default: all nodes)' },
  { flags: ['-g', '--node-group'], dest: 'nodegroup', type: 'string', metavar: '<nodegroup>', help: 'Node group (name or uuid)' },
];

/** Python's "nice sort": digit runs compare as numbers (node2 before node10). */
function niceKey(name: string): Array<string | number> {
  return name.split(/(\d+)/).map((p, i) => (i % 2 ? Number(p) : p));
}
function niceCompare(a: string, b: string): number {
  const [ka, kb] = [niceKey(a), niceKey(b)];
  for (let i = 0; i < Math.min(ka.length, kb.length); i++) {
    if (ka[i] === kb[i]) continue;
    return typeof ka[i] === 'number' && typeof kb[i] === 'number' ? (ka[i] as number) - (kb[i] as number) : String(ka[i]) < String(kb[i]) ? -1 : 1;
  }
  return ka.length - kb.length;
}

/** cli.GetOnlineNodes: the selected nodes, offline ones skipped with a note on stderr. */
async function onlineNodes(ctx: CommandContext, opts: { filterMaster: boolean }): Promise<NodeRow[]> {
  const fields = ['name', 'pip', 'offline', 'group', 'group.uuid', 'master'];
  const response = (await (await ctx.client()).call('Query', ['node', fields, null])) as QueryResponse;
  let rows: NodeRow[] = response.data.map((r) => {
    const v = r.map(([, value]) => value);
    return { name: String(v[0]), pip: String(v[1]), offline: Boolean(v[2]), group: String(v[3]), groupUuid: String(v[4]), master: Boolean(v[5]) };
  }).sort((a, b) => niceCompare(a.name, b.name));
  const wanted = (ctx.opts.nodes as string[]) ?? [];
  if (wanted.length) {
    const picked = new Set<NodeRow>();
    for (const w of wanted) {
      const exact = rows.find((r) => r.name === w);
      const short = rows.filter((r) => r.name.split('.')[0] === w);
      const row = exact ?? (short.length === 1 ? short[0] : undefined);
      if (!row) throw new OpPrereqError(`Node name ${w} not found`, ECODE.NOENT);
      picked.add(row);
    }
    rows = rows.filter((r) => picked.has(r));
  }
  if (ctx.opts.nodegroup !== null) rows = rows.filter((r) => r.group === ctx.opts.nodegroup || r.groupUuid === ctx.opts.nodegroup);
  if (opts.filterMaster) rows = rows.filter((r) => !r.master);
  const offline = rows.filter((r) => r.offline);
  if (offline.length) ctx.err(`Note: skipping offline node(s): ${offline.map((r) => r.name).join(', ')}\n`);
  return rows.filter((r) => !r.offline);
}

/** The RPC client of the master's operator: signs with the cluster key, pins the cluster certificate (root only). */
function operatorRpc(): RpcClient {
  const file = nodePaths().clusterKey;
  let key: Uint8Array;
  try {
    key = loadKey(file, 'cluster key');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'EACCES' ? 'permission denied (run this command as root)' : e.code === 'ENOENT' ? 'not found (run this command on the master node)' : e.message;
    exitWith(`Cannot read the cluster key ${file}: ${why}`);
  }
  let transport: RpcTransport;
  try {
    transport = clusterTransport(nodePaths());
  } catch (err) {
    return exitWith((err as Error).message);
  }
  return new RpcClient(() => key, () => transport);
}

const target = (r: NodeRow): RpcTarget => ({ name: r.name, address: r.pip, port: nodedPort() });

const command: Command = {
  name: 'command',
  usage: '[-n <node-name>...] <command>',
  description: 'Runs a command on all (or only some) nodes',
  args: { min: 1, max: null },
  options: [
    ...NODE_OPTIONS,
    { flags: ['-M', '--show-machine-names'], dest: 'show_machine_names', help: 'Add machine name to command output' },
    { flags: ['--failure-only'], dest: 'failure_only', help: 'Display output only for failed nodes' },
  ],
  async run(ctx) {
    const cmd = ctx.args.join(' ');
    const nodes = await onlineNodes(ctx, { filterMaster: false });
    // The master last, as upstream (a command that restarts daemons hits it at the end).
    const ordered = [...nodes.filter((n) => !n.master), ...nodes.filter((n) => n.master)];
    const rpc = operatorRpc();
    try {
      const results = await rpc.callMany(ordered.map(target), 'run_command', [cmd]);
      for (const node of ordered) {
        const r = results.get(node.name)!;
        // An unreachable node reads like a failed ssh: exit code 255 and the error as output.
        const { exit_code: code, output } = r.ok ? (r.payload as { exit_code: number; output: string }) : { exit_code: 255, output: `${r.error}\n` };
        if (ctx.opts.failure_only && code === 0) continue;
        ctx.out('------------------------------------------------\n');
        if (ctx.opts.show_machine_names) {
          for (const line of output.split(/\r?\n/).slice(0, output.endsWith('\n') ? -1 : undefined)) ctx.out(`${node.name}: ${line}\n`);
        } else {
          ctx.out(`node: ${node.name}\n${output}\n`);
        }
        ctx.out(`return code = ${code}\n`);
      }
    } finally {
      rpc.close();
    }
    return 0;
  },
};

/** An absolute path on the master as every node sees it (relative to the node's root). */
function clusterPath(file: string): string {
  const root = nodeEnv().root;
  if (root === '/') return file;
  const rel = path.relative(root, file);
  return rel.startsWith('..') || path.isAbsolute(rel) ? file : `/${rel}`;
}

/** The file as an RPC blob; binary content travels zlib+base64 so no byte is changed. */
function fileBlob(data: Buffer): [number, string] {
  const text = data.toString('utf8');
  if (data.length < 512 && Buffer.from(text, 'utf8').equals(data)) return [RPC_ENCODING_NONE, text];
  return [RPC_ENCODING_ZLIB_BASE64, zlib.deflateSync(data, { level: 3 }).toString('base64')];
}

const copyfile: Command = {
  name: 'copyfile',
  usage: '[-n <node-name>...] <filename>',
  description: 'Copies a file to all (or only some) nodes',
  args: { min: 1, max: 1 },
  options: [
    ...NODE_OPTIONS,
    { flags: ['--use-replication-network'], dest: 'use_replication_network', help: 'Whether to use the replication network for talking to the nodes' },
  ],
  async run(ctx) {
    const filename = path.resolve(ctx.args[0]);
    if (!fs.existsSync(filename)) throw new OpPrereqError(`No such filename '${filename}'`, ECODE.INVAL);
    const nodes = await onlineNodes(ctx, { filterMaster: true });
    if (nodes.length === 0) return 0;
    const st = fs.statSync(filename);
    if (!st.isFile()) {
      for (const n of nodes) ctx.err(`Copy of file ${filename} to node ${n.name} failed: not a regular file\n`);
      return 0;
    }
    const rpc = operatorRpc();
    try {
      const args = [clusterPath(filename), fileBlob(fs.readFileSync(filename)), st.mode & 0o7777];
      const results = await rpc.callMany(nodes.map(target), 'copy_file', args);
      for (const n of nodes) {
        const r = results.get(n.name)!;
        if (!r.ok) ctx.err(`Copy of file ${filename} to node ${n.name} failed: ${r.error}\n`);
      }
    } finally {
      rpc.close();
    }
    return 0;
  },
};

export const main = toolMain('gnt-cluster', [command, copyfile, destroy, getmaster, info, init, modify, queue, redistConf, rename, version, watcher, ...verifyCommands, ...failoverCommands, ...tagCommands('cluster'), ...searchTags]);
