// The built-in instance allocator (our `hail`): an IAllocator version-2 request in, the
// response out (spec/surface.md §7.2, §7.3). Pure logic; src/htools/hail.ts is the
// command line around it, and the master runs it in-process when no `hail` script is
// installed (src/master/iallocator/).
//
// Not htools' cluster-score search, but a simple and sound placement:
//  * usable nodes: online, not drained, vm_capable (live data present);
//  * groups by alloc_policy: preferred first, last_resort only when no preferred group
//    can take the instance, unallocable never (a group named in the request is used as
//    it is, unless unallocable);
//  * a node must hold the instance: free memory (instances that run), free disk for the
//    templates with node-local storage (file, plain, drbd), spindles (free spindles under
//    exclusive storage, else spindle-ratio × spindle_count), vCPUs within the group's
//    vcpu-ratio × total_cpus (as htools), the group's instance policy (disk
//    template and min/max specs), and no primary instance sharing an exclusion tag
//    (cluster tags `htools:iextags:<prefix>`); N+1 redundancy is not required;
//  * THE RULE: among the nodes (or primary/secondary pairs) that hold it, the one after
//    which the group's free-memory fractions (free_memory / total_memory of every usable
//    node) have the smallest standard deviation: the most balanced free memory. Ties go
//    to the node left with the most free memory, then to the first name.
// Node evacuation and group changes answer with the jobs hail emits: OP_INSTANCE_MIGRATE
// (with target_node for externally mirrored and diskless instances, failover allowed),
// OP_INSTANCE_REPLACE_DISKS (new secondary) for DRBD; file and plain instances cannot move.

type Dict = Record<string, unknown>;

export interface IAllocResponse {
  success: boolean;
  info: string;
  result: unknown;
}

export interface HailOptions {
  /** --restrict-allocation-to: only these nodes take new instances. */
  restrictTo?: string[] | null;
  /** --ignore-soft-errors: exclusion tags do not refuse a node. */
  ignoreSoftErrors?: boolean;
  /** --no-capacity-checks: accepted; N+1 is never checked here anyway. */
  noCapacityChecks?: boolean;
}

/** The input file is not a valid request (hail: "Error: ..." on stderr, exit 1). */
export class HailInputError extends Error {}

// --- the cluster model -------------------------------------------------------------------

interface ISpec {
  'memory-size'?: number;
  'cpu-count'?: number;
  'disk-size'?: number;
  'disk-count'?: number;
  'nic-count'?: number;
  'spindle-use'?: number;
}

interface IPolicy {
  minmax: Array<{ min: ISpec; max: ISpec }>;
  diskTemplates: string[];
  vcpuRatio: number;
  spindleRatio: number;
}

interface Group {
  uuid: string;
  name: string;
  policy: string;
  ipolicy: IPolicy;
}

interface Node {
  name: string;
  group: string;
  /** Offline, drained or not vm_capable: takes no instance (htools' "offline"). */
  unusable: boolean;
  tMem: number;
  fMem: number;
  tDsk: number;
  fDsk: number;
  tCpu: number;
  rCpu: number;
  uCpu: number;
  exclStor: boolean;
  spindleCount: number;
  fSpindles: number;
  /** spindle_use of the primary instances. */
  uSpindles: number;
  /** Tags of the primary instances. */
  pTags: string[];
}

interface Instance {
  name: string;
  mem: number;
  dsk: number;
  disks: Array<{ size: number; spindles: number | null }>;
  vcpus: number;
  running: boolean;
  tags: string[];
  dt: string;
  su: number;
  nics: number;
  /** Primary first. */
  nodes: string[];
}

interface Cluster {
  groups: Map<string, Group>;
  nodes: Map<string, Node>;
  instances: Map<string, Instance>;
  exTagPrefixes: string[];
}

const LOCAL_STORAGE = ['file', 'plain', 'drbd'];
const EXT_MIRROR = ['blockdev', 'diskless', 'ext', 'gluster', 'rbd', 'sharedfile'];
const POLICY_ORDER: Record<string, number> = { preferred: 0, last_resort: 1 };

function obj(v: unknown, what: string): Dict {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new HailInputError(`${what}: not a JSON object`);
  return v as Dict;
}

function key<T>(o: Dict, k: string, what: string, check: (v: unknown) => boolean = () => true): T {
  if (!Object.hasOwn(o, k)) throw new HailInputError(`${what}: key '${k}' not found, object contains only [${Object.keys(o).map((x) => JSON.stringify(x)).join(',')}]`);
  if (!check(o[k])) throw new HailInputError(`${what}: key '${k}' has an invalid value ${JSON.stringify(o[k])}`);
  return o[k] as T;
}

