// Tag opcodes for every taggable object (cluster, node, nodegroup, instance, network),
// and LUXI's QueryTags. Tags are kept sorted, as luxid (which holds them as a set)
// writes them.
import { ECODE, OpExecError, OpPrereqError, TagError } from '../../core/errors.ts';
import type { OpInput } from '../../core/opcodes.ts';
import type { ConfigData, ConfigObject } from '../config/model.ts';
import type { ConfigStore } from '../config/store.ts';
import { expandNode, type LockPlan, type LogicalUnit, type LUContext } from './base.ts';
import { lookupNodeGroup } from './group.ts';


export const MAX_TAG_LEN = 128;
export const MAX_TAGS_PER_OBJ = 4096;
/** upstream's TaggableObject.VALID_TAG_RE (word characters and . + * / : @ -), with Python 3's Unicode word characters. */
const VALID_TAG_RE = /^[\p{L}\p{N}_.+*/:@-]+$/u;

export type TagKind = 'cluster' | 'node' | 'nodegroup' | 'instance' | 'network';

/** TaggableObject.ValidateTag: the same checks, in the same order, with the same texts. */
export function validateTag(tag: unknown): void {
  if (typeof tag !== 'string') throw new TagError('Invalid tag type (not a string)');
  if ([...tag].length > MAX_TAG_LEN) throw new TagError(`Tag too long (>${MAX_TAG_LEN} characters)`);
  if (!tag) throw new TagError('Tags cannot be empty');
  if (!VALID_TAG_RE.test(tag)) throw new TagError('Tag contains invalid characters');
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** utils.MatchNameComponent (case-insensitive): exact, else the one name `key` is the first components of. */
export function matchNameComponent(key: string, names: string[]): string | null {
  if (names.includes(key)) return key;
  const lower = key.toLowerCase();
  const filtered = names.filter((n) => {
    const l = n.toLowerCase();
    return l === lower || l.startsWith(`${lower}.`);
  });
  const exactFirst = filtered.filter((n) => n.split('.')[0] === key);
  if (exactFirst.length === 1) return exactFirst[0];
  return filtered.length === 1 ? filtered[0] : null;
}

/** ExpandInstanceName: the instance object for a (possibly short) name. */
export function expandInstance(data: ConfigData, name: string): ConfigData['instances'][string] {
  const instances = Object.values(data.instances);
  const full = matchNameComponent(name, instances.map((i) => i.name));
  const inst = full === null ? undefined : instances.find((i) => i.name === full);
  if (!inst) throw new OpPrereqError(`Instance '${name}' not known`, ECODE.NOENT);
  return inst;
}

/** config.LookupNetwork: a network by uuid or name. */
export function lookupNetwork(data: ConfigData, target: string | null): string {
  if (target === null) throw new OpPrereqError('Network name or UUID must be provided');
  if (Object.hasOwn(data.networks, target)) return target;
  const net = Object.values(data.networks).find((n) => n.name === target);
  if (!net) throw new OpPrereqError(`Network '${target}' not found`, ECODE.NOENT);
  return net.uuid;
}

interface TagTarget {
  /** The lock that protects the object (upstream's TagsLU.ExpandNames). */
  level: 'node' | 'instance' | 'nodegroup' | 'network' | null;
  uuid: string | null;
}

/** TagsLU.ExpandNames: resolve the object, raising upstream's "not known" errors. */
function expandTarget(ctx: LUContext, op: OpInput): TagTarget {
  const name = (op.name as string | null | undefined) ?? null;
  const data = ctx.config.data;
  switch (op.kind as TagKind) {
    case 'node': return { level: 'node', uuid: expandNode(ctx, name ?? '').uuid };
    case 'instance': return { level: 'instance', uuid: expandInstance(data, name ?? '').uuid };
    case 'nodegroup': return { level: 'nodegroup', uuid: lookupNodeGroup(data, name) };
    case 'network': return { level: 'network', uuid: lookupNetwork(data, name) };
    case 'cluster': return { level: null, uuid: null };
    default: throw new OpPrereqError(`Wrong tag type requested (${String(op.kind)})`, ECODE.INVAL);
  }
}

/** TagsLU.CheckPrereq: the object itself, looked up again now that its lock is held. */
function targetObject(data: ConfigData, kind: TagKind, t: TagTarget): ConfigObject {
  if (kind === 'cluster') return data.cluster;
  const section = { node: data.nodes, instance: data.instances, nodegroup: data.nodegroups, network: data.networks }[kind] as Record<string, ConfigObject>;
  const obj = t.uuid === null ? undefined : section[t.uuid];
  if (!obj) throw new OpPrereqError(`Wrong tag type requested (${kind})`, ECODE.INVAL);
  return obj;
}

function tagsOf(obj: ConfigObject): string[] {
  return Array.isArray(obj.tags) ? (obj.tags as string[]) : [];
}

/** The shared base of the tag LUs: names, locks (the BGL shared), the target object. */
function tagsLU(op: OpInput, ctx: LUContext, shared: boolean) {
  const kind = op.kind as TagKind;
  let target: TagTarget = { level: null, uuid: null };
  const base = {
    expandNames() {
      target = expandTarget(ctx, op);
    },
    locks(): LockPlan {
      const plan: LockPlan = { bglShared: true, levels: {} };
      if (target.level && target.uuid && op.use_locking !== false) plan.levels[target.level] = { names: [target.uuid], shared };
      return plan;
    },
    target: () => targetObject(ctx.config.data, kind, target),
  };
  return base;
}

/** OP_TAGS_GET: the object's tags (LUXI's QueryTags serves the CLI; this is the opcode). */
export function tagsGet(op: OpInput, ctx: LUContext): LogicalUnit {
  const base = tagsLU(op, ctx, true);
  return {
    expandNames: base.expandNames,
    // use_locking=False (the default) takes no lock on the object.
    locks: () => (op.use_locking ? base.locks() : { bglShared: true, levels: {} }),
    checkPrereq() {
      base.target();
    },
    exec: async () => [...tagsOf(base.target())].sort(compareStrings),
  };
}

/** OP_TAGS_SET: add tags (each validated; at most MAX_TAGS_PER_OBJ per object). */
export function tagsSet(op: OpInput, ctx: LUContext): LogicalUnit {
  const base = tagsLU(op, ctx, false);
  const tags = op.tags as string[];
  return {
    expandNames: base.expandNames,
    locks: base.locks,
    checkPrereq() {
      base.target();
      for (const tag of tags) validateTag(tag);
    },
    async exec() {
      const obj = base.target();
      const next = new Set(tagsOf(obj));
      for (const tag of tags) {
        // Checked before anything changes, so a refused set leaves the object as it was.
        if (!next.has(tag) && next.size >= MAX_TAGS_PER_OBJ) throw new OpExecError('Error while setting tag: Too many tags');
        next.add(tag);
      }
      await ctx.config.update((tx) => {
        obj.tags = [...next].sort(compareStrings);
        tx.modified(obj);
      });
      return null;
    },
  };
}

/** OP_TAGS_DEL: remove tags; every one must be there. */
export function tagsDel(op: OpInput, ctx: LUContext): LogicalUnit {
  const base = tagsLU(op, ctx, false);
  const tags = op.tags as string[];
  return {
    expandNames: base.expandNames,
    locks: base.locks,
    checkPrereq() {
      const obj = base.target();
      for (const tag of tags) validateTag(tag);
      const current = new Set(tagsOf(obj));
      const missing = [...new Set(tags)].filter((t) => !current.has(t)).sort(compareStrings);
      if (missing.length > 0) {
        throw new OpPrereqError(`Tag(s) ${missing.map((t) => `'${t}'`).join(', ')} not found`, ECODE.NOENT);
      }
    },
    async exec() {
      const obj = base.target();
      const gone = new Set(tags);
      await ctx.config.update((tx) => {
        obj.tags = tagsOf(obj).filter((t) => !gone.has(t));
        tx.modified(obj);
      });
      return null;
    },
  };
}

/** Python `re` syntax as far as JavaScript can follow: leading inline flags, named groups. */
export function compilePythonRegex(pattern: string): RegExp {
  let flags = '';
  let body = pattern;
  for (;;) {
    const m = /^\(\?([imsx]+)\)/.exec(body);
    if (!m) break;
    for (const fl of m[1]) if (fl !== 'x' && !flags.includes(fl)) flags += fl;
    body = body.slice(m[0].length);
  }
  body = body.replace(/\(\?P</g, '(?<').replace(/\(\?P=(\w+)\)/g, '\\k<$1>');
  return new RegExp(body, flags);
}

/** OP_TAGS_SEARCH: [path, tag] for every tag of every object that matches the pattern. */
export function tagsSearch(op: OpInput, ctx: LUContext): LogicalUnit {
  const pattern = op.pattern as string;
  let re: RegExp;
  return {
    locks: () => ({ bglShared: true, levels: {} }),
    checkPrereq() {
      try {
        re = compilePythonRegex(pattern);
      } catch (err) {
        throw new OpPrereqError(`Invalid search pattern '${pattern}': ${(err as Error).message}`, ECODE.INVAL);
      }
    },
    async exec() {
      const d = ctx.config.data;
      const targets: Array<[string, ConfigObject]> = [
        ['/cluster', d.cluster],
        ...Object.values(d.instances).map((i): [string, ConfigObject] => [`/instances/${i.name}`, i]),
        ...Object.values(d.nodes).map((n): [string, ConfigObject] => [`/nodes/${n.name}`, n]),
        ...Object.values(d.nodegroups).map((g): [string, ConfigObject] => [`/nodegroup/${g.name}`, g]),
      ];
      const results: Array<[string, string]> = [];
      for (const [path, obj] of targets) {
        for (const tag of tagsOf(obj)) {
          if (re.test(tag)) results.push([path, tag]);
        }
      }
      return results;
    },
  };
}

/**
 * luxid's name lookup (Config.getItem): an exact name, else the one name it is the first
 * components of; errors "<Kind> name <name> not found" / "has multiple matches".
 */
function getItem<T extends ConfigObject>(kind: string, name: string, items: Record<string, T>, nameOf: (o: T) => string): T {
  if (Object.hasOwn(items, name)) return items[name];
  const all = Object.values(items);
  const exact = all.find((o) => nameOf(o) === name);
  if (exact) return exact;
  const partial = all.filter((o) => nameOf(o).startsWith(`${name}.`));
  if (partial.length === 1) return partial[0];
  throw new OpPrereqError(`${kind} name ${name} ${partial.length > 1 ? 'has multiple matches' : 'not found'}`, ECODE.NOENT);
}

/** LUXI QueryTags: [kind, name] → the object's tags. */
export function queryTags(config: ConfigStore, args: unknown[]): string[] {
  const [kind, rawName] = args;
  const name = typeof rawName === 'string' ? rawName : String(rawName ?? '');
  const d = config.data;
  let obj: ConfigObject;
  switch (kind) {
    case 'cluster': obj = d.cluster; break;
    case 'nodegroup': obj = getItem('NodeGroup', name, d.nodegroups, (g) => g.name); break;
    case 'node': obj = getItem('Node', name, d.nodes, (n) => n.name); break;
    case 'instance': obj = getItem('Instance', name, d.instances, (i) => i.name); break;
    case 'network': obj = getItem('Network', name, d.networks, (n) => String(n.name)); break;
    default: throw new OpPrereqError(`Invalid tag kind '${String(kind)}'`, ECODE.INVAL);
  }
  return [...tagsOf(obj)];
}
