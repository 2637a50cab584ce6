// gnt-debug: debugging commands.
import { toolMain, type Command } from '../framework.ts';
import { JOB_OPTIONS, submitAndWait } from '../jobs.ts';
import { LIST_OPTIONS, printQueryResult, selectedFields } from '../list.ts';
import type { QueryResponse } from '../../core/query.ts';

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

const locks: Command = {
  name: 'locks',
  usage: '[--interval N]',
  description: 'Show the lock status of the master daemon',
  args: { min: 0, max: 0 },
  options: [
    ...LIST_OPTIONS.filter((o) => ['no_headers', 'separator', 'output', 'verbose'].includes(o.dest)),
    { flags: ['--interval'], dest: 'interval', type: 'int', metavar: 'SECONDS', help: 'Repeat the listing every SECONDS seconds' },
  ],
  async run(ctx) {
    const fields = selectedFields(ctx.opts.output ?? null, ['name', 'mode', 'owner', 'pending']);
    const client = await ctx.client();
    for (;;) {
      const response = (await client.call('Query', ['lock', fields, null])) as QueryResponse;
      const rows = response.data.map((row) => row.map(([status, value], i): [number, unknown] =>
        [status, fields[i] === 'pending' && Array.isArray(value) ? value.map(([mode, owners]) => `${mode}:${(owners as string[]).join(',')}`).join(' ') : value]));
      const code = printQueryResult(ctx, { fields: response.fields, data: rows }, ['owner']);
      if (!ctx.opts.interval) return code;
      ctx.out('\n');
      await new Promise((r) => setTimeout(r, Number(ctx.opts.interval) * 1000));
    }
  },
};

export const main = toolMain('gnt-debug', [delay, locks]);
