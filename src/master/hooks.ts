// The master's side of hooks (upstream's HooksMaster, spec/surface.md §6): builds each
// phase's environment from an LU's HookSpec, runs hooks_runner on the phase's nodes in
// parallel and applies the phase's rules: a failing pre hook vetoes the operation
// (HooksAbort), a failing post hook is only a warning in the job log.
import { HooksAbort, HooksFailure, ProgrammerError } from '../core/errors.ts';
import { pyStr as pyText } from '../core/pyrepr.ts';
import type { RpcResult, RpcTarget } from '../rpc/client.ts';
import { rpcTarget, type HookSpec, type LUContext, type LogicalUnit } from './cmdlib/base.ts';

export const HOOKS_VERSION = 2;
/** upstream's constants.HOOKS_PATH: the only PATH scripts get. */
export const HOOKS_PATH = '/sbin:/bin:/usr/sbin:/usr/bin';
/** The special hook run on the master after every LU that changed the configuration. */
export const HOOKS_NAME_CFGUPDATE = 'config-update';
/** hooks_runner's per-script status for a failure (the node's HKR_FAIL). */
const HKR_FAIL = 1;

export type HooksPhase = 'pre' | 'post';

type HookEnvValue = HookSpec['env'][string];

/** Python's str(): how upstream turns every value into an environment string. */
export function pyStr(value: HookEnvValue | undefined): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  return String(value);
}

/** An LU's variables with a phase prefix (GANETI_ before exec, GANETI_POST_ after). */
function prefixed(prefix: string, env: HookSpec['env']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) out[`${prefix}${k}`] = pyStr(v);
  return out;
}

/** The node's reply for one node: [script, status, output] triples, or why it has none. */
function hookResults(payload: unknown): Array<[string, number, string]> | null {
  if (!Array.isArray(payload)) return null;
  for (const r of payload) {
    if (!Array.isArray(r) || r.length !== 3 || typeof r[0] !== 'string' || typeof r[1] !== 'number') return null;
  }
  return (payload as Array<[string, number, unknown]>).map(([s, st, out]) => [s, st, out === null || out === undefined ? '' : String(out)]);
}

/** Resolve when the promise does, or reject with the signal's reason when it is aborted first. */
function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * One LU's hooks. Built after checkPrereq: it takes the LU's HookSpec then (hpath, object
 * type, pre-phase variables and node lists) together with the cluster and master names,
 * which stay the same for the post phase and the config-update hook.
 */
export class HooksMaster {
  private readonly ctx: LUContext;
  private readonly opCode: string;
  private readonly lu: LogicalUnit;
  private readonly spec: HookSpec | null;
  private readonly clusterName: string | null;
  private readonly masterName: string | null;
  /** The LU's variables before exec, GANETI_-prefixed; reused by post and config-update. */
  private readonly preEnv: Record<string, string>;
  /** The opcode's dry_run: upstream runs the pre hooks only. */
  private readonly dryRun: boolean;

  constructor(ctx: LUContext, opCode: string, lu: LogicalUnit, dryRun = false) {
    this.ctx = ctx;
    this.opCode = opCode;
    this.lu = lu;
    this.dryRun = dryRun;
    this.spec = lu.hooks?.() ?? null;
    this.clusterName = ctx.config.cluster.cluster_name ?? null;
    let master: string | null = null;
    try {
      master = ctx.config.masterNode().name;
    } catch { /* no master in the configuration: GANETI_MASTER is left out, as upstream does for None */ }
    this.masterName = master;
    this.preEnv = this.spec ? prefixed('GANETI_', this.spec.env) : {};
  }

  /** The full environment the scripts get: PATH, the common GANETI_ variables and phaseEnv. */
  buildEnv(hpath: string, phase: HooksPhase, phaseEnv: Record<string, string>): Record<string, string> {
    const env: Record<string, string> = {
      PATH: HOOKS_PATH,
      GANETI_HOOKS_VERSION: String(HOOKS_VERSION),
      GANETI_OP_CODE: this.opCode,
      GANETI_DATA_DIR: this.ctx.master.paths.dataDir,
      GANETI_HOOKS_PHASE: phase,
      GANETI_HOOKS_PATH: hpath,
    };
    if (this.spec) env.GANETI_OBJECT_TYPE = this.spec.type;
    if (this.clusterName !== null) env.GANETI_CLUSTER = this.clusterName;
    if (this.masterName !== null) env.GANETI_MASTER = this.masterName;
    for (const [k, v] of Object.entries(phaseEnv)) {
      // upstream joins these with JoinDisjointDicts: an LU must not redefine a common variable.
      if (k in env) throw new ProgrammerError(`Hooks variable ${k} of ${this.opCode} clashes with a common hooks variable`);
      env[k] = v;
    }
    return env;
  }

  /** The phase's environment (without the common variables). */
  phaseEnv(phase: HooksPhase): Record<string, string> {
    if (phase === 'pre' || !this.spec) return { ...this.preEnv };
    // Post: the LU's variables recomputed after exec as GANETI_POST_*, plus the pre ones.
    let post: HookSpec | null = null;
    try {
      post = this.lu.hooks?.() ?? null;
    } catch (err) {
      this.warn(`Cannot compute the post-phase hooks environment: ${(err as Error).message}`);
    }
    return { ...(post ? prefixed('GANETI_POST_', post.env) : {}), ...this.preEnv };
  }

