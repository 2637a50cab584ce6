// gnt-network: IP networks and their address pools (upstream's gnt_network.py).
import { ECODE, OpPrereqError } from '../../core/errors.ts';
import { pyFixed } from '../../core/pyrepr.ts';
import { makeNameFilter } from '../filter-parser.ts';
import { toolMain, type Command, type CommandContext } from '../framework.ts';
import { DRY_RUN_OPT, PRINT_JOBID_OPT, PRIORITY_OPT, SUBMIT_OPT, submitAndWait } from '../jobs.ts';
import { parseKeyVal, unescapeAndSplit } from '../keyvalue.ts';
import { LIST_FIELDS_OPTIONS, LIST_OPTIONS, runList, runListFields } from '../list.ts';
import type { OptionSpec } from '../parser.ts';
import { tagCommands } from './tags.ts';

const NETWORK_OPT: OptionSpec = { flags: ['--network'], dest: 'network', type: 'string', help: 'IP network in CIDR notation' };
const GATEWAY_OPT: OptionSpec = { flags: ['--gateway'], dest: 'gateway', type: 'string', help: 'IP address of the router (gateway)' };
const ADD_RESERVED_IPS_OPT: OptionSpec = { flags: ['--add-reserved-ips'], dest: 'add_reserved_ips', type: 'string', help: 'Comma-separated list of reserved IPs to add' };
const REMOVE_RESERVED_IPS_OPT: OptionSpec = { flags: ['--remove-reserved-ips'], dest: 'remove_reserved_ips', type: 'string', help: 'Comma-delimited list of reserved IPs to remove' };
const MAC_PREFIX_OPT: OptionSpec = { flags: ['-m', '--mac-prefix'], dest: 'mac_prefix', type: 'string', metavar: 'PREFIX', help: 'Specify the mac prefix for the instance IP addresses, in the format XX:XX:XX' };
const NETWORK6_OPT: OptionSpec = { flags: ['--network6'], dest: 'network6', type: 'string', help: 'IP network in CIDR notation' };
const GATEWAY6_OPT: OptionSpec = { flags: ['--gateway6'], dest: 'gateway6', type: 'string', help: 'IP6 address of the router (gateway)' };
const NOCONFLICTSCHECK_OPT: OptionSpec = { flags: ['--no-conflicts-check'], dest: 'conflicts_check', type: 'false', help: "Don't check for conflicting IPs" };
const TAG_ADD_OPT: OptionSpec = { flags: ['--tags'], dest: 'tags', type: 'string', help: 'Comma-separated list of instance tags' };
const NIC_PARAMS_OPT: OptionSpec = { flags: ['-N', '--nic-parameters'], dest: 'nicparams', type: 'string', help: 'NIC parameters' };
const FORCE_OPT: OptionSpec = { flags: ['-f', '--force'], dest: 'force', help: 'Force the operation' };
const SUBMIT_OPTS = [SUBMIT_OPT, PRINT_JOBID_OPT];

/** constants.NICC_DEFAULTS: what -N leaves out at connect. */
const NICC_DEFAULTS = { mode: 'bridged', link: 'xen-br0', vlan: '' };

const LIST_DEFAULT_FIELDS = ['name', 'network', 'gateway', 'mac_prefix', 'group_list', 'tags'];

/** _HandleReservedIPs: none given is null, an empty string no addresses. */
function reservedIps(value: string | null | undefined): string[] | null {
  if (value === null || value === undefined) return null;
  return value ? unescapeAndSplit(value, ',') : [];
}

const add: Command = {
  name: 'add',
  usage: '<network-name>',
  description: 'Add a new IP network to the cluster',
  args: { min: 1, max: 1 },
  options: [DRY_RUN_OPT, NETWORK_OPT, GATEWAY_OPT, ADD_RESERVED_IPS_OPT, MAC_PREFIX_OPT, NETWORK6_OPT, GATEWAY6_OPT, NOCONFLICTSCHECK_OPT, TAG_ADD_OPT, PRIORITY_OPT, ...SUBMIT_OPTS],
  async run(ctx) {
    const o = ctx.opts;
    if (o.network === null || o.network === undefined) throw new OpPrereqError('The --network option must be given', ECODE.INVAL);
    await submitAndWait(ctx, [{
      OP_ID: 'OP_NETWORK_ADD',
      network_name: ctx.args[0],
      gateway: o.gateway,
      network: o.network,
      gateway6: o.gateway6,
      network6: o.network6,
      mac_prefix: o.mac_prefix,
      add_reserved_ips: reservedIps(o.add_reserved_ips),
      conflicts_check: o.conflicts_check !== false,
      tags: o.tags !== null && o.tags !== undefined ? String(o.tags).split(',') : [],
    }]);
    return 0;
  },
};