const isNum = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
const isStr = (v: unknown) => typeof v === 'string';
const isList = (v: unknown) => Array.isArray(v);

function parseIPolicy(v: unknown, what: string): IPolicy {
  const p = obj(v, what);
  return {
    minmax: (key<unknown[]>(p, 'minmax', what, isList)).map((m) => obj(m, what) as { min: ISpec; max: ISpec }),
    diskTemplates: key<string[]>(p, 'disk-templates', what, isList),
    vcpuRatio: key<number>(p, 'vcpu-ratio', what, isNum),
    spindleRatio: key<number>(p, 'spindle-ratio', what, isNum),
  };
}

function parseBaseInstance(name: string, a: Dict): Omit<Instance, 'nodes'> {
  const what = `invalid data for instance '${name}'`;
  const disks = key<unknown[]>(a, 'disks', what, isList).map((d) => {
    const dd = obj(d, what);
    return { size: key<number>(dd, 'size', what, isNum), spindles: typeof dd.spindles === 'number' ? dd.spindles : null };
  });
  const state = typeof a.admin_state === 'string' ? a.admin_state : 'up';
  return {
    name,
    mem: key<number>(a, 'memory', what, isNum),
    dsk: key<number>(a, 'disk_space_total', what, isNum),
    disks,
    vcpus: key<number>(a, 'vcpus', what, isNum),
    running: state === 'up',
    tags: key<string[]>(a, 'tags', what, isList),
    dt: key<string>(a, 'disk_template', what, isStr),
    su: key<number>(a, 'spindle_use', what, isNum),
    nics: key<unknown[]>(a, 'nics', what, isList).length,
  };
}

function parseCluster(msg: Dict): Cluster {
  const groups = new Map<string, Group>();
  for (const [uuid, g] of Object.entries(obj(key(msg, 'nodegroups', 'invalid iallocator message'), 'nodegroups'))) {
    const what = `invalid data for group '${uuid}'`;
    const go = obj(g, what);
    groups.set(uuid, {
      uuid, name: key<string>(go, 'name', what, isStr), policy: key<string>(go, 'alloc_policy', what, isStr),
      ipolicy: parseIPolicy(key(go, 'ipolicy', what), what),
    });
  }
  const nodes = new Map<string, Node>();
  for (const [name, n] of Object.entries(obj(key(msg, 'nodes', 'invalid iallocator message'), 'nodes'))) {
    const what = `invalid data for node '${name}'`;
    const no = obj(n, what);
    const offline = key<boolean>(no, 'offline', what);
    const drained = key<boolean>(no, 'drained', what);
    const group = key<string>(no, 'group', what, isStr);
    if (!groups.has(group)) throw new HailInputError(`Node '${name}' has an unknown node group '${group}'`);
    const vmCapable = no.vm_capable !== false;
    const nd = obj(key(no, 'ndparams', what), what);
    const exclStor = nd.exclusive_storage === true;
    const live = !offline && vmCapable;
    const num = (k: string) => (live ? key<number>(no, k, what, isNum) : 0);
    nodes.set(name, {
      name, group, unusable: !live || drained === true,
      tMem: num('total_memory'), fMem: num('free_memory'), tDsk: num('total_disk'), fDsk: num('free_disk'),
      tCpu: num('total_cpus'), rCpu: num('reserved_cpus'), uCpu: 0, exclStor,
      spindleCount: typeof nd.spindle_count === 'number' ? nd.spindle_count : 1,
      fSpindles: live ? num('free_spindles') : 0, uSpindles: 0, pTags: [],
    });
  }
  const instances = new Map<string, Instance>();
  for (const [name, i] of Object.entries(obj(key(msg, 'instances', 'invalid iallocator message'), 'instances'))) {
    const io = obj(i, `invalid data for instance '${name}'`);
    const inodes = key<string[]>(io, 'nodes', `invalid data for instance '${name}'`, isList);
    if (inodes.length === 0) throw new HailInputError(`empty node list for instance ${name}`);
    for (const nn of inodes) if (!nodes.has(nn)) throw new HailInputError(`Unknown node '${nn}' for instance ${name}`);
    const inst: Instance = { ...parseBaseInstance(name, io), nodes: inodes };
    instances.set(name, inst);
    const p = nodes.get(inodes[0])!;
    p.uCpu += inst.vcpus;
    p.uSpindles += inst.su;
    p.pTags.push(...inst.tags);
  }
  const ctags = key<string[]>(msg, 'cluster_tags', 'invalid iallocator message', isList);
  const exTagPrefixes = ctags.filter((t) => t.startsWith('htools:iextags:')).map((t) => t.slice('htools:iextags:'.length));
  return { groups, nodes, instances, exTagPrefixes };
}