  private warn(message: string): void {
    this.ctx.log.warn({ op: this.opCode }, message);
    this.ctx.feedback(` - WARNING: ${message}`);
  }

  /** RPC targets by node name (or uuid); a node not in the configuration gets a failed result. */
  private targets(names: string[]): { targets: RpcTarget[]; missing: RpcResult[] } {
    const targets: RpcTarget[] = [];
    const missing: RpcResult[] = [];
    const seen = new Set<string>();
    for (const name of names) {
      const node = this.ctx.config.nodeByName(name) ?? this.ctx.config.node(name);
      const key = node?.name ?? name;
      if (seen.has(key)) continue;
      seen.add(key);
      if (node) targets.push(rpcTarget(node));
      else missing.push({ node: name, ok: false, error: 'Node is not in the configuration' });
    }
    return { targets, missing };
  }

  private async call(names: string[], hpath: string, phase: HooksPhase, env: Record<string, string>, signal: AbortSignal): Promise<Map<string, RpcResult>> {
    const { targets, missing } = this.targets(names);
    const results = targets.length > 0 ? await abortable(this.ctx.rpc.callMany(targets, 'hooks_runner', [hpath, phase, env]), signal) : new Map<string, RpcResult>();
    for (const m of missing) results.set(m.node, m);
    return results;
  }

  /**
   * Run one phase on the spec's nodes (or nodeNames). Pre: any failing script on a node
   * that answered raises HooksAbort([[node, script, output], ...]); no answer at all raises
   * HooksFailure. Post: failures are warnings. Offline nodes are skipped, other unreachable
   * nodes only warned about. Returns the per-node results (null when nothing ran).
   */
  async runPhase(phase: HooksPhase, signal: AbortSignal, nodeNames?: string[]): Promise<Map<string, RpcResult> | null> {
    if (!this.spec) return null;
    const nodes = nodeNames ?? (phase === 'pre' ? this.spec.preNodes : this.spec.postNodes);
    // No nodes (e.g. cluster init's pre phase): nothing to run, as upstream.
    if (!nodes || nodes.length === 0) return null;
    const env = this.buildEnv(this.spec.path, phase, this.phaseEnv(phase));
    const results = await this.call(nodes, this.spec.path, phase, env, signal);
    if (results.size === 0) {
      if (phase === 'pre') throw new HooksFailure('Communication Failure');
      this.warn('Communication Failure');
      return results;
    }
    const errs: Array<[string, string, string]> = [];
    for (const [node, res] of results) {
      if (!res.ok && res.offline) continue;
      if (!res.ok) {
        this.warn(`Communication failure to node ${node}: ${res.error}`);
        continue;
      }
      const scripts = hookResults(res.payload);
      if (!scripts) {
        this.warn(`Communication failure to node ${node}: invalid hooks_runner reply`);
        continue;
      }
      for (const [script, status, output] of scripts) {
        if (status !== HKR_FAIL) continue;
        if (phase === 'pre') errs.push([node, script, output]);
        else this.warn(`On ${node} script ${script} failed, output: ${output || '(no output)'}`);
      }
    }
    if (errs.length > 0) throw new HooksAbort(errs);
    return results;
  }

  /** upstream's HooksCallBack, for LUs that read their hooks' results (cluster-verify). */
  private callback(phase: HooksPhase, results: Map<string, RpcResult> | null, luResult: unknown): unknown {
    if (!this.lu.hooksCallback) return luResult;
    return this.lu.hooksCallback(phase, results ?? new Map(), luResult);
  }

  /** The pre phase, then the LU's callback. */
  async pre(signal: AbortSignal): Promise<void> {
    this.callback('pre', await this.runPhase('pre', signal), null);
  }

  /**
   * The post phase after a successful exec; returns the opcode's result (the callback may
   * change it). A dry run (which our LUs answer from exec) has no post phase, as upstream.
   */
  async post(luResult: unknown, signal: AbortSignal): Promise<unknown> {
    if (this.dryRun) return luResult;
    return this.callback('post', await this.runPhase('post', signal), luResult);
  }

  /**
   * upstream's RunConfigUpdate: the config-update post hooks on the master, with the
   * pre-phase variables; their results are ignored (not even warned about, as upstream).
   * Never throws: it runs in a finally after exec, whose own outcome must stand. A job
   * killed meanwhile stops waiting for it.
   */
  async runConfigUpdate(signal: AbortSignal): Promise<void> {
    if (this.masterName === null) return;
    try {
      const env = this.buildEnv(HOOKS_NAME_CFGUPDATE, 'post', { ...this.preEnv });
      await this.call([this.masterName], HOOKS_NAME_CFGUPDATE, 'post', env, signal);
    } catch (err) {
      if (!signal.aborted) this.ctx.log.warn({ op: this.opCode, err: String(err) }, 'config-update hooks failed');
    }
  }
}

