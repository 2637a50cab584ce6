// One static map from role name to a lazily loaded entry point. Every import is a
// literal, so the bundler sees them all; a role's code loads only when it runs, which
// keeps start-up near Node's own.

export type RoleMain = (argv: string[]) => Promise<number>;

export interface Role {
  /** Name of the symlink (argv[0]) that selects the role. */
  name: string;
  /** Short names accepted as `ganeti <alias> …`. */
  aliases: string[];
  description: string;
  load(): Promise<RoleMain>;
}

export const ROLES: readonly Role[] = [
  { name: 'ganeti-masterd', aliases: ['masterd'], description: 'master daemon: LUXI, job queue, configuration', load: async () => (await import('./daemons/masterd.ts')).main },
  { name: 'ganeti-noded', aliases: ['noded'], description: 'node daemon: RPC server for node-local work', load: async () => (await import('./daemons/noded.ts')).main },
  { name: 'ganeti-rapi', aliases: ['rapi'], description: 'remote API daemon (HTTPS REST)', load: async () => (await import('./daemons/rapi.ts')).main },
  { name: 'ganeti-watcher', aliases: ['watcher'], description: 'periodic cluster maintenance', load: async () => (await import('./watcher/main.ts')).main },
  { name: 'ganeti-cleaner', aliases: ['cleaner'], description: 'removes old archived jobs and stale files', load: async () => (await import('./cleaner/main.ts')).main },
  { name: 'gnt-cluster', aliases: ['cluster'], description: 'cluster administration', load: async () => (await import('./cli/commands/cluster.ts')).main },
  { name: 'gnt-node', aliases: ['node'], description: 'node administration', load: async () => (await import('./cli/commands/node.ts')).main },
  { name: 'gnt-instance', aliases: ['instance'], description: 'instance administration', load: async () => (await import('./cli/commands/instance.ts')).main },
  { name: 'gnt-job', aliases: ['job'], description: 'job queue administration', load: async () => (await import('./cli/commands/job.ts')).main },
  { name: 'gnt-os', aliases: ['os'], description: 'operating system definitions', load: async () => (await import('./cli/commands/os.ts')).main },
  { name: 'gnt-group', aliases: ['group'], description: 'node group administration', load: async () => (await import('./cli/commands/group.ts')).main },
  { name: 'gnt-backup', aliases: ['backup'], description: 'instance export and import', load: async () => (await import('./cli/commands/backup.ts')).main },
  { name: 'gnt-network', aliases: ['network'], description: 'network administration', load: async () => (await import('./cli/commands/network.ts')).main },
  { name: 'gnt-filter', aliases: ['filter'], description: 'job filter administration', load: async () => (await import('./cli/commands/filter.ts')).main },
  { name: 'gnt-debug', aliases: ['debug'], description: 'debugging commands', load: async () => (await import('./cli/commands/debug.ts')).main },
  { name: 'hail', aliases: [], description: 'instance allocator (IAllocator plugin)', load: async () => (await import('./htools/hail.ts')).main },
];

export function findRole(name: string): Role | undefined {
  return ROLES.find((r) => r.name === name || r.aliases.includes(name));
}
