// Cluster verification: OP_CLUSTER_VERIFY (submits the jobs below), OP_CLUSTER_VERIFY_CONFIG
// and OP_CLUSTER_VERIFY_GROUP, reporting in Ganeti 3.0's line style through the job log
// (cmdlib/cluster/verify.py): "* Verifying …" progress lines and "  - ERROR: node x: …"
// findings, or "  - ERROR:ENODERPC:node:x:…" with error_codes. Only the checks that have
// something to look at here are made: no ssh, LVM, DRBD, OS or instance state yet.
import crypto from 'node:crypto';
import path from 'node:path';
import fs from 'node:fs';
import { PROTOCOL_VERSION, RELEASE_VERSION } from '../../core/constants.ts';
import { ECODE, OpPrereqError } from '../../core/errors.ts';
import type { OpInput } from '../../core/opcodes.ts';
import { ssconfText } from '../../core/ssconf.ts';
import type { RpcResult } from '../../rpc/client.ts';
import type { ConfigData, NodeGroupObject, NodeObject } from '../config/model.ts';
import { niceSort, ssconfValues } from '../config/ssconf.ts';
import { rpcTarget, submitChildJobs, type HookSpec, type LockPlan, type LogicalUnit, type LUContext } from './base.ts';

// --- Error codes and the reporting mix-in (upstream's _VerifyErrors) -------------------

/** [object type, code] of upstream's CV_E* descriptors that we report. */
export type ErrorDescriptor = readonly [string, string];
export const CV = {
  ECLUSTERCERT: ['cluster', 'ECLUSTERCERT'],
  ECLUSTERCFG: ['cluster', 'ECLUSTERCFG'],
  ECLUSTERFILECHECK: ['cluster', 'ECLUSTERFILECHECK'],
  ECLUSTERDANGLINGINST: ['node', 'ECLUSTERDANGLINGINST'],
  ECLUSTERDANGLINGNODES: ['node', 'ECLUSTERDANGLINGNODES'],
  ENODEFILECHECK: ['node', 'ENODEFILECHECK'],
  ENODEHOOKS: ['node', 'ENODEHOOKS'],
  ENODENET: ['node', 'ENODENET'],
  ENODERPC: ['node', 'ENODERPC'],
  ENODESETUP: ['node', 'ENODESETUP'],
  ENODETIME: ['node', 'ENODETIME'],
  ENODEVERSION: ['node', 'ENODEVERSION'],
} as const satisfies Record<string, ErrorDescriptor>;

/** Every code `-I/--ignore-errors` accepts (upstream's CV_ALL_ECODES_STRINGS, 3.0). */
export const CV_ALL_ECODES_STRINGS: readonly string[] = [
  'ECLUSTERCERT', 'ECLUSTERCFG', 'ECLUSTERCLIENTCERT', 'ECLUSTERDANGLINGINST', 'ECLUSTERDANGLINGNODES',
  'ECLUSTERFILECHECK', 'EEXTAGS', 'EGROUPDIFFERENTPVSIZE', 'EINSTANCEBADNODE', 'EINSTANCEDOWN',
  'EINSTANCEFAULTYDISK', 'EINSTANCELAYOUT', 'EINSTANCEMISSINGCFGPARAMETER', 'EINSTANCEMISSINGDISK',
  'EINSTANCEPOLICY', 'EINSTANCESPLITGROUPS', 'EINSTANCEUNSUITABLENODE', 'EINSTANCEWRONGNODE', 'ENODEDRBD',
  'ENODEDRBDHELPER', 'ENODEDRBDVERSION', 'ENODEFILECHECK', 'ENODEFILESTORAGEPATHS',
  'ENODEFILESTORAGEPATHUNUSABLE', 'ENODEGLUSTERSTORAGEPATHUNUSABLE', 'ENODEHOOKS', 'ENODEHV', 'ENODELVM',
  'ENODEN1', 'ENODENET', 'ENODEOOBPATH', 'ENODEORPHANINSTANCE', 'ENODEORPHANLV', 'ENODEOS', 'ENODERPC',
  'ENODESETUP', 'ENODESHAREDFILESTORAGEPATHUNUSABLE', 'ENODESSH', 'ENODETIME', 'ENODEUSERSCRIPTS',
  'ENODEVERSION',
];

/** upstream's VERIFY_NPLUSONE_MEM, the one optional check (skip_checks). */
export const VERIFY_NPLUSONE_MEM = 'nplusone_mem';
/** upstream's NODE_MAX_CLOCK_SKEW (seconds). */
export const NODE_MAX_CLOCK_SKEW = 150;

