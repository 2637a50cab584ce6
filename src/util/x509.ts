// Self-signed X.509 certificates for the node RPC's TLS, made in-process: the single
// executable cannot count on an openssl command. Node's crypto makes the key pair, signs
// and parses certificates (X509Certificate), but does not build one; the few DER
// structures a self-signed certificate needs are encoded here (ITU-T X.690, RFC 5280).
// That is about a hundred lines against a general ASN.1/PKI library in the bundle.
//
// Keys are ECDSA P-256, signatures ecdsa-with-SHA256: key generation takes well under a
// millisecond (an RSA-2048 key takes 50-300 ms on a small machine, and a node that is in
// no cluster makes one at every start), and the TLS handshake is cheaper too.
import crypto from 'node:crypto';

/** Upstream's defaults (constants.X509_CERT_CN, X509_CERT_DEFAULT_VALIDITY). */
export const X509_CERT_CN = 'ganeti.example.com';
export const X509_CERT_DEFAULT_VALIDITY_DAYS = 365 * 5;

const OID_ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';
const OID_COMMON_NAME = '2.5.4.3';
const OID_BASIC_CONSTRAINTS = '2.5.29.19';
const OID_SUBJECT_KEY_IDENTIFIER = '2.5.29.14';

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
}

const sequence = (...items: Buffer[]) => tlv(0x30, ...items);
const set = (...items: Buffer[]) => tlv(0x31, ...items);
const explicit = (n: number, item: Buffer) => tlv(0xa0 + n, item);
const octetString = (data: Buffer) => tlv(0x04, data);
const utf8String = (s: string) => tlv(0x0c, Buffer.from(s, 'utf8'));
const bitString = (data: Buffer) => tlv(0x03, Buffer.from([0]), data);
const boolean = (v: boolean) => tlv(0x01, Buffer.from([v ? 0xff : 0]));

/** A non-negative INTEGER from its big-endian magnitude (minimal, with a leading 0 when the top bit is set). */
function integer(magnitude: Buffer): Buffer {
  let i = 0;
  while (i < magnitude.length - 1 && magnitude[i] === 0) i++;
  const m = magnitude.subarray(i);
  return tlv(0x02, m[0] & 0x80 ? Buffer.concat([Buffer.from([0]), m]) : m);
}

function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const bytes: number[] = [40 * arcs[0] + arcs[1]];
  for (const arc of arcs.slice(2)) {
    const chunk: number[] = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift(0x80 | (v & 0x7f));
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}

/** UTCTime up to 2049, GeneralizedTime from 2050 on (RFC 5280 §4.1.2.5), whole seconds. */
function time(d: Date): Buffer {
  const iso = d.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  return d.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(digits.slice(2), 'ascii')) : tlv(0x18, Buffer.from(digits, 'ascii'));
}

function pem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

export interface GeneratedCertificate {
  /** PEM "PRIVATE KEY" (PKCS#8). */
  keyPem: string;
  /** PEM "CERTIFICATE". */
  certPem: string;
}

/**
 * A new key pair and a self-signed certificate for it. It is marked as a CA
 * (basicConstraints) because the RPC client uses it as its only trust anchor.
 */
export function generateSelfSignedCertificate(opts: { commonName?: string; validityDays?: number; now?: Date } = {}): GeneratedCertificate {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const now = opts.now ?? new Date();
  // A little back-dating keeps a node whose clock is slightly behind from refusing it.
  const notBefore = new Date(Math.floor(now.getTime() / 1000) * 1000 - 60_000);
  const notAfter = new Date(notBefore.getTime() + (opts.validityDays ?? X509_CERT_DEFAULT_VALIDITY_DAYS) * 86_400_000);
  const serial = crypto.randomBytes(16);
  serial[0] = (serial[0] & 0x7f) | 0x01;
  const name = sequence(set(sequence(oid(OID_COMMON_NAME), utf8String(opts.commonName ?? X509_CERT_CN))));
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const keyId = crypto.createHash('sha1').update(spki).digest();
  const algorithm = sequence(oid(OID_ECDSA_WITH_SHA256));
  const extensions = sequence(
    sequence(oid(OID_BASIC_CONSTRAINTS), boolean(true), octetString(sequence(boolean(true)))),
    sequence(oid(OID_SUBJECT_KEY_IDENTIFIER), octetString(octetString(keyId))),
  );
  const tbs = sequence(
    explicit(0, integer(Buffer.from([2]))), // v3
    integer(serial),
    algorithm,
    name,
    sequence(time(notBefore), time(notAfter)),
    name,
    spki,
    explicit(3, extensions),
  );
  const signature = crypto.sign('sha256', tbs, privateKey);
  const cert = sequence(tbs, algorithm, bitString(signature));
  return { keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, certPem: pem('CERTIFICATE', cert) };
}

/** The first certificate in a PEM text (server.pem holds the key and the certificate). */
export function certificateBlock(text: string): string | null {
  const m = /-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE-----/.exec(text);
  return m ? `${m[0]}\n` : null;
}
