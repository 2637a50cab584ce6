// Cluster-wide opcodes: post-init, destroy, modify (OP_CLUSTER_SET_PARAMS), rename and
// redist-conf, with upstream's checks and messages (lib/cmdlib/cluster/__init__.py).
import net from 'node:net';
import dns from 'node:dns/promises';
import path from 'node:path';
import { DISK_TEMPLATES, HYPERVISORS } from '../../core/constants.ts';
import { nodedPort } from '../../util/services.ts';
import {
  ConfigurationError, ECODE, HypervisorError, OpPrereqError, ResolverError,
} from '../../core/errors.ts';
import type { OpInput } from '../../core/opcodes.ts';
import { pyRepr, pyStr } from '../../core/pyrepr.ts';
import * as D from '../config/defaults.ts';
import {
  BES_PARAMETER_TYPES, DISK_DEFAULTS, DISK_DT_TYPES, forceDictType, HV_DEFAULTS, HVS_PARAMETER_TYPES, isUidPool, ISPECS_PARAMETER_TYPES,
  ISPECS_PARAMETERS, NDS_PARAMETER_TYPES, NICS_PARAMETER_TYPES, pyFloat, type UidRange,
} from '../../core/params.ts';
import type { ClusterObject, NodeObject } from '../config/model.ts';
import { logInfo, rpcTarget, type HookSpec, type LockPlan, type LogicalUnit, type LUContext } from './base.ts';
import { nodesToPromote, poolStats } from './candidates.ts';
import { volumeGroupProblem } from '../../node/storage/lvm.ts';
import { iallocatorAvailable } from '../iallocator/runner.ts';
import { checkHypervisorParams } from './hv-validate.ts';

/** Python 3's str() of a set of strings, as upstream's messages print them. */
function pySet(items: Iterable<string>): string {
  return `{${[...new Set(items)].map((s) => pyRepr(s)).join(', ')}}`;
}

/** str() of a Python 3 exception with two arguments (an OpPrereqError with its ecode). */
function pyErrStr(err: OpPrereqError): string {
  return err.args.length > 1 ? `(${err.args.map(pyRepr).join(', ')})` : pyStr(err.args[0]);
}

function logWarning(ctx: LUContext, message: string): void {
  ctx.feedback(` - WARNING: ${message}`);
}

const LVM_TEMPLATES = ['plain', 'drbd'];

/**
 * LUClusterSetParams._CheckVgName: the volume group stays consistent with the lvm-based
 * templates, is not unset while plain disks exist, and exists (large enough) on every
 * vm-capable node; unreachable nodes are skipped with a warning.
 */
async function checkVgName(ctx: LUContext, op: OpInput, c: ClusterObject, enabled: string[], newlyEnabled: string[]): Promise<void> {
  const vgName = op.vg_name as string | null | undefined;
  const lvmEnabled = enabled.some((t) => LVM_TEMPLATES.includes(t));
  const lvmGetsEnabled = newlyEnabled.some((t) => LVM_TEMPLATES.includes(t));
  const current = ((c as Record<string, unknown>).volume_group_name as string | null | undefined) ?? null;
  if (vgName === '' && lvmEnabled) {
    throw new OpPrereqError('Cannot unset volume group if lvm-based disk templates are or get enabled.', ECODE.INVAL);
  }
  if ((vgName === null || vgName === undefined) && current === null && lvmEnabled) {
    throw new OpPrereqError('Please specify a volume group when enabling lvm-based disk-templates.', ECODE.INVAL);
  }
  if (vgName === '' && Object.values(ctx.config.data.disks).some((d) => d.dev_type === 'plain')) {
    throw new OpPrereqError('Cannot disable lvm storage while lvm-based instances exist', ECODE.INVAL);
  }
  const checked = vgName || (lvmGetsEnabled ? current : null);
  if (!checked || !lvmEnabled) return;
  const nodes = ctx.config.nodes().filter((n) => n.vm_capable);
  const results = await ctx.rpc.callMany(nodes.map(rpcTarget), 'vg_list', []);
  for (const node of nodes) {
    const r = results.get(node.name);
    if (!r || !r.ok) {
      logWarning(ctx, `Error while gathering data on node ${node.name} (ignoring node): ${r?.error ?? 'no answer'}`);
      continue;
    }
    const problem = volumeGroupProblem(r.payload as Record<string, number>, checked);
    if (problem) throw new OpPrereqError(`Error on node '${node.name}': ${problem}`, ECODE.ENVIRON);
  }
}

