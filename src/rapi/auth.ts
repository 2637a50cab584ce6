// Who may do what (upstream's http.auth + RemoteApiHandler.Authenticate): a request is
// authenticated when the daemon requires it for everything, when its resource needs a
// right (writes need `write`; a few reads need `read` or `write`), or when the client sent
// credentials anyway. Only HTTP Basic is understood. Unknown user or wrong password: 401
// with the realm; a known user without the right: 403.
import { badRequest, forbidden, unauthorized } from './errors.ts';
import { verifyPassword, type RapiUser } from './users.ts';

export interface AuthDecision {
  /** The authenticated user, or null for an anonymous request that needed none. */
  user: string | null;
}

/**
 * Check a request's Authorization header against the users for a handler needing `access`
 * (empty: no right needed). Throws the HTTP error to answer with.
 */
export function authorize(opts: {
  header: string | undefined;
  access: readonly string[];
  requireAuthentication: boolean;
  lookup: (name: string) => RapiUser | undefined;
}): AuthDecision {
  const { header, access } = opts;
  if (!opts.requireAuthentication && access.length === 0 && header === undefined) return { user: null };
  const credentials = basicCredentials(header);
  if (!credentials) throw unauthorized();
  const user = opts.lookup(credentials.user);
  if (!user || !verifyPassword(credentials.user, credentials.password, user.password)) throw unauthorized();
  if (access.length > 0 && !user.options.some((o) => access.includes(o))) throw forbidden();
  return { user: user.name };
}

/** user and password of a Basic Authorization header; null for anything else. */
export function basicCredentials(header: string | undefined): { user: string; password: string } | null {
  if (!header) return null;
  const parts = header.trim().split(/\s+/);
  if (parts[0] === '' || parts[0].toLowerCase() !== 'basic') return null;
  if (parts.length < 2) throw badRequest('Basic authentication requires credentials');
  // Strict base64, as Python's b64decode: anything else is a bad credential, not a guess.
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(parts[1]) || parts[1].length % 4 !== 0) return null;
  const decoded = Buffer.from(parts[1], 'base64');
  if (decoded.some((b) => b > 0x7f)) return null; // upstream decodes as ASCII
  const text = decoded.toString('ascii');
  const colon = text.indexOf(':');
  if (colon < 0) return null;
  return { user: text.slice(0, colon), password: text.slice(colon + 1) };
}
