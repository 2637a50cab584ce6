// The one executable is every program: each role through a symlink, from an empty
// directory, with an empty environment and no node_modules anywhere near.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { BIN } from './cluster.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gnt-roles-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const ROLES = ['ganeti-masterd', 'ganeti-noded', 'ganeti-rapi', 'ganeti-watcher', 'ganeti-cleaner', 'gnt-cluster', 'gnt-node',
  'gnt-instance', 'gnt-job', 'gnt-os', 'gnt-group', 'gnt-backup', 'gnt-network', 'gnt-filter', 'gnt-debug', 'hail'];

function run(cmd: string, args: string[], cwd = dir) {
  const r = spawnSync(cmd, args, { cwd, env: {}, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('`ganeti links DIR` makes a symlink per role and one named ganeti; each answers --version from an empty directory', () => {
  const copy = path.join(dir, 'ganeti');
  fs.copyFileSync(BIN, copy);
  fs.chmodSync(copy, 0o755);
  const links = path.join(dir, 'sbin');
  assert.equal(run(copy, ['links', links]).code, 0);
  assert.deepEqual(fs.readdirSync(links).sort(), ['ganeti', ...ROLES].sort());
  assert.match(run(path.join(links, 'ganeti'), ['--version']).stdout, /^ganeti \(ganeti-ts\)/);
  const empty = path.join(dir, 'empty');
  fs.mkdirSync(empty);
  for (const role of ROLES) {
    const r = run(path.join(links, role), ['--version'], empty);
    assert.equal(r.code, 0, `${role}: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(`^${role} \\(`), role);
  }
});

test('roles as subcommands: `ganeti gnt-job`, `ganeti job`, and help', () => {
  for (const args of [['gnt-job', '--version'], ['job', '--version']]) {
    const r = run(BIN, args);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^gnt-job \(ganeti /);
  }
  const help = run(BIN, ['help']);
  assert.equal(help.code, 0);
  for (const role of ROLES) assert.ok(help.stdout.includes(role), role);
  assert.equal(run(BIN, ['--version']).stdout, `ganeti (ganeti-ts) 3.0.2\nroles: ${ROLES.join(' ')}\n`);
});

test('unknown roles and subcommands print usage and exit 1', () => {
  const r = run(BIN, ['nosuchrole']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /unknown role or command 'nosuchrole'/);
  assert.equal(run(BIN, []).code, 1);
  const sub = run(BIN, ['gnt-cluster', 'nosuchcmd']);
  assert.equal(sub.code, 1);
  assert.match(sub.stdout, /^Usage: gnt-cluster \{command\} \[options\.\.\.\] \[argument\.\.\.\]\ngnt-cluster <command> --help to see details, or man gnt-cluster\n\nCommands:\n/);
  const none = run(BIN, ['gnt-job']);
  assert.equal(none.code, 1);
  const badopt = run(BIN, ['gnt-job', 'list', '--bogus']);
  assert.equal(badopt.code, 2);
  assert.equal(badopt.stderr, 'Usage\n=====\n  gnt-job list [<job-id>...]\n\ngnt-job: error: no such option: --bogus\n');
  const args = run(BIN, ['gnt-job', 'watch']);
  assert.deepEqual([args.code, args.stderr], [1, 'Error: Command watch expects 1 argument(s)\n']);
});

test('a tool with no master running says so', () => {
  const root = path.join(dir, 'lonely');
  fs.mkdirSync(root);
  const r = spawnSync(BIN, ['gnt-job', 'list'], { env: { GANETI_ROOTDIR: root, GANETI_HOSTNAME: 'lonely' }, encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.equal(r.stderr, 'Cannot communicate with the master daemon.\nIs the process running and listening for connections?\n');
  const half = spawnSync(BIN, ['gnt-job', 'list'], { env: { GANETI_ROOTDIR: root }, encoding: 'utf8' });
  assert.equal(half.status, 1);
  assert.equal(half.stderr, 'Failure: prerequisites not met for this operation:\nerror type: environment_error, error details:\nGANETI_ROOTDIR and GANETI_HOSTNAME must be set together (virtual cluster mode)\n');
});
