// node_verify on the node: the checks the master asks for in `gnt-cluster verify`.
// The request is upstream's check dictionary (keys are Ganeti's NV_* names where the
// check exists upstream); the reply has one entry per check asked for. Checks that need
// ssh, LVM, DRBD or a hypervisor are not asked for by our master and not answered here.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import crypto from 'node:crypto';
import { PROTOCOL_VERSION, RELEASE_VERSION } from '../core/constants.ts';
import { nodedPort } from '../util/services.ts';
import { replicaState } from './config-replica.ts';
import { RpcFail, type NodeContext } from './context.ts';

/** Upstream's NV_* keys we answer, plus our own (marked). The master sends each node's port with the network tests. */
export const NV = {
  FILELIST: 'filelist',
  NODENETTEST: 'node-net-test',
  MASTERIP: 'master-ip',
  VERSION: 'version',
  NODESETUP: 'nodesetup',
  TIME: 'time',
  /** Ours: the node's own name, as it knows itself (upstream learns it over ssh). */
  HOSTNAME: 'hostname',
  /** Ours: serial and checksum of a master candidate's configuration replica. */
  CONFIG_REPLICA: 'config-replica',
} as const;

/** Upstream's TcpPing timeout (constants.TCP_PING_TIMEOUT). */
const TCP_PING_TIMEOUT_MS = 10_000;

function isDict(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A path as the master names it (relative to the cluster's root) on this node; null if it escapes. */
function localize(ctx: NodeContext, virtualPath: string): string | null {
  if (!virtualPath.startsWith('/')) return null;
  const p = path.join(ctx.paths.root, path.normalize(virtualPath));
  return p === ctx.paths.root || p.startsWith(ctx.paths.root.endsWith(path.sep) ? ctx.paths.root : ctx.paths.root + path.sep) ? p : null;
}

/**
 * SHA-1 of each existing regular file (upstream's FingerprintFiles); missing files are
 * left out. config.data is the replica's state rather than the file's bytes: a replica
 * is config.data plus a journal, so the file alone may lag what the node holds.
 */
function fingerprintFiles(ctx: NodeContext, files: unknown): Record<string, string> {
  if (!Array.isArray(files)) throw new RpcFail('node_verify: the file list must be a list');
  const out: Record<string, string> = {};
  for (const f of files) {
    if (typeof f !== 'string') continue;
    const local = localize(ctx, f);
    if (!local) continue;
    if (local === ctx.paths.configFile) {
      const state = replicaState(ctx);
      if (state) out[f] = state.checksum;
      continue;
    }
    try {
      if (!fs.statSync(local).isFile()) continue;
      out[f] = crypto.createHash('sha1').update(fs.readFileSync(local)).digest('hex');
    } catch {
      // Missing or unreadable: not reported, as upstream.
    }
  }
  return out;
}

/**
 * Upstream's TcpPing: a connect that is refused still proves the host is up (the port
 * need not be live). Binds to source first when given; a source that is not ours is
 * ignored, as upstream ignores the failed bind.
 */
export function tcpPing(target: string, port: number, source: string | null, timeoutMs = TCP_PING_TIMEOUT_MS): Promise<boolean> {
  return new Promise((resolve) => {
    const attempt = (localAddress: string | undefined) => {
      const sock = net.connect({ host: target, port, localAddress, timeout: timeoutMs });
      let done = false;
      const finish = (ok: boolean) => {
        if (done) return;
        done = true;
        sock.destroy();
        resolve(ok);
      };
      sock.once('connect', () => finish(true));
      sock.once('timeout', () => finish(false));
      sock.once('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'EADDRNOTAVAIL' && localAddress !== undefined) {
          done = true;
          sock.destroy();
          attempt(undefined);
          return;
        }
        finish(err.code === 'ECONNREFUSED');
      });
    };
    attempt(source ?? undefined);
  });
}

type NetNode = [string, string, string, number?];

/**
 * NV_NODENETTEST: [[name, primary, secondary, port?]...], master candidates]. Only master
 * candidates test; each reachable node is left out, as upstream's VerifyNodeNetTest.
 */