/** Python's str() of a value, as upstream's "%s" formatting prints it. */
export function pyStr(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  return String(v);
}

export interface VerifyFlags {
  error_codes: boolean;
  ignore_errors: string[];
  debug_simulate_errors: boolean;
}

/** Findings in upstream's format, counted: any ERROR (not demoted by ignore_errors) makes the result false. */
export class VerifyLog {
  bad = false;
  private readonly flags: VerifyFlags;
  private readonly feedback: (message: string) => void;

  constructor(flags: VerifyFlags, feedback: (message: string) => void) {
    this.flags = flags;
    this.feedback = feedback;
  }

  /** upstream's _ErrorMsgList (3.0): one log line per message. */
  errorList(ecode: ErrorDescriptor, item: string | null, messages: string[], logType: 'ERROR' | 'WARNING' = 'ERROR'): void {
    if (messages.length === 0) return;
    const [objectType, code] = ecode;
    const type = this.flags.ignore_errors.includes(code) ? 'WARNING' : logType;
    for (const msg of messages) {
      // 3.0 leaves the space before the colon when there is no object ("cluster : …").
      this.feedback(this.flags.error_codes
        ? `  - ${type}:${code}:${objectType}:${pyStr(item)}:${msg}`
        : `  - ${type}: ${objectType} ${item ?? ''}: ${msg}`);
    }
    if (type === 'ERROR') this.bad = true;
  }

  error(ecode: ErrorDescriptor, item: string | null, message: string, logType: 'ERROR' | 'WARNING' = 'ERROR'): void {
    this.errorList(ecode, item, [message], logType);
  }

  /** upstream's _ErrorIf: --debug-simulate-errors reports every check as failed. */
  errorIf(cond: unknown, ecode: ErrorDescriptor, item: string | null, message: string, logType: 'ERROR' | 'WARNING' = 'ERROR'): void {
    if (truthy(cond) || this.flags.debug_simulate_errors) this.error(ecode, item, message, logType);
  }
}

/** Python truthiness (empty lists, sets and strings are false). */
function truthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof Set || v instanceof Map) return v.size > 0;
  return Boolean(v);
}

const commaJoin = (items: Iterable<string>) => [...items].join(', ');

// --- Configuration checks (ConfigWriter.VerifyConfig, the parts that apply) ------------

const UUID_RE = /^[a-f\d]{8}-[a-f\d]{4}-[a-f\d]{4}-[a-f\d]{4}-[a-f\d]{12}$/;

/** upstream's _UnlockedGetMasterCandidateStats: [now, should]. */
export function masterCandidateStats(data: ConfigData): [number, number] {
  let now = 0;
  let max = 0;
  for (const n of Object.values(data.nodes)) {
    if (!(n.offline || n.drained) && n.master_capable) max += 1;
    if (n.master_candidate) now += 1;
  }
  const pool = data.cluster.candidate_pool_size;
  return [now, pool === null || pool === undefined ? max : Math.min(max, pool)];
}

/** The configuration's consistency problems, in upstream's words and order. */
export function verifyConfigData(data: ConfigData): string[] {
  const result: string[] = [];
  const cluster = data.cluster;
  const master = data.nodes[cluster.master_node];
  if (!master) result.push(`Master node '${cluster.master_node}' is not in the configuration`);
  else if (!master.master_candidate) result.push('Master node is not a master candidate');
  const [mcNow, mcShould] = masterCandidateStats(data);
  if (mcNow < mcShould) result.push(`Not enough master candidates: actual ${mcNow}, target ${mcShould}`);
  for (const [uuid, node] of Object.entries(data.nodes)) {
    if (node.uuid !== uuid) result.push(`Node '${node.name}' is indexed by wrong UUID '${uuid}'`);
    if ([node.master_candidate, node.drained, node.offline].filter(Boolean).length > 1) {
      result.push(`Node ${node.name} state is invalid: master_candidate=${pyStr(node.master_candidate)}, drain=${pyStr(node.drained)}, offline=${pyStr(node.offline)}`);
    }
    if (!(node.group in data.nodegroups)) result.push(`Node '${node.name}' has invalid group '${node.group}'`);
  }
  const groupNames = new Set<string>();
  for (const [uuid, group] of Object.entries(data.nodegroups)) {
    if (group.uuid !== uuid) result.push(`node group '${group.name}' (uuid: '${group.uuid}') indexed by wrong uuid '${uuid}'`);
    if (UUID_RE.test(group.name.toLowerCase())) result.push(`node group '${group.name}' (uuid: '${group.uuid}') has uuid-like name`);
    if (groupNames.has(group.name)) result.push(`duplicate node group name '${group.name}'`);
    else groupNames.add(group.name);
  }
  // IP addresses used twice. A virtual cluster's master IP is by default the master
  // node's own primary address (README): that one sharing is by design, not a finding.
  const ips = new Map<string, string[]>();
  const addIp = (ip: string, owner: string) => ips.set(ip, [...(ips.get(ip) ?? []), owner]);
  if (!(master && cluster.master_ip === master.primary_ip)) addIp(cluster.master_ip, 'cluster_ip');
  for (const node of Object.values(data.nodes)) {
    addIp(node.primary_ip, `node:${node.name}/primary`);
    if (node.secondary_ip !== node.primary_ip) addIp(node.secondary_ip, `node:${node.name}/secondary`);
  }
  for (const [ip, owners] of ips) {
    if (owners.length > 1) result.push(`IP address ${ip} is used by multiple owners: ${commaJoin(owners)}`);
  }
  return result;
}

