// What makes a node part of a cluster, on disk: removed whole by gnt-cluster destroy and
// by a node leaving the cluster (gnt-node remove).
import fs from 'node:fs';
import path from 'node:path';
import type { NodePaths } from './paths.ts';

/**
 * Remove the configuration and its journal, the keys, the cluster and RAPI certificates (or the
 * --no-ssl marker), the ssconf files and the job queue. A journal left behind would be
 * replayed onto the next cluster's config.data.
 */
export function removeClusterFiles(paths: NodePaths): void {
  for (const f of [paths.configFile, paths.configJournal, paths.clusterKey, paths.nodeKey, paths.serverCert, paths.rapiCert, paths.rpcNoSsl]) fs.rmSync(f, { force: true });
  for (const name of fs.existsSync(paths.dataDir) ? fs.readdirSync(paths.dataDir) : []) {
    if (name.startsWith('ssconf_')) fs.rmSync(path.join(paths.dataDir, name), { force: true });
  }
  fs.rmSync(paths.queueDir, { recursive: true, force: true });
}
