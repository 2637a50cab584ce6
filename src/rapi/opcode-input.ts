// From a request body to an opcode (upstream's baserlib.FillOpcode and InspectParams):
// the body must be a dictionary; renamed aliases are taken under their new name (never
// both); parameters that come from the URL or the query string cannot be given in the
// body too; forbidden parameters are refused (403). The result is checked against the one
// opcode table (src/core/opcodes.ts), the same check LUXI and the CLI make, so a bad
// body is a 400 here and never reaches the job queue.
import { OPCODE_TABLE, validateOpcode, COMMON_PARAMS, type OpInput } from '../core/opcodes.ts';
import { badRequest, forbidden, HttpError } from './errors.ts';

/** Python's type name of a JSON value, for upstream's CheckType messages. */
export function pyTypeName(v: unknown): string {
  if (v === null || v === undefined) return 'NoneType';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'string') return 'str';
  if (Array.isArray(v)) return 'list';
  return 'dict';
}

export type PyType = 'dict' | 'list' | 'str' | 'int' | 'bool';

export function isPyType(v: unknown, type: PyType): boolean {
  switch (type) {
    case 'dict': return v !== null && typeof v === 'object' && !Array.isArray(v);
    case 'list': return Array.isArray(v);
    case 'str': return typeof v === 'string';
    // Python's bool is an int: upstream's isinstance(x, int) accepts true/false too.
    case 'int': return (typeof v === 'number' && Number.isInteger(v)) || typeof v === 'boolean';
    case 'bool': return typeof v === 'boolean';
  }
}

/** upstream's CheckType: the value, or 400 "<descr>: Type is 'X', but 'Y' is expected". */
export function checkType<T>(value: unknown, type: PyType, descr: string): T {
  if (!isPyType(value, type)) throw badRequest(`${descr}: Type is '${pyTypeName(value)}', but '${type}' is expected`);
  return value as T;
}

/** OP_INSTANCE_CREATE → OpInstanceCreate (upstream's opcode class names, used in its messages). */
export function opClassName(opId: string): string {
  return opId.replace(/^OP_/, 'Op_').split('_').map((w) => w.charAt(0) + w.slice(1).toLowerCase()).join('');
}

/** Python's repr of a set of strings, sorted for a stable message: {'a', 'b'}. */
function pySet(names: string[]): string {
  return `{${[...names].sort().map((n) => `'${n}'`).join(', ')}}`;
}

export interface OpcodeInput {
  opId: string;
  /** The request body (null: none). */
  body: unknown;
  /** Parameters from the URL and query string, and the reason trail. */
  fixed: Record<string, unknown>;
  /** Old name → new name. */
  rename?: Record<string, string>;
}

/** The validated opcode for a request; the HTTP error to answer with otherwise. */
export function fillOpcode({ opId, body, fixed, rename }: OpcodeInput): OpInput {
  const spec = OPCODE_TABLE.get(opId);
  if (!spec) throw new HttpError(501, `${opId} is not implemented by this version of ganeti-ts`);
  const params: Record<string, unknown> = body === null || body === undefined ? {} : { ...checkType<Record<string, unknown>>(body, 'dict', 'Body contents') };
  for (const [oldName, newName] of Object.entries(rename ?? {})) {
    if (oldName in params && newName in params) {
      throw badRequest(`Parameter '${oldName}' was renamed to '${newName}', but both are specified`);
    }
    if (oldName in params) {
      params[newName] = params[oldName];
      delete params[oldName];
    }
  }
  const overwritten = Object.keys(params).filter((k) => Object.hasOwn(fixed, k));
  if (overwritten.length > 0) throw badRequest(`Can't overwrite static parameters ${pySet(overwritten)}`);
  Object.assign(params, fixed);
  for (const key of Object.keys(params)) {
    if (key !== 'OP_ID' && !Object.hasOwn(spec.params, key) && !Object.hasOwn(COMMON_PARAMS, key)) {
      throw badRequest(`Invalid body parameters: Object ${opClassName(opId)} doesn't support the parameter '${key}'`);
    }
  }
  try {
    return validateOpcode({ ...params, OP_ID: opId });
  } catch (err) {
    throw badRequest(`Invalid body parameters: ${(err as Error).message}`);
  }
}

/**
 * Refuse parameters RAPI may not set (upstream's *_FORBIDDEN, checked in the query
 * string and the body, under their new names): 403 naming the parameter.
 */
export function refuseForbidden(sources: Array<Record<string, unknown> | null>, forbiddenParams: readonly string[], rename: Record<string, string> = {}): void {
  for (const source of sources) {
    if (source === null || typeof source !== 'object' || Array.isArray(source)) continue;
    for (const key of Object.keys(source)) {
      const name = rename[key] ?? key;
      if (forbiddenParams.includes(name)) throw forbidden(`The parameter ${name} cannot be set via RAPI`);
    }
  }
}
