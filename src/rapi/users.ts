// The RAPI users file (var/lib/ganeti/rapi/users), upstream's format:
//
//   <username> <password> [<option>[,<option>...]]
//
// fields separated by whitespace, `#` comments and blank lines ignored, lines with fewer
// than two fields skipped. A password is plain text (not starting with `{`),
// `{cleartext}<password>`, or `{HA1}<hex>` with hex = MD5("<user>:Ganeti Remote API:<password>")
// (scheme names and the hex are case-insensitive). Options: `write` (may change the
// cluster) and `read` (may use the resources that need an authenticated reader).
import crypto from 'node:crypto';
import fs from 'node:fs';
import { AUTH_REALM } from './errors.ts';

export const RAPI_ACCESS_WRITE = 'write';
export const RAPI_ACCESS_READ = 'read';

export interface RapiUser {
  name: string;
  /** As written in the file, scheme prefix included. */
  password: string;
  options: string[];
}

export interface ParsedUsers {
  users: Map<string, RapiUser>;
  /** Line numbers (1-based) skipped for having fewer than two fields. */
  skipped: number[];
}

/** Parse a users file's text. A later line for the same user replaces an earlier one, as upstream. */
export function parseUsersFile(text: string): ParsedUsers {
  const users = new Map<string, RapiUser>();
  const skipped: number[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = /^(\S+)\s+(\S+)(?:\s+(.*))?$/.exec(line);
    if (!m) {
      skipped.push(index + 1);
      return;
    }
    const options = m[3] === undefined ? [] : m[3].split(',').map((o) => o.trim());
    users.set(m[1], { name: m[1], password: m[2], options });
  });
  return { users, skipped };
}

/** Compare two strings in time that does not depend on where they differ. */
function sameText(a: string, b: string): boolean {
  const ha = crypto.createHash('sha256').update(a, 'utf8').digest();
  const hb = crypto.createHash('sha256').update(b, 'utf8').digest();
  return crypto.timingSafeEqual(ha, hb);
}

/** MD5 of "user:realm:password" in hex: RFC 2617's H(A1), what `{HA1}` passwords hold. */
export function ha1(user: string, password: string, realm = AUTH_REALM): string {
  return crypto.createHash('md5').update(`${user}:${realm}:${password}`, 'utf8').digest('hex');
}

/**
 * Whether `password` (from the request) matches the stored one (upstream's
 * VerifyBasicAuthPassword). An unknown scheme or an empty one never matches.
 */
export function verifyPassword(user: string, password: string, stored: string): boolean {
  const expected = stored.startsWith('{') ? stored : `{CLEARTEXT}${stored}`;
  const end = expected.indexOf('}', 1);
  if (end <= 1) return false;
  const scheme = expected.slice(0, end + 1).toUpperCase();
  const value = expected.slice(end + 1);
  if (scheme === '{CLEARTEXT}') return sameText(password, value);
  if (scheme === '{HA1}') return sameText(ha1(user, password), value.toLowerCase());
  return false;
}

export interface UsersLog {
  info(msg: string): void;
  warn(msg: string): void;
}

/**
 * The users file as the daemon holds it: read at start, again whenever it changes (polled,
 * so an editor's atomic rename or a file created later is seen too) and on reload(). A file
 * that cannot be read means no users (every request that needs one is refused); one that is
 * unsafe (readable by others) is still used, with a warning, as upstream does.
 */
export class UsersFile {
  private users = new Map<string, RapiUser>();
  private readonly file: string;
  private readonly log: UsersLog;
  private watching = false;

  constructor(file: string, log: UsersLog) {
    this.file = file;
    this.log = log;
  }

  get(name: string): RapiUser | undefined {
    return this.users.get(name);
  }

  get size(): number {
    return this.users.size;
  }

  reload(): void {
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (err) {
      this.users = new Map();
      const e = err as NodeJS.ErrnoException;
      this.log.warn(e.code === 'ENOENT' ? `No users file at ${this.file}` : `Error while reading ${this.file}: ${e.message}`);
      return;
    }
    try {
      const mode = fs.statSync(this.file).mode & 0o777;
      if (mode & 0o077) this.log.warn(`The users file ${this.file} is accessible to other users (mode ${mode.toString(8)}); it should be 0600`);
    } catch { /* gone since it was read: the next change reloads */ }
    const parsed = parseUsersFile(text);
    for (const line of parsed.skipped) this.log.warn(`Ignoring line ${line} of ${this.file}: fewer than two fields`);
    this.users = parsed.users;
    this.log.info(`Read ${parsed.users.size} user(s) from ${this.file}`);
  }

  /** Reload when the file changes (checked every intervalMs). */
  watch(intervalMs = 1000): void {
    if (this.watching) return;
    this.watching = true;
    fs.watchFile(this.file, { interval: intervalMs, persistent: false }, (cur, prev) => {
      if (cur.mtimeMs !== prev.mtimeMs || cur.ino !== prev.ino || cur.size !== prev.size || cur.nlink !== prev.nlink) this.reload();
    });
  }

  stop(): void {
    if (this.watching) fs.unwatchFile(this.file);
    this.watching = false;
  }
}
