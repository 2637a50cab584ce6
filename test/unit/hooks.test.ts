// Hooks: the node's run-parts rules against a temporary directory, and the master's
// environment and pre/post semantics against a fake RPC client.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HKR_FAIL, HKR_SKIP, HKR_SUCCESS, hooksRunner, runHooks, safeEncode } from '../../src/node/hooks.ts';
import { HooksMaster, pyStr } from '../../src/master/hooks.ts';
import { HooksAbort, HooksFailure } from '../../src/core/errors.ts';
import type { HookSpec, LUContext, LogicalUnit } from '../../src/master/cmdlib/base.ts';
import type { RpcResult, RpcTarget } from '../../src/rpc/client.ts';
import type { NodeContext } from '../../src/node/context.ts';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function hooksDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'gnt-hooks-'));
  dirs.push(d);
  return d;
}

function script(dir: string, name: string, body: string, mode = 0o755): string {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  fs.writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode });
  fs.chmodSync(file, mode);
  return file;
}

const ENV = { PATH: '/sbin:/bin:/usr/sbin:/usr/bin', GANETI_HOOKS_PHASE: 'pre', GANETI_X: 'a b' };

test('run-parts: visible entries in byte order; only executable regular files with a plugin name run', async () => {
  const base = hooksDir();
  const d = path.join(base, 'node-add-pre.d');
  script(d, '10-b', 'echo ten');
  script(d, '01-a', 'echo one');
  script(d, 'B', 'echo upper');
  script(d, 'a', 'echo lower');
  script(d, 'foo.sh', 'echo dotted');
  script(d, 'noexec', 'echo never', 0o644);
  script(d, '.hidden', 'echo hidden');
  script(d, 'with space', 'echo space');
  fs.mkdirSync(path.join(d, 'subdir'));
  fs.chmodSync(path.join(d, 'subdir'), 0o755);
  fs.symlinkSync(path.join(d, '01-a'), path.join(d, 'link'));
  fs.symlinkSync(path.join(d, 'missing'), path.join(d, 'dangling'));
  const results = await runHooks(base, 'node-add', 'pre', ENV);
  assert.deepEqual(results, [
    ['node-add-pre.d/01-a', HKR_SUCCESS, 'one'],
    ['node-add-pre.d/10-b', HKR_SUCCESS, 'ten'],
    ['node-add-pre.d/B', HKR_SUCCESS, 'upper'],
    ['node-add-pre.d/a', HKR_SUCCESS, 'lower'],
    ['node-add-pre.d/dangling', HKR_SKIP, ''],
    ['node-add-pre.d/foo.sh', HKR_SKIP, ''],
    ['node-add-pre.d/link', HKR_SUCCESS, 'one'],
    ['node-add-pre.d/noexec', HKR_SKIP, ''],
    ['node-add-pre.d/subdir', HKR_SKIP, ''],
    ['node-add-pre.d/with space', HKR_SKIP, ''],
  ]);
});

test('run-parts: a missing directory (or a file in its place) runs nothing', async () => {
  const base = hooksDir();
  assert.deepEqual(await runHooks(base, 'cluster-modify', 'post', ENV), []);
  fs.writeFileSync(path.join(base, 'cluster-modify-post.d'), '');
  assert.deepEqual(await runHooks(base, 'cluster-modify', 'post', ENV), []);
});

