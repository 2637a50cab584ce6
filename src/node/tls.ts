// The certificate noded serves. By default the cluster certificate, server.pem (key and
// certificate in one file, as upstream); -K/-C name other files. A node in no cluster
// has no server.pem yet: it serves a certificate of its own, made in memory at start,
// which the master does not check for the join call only (that call is authenticated by
// the one-time token's HMAC and its secrets are sealed, see src/rpc/join.ts). The files
// are watched, so the cluster certificate is served as soon as the node joins (or
// `gnt-cluster init` writes it under a running noded), and the node's own again once
// it leaves the cluster.
import fs from 'node:fs';
import type tls from 'node:tls';
import type { Logger } from '../util/log.ts';
import type { NodePaths } from '../util/paths.ts';
import { certificateBlock, generateSelfSignedCertificate } from '../util/x509.ts';
import { fingerprint } from '../rpc/transport.ts';

const WATCH_INTERVAL_MS = 2000;

export interface ExplicitCertificate {
  keyFile: string;
  certFile: string;
}

/** Something whose secure context can be replaced (https.Server and tls.Server). */
interface SecureServer {
  setSecureContext(options: tls.SecureContextOptions): void;
}

function fileStamp(file: string): string {
  try {
    const st = fs.statSync(file);
    return `${st.ino}:${st.size}:${st.mtimeMs}`;
  } catch {
    return 'missing';
  }
}

export class ServingCertificate {
  private readonly paths: NodePaths;
  private readonly explicit: ExplicitCertificate | null;
  private readonly log: Logger;
  private own: { key: string; cert: string } | null = null;
  private stamp = '';
  private server: SecureServer | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** What is served now, for the log: "cluster", "own" or the explicit files. */
  private serving = '';

  constructor(paths: NodePaths, explicit: ExplicitCertificate | null, log: Logger) {
    this.paths = paths;
    this.explicit = explicit;
    this.log = log;
  }

  private files(): string[] {
    return this.explicit ? [this.explicit.keyFile, this.explicit.certFile] : [this.paths.serverCert];
  }

  /** Key and certificate to serve now. Explicit files must exist (checked at start). */
  options(): { key: string; cert: string } {
    const stamp = this.files().map(fileStamp).join('|');
    const opts = this.load();
    this.stamp = stamp; // only once loaded: a file that failed is tried again
    return opts;
  }

  private load(): { key: string; cert: string } {
    if (this.explicit) {
      const opts = { key: fs.readFileSync(this.explicit.keyFile, 'utf8'), cert: fs.readFileSync(this.explicit.certFile, 'utf8') };
      this.note(`${this.explicit.certFile}`, opts.cert);
      return opts;
    }
    try {
      const pem = fs.readFileSync(this.paths.serverCert, 'utf8');
      this.note('cluster', pem);
      return { key: pem, cert: pem };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (!this.own) {
      const { keyPem, certPem } = generateSelfSignedCertificate();
      this.own = { key: keyPem, cert: certPem };
    }
    this.note('own', this.own.cert);
    return this.own;
  }

  private note(what: string, certText: string): void {
    if (what === this.serving) return;
    this.serving = what;
    const cert = certificateBlock(certText);
    const fp = cert ? fingerprint(cert) : 'none';
    if (what === 'own') {
      this.log.info({ fingerprint: fp }, `no cluster certificate (${this.paths.serverCert}): serving a certificate of this node's own until it joins a cluster`);
    } else if (what === 'cluster') {
      this.log.info({ fingerprint: fp, file: this.paths.serverCert }, 'serving the cluster certificate');
    } else {
      this.log.info({ fingerprint: fp, file: what }, 'serving the certificate given with -K/-C');
    }
  }

  /** Serve the files' current content on `server` from now on, and follow their changes. */
  watch(server: SecureServer): void {
    this.server = server;
    this.timer = setInterval(() => this.check(), WATCH_INTERVAL_MS);
    this.timer.unref();
  }

  /** Reload now if a file changed (called after a join, and periodically). */
  check(): void {
    if (!this.server || this.files().map(fileStamp).join('|') === this.stamp) return;
    try {
      this.server.setSecureContext(this.options());
    } catch (err) {
      // A half-written or broken file: keep serving what worked, say why.
      this.log.error({ err: (err as Error).message }, 'cannot load the new certificate; still serving the previous one');
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
