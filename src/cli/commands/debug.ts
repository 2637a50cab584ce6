// gnt-debug: debugging commands.
import { toolMain, type Command } from '../framework.ts';
import { JOB_OPTIONS, submitAndWait } from '../jobs.ts';

const delay: Command = {
  name: 'delay',
  usage: '[<opts>...] <duration>',
  description: 'Executes a TestDelay OpCode',
  args: { min: 1, max: 1 },
  options: [
    { flags: ['--no-master'], dest: 'on_master', type: 'false', default: true, help: 'Do not sleep in the master code' },
    { flags: ['-n'], dest: 'on_nodes', type: 'append', metavar: 'NODE', help: 'Select nodes to sleep on' },
    { flags: ['-r', '--repeat'], dest: 'repeat', type: 'int', default: 0, metavar: 'REPEAT', help: 'Number of times to repeat the sleep' },
    { flags: ['-i', '--interruptible'], dest: 'interruptible', help: 'Allows the opcode to be interrupted by using a domain socket' },
    { flags: ['-l', '--no-locks'], dest: 'no_locks', help: "Don't take locks while performing the delay" },
    ...JOB_OPTIONS,
  ],
  async run(ctx) {
    const duration = Number(ctx.args[0]);
    if (ctx.args[0].trim() === '' || !Number.isFinite(duration)) {
      ctx.err(`Error: invalid duration '${ctx.args[0]}' (a number of seconds)\n`);
      return 1;
    }
    await submitAndWait(ctx, [{
      OP_ID: 'OP_TEST_DELAY',
      duration,
      on_master: ctx.opts.on_master,
      on_nodes: ctx.opts.on_nodes,
      on_node_uuids: null,
      repeat: ctx.opts.repeat,
      interruptible: Boolean(ctx.opts.interruptible),
      no_locks: Boolean(ctx.opts.no_locks),
      depends: null,
      comment: null,
    }]);
    return 0;
  },
};

export const main = toolMain('gnt-debug', [delay]);