const clone = <T>(v: T): T => structuredClone(v);

// ---------------------------------------------------------------------------
// Checks shared by the parameters (upstream's objects/hypervisor/uidpool helpers).

const MIGRATION_MODES = ['live', 'non-live'];
const NIC_VALID_MODES = ['bridged', 'routed', 'openvswitch'];
const UIDPOOL_UID_MIN = 0;
const UIDPOOL_UID_MAX = 2 ** 32 - 1;

/** hv_base.CheckParameterSyntax: exactly the hypervisor's own parameters, each well-formed. */
function checkHvParameterSyntax(hv: string, params: Record<string, unknown>): void {
  const known = HV_DEFAULTS[hv] ?? {};
  for (const key of Object.keys(params)) {
    if (!Object.hasOwn(known, key)) throw new HypervisorError(`Parameter '${key}' is not supported`);
  }
  for (const key of Object.keys(known)) {
    if (!Object.hasOwn(params, key)) throw new HypervisorError(`Parameter '${key}' is missing`);
  }
  const mode = params.migration_mode;
  if (mode !== undefined && !MIGRATION_MODES.includes(String(mode))) {
    throw new HypervisorError(`Parameter 'migration_mode' fails syntax check: invalid migration mode (current value: '${pyStr(mode)}')`);
  }
}

/** objects.NIC.CheckParameterSyntax */
function checkNicParameterSyntax(params: Record<string, unknown>): void {
  const mode = params.mode;
  if (!NIC_VALID_MODES.includes(String(mode)) && mode !== 'auto') throw new ConfigurationError(`Invalid NIC mode '${pyStr(mode)}'`);
  if (mode === 'bridged' && !params.link) throw new ConfigurationError('Missing bridged NIC link');
}

/** uidpool.CheckUidPool */
function checkUidPool(pool: unknown, what: string): UidRange[] {
  if (!isUidPool(pool)) throw new OpPrereqError(`Invalid ${what}: expected a list of [lower, higher] user-id ranges`, ECODE.INVAL);
  for (const [lower, higher] of pool) {
    if (lower > higher) {
      throw new OpPrereqError(`Lower user-id range boundary value (${lower}) is larger than higher boundary value (${higher})`, ECODE.INVAL);
    }
    if (lower < UIDPOOL_UID_MIN) {
      throw new OpPrereqError(`Lower user-id range boundary value (${lower}) is smaller than UIDPOOL_UID_MIN (${UIDPOOL_UID_MIN}).`, ECODE.INVAL);
    }
    if (higher > UIDPOOL_UID_MAX) {
      throw new OpPrereqError(`Higher user-id boundary value (${higher}) is larger than UIDPOOL_UID_MAX (${UIDPOOL_UID_MAX}).`, ECODE.INVAL);
    }
  }
  return pool;
}

const sameRange = (a: UidRange, b: UidRange) => a[0] === b[0] && a[1] === b[1];
const sortRanges = (pool: UidRange[]) => pool.sort((a, b) => a[0] - b[0] || a[1] - b[1]);

const IPOLICY_PARAMETERS = ['vcpu-ratio', 'spindle-ratio'];
const IPOLICY_ALL_KEYS = ['minmax', 'std', 'disk-templates', ...IPOLICY_PARAMETERS];

/** objects.InstancePolicy.CheckParameterSyntax (cluster level: std specs are checked). */
function checkIpolicySyntax(ipolicy: Record<string, any>): void {
  const minmax = ipolicy.minmax as Array<Record<string, Record<string, number>>> | undefined;
  if (minmax !== undefined) {
    if (!Array.isArray(minmax) || minmax.length === 0) throw new ConfigurationError('Empty minmax specifications');
    const std = (ipolicy.std ?? {}) as Record<string, number>;
    for (const mm of minmax) {
      const missing = ['min', 'max'].filter((k) => !mm?.[k]);
      if (missing.length) throw new ConfigurationError(`Missing instance specification: ${missing.join(', ')}`);
      for (const key of ['min', 'max']) {
        const miss = ISPECS_PARAMETERS.filter((p) => !(p in mm[key]));
        if (miss.length) throw new ConfigurationError(`Missing instance specs parameters for ${key}: ${miss.join(', ')}`);
      }
      for (const p of ISPECS_PARAMETERS) {
        const minV = mm.min[p];
        const stdV = std[p] ?? minV;
        const maxV = mm.max[p] ?? stdV;
        if (minV > stdV || stdV > maxV) {
          throw new ConfigurationError(`Invalid specification of min/max/std values for ${p}: ${mm.min[p] ?? '-'}/${mm.max[p] ?? '-'}/${stdV}`);
        }
      }
    }
  }
  const dts = ipolicy['disk-templates'];
  if (Array.isArray(dts)) {
    const wrong = dts.filter((d) => !(DISK_TEMPLATES as readonly string[]).includes(d));
    if (wrong.length) throw new ConfigurationError(`Invalid disk template(s) ${[...new Set(wrong)].join(', ')}`);
  }
  for (const key of IPOLICY_PARAMETERS) {
    if (key in ipolicy && pyFloat(ipolicy[key]) === null) {
      throw new ConfigurationError(`Invalid value for key '${key}': '${pyStr(ipolicy[key])}', error: could not convert string to float: ${pyRepr(ipolicy[key])}`);
    }
  }
  const wrongKeys = Object.keys(ipolicy).filter((k) => !IPOLICY_ALL_KEYS.includes(k));
  if (wrongKeys.length) throw new ConfigurationError(`Invalid keys in ipolicy: ${wrongKeys.join(', ')}`);
}