// --- Certificates (upstream's _VerifyCertificate, utils.VerifyX509Certificate) --------

/** Days before expiry when verify warns, and when it reports an error (upstream's constants). */
export const SSL_CERT_EXPIRATION_WARN = 30;
export const SSL_CERT_EXPIRATION_ERROR = 7;

const utcStamp = (d: Date) => `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`;

/** [ERROR|WARNING|null, message] for one certificate file, in upstream's words. */
export function verifyCertificateFile(file: string, now = new Date()): ['ERROR' | 'WARNING' | null, string | null] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    return ['ERROR', `Failed to read certificate file: ${(err as Error).message}`];
  }
  let cert: crypto.X509Certificate;
  try {
    cert = new crypto.X509Certificate(text);
  } catch (err) {
    return ['ERROR', `Failed to load certificate: ${(err as Error).message}`];
  }
  const notBefore = new Date(cert.validFrom);
  const notAfter = new Date(cert.validTo);
  const says = (msg: string) => `While verifying ${file}: ${msg}`;
  if (notAfter < now) return ['ERROR', says(`Certificate is expired (valid from ${utcStamp(notBefore)} to ${utcStamp(notAfter)})`)];
  if (notBefore > now) return ['WARNING', says(`Certificate not yet valid (valid from ${utcStamp(notBefore)})`)];
  const days = Math.floor((notAfter.getTime() - now.getTime()) / 86_400_000);
  if (days <= SSL_CERT_EXPIRATION_ERROR) return ['ERROR', says(`Certificate expires in about ${days} days`)];
  if (days <= SSL_CERT_EXPIRATION_WARN) return ['WARNING', says(`Certificate expires in about ${days} days`)];
  return [null, null];
}

// --- File consistency (upstream's _VerifyFiles) ----------------------------------------

export interface FileMap {
  /** On every node. */
  all: string[];
  /** Optional: on all nodes of their category or on none. */
  opt: string[];
  /** On the master candidates (and the master) only. */
  mc: string[];
}

export interface FileNode {
  uuid: string;
  name: string;
  offline: boolean;
  master_candidate: boolean;
}

/**
 * Compare the checksums the nodes returned: files missing where they belong, present
 * where they must not be, or found in several versions. `files` is null for a node
 * whose RPC failed. Filenames are reported as `show` makes them (the master's local path).
 */
