// The RAPI users file and passwords (src/rapi/users.ts) and the authentication decision
// (src/rapi/auth.ts), against upstream's rules (http/auth.py, server/rapi.py).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UsersFile, ha1, parseUsersFile, verifyPassword } from '../../src/rapi/users.ts';
import { authorize, basicCredentials } from '../../src/rapi/auth.ts';
import { HttpError } from '../../src/rapi/errors.ts';

test('users file: fields, options, comments, blank and short lines, later lines win', () => {
  const { users, skipped } = parseUsersFile([
    '# a comment',
    '',
    '  admin  secret   write  ',
    'viewer {HA1}0123 read',
    'both pw write,read',
    'spaced pw write, read',
    'lonely',
    'none pw',
    'admin other read',
    '\t# indented comment',
  ].join('\n'));
  assert.deepEqual([...users.keys()], ['admin', 'viewer', 'both', 'spaced', 'none']);
  assert.deepEqual(users.get('admin'), { name: 'admin', password: 'other', options: ['read'] });
  assert.deepEqual(users.get('viewer')!.options, ['read']);
  assert.deepEqual(users.get('both')!.options, ['write', 'read']);
  assert.deepEqual(users.get('spaced')!.options, ['write', 'read']);
  assert.deepEqual(users.get('none')!.options, []);
  assert.deepEqual(skipped, [7]);
});

test('HA1 is MD5 of user:Ganeti Remote API:password (the upstream documentation example)', () => {
  // doc/rapi.rst: echo -n 'jack:Ganeti Remote API:abc123' | openssl md5
  assert.equal(ha1('jack', 'abc123'), '54c12257ee9be413f2f3182435514aae');
});

test('password schemes: plain, {cleartext}, {HA1} (case-insensitive), unknown and empty schemes', () => {
  assert.ok(verifyPassword('u', 'pw', 'pw'));
  assert.ok(!verifyPassword('u', 'PW', 'pw'));
  assert.ok(verifyPassword('u', 'pw', '{cleartext}pw'));
  assert.ok(verifyPassword('u', 'pw', '{CLEARTEXT}pw'));
  assert.ok(verifyPassword('u', '{x}', '{cleartext}{x}'));
  const hash = ha1('u', 'pw');
  assert.ok(verifyPassword('u', 'pw', `{HA1}${hash}`));
  assert.ok(verifyPassword('u', 'pw', `{ha1}${hash.toUpperCase()}`));
  assert.ok(!verifyPassword('u', 'other', `{HA1}${hash}`));
  // The hash covers the user name: another user with the same password does not match.
  assert.ok(!verifyPassword('v', 'pw', `{HA1}${hash}`));
  assert.ok(!verifyPassword('u', 'pw', '{SHA}pw'));
  assert.ok(!verifyPassword('u', 'pw', '{}pw'));
  assert.ok(!verifyPassword('u', '{pw', '{pw'));
});

test('Basic credentials: scheme case, strict base64, colon in the password, other schemes', () => {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  assert.deepEqual(basicCredentials(`Basic ${b64('u:p:w')}`), { user: 'u', password: 'p:w' });
  assert.deepEqual(basicCredentials(`basic ${b64('u:')}`), { user: 'u', password: '' });
  assert.equal(basicCredentials(`Basic ${b64('nocolon')}`), null);
  assert.equal(basicCredentials('Basic !!!!'), null);
  assert.equal(basicCredentials('Digest username="u"'), null);
  assert.equal(basicCredentials(undefined), null);
  assert.throws(() => basicCredentials('Basic'), (e: HttpError) => e.code === 400 && e.message === 'Basic authentication requires credentials');
});

test('authorization: anonymous reads only without --require-authentication; 401 vs 403; options', () => {
  const users = parseUsersFile('w pw write\nr pw read\nn pw\n').users;
  const header = (u: string, p = 'pw') => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
  const check = (h: string | undefined, access: string[], requireAuthentication: boolean) => {
    try {
      return authorize({ header: h, access, requireAuthentication, lookup: (n) => users.get(n) }).user;
    } catch (e) {
      return (e as HttpError).code;
    }
  };
  assert.equal(check(undefined, [], false), null);
  assert.equal(check(undefined, [], true), 401);
  assert.equal(check(undefined, ['write'], false), 401);
  // Credentials sent anyway are checked, even where none are needed.
  assert.equal(check(header('w', 'bad'), [], false), 401);
  assert.equal(check(header('ghost'), [], false), 401);
  assert.equal(check(header('n'), [], true), 'n');
  assert.equal(check(header('n'), ['write', 'read'], false), 403);
  assert.equal(check(header('r'), ['write'], false), 403);
  assert.equal(check(header('r'), ['write', 'read'], false), 'r');
  assert.equal(check(header('w'), ['write'], true), 'w');
  try {
    authorize({ header: undefined, access: [], requireAuthentication: true, lookup: () => undefined });
  } catch (e) {
    assert.deepEqual((e as HttpError).headers, { 'WWW-Authenticate': 'Basic realm="Ganeti Remote API"' });
  }
});

test('UsersFile: a missing file means no users; reload picks up changes', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rapi-users-'));
  try {
    const file = path.join(dir, 'users');
    const warnings: string[] = [];
    const users = new UsersFile(file, { info: () => undefined, warn: (m) => warnings.push(m) });
    users.reload();
    assert.equal(users.size, 0);
    assert.match(warnings[0], /No users file/);
    fs.writeFileSync(file, 'a pw write\n', { mode: 0o644 });
    users.reload();
    assert.equal(users.get('a')?.options[0], 'write');
    assert.ok(warnings.some((w) => /accessible to other users/.test(w)));
    fs.writeFileSync(file, 'b pw\n');
    users.reload();
    assert.equal(users.get('a'), undefined);
    assert.equal(users.size, 1);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
