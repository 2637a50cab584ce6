// Daemon command lines (cac): the options every Ganeti daemon takes, plus its own.
import { cac } from 'cac';
import { EXIT_OPTPARSE, RELEASE_VERSION } from '../core/constants.ts';
import type { DaemonOptions } from './common.ts';

export interface ExtraOption {
  flags: string;
  help: string;
  default?: unknown;
}

export interface ParsedDaemonArgs {
  options: DaemonOptions & Record<string, unknown>;
  exitCode?: number;
}

export function parseDaemonArgs(name: string, argv: string[], extra: ExtraOption[] = []): ParsedDaemonArgs {
  const cli = cac(name);
  cli.usage('[options]');
  cli.option('-f, --foreground', "Don't detach from the current terminal");
  cli.option('-d, --debug', 'Enable debug messages');
  cli.option('--version', 'Show the version');
  cli.option('--syslog <yes|no|only>', 'Enable logging to syslog (except debug messages)', { default: 'no' });
  for (const o of extra) cli.option(o.flags, o.help, o.default === undefined ? undefined : { default: o.default });
  cli.help();
  let parsed;
  try {
    parsed = cli.parse(['node', name, ...argv], { run: false });
  } catch (err) {
    process.stderr.write(`${name}: error: ${(err as Error).message}\n`);
    return { options: {} as ParsedDaemonArgs['options'], exitCode: EXIT_OPTPARSE };
  }
  const o = parsed.options as Record<string, unknown>;
  if (o.help) return { options: o as ParsedDaemonArgs['options'], exitCode: 0 };
  if (o.version) {
    process.stdout.write(`${name} (ganeti-ts) ${RELEASE_VERSION}\n`);
    return { options: o as ParsedDaemonArgs['options'], exitCode: 0 };
  }
  const unknown = Object.keys(o).filter((k) => k !== '--' && !cli.globalCommand.options.some((opt) => opt.names.includes(k)));
  if (unknown.length > 0 || parsed.args.length > 0) {
    process.stderr.write(`${name}: error: unexpected ${unknown.length ? `option ${unknown.map((u) => (u.length === 1 ? `-${u}` : `--${u}`)).join(', ')}` : `argument ${parsed.args.join(' ')}`}\n`);
    return { options: o as ParsedDaemonArgs['options'], exitCode: EXIT_OPTPARSE };
  }
  const syslog = String(o.syslog);
  if (!['yes', 'no', 'only'].includes(syslog)) {
    process.stderr.write(`${name}: error: option --syslog: invalid choice: '${syslog}' (choose from 'yes', 'no', 'only')\n`);
    return { options: o as ParsedDaemonArgs['options'], exitCode: EXIT_OPTPARSE };
  }
  return { options: { ...o, foreground: Boolean(o.foreground), debug: Boolean(o.debug), syslog: syslog as DaemonOptions['syslog'] } };
}
