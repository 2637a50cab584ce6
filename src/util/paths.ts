// Every path the program touches hangs off the node's root directory, as in upstream
// Ganeti's virtual-cluster mode: GANETI_ROOTDIR (absolute; its last component is the
// node's name) together with GANETI_HOSTNAME (the node's name). Both or neither.
import os from 'node:os';
import path from 'node:path';
import { ECODE, OpPrereqError } from '../core/errors.ts';

export interface NodeEnv {
  /** "/" for a real node, the virtual node's directory otherwise. */
  root: string;
  /** This node's name. */
  hostname: string;
  virtual: boolean;
}

let cached: NodeEnv | undefined;

export function nodeEnv(env: NodeJS.ProcessEnv = process.env): NodeEnv {
  if (env === process.env && cached) return cached;
  const root = env.GANETI_ROOTDIR;
  const host = env.GANETI_HOSTNAME;
  let result: NodeEnv;
  if (root === undefined && host === undefined) {
    result = { root: '/', hostname: os.hostname(), virtual: false };
  } else if (!root || !host) {
    throw new OpPrereqError('GANETI_ROOTDIR and GANETI_HOSTNAME must be set together (virtual cluster mode)', ECODE.ENVIRON);
  } else if (!path.isAbsolute(root)) {
    throw new OpPrereqError(`GANETI_ROOTDIR must be an absolute path, not '${root}'`, ECODE.ENVIRON);
  } else {
    const normalized = path.resolve(root);
    if (path.basename(normalized) !== host) {
      throw new OpPrereqError(
        `The last component of GANETI_ROOTDIR ('${normalized}') must be the node name GANETI_HOSTNAME ('${host}')`, ECODE.ENVIRON);
    }
    result = { root: normalized, hostname: host, virtual: true };
  }
  if (env === process.env) cached = result;
  return result;
}

/** The fixed layout below a node's root. */
export function nodePaths(root: string = nodeEnv().root) {
  const r = (p: string) => path.join(root, p);
  const dataDir = r('var/lib/ganeti');
  const runDir = r('var/run/ganeti');
  const queueDir = path.join(dataDir, 'queue');
  return {
    root,
    dataDir,
    runDir,
    logDir: r('var/log/ganeti'),
    confDir: r('etc/ganeti'),
    srvDir: r('srv/ganeti'),
    socketDir: path.join(runDir, 'socket'),
    masterSocket: path.join(runDir, 'socket', 'ganeti-master'),
    querySocket: path.join(runDir, 'socket', 'ganeti-query'),
    configFile: path.join(dataDir, 'config.data'),
    /** Changes newer than config.data (src/core/config-journal.ts). */
    configJournal: path.join(dataDir, 'config.journal'),
    /** The cluster secret (0600): only the master and its candidates hold it. */
    clusterKey: path.join(dataDir, 'cluster-key'),
    /** This node's own RPC key (0600), derived from the cluster secret and its name. */
    nodeKey: path.join(dataDir, 'node-key'),
    /** A node in no cluster: the one-time token that lets a master join it (0600). */
    joinToken: path.join(dataDir, 'join-token'),
    /** The cluster certificate and its key (0600, upstream's NODED_CERT_FILE): every noded serves it, the master pins it. */
    serverCert: path.join(dataDir, 'server.pem'),
    /** The remote API's key and certificate (0600, upstream's RAPI_CERT_FILE): made at init, shipped to the master candidates. */
    rapiCert: path.join(dataDir, 'rapi.pem'),
    /** The remote API's users and their rights (0600, upstream's RAPI_USERS_FILE). */
    rapiUsers: path.join(dataDir, 'rapi', 'users'),
    /** Present in a cluster made with `gnt-cluster init --no-ssl`: its node RPC is plain HTTP. */
    rpcNoSsl: path.join(dataDir, 'rpc-no-ssl'),
    queueDir,
    queueSerial: path.join(queueDir, 'serial'),
    queueVersion: path.join(queueDir, 'version'),
    queueLock: path.join(queueDir, 'lock'),
    queueDrain: path.join(queueDir, 'drain'),
    queueArchive: path.join(queueDir, 'archive'),
    watcherPause: path.join(dataDir, 'watcher.pause'),
    fileStorageDir: r('srv/ganeti/file-storage'),
    sharedFileStorageDir: r('srv/ganeti/shared-file-storage'),
    pidFile: (daemon: string) => path.join(runDir, `${daemon}.pid`),
    logFile: (daemon: string) => path.join(root, 'var/log/ganeti', `${daemon}.log`),
    ssconfFile: (key: string) => path.join(dataDir, `ssconf_${key}`),
    /** noded's listening address and port, written at start so local tools can find it. */
    nodedAddressFile: path.join(runDir, 'noded.address'),
    /** The mlockall addon, written out of the executable at noded's start (process.dlopen needs a file). */
    mlockAddon: path.join(runDir, 'ganeti-mlock.node'),
  };
}
export type NodePaths = ReturnType<typeof nodePaths>;