// --- placement -------------------------------------------------------------------------

type Fail = 'FailMem' | 'FailDisk' | 'FailCPU' | 'FailSpindles' | 'FailTags' | 'FailN1' | 'FailPolicy' | 'FailOffline';

/** What placing an instance changes on a node. */
function exclusionTags(c: Cluster, inst: Instance): string[] {
  return inst.tags.filter((t) => c.exTagPrefixes.some((p) => t.startsWith(`${p}:`)));
}

function policyFits(ip: IPolicy, inst: Instance): boolean {
  if (!ip.diskTemplates.includes(inst.dt)) return false;
  if (ip.minmax.length === 0) return true;
  const inRange = (k: keyof ISpec, v: number, mm: { min: ISpec; max: ISpec }) =>
    (mm.min[k] === undefined || v >= mm.min[k]) && (mm.max[k] === undefined || v <= mm.max[k]);
  // As htools: NIC counts are not checked, nor the disk count of a diskless instance.
  return ip.minmax.some((mm) => inRange('memory-size', inst.mem, mm) && inRange('cpu-count', inst.vcpus, mm) &&
    inRange('spindle-use', inst.su, mm) &&
    (inst.dt === 'diskless' || inRange('disk-count', inst.disks.length, mm)) &&
    inst.disks.every((d) => inRange('disk-size', d.size, mm)));
}

/** Why `node` cannot take `inst` as its primary, or null when it can. */
function primaryFail(c: Cluster, node: Node, inst: Instance, opts: HailOptions, asRunning = inst.running): Fail | null {
  if (node.unusable) return 'FailOffline';
  const ip = c.groups.get(node.group)!.ipolicy;
  if (!policyFits(ip, inst)) return 'FailPolicy';
  if (asRunning && node.fMem - inst.mem < 0) return 'FailMem';
  if (LOCAL_STORAGE.includes(inst.dt) && node.fDsk - inst.dsk < 0) return 'FailDisk';
  if (node.uCpu + inst.vcpus > Math.floor(ip.vcpuRatio * node.tCpu)) return 'FailCPU';
  if (node.exclStor) {
    const need = inst.disks.reduce((s, d) => s + (d.spindles ?? 0), 0);
    if (node.fSpindles - need < 0) return 'FailSpindles';
  } else if (node.uSpindles + inst.su > ip.spindleRatio * node.spindleCount) {
    return 'FailSpindles';
  }
  const ex = exclusionTags(c, inst);
  if (!opts.ignoreSoftErrors && ex.some((t) => node.pTags.includes(t))) return 'FailTags';
  return null;
}

/** Why `node` cannot hold the (DRBD) instance's secondary disks, or null. */
function secondaryFail(node: Node, inst: Instance): Fail | null {
  if (node.unusable) return 'FailOffline';
  if (node.fDsk - inst.dsk < 0) return 'FailDisk';
  return null;
}

/** Counts the changes of nodes' free memory (invalidates the cached group sums). */
let mutations = 0;

function addPrimary(node: Node, inst: Instance, running = inst.running): void {
  mutations += 1;
  if (running) node.fMem -= inst.mem;
  if (LOCAL_STORAGE.includes(inst.dt)) node.fDsk -= inst.dsk;
  node.uCpu += inst.vcpus;
  node.uSpindles += inst.su;
  if (node.exclStor) node.fSpindles -= inst.disks.reduce((s, d) => s + (d.spindles ?? 0), 0);
  node.pTags.push(...inst.tags);
}

function removePrimary(node: Node, inst: Instance, running = inst.running): void {
  mutations += 1;
  if (running) node.fMem += inst.mem;
  if (LOCAL_STORAGE.includes(inst.dt)) node.fDsk += inst.dsk;
  node.uCpu -= inst.vcpus;
  node.uSpindles -= inst.su;
  if (node.exclStor) node.fSpindles += inst.disks.reduce((s, d) => s + (d.spindles ?? 0), 0);
  for (const t of inst.tags) {
    const i = node.pTags.indexOf(t);
    if (i >= 0) node.pTags.splice(i, 1);
  }
}