/** _GetDefaultGroups: the groups named, or every group's uuid. */
async function targetGroups(ctx: CommandContext, groups: string[]): Promise<string[]> {
  if (groups.length > 0) return groups;
  const rows = (await (await ctx.client()).call('QueryGroups', [[], ['uuid'], false])) as string[][];
  return rows.flat();
}

const connect: Command = {
  name: 'connect',
  usage: '<network> [<group>...]',
  description: 'Map a given network to the specified node group with given mode and link (netparams)',
  args: { min: 1, max: null },
  options: [NOCONFLICTSCHECK_OPT, PRIORITY_OPT, NIC_PARAMS_OPT],
  async run(ctx) {
    const [network, ...groupArgs] = ctx.args;
    const nicparams = { ...NICC_DEFAULTS, ...(ctx.opts.nicparams ? parseKeyVal('-N', ctx.opts.nicparams as string) : {}) } as Record<string, unknown>;
    for (const group of await targetGroups(ctx, groupArgs)) {
      await submitAndWait({ ...ctx, opts: { ...ctx.opts, submit_only: false, print_jobid: false } }, [{
        OP_ID: 'OP_NETWORK_CONNECT',
        group_name: group,
        network_name: network,
        network_mode: nicparams.mode,
        network_link: nicparams.link,
        network_vlan: nicparams.vlan,
        conflicts_check: ctx.opts.conflicts_check !== false,
      }]);
    }
    return 0;
  },
};

const disconnect: Command = {
  name: 'disconnect',
  usage: '<network> [<group>...]',
  description: 'Unmap a given network from a specified node group',
  args: { min: 1, max: null },
  options: [PRIORITY_OPT],
  async run(ctx) {
    const [network, ...groupArgs] = ctx.args;
    for (const group of await targetGroups(ctx, groupArgs)) {
      await submitAndWait(ctx, [{ OP_ID: 'OP_NETWORK_DISCONNECT', group_name: group, network_name: network }]);
    }
    return 0;
  },
};

/** group_list as gnt-network list prints it: "name (mode, link, vlan)", comma-joined. */
function fmtGroupList(data: unknown): string {
  return ((data ?? []) as string[][]).map(([name, mode, link, vlan]) => `${name} (${mode}, ${link}, ${vlan})`).join(', ');
}

const join = (data: unknown) => ((data ?? []) as unknown[]).map(String).join(',');

const list: Command = {
  name: 'list',
  usage: '[<network-name>...]',
  description: `Lists the IP networks in the cluster. The available fields can be shown using the "list-fields" command (see the man page for details). The default list is (in order): ${LIST_DEFAULT_FIELDS.join(', ')}.`,
  args: { min: 0, max: null },
  options: LIST_OPTIONS.filter((o) => o.dest !== 'force_filter'),
  run: (ctx) => runList(ctx, {
    resource: 'network',
    defaultFields: LIST_DEFAULT_FIELDS,
    overrides: {
      group_list: { format: fmtGroupList, alignRight: false },
      inst_list: { format: join, alignRight: false },
      tags: { format: join, alignRight: false },
    },
    filter: (c) => makeNameFilter(c.args),
  }),
};

const listFields: Command = {
  name: 'list-fields',
  usage: '[<fields>...]',
  description: 'Lists all available fields for networks',
  args: { min: 0, max: null },
  options: LIST_FIELDS_OPTIONS,
  run: (ctx) => runListFields(ctx, 'network'),
};