export function verifyFiles(log: VerifyLog, nodes: FileNode[], masterUuid: string, files: Map<string, Record<string, string> | null>,
  filemap: FileMap, show: (vpath: string) => string = (p) => p): void {
  const names = new Map(nodes.map((n) => [n.uuid, n.name]));
  const nodeNames = (uuids: Iterable<string>) => commaJoin(niceSort([...uuids].map((u) => names.get(u) ?? u)));
  const nodefiles = new Map<string, Set<string>>();
  for (const f of filemap.all) nodefiles.set(f, new Set(nodes.map((n) => n.uuid)));
  for (const f of filemap.mc) nodefiles.set(f, new Set(nodes.filter((n) => n.master_candidate || n.uuid === masterUuid).map((n) => n.uuid)));
  const fileinfo = new Map<string, Map<string, Set<string>>>([...nodefiles.keys()].map((f) => [f, new Map()]));
  const ignore = new Set<string>();
  for (const node of nodes) {
    if (node.offline) {
      ignore.add(node.uuid);
      continue;
    }
    const nodeFiles = files.get(node.uuid) ?? null;
    const test = !nodeFiles || Object.keys(nodeFiles).length === 0;
    log.errorIf(test, CV.ENODEFILECHECK, node.name, 'Node did not return file checksum data');
    if (test) {
      ignore.add(node.uuid);
      continue;
    }
    for (const [file, sum] of Object.entries(nodeFiles)) {
      const byChecksum = fileinfo.get(file);
      if (!byChecksum) continue; // not asked for
      byChecksum.set(sum, (byChecksum.get(sum) ?? new Set()).add(node.uuid));
    }
  }
  const opt = new Set(filemap.opt);
  for (const file of [...fileinfo.keys()].sort()) {
    const checksums = fileinfo.get(file)!;
    const withFile = new Set([...checksums.values()].flatMap((s) => [...s]).filter((u) => !ignore.has(u)));
    const expected = new Set([...nodefiles.get(file)!].filter((u) => !ignore.has(u)));
    const missing = [...expected].filter((u) => !withFile.has(u));
    const shown = show(file);
    if (opt.has(file)) {
      log.errorIf(missing.length > 0 && missing.length !== expected.size, CV.ECLUSTERFILECHECK, null,
        `File ${shown} is optional, but it must exist on all or no nodes (not found on ${nodeNames(missing)})`);
    } else {
      log.errorIf(missing, CV.ECLUSTERFILECHECK, null, `File ${shown} is missing from node(s) ${nodeNames(missing)}`);
      const unexpected = [...withFile].filter((u) => !expected.has(u));
      log.errorIf(unexpected, CV.ECLUSTERFILECHECK, null, `File ${shown} should not exist on node(s) ${nodeNames(unexpected)}`);
    }
    const variants = checksums.size > 1
      ? [...checksums.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([, uuids], idx) => `variant ${idx + 1} on ${nodeNames(uuids)}`)
      : [];
    log.errorIf(checksums.size > 1, CV.ECLUSTERFILECHECK, null,
      `File ${shown} found with ${checksums.size} different checksums (${variants.join('; ')})`);
  }
}

/** upstream's _VerifyNodeTime: the divergence text, or null within NODE_MAX_CLOCK_SKEW of the call's window. */
export function clockSkew(ntime: unknown, start: number, end: number): string | null | 'invalid' {
  if (!Array.isArray(ntime) || ntime.length !== 2 || !ntime.every((x) => typeof x === 'number' && Number.isFinite(x))) return 'invalid';
  const merged = ntime[0] + ntime[1] / 1e6;
  if (merged < start - NODE_MAX_CLOCK_SKEW) return `${Math.abs(start - merged).toFixed(1)}s`;
  if (merged > end + NODE_MAX_CLOCK_SKEW) return `${Math.abs(merged - end).toFixed(1)}s`;
  return null;
}

// --- OP_CLUSTER_VERIFY -------------------------------------------------------------------

function checkIgnoreErrors(op: OpInput): void {
  const codes = (op.ignore_errors as string[] | undefined) ?? [];
  if (!codes.every((c) => CV_ALL_ECODES_STRINGS.includes(c))) {
    throw new OpPrereqError(`Parameter '${op.OP_ID}.ignore_errors' fails validation`, ECODE.INVAL);
  }
}

function flagsOf(op: OpInput): VerifyFlags {
  return {
    error_codes: Boolean(op.error_codes),
    ignore_errors: (op.ignore_errors as string[] | undefined) ?? [],
    debug_simulate_errors: Boolean(op.debug_simulate_errors),
  };
}

