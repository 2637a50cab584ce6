// IP address and network syntax as Python's ipaddress module accepts it (the opcode
// parameter types TIPv4Address, TIPv4Network, TIPv6Address, TIPv6Network).
const OCTET = '(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV4_RE = new RegExp(`^${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}$`);

/** A dotted-quad IPv4 address as Python's ipaddress.IPv4Address accepts it (no leading zeros). */
export function isIPv4Address(s: unknown): s is string {
  return typeof s === 'string' && IPV4_RE.test(s);
}

/** "a.b.c.d" or "a.b.c.d/n" (n 0–32), as ipaddress.IPv4Network parses it (host bits are checked later). */
export function isIPv4Network(s: unknown): s is string {
  if (typeof s !== 'string') return false;
  const [addr, prefix, ...rest] = s.split('/');
  if (rest.length > 0 || !isIPv4Address(addr)) return false;
  return prefix === undefined || (/^\d{1,2}$/.test(prefix) && Number(prefix) <= 32);
}

/** An IPv6 address (ipaddress.IPv6Address), without a zone. */
export function isIPv6Address(s: unknown): s is string {
  if (typeof s !== 'string' || s.includes('%') || !s.includes(':')) return false;
  try {
    return new URL(`http://[${s}]/`).hostname.length > 2;
  } catch {
    return false;
  }
}

/** An IPv6 network "addr" or "addr/n" (n 0–128). */
export function isIPv6Network(s: unknown): s is string {
  if (typeof s !== 'string') return false;
  const [addr, prefix, ...rest] = s.split('/');
  if (rest.length > 0 || !isIPv6Address(addr)) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= 128);
}

