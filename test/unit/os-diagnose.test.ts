// OS definitions on a node: the search path, what makes an OS valid (upstream's
// _TryOSFromDisk texts), variants, parameters and API versions, os_diagnose and
// os_validate through noded's handlers, on the fixture OSes and on broken copies.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  checkOsParameters, checkOsVariant, diagnoseOs, osFromDisk, osSearchPath, splitNameVariant, tryOsFromDisk,
  type OsDefinition,
} from '../../src/node/os/definition.ts';
import { OS_BACKEND } from '../../src/node/os-backend.ts';
import { nodePaths } from '../../src/util/paths.ts';
import type { NodeContext } from '../../src/node/context.ts';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/os');
const NOOP = '/usr/share/ganeti/os/noop';
const haveNoop = fs.existsSync(path.join(NOOP, 'create'));

const dirs: string[] = [];
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'gnt-os-'));
  dirs.push(d);
  return d;
}

function write(file: string, text: string, mode = 0o644): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  fs.chmodSync(file, mode);
}

/** A minimal OS definition in `dir`: the API file and the given executable scripts. */
function makeOs(dir: string, api: string, scripts: string[], extra: Record<string, string> = {}): string {
  fs.mkdirSync(dir, { recursive: true });
  write(path.join(dir, 'ganeti_api_version'), api);
  for (const s of scripts) write(path.join(dir, s), '#!/bin/sh\nexit 0\n', 0o755);
  for (const [f, text] of Object.entries(extra)) write(path.join(dir, f), text);
  return dir;
}

function lookup(name: string, searchPath: string[]): OsDefinition {
  const r = tryOsFromDisk(name, searchPath);
  assert.ok(r.ok, r.ok ? '' : r.message);
  return r.os;
}

function failure(name: string, searchPath: string[]): string {
  const r = tryOsFromDisk(name, searchPath);
  assert.equal(r.ok, false);
  return r.ok ? '' : r.message;
}

function nodeCtx(root: string): NodeContext {
  return { paths: nodePaths(root), hostname: path.basename(root), log: { warn() {}, info() {}, error() {}, debug() {} } } as unknown as NodeContext;
}

test('search path: upstream directories on a real node; a virtual node looks below its root first', () => {
  const upstream = ['/srv/ganeti/os', '/usr/local/lib/ganeti/os', '/usr/lib/ganeti/os', '/usr/share/ganeti/os'];
  assert.deepEqual(osSearchPath('/'), upstream);
  assert.deepEqual(osSearchPath('/tmp/c/node1'), [...upstream.map((d) => `/tmp/c/node1${d}`), ...upstream]);
});

test('the writer fixture: API 20 with variants, parameters and verify; trusted', () => {
  const w = lookup('writer', [FIXTURES]);
  assert.equal(w.name, 'writer');
  assert.equal(w.path, path.join(FIXTURES, 'writer'));
  assert.deepEqual(w.apiVersions, [20, 15, 10]);
  assert.deepEqual(w.variants, ['default', 'second']);
  assert.deepEqual(w.parameters, [
    ['marker', 'The text the create script writes into the first disk'],
    ['flavour', 'Anything; only declared so that parameters can be listed'],
  ]);
  assert.equal(w.createScript, path.join(FIXTURES, 'writer', 'create'));
  assert.equal(w.createScriptUntrusted, null);
  assert.equal(w.verifyScript, path.join(FIXTURES, 'writer', 'verify'));
  // A variant in the name is ignored by the lookup.
  assert.equal(osFromDisk('writer+second', [FIXTURES]).name, 'writer');
  assert.deepEqual(splitNameVariant('writer+a+b'), ['writer', 'a+b']);
  assert.deepEqual(splitNameVariant('writer'), ['writer', '']);
});

test('Debian noop (API 5 and 10) is valid', { skip: haveNoop ? false : `${NOOP} is not installed (Debian package ganeti-os-noop)` }, () => {
  const noop = lookup('noop', ['/usr/share/ganeti/os']);
  assert.deepEqual(noop.apiVersions, [5, 10]);
  assert.deepEqual(noop.variants, []);
  assert.deepEqual(noop.parameters, []);
  assert.equal(noop.verifyScript, null);
});

