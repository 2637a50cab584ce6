// ganeti-masterd: LUXI server, job queue, configuration owner.
import { runDaemon } from './common.ts';
import { parseDaemonArgs } from './options.ts';
import { Master } from '../master/master.ts';

export async function main(argv: string[]): Promise<number> {
  const { options, exitCode } = parseDaemonArgs('ganeti-masterd', argv, [
    { flags: '--no-voting', help: 'Do not check that the nodes agree on this node being the master' },
    { flags: '--yes-do-it', help: 'Confirm --no-voting without asking' },
  ]);
  if (exitCode !== undefined) return exitCode;
  return runDaemon({
    name: 'ganeti-masterd',
    role: 'masterd',
    async start({ paths, hostname, logger }) {
      const master = new Master(paths, hostname, logger.log);
      await master.start();
      return () => master.shutdown();
    },
  }, options, argv);
}
