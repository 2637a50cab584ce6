// Whether an X509 certificate has expired (upstream's tools/check-cert-expired, which
// the cleaner runs on each import/export certificate). Anything that cannot be read or
// parsed counts as not expired: the cleaner must never delete what it does not understand.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { formatTimestamp } from '../cli/format/time.ts';

export interface CertCheck {
  expired: boolean;
  /** What check-cert-expired prints on stderr, if anything. */
  message: string | null;
}

export function checkCertExpired(file: string, nowMs = Date.now()): CertCheck {
  let pem: Buffer;
  try {
    pem = fs.readFileSync(file);
  } catch (err) {
    return { expired: false, message: `Unable to read ${file}: ${(err as Error).message}` };
  }
  let cert: crypto.X509Certificate;
  try {
    cert = new crypto.X509Certificate(pem);
  } catch (err) {
    return { expired: false, message: `Unable to check ${file}: ${(err as Error).message}` };
  }
  const from = cert.validFromDate.getTime();
  const to = cert.validToDate.getTime();
  if (nowMs > to) {
    return { expired: true, message: `${file}: Certificate is expired (valid from ${formatTimestamp(from / 1000)} to ${formatTimestamp(to / 1000)})` };
  }
  if (nowMs < from) return { expired: false, message: `${file}: Certificate not yet valid (valid from ${formatTimestamp(from / 1000)})` };
  return { expired: false, message: null };
}
