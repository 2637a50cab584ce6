// gnt-cluster: cluster-wide administration.
import { CONFIG_VERSION, EXPORT_VERSION, OS_API_VERSION, PROTOCOL_VERSION, RELEASE_VERSION, VCS_VERSION } from '../../core/constants.ts';
import { ECODE, OpPrereqError } from '../../core/errors.ts';
import { nodeEnv, nodePaths } from '../../util/paths.ts';
import { exitWith, toolMain, type Command, type CommandContext } from '../framework.ts';
import { JOB_OPTIONS, submitAndWait } from '../jobs.ts';
import { ctime } from '../format/time.ts';
import { parseTimespec } from '../timespec.ts';
import { clusterInfoLines } from './cluster-info.ts';
import { verifyCommands } from './cluster-verify.ts';
import { searchTags, tagCommands } from './tags.ts';

function parseKeyValues(text: string, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(/(?<!\\),/)) {
    if (!part) continue;
    const eq = part.indexOf('=');
    if (eq <= 0) throw new OpPrereqError(`Invalid ${what} '${part}' (expected key=value)`, ECODE.INVAL);
    out[part.slice(0, eq)] = part.slice(eq + 1).replace(/\\,/g, ',');
  }
  return out;
}

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
    { flags: ['--file-storage-dir'], dest: 'file_storage_dir', type: 'string', metavar: 'DIR', help: 'Specify the default directory (cluster-wide) for storing the file-based disks' },
    { flags: ['--shared-file-storage-dir'], dest: 'shared_file_storage_dir', type: 'string', metavar: 'DIR', help: 'Specify the default directory (cluster-wide) for storing the shared file-based disks' },
    { flags: ['--no-ssh-init'], dest: 'no_ssh_init', help: 'Accepted for compatibility: no SSH set-up is ever done' },
    { flags: ['--no-etc-hosts'], dest: 'no_etc_hosts', help: 'Accepted for compatibility: /etc/hosts is never modified' },
  ],
  async run(ctx) {
    const { buildInitialConfig, writeClusterFiles, removeClusterFiles, startDaemon, stopDaemon } = await import('../../master/bootstrap.ts');
    const env = nodeEnv();
    const paths = nodePaths(env.root);
    const o = ctx.opts;
    const list = (v: unknown) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : undefined);
    const data = await buildInitialConfig(env, {
      clusterName: ctx.args[0],
      primaryIp: o.primary_ip ?? undefined,
      secondaryIp: o.secondary_ip ?? undefined,
      masterIp: o.master_ip ?? undefined,
      masterNetdev: o.master_netdev ?? undefined,
      masterNetmask: o.master_netmask ?? undefined,
      enabledHypervisors: list(o.enabled_hypervisors),
      enabledDiskTemplates: list(o.enabled_disk_templates),
      nicParams: o.nicparams ? parseKeyValues(o.nicparams, 'NIC parameter') : undefined,
      candidatePoolSize: o.candidate_pool_size ?? undefined,
      macPrefix: o.mac_prefix ?? undefined,
      fileStorageDir: o.file_storage_dir ?? undefined,
      sharedFileStorageDir: o.shared_file_storage_dir ?? undefined,
    });
    writeClusterFiles(paths, data);
    const undo = async (why: string) => {
      await stopDaemon(paths, 'ganeti-masterd');
      await stopDaemon(paths, 'ganeti-noded');
      removeClusterFiles(paths);
      exitWith(`Cluster initialisation failed, nothing was kept: ${why}`);
    };
    for (const role of ['noded', 'masterd'] as const) {
      const r = await startDaemon(role);
      if (r.code !== 0) await undo(r.stderr.trim() || `${role} exited with code ${r.code}`);
    }
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
    const { removeClusterFiles, stopDaemon } = await import('../../master/bootstrap.ts');
    const paths = nodePaths();
    await submitAndWait(ctx, [{ OP_ID: 'OP_CLUSTER_DESTROY' }]);
    (await ctx.client()).close();
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
  async run(ctx) {
    ctx.out(`${String(await configValue(ctx, 'master_node'))}\n`);
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

const modify: Command = {
  name: 'modify',
  usage: '[<opts>...]',
  description: 'Alters the parameters of the cluster',
  args: { min: 0, max: 0 },
  options: [
    { flags: ['-C', '--candidate-pool-size'], dest: 'candidate_pool_size', type: 'int', metavar: 'SIZE', help: 'Set the candidate pool size' },
    { flags: ['--max-running-jobs'], dest: 'max_running_jobs', type: 'int', metavar: 'COUNT', help: 'The maximal number of jobs running simultaneously' },
    { flags: ['--max-tracked-jobs'], dest: 'max_tracked_jobs', type: 'int', metavar: 'COUNT', help: 'The maximal number of jobs tracked by the scheduler' },
    { flags: ['-f', '--force'], dest: 'force', help: 'Force the operation' },
    ...JOB_OPTIONS,
  ],
  async run(ctx) {
    const op: Record<string, unknown> = { OP_ID: 'OP_CLUSTER_SET_PARAMS', force: Boolean(ctx.opts.force) };
    for (const k of ['candidate_pool_size', 'max_running_jobs', 'max_tracked_jobs']) if (ctx.opts[k] !== null) op[k] = ctx.opts[k];
    await submitAndWait(ctx, [op]);
    return 0;
  },
};

export const main = toolMain('gnt-cluster', [destroy, getmaster, info, init, modify, queue, version, watcher, ...verifyCommands, ...tagCommands('cluster'), ...searchTags]);
