// Parameter dictionaries as upstream types them (hvparams, beparams, ndparams, nicparams,
// diskparams, ipolicy specs): the type tables, utils.ForceDictType and utils.ParseUnit,
// shared by the CLI (which checks key=value options before submitting, as upstream's
// client does) and the logical units; and the uid pool's ranges.
import { TypeEnforcementError } from './errors.ts';
import { pyStr } from './pyrepr.ts';
import * as D from '../master/config/defaults.ts';

export type VType = 'string' | 'maybe-string' | 'bool' | 'size' | 'int' | 'float';
export type TypeTable = Readonly<Record<string, VType>>;

/** A parameter's type from its default value (the defaults are Ganeti 3.0.2's own). */
function inferTypes(...defaults: Array<Record<string, unknown>>): Record<string, VType> {
  const out: Record<string, VType> = {};
  for (const d of defaults) {
    for (const [k, v] of Object.entries(d)) {
      out[k] ??= typeof v === 'boolean' ? 'bool' : typeof v === 'number' ? 'int' : 'string';
    }
  }
  return out;
}

export const HV_DEFAULTS = D.DEFAULT_HVPARAMS as Record<string, Record<string, unknown>>;
export const DISK_DEFAULTS = D.DEFAULT_DISKPARAMS as Record<string, Record<string, unknown>>;

/** Upstream's HVS_PARAMETER_TYPES: every parameter of every hypervisor. */
export const HVS_PARAMETER_TYPES: TypeTable = inferTypes(...Object.values(HV_DEFAULTS));
export const BES_PARAMETER_TYPES: TypeTable = {
  always_failover: 'bool', auto_balance: 'bool', maxmem: 'size', minmem: 'size', spindle_use: 'int', vcpus: 'int',
};
/** BES_PARAMETER_COMPAT: also the pre-2.6 "memory", which UpgradeBeParams turns into maxmem/minmem. */
export const BES_PARAMETER_COMPAT: TypeTable = { ...BES_PARAMETER_TYPES, memory: 'size' };
export const NDS_PARAMETER_TYPES: TypeTable = { ...inferTypes(D.DEFAULT_NDPARAMS), cpu_speed: 'float' };
export const NICS_PARAMETER_TYPES: TypeTable = { mode: 'string', link: 'string', vlan: 'maybe-string' };
/** DISK_DT_TYPES: every parameter of every disk template. */
export const DISK_DT_TYPES: TypeTable = inferTypes(...Object.values(DISK_DEFAULTS));
export const ISPECS_PARAMETERS = ['memory-size', 'cpu-count', 'disk-count', 'disk-size', 'nic-count', 'spindle-use'] as const;
export const ISPECS_PARAMETER_TYPES: TypeTable = Object.fromEntries(ISPECS_PARAMETERS.map((p) => [p, 'int']));

const UNIT_RE = /^([.\d]+)\s*([a-zA-Z]+)?$/;

/** utils.ParseUnit: a size in MiB, units m/g/t (binary), rounded up to a multiple of 4. */
export function parseUnit(input: unknown): number {
  const m = UNIT_RE.exec(pyStr(input));
  if (!m || !Number.isFinite(Number(m[1]))) throw new Error('Invalid format');
  let value = Number(m[1]);
  const unit = (m[2] ?? 'm').toLowerCase();
  if (['g', 'gb', 'gib'].includes(unit)) value *= 1024;
  else if (['t', 'tb', 'tib'].includes(unit)) value *= 1024 * 1024;
  else if (!['m', 'mb', 'mib'].includes(unit)) throw new Error(`Unknown unit: ${m[2]}`);
  value = Math.ceil(value);
  if (value % 4) value += 4 - (value % 4);
  return value;
}

/** Python's int() of a JSON value, or null when it would raise. */
function pyInt(v: unknown): number | null {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number') return Number.isFinite(v) ? Math.trunc(v) : null;
  if (typeof v === 'string' && /^\s*[-+]?\d+\s*$/.test(v)) return Number.parseInt(v, 10);
  return null;
}

export function pyFloat(v: unknown): number | null {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))) return Number(v);
  return null;
}

/**
 * utils.ForceDictType: checks that every key is known and converts the values in place
 * (strings from the command line become booleans, sizes and numbers); values listed in
 * `allowed` pass unchanged. Raises TypeEnforcementError with upstream's texts.
 */
export function forceDictType(target: unknown, types: TypeTable, allowed: unknown[] = []): void {
  if (target === null || typeof target !== 'object' || Array.isArray(target)) {
    throw new TypeEnforcementError(`Expected dictionary, got '${pyStr(target)}'`);
  }
  const t = target as Record<string, unknown>;
  for (const key of Object.keys(t)) {
    if (!Object.hasOwn(types, key)) throw new TypeEnforcementError(`Unknown parameter '${key}'`);
    const v = t[key];
    if (allowed.includes(v)) continue;
    const bad = (what: string, extra = '') => new TypeEnforcementError(`'${key}' (value ${pyStr(v)}) is not a valid ${what}${extra}`);
    switch (types[key]) {
      case 'string':
      case 'maybe-string':
        if (v === null && types[key] === 'maybe-string') break;
        if (typeof v !== 'string') {
          if (v === false) t[key] = '';
          else throw bad('string');
        }
        break;
      case 'bool':
        if (typeof v === 'string' && v) {
          if (v.toLowerCase() === 'false') t[key] = false;
          else if (v.toLowerCase() === 'true') t[key] = true;
          else throw bad('boolean');
        } else {
          t[key] = Boolean(v) && !(Array.isArray(v) && v.length === 0) && !(typeof v === 'object' && v !== null && Object.keys(v).length === 0);
        }
        break;
      case 'size':
        try {
          t[key] = parseUnit(v);
        } catch (err) {
          throw bad('size', `. error: ${(err as Error).message}`);
        }
        break;
      case 'int': {
        const n = pyInt(v);
        if (n === null) throw bad('integer');
        t[key] = n;
        break;
      }
      case 'float': {
        const n = pyFloat(v);
        if (n === null) throw bad('float');
        t[key] = n;
        break;
      }
    }
  }
}


export type UidRange = [number, number];

export function isUidPool(v: unknown): v is UidRange[] {
  return Array.isArray(v) && v.every((r) => Array.isArray(r) && r.length === 2 && r.every((x) => typeof x === 'number' && Number.isInteger(x)));
}

/** uidpool.FormatUidPool: "1000-2000, 3000" (how the pool is shown and written to ssconf). */
export function formatUidPool(pool: unknown, separator = ', '): string {
  if (!isUidPool(pool)) return '';
  return pool.map(([lo, hi]) => (lo === hi ? String(lo) : `${lo}-${hi}`)).join(separator);
}

/** forceDictType on a copy: the converted dictionary, the input left alone. */
export function typedDict(target: unknown, types: TypeTable, allowed: unknown[] = []): Record<string, unknown> {
  if (target === null || typeof target !== 'object' || Array.isArray(target)) forceDictType(target, types, allowed); // throws
  const out = { ...(target as Record<string, unknown>) };
  forceDictType(out, types, allowed);
  return out;
}
