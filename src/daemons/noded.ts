// ganeti-noded: the node daemon's RPC server.
import fs from 'node:fs';
import { DEFAULT_NODED_PORT, EXIT_FAILURE } from '../core/constants.ts';
import { createNodeServer } from '../node/server.ts';
import { ensureJoinToken } from '../node/membership.ts';
import { DaemonExit, runDaemon } from './common.ts';
import { parseDaemonArgs } from './options.ts';
import { nodeEnv, type NodePaths } from '../util/paths.ts';

/** The port from the services database (`ganeti-noded` in /etc/services), else 1811. */
export function servicePort(service = 'ganeti-noded', fallback = DEFAULT_NODED_PORT): number {
  try {
    for (const line of fs.readFileSync('/etc/services', 'utf8').split('\n')) {
      const m = /^(\S+)\s+(\d+)\/tcp\b/.exec(line);
      if (m && m[1] === service) return Number(m[2]);
    }
  } catch { /* no services database */ }
  return fallback;
}

/** In a virtual cluster each node binds its own address: this node's primary IP from ssconf. */
function defaultBindAddress(paths: NodePaths, hostname: string, virtual: boolean): string {
  if (!virtual) return '0.0.0.0';
  try {
    for (const line of fs.readFileSync(paths.ssconfFile('node_primary_ips'), 'utf8').split('\n')) {
      const [name, ip] = line.trim().split(/\s+/);
      if (name === hostname && ip) return ip;
    }
  } catch { /* not yet part of a cluster */ }
  return '0.0.0.0';
}

export async function main(argv: string[]): Promise<number> {
  const { options, exitCode } = parseDaemonArgs('ganeti-noded', argv, [
    { flags: '-p, --port <port>', help: `Network port (default: ${DEFAULT_NODED_PORT})` },
    { flags: '-b, --bind <address>', help: 'Bind address (default: 0.0.0.0, or the node\'s primary IP in a virtual cluster)' },
    { flags: '--no-ssl', help: 'Do not secure HTTP protocol with SSL' },
    { flags: '-K, --ssl-key <file>', help: 'SSL key path' },
    { flags: '-C, --ssl-cert <file>', help: 'SSL certificate path' },
    { flags: '--no-mlock', help: 'Do not mlock the node memory in ram' },
  ]);
  if (exitCode !== undefined) return exitCode;
  const port = options.port === undefined ? servicePort() : Number(options.port);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    process.stderr.write(`ganeti-noded: error: invalid port '${String(options.port)}'\n`);
    return 2;
  }
  return runDaemon({
    name: 'ganeti-noded',
    role: 'noded',
    async start({ paths, hostname, logger }) {
      const bind = typeof options.bind === 'string' ? options.bind : defaultBindAddress(paths, hostname, nodeEnv().virtual);
      const server = createNodeServer({ paths, hostname, log: logger.log });
      await new Promise<void>((resolve, reject) => {
        server.once('error', (err: NodeJS.ErrnoException) =>
          reject(new DaemonExit(`cannot listen on ${bind}:${port}: ${err.message}`, EXIT_FAILURE)));
        server.listen(port, bind, () => resolve());
      });
      logger.log.info({ bind, port }, 'node daemon started');
      if (ensureJoinToken(paths) !== null) {
        logger.log.info({ file: paths.joinToken }, 'this node is in no cluster: `ganeti join-token` shows the one-time token for gnt-node add --join-token');
      }
      return async () => {
        server.closeAllConnections();
        await new Promise((r) => server.close(() => r(undefined)));
      };
    },
  }, options, argv);
}
