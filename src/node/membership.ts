// The node's membership in a cluster: joining with a one-time token, the config replica
// and the cluster key of a master candidate, demotion, leaving the cluster, and the
// operator commands (gnt-cluster command/copyfile) run through the RPC.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { PROTOCOL_VERSION } from '../core/constants.ts';
import { writeFileAtomic, writeFileAtomicSync } from '../util/fs.ts';
import { decodeBlob } from '../rpc/client.ts';
import { deriveNodeKey, encodeKey, loadKey } from '../rpc/auth.ts';
import { generateJoinToken, openJoinRequest, openKey, validJoinToken } from '../rpc/join.ts';
import { writeClusterTransport } from '../rpc/transport.ts';
import type { NodePaths } from '../util/paths.ts';
import { RpcFail, type Handler, type NodeContext } from './context.ts';
import { applyConfigUpdate, dropReplica, replaceConfig } from './config-replica.ts';
import { removeClusterFiles } from '../util/cluster-files.ts';
import { copyFile, runCommand } from './commands.ts';

/** This node's join token, created when the node has no key yet (0600). Null once joined. */
export function ensureJoinToken(paths: NodePaths): string | null {
  if (fs.existsSync(paths.nodeKey)) return null;
  try {
    const token = fs.readFileSync(paths.joinToken, 'utf8').trim();
    if (validJoinToken(token)) return token;
  } catch { /* none yet */ }
  fs.mkdirSync(paths.dataDir, { recursive: true, mode: 0o755 });
  const token = generateJoinToken();
  writeFileAtomicSync(paths.joinToken, `${token}\n`, { mode: 0o600 });
  return token;
}

/**
 * POST /node_join: the master, knowing this node's token, gives it its node key. Answers
 * [status, body] for the HTTP layer; the token is consumed by a successful join.
 */
export function handleJoin(ctx: NodeContext, headers: Record<string, string | string[] | undefined>, body: Uint8Array): [number, unknown] {
  if (fs.existsSync(ctx.paths.nodeKey)) return [409, `Node ${ctx.hostname} is already part of a cluster; remove it there first (gnt-node remove), or re-add it with gnt-node add --readd`];
  let token: string;
  try {
    token = fs.readFileSync(ctx.paths.joinToken, 'utf8').trim();
  } catch {
    return [401, 'Unauthorized: this node has no join token (restart ganeti-noded to create one)'];
  }
  const opened = openJoinRequest(token, ctx.hostname, headers, body);
  if (!opened.ok) {
    ctx.log.warn({ reason: opened.reason }, 'refused join request');
    return [401, `Unauthorized: ${opened.reason}`];
  }
  // The certificate (or the --no-ssl marker) before the key: the key says "joined".
  writeClusterTransport(ctx.paths, opened.serverPem);
  writeFileAtomicSync(ctx.paths.nodeKey, encodeKey(opened.nodeKey), { mode: 0o600 });
  fs.rmSync(ctx.paths.joinToken, { force: true });
  ctx.log.info({ cluster: opened.request.cluster, rpc: opened.serverPem === null ? 'plain HTTP (--no-ssl cluster)' : 'TLS' }, 'joined cluster');
  return [200, [true, { node: ctx.hostname, protocol_version: PROTOCOL_VERSION }]];
}

/** Files the master may upload whole (upstream's upload_file whitelist, as far as it applies). */
function uploadable(ctx: NodeContext, virtualPath: unknown): { kind: 'config' | 'rapi'; local: string } | null {
  if (typeof virtualPath !== 'string') return null;
  const local = path.join(ctx.paths.root, path.normalize(virtualPath));
  if (local === ctx.paths.configFile) return { kind: 'config', local };
  // The remote API's certificate and users, so that RAPI can run here after a failover.
  if (local === ctx.paths.rapiCert || local === ctx.paths.rapiUsers) return { kind: 'rapi', local };
  return null;
}

export const MEMBERSHIP = {
  config_update: (ctx, args) => applyConfigUpdate(ctx, args),

  upload_file_single: async (ctx, args) => {
    const [fileName, blob] = args;
    const file = uploadable(ctx, fileName);
    if (!file) throw new RpcFail(`File '${String(fileName)}' is not allowed to be uploaded`);
    if (file.kind === 'config') {
      await replaceConfig(ctx, decodeBlob(blob));
    } else {
      // Secrets (a private key, passwords): 0600 whatever mode was asked.
      fs.mkdirSync(path.dirname(file.local), { recursive: true, mode: 0o750 });
      await writeFileAtomic(file.local, decodeBlob(blob), { mode: 0o600 });
    }
    return null;
  },

  set_cluster_key: async (ctx, args) => {
    let nodeKey: Uint8Array;
    try {
      nodeKey = loadKey(ctx.paths.nodeKey, 'node key');
    } catch (err) {
      throw new RpcFail(`Cannot read this node's key: ${(err as Error).message}`);
    }
    const secret = openKey(args[0], nodeKey);
    // The secret must derive this node's own key: proof that it is this cluster's.
    if (!secret || !crypto.timingSafeEqual(Buffer.from(deriveNodeKey(secret, ctx.hostname)), Buffer.from(nodeKey))) {
      throw new RpcFail('The cluster key sent does not belong to this node\'s cluster');
    }
    await writeFileAtomic(ctx.paths.clusterKey, encodeKey(secret), { mode: 0o600 });
    return null;
  },

  node_demote_from_mc: async (ctx) => {
    await dropReplica(ctx);
    fs.rmSync(ctx.paths.clusterKey, { force: true });
    return null;
  },

  node_leave_cluster: async (ctx) => {
    await dropReplica(ctx);
    removeClusterFiles(ctx.paths);
    ensureJoinToken(ctx.paths);
    ctx.log.info('left the cluster; a new join token was created');
    return 'Left the cluster';
  },

  run_command: runCommand,
  copy_file: copyFile,
} satisfies Record<string, Handler>;
