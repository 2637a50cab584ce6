// gnt-cluster master-failover and master-ping. The failover runs in-process on the new
// master (src/master/failover/failover.ts): it needs no running master daemon.
import { LuxiClient } from '../../luxi/client.ts';
import { nodeEnv, nodePaths } from '../../util/paths.ts';
import { askUser } from '../confirm.ts';
import type { Command } from '../framework.ts';

const masterFailover: Command = {
  name: 'master-failover',
  aliases: ['masterfailover'],
  usage: '[--no-voting] [--yes-do-it] [--ignore-offline-nodes]',
  description: 'Makes the current node the master',
  args: { min: 0, max: 0 },
  options: [
    { flags: ['--no-voting'], dest: 'no_voting', help: 'Skip node agreement check (dangerous)' },
    { flags: ['--yes-do-it', '--ya-rly'], dest: 'yes_do_it', help: 'Override interactive check for --no-voting' },
    { flags: ['--ignore-offline-nodes'], dest: 'ignore_offline_nodes', help: 'Ignores offline nodes for master failover voting' },
  ],
  async run(ctx) {
    if (ctx.opts.no_voting && !ctx.opts.yes_do_it) {
      const question = 'This will perform the failover even if most other nodes are down, or if this node is outdated. ' +
        'This is dangerous as it can lead to a non-consistent cluster. Check the gnt-cluster(8) man page before proceeding. Continue?';
      if (!(await askUser(question))) return 1;
    }
    const { masterFailover: failover } = await import('../../master/failover/failover.ts');
    const env = nodeEnv();
    return failover(nodePaths(env.root), env.hostname, {
      noVoting: Boolean(ctx.opts.no_voting),
      ignoreOfflineNodes: Boolean(ctx.opts.ignore_offline_nodes),
      say: (m) => ctx.err(`${m}\n`),
    });
  },
};

/** Exit 0 when the master daemon answers, 1 otherwise; prints nothing (as upstream). */
const masterPing: Command = {
  name: 'master-ping',
  usage: '',
  description: 'Checks if the master is alive',
  args: { min: 0, max: 0 },
  options: [],
  async run() {
    try {
      const client = await LuxiClient.connect();
      try {
        await client.call('QueryClusterInfo', []);
      } finally {
        client.close();
      }
      return 0;
    } catch {
      return 1;
    }
  },
};

export const failoverCommands: Command[] = [masterFailover, masterPing];