/**
 * The balance score of a group: standard deviation of its usable nodes' free-memory
 * fractions (lower is better), after the memory changes in `memDelta`. The group's sums
 * are kept per call site's cluster state, so trying each candidate costs O(1).
 */
function groupScore(c: Cluster, group: string, memDelta: Map<string, number>): number {
  const st = groupStats(c, group);
  if (st.n === 0) return 0;
  let sum = st.sum;
  let sumsq = st.sumsq;
  for (const [name, delta] of memDelta) {
    const n = c.nodes.get(name);
    if (!n || n.group !== group || n.unusable || n.tMem <= 0) continue;
    const before = n.fMem / n.tMem;
    const after = (n.fMem + delta) / n.tMem;
    sum += after - before;
    sumsq += after * after - before * before;
  }
  const mean = sum / st.n;
  return Math.sqrt(Math.max(0, sumsq / st.n - mean * mean));
}

/** Count, sum and sum of squares of a group's free-memory fractions (recomputed when the nodes changed). */
const statsCache = new WeakMap<Cluster, Map<string, { key: string; n: number; sum: number; sumsq: number }>>();
function groupStats(c: Cluster, group: string): { n: number; sum: number; sumsq: number } {
  let perGroup = statsCache.get(c);
  if (!perGroup) statsCache.set(c, (perGroup = new Map()));
  let n = 0;
  let sum = 0;
  let sumsq = 0;
  const key = String(mutations);
  const hit = perGroup.get(group);
  if (hit && hit.key === key) return hit;
  for (const node of c.nodes.values()) {
    if (node.group !== group || node.unusable || node.tMem <= 0) continue;
    const f = node.fMem / node.tMem;
    n += 1;
    sum += f;
    sumsq += f * f;
  }
  const st = { key, n, sum, sumsq };
  perGroup.set(group, st);
  return st;
}

interface Choice {
  nodes: string[];
  score: number;
  /** Free memory left on the primary (tie-break). */
  left: number;
}

function better(a: Choice, b: Choice | null): boolean {
  if (b === null) return true;
  if (Math.abs(a.score - b.score) > 1e-12) return a.score < b.score;
  if (a.left !== b.left) return a.left > b.left;
  return a.nodes.join(',') < b.nodes.join(',');
}

function countFail(stats: Map<Fail, number>, f: Fail): void {
  stats.set(f, (stats.get(f) ?? 0) + 1);
}

function failText(stats: Map<Fail, number>): string {
  return [...stats].map(([f, n]) => `${f}: ${n}`).join(', ');
}

interface GroupResult {
  group: Group;
  best: Choice | null;
  successes: number;
  stats: Map<Fail, number>;
}

/** The best node (or pair) for `inst` in one group, among `candidates`. */
function placeInGroup(c: Cluster, group: Group, inst: Instance, required: number, candidates: Node[], opts: HailOptions): GroupResult {
  const stats = new Map<Fail, number>();
  let best: Choice | null = null;
  let successes = 0;
  const nodes = candidates.filter((n) => n.group === group.uuid).sort((a, b) => (a.name < b.name ? -1 : 1));
  const running = true;
  if (required === 1) {
    for (const n of nodes) {
      const f = primaryFail(c, n, inst, opts, running);
      if (f) {
        countFail(stats, f);
        continue;
      }
      successes += 1;
      const ch: Choice = { nodes: [n.name], score: groupScore(c, group.uuid, new Map([[n.name, -inst.mem]])), left: n.fMem - inst.mem };
      if (better(ch, best)) best = ch;
    }
  } else {
    for (const p of nodes) {
      const f = primaryFail(c, p, inst, opts, running);
      for (const s of nodes) {
        if (s === p) continue;
        const fs = f ?? secondaryFail(s, inst);
        if (fs) {
          countFail(stats, fs);
          continue;
        }
        successes += 1;
        const ch: Choice = { nodes: [p.name, s.name], score: groupScore(c, group.uuid, new Map([[p.name, -inst.mem]])), left: p.fMem - inst.mem };
        if (better(ch, best)) best = ch;
      }
    }
  }
  return { group, best, successes, stats };
}

function groupLabel(g: Group): string {
  return `Group ${g.name} (${g.policy})`;
}

function groupFailure(r: GroupResult): string {
  return `${groupLabel(r.group)}: No valid allocation solutions, failure reasons: ${r.stats.size ? failText(r.stats) : 'no nodes'}`;
}