/** cmdlib.common.GetUpdatedIPolicy for the cluster policy (group_policy=False). */
function updatedIpolicy(old: Record<string, unknown>, changes: Record<string, unknown>): Record<string, unknown> {
  const ipolicy = clone(old);
  for (const [key, value] of Object.entries(changes)) {
    if (!IPOLICY_ALL_KEYS.includes(key)) throw new OpPrereqError(`Invalid key in new ipolicy: ${key}`, ECODE.INVAL);
    const empty = value === null || value === '' || value === false || value === 0 || (Array.isArray(value) && value.length === 0) ||
      (typeof value === 'object' && value !== null && Object.keys(value).length === 0);
    if (empty || value === 'default' || (Array.isArray(value) && value.length === 1 && value[0] === 'default')) {
      throw new OpPrereqError(`Can't unset ipolicy attribute '${key}' on the cluster'`, ECODE.INVAL);
    }
    if (IPOLICY_PARAMETERS.includes(key)) {
      const f = pyFloat(value);
      if (f === null) {
        throw new OpPrereqError(`Invalid value for attribute '${key}': '${pyStr(value)}', error: could not convert string to float: ${pyRepr(value)}`, ECODE.INVAL);
      }
      ipolicy[key] = f;
    } else if (key === 'minmax') {
      if (!Array.isArray(value)) throw new OpPrereqError(`Invalid value for attribute '${key}'`, ECODE.INVAL);
      for (const mm of value) for (const k of Object.keys(mm ?? {})) forceDictType(mm[k], ISPECS_PARAMETER_TYPES);
      ipolicy[key] = value;
    } else if (key === 'std') {
      const std = { ...((old.std as Record<string, unknown>) ?? {}), ...(value as Record<string, unknown>) };
      forceDictType(std, ISPECS_PARAMETER_TYPES);
      ipolicy[key] = std;
    } else {
      ipolicy[key] = Array.isArray(value) ? [...value] : value;
    }
  }
  try {
    checkIpolicySyntax(ipolicy);
  } catch (err) {
    if (err instanceof ConfigurationError) throw new OpPrereqError(`Invalid instance policy: ${err.message}`, ECODE.INVAL);
    throw err;
  }
  return ipolicy;
}

/** cmdlib.common.CheckIpolicyVsDiskTemplates (upstream's message has no error type). */
function checkIpolicyVsDiskTemplates(ipolicy: Record<string, unknown>, enabled: string[]): void {
  const allowed = (ipolicy['disk-templates'] as string[] | undefined) ?? [];
  const notEnabled = [...new Set(allowed.filter((d) => !enabled.includes(d)))];
  if (notEnabled.length) {
    throw new OpPrereqError(`The following disk template are allowed by the ipolicy, but not enabled on the cluster: ${notEnabled.join(', ')}`);
  }
}

/** CheckFileBasedStoragePathVsEnabledDiskTemplates */
function checkFileStoragePath(ctx: LUContext, dir: string, enabled: string[], template: 'file' | 'sharedfile'): void {
  const on = enabled.includes(template);
  if (dir === '') {
    if (on) {
      throw new OpPrereqError(`Unsetting the '${template}' storage directory while having '${template}' storage enabled is not permitted.`, ECODE.INVAL);
    }
  } else if (!on) {
    logWarning(ctx, `Specified a ${template} storage directory, although ${template} storage is not enabled.`);
  }
}