test('scripts run sequentially, with exactly the given environment, cwd / and stdin /dev/null', async () => {
  const base = hooksDir();
  const d = path.join(base, 'x-post.d');
  const out = path.join(base, 'out');
  script(d, '01-env', `env > ${out}.env; pwd > ${out}.cwd; cat > ${out}.stdin; echo $$ > ${out}.1; sleep 0.2`);
  script(d, '02-after', `test -s ${out}.1 && echo second-after-first`);
  const results = await runHooks(base, 'x', 'post', ENV);
  assert.deepEqual(results.map((r) => r[1]), [HKR_SUCCESS, HKR_SUCCESS]);
  assert.equal(results[1][2], 'second-after-first');
  const env = Object.fromEntries(fs.readFileSync(`${out}.env`, 'utf8').trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  // The shell itself adds PWD (and dash/bash may add SHLVL, _); nothing of the daemon's environment leaks.
  for (const k of ['PWD', 'SHLVL', '_', 'OLDPWD']) delete env[k];
  assert.deepEqual(env, ENV);
  assert.equal(fs.readFileSync(`${out}.cwd`, 'utf8').trim(), '/');
  assert.equal(fs.readFileSync(`${out}.stdin`, 'utf8'), '');
});

test('failures: non-zero exit, a signal, an exec error; output is stdout then stderr, stripped and safe-encoded', async () => {
  const base = hooksDir();
  const d = path.join(base, 'x-pre.d');
  script(d, '01-fail', 'echo "  to stderr" >&2; printf "out\\tput\\n"; exit 3');
  script(d, '02-signal', 'kill -9 $$');
  script(d, '03-silent', 'exit 1');
  const bad = path.join(d, '04-badinterp');
  fs.writeFileSync(bad, '#!/nonexistent/interpreter\n', { mode: 0o755 });
  fs.chmodSync(bad, 0o755);
  script(d, '05-ok', 'printf "caf\\303\\251 \\001 back\\\\slash\\n\\n"');
  const results = await runHooks(base, 'x', 'pre', ENV);
  assert.deepEqual(results, [
    ['x-pre.d/01-fail', HKR_FAIL, 'out\\tput\\n  to stderr'],
    ['x-pre.d/02-signal', HKR_FAIL, ''],
    ['x-pre.d/03-silent', HKR_FAIL, ''],
    ['x-pre.d/04-badinterp', HKR_FAIL, `Hook script execution error: Can't execute '${bad}': not found ([Errno 2] No such file or directory: '${bad}')`],
    ['x-pre.d/05-ok', HKR_SUCCESS, 'caf\\xe9 \\x01 back\\slash'],
  ]);
});

test('safeEncode follows upstream: escapes control characters and non-ASCII, keeps quotes and backslashes', () => {
  assert.equal(safeEncode('a\tb\nc\rd\x7f\u20ac\u{1f600}\'"\\'), 'a\\tb\\nc\\rd\\x7f\\u20ac\\U0001f600\'"\\');
});

test('a script that outlives the timeout is terminated (then killed) and fails; long output is truncated', async () => {
  const base = hooksDir();
  const d = path.join(base, 'slow-post.d');
  script(d, '01-sleep', 'echo started; exec sleep 30');
  script(d, '02-stubborn', "trap '' TERM; echo stubborn; sleep 30 & wait");
  script(d, '03-chatty', 'head -c 100000 /dev/zero | tr "\\0" x');
  const t0 = Date.now();
  const results = await runHooks(base, 'slow', 'post', ENV, { timeoutS: 0.3, lingerS: 0.3, maxOutput: 1000 });
  assert.ok(Date.now() - t0 < 10_000, 'the timeout stopped the scripts');
  assert.deepEqual(results.slice(0, 2), [
    ['slow-post.d/01-sleep', HKR_FAIL, 'started\\nterminated after timeout of 0.30 seconds'],
    ['slow-post.d/02-stubborn', HKR_FAIL, 'stubborn\\nterminated after timeout of 0.30 seconds'],
  ]);
  assert.equal(results[2][1], HKR_SUCCESS);
  assert.equal(results[2][2], `${'x'.repeat(1000)}\\n(output truncated)`);
});

test('hooks_runner: looks under <root>/etc/ganeti/hooks and refuses bad arguments', async () => {
  const root = hooksDir();
  const ctx = { paths: { confDir: path.join(root, 'etc/ganeti') }, hostname: 'node1', log: { warn() {}, info() {} } } as unknown as NodeContext;
  script(path.join(root, 'etc/ganeti/hooks/cluster-modify-post.d'), '50-echo', 'echo "$GANETI_HOOKS_PATH"');
  assert.deepEqual(await hooksRunner(ctx, ['cluster-modify', 'post', { GANETI_HOOKS_PATH: 'cluster-modify', N: 5 }]),
    [['cluster-modify-post.d/50-echo', HKR_SUCCESS, 'cluster-modify']]);
  await assert.rejects(hooksRunner(ctx, ['../../x', 'post', {}]), /Invalid hooks path/);
  await assert.rejects(hooksRunner(ctx, ['x', 'middle', {}]), /Unknown hooks phase 'middle'/);
  await assert.rejects(hooksRunner(ctx, ['x', 'pre', []]), /dictionary/);
});

// ---- master side ----

interface Call { targets: string[]; args: unknown[] }

function fakeContext(reply: (t: RpcTarget, args: unknown[]) => RpcResult, nodes = ['node1', 'node2', 'node3'], offline: string[] = []) {
  const calls: Call[] = [];
  const feedback: string[] = [];
  const nodeObjs = Object.fromEntries(nodes.map((n, i) => [`uuid-${n}`, { uuid: `uuid-${n}`, name: n, primary_ip: `127.0.0.${i + 1}`, offline: offline.includes(n), ndparams: {} }]));
  const config = {
    data: { serial_no: 1 },
    cluster: { cluster_name: 'cluster.test', master_node: 'uuid-node1' },
    masterNode: () => nodeObjs['uuid-node1'],
    node: (uuid: string) => nodeObjs[uuid],
    nodeByName: (name: string) => Object.values(nodeObjs).find((n) => n.name === name),
  };
  const rpc = {
    async callMany(targets: RpcTarget[], proc: string, args: unknown[]) {
      assert.equal(proc, 'hooks_runner');
      calls.push({ targets: targets.map((t) => t.name), args });
      return new Map(targets.map((t) => [t.name, t.offline ? { node: t.name, ok: false, error: 'Node is marked offline', offline: true } : reply(t, args)]));
    },
  };
  const ctx = {
    config, rpc,
    log: { warn() {}, info() {}, error() {} },
    master: { hostname: 'node1', paths: { dataDir: '/root/node1/var/lib/ganeti' } },
    feedback: (m: string) => feedback.push(m),
    signal: new AbortController().signal,
  } as unknown as LUContext;
  return { ctx, calls, feedback };
}

function lu(spec: () => HookSpec | null): LogicalUnit {
  return { hooks: spec, exec: async () => null };
}

const spec = (env: HookSpec['env'], preNodes = ['node1'], postNodes = ['node1']): HookSpec => ({ path: 'cluster-modify', type: 'CLUSTER', env, preNodes, postNodes });
const ok = (payload: unknown) => (t: RpcTarget): RpcResult => ({ node: t.name, ok: true, payload });
const never = new AbortController().signal;

test('environment: common variables, GANETI_ prefix, Python str() values; post adds GANETI_POST_ over the pre ones', async () => {
  const { ctx, calls } = fakeContext(ok([]));
  let size = 3;
  const hm = new HooksMaster(ctx, 'OP_CLUSTER_SET_PARAMS', lu(() => spec({ OP_TARGET: 'cluster.test', NEW_VG_NAME: null, FLAG: true, SIZE: size })));
  await hm.runPhase('pre', never);
  size = 5;
  await hm.runPhase('post', never);
  const common = {
    PATH: '/sbin:/bin:/usr/sbin:/usr/bin',
    GANETI_HOOKS_VERSION: '2',
    GANETI_OP_CODE: 'OP_CLUSTER_SET_PARAMS',
    GANETI_DATA_DIR: '/root/node1/var/lib/ganeti',
    GANETI_HOOKS_PATH: 'cluster-modify',
    GANETI_OBJECT_TYPE: 'CLUSTER',
    GANETI_CLUSTER: 'cluster.test',
    GANETI_MASTER: 'node1',
  };
  const pre = { GANETI_OP_TARGET: 'cluster.test', GANETI_NEW_VG_NAME: 'None', GANETI_FLAG: 'True', GANETI_SIZE: '3' };
  assert.deepEqual(calls[0], { targets: ['node1'], args: ['cluster-modify', 'pre', { ...common, GANETI_HOOKS_PHASE: 'pre', ...pre }] });
  assert.deepEqual(calls[1], {
    targets: ['node1'],
    args: ['cluster-modify', 'post', { ...common, GANETI_HOOKS_PHASE: 'post', ...pre, GANETI_POST_OP_TARGET: 'cluster.test', GANETI_POST_NEW_VG_NAME: 'None', GANETI_POST_FLAG: 'True', GANETI_POST_SIZE: '5' }],
  });
  await hm.runConfigUpdate(never);
  assert.deepEqual(calls[2], { targets: ['node1'], args: ['config-update', 'post', { ...common, GANETI_HOOKS_PATH: 'config-update', GANETI_HOOKS_PHASE: 'post', ...pre }] });
  assert.equal(pyStr(false), 'False');
});

test('an LU without hooks runs no phase, and its config-update hook has only the common variables', async () => {
  const { ctx, calls } = fakeContext(ok([]));
  const hm = new HooksMaster(ctx, 'OP_TEST_X', { exec: async () => null });
  assert.equal(await hm.runPhase('pre', never), null);
  assert.equal(await hm.runPhase('post', never), null);
  await hm.runConfigUpdate(never);
  assert.equal(calls.length, 1);
  const env = calls[0].args[2] as Record<string, string>;
  assert.equal(env.GANETI_OBJECT_TYPE, undefined);
  assert.equal(env.GANETI_HOOKS_PATH, 'config-update');
});

test('pre: failing scripts on any node abort with [node, script, output]; offline nodes skipped; unreachable ones warned', async () => {
  const { ctx, calls, feedback } = fakeContext((t) => {
    if (t.name === 'node2') return { node: t.name, ok: false, error: 'Connection refused' };
    return { node: t.name, ok: true, payload: [['x-pre.d/01-ok', HKR_SUCCESS, ''], ['x-pre.d/02-no', HKR_FAIL, 'denied'], ['x-pre.d/03-quiet', HKR_FAIL, ''], ['x-pre.d/foo.sh', HKR_SKIP, '']] };
  }, ['node1', 'node2', 'node3', 'node4'], ['node3']);
  const hm = new HooksMaster(ctx, 'OP_NODE_ADD', lu(() => spec({}, ['node1', 'node2', 'node3', 'node4', 'node1'])));
  await assert.rejects(hm.runPhase('pre', never), (err: unknown) => {
    assert.ok(err instanceof HooksAbort);
    assert.deepEqual(err.args, [[['node1', 'x-pre.d/02-no', 'denied'], ['node1', 'x-pre.d/03-quiet', ''], ['node4', 'x-pre.d/02-no', 'denied'], ['node4', 'x-pre.d/03-quiet', '']]]);
    return true;
  });
  assert.deepEqual(calls[0].targets, ['node1', 'node2', 'node3', 'node4'], 'each node once');
  assert.deepEqual(feedback, [' - WARNING: Communication failure to node node2: Connection refused']);
});

test('post: failures are warnings in upstream wording, never errors', async () => {
  const { ctx, feedback } = fakeContext(ok([['x-post.d/01', HKR_FAIL, 'oops'], ['x-post.d/02', HKR_FAIL, '']]));
  const hm = new HooksMaster(ctx, 'OP_CLUSTER_SET_PARAMS', lu(() => spec({})));
  await hm.runPhase('post', never);
  assert.deepEqual(feedback, [
    ' - WARNING: On node1 script x-post.d/01 failed, output: oops',
    ' - WARNING: On node1 script x-post.d/02 failed, output: (no output)',
  ]);
});

test('no node answers at all: HooksFailure before, a warning after; unknown node names count as failures', async () => {
  const { ctx, feedback } = fakeContext(ok([]));
  const hm = new HooksMaster(ctx, 'OP_X', lu(() => spec({}, [], ['ghost'])));
  assert.equal(await hm.runPhase('pre', never), null, 'no pre nodes: nothing runs');
  await hm.runPhase('post', never);
  assert.deepEqual(feedback, [' - WARNING: Communication failure to node ghost: Node is not in the configuration']);
  const empty = fakeContext(ok([]));
  empty.ctx.rpc.callMany = async () => new Map();
  const hm2 = new HooksMaster(empty.ctx, 'OP_X', lu(() => spec({})));
  await assert.rejects(hm2.runPhase('pre', never), (err: unknown) => err instanceof HooksFailure && err.args[0] === 'Communication Failure');
});

test('an LU variable that redefines a common one is a programming error', async () => {
  const { ctx } = fakeContext(ok([]));
  const hm = new HooksMaster(ctx, 'OP_X', lu(() => spec({ CLUSTER: 'x' })));
  await assert.rejects(hm.runPhase('pre', never), /GANETI_CLUSTER .*clashes/);
});

test('a cancelled job stops waiting for its hooks', async () => {
  const { ctx } = fakeContext(ok([]));
  ctx.rpc.callMany = () => new Promise(() => {});
  const hm = new HooksMaster(ctx, 'OP_X', lu(() => spec({})));
  const ac = new AbortController();
  const p = hm.runPhase('pre', ac.signal);
  ac.abort(new Error('killed'));
  await assert.rejects(p, /killed/);
});

test('hooksCallback sees each phase\'s results and may replace the opcode\'s result after post', async () => {
  const { ctx } = fakeContext(ok([['cluster-verify-post.d/01', HKR_FAIL, 'bad']]));
  const seen: Array<[string, string[], unknown]> = [];
  const unit = {
    ...lu(() => ({ ...spec({}, [], ['node1', 'node2']), path: 'cluster-verify' })),
    hooksCallback(phase: string, results: Map<string, RpcResult>, luResult: unknown) {
      seen.push([phase, [...results.keys()], luResult]);
      return phase === 'post' ? false : luResult;
    },
  };
  const hm = new HooksMaster(ctx, 'OP_CLUSTER_VERIFY_GROUP', unit);
  await hm.pre(never);
  assert.equal(await hm.post(true, never), false);
  assert.deepEqual(seen, [['pre', [], null], ['post', ['node1', 'node2'], true]]);
});

test('a dry run has pre hooks only', async () => {
  const { ctx, calls } = fakeContext(ok([]));
  const hm = new HooksMaster(ctx, 'OP_TAGS_SET', lu(() => spec({})), true);
  await hm.pre(never);
  assert.equal(await hm.post('dry', never), 'dry');
  assert.deepEqual(calls.map((c) => c.args[1]), ['pre']);
});