/** Allocation over the groups (hail's tryMGAlloc / tryGroupAlloc); the chosen result or the reason. */
function allocate(c: Cluster, inst: Instance, required: number, groupName: string | null, restrict: string[] | null, opts: HailOptions):
  { ok: true; nodes: string[]; info: string } | { ok: false; info: string } {
  if (required !== 1 && required !== 2) return { ok: false, info: `Unsupported number of nodes ${required}` };
  const candidates = [...c.nodes.values()].filter((n) => restrict === null || restrict.includes(n.name));
  let groups: Group[];
  if (groupName !== null) {
    const g = [...c.groups.values()].find((x) => x.name === groupName || x.uuid === groupName);
    if (!g) return { ok: false, info: `Unknown node group '${groupName}'` };
    groups = [g];
  } else {
    groups = [...c.groups.values()].filter((g) => g.policy in POLICY_ORDER);
  }
  const results = groups.map((g) => placeInGroup(c, g, inst, required, candidates, opts));
  const good = results.filter((r) => r.best !== null && (groupName !== null || r.group.policy in POLICY_ORDER));
  if (good.length === 0) {
    if (results.length === 0) return { ok: false, info: 'No groups available for allocation' };
    return { ok: false, info: results.map(groupFailure).join('; ') };
  }
  good.sort((a, b) => (POLICY_ORDER[a.group.policy] ?? 0) - (POLICY_ORDER[b.group.policy] ?? 0) ||
    a.best!.score - b.best!.score || (a.group.name < b.group.name ? -1 : 1));
  const r = good[0];
  const info = `Selected group: ${r.group.name}, ${groupLabel(r.group)}: score: ${r.best!.score.toFixed(8)}, successes ${r.successes}, ` +
    `failures ${[...r.stats.values()].reduce((a, b) => a + b, 0)} (${failText(r.stats)}) for node(s) ${r.best!.nodes.join(',')}`;
  return { ok: true, nodes: r.best!.nodes, info };
}

/** Record a new instance on its nodes, for the requests that allocate several. */
function commit(c: Cluster, inst: Instance, nodes: string[]): void {
  addPrimary(c.nodes.get(nodes[0])!, inst, true);
  if (nodes[1]) c.nodes.get(nodes[1])!.fDsk -= inst.dsk;
}

// --- moving existing instances -----------------------------------------------------------

function mirrorType(dt: string): 'none' | 'internal' | 'external' {
  if (dt === 'drbd') return 'internal';
  return EXT_MIRROR.includes(dt) ? 'external' : 'none';
}

function migrateOp(name: string, target: string | null): Dict {
  return {
    OP_ID: 'OP_INSTANCE_MIGRATE', instance_name: name, ...(target !== null ? { target_node: target } : {}),
    allow_runtime_changes: false, ignore_ipolicy: false, cleanup: false, allow_failover: true, ignore_hvversions: true,
  };
}

function replaceSecondaryOp(name: string, node: string): Dict {
  return { OP_ID: 'OP_INSTANCE_REPLACE_DISKS', instance_name: name, early_release: false, ignore_ipolicy: false, mode: 'replace_new_secondary', disks: [], remote_node: node };
}

type MoveResult = { ok: true; nodes: string[]; ops: Dict[] } | { ok: false; reason: string };

/** The best node among `avail` to become the instance's new primary (external mirror, diskless). */
function bestNewPrimary(c: Cluster, inst: Instance, avail: Node[], opts: HailOptions): MoveResult {
  const old = c.nodes.get(inst.nodes[0])!;
  let best: Choice | null = null;
  let reasons = '';
  for (const n of avail) {
    const f = primaryFail(c, n, inst, opts);
    if (f) {
      reasons += ` Node ${n.name} failed: ${f};`;
      continue;
    }
    const delta = new Map<string, number>();
    if (inst.running) {
      delta.set(n.name, -inst.mem);
      if (n.group === old.group) delta.set(old.name, (delta.get(old.name) ?? 0) + inst.mem);
    }
    const ch: Choice = { nodes: [n.name], score: groupScore(c, n.group, delta), left: n.fMem - inst.mem };
    if (better(ch, best)) best = ch;
  }
  if (best === null) return { ok: false, reason: `Can't find any good node:${reasons}` };
  const target = c.nodes.get(best.nodes[0])!;
  removePrimary(old, inst);
  addPrimary(target, inst);
  inst.nodes = [target.name, ...inst.nodes.slice(1)];
  return { ok: true, nodes: inst.nodes, ops: [migrateOp(inst.name, target.name)] };
}