/** textwrap.wrap(text, 64) for a text of single-space-separated words. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ').filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines;
}

const s = (v: unknown) => (v === null || v === undefined ? 'None' : String(v));

const info: Command = {
  name: 'info',
  usage: '[<network>...]',
  description: 'Show information about the network(s)',
  args: { min: 0, max: null },
  options: [],
  async run(ctx) {
    const client = await ctx.client();
    const fields = ['name', 'network', 'gateway', 'network6', 'gateway6', 'mac_prefix', 'free_count', 'reserved_count', 'map', 'group_list',
      'inst_list', 'external_reservations', 'serial_no', 'uuid'];
    const rows = (await client.call('QueryNetworks', [ctx.args, fields, false])) as unknown[][];
    const out: string[] = [];
    for (const row of rows) {
      const [name, network, gateway, network6, gateway6, macPrefix, free, reserved, mapping, groups, instances, extRes, serial, uuid] = row as [
        string, string, unknown, unknown, unknown, unknown, number, number, string, string[][], string[], string, number, string];
      const size = free + reserved;
      out.push(`Network name: ${name}`, `UUID: ${uuid}`, `Serial number: ${serial}`, `  Subnet: ${network}`, `  Gateway: ${s(gateway)}`,
        `  IPv6 Subnet: ${s(network6)}`, `  IPv6 Gateway: ${s(gateway6)}`, `  Mac Prefix: ${s(macPrefix)}`, `  Size: ${size}`,
        `  Free: ${free} (${pyFixed((100 * free) / size, 2)}%)`, '  Usage map:');
      for (let idx = 0; idx < mapping.length; idx += 64) {
        out.push(`     ${String(idx).padStart(4)} ${mapping.slice(idx, idx + 64).padEnd(64)} ${idx + 63}`);
      }
      out.push('         (X) used    (.) free');
      if (extRes) {
        out.push('  externally reserved IPs:');
        for (const line of wrap(extRes, 64)) out.push(`    ${line}`);
      }
      if (groups.length > 0) {
        out.push('  connected to node groups:');
        for (const [group, mode, link, vlan] of groups) out.push(`    ${group} (mode:${mode} link:${link} vlan:${vlan})`);
      } else {
        out.push('  not connected to any node group');
      }
      if (instances.length > 0) {
        out.push(`  used by ${instances.length} instances:`);
        for (const inst of instances) {
          const [[ips, networks]] = (await client.call('QueryInstances', [[inst], ['nic.ips', 'nic.networks'], false])) as [[unknown[], unknown[]]];
          const used = ips.map((ip, idx) => [idx, ip, networks[idx]] as const).filter(([, , net]) => net === uuid).map(([idx, ip]) => `${idx}:${s(ip)}`);
          out.push(`    ${inst}: ${used.join(', ')}`);
        }
      } else {
        out.push('  not used by any instances');
      }
    }
    if (out.length > 0) ctx.out(`${out.join('\n')}\n`);
    return 0;
  },
};

const modify: Command = {
  name: 'modify',
  usage: '<network>',
  description: 'Alters the parameters of a network',
  args: { min: 1, max: 1 },
  options: [DRY_RUN_OPT, ...SUBMIT_OPTS, ADD_RESERVED_IPS_OPT, REMOVE_RESERVED_IPS_OPT, GATEWAY_OPT, MAC_PREFIX_OPT, NETWORK6_OPT, GATEWAY6_OPT, PRIORITY_OPT],
  async run(ctx) {
    const o = ctx.opts;
    const changes: Record<string, unknown> = {
      gateway: o.gateway,
      add_reserved_ips: reservedIps(o.add_reserved_ips),
      remove_reserved_ips: reservedIps(o.remove_reserved_ips),
      mac_prefix: o.mac_prefix,
      gateway6: o.gateway6,
      network6: o.network6,
    };
    if (Object.values(changes).every((v) => v === null || v === undefined)) {
      ctx.err('Please give at least one of the parameters.\n');
      return 1;
    }
    await submitAndWait(ctx, [{ OP_ID: 'OP_NETWORK_SET_PARAMS', network_name: ctx.args[0], ...changes }]);
    return 0;
  },
};

const remove: Command = {
  name: 'remove',
  usage: '[--dry-run] <network>',
  description: 'Remove an (empty) network from the cluster',
  args: { min: 1, max: 1 },
  options: [FORCE_OPT, DRY_RUN_OPT, ...SUBMIT_OPTS, PRIORITY_OPT],
  async run(ctx) {
    await submitAndWait(ctx, [{ OP_ID: 'OP_NETWORK_REMOVE', network_name: ctx.args[0], force: Boolean(ctx.opts.force) }]);
    return 0;
  },
};

export const main = toolMain('gnt-network', [add, connect, disconnect, info, list, listFields, modify, remove, ...tagCommands('network')]);