/** Submits OP_CLUSTER_VERIFY_CONFIG and one OP_CLUSTER_VERIFY_GROUP per group; returns their job ids. */
export function clusterVerify(op: OpInput, ctx: LUContext): LogicalUnit {
  return {
    checkArguments: () => checkIgnoreErrors(op),
    // REQ_BGL = False and no locks: it only reads the group list.
    locks: (): LockPlan => ({ bglShared: true, levels: {} }),
    async exec() {
      const common = {
        debug_simulate_errors: op.debug_simulate_errors,
        verbose: op.verbose,
        error_codes: op.error_codes,
        skip_checks: op.skip_checks,
        ignore_errors: op.ignore_errors,
      };
      const jobs: Array<Array<Record<string, unknown>>> = [];
      let groups: string[];
      let depends: () => unknown;
      if (op.group_name) {
        groups = [op.group_name as string];
        depends = () => null;
      } else {
        groups = Object.keys(ctx.config.data.nodegroups);
        jobs.push([{ OP_ID: 'OP_CLUSTER_VERIFY_CONFIG', ...common }]);
        // Relative to each group job, -len(jobs) is always the config job: every group
        // verification waits for it, whatever its outcome.
        depends = () => [[-jobs.length, []]];
      }
      for (const group of groups) {
        jobs.push([{ OP_ID: 'OP_CLUSTER_VERIFY_GROUP', group_name: group, verify_clutter: op.verify_clutter, depends: depends(), ...common }]);
      }
      return { jobs: await submitChildJobs(ctx, op, jobs) };
    },
  };
}

// --- OP_CLUSTER_VERIFY_CONFIG --------------------------------------------------------------

/** Every lock shared (upstream: all levels ALL_SET, ShareAll). */
const ALL_SHARED: LockPlan = {
  bglShared: true,
  levels: {
    instance: { names: null, shared: true },
    'node-alloc': { names: null, shared: true },
    nodegroup: { names: null, shared: true },
    node: { names: null, shared: true },
    'node-res': { names: null, shared: true },
    network: { names: null, shared: true },
  },
};

export function clusterVerifyConfig(op: OpInput, ctx: LUContext): LogicalUnit {
  return {
    checkArguments: () => checkIgnoreErrors(op),
    locks: () => ALL_SHARED,
    async exec() {
      const log = new VerifyLog(flagsOf(op), ctx.feedback);
      const data = ctx.config.data;
      ctx.feedback('* Verifying cluster config');
      log.errorList(CV.ECLUSTERCFG, null, verifyConfigData(data));

      // The cluster's credentials: the shared secret (the master must be able to read it)
      // and, unless the cluster is --no-ssl, the node RPC's certificate (upstream's check).
      ctx.feedback('* Verifying cluster certificate files');
      const keyFile = ctx.master.paths.clusterKey;
      let keyError: string | null = null;
      try {
        fs.accessSync(keyFile, fs.constants.R_OK);
      } catch (err) {
        keyError = `While verifying ${keyFile}: ${(err as Error).message}`;
      }
      log.errorIf(keyError, CV.ECLUSTERCERT, null, pyStr(keyError));
      if (!fs.existsSync(ctx.master.paths.rpcNoSsl)) {
        const [certErrorType, certMessage] = verifyCertificateFile(ctx.master.paths.serverCert);
        log.errorIf(certErrorType, CV.ECLUSTERCERT, null, pyStr(certMessage), certErrorType ?? 'ERROR');
      }

      // Hypervisor parameter syntax: the fake hypervisor has none to check.
      ctx.feedback('* Verifying hypervisor parameters');

      ctx.feedback('* Verifying all nodes belong to an existing group');
      const dangling = Object.values(data.nodes).filter((n) => !(n.group in data.nodegroups));
      const danglingUuids = new Set(dangling.map((n) => n.uuid));
      const danglingInstances = new Map<string, string[]>();
      const noNode: string[] = [];
      for (const inst of Object.values(data.instances)) {
        if (danglingUuids.has(inst.primary_node)) danglingInstances.set(inst.primary_node, [...(danglingInstances.get(inst.primary_node) ?? []), inst.name]);
        else if (!(inst.primary_node in data.nodes)) noNode.push(inst.name);
      }
      const pretty = dangling.map((n) => `${n.name} (${commaJoin(danglingInstances.get(n.uuid) ?? [])})`);
      log.errorIf(dangling.length > 0, CV.ECLUSTERDANGLINGNODES, null,
        `the following nodes (and their instances) belong to a non existing group: ${commaJoin(pretty)}`);
      log.errorIf(noNode.length > 0, CV.ECLUSTERDANGLINGINST, null,
        `the following instances have a non-existing primary-node: ${commaJoin(noNode)}`);
      return !log.bad;
    },
  };
}

// --- OP_CLUSTER_VERIFY_GROUP ---------------------------------------------------------------

/** A config path as the nodes see it: relative to the cluster root (upstream's virtual path). */
function virtualPath(root: string, file: string): string {
  return `/${path.relative(root, file)}`;
}

function sha1(text: string): string {
  return crypto.createHash('sha1').update(text).digest('hex');
}

