// gnt-group: node-group administration (upstream's gnt_group.py).
import { EXIT_FAILURE } from '../../core/constants.ts';
import type { QueryResponse } from '../../core/query.ts';
import { makeNameFilter } from '../filter-parser.ts';
import { formatInfo, pairs, type InfoValue } from '../format/info.ts';
import { pyStr } from '../../core/pyrepr.ts';
import { toolMain, type Command, type CommandContext } from '../framework.ts';
import { JOB_OPTIONS, submitAndWait } from '../jobs.ts';
import { LIST_FIELDS_OPTIONS, LIST_OPTIONS, runList, runListFields } from '../list.ts';
import type { OptionSpec } from '../parser.ts';
import { tagCommands } from './tags.ts';
import { identDict, parseIdentKeyVal, parseKeyVal } from '../keyvalue.ts';

type Dict = Record<string, unknown>;

const ALLOC_POLICY_OPT: OptionSpec = { flags: ['--alloc-policy'], dest: 'alloc_policy', type: 'choice', choices: ['preferred', 'last_resort', 'unallocable'], metavar: '<policy>', help: 'Allocation policy for the node group' };
const NODE_PARAMS_OPT: OptionSpec = { flags: ['--node-parameters'], dest: 'ndparams', type: 'string', metavar: 'NDPARAMS', help: 'Node parameters' };
const DISK_PARAMS_OPT: OptionSpec = { flags: ['-D', '--disk-parameters'], dest: 'diskparams', type: 'append', metavar: 'DISKPARAMS', help: 'Disk template parameters, in the format template:option=value,option=value,...' };
const HV_STATE_OPT: OptionSpec = { flags: ['--hypervisor-state'], dest: 'hv_state', type: 'append', metavar: 'HVSTATE', help: 'Specify hypervisor states' };
const DISK_STATE_OPT: OptionSpec = { flags: ['--disk-state'], dest: 'disk_state', type: 'append', metavar: 'DISKSTATE', help: 'Specify disk states' };
const IPOLICY_OPTS: OptionSpec[] = [
  { flags: ['--ipolicy-bounds-specs'], dest: 'ipolicy_bounds_specs', type: 'string', metavar: 'SPECS', help: 'Complete instance specs limits (min:key=value,...//max:key=value,...)' },
  { flags: ['--ipolicy-disk-templates'], dest: 'ipolicy_disk_templates', type: 'string', metavar: 'TEMPLATES', help: 'Comma-separated list of enabled disk templates' },
  { flags: ['--ipolicy-vcpu-ratio'], dest: 'ipolicy_vcpu_ratio', type: 'string', metavar: 'RATIO', help: 'The maximum allowed vcpu-to-cpu ratio' },
  { flags: ['--ipolicy-spindle-ratio'], dest: 'ipolicy_spindle_ratio', type: 'string', metavar: 'RATIO', help: 'The maximum allowed instances to spindle ratio' },
];
const FORCE_OPT: OptionSpec = { flags: ['-f', '--force'], dest: 'force', help: 'Force the operation' };

/** objects.CreateIPolicyFromOpts for a group: only the keys given. */
function ipolicyFromOpts(o: Record<string, any>): Dict {
  const ipolicy: Dict = {};
  if (o.ipolicy_bounds_specs !== null) {
    ipolicy.minmax = String(o.ipolicy_bounds_specs).split('//').map((part) => {
      const mm: Dict = {};
      for (const spec of part.split('/').filter(Boolean)) {
        const [key, values] = parseIdentKeyVal('--ipolicy-bounds-specs', spec);
        mm[key] = values;
      }
      return mm;
    });
  }
  if (o.ipolicy_disk_templates !== null) ipolicy['disk-templates'] = String(o.ipolicy_disk_templates).split(',').filter(Boolean);
  if (o.ipolicy_vcpu_ratio !== null) ipolicy['vcpu-ratio'] = o.ipolicy_vcpu_ratio;
  if (o.ipolicy_spindle_ratio !== null) ipolicy['spindle-ratio'] = o.ipolicy_spindle_ratio;
  return ipolicy;
}

