// Command-line options as Ganeti's tools parse them (Python optparse): options come
// before positional arguments (parsing stops at the first argument, so `gnt-cluster
// command ls -l` works), long options may be abbreviated to a unique prefix, and
// errors print the command's usage and exit 2. cac drives the `ganeti` front end and
// the daemons; the gnt-* tools need these exact rules and messages.

export type OptionType = 'bool' | 'false' | 'count' | 'const' | 'string' | 'int' | 'float' | 'choice' | 'append';

export interface OptionSpec {
  /** e.g. ['-o', '--output'] */
  flags: string[];
  dest: string;
  type?: OptionType;
  choices?: string[];
  /** The value a 'const' option stores (optparse's store_const). */
  const?: unknown;
  default?: unknown;
  metavar?: string;
  help: string;
}

export class OptionError extends Error {}

export interface ParsedArgs {
  opts: Record<string, any>;
  args: string[];
}

function takesValue(o: OptionSpec): boolean {
  return o.type !== undefined && !['bool', 'false', 'count', 'const'].includes(o.type);
}

function convert(o: OptionSpec, name: string, raw: string): unknown {
  switch (o.type) {
    case 'int': {
      if (!/^[-+]?\d+$/.test(raw.trim())) throw new OptionError(`option ${name}: invalid integer value: '${raw}'`);
      return Number.parseInt(raw, 10);
    }
    case 'float': {
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n)) throw new OptionError(`option ${name}: invalid floating-point value: '${raw}'`);
      return n;
    }
    case 'choice': {
      if (!o.choices!.includes(raw)) {
        throw new OptionError(`option ${name}: invalid choice: '${raw}' (choose from ${o.choices!.map((c) => `'${c}'`).join(', ')})`);
      }
      return raw;
    }
    default:
      return raw;
  }
}

export function parseOptions(argv: string[], specs: OptionSpec[]): ParsedArgs {
  const opts: Record<string, any> = {};
  for (const o of specs) {
    if (o.dest in opts) continue;
    opts[o.dest] = o.type === 'append' ? [...((o.default as unknown[]) ?? [])] : o.default ?? (o.type === 'count' ? 0 : o.type === 'bool' ? false : o.type === 'false' ? true : null);
  }
  const byFlag = new Map<string, OptionSpec>();
  for (const o of specs) for (const f of o.flags) byFlag.set(f, o);
  const longFlags = [...byFlag.keys()].filter((f) => f.startsWith('--'));

  const apply = (o: OptionSpec, name: string, value?: string) => {
    switch (o.type ?? 'bool') {
      case 'bool': opts[o.dest] = true; break;
      case 'false': opts[o.dest] = false; break;
      case 'count': opts[o.dest] = (opts[o.dest] as number) + 1; break;
      case 'const': opts[o.dest] = o.const; break;
      case 'append': (opts[o.dest] as unknown[]).push(value!); break;
      default: opts[o.dest] = convert(o, name, value!);
    }
  };

  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      i++;
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const given = eq >= 0 ? a.slice(0, eq) : a;
      let name = given;
      if (!byFlag.has(name)) {
        const matches = longFlags.filter((f) => f.startsWith(given));
        if (matches.length === 1) name = matches[0];
        else if (matches.length > 1) throw new OptionError(`ambiguous option: ${given} (${matches.join(', ')}?)`);
        else throw new OptionError(`no such option: ${given}`);
      }
      const o = byFlag.get(name)!;
      if (takesValue(o)) {
        let value: string;
        if (eq >= 0) value = a.slice(eq + 1);
        else if (i + 1 < argv.length) value = argv[++i];
        else throw new OptionError(`${name} option requires 1 argument`);
        apply(o, name, value);
      } else {
        if (eq >= 0) throw new OptionError(`${name} option does not take a value`);
        apply(o, name);
      }
    } else if (a.startsWith('-') && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const name = `-${a[j]}`;
        const o = byFlag.get(name);
        if (!o) throw new OptionError(`no such option: ${name}`);
        if (takesValue(o)) {
          let value: string;
          if (j + 1 < a.length) value = a.slice(j + 1);
          else if (i + 1 < argv.length) value = argv[++i];
          else throw new OptionError(`${name} option requires 1 argument`);
          apply(o, name, value);
          break;
        }
        apply(o, name);
      }
    } else {
      break;
    }
  }
  return { opts, args: argv.slice(i) };
}

/** optparse's option list for --help. */
export function formatOptionHelp(specs: OptionSpec[]): string[] {
  const rows = [{ left: '-h, --help', help: 'show this help message and exit' }, ...specs.map((o) => {
    const mv = takesValue(o) ? `=${o.metavar ?? o.dest.toUpperCase()}` : '';
    return { left: o.flags.map((f) => (f.startsWith('--') ? `${f}${mv}` : `${f}${mv ? ` ${o.metavar ?? o.dest.toUpperCase()}` : ''}`)).join(', '), help: o.help };
  })];
  return rows.map((r) => (r.left.length <= 20 ? `  ${r.left.padEnd(22)}${r.help}` : `  ${r.left}\n${' '.repeat(24)}${r.help}`));
}