test('the first directory of the search path that has the OS wins', () => {
  const a = tempDir();
  const b = tempDir();
  makeOs(path.join(b, 'dup'), '10\n', ['create', 'export', 'import', 'rename']);
  makeOs(path.join(a, 'dup'), '15\n', ['create', 'export', 'import', 'rename']);
  assert.deepEqual(lookup('dup', [path.join(a, 'missing'), a, b]).apiVersions, [15]);
  assert.deepEqual(lookup('dup', [b, a]).apiVersions, [10]);
  // A plain file of that name is not an OS directory.
  write(path.join(a, 'plain'), 'x');
  assert.equal(failure('plain', [a]), 'Directory for OS plain not found in search path');
});

test('validity rules and their diagnose messages', () => {
  const d = tempDir();
  const SCRIPTS10 = ['create', 'export', 'import', 'rename'];
  assert.equal(failure('nosuch', [d]), 'Directory for OS nosuch not found in search path');
  // Names that upstream's FindFile refuses (EXT_PLUGIN_MASK), even if the directory exists.
  fs.mkdirSync(path.join(d, 'bad.name'));
  assert.equal(failure('bad.name', [d]), 'Directory for OS bad.name not found in search path');
  assert.equal(failure('../os', [d]), 'Directory for OS ../os not found in search path');

  const noApi = path.join(d, 'noapi');
  fs.mkdirSync(noApi);
  assert.equal(failure('noapi', [d]), `Required file 'ganeti_api_version' not found under path ${noApi}: ENOENT`);

  const apiDir = path.join(d, 'apidir');
  fs.mkdirSync(path.join(apiDir, 'ganeti_api_version'), { recursive: true });
  assert.equal(failure('apidir', [d]), `File 'ganeti_api_version' in ${apiDir} is not a regular file`);

  makeOs(path.join(d, 'garbage'), '10\nabc\n', SCRIPTS10);
  assert.equal(failure('garbage', [d]), "API version(s) can't be converted to integer: invalid literal for int() with base 10: 'abc'");

  const old = makeOs(path.join(d, 'old'), '5\n', SCRIPTS10);
  assert.equal(failure('old', [d]), `API version mismatch for path '${old}': found [5], want frozenset({10, 20, 15}).`);

  const noImport = makeOs(path.join(d, 'noimport'), '10\n', ['create', 'export', 'rename']);
  assert.equal(failure('noimport', [d]), `File 'import' under path '${noImport}' is missing (ENOENT)`);

  const noExec = makeOs(path.join(d, 'noexec'), '10\n', SCRIPTS10);
  fs.chmodSync(path.join(noExec, 'rename'), 0o644);
  assert.equal(failure('noexec', [d]), `File 'rename' under path '${noExec}' is not executable`);

  const dirScript = makeOs(path.join(d, 'dirscript'), '10\n', ['create', 'export', 'rename']);
  fs.mkdirSync(path.join(dirScript, 'import'));
  assert.equal(failure('dirscript', [d]), `File 'import' under path '${dirScript}' is not a regular file`);

  const noCreate = makeOs(path.join(d, 'nocreate'), '10\n', ['export', 'import', 'rename']);
  assert.equal(failure('nocreate', [d]), `A create script (trusted or untrusted) under path '${noCreate}' must exist`);

  makeOs(path.join(d, 'untrusted'), '10\n', ['create_untrusted', 'export', 'import', 'rename']);
  const untrusted = lookup('untrusted', [d]);
  assert.equal(untrusted.createScript, null);
  assert.equal(untrusted.createScriptUntrusted, path.join(d, 'untrusted', 'create_untrusted'));

  // API 20 needs verify and parameters.list.
  const noVerify = makeOs(path.join(d, 'noverify'), '20\n', SCRIPTS10, { 'parameters.list': '' });
  assert.equal(failure('noverify', [d]), `File 'verify' under path '${noVerify}' is missing (ENOENT)`);
  const noParams = makeOs(path.join(d, 'noparams'), '20\n', [...SCRIPTS10, 'verify']);
  assert.equal(failure('noparams', [d]), `File 'parameters.list' under path '${noParams}' is missing (ENOENT)`);
});