/** A new secondary for a DRBD instance among `avail`. */
function bestNewSecondary(c: Cluster, inst: Instance, avail: Node[]): MoveResult {
  const pnode = c.nodes.get(inst.nodes[0])!;
  let best: Choice | null = null;
  let reasons = '';
  for (const n of avail) {
    const f = secondaryFail(n, inst);
    if (f) {
      reasons += ` Node ${n.name} failed: ${f};`;
      continue;
    }
    const ch: Choice = { nodes: [n.name], score: groupScore(c, pnode.group, new Map()), left: n.fDsk - inst.dsk };
    if (better(ch, best)) best = ch;
  }
  if (best === null) return { ok: false, reason: `Can't find any good node:${reasons}` };
  const old = inst.nodes[1] ? c.nodes.get(inst.nodes[1]) : undefined;
  if (old) old.fDsk += inst.dsk;
  c.nodes.get(best.nodes[0])!.fDsk -= inst.dsk;
  inst.nodes = [inst.nodes[0], best.nodes[0]];
  return { ok: true, nodes: inst.nodes, ops: [replaceSecondaryOp(inst.name, best.nodes[0])] };
}

/** DRBD failover to the secondary (primary-only evacuation). */
function drbdFailover(c: Cluster, inst: Instance): MoveResult {
  const [p, s] = inst.nodes.map((n) => c.nodes.get(n)!);
  if (!s) return { ok: false, reason: 'Instance has no secondary node' };
  // A failover only needs the memory (the disks are already there), as htools' Failover move.
  if (s.unusable) return { ok: false, reason: 'FailOffline' };
  if (inst.running && s.fMem - inst.mem < 0) return { ok: false, reason: 'FailMem' };
  removePrimary(p, inst);
  addPrimary(s, inst);
  inst.nodes = [s.name, p.name];
  return { ok: true, nodes: inst.nodes, ops: [migrateOp(inst.name, null)] };
}

/** DRBD change of both nodes: replace-secondary to the new primary, failover, replace-secondary. */
function drbdChangeAll(c: Cluster, inst: Instance, avail: Node[], opts: HailOptions): MoveResult {
  const [p, s] = inst.nodes.map((n) => c.nodes.get(n)!);
  let best: Choice | null = null;
  let reason = 'no nodes available';
  for (const np of avail) {
    for (const ns of avail) {
      if (np === ns) continue;
      removePrimary(p, inst);
      const f = primaryFail(c, np, inst, opts) ?? secondaryFail(ns, inst);
      addPrimary(p, inst);
      if (f) {
        reason = f;
        continue;
      }
      const delta = new Map<string, number>([[np.name, -inst.mem]]);
      const ch: Choice = { nodes: [np.name, ns.name], score: groupScore(c, np.group, delta), left: np.fMem - inst.mem };
      if (better(ch, best)) best = ch;
    }
  }
  if (best === null) return { ok: false, reason: `Can't find any good nodes for relocation: ${reason}` };
  const [np, ns] = best.nodes.map((n) => c.nodes.get(n)!);
  removePrimary(p, inst);
  if (s) s.fDsk += inst.dsk;
  addPrimary(np, inst);
  ns.fDsk -= inst.dsk;
  inst.nodes = [np.name, ns.name];
  return { ok: true, nodes: inst.nodes, ops: [replaceSecondaryOp(inst.name, np.name), migrateOp(inst.name, null), replaceSecondaryOp(inst.name, ns.name)] };
}

type EvacMode = 'primary-only' | 'secondary-only' | 'all';

function moveInstance(c: Cluster, inst: Instance, mode: EvacMode, avail: Node[], opts: HailOptions): MoveResult {
  const mt = mirrorType(inst.dt);
  if (mt === 'none') return { ok: false, reason: `Instances of type ${inst.dt} cannot be relocated` };
  if (mt === 'external') {
    if (mode === 'secondary-only') return { ok: false, reason: `Instances with disk template '${inst.dt}' can't execute change secondary` };
    return bestNewPrimary(c, inst, avail, opts);
  }
  if (mode === 'primary-only') return drbdFailover(c, inst);
  if (mode === 'secondary-only') return bestNewSecondary(c, inst, avail);
  return drbdChangeAll(c, inst, avail, opts);
}

