// How the node RPC travels: TLS with the cluster certificate (the default), or plain
// HTTP in a cluster made with `gnt-cluster init --no-ssl`. Modelled on upstream: one
// self-signed cluster certificate, var/lib/ganeti/server.pem (key and certificate, 0600),
// that every noded serves and that the master trusts, alone, as its CA; no host name is
// checked (the nodes are addressed by IP) but the certificate must be that very one.
// TLS is encryption and the node's identity; the request's HMAC (./auth.ts) still says
// who may call, so a node never trusts a caller for having a TLS connection.
//
// Why the choice is cluster-wide and explicit (the rpc-no-ssl file, written by init and
// by joining, present on every node of such a cluster): a per-node switch would let one
// wrong setting send the RPC to a node in clear without anyone noticing; and a lost
// server.pem must be an error ("cannot read the cluster certificate"), never a silent
// fall-back to plain HTTP.
import fs from 'node:fs';
import crypto from 'node:crypto';
import { writeFileAtomicSync } from '../util/fs.ts';
import type { NodePaths } from '../util/paths.ts';
import { certificateBlock, generateSelfSignedCertificate } from '../util/x509.ts';

export type RpcTransport =
  | { kind: 'tls'; certPem: string; fingerprint: string }
  | { kind: 'plain' };

/** A certificate's SHA-256 fingerprint in OpenSSL's notation (AB:CD:…). */
export function fingerprint(certPem: string): string {
  return new crypto.X509Certificate(certPem).fingerprint256;
}

/** How this node talks to the nodes of its cluster (master, candidates, the operator's tools). */
export function clusterTransport(paths: NodePaths): RpcTransport {
  if (fs.existsSync(paths.rpcNoSsl)) return { kind: 'plain' };
  let text: string;
  try {
    text = fs.readFileSync(paths.serverCert, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'not found' : e.code === 'EACCES' ? 'permission denied (run this as root)' : e.message;
    throw new Error(`Cannot read the cluster certificate ${paths.serverCert}: ${why}`, { cause: err });
  }
  const certPem = certificateBlock(text);
  if (!certPem) throw new Error(`The cluster certificate file ${paths.serverCert} holds no certificate`);
  try {
    return { kind: 'tls', certPem, fingerprint: fingerprint(certPem) };
  } catch (err) {
    throw new Error(`The cluster certificate ${paths.serverCert} is not valid: ${(err as Error).message}`, { cause: err });
  }
}

/** A new cluster certificate: server.pem's text, the key first, as upstream's file. */
export function newClusterCertificate(): string {
  const { keyPem, certPem } = generateSelfSignedCertificate();
  return keyPem + certPem;
}

/**
 * Write this node's share of the cluster's transport: server.pem (0600) for a TLS
 * cluster, the rpc-no-ssl marker for a plain one (and never both).
 */
export function writeClusterTransport(paths: NodePaths, serverPem: string | null): void {
  fs.mkdirSync(paths.dataDir, { recursive: true, mode: 0o755 });
  if (serverPem === null) {
    writeFileAtomicSync(paths.rpcNoSsl, 'This cluster\'s node RPC is plain HTTP (gnt-cluster init --no-ssl).\n', { mode: 0o644 });
    fs.rmSync(paths.serverCert, { force: true });
  } else {
    writeFileAtomicSync(paths.serverCert, serverPem, { mode: 0o600 });
    fs.rmSync(paths.rpcNoSsl, { force: true });
  }
}

/** TLS errors of a peer whose certificate is not the one the client trusts. */
const FOREIGN_CERTIFICATE = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_SIGNATURE_FAILURE', 'CERT_UNTRUSTED',
  'CERT_REJECTED', 'INVALID_CA', 'ERR_GANETI_FOREIGN_CERTIFICATE',
]);
const EXPIRED = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);

/**
 * The message of a failed connection, saying what a TLS failure means for the cluster;
 * null when the error is not about the transport.
 */
export function transportErrorMessage(transport: RpcTransport, err: NodeJS.ErrnoException, node: string): string | null {
  const code = err.code ?? '';
  if (transport.kind === 'tls') {
    if (FOREIGN_CERTIFICATE.has(code)) {
      return `Node ${node} presented a certificate that is not this cluster's (${err.message}); refusing to talk to it`;
    }
    if (EXPIRED.has(code)) return `Node ${node} presented the cluster certificate, but it is not valid now (${err.message})`;
    if (/wrong version number|packet length too long|unknown protocol/i.test(err.message)) {
      return `Node ${node} does not answer with TLS (is its ganeti-noded running with --no-ssl? this cluster's node RPC uses TLS)`;
    }
    if (/disconnected before secure TLS connection/.test(err.message)) {
      return `Node ${node} closed the connection during the TLS handshake (is its ganeti-noded running with --no-ssl? this cluster's node RPC uses TLS)`;
    }
  } else if (code === 'ECONNRESET' || code === 'HPE_INVALID_CONSTANT') {
    return `${err.message} (if the ganeti-noded of ${node} serves TLS: this cluster's node RPC is plain HTTP, gnt-cluster init --no-ssl)`;
  }
  return null;
}

/** checkServerIdentity for the cluster's TLS: no host name, but exactly the cluster certificate. */
export function pinnedIdentity(expected: string): (host: string, cert: { fingerprint256?: string }) => Error | undefined {
  return (_host, cert) => {
    if (cert.fingerprint256 === expected) return undefined;
    const err = new Error(`certificate fingerprint ${String(cert.fingerprint256)}, the cluster's is ${expected}`) as NodeJS.ErrnoException;
    err.code = 'ERR_GANETI_FOREIGN_CERTIFICATE';
    return err;
  };
}
