// Ganeti's time specifications (spec/surface.md §0.6): an integer with an optional
// unit suffix s, m, h, d or w; no suffix means seconds.
import { ECODE, OpPrereqError } from '../core/errors.ts';

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

export function parseTimespec(text: string): number {
  const m = /^(\d+)([smhdw]?)$/.exec(text.trim());
  if (!m) throw new OpPrereqError(`Invalid time specification '${text}'`, ECODE.INVAL);
  return Number(m[1]) * UNITS[m[2] || 's'];
}