interface EvacResult {
  moved: Array<[string, string, string[]]>;
  failed: Array<[string, string]>;
  jobs: Dict[][];
}

function evacInfo(r: EvacResult): string {
  return `${r.failed.length} instances failed to move and ${r.moved.length} were moved successfully`;
}

function nodeEvacuate(c: Cluster, names: string[], mode: EvacMode, opts: HailOptions): EvacResult {
  const insts = names.map((n) => {
    const i = c.instances.get(n);
    if (!i) throw new HailInputError(`Unknown instance '${n}'`);
    return i;
  });
  const evac = new Set<string>();
  for (const i of insts) {
    if (mode !== 'secondary-only') evac.add(i.nodes[0]);
    if (mode !== 'primary-only' && i.dt === 'drbd' && i.nodes[1]) evac.add(i.nodes[1]);
  }
  const out: EvacResult = { moved: [], failed: [], jobs: [] };
  for (const inst of insts) {
    const group = c.nodes.get(inst.nodes[0])!.group;
    const avail = [...c.nodes.values()]
      .filter((n) => n.group === group && !n.unusable && !evac.has(n.name) && n.name !== inst.nodes[0])
      .sort((a, b) => (a.name < b.name ? -1 : 1));
    const r = moveInstance(c, inst, mode, avail, opts);
    if (!r.ok) {
      out.failed.push([inst.name, r.reason]);
      continue;
    }
    out.moved.push([inst.name, c.groups.get(c.nodes.get(r.nodes[0])!.group)!.name, [...r.nodes]]);
    out.jobs.push(r.ops);
  }
  return out;
}

function changeGroup(c: Cluster, names: string[], targets: string[], opts: HailOptions): EvacResult {
  const out: EvacResult = { moved: [], failed: [], jobs: [] };
  for (const name of names) {
    const inst = c.instances.get(name);
    if (!inst) throw new HailInputError(`Unknown instance '${name}'`);
    const current = c.nodes.get(inst.nodes[0])!.group;
    const wanted = targets.length > 0
      ? targets.map((t) => [...c.groups.values()].find((g) => g.uuid === t || g.name === t)).filter((g): g is Group => g !== undefined)
      : [...c.groups.values()].filter((g) => g.uuid !== current && g.policy in POLICY_ORDER);
    wanted.sort((a, b) => (POLICY_ORDER[a.policy] ?? 2) - (POLICY_ORDER[b.policy] ?? 2) || (a.name < b.name ? -1 : 1));
    if (wanted.length === 0) {
      out.failed.push([name, 'no groups for evacuation']);
      continue;
    }
    let last = 'no groups for evacuation';
    let done = false;
    for (const g of wanted) {
      const avail = [...c.nodes.values()].filter((n) => n.group === g.uuid && !n.unusable && !inst.nodes.includes(n.name))
        .sort((a, b) => (a.name < b.name ? -1 : 1));
      const r = moveInstance(c, inst, 'all', avail, opts);
      if (!r.ok) {
        last = r.reason;
        continue;
      }
      out.moved.push([name, g.name, [...r.nodes]]);
      out.jobs.push(r.ops);
      done = true;
      break;
    }
    if (!done) out.failed.push([name, last]);
  }
  return out;
}

function relocate(c: Cluster, name: string, required: number, from: string[], opts: HailOptions): { ok: true; nodes: string[] } | { ok: false; info: string } {
  const inst = c.instances.get(name);
  if (!inst) throw new HailInputError(`Unknown instance '${name}'`);
  if (required !== 1) return { ok: false, info: `Exchange ${required} nodes mode is not implemented` };
  const mt = mirrorType(inst.dt);
  if (mt === 'none') return { ok: false, info: "Can't relocate non-mirrored instances" };
  const expected = mt === 'internal' ? inst.nodes[1] : inst.nodes[0];
  if (from.length !== 1 || from[0] !== expected) {
    return { ok: false, info: `Unsupported request: excluded nodes not equal to instance's ${mt === 'internal' ? 'secondary' : 'primary'}(${expected} versus ${from.join(',')})` };
  }
  const group = c.nodes.get(inst.nodes[0])!.group;
  const avail = [...c.nodes.values()].filter((n) => n.group === group && !n.unusable && !inst.nodes.includes(n.name))
    .sort((a, b) => (a.name < b.name ? -1 : 1));
  const r = mt === 'internal' ? bestNewSecondary(c, inst, avail) : bestNewPrimary(c, inst, avail, opts);
  if (!r.ok) return { ok: false, info: r.reason };
  return { ok: true, nodes: mt === 'internal' ? [r.nodes[1]] : [r.nodes[0]] };
}

