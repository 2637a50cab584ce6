import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runQuery, type Filter } from '../../src/core/query.ts';
import { OpPrereqError } from '../../src/core/errors.ts';
import type { ConfigData } from '../../src/master/config/model.ts';
import { INSTANCE_FIELDS, instanceViews } from '../../src/master/config/instance-fields.ts';
import { requestedNames } from '../../src/master/config/node-fields.ts';
import { fakeRpc, RUNNING } from './instance-fixture.ts';

// Property test: random filters over random instances. What the query layer returns must
// equal what a small evaluator written here from the filter language's definition
// (spec/core.md §1.5) computes over the same instances' plain values.

/** A deterministic pseudo-random generator (mulberry32), so a failure can be replayed by seed. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)],
    chance: (p: number) => next() < p,
  };
}

type R = ReturnType<typeof rng>;

interface Spec {
  name: string;
  os: string;
  admin: 'up' | 'down' | 'offline';
  vcpus: number | null;
  tags: string[];
  disks: number[];
  nics: number;
  running: boolean;
}

const NODE = 'n1';
const OSES = ['noop', 'debootstrap+default', 'image'];
const TAGS = ['web', 'prod', 'db', 'test'];
const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'web1', 'web2', 'web10', 'db'];

function randomSpecs(r: R): Spec[] {
  const names = new Set<string>();
  const n = 1 + r.int(8);
  while (names.size < n) names.add(`${r.pick(WORDS)}${r.chance(0.5) ? r.int(20) : ''}.example.com`);
  return [...names].map((name) => ({
    name,
    os: r.pick(OSES),
    admin: r.pick(['up', 'down', 'offline'] as const),
    vcpus: r.chance(0.3) ? null : 1 + r.int(8),
    tags: TAGS.filter(() => r.chance(0.3)),
    disks: Array.from({ length: r.int(3) }, () => 1024 * (1 + r.int(4))),
    nics: r.int(3),
    running: r.chance(0.5),
  }));
}

function configOf(specs: Spec[]): ConfigData {
  const disks: Record<string, unknown> = {};
  const instances: Record<string, unknown> = {};
  specs.forEach((s, i) => {
    const diskIds = s.disks.map((size, j) => {
      const uuid = `d${i}-${j}`;
      disks[uuid] = { uuid, dev_type: 'file', nodes: [NODE], size, logical_id: [], iv_name: `disk/${j}`, mode: 'rw', children: [], params: {} };
      return uuid;
    });
    instances[`i${i}`] = {
      uuid: `i${i}`, name: s.name, primary_node: NODE, os: s.os, hypervisor: 'fake', admin_state: s.admin, admin_state_source: 'admin',
      hvparams: {}, beparams: s.vcpus === null ? {} : { vcpus: s.vcpus }, osparams: {}, osparams_private: {}, tags: s.tags, disks: diskIds,
      nics: Array.from({ length: s.nics }, (_, k) => ({ mac: `aa:00:00:00:${i}:${k}`, nicparams: {}, uuid: `nic${i}${k}` })),
      serial_no: 1, ctime: 0, mtime: 0,
    };
  });
  return {
    cluster: { hvparams: { fake: {} }, beparams: { default: { vcpus: 1, maxmem: 128, minmem: 128 } }, nicparams: { default: { mode: 'bridged', link: 'br0' } } },
    nodes: { [NODE]: { uuid: NODE, name: 'node1.example.com', group: 'g', offline: false, ndparams: {} } },
    nodegroups: { g: { uuid: 'g', name: 'default' } },
    instances, disks, networks: {},
  } as unknown as ConfigData;
}

/** The plain value of each field the filters use, computed from the spec itself. */
function plainValue(s: Spec, field: string): unknown {
  switch (field) {
    case 'name': return s.name;
    case 'os': return s.os;
    case 'admin_state': return s.admin;
    case 'admin_up': return s.admin === 'up';
    case 'be/vcpus': return s.vcpus ?? 1;
    case 'tags': return [...s.tags].sort();
    case 'disk.count': return s.disks.length;
    case 'disk_usage': return s.disks.reduce((a, b) => a + b, 0);
    case 'nic.count': return s.nics;
    case 'oper_state': return s.running;
    case 'status':
      if (s.running) return s.admin === 'up' ? 'running' : 'ERROR_up';
      return s.admin === 'up' ? 'ERROR_down' : s.admin === 'offline' ? 'ADMIN_offline' : 'ADMIN_down';
    default: throw new Error(field);
  }
}

