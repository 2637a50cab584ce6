// Ganeti's key=value option syntax (-B, -H, -N, --node-parameters, …; spec/surface.md §0.7):
// `k=v,k=v` with backslash-escaped commas; a bare `key` is true, `no_key` false, `-key`
// resets to the default (null).
import { ECODE, OpPrereqError } from '../core/errors.ts';

/** Split on commas that are not escaped with a backslash, unescaping them. */
function splitUnescaped(text: string): string[] {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\\' && text[i + 1] === ',') {
      cur += ',';
      i++;
    } else if (c === ',') {
      parts.push(cur);
      cur = '';
    } else {
      cur += c;
    }
  }
  parts.push(cur);
  return parts;
}

export function parseKeyValues(text: string, what: string): Record<string, string | boolean | null> {
  const out: Record<string, string | boolean | null> = {};
  if (text === '') return out;
  for (const part of splitUnescaped(text)) {
    const eq = part.indexOf('=');
    let key: string;
    let value: string | boolean | null;
    if (eq >= 0) {
      key = part.slice(0, eq);
      value = part.slice(eq + 1);
    } else if (part.startsWith('no_')) {
      key = part.slice(3);
      value = false;
    } else if (part.startsWith('-')) {
      key = part.slice(1);
      value = null;
    } else {
      key = part;
      value = true;
    }
    if (key === '') throw new OpPrereqError(`Invalid ${what} '${part}': empty key`, ECODE.INVAL);
    if (Object.hasOwn(out, key)) throw new OpPrereqError(`Duplicate key '${key}' in ${what}`, ECODE.INVAL);
    out[key] = value;
  }
  return out;
}

/** The "ident:key=val,…" form (-H kvm:kernel_path=/x): [ident, values]. */
export function parseIdentKeyValues(text: string, what: string): [string, Record<string, string | boolean | null>] {
  const colon = text.indexOf(':');
  if (colon < 0) return [text, {}];
  return [text.slice(0, colon), parseKeyValues(text.slice(colon + 1), what)];
}