/** The master's own view of the files every node must agree on: virtual path → checksum. */
function expectedFiles(ctx: LUContext): Record<string, string> {
  const root = ctx.master.paths.root;
  const out: Record<string, string> = { [virtualPath(root, ctx.master.paths.configFile)]: ctx.config.checksum() };
  for (const [key, lines] of Object.entries(ssconfValues(ctx.config.data))) {
    out[virtualPath(root, ctx.master.paths.ssconfFile(key))] = sha1(ssconfText(lines));
  }
  return out;
}

type Payload = Record<string, unknown>;

class VerifyGroup implements LogicalUnit {
  private readonly op: OpInput;
  private readonly ctx: LUContext;
  private group!: NodeGroupObject;
  private log: VerifyLog;

  constructor(op: OpInput, ctx: LUContext) {
    this.op = op;
    this.ctx = ctx;
    this.log = new VerifyLog(flagsOf(op), ctx.feedback);
  }

  checkArguments(): void {
    checkIgnoreErrors(this.op);
  }

  expandNames(): void {
    const name = this.op.group_name as string;
    const group = this.ctx.config.groupByName(name) ?? this.ctx.config.data.nodegroups[name];
    if (!group) throw new OpPrereqError(`Node group '${name}' not found`, ECODE.NOENT);
    this.group = group;
  }

  /** The group's nodes, nice-sorted by name (upstream's order is a dict's). */
  private nodes(): NodeObject[] {
    const nodes = this.ctx.config.nodes().filter((n) => n.group === this.group.uuid);
    const byName = new Map(nodes.map((n) => [n.name, n]));
    return niceSort([...byName.keys()]).map((n) => byName.get(n)!);
  }

  locks(): LockPlan {
    const nodes = this.nodes().map((n) => n.uuid);
    const members = new Set(nodes);
    const instances = Object.values(this.ctx.config.data.instances).filter((i) => members.has(i.primary_node)).map((i) => i.uuid);
    return {
      bglShared: true,
      levels: {
        instance: { names: instances, shared: true },
        nodegroup: { names: [this.group.uuid], shared: true },
        node: { names: nodes, shared: true },
      },
    };
  }

  hooks(): HookSpec {
    const nodes = this.nodes();
    const env: HookSpec['env'] = { CLUSTER_TAGS: (this.ctx.config.cluster.tags ?? []).join(' ') };
    for (const n of nodes) env[`NODE_TAGS_${n.name}`] = (n.tags ?? []).join(' ');
    return { path: 'cluster-verify', type: 'CLUSTER', env, preNodes: [], postNodes: nodes.map((n) => n.name) };
  }

  /**
   * upstream's HooksCallBack: post-hook failures are verification errors, and each
   * failing script's output follows, indented. Returns the opcode's new result.
   */
  hooksCallback(phase: 'pre' | 'post', results: Map<string, RpcResult>, luResult: unknown): unknown {
    if (this.nodes().length === 0 || phase !== 'post') return luResult;
    this.ctx.feedback('* Hooks Results');
    let result = luResult;
    for (const [node, res] of results) {
      const offline = !res.ok && res.offline === true;
      const msg = res.ok ? null : res.error;
      const failed = Boolean(msg) && !offline;
      this.log.errorIf(failed, CV.ENODEHOOKS, node, `Communication failure in hooks execution: ${pyStr(msg)}`);
      if (failed) {
        result = false;
        continue;
      }
      if (offline || !res.ok || !Array.isArray(res.payload)) continue;
      for (const entry of res.payload as Array<[string, number, string]>) {
        const [script, status, output] = entry;
        const scriptFailed = status === 1; // HKR_FAIL
        this.log.errorIf(scriptFailed, CV.ENODEHOOKS, node, `Script ${script} failed, output:`);
        if (scriptFailed) {
          this.ctx.feedback(String(output ?? '').replace(/^/gm, '      '));
          result = false;
        }
      }
    }
    return result;
  }

