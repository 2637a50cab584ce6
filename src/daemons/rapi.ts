// ganeti-rapi: the remote API daemon, HTTPS on TCP 5080, a LUXI client of the master
// daemon. It runs on the master only (upstream's ssconf.CheckMaster, before detaching),
// is started and stopped with the master daemon, and reads its users file at start, on
// every change and on SIGHUP (which also reloads the certificate).
import fs from 'node:fs';
import { EXIT_FAILURE, EXIT_NODESETUP_ERROR, EXIT_NOTMASTER } from '../core/constants.ts';
import { readSsconf } from '../core/ssconf.ts';
import { nodeEnv, nodePaths, type NodePaths } from '../util/paths.ts';
import { daemonPort } from '../util/services.ts';
import { ensureRapiCertificate } from '../rapi/certificate.ts';
import { RapiServer } from '../rapi/server.ts';
import { UsersFile } from '../rapi/users.ts';
import { DaemonExit, runDaemon } from './common.ts';
import { parseDaemonArgs } from './options.ts';

const NAME = 'ganeti-rapi';

/**
 * Whether this node is the master, as ssconf says (upstream's CheckMaster): exits 12 when
 * the node's set-up is incomplete, 11 on any other node; null when it may run.
 */
function checkMaster(paths: NodePaths, hostname: string): number | null {
  const master = readSsconf(paths.ssconfFile('master_node'))?.[0];
  if (!master) {
    process.stdout.write(`Cluster configuration incomplete: 'Can't read ssconf file ${paths.ssconfFile('master_node')}'\n`);
    return EXIT_NODESETUP_ERROR;
  }
  if (master !== hostname) {
    process.stderr.write('Not master, exiting.\n');
    return EXIT_NOTMASTER;
  }
  return null;
}

/** In a virtual cluster each node binds its own address (this node's primary IP); else every address. */
function defaultBindAddress(paths: NodePaths, hostname: string, virtual: boolean): string {
  if (!virtual) return '0.0.0.0';
  for (const line of readSsconf(paths.ssconfFile('node_primary_ips')) ?? []) {
    const [name, ip] = line.trim().split(/\s+/);
    if (name === hostname && ip) return ip;
  }
  return '0.0.0.0';
}

interface CertFiles {
  keyFile: string;
  certFile: string;
}

function readCertificate(files: CertFiles): { key: string; cert: string } {
  try {
    return { key: fs.readFileSync(files.keyFile, 'utf8'), cert: fs.readFileSync(files.certFile, 'utf8') };
  } catch (err) {
    throw new DaemonExit(`cannot read the RAPI certificate: ${(err as Error).message}`, EXIT_FAILURE);
  }
}

export async function main(argv: string[]): Promise<number> {
  const { options, exitCode } = parseDaemonArgs(NAME, argv, [
    { flags: '-p, --port <port>', help: 'Network port (default: 5080, or ganeti-rapi in /etc/services)' },
    { flags: '-b, --bind <address>', help: "Bind address (default: 0.0.0.0, or the node's primary IP in a virtual cluster)" },
    { flags: '--no-ssl', help: 'Do not secure HTTP protocol with SSL' },
    { flags: '-K, --ssl-key <file>', help: 'SSL key path (default: var/lib/ganeti/rapi.pem)' },
    { flags: '-C, --ssl-cert <file>', help: 'SSL certificate path (default: var/lib/ganeti/rapi.pem)' },
    { flags: '--require-authentication', help: 'Disable anonymous HTTP requests and require authentication (the default here)' },
    { flags: '--allow-anonymous-reads', help: "Let requests without credentials read what needs no right (upstream's default)" },
    { flags: '--max-clients <n>', help: 'Number of simultaneous connections accepted by ganeti-rapi', default: 20 },
  ]);
  if (exitCode !== undefined) return exitCode;
  const maxClients = Number(options.maxClients);
  if (!Number.isInteger(maxClients) || maxClients < 1) {
    process.stderr.write(`${NAME} --max-clients argument must be >= 1\n`);
    return EXIT_FAILURE;
  }
  const port = options.port === undefined ? daemonPort('ganeti-rapi') : Number(options.port);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    process.stderr.write(`${NAME}: error: invalid port '${String(options.port)}'\n`);
    return 2;
  }
  if (options.requireAuthentication && options.allowAnonymousReads) {
    process.stderr.write(`${NAME}: error: --require-authentication and --allow-anonymous-reads exclude each other\n`);
    return 2;
  }
  const env = nodeEnv();
  const notMaster = checkMaster(nodePaths(env.root), env.hostname);
  if (notMaster !== null) return notMaster;
  const ssl = options.ssl !== false;

  return runDaemon({
    name: NAME,
    role: 'rapi',
    async start({ paths, hostname, logger }) {
      const log = logger.log;
      let certFiles: CertFiles | null = null;
      if (ssl) {
        const keyFile = typeof options.sslKey === 'string' ? options.sslKey : paths.rapiCert;
        const certFile = typeof options.sslCert === 'string' ? options.sslCert : paths.rapiCert;
        if (keyFile === paths.rapiCert && certFile === paths.rapiCert && ensureRapiCertificate(paths)) {
          log.warn({ file: paths.rapiCert }, 'no RAPI certificate: made a new self-signed one (gnt-cluster redist-conf ships it to the master candidates)');
        }
        certFiles = { keyFile, certFile };
      }
      const users = new UsersFile(paths.rapiUsers, { info: (m) => log.info(m), warn: (m) => log.warn(m) });
      users.reload();
      users.watch();
      const server = new RapiServer({
        tls: certFiles ? readCertificate(certFiles) : null,
        users,
        requireAuthentication: !options.allowAnonymousReads,
        maxClients,
        luxiSocket: paths.querySocket,
        log,
      });
      const bind = typeof options.bind === 'string' ? options.bind : defaultBindAddress(paths, hostname, nodeEnv().virtual);
      try {
        await server.listen(port, bind);
      } catch (err) {
        throw new DaemonExit(`cannot listen on ${bind}:${port}: ${(err as Error).message}`, EXIT_FAILURE);
      }
      process.on('SIGHUP', () => {
        users.reload();
        if (!certFiles) return;
        try {
          server.setCertificate(readCertificate(certFiles));
          log.info('certificate reloaded');
        } catch (err) {
          log.error({ err: (err as Error).message }, 'cannot reload the certificate; still serving the previous one');
        }
      });
      log.info({ bind, port, ssl, maxClients, requireAuthentication: !options.allowAnonymousReads }, 'remote API daemon started');
      return async () => {
        users.stop();
        await server.close();
      };
    },
  }, options, argv);
}
