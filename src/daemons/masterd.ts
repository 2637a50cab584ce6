// ganeti-masterd: LUXI server, job queue, configuration owner. It starts only when more
// than half of the nodes vote for this node; --no-voting skips that, after confirmation.
import readline from 'node:readline';
import { EXIT_FAILURE } from '../core/constants.ts';
import { runDaemon } from './common.ts';
import { parseDaemonArgs } from './options.ts';
import { Master } from '../master/master.ts';

/** Ask on the terminal for the literal YES (upstream's prompt); false without a terminal. */
async function confirmNoVoting(): Promise<boolean> {
  if (!process.stdin.isTTY) return false;
  process.stdout.write("The 'no voting' option has been selected.\nThis is dangerous, please confirm by typing uppercase 'yes': ");
  const rl = readline.createInterface({ input: process.stdin });
  const answer = await new Promise<string>((resolve) => rl.once('line', resolve).once('close', () => resolve('')));
  rl.close();
  return answer.trim() === 'YES';
}

export async function main(argv: string[]): Promise<number> {
  const { options, exitCode } = parseDaemonArgs('ganeti-masterd', argv, [
    { flags: '--no-voting', help: 'Do not check that the nodes agree on this node being the master (two masters on one cluster lose data)' },
    { flags: '--yes-do-it', help: 'Confirm --no-voting without asking' },
  ]);
  if (exitCode !== undefined) return exitCode;
  const noVoting = options.voting === false;
  let args = argv;
  if (noVoting && !options.yesDoIt) {
    // Asked here, before detaching: the daemon itself has no terminal.
    if (!(await confirmNoVoting())) {
      process.stderr.write(process.stdin.isTTY ? 'Aborting.\n'
        : 'ganeti-masterd: --no-voting needs confirmation: run it on a terminal, or add --yes-do-it (two masters on one cluster lose data)\n');
      return EXIT_FAILURE;
    }
    args = [...argv, '--yes-do-it'];
  }
  return runDaemon({
    name: 'ganeti-masterd',
    role: 'masterd',
    async start({ paths, hostname, logger }) {
      const master = new Master(paths, hostname, logger.log);
      await master.start({ voting: !noVoting });
      return () => master.shutdown();
    },
  }, options, args);
}