// --- the request -------------------------------------------------------------------------

function newInstance(req: Dict): { inst: Instance; required: number; group: string | null } {
  const name = key<string>(req, 'name', 'invalid request dict', isStr);
  const base = parseBaseInstance(name, req);
  return {
    inst: { ...base, running: true, nodes: [] },
    required: key<number>(req, 'required_nodes', 'invalid request dict', isNum),
    group: typeof req.group_name === 'string' ? req.group_name : null,
  };
}

const ok = (info: string, result: unknown): IAllocResponse => ({ success: true, info: `Request successful: ${info}`, result });
const failed = (info: string): IAllocResponse => ({ success: false, info: `Request failed: ${info}`, result: [] });

/** Answer one IAllocator request (the parsed input file). Throws HailInputError on a malformed one. */
export function runIAllocator(input: unknown, opts: HailOptions = {}): IAllocResponse {
  const msg = obj(input, 'invalid iallocator message');
  const request = obj(key(msg, 'request', 'invalid iallocator message'), 'invalid request dict');
  const c = parseCluster(msg);
  const type = key<string>(request, 'type', 'invalid request dict', isStr);
  const restrictReq = Array.isArray(request['restrict-to-nodes']) ? request['restrict-to-nodes'] as string[] : null;
  const restrict = opts.restrictTo ?? restrictReq;
  switch (type) {
    case 'allocate': {
      const { inst, required, group } = newInstance(request);
      const r = allocate(c, inst, required, group, restrict, opts);
      return r.ok ? ok(r.info, r.nodes) : failed(r.info);
    }
    case 'multi-allocate': {
      const reqs = key<unknown[]>(request, 'instances', 'invalid request dict', isList).map((r) => newInstance(obj(r, 'invalid request dict')));
      const allocated: Array<[string, string[]]> = [];
      const failedNames: string[] = [];
      for (const { inst, required, group } of reqs) {
        const r = allocate(c, inst, required, group, restrict, opts);
        if (r.ok) {
          commit(c, inst, r.nodes);
          allocated.push([inst.name, r.nodes]);
        } else {
          failedNames.push(inst.name);
        }
      }
      return ok(`${failedNames.length} instances failed to allocate and ${allocated.length} were allocated successfully`, [allocated, failedNames]);
    }
    case 'relocate': {
      const r = relocate(c, key<string>(request, 'name', 'invalid request dict', isStr), key<number>(request, 'required_nodes', 'invalid request dict', isNum),
        key<string[]>(request, 'relocate_from', 'invalid request dict', isList), opts);
      return r.ok ? ok('success', r.nodes) : failed(r.info);
    }
    case 'node-evacuate': {
      const mode = key<string>(request, 'evac_mode', 'invalid request dict', isStr);
      if (!['primary-only', 'secondary-only', 'all'].includes(mode)) throw new HailInputError(`Invalid evacuation mode '${mode}'`);
      const r = nodeEvacuate(c, key<string[]>(request, 'instances', 'invalid request dict', isList), mode as EvacMode, opts);
      return ok(evacInfo(r), [r.moved, r.failed, r.jobs]);
    }
    case 'change-group': {
      const r = changeGroup(c, key<string[]>(request, 'instances', 'invalid request dict', isList),
        key<string[]>(request, 'target_groups', 'invalid request dict', isList), opts);
      return ok(evacInfo(r), [r.moved, r.failed, r.jobs]);
    }
    case 'allocate-secondary': {
      const name = key<string>(request, 'name', 'invalid request dict', isStr);
      const inst = c.instances.get(name);
      if (!inst) throw new HailInputError(`Unknown instance '${name}'`);
      if (inst.nodes.length > 1) return failed('Instance already has a secondary');
      const group = c.nodes.get(inst.nodes[0])!.group;
      const avail = [...c.nodes.values()].filter((n) => n.group === group && !n.unusable && n.name !== inst.nodes[0])
        .sort((a, b) => (a.name < b.name ? -1 : 1));
      const r = bestNewSecondary(c, { ...inst, dt: 'drbd' }, avail);
      return r.ok ? ok(`Selected secondary ${r.nodes[1]}`, r.nodes[1]) : failed(r.reason);
    }
    default:
      throw new HailInputError(`Invalid request type '${type}'`);
  }
}
