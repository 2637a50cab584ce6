// The remote API's certificate, var/lib/ganeti/rapi.pem (key then certificate, 0600, as
// upstream's): self-signed, made in-process at `gnt-cluster init` with the same generator
// as the cluster's server.pem (src/util/x509.ts), and shipped to the master candidates
// with the configuration so that RAPI serves the same certificate after a master
// failover (clients that pinned it keep working).
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomicSync } from '../util/fs.ts';
import type { NodePaths } from '../util/paths.ts';
import { generateSelfSignedCertificate } from '../util/x509.ts';

/** A new rapi.pem text: the private key, then the certificate. */
export function newRapiCertificate(): string {
  const { keyPem, certPem } = generateSelfSignedCertificate();
  return keyPem + certPem;
}

/** Write a new rapi.pem (0600), replacing any. */
export function writeRapiCertificate(paths: NodePaths): void {
  fs.mkdirSync(path.dirname(paths.rapiCert), { recursive: true, mode: 0o755 });
  writeFileAtomicSync(paths.rapiCert, newRapiCertificate(), { mode: 0o600 });
}

/** Make rapi.pem when it is missing (a cluster made before RAPI existed); true when it was made. */
export function ensureRapiCertificate(paths: NodePaths): boolean {
  if (fs.existsSync(paths.rapiCert)) return false;
  writeRapiCertificate(paths);
  return true;
}
