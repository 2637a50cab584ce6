// ganeti-cleaner node|master: the daily clean-up (spec/surface.md §8.2), run from cron
// on every node. Everything it does goes to its own log file, one per run, as upstream's
// script does by redirecting its output: var/log/ganeti/cleaner/ (node) or
// var/log/ganeti/master-cleaner/ (master), cleaner-<YYYY-MM-DDTHH_MM>.<pid>.log.
import fs from 'node:fs';
import path from 'node:path';
import { EXIT_FAILURE, EXIT_SUCCESS, RELEASE_VERSION } from '../core/constants.ts';
import { nodePaths } from '../util/paths.ts';
import { cleanupArchivedJobs, cleanupCrypto, cleanupWatcherFiles, rotateCleanerLogs, type Out } from './cleanup.ts';

const PROG = 'ganeti-cleaner';

/** Upstream echoes its usage on stdout, for --help and mistakes alike. */
function usage(code: number): number {
  process.stdout.write(`Usage: ${PROG} node|master\n`);
  return code;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** `date +'%Y-%m-%dT%H_%M'`, local time. */
function logStamp(d: Date): string {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}_${pad(d.getMinutes())}`;
}

/** `date` in the C locale: "Sun Mar  3 01:45:01 UTC 2024". */
function dateText(d: Date): string {
  const day = d.toLocaleDateString('en-US', { weekday: 'short' });
  const month = d.toLocaleDateString('en-US', { month: 'short' });
  const zone = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(d).find((p) => p.type === 'timeZoneName')?.value ?? '';
  const clock = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return `${day} ${month} ${String(d.getDate()).padStart(2, ' ')} ${clock} ${zone} ${d.getFullYear()}`;
}

export async function main(argv: string[]): Promise<number> {
  if (argv.length === 1 && argv[0] === '--version') {
    process.stdout.write(`${PROG} (ganeti-ts) ${RELEASE_VERSION}\n`);
    return EXIT_SUCCESS;
  }
  if (argv.length !== 1) return usage(EXIT_FAILURE);
  const mode = argv[0];
  switch (mode) {
    case 'node':
    case 'master':
      break;
    case '--help-completion':
      process.stdout.write('choices=node,master 1 1\n');
      return EXIT_SUCCESS;
    case '--help':
      return usage(EXIT_SUCCESS);
    default:
      return usage(EXIT_FAILURE);
  }

  const paths = nodePaths();
  const now = new Date();
  const logDir = path.join(paths.logDir, mode === 'node' ? 'cleaner' : 'master-cleaner');
  fs.mkdirSync(logDir, { recursive: true, mode: 0o750 });
  const fd = fs.openSync(path.join(logDir, `cleaner-${logStamp(now)}.${process.pid}.log`), 'a', 0o640);
  const out: Out = (line) => fs.writeSync(fd, `${line}\n`);
  try {
    out(`Cleaner started at ${dateText(now)}`);
    rotateCleanerLogs(logDir, out);
    if (mode === 'node') {
      cleanupCrypto(paths, out, now.getTime());
      cleanupWatcherFiles(paths, out, now.getTime());
    } else {
      cleanupArchivedJobs(paths, out, now.getTime());
    }
  } finally {
    fs.closeSync(fd);
  }
  return EXIT_SUCCESS;
}