const STRING_FIELDS = ['name', 'os', 'admin_state', 'status'];
const NUMBER_FIELDS = ['be/vcpus', 'disk.count', 'disk_usage', 'nic.count'];
const BOOL_FIELDS = ['admin_up', 'oper_state'];

function stringValue(r: R, field: string): string {
  switch (field) {
    case 'name': return r.chance(0.5) ? r.pick(WORDS) : `${r.pick(WORDS)}.example.com`;
    case 'os': return r.pick(OSES);
    case 'admin_state': return r.pick(['up', 'down', 'offline']);
    default: return r.pick(['running', 'ADMIN_down', 'ERROR_down', 'ERROR_up', 'ADMIN_offline']);
  }
}

function randomFilter(r: R, depth = 0): unknown[] {
  const kind = depth < 3 ? r.int(10) : 3 + r.int(7);
  switch (kind) {
    case 0: case 1: return [r.pick(['&', '|']), ...Array.from({ length: 1 + r.int(3) }, () => randomFilter(r, depth + 1))];
    case 2: return ['!', randomFilter(r, depth + 1)];
    case 3: return ['?', r.pick(BOOL_FIELDS)];
    case 4: case 5: {
      const f = r.pick(STRING_FIELDS);
      return [r.pick(['==', '!=']), f, stringValue(r, f)];
    }
    case 6: return [r.pick(['<', '<=', '>', '>=', '==', '!=']), r.pick(NUMBER_FIELDS), r.int(5000)];
    case 7: return ['=~', r.pick(STRING_FIELDS), r.pick(['^web', 'a', '\\d', '^(alpha|beta)\\.', '(?i)^DB', 'down$'])];
    case 8: return ['=[]', 'tags', r.pick(TAGS)];
    default: return [r.pick(['==', '!=']), r.pick(NUMBER_FIELDS), r.int(4)];
  }
}

/** The filter language evaluated directly: a host name also equals its first labels. */
function evaluate(f: unknown[], s: Spec): boolean {
  const [op, ...args] = f;
  const value = () => plainValue(s, args[0] as string);
  const eq = (x: unknown, v: unknown) => x === v || (args[0] === 'name' && typeof v === 'string' && String(x).startsWith(`${v}.`));
  switch (op) {
    case '&': return args.every((a) => evaluate(a as unknown[], s));
    case '|': return args.some((a) => evaluate(a as unknown[], s));
    case '!': return !evaluate(args[0] as unknown[], s);
    case '?': return value() === true;
    case '==': return eq(value(), args[1]);
    case '!=': return !eq(value(), args[1]);
    case '<': return (value() as number) < (args[1] as number);
    case '<=': return (value() as number) <= (args[1] as number);
    case '>': return (value() as number) > (args[1] as number);
    case '>=': return (value() as number) >= (args[1] as number);
    case '=~': {
      const src = args[1] as string;
      const re = src.startsWith('(?i)') ? new RegExp(src.slice(4), 'i') : new RegExp(src);
      return re.test(String(value()));
    }
    case '=[]': return (value() as unknown[]).includes(args[1]);
    default: throw new Error(String(op));
  }
}

/** Every node answers all_instances_info with the running instances. */
function liveRpc(specs: Spec[]) {
  const live = Object.fromEntries(specs.filter((s) => s.running).map((s) => [s.name, { ...RUNNING }]));
  return fakeRpc((t) => ({ node: t.name, ok: true, payload: live }));
}

test('random filters over random instances select what a direct evaluation selects', async () => {
  const runs = 400;
  for (let seed = 1; seed <= runs; seed++) {
    const r = rng(seed);
    const specs = randomSpecs(r);
    const filter = randomFilter(r) as Filter;
    const config = configOf(specs);
    const pending = instanceViews({ data: config }, liveRpc(specs) as never, ['name'], filter);
    // A filter that only names instances (name == x or ...) asks for them: they must
    // exist, and come in the order asked.
    const asked = requestedNames(filter);
    const find = (n: string) => specs.find((s) => s.name === n || s.name.startsWith(`${n}.`));
    if (asked !== null && asked.some((n) => !find(n))) {
      await assert.rejects(pending, (e: unknown) => e instanceof OpPrereqError && /^Instance name .* not found$/.test(e.message), `seed ${seed}`);
      continue;
    }
    const got = runQuery(INSTANCE_FIELDS, ['name'], await pending, filter).data.map((row) => row[0][1]);
    const candidates = asked === null ? [...specs].sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }))
      : [...new Set(asked.map((n) => find(n)!))];
    const expected = candidates.filter((s) => evaluate(filter as unknown[], s)).map((s) => s.name);
    assert.deepEqual(got, expected, `seed ${seed}: ${JSON.stringify(filter)}`);
  }
});
