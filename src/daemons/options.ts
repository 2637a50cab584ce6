// Daemon command lines (cac): the options every Ganeti daemon takes, plus its own.
// Errors read like upstream's optparse (`<daemon>: error: no such option: --x`, after
// a usage line) and exit with code 2.
import { cac } from 'cac';
import { EXIT_OPTPARSE, RELEASE_VERSION } from '../core/constants.ts';
import type { DaemonOptions } from './common.ts';

export interface ExtraOption {
  flags: string;
  help: string;
  default?: unknown;
  /** Values must be integers (optparse's type="int"). */
  type?: 'int';
}

export interface ParsedDaemonArgs {
  options: DaemonOptions & Record<string, unknown>;
  exitCode?: number;
}

export function parseDaemonArgs(name: string, argv: string[], extra: ExtraOption[] = []): ParsedDaemonArgs {
  const cli = cac(name);
  cli.usage('[options]');
  cli.option('-f, --foreground', "Don't detach from the current terminal");
  cli.option('-d, --debug', 'Enable some debug messages');
  cli.option('--version', 'Show the version');
  cli.option('--syslog <yes|no|only>', "Enable logging to syslog (except debug messages); one of 'no', 'yes' or 'only'", { default: 'no' });
  for (const o of extra) cli.option(o.flags, o.help, o.default === undefined ? undefined : { default: o.default });
  cli.help();
  const fail = (message: string): ParsedDaemonArgs => {
    process.stderr.write(`Usage: ${name} [options]\n\n${name}: error: ${message}\n`);
    return { options: {} as ParsedDaemonArgs['options'], exitCode: EXIT_OPTPARSE };
  };
  let parsed;
  try {
    parsed = cli.parse(['node', name, ...argv], { run: false });
  } catch (err) {
    return fail((err as Error).message);
  }
  const o = parsed.options as Record<string, unknown>;
  if (o.help) return { options: o as ParsedDaemonArgs['options'], exitCode: 0 };
  if (o.version) {
    process.stdout.write(`${name} (ganeti-ts) ${RELEASE_VERSION}\n`);
    return { options: o as ParsedDaemonArgs['options'], exitCode: 0 };
  }
  const known = cli.globalCommand.options;
  const unknown = Object.keys(o).filter((k) => k !== '--' && !known.some((opt) => opt.names.includes(k)));
  if (unknown.length > 0) return fail(`no such option: ${unknown[0].length === 1 ? `-${unknown[0]}` : `--${unknown[0]}`}`);
  if (parsed.args.length > 0) return fail(`unexpected argument ${parsed.args.join(' ')}`);
  for (const opt of known) {
    const value = o[opt.names[opt.names.length - 1]];
    const shown = opt.rawName.split(/[ ,]/)[0];
    // cac leaves a value-taking option given without its value as `true`.
    if (opt.required && value === true) return fail(`${shown} option requires an argument`);
    const spec = extra.find((e) => e.flags === opt.rawName);
    if (spec?.type === 'int' && value !== undefined && !(typeof value === 'number' && Number.isInteger(value))) {
      return fail(`option ${shown}: invalid integer value: '${String(value)}'`);
    }
  }
  const syslog = String(o.syslog);
  if (!['yes', 'no', 'only'].includes(syslog)) return fail(`option --syslog: invalid choice: '${syslog}' (choose from 'yes', 'no', 'only')`);
  return { options: { ...o, foreground: Boolean(o.foreground), debug: Boolean(o.debug), syslog: syslog as DaemonOptions['syslog'] } };
}