/** CheckCompressionTools */
function checkCompressionTools(tools: string[]): void {
  const illegal = tools.filter((t) => !/^[-_a-zA-Z0-9]+$/.test(t));
  if (illegal.length) {
    throw new OpPrereqError(`The tools '${illegal.join(', ')}' contain illegal characters: only alphanumeric values, dashes, and underscores are allowed`, ECODE.INVAL);
  }
  if (!tools.includes('gzip')) throw new OpPrereqError('For compatibility reasons, the gzip utility must be present among the compression tools', ECODE.INVAL);
  if (tools.includes('none')) throw new OpPrereqError('none is a reserved value used for no compression, and cannot be used as the name of a tool', ECODE.INVAL);
}

// ---------------------------------------------------------------------------
// Logical units.

/** Run after `gnt-cluster init`: upstream's cluster-init hooks (post, on the master). */
export function clusterPostInit(_op: OpInput, ctx: LUContext): LogicalUnit {
  return {
    hooks(): HookSpec {
      return { path: 'cluster-init', type: 'CLUSTER', env: { OP_TARGET: ctx.config.cluster.cluster_name }, preNodes: [], postNodes: [ctx.config.masterNode().name] };
    },
    exec: async () => true,
  };
}

/** Checks that only the master is left; the CLI then stops the daemons and removes the files. */
export function clusterDestroy(_op: OpInput, ctx: LUContext): LogicalUnit {
  return {
    checkPrereq() {
      const nodes = ctx.config.nodes();
      if (nodes.length > 1) {
        throw new OpPrereqError(`There are still ${nodes.length - 1} node(s) in this cluster.`, ECODE.INVAL);
      }
      const instances = Object.keys(ctx.config.data.instances).length;
      if (instances > 0) throw new OpPrereqError(`There are still ${instances} instance(s) in this cluster.`, ECODE.INVAL);
    },
    exec: async () => ctx.config.cluster.master_node,
  };
}

/**
 * OP_CLUSTER_SET_PARAMS: every check runs before anything is written, then one
 * configuration change applies all parameters, so a bad value changes nothing.
 */
