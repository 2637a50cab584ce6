// Port numbers from the services database, as upstream's netutils.GetDaemonPort: the
// daemon's name in /etc/services (`ganeti install` adds the entries), else the default.
import fs from 'node:fs';
import { DEFAULT_NODED_PORT, DEFAULT_RAPI_PORT } from '../core/constants.ts';

/** Upstream's daemons with a port, and their defaults. */
export const DAEMON_PORTS: Readonly<Record<string, { port: number; proto: 'tcp' | 'udp' }>> = {
  'ganeti-noded': { port: DEFAULT_NODED_PORT, proto: 'tcp' },
  'ganeti-rapi': { port: DEFAULT_RAPI_PORT, proto: 'tcp' },
};

/** service name → port of the entries of one services file (`name port/proto [aliases] # comment`). */
export function parseServices(text: string, proto: 'tcp' | 'udp' = 'tcp'): Map<string, number> {
  const ports = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [entry] = line.split('#');
    const [name, portProto, ...aliases] = entry.trim().split(/\s+/);
    const m = /^(\d+)\/(\w+)$/.exec(portProto ?? '');
    if (!name || !m || m[2] !== proto) continue;
    for (const n of [name, ...aliases]) if (!ports.has(n)) ports.set(n, Number(m[1]));
  }
  return ports;
}

const cache = new Map<string, number>();

/** The daemon's port from /etc/services, else its default (read once per process). */
export function daemonPort(daemon: keyof typeof DAEMON_PORTS & string, servicesFile = '/etc/services'): number {
  const key = `${servicesFile}\0${daemon}`;
  let port = cache.get(key);
  if (port === undefined) {
    const { port: fallback, proto } = DAEMON_PORTS[daemon];
    try {
      port = parseServices(fs.readFileSync(servicesFile, 'utf8'), proto).get(daemon) ?? fallback;
    } catch {
      port = fallback; // no services database
    }
    cache.set(key, port);
  }
  return port;
}

/** The node daemon's port: every node of a cluster uses the same one. */
export const nodedPort = (): number => daemonPort('ganeti-noded');
