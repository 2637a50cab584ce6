// ganeti-noded: the node daemon's RPC server, with upstream's options (ganeti-noded(8)):
// -f -d --syslog, -p (default: `ganeti-noded` in /etc/services, else 1811), -b/-i (bind
// address or interface; default 0.0.0.0, or :: in an IPv6 cluster, or the node's
// primary IP in a virtual cluster), --max-clients, --no-ssl, -K/-C (default server.pem),
// --no-mlock.
import fs from 'node:fs';
import os from 'node:os';
import { EXIT_FAILURE, EXIT_OPTPARSE } from '../core/constants.ts';
import { readSsconf } from '../core/ssconf.ts';
import { createNodeServer, DEFAULT_MAX_CLIENTS } from '../node/server.ts';
import { ensureJoinToken } from '../node/membership.ts';
import { lockMemory } from '../node/mlock.ts';
import { ServingCertificate } from '../node/tls.ts';
import { DaemonExit, runDaemon } from './common.ts';
import { parseDaemonArgs } from './options.ts';
import { nodeEnv, nodePaths, type NodePaths } from '../util/paths.ts';
import { nodedPort } from '../util/services.ts';

/** IPv6 clusters bind :: by default, as upstream (ssconf primary_ip_family). */
function ipv6Cluster(paths: NodePaths): boolean {
  return readSsconf(paths.ssconfFile('primary_ip_family'))?.[0] === '10';
}

/** In a virtual cluster each node binds its own address: this node's primary IP from ssconf. */
function defaultBindAddress(paths: NodePaths, hostname: string, virtual: boolean): string {
  const any = ipv6Cluster(paths) ? '::' : '0.0.0.0';
  if (!virtual) return any;
  for (const line of readSsconf(paths.ssconfFile('node_primary_ips')) ?? []) {
    const [name, ip] = line.trim().split(/\s+/);
    if (name === hostname && ip) return ip;
  }
  return any;
}

/** The first address of a network interface, of the cluster's family (upstream's -i). */
function interfaceAddress(name: string, ipv6: boolean): string | null {
  const family = ipv6 ? 'IPv6' : 'IPv4';
  return os.networkInterfaces()[name]?.find((a) => a.family === family)?.address ?? null;
}

class StartError extends Error {}

interface NodedSettings {
  port: number;
  bind: string | null;
  maxClients: number;
  /** null: TLS with server.pem (or the node's own certificate before it joins). */
  explicitCertificate: { keyFile: string; certFile: string } | null;
  ssl: boolean;
  mlock: boolean;
}

/** Check the options as upstream does before detaching; errors go to the terminal. */
function settings(options: Record<string, unknown>, paths: NodePaths): NodedSettings {
  const port = options.port === undefined ? nodedPort() : Number(options.port);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new StartError(`option -p: invalid port number: '${String(options.port)}'`);
  const maxClients = options.maxClients === undefined ? DEFAULT_MAX_CLIENTS : Number(options.maxClients);
  if (!Number.isInteger(maxClients) || maxClients < 1) throw new StartError(`option --max-clients: must be at least 1, not '${String(options.maxClients)}'`);
  let bind = typeof options.bind === 'string' ? options.bind : null;
  if (typeof options.interface === 'string') {
    if (bind !== null) {
      throw new DaemonExit(`Can't specify both, bind address (${bind}) and bind interface (${options.interface})`, EXIT_FAILURE);
    }
    bind = interfaceAddress(options.interface, ipv6Cluster(paths));
    if (bind === null) throw new DaemonExit(`Failed to find IP for interface ${options.interface}`, EXIT_FAILURE);
  }
  const ssl = options.ssl !== false;
  const keyFile = typeof options.sslKey === 'string' ? options.sslKey : null;
  const certFile = typeof options.sslCert === 'string' ? options.sslCert : null;
  let explicitCertificate = null;
  if (ssl && (keyFile !== null || certFile !== null)) {
    explicitCertificate = { keyFile: keyFile ?? paths.serverCert, certFile: certFile ?? paths.serverCert };
    for (const [what, file] of [['key', explicitCertificate.keyFile], ['certificate', explicitCertificate.certFile]]) {
      if (!fs.statSync(file, { throwIfNoEntry: false })?.isFile()) throw new DaemonExit(`SSL ${what} file '${file}' was not found`, EXIT_FAILURE);
    }
  }
  return { port, bind, maxClients, explicitCertificate, ssl, mlock: options.mlock !== false };
}