  async exec(): Promise<boolean> {
    const { ctx, op, log } = this;
    const verbose = Boolean(op.verbose);
    ctx.feedback(`* Verifying group '${this.group.name}'`);
    const nodes = this.nodes();
    if (nodes.length === 0) {
      ctx.feedback('* Empty node group, skipping verification');
      return true;
    }
    const cluster = ctx.config.cluster;
    const masterUuid = cluster.master_node;
    const master = ctx.config.node(masterUuid);
    const root = ctx.master.paths.root;
    const show = (vpath: string) => path.join(root, vpath);

    ctx.feedback(`* Gathering data (${nodes.length} nodes)`);
    const configFile = virtualPath(root, ctx.master.paths.configFile);
    const ssconfFiles = Object.keys(ssconfValues(ctx.config.data)).map((k) => virtualPath(root, ctx.master.paths.ssconfFile(k)));
    // Our analogue of upstream's certificate files: the cluster secret, which only the
    // master and its candidates may hold (a copy elsewhere is reported).
    const clusterKey = virtualPath(root, ctx.master.paths.clusterKey);
    // Every node holds the same cluster certificate (or the --no-ssl marker), as upstream's server.pem.
    const transportFile = virtualPath(root, fs.existsSync(ctx.master.paths.rpcNoSsl) ? ctx.master.paths.rpcNoSsl : ctx.master.paths.serverCert);
    const filemap: FileMap = { all: [...ssconfFiles, transportFile], opt: [], mc: [configFile, clusterKey] };
    const fileList = [...filemap.all, ...filemap.mc];
    const onlineMcs = niceSort(nodes.filter((n) => n.master_candidate && !n.offline).map((n) => n.name));
    const onlineNodes = nodes.filter((n) => !n.offline).map((n) => [n.name, n.primary_ip, n.secondary_ip, rpcTarget(n).port]);
    const what: Record<string, unknown> = {
      filelist: fileList,
      'node-net-test': [onlineNodes, onlineMcs],
      version: null,
      nodesetup: null,
      time: null,
      'master-ip': [master?.name ?? null, cluster.master_ip, onlineMcs, master ? rpcTarget(master).port : null],
      hostname: null,
    };

    ctx.feedback(`* Gathering information about nodes (${nodes.length} nodes)`);
    // The master's own files are what it computes now; a change committed while the nodes
    // answer may leave a node with the state from just before, which is still current.
    const before = expectedFiles(ctx);
    const start = Date.now() / 1000;
    const results = await ctx.rpc.callMany(nodes.map(rpcTarget), 'node_verify', [what, cluster.cluster_name, cluster.hvparams]);
    const end = Date.now() / 1000;
    const after = expectedFiles(ctx);
    const nvinfo = new Map<string, RpcResult>(nodes.map((n) => [n.uuid, results.get(n.name)!]));

    // Files are compared with the master even when it is in another group (upstream
    // asks the master for its file list then).
    const fileNodes: FileNode[] = [...nodes];
    const files = new Map<string, Record<string, string> | null>();
    for (const n of nodes) {
      const r = nvinfo.get(n.uuid)!;
      files.set(n.uuid, r.ok && isPayload(r.payload) && isPayload(r.payload.filelist) ? { ...(r.payload.filelist as Record<string, string>) } : null);
    }
    if (master && !nodes.some((n) => n.uuid === masterUuid)) {
      ctx.feedback('* Gathering information about the master node');
      fileNodes.push(master);
      const r = await ctx.rpc.call(rpcTarget(master), 'node_verify', [{ filelist: fileList }, cluster.cluster_name, cluster.hvparams]);
      files.set(masterUuid, r.ok && isPayload(r.payload) && isPayload(r.payload.filelist) ? { ...(r.payload.filelist as Record<string, string>) } : null);
    }
    // The master's copies are, by definition, the configuration and ssconf it holds.
    const own = files.get(masterUuid);
    if (own) files.set(masterUuid, { ...own, ...after });
    for (const [uuid, nodeFiles] of files) {
      if (!nodeFiles || uuid === masterUuid) continue;
      for (const [file, sum] of Object.entries(nodeFiles)) {
        if (before[file] !== undefined && sum === before[file]) nodeFiles[file] = after[file];
      }
    }

    ctx.feedback(`* Gathering disk information (${nodes.length} nodes)`);
    ctx.feedback('* Verifying configuration file consistency');
    verifyFiles(log, fileNodes, masterUuid, files, filemap, show);

    ctx.feedback('* Verifying node status');
    let nOffline = 0;
    let nDrained = 0;
    for (const node of nodes) {
      if (node.offline) {
        if (verbose) ctx.feedback(`* Skipping offline node ${node.name}`);
        nOffline += 1;
        continue;
      }
      let ntype: string;
      if (node.uuid === masterUuid) ntype = 'master';
      else if (node.master_candidate) ntype = 'master candidate';
      else if (node.drained) {
        ntype = 'drained';
        nDrained += 1;
      } else ntype = 'regular';
      if (verbose) ctx.feedback(`* Verifying node ${node.name} (${ntype})`);
      const res = nvinfo.get(node.uuid)!;
      const msg = res.ok ? null : res.error;
      log.errorIf(msg, CV.ENODERPC, node.name, `while contacting node: ${pyStr(msg)}`);
      if (!res.ok) continue;
      const payload = res.payload;
      if (!this.verifyNode(node, payload)) continue;
      this.verifyNodeTime(node, payload as Payload, start, end);
      this.verifyNodeNetwork(node, payload as Payload);
    }

    ctx.feedback('* Verifying instance status');
    ctx.feedback('* Verifying orphan volumes');
    if (!((op.skip_checks as string[] | undefined) ?? []).includes(VERIFY_NPLUSONE_MEM)) ctx.feedback('* Verifying N+1 Memory redundancy');
    ctx.feedback('* Other Notes');
    if (nOffline) ctx.feedback(`  - NOTICE: ${nOffline} offline node(s) found.`);
    if (nDrained) ctx.feedback(`  - NOTICE: ${nDrained} drained node(s) found.`);
    return !log.bad;
  }