/** The parameter options of add and modify, as opcode fields. */
function paramFields(o: Record<string, any>): Dict {
  return {
    ndparams: o.ndparams === null ? {} : parseKeyVal('--node-parameters', o.ndparams),
    alloc_policy: o.alloc_policy,
    diskparams: identDict('-D', o.diskparams),
    ipolicy: ipolicyFromOpts(o),
    hv_state: identDict('--hypervisor-state', o.hv_state),
    disk_state: identDict('--disk-state', o.disk_state),
  };
}

const add: Command = {
  name: 'add',
  usage: '<group-name>',
  description: 'Add a new node group to the cluster',
  args: { min: 1, max: 1 },
  options: [ALLOC_POLICY_OPT, NODE_PARAMS_OPT, DISK_PARAMS_OPT, HV_STATE_OPT, DISK_STATE_OPT, ...IPOLICY_OPTS, ...JOB_OPTIONS],
  async run(ctx) {
    await submitAndWait(ctx, [{ OP_ID: 'OP_GROUP_ADD', group_name: ctx.args[0], ...paramFields(ctx.opts) }]);
    return 0;
  },
};

const assignNodes: Command = {
  name: 'assign-nodes',
  usage: '<group-name> <node-name>...',
  description: 'Assign nodes to a group',
  args: { min: 1, max: null },
  options: [FORCE_OPT, ...JOB_OPTIONS],
  async run(ctx) {
    const [group, ...nodes] = ctx.args;
    await submitAndWait(ctx, [{ OP_ID: 'OP_GROUP_ASSIGN_NODES', group_name: group, nodes, force: Boolean(ctx.opts.force) }]);
    return 0;
  },
};

/** gnt-group list's rendering of the ndparams column (_FmtDict). */
function fmtDict(data: unknown): string {
  const d = (data ?? {}) as Dict;
  const keys = Object.keys(d);
  if (keys.length === 0) return '(empty)';
  return keys.map((k) => `${k}=${pyStr(d[k])}`).join(', ');
}

const list: Command = {
  name: 'list',
  usage: '[<group-name>...]',
  description: 'Lists the node groups in the cluster. The available fields can be shown using the "list-fields" command (see the man page for details). The default list is (in order): name, node_cnt, pinst_cnt, alloc_policy, ndparams.',
  args: { min: 0, max: null },
  options: LIST_OPTIONS,
  run: (ctx) => runList(ctx, {
    resource: 'group',
    defaultFields: ['name', 'node_cnt', 'pinst_cnt', 'alloc_policy', 'ndparams'],
    joinedFields: ['node_list', 'pinst_list'],
    overrides: { ndparams: { format: fmtDict, alignRight: false } },
    filter: (c) => makeNameFilter(c.args, { forceFilter: Boolean(c.opts.force_filter) }),
  }),
};

const listFields: Command = {
  name: 'list-fields',
  usage: '[fields...]',
  description: 'Lists all available fields for node groups',
  args: { min: 0, max: null },
  options: LIST_FIELDS_OPTIONS,
  run: (ctx) => runListFields(ctx, 'group'),
};

/** FormatParamsDictInfo: custom values as they are, the others as "default (value)". */
function paramsDictInfo(custom: Dict, actual: Dict): Dict {
  const out: Record<string, InfoValue> = {};
  for (const [key, value] of Object.entries(actual)) {
    if (value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length > 0) {
      out[key] = paramsDictInfo((custom[key] ?? {}) as Dict, value as Dict) as Record<string, InfoValue>;
    } else {
      out[key] = Object.hasOwn(custom, key) ? pyStr(custom[key]) : `default (${pyStr(value)})`;
    }
  }
  return out;
}

