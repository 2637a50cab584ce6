// A raw HTTPS client for the RAPI tests: status line, headers in the order sent, body.
// TLS is not verified (the cluster's self-signed rapi.pem), as the official client does.
import https from 'node:https';
import tls from 'node:tls';

export interface RawResponse {
  status: number;
  statusLine: string;
  headers: Array<[string, string]>;
  body: string;
  /** The certificate's SHA-256 fingerprint. */
  fingerprint: string;
}

export interface RequestOptions {
  method?: string;
  user?: string;
  password?: string;
  body?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

export function rapiRequest(host: string, port: number, path: string, opts: RequestOptions = {}): Promise<RawResponse> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.user !== undefined) headers.Authorization = `Basic ${Buffer.from(`${opts.user}:${opts.password ?? ''}`).toString('base64')}`;
  if (opts.body !== undefined) {
    headers['Content-Type'] = opts.contentType ?? 'application/json';
    headers['Content-Length'] = String(Buffer.byteLength(opts.body));
  }
  return new Promise((resolve, reject) => {
    const req = https.request({ host, port, path, method: opts.method ?? 'GET', headers, rejectUnauthorized: false, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const raw = res.rawHeaders;
        const pairs: Array<[string, string]> = [];
        for (let i = 0; i < raw.length; i += 2) pairs.push([raw[i], raw[i + 1]]);
        const cert = (res.socket as tls.TLSSocket).getPeerCertificate?.();
        resolve({
          status: res.statusCode ?? 0,
          statusLine: `HTTP/${res.httpVersion} ${res.statusCode} ${res.statusMessage}`,
          headers: pairs,
          body: Buffer.concat(chunks).toString('utf8'),
          fingerprint: cert?.fingerprint256 ?? '',
        });
      });
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** A TLS connection to RAPI that sends what the test says, when it says. */
export function rawConnection(host: string, port: number): Promise<{ sock: tls.TLSSocket; response: Promise<string> }> {
  return new Promise((resolve, reject) => {
    const sock = tls.connect({ host, port, rejectUnauthorized: false }, () => {
      const response = new Promise<string>((res) => {
        let text = '';
        sock.on('data', (d: Buffer) => { text += d.toString('utf8'); });
        sock.on('close', () => res(text));
        sock.on('error', () => undefined);
      });
      resolve({ sock, response });
    });
    sock.once('error', reject);
  });
}