test('API versions decide which optional files count', () => {
  const d = tempDir();
  const SCRIPTS10 = ['create', 'export', 'import', 'rename'];
  // API 10: variants.list and parameters.list are not read, verify not needed.
  makeOs(path.join(d, 'v10'), '10\n', SCRIPTS10, { 'variants.list': 'a\nb\n', 'parameters.list': 'p help\n' });
  const v10 = lookup('v10', [d]);
  assert.deepEqual([v10.variants, v10.parameters, v10.verifyScript], [[], [], null]);
  // API 15: variants (blank lines and comments dropped, whitespace trimmed); a missing file is no variants.
  makeOs(path.join(d, 'v15'), '15\n10\n', SCRIPTS10, { 'variants.list': '# comment\n\n  one  \n\ttwo\n#three\n' });
  assert.deepEqual(lookup('v15', [d]).variants, ['one', 'two']);
  makeOs(path.join(d, 'v15none'), '15\n', SCRIPTS10);
  assert.deepEqual(lookup('v15none', [d]).variants, []);
  // API 20: parameters split on the first run of whitespace; a bare name has no help.
  makeOs(path.join(d, 'v20'), '20\n', [...SCRIPTS10, 'verify'], { 'parameters.list': 'alpha  first  help \nbeta\n  gamma\tthird\n' });
  const v20 = lookup('v20', [d]);
  assert.deepEqual(v20.parameters, [['alpha', 'first  help '], ['beta'], ['gamma', 'third']]);
  assert.equal(v20.verifyScript, path.join(d, 'v20', 'verify'));
  // Versions Ganeti does not speak are kept as listed, as long as one is shared.
  makeOs(path.join(d, 'mixed'), '25\n20\n5\n', [...SCRIPTS10, 'verify'], { 'parameters.list': '' });
  assert.deepEqual(lookup('mixed', [d]).apiVersions, [25, 20, 5]);
});

test('diagnoseOs lists every visible entry of every search directory, invalid ones with the reason', () => {
  const a = tempDir();
  const b = tempDir();
  makeOs(path.join(a, 'good'), '10\n', ['create', 'export', 'import', 'rename']);
  makeOs(path.join(a, 'broken'), '10\n', ['create', 'export', 'rename']);
  makeOs(path.join(a, '.hidden'), '10\n', ['create', 'export', 'import', 'rename']);
  makeOs(path.join(a, 'untrusted'), '15\n', ['create', 'create_untrusted', 'export', 'import', 'rename'], { 'variants.list': 'v1\n' });
  makeOs(path.join(b, 'good'), '15\n', ['create', 'export', 'import', 'rename']);
  const rows = diagnoseOs([a, path.join(a, 'nonexistent'), b]);
  assert.deepEqual(rows, [
    ['broken', path.join(a, 'broken'), false, `File 'import' under path '${path.join(a, 'broken')}' is missing (ENOENT)`, [], [], [], true],
    ['good', path.join(a, 'good'), true, '', [], [], [10], true],
    // Untrusted as soon as create_untrusted exists.
    ['untrusted', path.join(a, 'untrusted'), true, '', ['v1'], [], [15], false],
    ['good', path.join(b, 'good'), true, '', [], [], [15], true],
  ]);
});