export function clusterSetParams(op: OpInput, ctx: LUContext): LogicalUnit {
  const given = (k: string) => op[k] !== undefined && op[k] !== null;
  const dict = (k: string) => (given(k) ? clone(op[k] as Record<string, any>) : null);
  // Parameter dicts are "set" when non-empty, as upstream's `if self.op.hvparams:`.
  const nonEmpty = (k: string) => given(k) && Object.keys(op[k] as object).length > 0;
  const cluster = () => ctx.config.cluster as ClusterObject & Record<string, any>;
  const next: Record<string, unknown> = {};
  let enabledTemplates: string[] = [];

  return {
    checkArguments() {
      if (given('uid_pool')) checkUidPool(op.uid_pool, 'uid_pool');
      if (given('add_uids')) checkUidPool(op.add_uids, 'add_uids');
      if (given('remove_uids')) checkUidPool(op.remove_uids, 'remove_uids');
      if (op.mac_prefix) {
        const mac = String(op.mac_prefix);
        if (!/^([0-9a-f]{2}:){2}[0-9a-f]{2}$/i.test(mac)) throw new OpPrereqError(`Invalid MAC address prefix '${mac}'`, ECODE.INVAL);
        next.mac_prefix = mac.toLowerCase();
      }
      if (given('master_netmask')) {
        const mask = op.master_netmask as number;
        const family = ctx.config.cluster.primary_ip_family;
        if (family !== 2 && family !== 10) throw new OpPrereqError(`Invalid primary ip family: ${family}.`, ECODE.INVAL);
        if (!(Number.isInteger(mask) && mask > 0 && mask <= (family === 10 ? 128 : 32))) {
          throw new OpPrereqError(`CIDR netmask (${mask}) not valid`, ECODE.INVAL);
        }
      }
      if (nonEmpty('diskparams')) {
        const dp = dict('diskparams')!;
        for (const params of Object.values(dp)) forceDictType(params, DISK_DT_TYPES);
        const invalid: string[] = [];
        for (const [template, params] of Object.entries(dp)) {
          if (!Object.hasOwn(DISK_DEFAULTS, template)) invalid.push(template);
          else for (const k of Object.keys(params)) if (!Object.hasOwn(DISK_DEFAULTS[template], k)) invalid.push(`${template}/${k}`);
        }
        if (invalid.length) {
          const inner = new OpPrereqError(`Provided option keys not supported: ${invalid.join(', ')}`, ECODE.INVAL);
          throw new OpPrereqError(`While verify diskparams options: ${pyErrStr(inner)}`, ECODE.INVAL);
        }
        next.diskparams_op = dp;
      }
      if (given('enabled_hypervisors')) {
        const hvs = op.enabled_hypervisors as string[];
        if (hvs.length === 0) throw new OpPrereqError('Enabled hypervisors list must contain at least one member', ECODE.INVAL);
        const invalid = hvs.filter((h) => !(HYPERVISORS as readonly string[]).includes(h));
        if (invalid.length) throw new OpPrereqError(`Enabled hypervisors contains invalid entries: ${pySet(invalid)}`, ECODE.INVAL);
      }
      if (given('enabled_disk_templates')) {
        const dts = op.enabled_disk_templates as string[];
        const invalid = dts.filter((d) => !(DISK_TEMPLATES as readonly string[]).includes(d));
        if (invalid.length) throw new OpPrereqError(`Enabled disk templates list contains invalid entries: ${pySet(invalid)}`, ECODE.INVAL);
      }
    },

    locks(): LockPlan {
      // Upstream: REQ_BGL = False, every node, instance and group lock shared.
      return { bglShared: true, levels: { node: { names: null, shared: true }, instance: { names: null, shared: true }, nodegroup: { names: null, shared: true } } };
    },

    hooks(): HookSpec {
      const master = ctx.config.masterNode().name;
      return { path: 'cluster-modify', type: 'CLUSTER', env: { OP_TARGET: ctx.config.cluster.cluster_name, NEW_VG_NAME: (op.vg_name as string | undefined) ?? null }, preNodes: [master], postNodes: [master] };
    },

    async checkPrereq() {
      const c = cluster();
      const data = ctx.config.data;
      // Disk templates: what will be enabled, and what gets disabled (must be unused).
      const opTemplates = (op.enabled_disk_templates as string[] | undefined | null) ?? null;
      enabledTemplates = opTemplates && opTemplates.length ? opTemplates : c.enabled_disk_templates;
      const disabled = opTemplates && opTemplates.length ? c.enabled_disk_templates.filter((d) => !opTemplates.includes(d)) : [];
      for (const template of disabled) {
        const users = Object.values(data.disks).filter((d) => d.dev_type === template);
        if (users.length) {
          const desc = users.map((d) => {
            const inst = Object.values(data.instances).find((i) => (i.disks as string[] | undefined)?.includes(d.uuid));
            return `${d.uuid} (${inst ? `on ${inst.name}` : 'detached'})`;
          });
          throw new OpPrereqError(`Cannot disable disk template '${template}', because there is at least one disk using it:\n * ${desc.join('\n * ')}`, ECODE.STATE);
        }
      }
      if (disabled.includes('diskless')) {
        const inst = Object.values(data.instances).find((i) => !(i.disks as unknown[] | undefined)?.length);
        if (inst) {
          throw new OpPrereqError(`Cannot disable disk template 'diskless', because there is at least one instance using it:\n * ${inst.name}`, ECODE.STATE);
        }
      }
      await checkVgName(ctx, op, c, enabledTemplates, opTemplates && opTemplates.length ? opTemplates.filter((d) => !c.enabled_disk_templates.includes(d)) : []);
      if (given('file_storage_dir')) checkFileStoragePath(ctx, String(op.file_storage_dir), enabledTemplates, 'file');
      if (given('shared_file_storage_dir')) checkFileStoragePath(ctx, String(op.shared_file_storage_dir), enabledTemplates, 'sharedfile');

      if (nonEmpty('beparams')) {
        const be = dict('beparams')!;
        // objects.UpgradeBeParams: the old "memory" sets both bounds.
        if ('memory' in be) {
          be.maxmem = be.memory;
          be.minmem = be.memory;
          delete be.memory;
        }
        forceDictType(be, BES_PARAMETER_TYPES);
        next.beparams = { ...clone(c.beparams?.default ?? {}), ...be };
      }
      if (nonEmpty('ndparams')) {
        const nd = dict('ndparams')!;
        forceDictType(nd, NDS_PARAMETER_TYPES);
        const filled = { ...clone(c.ndparams ?? {}), ...nd };
        if (filled.oob_program === '') filled.oob_program = D.DEFAULT_NDPARAMS.oob_program;
        next.ndparams = filled;
      }

      // The instance policy, checked against the (possibly new) enabled disk templates.
      if (nonEmpty('ipolicy')) {
        next.ipolicy = updatedIpolicy(c.ipolicy ?? {}, dict('ipolicy')!);
        checkIpolicyVsDiskTemplates(next.ipolicy as Record<string, unknown>, enabledTemplates);
      } else {
        checkIpolicyVsDiskTemplates(c.ipolicy ?? {}, enabledTemplates);
      }

      if (nonEmpty('nicparams')) {
        const nic = dict('nicparams')!;
        forceDictType(nic, NICS_PARAMETER_TYPES);
        const filled = { ...clone(c.nicparams?.default ?? {}), ...nic };
        checkNicParameterSyntax(filled);
        const nicErrors: string[] = [];
        for (const inst of Object.values(data.instances)) {
          const nics = (inst.nics as Array<Record<string, any>> | undefined) ?? [];
          nics.forEach((n, idx) => {
            const p = { ...filled, ...(n.nicparams ?? {}) };
            try {
              checkNicParameterSyntax(p);
            } catch (err) {
              nicErrors.push(`Instance ${inst.name}, nic/${idx}: ${(err as Error).message}`);
            }
            if (p.mode === 'routed' && !n.ip) nicErrors.push(`Instance ${inst.name}, nic/${idx}: routed NIC with no ip address`);
          });
        }
        if (nicErrors.length) throw new OpPrereqError(`Cannot apply the change, errors:\n${nicErrors.join('\n')}`, ECODE.INVAL);
        next.nicparams = filled;
      }

      // Hypervisor parameters: dict updates per hypervisor, new hypervisors filled with defaults.
      const newHvp = clone(c.hvparams ?? {}) as Record<string, Record<string, unknown>>;
      if (nonEmpty('hvparams')) {
        for (const [hv, params] of Object.entries(op.hvparams as Record<string, unknown>)) {
          if (params === null || typeof params !== 'object' || Array.isArray(params)) {
            throw new OpPrereqError(`Invalid hypervisor parameters for '${hv}': expected a dictionary`, ECODE.INVAL);
          }
          newHvp[hv] = { ...(newHvp[hv] ?? {}), ...clone(params as Record<string, unknown>) };
        }
      }
      if (given('enabled_hypervisors')) {
        for (const hv of op.enabled_hypervisors as string[]) {
          newHvp[hv] = { ...clone(HV_DEFAULTS[hv] ?? {}), ...(newHvp[hv] ?? {}) };
          forceDictType(newHvp[hv], HVS_PARAMETER_TYPES);
        }
      }
      if (nonEmpty('hvparams') || given('enabled_hypervisors')) {
        const changed = new Set([...Object.keys((op.hvparams as object | null) ?? {}), ...((op.enabled_hypervisors as string[] | null) ?? [])]);
        for (const [hv, params] of Object.entries(newHvp)) {
          if (!changed.has(hv)) continue;
          if (!Object.hasOwn(HV_DEFAULTS, hv)) throw new HypervisorError(`Unknown hypervisor '${hv}'`);
          forceDictType(params, HVS_PARAMETER_TYPES);
          checkHvParameterSyntax(hv, params);
          // _CheckHVParams: the vm-capable nodes' hypervisor must accept them (kvm: this qemu).
          const enabled = (given('enabled_hypervisors') ? op.enabled_hypervisors : c.enabled_hypervisors) as string[];
          if (enabled.includes(hv)) await checkHypervisorParams(ctx, ctx.config.nodes().map((n) => n.uuid), hv, params);
        }
        next.hvparams = newHvp;
      }

      if (next.diskparams_op) {
        const newDp = clone(c.diskparams ?? {}) as Record<string, Record<string, unknown>>;
        for (const [template, params] of Object.entries(next.diskparams_op as Record<string, Record<string, unknown>>)) {
          newDp[template] = { ...(newDp[template] ?? {}), ...params };
        }
        next.diskparams = newDp;
      }

      if (op.default_iallocator && !iallocatorAvailable(ctx.master.paths.root, String(op.default_iallocator))) {
        throw new OpPrereqError(`Invalid default iallocator script '${String(op.default_iallocator)}' specified`, ECODE.INVAL);
      }
      if (given('compression_tools') && (op.compression_tools as string[]).length) checkCompressionTools(op.compression_tools as string[]);

      // The uid pool after add/remove, so that a range that is not there fails before any change.
      if (given('add_uids') || given('remove_uids') || given('uid_pool')) {
        const pool = clone((c.uid_pool ?? []) as UidRange[]);
        for (const r of (op.add_uids as UidRange[] | null) ?? []) if (!pool.some((p) => sameRange(p, r))) pool.push([r[0], r[1]]);
        sortRanges(pool);
        for (const r of (op.remove_uids as UidRange[] | null) ?? []) {
          const i = pool.findIndex((p) => sameRange(p, r));
          if (i < 0) {
            throw new OpPrereqError(`User-id range to be removed is not found in the current user-id pool: (${r[0]}, ${r[1]})`, ECODE.INVAL);
          }
          pool.splice(i, 1);
        }
        next.uid_pool = given('uid_pool') ? clone(op.uid_pool) : pool;
      }
    },

    async exec() {
      const c = cluster();
      const set = (k: string, v: unknown) => { next[`set:${k}`] = v; };
      if (given('file_storage_dir')) {
        if (c.file_storage_dir === op.file_storage_dir) ctx.feedback(`Global file storage dir already set to value '${c.file_storage_dir}'`);
        else set('file_storage_dir', op.file_storage_dir);
      }
      if (given('shared_file_storage_dir')) {
        if (c.shared_file_storage_dir === op.shared_file_storage_dir) {
          ctx.feedback(`Global shared file storage dir already set to value '${c.shared_file_storage_dir}'`);
        } else {
          set('shared_file_storage_dir', op.shared_file_storage_dir);
        }
      }
      // The master IP lives on the master's netdev; this implementation does not manage
      // the address itself (no node_(de)activate_master_ip procedure), so only the
      // configuration changes, with upstream's messages about it.
      if (op.master_netdev) {
        ctx.feedback(`Changing master_netdev from ${c.master_netdev} to ${String(op.master_netdev)}`);
        set('master_netdev', op.master_netdev);
      }
      if (op.master_netmask) {
        ctx.feedback(`Changing master IP netmask to ${String(op.master_netmask)}`);
        set('master_netmask', op.master_netmask);
      }

      let promoted: NodeObject[] = [];
      await ctx.config.update((tx) => {
        const cl = tx.data.cluster as ClusterObject & Record<string, any>;
        if (given('enabled_disk_templates') && (op.enabled_disk_templates as string[]).length) {
          cl.enabled_disk_templates = [...(op.enabled_disk_templates as string[])];
        }
        if (given('vg_name')) {
          const vg = (op.vg_name as string) || null;
          if (vg !== (cl.volume_group_name ?? null)) cl.volume_group_name = vg;
          else ctx.feedback('Cluster LVM configuration already in desired state, not changing');
        }
        for (const k of ['file_storage_dir', 'shared_file_storage_dir', 'master_netdev', 'master_netmask']) {
          if (`set:${k}` in next) cl[k] = next[`set:${k}`];
        }
        if (next.hvparams) cl.hvparams = next.hvparams as ClusterObject['hvparams'];
        if (given('enabled_hypervisors')) cl.enabled_hypervisors = [...(op.enabled_hypervisors as string[])];
        if (next.beparams) cl.beparams = { ...(cl.beparams ?? {}), default: next.beparams };
        if (next.nicparams) cl.nicparams = { ...(cl.nicparams ?? {}), default: next.nicparams };
        if (next.ipolicy) cl.ipolicy = next.ipolicy;
        if (next.ndparams) cl.ndparams = next.ndparams;
        if (next.diskparams) cl.diskparams = next.diskparams;
        if (given('candidate_pool_size')) {
          cl.candidate_pool_size = op.candidate_pool_size as number;
          promoted = nodesToPromote(tx.data);
          for (const n of promoted) {
            n.master_candidate = true;
            tx.modified(n);
          }
        }
        for (const k of [
          'max_running_jobs', 'max_tracked_jobs', 'maintain_node_health', 'modify_etc_hosts', 'prealloc_wipe_disks',
          'default_iallocator', 'default_iallocator_params', 'reserved_lvs', 'use_external_mip_script',
          'enabled_user_shutdown', 'compression_tools',
        ]) {
          if (given(k)) cl[k] = clone(op[k]);
        }
        if (next.uid_pool) cl.uid_pool = next.uid_pool;
        if (next.mac_prefix) cl.mac_prefix = next.mac_prefix;
        tx.modified(cl);
      });

      if (promoted.length) logInfo(ctx, `Promoted nodes to master candidate role: ${promoted.map((n) => n.name).join(', ')}`);
      const stats = poolStats(ctx.config.data);
      if (stats.mcNow > stats.mcShould) logInfo(ctx, `Note: more nodes are candidates (${stats.mcNow}) than desired (${stats.mcShould})`);
      // The new candidates get the cluster key, the configuration and the queue.
      for (const node of promoted) {
        try {
          await ctx.master.seedCandidate(node);
        } catch (err) {
          logWarning(ctx, `Could not make node ${node.name} a master candidate: ${(err as Error).message}`);
        }
      }
      return null;
    },
  };
}