async function nodeNetTest(ctx: NodeContext, config: unknown, defaultPort: number): Promise<Record<string, string>> {
  if (!Array.isArray(config) || config.length !== 2 || !Array.isArray(config[0]) || !Array.isArray(config[1])) {
    throw new RpcFail('node_verify: invalid node-net-test parameters');
  }
  const nodes = config[0] as NetNode[];
  const candidates = config[1] as string[];
  const result: Record<string, string> = {};
  if (!candidates.includes(ctx.hostname)) return result;
  const me = nodes.find((n) => Array.isArray(n) && n[0] === ctx.hostname);
  if (!me || !me[1]) {
    result[ctx.hostname] = "Can't find my own primary/secondary IP in the node list";
    return result;
  }
  const [, myPip, mySip] = me;
  await Promise.all(nodes.map(async ([name, pip, sip, port]) => {
    const p = typeof port === 'number' ? port : defaultPort;
    const fail: string[] = [];
    // As upstream: the secondary is only tried when the primary failed.
    if (!(await tcpPing(pip, p, myPip))) {
      fail.push('primary');
      if (sip !== pip && !(await tcpPing(sip, p, mySip))) fail.push('secondary');
    }
    if (fail.length) result[name] = `failure using the ${fail.join(' and ')} interface(s)`;
  }));
  return result;
}

/** NV_MASTERIP: [master name, master ip, master candidates, port?] → reachable, or null when not a candidate. */
async function masterIpTest(ctx: NodeContext, config: unknown, defaultPort: number): Promise<boolean | null> {
  if (!Array.isArray(config) || config.length < 3) throw new RpcFail('node_verify: invalid master-ip parameters');
  const [masterName, masterIp, candidates, port] = config as [string, string, string[], number?];
  if (!Array.isArray(candidates) || !candidates.includes(ctx.hostname)) return null;
  // The master reaches its own address from the loopback one, as upstream.
  return tcpPing(masterIp, typeof port === 'number' ? port : defaultPort, masterName === ctx.hostname ? '127.0.0.1' : null);
}

/** NV_NODESETUP: the host's /sys and /proc, with upstream's wording (they are host facts, not under the node's root). */
function nodeSetup(): string[] {
  const isDir = (p: string) => { try { return fs.statSync(p).isDirectory(); } catch { return false; } };
  const isFile = (p: string) => { try { return fs.statSync(p).isFile(); } catch { return false; } };
  const errors: string[] = [];
  if (!isDir('/sys/block') || !isDir('/sys/class/net')) {
    errors.push("The sysfs filesytem doesn't seem to be mounted under /sys, missing required directories /sys/block and /sys/class/net");
  }
  if (!isDir('/proc/sys') || !isFile('/proc/sysrq-trigger')) {
    errors.push("The procfs filesystem doesn't seem to be mounted under /proc, missing required directory /proc/sys and the file /proc/sysrq-trigger");
  }
  return errors;
}

/** node_verify: [checkdict, cluster_name, all_hvparams] → results per check. */
export async function nodeVerify(ctx: NodeContext, args: unknown[]): Promise<unknown> {
  const what = args[0];
  if (!isDict(what)) throw new RpcFail('node_verify expects a dictionary of checks');
  const result: Record<string, unknown> = {};
  if (NV.FILELIST in what) result[NV.FILELIST] = fingerprintFiles(ctx, what[NV.FILELIST]);
  if (NV.CONFIG_REPLICA in what) result[NV.CONFIG_REPLICA] = replicaState(ctx);
  const port = nodedPort();
  const [netTest, masterIp] = await Promise.all([
    NV.NODENETTEST in what ? nodeNetTest(ctx, what[NV.NODENETTEST], port) : undefined,
    NV.MASTERIP in what ? masterIpTest(ctx, what[NV.MASTERIP], port) : undefined,
  ]);
  if (netTest !== undefined) result[NV.NODENETTEST] = netTest;
  if (masterIp !== undefined) result[NV.MASTERIP] = masterIp;
  if (NV.VERSION in what) result[NV.VERSION] = [PROTOCOL_VERSION, RELEASE_VERSION];
  if (NV.HOSTNAME in what) result[NV.HOSTNAME] = ctx.hostname;
  if (NV.NODESETUP in what) result[NV.NODESETUP] = nodeSetup();
  // Last, as upstream: the master brackets the call with its own clock.
  if (NV.TIME in what) {
    const now = Date.now();
    result[NV.TIME] = [Math.floor(now / 1000), (now % 1000) * 1000];
  }
  return result;
}