test('variant and parameter checks (os_validate)', () => {
  const w = lookup('writer', [FIXTURES]);
  checkOsVariant(w, 'writer+default');
  checkOsVariant(w, 'writer+second');
  assert.throws(() => checkOsVariant(w, 'writer'), { message: "OS name 'writer' must include a variant" });
  assert.throws(() => checkOsVariant(w, 'writer+third'), { message: "OS 'writer' does not support variant 'third'" });
  const d = tempDir();
  makeOs(path.join(d, 'plain'), '10\n', ['create', 'export', 'import', 'rename']);
  const plain = lookup('plain', [d]);
  checkOsVariant(plain, 'plain');
  assert.throws(() => checkOsVariant(plain, 'plain+x'), { message: "OS 'plain' does not support variants ('x' passed)" });
  checkOsParameters(w, ['marker', 'flavour']);
  assert.throws(() => checkOsParameters(w, ['marker', 'zeta', 'alpha']), {
    message: 'The following parameters are not supported by the OS writer: alpha, zeta',
  });
});

/** A virtual node whose own OS directory holds the fixture OSes. */
function nodeWithFixtures(): NodeContext {
  const root = path.join(tempDir(), 'node1');
  const osDir = path.join(root, 'srv/ganeti/os');
  fs.mkdirSync(osDir, { recursive: true });
  fs.symlinkSync(path.join(FIXTURES, 'writer'), path.join(osDir, 'writer'));
  fs.symlinkSync(path.join(FIXTURES, 'failing'), path.join(osDir, 'failing'));
  return nodeCtx(root);
}

test('os_diagnose on a virtual node: its own OSes, then the machine\'s', () => {
  const ctx = nodeWithFixtures();
  const rows = OS_BACKEND.os_diagnose(ctx, []) as unknown[][];
  const own = path.join(ctx.paths.root, 'srv/ganeti/os');
  assert.deepEqual(rows.slice(0, 2).map((r) => [r[0], r[1], r[2], r[6], r[7]]), [
    ['failing', path.join(own, 'failing'), true, [10], true],
    ['writer', path.join(own, 'writer'), true, [20, 15, 10], true],
  ]);
  assert.deepEqual(rows[1][4], ['default', 'second']);
  assert.deepEqual((rows[1][5] as string[][]).map((p) => p[0]), ['marker', 'flavour']);
  if (haveNoop) assert.ok(rows.some((r) => r[0] === 'noop' && r[1] === NOOP && r[2] === true), 'Debian noop found by a virtual node');
});

test('os_validate: missing OS, variants, parameters and the verify script', async () => {
  const ctx = nodeWithFixtures();
  const validate = (...args: unknown[]) => OS_BACKEND.os_validate(ctx, args) as Promise<boolean>;
  assert.equal(await validate(false, 'nosuchos', ['parameters'], {}, false), false);
  await assert.rejects(validate(true, 'nosuchos', ['parameters'], {}, false), { message: 'Directory for OS nosuchos not found in search path' });
  await assert.rejects(validate(true, 'writer+default', ['bogus'], {}, false), { message: "Unknown checks required for OS writer+default: {'bogus'}" });
  await assert.rejects(validate(true, 'writer', ['parameters'], {}, false), { message: "OS name 'writer' must include a variant" });
  assert.equal(await validate(true, 'writer', ['parameters'], {}, true), true);
  assert.equal(await validate(true, 'writer+second', ['parameters'], { marker: 'ok' }, false), true);
  await assert.rejects(validate(true, 'writer+default', ['parameters'], { bogus: '1' }, false), {
    message: 'The following parameters are not supported by the OS writer: bogus',
  });
  await assert.rejects(validate(true, 'writer+default', ['parameters'], { marker: 'a b' }, false), {
    message: "OS validation script failed (exited with exit code 1), output: invalid marker 'a b': no spaces allowed\n",
  });
  // Without the parameters check, verify still runs (with no arguments) and refuses the call.
  await assert.rejects(validate(true, 'writer+default', [], { marker: 'x' }, false), /^Error: OS validation script failed \(exited with exit code 1\), output: usage: /);
  // API below 20: nothing to verify.
  assert.equal(await validate(true, 'failing', ['parameters'], { anything: 'x' }, false), true);
  if (haveNoop) assert.equal(await validate(true, 'noop', ['parameters'], {}, false), true);
});
