// The query layer shared by LUXI, the CLI and (later) RAPI: field definitions with
// titles and kinds, [status, value] cells, and the filter language's wire form
// (spec/core.md §1.5).
import { RS_NORMAL, RS_UNKNOWN } from './constants.ts';
import { ECODE, OpPrereqError, QueryFilterParseError } from './errors.ts';

export type FieldKind = 'unknown' | 'text' | 'bool' | 'number' | 'float' | 'unit' | 'timestamp' | 'other';

export interface FieldDef {
  name: string;
  title: string;
  kind: FieldKind;
  doc: string;
}

export interface Field<T> extends FieldDef {
  get(item: T): unknown;
}

export type Cell = [number, unknown];

export interface QueryResponse {
  fields: FieldDef[];
  data: Cell[][];
}

export type Filter = unknown[] | null;

/*
 * A getter returns a value carrying this registry symbol (e.g. node-fields'
 * resultStatus(RS_OFFLINE)) for a cell without a normal value: the cell gets that
 * status and a null value, and filters accept the item (upstream: "filter has no data
 * to work, accepting it").
 */
const RESULT_STATUS = Symbol.for('ganeti.query.resultStatus');

/** The status a getter's value carries, or null for a normal value. */
function valueStatus(v: unknown): number | null {
  if (typeof v !== 'object' || v === null) return null;
  const s = (v as Record<symbol, unknown>)[RESULT_STATUS];
  return typeof s === 'number' ? s : null;
}

function unknownField(name: string): FieldDef {
  return { name, title: name, kind: 'unknown', doc: `Unknown field '${name}'` };
}

/** Field definitions for the requested names; unknown names get kind `unknown`. */
export function fieldDefs<T>(catalog: ReadonlyMap<string, Field<T>>, names: string[]): FieldDef[] {
  return names.map((n) => {
    const f = catalog.get(n);
    return f ? { name: f.name, title: f.title, kind: f.kind, doc: f.doc } : unknownField(n);
  });
}

/**
 * Upstream's "nice" order of names: runs of digits compare as numbers, everything else
 * byte by byte ("disk.size/2" before "disk.size/10", "disk.uuids" before "disk_template").
 */
export function niceCompare(a: string, b: string): number {
  const pa = a.match(/\d+|\D+/g) ?? [];
  const pb = b.match(/\d+|\D+/g) ?? [];
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const [x, y] = [pa[i], pb[i]];
    const digits = /^\d/.test(x) && /^\d/.test(y);
    const c = digits ? Number(x) - Number(y) : x < y ? -1 : x > y ? 1 : 0;
    if (c !== 0) return c;
  }
  return pa.length - pb.length;
}

export function queryFields<T>(catalog: ReadonlyMap<string, Field<T>>, names: string[] | null): { fields: FieldDef[] } {
  const list = names === null || names.length === 0 ? [...catalog.keys()].sort(niceCompare) : names;
  return { fields: fieldDefs(catalog, list) };
}

/** Evaluate a query: rows of [status, value] cells for the items that pass the filter. */
export function runQuery<T>(catalog: ReadonlyMap<string, Field<T>>, names: string[], items: Iterable<T>, filter: Filter): QueryResponse {
  const fields = fieldDefs(catalog, names);
  const match = compileFilter(catalog, filter);
  const data: Cell[][] = [];
  for (const item of items) {
    if (!match(item)) continue;
    data.push(names.map((n): Cell => {
      const f = catalog.get(n);
      if (!f) return [RS_UNKNOWN, null];
      const v = f.get(item);
      const status = valueStatus(v);
      return status === null ? [RS_NORMAL, v] : [status, null];
    }));
  }
  return { fields, data };
}

function filterError(msg: string): OpPrereqError {
  return new OpPrereqError(`Invalid filter: ${msg}`, ECODE.INVAL);
}

