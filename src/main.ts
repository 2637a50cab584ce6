// Entry point of the single executable: the role comes from the name it is invoked as
// (a symlink such as gnt-job or ganeti-noded) or from the first argument
// (`ganeti masterd`, `ganeti gnt-job list`, `ganeti job list`).
import path from 'node:path';
import { ROLES, findRole } from './roles.ts';
import { RELEASE_VERSION } from './core/constants.ts';

function usage(): string {
  const width = Math.max(...ROLES.map((r) => r.name.length));
  return [
    'Usage: ganeti <role> [arguments...]',
    '       (or run through a symlink named after the role, e.g. gnt-cluster)',
    '',
    'Roles:',
    ...ROLES.map((r) => `  ${r.name.padEnd(width)}  ${r.description}`),
    '',
    'Other commands:',
    `  ${'links DIR'.padEnd(width)}  create a symlink for every role (and ganeti) in DIR`,
    `  ${'join-token'.padEnd(width)}  on a node in no cluster: the one-time token for gnt-node add --join-token`,
    `  ${'install'.padEnd(width)}  (root) install this file, its role links, systemd units and /etc/services entries [--root DIR]`,
    `  ${'uninstall'.padEnd(width)}  (root) remove what install laid down, keeping the cluster's data [--root DIR]`,
    `  ${'help'.padEnd(width)}  show this list`,
    `  ${'--version'.padEnd(width)}  show the version`,
    '',
  ].join('\n');
}

async function makeLinks(dir: string | undefined): Promise<number> {
  if (!dir) {
    process.stderr.write('Usage: ganeti links DIR\n');
    return 1;
  }
  const fs = await import('node:fs');
  fs.mkdirSync(dir, { recursive: true });
  const target = process.execPath;
  // The roles, and `ganeti` itself for its own commands (join-token, links, help).
  const names = ['ganeti', ...ROLES.map((r) => r.name)];
  for (const name of names) {
    const link = path.join(dir, name);
    fs.rmSync(link, { force: true });
    fs.symlinkSync(target, link);
  }
  process.stdout.write(`Created ${names.length} links to ${target} in ${dir}\n`);
  return 0;
}

/** Print this node's join token (creating it), for `gnt-node add --join-token` on the master. */
async function printJoinToken(): Promise<number> {
  const { ensureJoinToken } = await import('./node/membership.ts');
  const { nodePaths } = await import('./util/paths.ts');
  const token = ensureJoinToken(nodePaths());
  if (token === null) {
    process.stderr.write('This node is already part of a cluster (it has a node key); it needs no join token.\n');
    return 1;
  }
  process.stdout.write(`${token}\n`);
  return 0;
}

async function run(argv: string[]): Promise<number> {
  const invokedAs = path.basename(argv[1] ?? 'ganeti');
  const direct = findRole(invokedAs);
  if (direct && direct.name === invokedAs) return (await direct.load())(argv.slice(2));
  const [sub, ...rest] = argv.slice(2);
  switch (sub) {
    case undefined:
      process.stderr.write(usage());
      return 1;
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(usage());
      return 0;
    case '--version':
    case 'version':
      process.stdout.write(`ganeti (ganeti-ts) ${RELEASE_VERSION}\nroles: ${ROLES.map((r) => r.name).join(' ')}\n`);
      return 0;
    case 'links':
      return makeLinks(rest[0]);
    case 'join-token':
      return printJoinToken();
    case 'install':
    case 'uninstall':
      return (await import('./install/index.ts')).main(sub, rest);
  }
  const role = findRole(sub);
  if (!role) {
    process.stderr.write(`ganeti: unknown role or command '${sub}'\n\n${usage()}`);
    return 1;
  }
  return (await role.load())(rest);
}

run(process.argv).then(
  (code) => {
    // A daemon keeps running (-1); everything else exits once its output is written.
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`Unhandled exception: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
