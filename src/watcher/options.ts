// ganeti-watcher's command line, parsed by optparse's rules as upstream's script does.
import { EXIT_OPTPARSE, RELEASE_VERSION } from '../core/constants.ts';
import { formatOptionHelp, OptionError, parseOptions, type OptionSpec } from '../cli/parser.ts';
import { parseTimespec } from '../cli/timespec.ts';

export interface WatcherOptions {
  debug: boolean;
  /** Archive finished jobs older than this many seconds. */
  jobAge: number;
  ignorePause: boolean;
  /** The per-group mode: only this group (a UUID). */
  nodeGroup: string | null;
  waitChildren: boolean;
  noVerifyDisks: boolean;
  rapiIp: string;
}

const SPECS: OptionSpec[] = [
  { flags: ['-d', '--debug'], dest: 'debug', type: 'count', help: 'Increase debugging level' },
  { flags: ['-g', '--node-group'], dest: 'nodegroup', type: 'string', metavar: '<nodegroup>', help: 'Node group (name or uuid)' },
  { flags: ['-A', '--job-age'], dest: 'job_age', type: 'string', default: String(6 * 3600), help: 'Autoarchive jobs older than this age (default 6 hours)' },
  { flags: ['--ignore-pause'], dest: 'ignore_pause', help: 'Ignore cluster pause setting' },
  { flags: ['--wait-children'], dest: 'wait_children', type: 'const', const: true, default: true, help: 'Wait for child processes' },
  { flags: ['--no-wait-children'], dest: 'wait_children', type: 'const', const: false, help: "Don't wait for child processes" },
  { flags: ['--no-verify-disks'], dest: 'no_verify_disks', help: 'Do not verify disk status' },
  { flags: ['--rapi-ip'], dest: 'rapi_ip', type: 'string', default: '127.0.0.1', help: 'Use this IP to talk to RAPI.' },
];

const PROG = 'ganeti-watcher';
const USAGE = `Usage: ${PROG} [-d]\n`;

export type ParsedWatcherArgs = { options: WatcherOptions } | { exitCode: number };

/** Parse argv; help, version and errors are printed here and end in an exit code. */
export function parseWatcherArgs(argv: string[]): ParsedWatcherArgs {
  if (argv.includes('--version')) {
    process.stdout.write(`${PROG} (ganeti) ${RELEASE_VERSION}\n`);
    return { exitCode: 0 };
  }
  if (argv.includes('-h') || argv.includes('--help')) {
    const help = ['  --version             show program\'s version number and exit', ...formatOptionHelp(SPECS)];
    process.stdout.write(`${USAGE}\nGaneti cluster watcher\n\nOptions:\n${help.join('\n')}\n`);
    return { exitCode: 0 };
  }
  const fail = (message: string) => {
    process.stderr.write(`${USAGE}\n${PROG}: error: ${message}\n`);
    return { exitCode: EXIT_OPTPARSE };
  };
  let parsed;
  try {
    parsed = parseOptions(argv, SPECS);
  } catch (err) {
    if (err instanceof OptionError) return fail(err.message);
    throw err;
  }
  if (parsed.args.length > 0) return fail('No arguments expected');
  let jobAge: number;
  try {
    jobAge = parseTimespec(String(parsed.opts.job_age));
  } catch (err) {
    return fail((err as Error).message);
  }
  const o = parsed.opts;
  return {
    options: {
      debug: Number(o.debug) > 0,
      jobAge,
      ignorePause: Boolean(o.ignore_pause),
      nodeGroup: typeof o.nodegroup === 'string' ? o.nodegroup : null,
      waitChildren: Boolean(o.wait_children),
      noVerifyDisks: Boolean(o.no_verify_disks),
      rapiIp: String(o.rapi_ip),
    },
  };
}