export async function main(argv: string[]): Promise<number> {
  let defaults: NodePaths | null = null;
  try {
    defaults = nodePaths(nodeEnv().root);
  } catch { /* a bad environment is reported by runDaemon */ }
  const certDefault = defaults?.serverCert ?? '/var/lib/ganeti/server.pem';
  const { options, exitCode } = parseDaemonArgs('ganeti-noded', argv, [
    { flags: '-p, --port <port>', help: `Network port (default: ${nodedPort()})`, type: 'int' },
    { flags: '-b, --bind <address>', help: "Bind address (default: '0.0.0.0'; in a virtual cluster the node's primary IP)" },
    { flags: '-i, --interface <interface>', help: 'Bind interface' },
    { flags: '--max-clients <clients>', help: `Maximum number of requests served at once (default: ${DEFAULT_MAX_CLIENTS})`, type: 'int' },
    { flags: '--no-ssl', help: 'Do not secure HTTP protocol with SSL' },
    { flags: '-K, --ssl-key <path>', help: `SSL key path (default: ${certDefault})` },
    { flags: '-C, --ssl-cert <path>', help: `SSL certificate path (default: ${certDefault})` },
    { flags: '--no-mlock', help: 'Do not mlock the node memory in ram' },
  ]);
  if (exitCode !== undefined) return exitCode;
  let s: NodedSettings | null = null;
  if (defaults) {
    try {
      s = settings(options, defaults);
    } catch (err) {
      if (err instanceof StartError) {
        process.stderr.write(`Usage: ganeti-noded [options]\n\nganeti-noded: error: ${err.message}\n`);
        return EXIT_OPTPARSE;
      }
      if (err instanceof DaemonExit) {
        process.stderr.write(`${err.message}\n`);
        return err.exitCode;
      }
      throw err;
    }
  }
  return runDaemon({
    name: 'ganeti-noded',
    role: 'noded',
    async start({ paths, hostname, logger }) {
      const { log } = logger;
      const opts = s ?? settings(options, paths);
      if (opts.mlock) lockMemory(paths, log);
      else log.info('Memory not locked (--no-mlock)');
      const bind = opts.bind ?? defaultBindAddress(paths, hostname, nodeEnv().virtual);
      // A node of a --no-ssl cluster serves plain HTTP whatever its options: the master
      // of such a cluster talks plain HTTP to every node (src/rpc/transport.ts).
      const plainCluster = fs.existsSync(paths.rpcNoSsl);
      if (plainCluster && opts.ssl) log.warn({ file: paths.rpcNoSsl }, 'this node\'s cluster talks plain HTTP (gnt-cluster init --no-ssl): serving without TLS');
      const certificate = opts.ssl && !plainCluster ? new ServingCertificate(paths, opts.explicitCertificate, log) : null;
      const server = createNodeServer({ paths, hostname, log }, { certificate, maxClients: opts.maxClients });
      await new Promise<void>((resolve, reject) => {
        server.once('error', (err: NodeJS.ErrnoException) =>
          reject(new DaemonExit(`cannot listen on ${bind}:${opts.port}: ${err.message}`, EXIT_FAILURE)));
        server.listen(opts.port, bind, () => resolve());
      });
      log.info({ bind, port: opts.port, tls: certificate !== null, maxClients: opts.maxClients }, 'node daemon started');
      if (ensureJoinToken(paths) !== null) {
        log.info({ file: paths.joinToken }, 'this node is in no cluster: `ganeti join-token` shows the one-time token for gnt-node add --join-token');
      }
      return async () => {
        certificate?.stop();
        server.closeAllConnections();
        await new Promise((r) => server.close(() => r(undefined)));
      };
    },
  }, options, argv);
}