/** OP_CLUSTER_REDIST_CONF: the configuration to every candidate, ssconf to every node. */
export function clusterRedistConf(_op: OpInput, ctx: LUContext): LogicalUnit {
  return {
    locks(): LockPlan {
      // Upstream: REQ_BGL = False, all node locks shared.
      return { bglShared: true, levels: { node: { names: null, shared: true } } };
    },
    async exec() {
      // A cluster serial bump, as upstream's cfg.Update(cluster), so every node's ssconf is rewritten too.
      await ctx.config.update((tx) => tx.modified(tx.data.cluster));
      const configFile = `/${path.relative(ctx.master.paths.root, ctx.master.paths.configFile)}`;
      for (const failure of await ctx.master.redistributeConfig()) {
        logWarning(ctx, `Copy of file ${configFile} to node ${failure.node} failed: ${failure.error}`);
      }
      return null;
    },
  };
}

const HOSTNAME_RE = /^[a-z0-9]([a-z0-9-]{0,62})(\.[a-z0-9]([a-z0-9-]{0,62}))*\.?$/i;

async function resolveName(name: string, family: number): Promise<string | null> {
  try {
    const timeout = new Promise<null>((r) => setTimeout(() => r(null), 3000).unref());
    const res = await Promise.race([dns.lookup(name, { family: family === 10 ? 6 : 4 }), timeout]);
    return res ? res.address : null;
  } catch {
    return null;
  }
}