/** A NIC for the hooks environment (upstream's NICToTuple, networks by uuid). */
export interface HookNic {
  name: string | null;
  uuid: string;
  ip: string | null;
  mac: string;
  mode: string;
  link: string;
  vlan: string;
  network: string | null;
}

/** A disk for the hooks environment: a config DiskObject, or a new disk's spec (instance create). */
export interface HookDisk {
  uuid?: string;
  name?: string | null;
  size?: number;
  mode?: string;
  dev_type?: string;
  logical_id?: unknown[];
}

export interface InstanceHookArgs {
  name: string;
  primaryNode: string;
  secondaryNodes: string[];
  osType: string | null;
  /** The admin state, or (instance create) whether it will be started. */
  status: unknown;
  minmem: unknown;
  maxmem: unknown;
  vcpus: unknown;
  nics: HookNic[];
  diskTemplate: string;
  disks: HookDisk[];
  bep: Record<string, unknown>;
  hvp: Record<string, unknown>;
  hypervisor: string;
  tags: string[];
}

type EnvValue = HookSpec['env'][string];

/** A value as upstream puts it into the environment (str() happens when the env is built). */
function envValue(v: unknown): EnvValue {
  if (v === null || v === undefined || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v ?? null;
  return pyText(v);
}

/** BuildDiskLogicalIDEnv: the template-specific variables of a configured disk. */
function diskLogicalIdEnv(idx: number, disk: HookDisk): HookSpec['env'] {
  const env: HookSpec['env'] = {};
  const id = disk.logical_id ?? [];
  const p = `INSTANCE_DISK${idx}_`;
  if (disk.dev_type === 'plain') {
    env[`${p}VG`] = envValue(id[0]);
    env[`${p}ID`] = envValue(id[1]);
  } else if (disk.dev_type === 'ext') {
    env[`${p}PROVIDER`] = envValue(id[0]);
    env[`${p}ID`] = envValue(id[1]);
  } else if (disk.dev_type && ['file', 'sharedfile', 'blockdev', 'rbd', 'gluster'].includes(disk.dev_type)) {
    env[`${p}DRIVER`] = envValue(id[0]);
    env[`${p}ID`] = envValue(id[1]);
  }
  env[`${p}DEV_TYPE`] = envValue(disk.dev_type);
  return env;
}

/**
 * upstream's BuildInstanceHookEnv: the variables every instance operation's hooks get
 * (spec/surface.md §6.2), without the GANETI_ prefix.
 */
export function buildInstanceHookEnv(a: InstanceHookArgs): HookSpec['env'] {
  const env: HookSpec['env'] = {
    OP_TARGET: a.name,
    INSTANCE_NAME: a.name,
    INSTANCE_PRIMARY: a.primaryNode,
    INSTANCE_SECONDARIES: a.secondaryNodes.join(' '),
    INSTANCE_OS_TYPE: a.osType,
    INSTANCE_STATUS: envValue(a.status),
    INSTANCE_MINMEM: envValue(a.minmem),
    INSTANCE_MAXMEM: envValue(a.maxmem),
    INSTANCE_MEMORY: envValue(a.maxmem),
    INSTANCE_VCPUS: envValue(a.vcpus),
    INSTANCE_DISK_TEMPLATE: a.diskTemplate,
    INSTANCE_HYPERVISOR: a.hypervisor,
  };
  a.nics.forEach((nic, idx) => {
    const p = `INSTANCE_NIC${idx}_`;
    if (nic.name) env[`${p}NAME`] = nic.name;
    env[`${p}UUID`] = nic.uuid;
    env[`${p}IP`] = nic.ip ?? '';
    env[`${p}MAC`] = nic.mac;
    env[`${p}MODE`] = nic.mode;
    env[`${p}LINK`] = nic.link;
    env[`${p}VLAN`] = nic.vlan;
    if (nic.network) env[`${p}NETWORK_NAME`] = nic.network;
    if (nic.mode === 'bridged' || nic.mode === 'openvswitch') env[`${p}BRIDGE`] = nic.link;
  });
  env.INSTANCE_NIC_COUNT = a.nics.length;
  a.disks.forEach((disk, idx) => {
    // A new disk's spec (instance create) has no dev_type and no logical-id variables.
    if (disk.dev_type !== undefined) Object.assign(env, diskLogicalIdEnv(idx, disk));
    if (disk.name) env[`INSTANCE_DISK${idx}_NAME`] = disk.name;
    env[`INSTANCE_DISK${idx}_UUID`] = disk.uuid ?? '';
    env[`INSTANCE_DISK${idx}_SIZE`] = envValue(disk.size ?? '');
    env[`INSTANCE_DISK${idx}_MODE`] = envValue(disk.mode ?? '');
  });
  env.INSTANCE_DISK_COUNT = a.disks.length;
  env.INSTANCE_TAGS = a.tags.join(' ');
  for (const [k, v] of Object.entries(a.bep)) env[`INSTANCE_BE_${k}`] = envValue(v);
  for (const [k, v] of Object.entries(a.hvp)) env[`INSTANCE_HV_${k}`] = envValue(v);
  return env;
}
