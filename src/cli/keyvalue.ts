// Ganeti's key=value option syntax (-B, -H, -N, --node-parameters, -D, …; spec/surface.md
// §0.7), as upstream's cli._SplitKeyVal / _SplitIdentKeyVal: `k=v,k=v` with
// backslash-escaped commas; a bare `key` is true, `no_key` false, `-key` resets to the
// default (null); `ident:k=v,…` names a group, and `no_ident` / `-ident` remove one.
import { ParameterError } from '../core/errors.ts';

export type KeyValues = Record<string, string | boolean | null>;

/** utils.UnescapeAndSplit: split on sep, except where it is escaped with a backslash. */
export function unescapeAndSplit(text: string, sep = ','): string[] {
  const parts = text.split(sep);
  const out: string[] = [];
  while (parts.length) {
    const e1 = parts.shift()!;
    const backslashes = e1.length - e1.replace(/\\+$/, '').length;
    if (backslashes % 2 === 1 && parts.length) {
      parts.unshift(`${e1}${sep}${parts.shift()!}`);
      continue;
    }
    out.push(e1);
  }
  return out.map((v) => v.replace(/\\(.)/g, '$1'));
}

/** `k=v,flag,no_flag,-reset` → {k: "v", flag: true, flag: false, reset: null}; values stay strings. */
export function parseKeyVal(option: string, text: string): KeyValues {
  const out: KeyValues = {};
  if (!text) return out;
  for (const elem of unescapeAndSplit(text)) {
    let key: string;
    let value: string | boolean | null;
    const eq = elem.indexOf('=');
    if (eq >= 0) [key, value] = [elem.slice(0, eq), elem.slice(eq + 1)];
    else if (elem.startsWith('no_')) [key, value] = [elem.slice(3), false];
    else if (elem.startsWith('-')) [key, value] = [elem.slice(1), null];
    else [key, value] = [elem, true];
    if (Object.hasOwn(out, key)) throw new ParameterError(`Duplicate key '${key}' in option ${option}`);
    out[key] = value;
  }
  return out;
}

/** `ident:k=v,...` (e.g. -H kvm:kernel_path=/x); `no_ident` / `-ident` remove a whole group (false / null). */
export function parseIdentKeyVal(option: string, value: string): [string, KeyValues | false | null] {
  const colon = value.indexOf(':');
  const [ident, rest] = colon < 0 ? [value, ''] : [value.slice(0, colon), value.slice(colon + 1)];
  if (ident.startsWith('no_') || (ident.startsWith('-') && !/^-\d/.test(ident))) {
    if (rest) throw new ParameterError(`Cannot pass options when removing parameter groups: ${value}`);
    return ident.startsWith('no_') ? [ident.slice(3), false] : [ident.slice(1), null];
  }
  return [ident, parseKeyVal(option, rest)];
}

/** Repeated ident options into one dict, later ones winning (upstream's dict(opts.hvparams)). */
export function identDict(option: string, values: string[] | null): Record<string, unknown> {
  return Object.fromEntries((values ?? []).map((v) => parseIdentKeyVal(option, v)));
}