/** netutils.TcpPing: is something listening at ip:port? */
function tcpPing(ip: string, port: number, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: ip, port });
    const done = (up: boolean) => {
      sock.destroy();
      resolve(up);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

const isLoopback = (ip: string) => ip.startsWith('127.') || ip === '::1';

/** OP_CLUSTER_RENAME: a new name, and the master IP it resolves to. */
export function clusterRename(op: OpInput, ctx: LUContext): LogicalUnit {
  let newName = '';
  let newIp = '';
  return {
    hooks(): HookSpec {
      return {
        path: 'cluster-rename',
        type: 'CLUSTER',
        env: { OP_TARGET: ctx.config.cluster.cluster_name, NEW_NAME: String(op.name) },
        preNodes: [ctx.config.masterNode().name],
        postNodes: ctx.config.nodes().map((n) => n.name),
      };
    },
    async checkPrereq() {
      const given = String(op.name);
      if (!HOSTNAME_RE.test(given)) throw new OpPrereqError(`Invalid hostname '${given}'`, ECODE.INVAL);
      const c = ctx.config.cluster;
      newName = given.toLowerCase().replace(/\.$/, '');
      const resolved = await resolveName(newName, c.primary_ip_family);
      if (resolved) {
        newIp = resolved;
      } else if (ctx.master.paths.root !== '/' || isLoopback(c.master_ip)) {
        // A virtual or loopback cluster needs no DNS for its name (as `gnt-cluster init`):
        // the master IP stays what it is.
        newIp = c.master_ip;
      } else {
        throw new ResolverError(newName, -2, 'Name or service not known');
      }
      if (newName === c.cluster_name && newIp === c.master_ip) {
        throw new OpPrereqError('Neither the name nor the IP address of the cluster has changed', ECODE.INVAL);
      }
      if (newIp !== c.master_ip && await tcpPing(newIp, nodedPort())) {
        throw new OpPrereqError(`The given cluster IP address (${newIp}) is reachable on the network`, ECODE.NOTUNIQUE);
      }
      op.name = newName;
    },
    async exec() {
      // Upstream takes the master IP down and up around the change; this implementation
      // does not manage the address (see OP_CLUSTER_SET_PARAMS's master_netdev).
      await ctx.config.update((tx) => {
        tx.data.cluster.cluster_name = newName;
        tx.data.cluster.master_ip = newIp;
        tx.modified(tx.data.cluster);
      });
      return newName;
    },
  };
}