/** Python-like regex syntax: fold the (?i)/(?s) prefixes into JS flags. */
function compileRegex(src: string): RegExp {
  let flags = '';
  let body = src;
  for (;;) {
    const m = /^\(\?([is]+)\)/.exec(body);
    if (!m) break;
    for (const f of m[1]) if (!flags.includes(f)) flags += f;
    body = body.slice(m[0].length);
  }
  try {
    return new RegExp(body, flags);
  } catch (err) {
    throw filterError(`bad regular expression '${src}': ${(err as Error).message}`);
  }
}

function compare(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const sa = String(a);
  const sb = String(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

function looseEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  // Job ids and other numbers may be compared with their decimal strings.
  if (typeof a === 'number' && typeof b === 'string') return String(a) === b;
  if (typeof a === 'string' && typeof b === 'number') return a === String(b);
  return false;
}

/** Compile a wire-form filter into a predicate; throws naming the bad part. */
export function compileFilter<T>(catalog: ReadonlyMap<string, Field<T>>, filter: Filter): (item: T) => boolean {
  if (filter === null || filter === undefined) return () => true;
  const build = (f: unknown): ((item: T) => boolean) => {
    if (!Array.isArray(f) || f.length === 0 || typeof f[0] !== 'string') {
      throw filterError(`expected a list starting with an operator, got ${JSON.stringify(f)}`);
    }
    const [op, ...rest] = f as [string, ...unknown[]];
    const field = (): Field<T> => {
      if (typeof rest[0] !== 'string') throw filterError(`operator '${op}' needs a field name`);
      const fd = catalog.get(rest[0]);
      if (!fd) throw filterError(`unknown field '${rest[0]}'`);
      return fd;
    };
    // A comparison on a cell without data accepts the item, as upstream does.
    const test = (fd: Field<T>, check: (x: unknown) => boolean) => (i: T) => {
      const x = fd.get(i);
      return valueStatus(x) !== null || check(x);
    };
    const value = (): unknown => {
      if (rest.length !== 2) throw filterError(`operator '${op}' takes a field and a value`);
      const v = rest[1];
      if (typeof v === 'number' && !Number.isInteger(v)) throw filterError('fractional numbers are not allowed in filters');
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
        throw filterError(`value for '${op}' must be a string or integer`);
      }
      return v;
    };
    switch (op) {
      case '&':
      case '|': {
        const subs = rest.map(build);
        return op === '&' ? (i) => subs.every((s) => s(i)) : (i) => subs.some((s) => s(i));
      }
      case '!': {
        if (rest.length !== 1) throw filterError("'!' takes exactly one operand");
        const sub = build(rest[0]);
        return (i) => !sub(i);
      }
      case '?': {
        return test(field(), Boolean);
      }
      case '=':
      case '==':
      case '!=': {
        const fd = field();
        const v = value();
        // A host name field also matches by its first labels (upstream's QffHostname).
        const hostname = (fd as { hostname?: boolean }).hostname === true;
        const eq = (x: unknown) => looseEqual(x, v) || (hostname && typeof x === 'string' && typeof v === 'string' && x.startsWith(`${v}.`));
        return test(fd, op === '!=' ? (x) => !eq(x) : eq);
      }
      case '<':
      case '>':
      case '<=':
      case '>=': {
        const fd = field();
        const v = value();
        const ok = { '<': (c: number) => c < 0, '>': (c: number) => c > 0, '<=': (c: number) => c <= 0, '>=': (c: number) => c >= 0 }[op];
        return test(fd, (x) => x !== null && x !== undefined && ok(compare(x, v)));
      }
      case '=~': {
        const fd = field();
        const v = value();
        if (typeof v !== 'string') throw filterError("'=~' needs a regular expression string");
        const re = compileRegex(v);
        return test(fd, (x) => x !== null && x !== undefined && re.test(String(x)));
      }
      case '=[]': {
        const fd = field();
        const v = value();
        return test(fd, (x) => Array.isArray(x) && x.some((e) => looseEqual(e, v)));
      }
      default:
        throw filterError(`unknown operator '${op}'`);
    }
  };
  try {
    return build(filter);
  } catch (err) {
    if (err instanceof OpPrereqError) throw err;
    throw new QueryFilterParseError(String(err));
  }
}