  /** upstream's _VerifyNode: well-formed answer, protocol and software versions, node set-up. */
  private verifyNode(node: NodeObject, payload: unknown): boolean {
    const log = this.log;
    let test = !isPayload(payload) || Object.keys(payload).length === 0;
    log.errorIf(test, CV.ENODERPC, node.name, 'unable to verify node: no data returned');
    if (test) return false;
    const result = payload as Payload;
    const remote = result.version;
    test = !(Array.isArray(remote) && remote.length === 2);
    log.errorIf(test, CV.ENODERPC, node.name, 'connection to node returned invalid data');
    if (test) return false;
    const [proto, release] = remote as [unknown, unknown];
    test = proto !== PROTOCOL_VERSION;
    log.errorIf(test, CV.ENODEVERSION, node.name, `incompatible protocol versions: master ${PROTOCOL_VERSION}, node ${pyStr(proto)}`);
    if (test) return false;
    log.errorIf(release !== RELEASE_VERSION, CV.ENODEVERSION, node.name,
      `software version mismatch: master ${RELEASE_VERSION}, node ${pyStr(release)}`, 'WARNING');
    const setup = Array.isArray(result.nodesetup) ? result.nodesetup.map(String) : ['Missing NODESETUP results'];
    log.errorIf(setup, CV.ENODESETUP, node.name, `node setup error: ${setup.join('; ')}`);
    return true;
  }

  private verifyNodeTime(node: NodeObject, result: Payload, start: number, end: number): void {
    const skew = clockSkew(result.time, start, end);
    if (skew === 'invalid') {
      this.log.error(CV.ENODETIME, node.name, 'Node returned invalid time');
      return;
    }
    this.log.errorIf(skew !== null, CV.ENODETIME, node.name, `Node time diverges by at least ${pyStr(skew)} from master node time`);
  }

  /** upstream's _VerifyNodeNetwork without ssh; the node's own name stands in for the ssh hostname check. */
  private verifyNodeNetwork(node: NodeObject, result: Payload): void {
    const log = this.log;
    const reported = result.hostname;
    log.errorIf(typeof reported === 'string' && reported !== node.name, CV.ENODENET, node.name,
      `hostname mismatch: expected ${node.name} but got ${pyStr(reported)}`);
    const net = result['node-net-test'];
    if (!isPayload(net)) {
      log.error(CV.ENODENET, node.name, "node hasn't returned node tcp connectivity data");
    } else if (Object.keys(net).length > 0) {
      log.errorList(CV.ENODENET, node.name, niceSort(Object.keys(net)).map((n) => `tcp communication with node '${n}': ${pyStr(net[n])}`));
    }
    if (!('master-ip' in result)) {
      log.error(CV.ENODENET, node.name, "node hasn't returned node master IP reachability data");
    } else if (result['master-ip'] === false) {
      log.error(CV.ENODENET, node.name, node.uuid === this.ctx.config.cluster.master_node
        ? 'the master node cannot reach the master IP (not configured?)'
        : 'cannot reach the master IP');
    }
  }
}

function isPayload(v: unknown): v is Payload {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function clusterVerifyGroup(op: OpInput, ctx: LUContext): LogicalUnit {
  return new VerifyGroup(op, ctx);
}