/** FormatPolicyInfo for a group (no std specs). */
function policyInfo(custom: Dict, effective: Dict): InfoValue {
  const customMinmax = custom.minmax as Dict[] | undefined;
  const minmax = (customMinmax?.length ? customMinmax : (effective.minmax as Dict[] | undefined) ?? []).map((mm, i) =>
    pairs(...['min', 'max'].map((key): [string, InfoValue] =>
      [`${key}/${i}`, paramsDictInfo(customMinmax?.length ? (mm[key] ?? {}) as Dict : {}, (mm[key] ?? {}) as Dict) as Record<string, InfoValue>])));
  const templates = custom['disk-templates'] as string[] | undefined;
  return pairs(
    ['bounds specs', minmax],
    ['allowed disk templates', templates ? templates.join(', ') : `default (${((effective['disk-templates'] as string[] | undefined) ?? []).join(', ')})`],
    ...['spindle-ratio', 'vcpu-ratio'].map((key): [string, InfoValue] =>
      [key, Object.hasOwn(custom, key) ? pyStr(custom[key]) : `default (${pyStr(effective[key])})`]),
  );
}

const info: Command = {
  name: 'info',
  usage: '[<group>...]',
  description: 'Show group parameters',
  args: { min: 0, max: null },
  options: [],
  async run(ctx) {
    const fields = ['name', 'ndparams', 'custom_ndparams', 'diskparams', 'custom_diskparams', 'ipolicy', 'custom_ipolicy'];
    const filter = ctx.args.length ? ['|', ...ctx.args.map((n) => ['==', 'name', n])] : null;
    const response = (await (await ctx.client()).call('Query', ['group', fields, filter])) as QueryResponse;
    const groups = response.data.map((row) => {
      const [name, nd, customNd, disk, customDisk, ipolicy, customIpolicy] = row.map(([, v]) => v) as [string, Dict, Dict, Dict, Dict, Dict, Dict];
      return pairs(
        ['Node group', name],
        ['Node parameters', paramsDictInfo(customNd, nd) as Record<string, InfoValue>],
        ['Disk parameters', paramsDictInfo(customDisk, disk) as Record<string, InfoValue>],
        ['Instance policy', policyInfo(customIpolicy, ipolicy)],
      );
    });
    ctx.out(`${formatInfo(groups).join('\n')}\n`);
    return 0;
  },
};

function hasAny(v: unknown): boolean {
  return v !== null && v !== undefined && !(typeof v === 'object' && Object.keys(v as object).length === 0);
}

const modify: Command = {
  name: 'modify',
  usage: '<group>',
  description: 'Alters the parameters of a node group',
  args: { min: 1, max: 1 },
  options: [ALLOC_POLICY_OPT, NODE_PARAMS_OPT, HV_STATE_OPT, DISK_STATE_OPT, DISK_PARAMS_OPT, ...IPOLICY_OPTS, ...JOB_OPTIONS],
  async run(ctx: CommandContext) {
    const fields = paramFields(ctx.opts);
    if (!Object.values(fields).some(hasAny)) {
      ctx.err('Please give at least one of the parameters.\n');
      return EXIT_FAILURE;
    }
    const [result] = (await submitAndWait(ctx, [{ OP_ID: 'OP_GROUP_SET_PARAMS', group_name: ctx.args[0], ...fields }])) as [Array<[string, string]> | null];
    if (result && result.length > 0) {
      ctx.out(`Modified node group ${ctx.args[0]}\n`);
      for (const [param, data] of result) ctx.out(` - ${param.padEnd(5)} -> ${data}\n`);
    }
    return 0;
  },
};

const remove: Command = {
  name: 'remove',
  usage: '[--dry-run] <group>',
  description: 'Remove an (empty) node group from the cluster',
  args: { min: 1, max: 1 },
  options: JOB_OPTIONS,
  async run(ctx) {
    await submitAndWait(ctx, [{ OP_ID: 'OP_GROUP_REMOVE', group_name: ctx.args[0] }]);
    return 0;
  },
};

const rename: Command = {
  name: 'rename',
  usage: '[--dry-run] <old-name> <new-name>',
  description: 'Rename a node group',
  args: { min: 2, max: 2 },
  options: JOB_OPTIONS,
  async run(ctx) {
    await submitAndWait(ctx, [{ OP_ID: 'OP_GROUP_RENAME', group_name: ctx.args[0], new_name: ctx.args[1] }]);
    return 0;
  },
};

export const main = toolMain('gnt-group', [add, assignNodes, info, list, listFields, modify, remove, rename, ...tagCommands('nodegroup')]);
