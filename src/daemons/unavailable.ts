// Roles whose capability has not landed yet: they answer --version and --help, and
// otherwise say plainly that they are not available, instead of pretending to work.
import { RELEASE_VERSION } from '../core/constants.ts';

function unavailable(name: string, what: string): (argv: string[]) => Promise<number> {
  return async (argv) => {
    if (argv.includes('--version')) {
      process.stdout.write(`${name} (ganeti-ts) ${RELEASE_VERSION}\n`);
      return 0;
    }
    const text = `${name}: ${what} is not available in this version of ganeti-ts yet\n`;
    if (argv.includes('--help') || argv.includes('-h')) {
      process.stdout.write(text);
      return 0;
    }
    process.stderr.write(text);
    return 1;
  };
}

export const watcher = unavailable('ganeti-watcher', 'the cluster watcher');
export const cleaner = unavailable('ganeti-cleaner', 'the cleaner');
