// The master IP procedures with the real `ip` command, inside a network namespace of their
// own (`unshare --net`), on a device created there: the host's interfaces are never
// touched. Needs root, unshare and a kernel that lets the namespace create a dummy (or, in
// containers without the dummy module, a veth) device; otherwise skipped, saying which.
//
// This file runs twice: normally it checks the prerequisites and re-runs itself under
// `unshare --net` with GNT_MIP_NETNS=1; in that child the tests below really run.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { activateMasterIp, changeMasterNetmask, deactivateMasterIp, parseIpAddrShow } from '../../src/node/master-ip.ts';
import { RpcFail, type NodeContext } from '../../src/node/context.ts';
import { nodePaths } from '../../src/util/paths.ts';

const SELF = fileURLToPath(import.meta.url);
const DEV = 'gnt0';
const SBIN_PATH = `${process.env.PATH ?? ''}:/sbin:/usr/sbin:/usr/local/sbin`;

function run(cmd: string, args: string[]) {
  return spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, PATH: SBIN_PATH, LC_ALL: 'C' }, timeout: 30_000 });
}

/** Why the namespace tests cannot run here, or null. */
function missing(): string | null {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'not running as root (creating a network namespace and its devices needs root)';
  if (run('unshare', ['--version']).error) return 'the unshare command (util-linux) is not installed';
  if (run('ip', ['-V']).error) return 'the ip command (iproute2) is not installed';
  // A throwaway namespace: whatever this creates disappears with it.
  const probe = run('unshare', ['--net', 'sh', '-c',
    `ip link add ${DEV} type dummy 2>/dev/null || ip link add ${DEV} type veth peer name ${DEV}p`]);
  if (probe.status !== 0) {
    return `cannot create a network namespace with a dummy or veth device (unshare --net … ip link add): ${(probe.stderr || probe.error?.message || '').trim()}`;
  }
  return null;
}

if (process.env.GNT_MIP_NETNS !== '1') {
  const why = missing();
  test('master IP with the real ip command, in a network namespace of its own', { skip: why ?? false, timeout: 120_000 }, () => {
    // Without the runner's NODE_TEST_CONTEXT the child reports in plain TAP-like text.
    const env: NodeJS.ProcessEnv = { ...process.env, PATH: SBIN_PATH, GNT_MIP_NETNS: '1' };
    delete env.NODE_TEST_CONTEXT;
    const r = spawnSync('unshare', ['--net', process.execPath, '--test-reporter=tap', SELF], { encoding: 'utf8', env, timeout: 110_000 });
    assert.equal(r.status, 0, `the namespace tests failed:\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /# fail 0/);
  });
} else {
  inNamespace();
}

function inNamespace(): void {
  let ctx: NodeContext;
  let root: string;
  let ipv6: string | null = null;

  // The kernel's own IPv6 link-local address (fe80::) is none of our business.
  const addrs = () => parseIpAddrShow(run('ip', ['-o', 'address', 'show', 'dev', DEV]).stdout)
    .filter((e) => !/^fe80:/i.test(e.ip)).map((e) => `${e.ip}/${e.prefix}`);

  before(() => {
    // The guard that keeps this away from a real machine's interfaces: a fresh namespace
    // has nothing but lo.
    const links = run('ip', ['-o', 'link', 'show']).stdout.trim().split('\n').map((l) => l.split(':')[1]?.trim());
    assert.deepEqual(links, ['lo'], 'not in a fresh network namespace: refusing to touch these interfaces');
    assert.equal(run('ip', ['link', 'set', 'lo', 'up']).status, 0);
    if (run('ip', ['link', 'add', DEV, 'type', 'dummy']).status !== 0) {
      assert.equal(run('ip', ['link', 'add', DEV, 'type', 'veth', 'peer', 'name', `${DEV}p`]).status, 0);
      run('ip', ['link', 'set', `${DEV}p`, 'up']);
    }
    assert.equal(run('ip', ['link', 'set', DEV, 'up']).status, 0);
    const v6 = run('ip', ['-6', 'address', 'add', '2001:db8:ffff::1/128', 'dev', DEV]);
    if (v6.status !== 0) ipv6 = `IPv6 is not available in this namespace: ${v6.stderr.trim()}`;
    else run('ip', ['-6', 'address', 'del', '2001:db8:ffff::1/128', 'dev', DEV]);
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'gnt-mip-ns-'));
    ctx = { paths: nodePaths(root), hostname: 'node1', log: pino({ level: 'silent' }) };
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  const V4 = { uuid: 'u', ip: '192.0.2.10', netmask: 24, netdev: DEV, ip_family: 2 };

  test('IPv4: add with the label, idempotent, delete', async () => {
    await activateMasterIp(ctx, [V4, false]);
    assert.deepEqual(addrs(), ['192.0.2.10/24']);
    assert.match(run('ip', ['-o', 'address', 'show', 'dev', DEV]).stdout, /192\.0\.2\.10\/24 .*gnt0:0/);
    await activateMasterIp(ctx, [V4, false]);
    assert.deepEqual(addrs(), ['192.0.2.10/24']);
    await deactivateMasterIp(ctx, [V4, false]);
    assert.deepEqual(addrs(), []);
    await deactivateMasterIp(ctx, [V4, false]);
  });

  test('netmask change (IPv4), then deactivation', async () => {
    await activateMasterIp(ctx, [V4, false]);
    await changeMasterNetmask(ctx, [24, 16, '192.0.2.10', DEV]);
    assert.deepEqual(addrs(), ['192.0.2.10/16']);
    await deactivateMasterIp(ctx, [{ ...V4, netmask: 16 }, false]);
    assert.deepEqual(addrs(), []);
  });

  test('IPv6: add, netmask change, delete', async (t) => {
    if (ipv6) return t.skip(ipv6);
    const V6 = { uuid: 'u', ip: '2001:db8:0::10', netmask: 64, netdev: DEV, ip_family: 10 };
    await activateMasterIp(ctx, [V6, false]);
    assert.deepEqual(addrs(), ['2001:db8::10/64']);
    await changeMasterNetmask(ctx, [64, 56, V6.ip, DEV]);
    assert.deepEqual(addrs(), ['2001:db8::10/56']);
    await deactivateMasterIp(ctx, [{ ...V6, netmask: 56 }, false]);
    assert.deepEqual(addrs(), []);
  });

  test('external script: a real one that works, and one that exits 0 without doing anything', async () => {
    const dir = path.join(ctx.paths.confDir, 'scripts');
    fs.mkdirSync(dir, { recursive: true });
    const script = path.join(dir, 'master-ip-setup');
    fs.writeFileSync(script, [
      '#!/bin/sh', 'PATH=/sbin:/usr/sbin:/bin:/usr/bin', 'case "$1" in',
      '  start) ip address add "$MASTER_IP/$MASTER_NETMASK" dev "$MASTER_NETDEV" ;;',
      '  stop) ip address del "$MASTER_IP/$MASTER_NETMASK" dev "$MASTER_NETDEV" ;;', 'esac', '',
    ].join('\n'), { mode: 0o755 });
    await activateMasterIp(ctx, [V4, true]);
    assert.deepEqual(addrs(), ['192.0.2.10/24']);
    await deactivateMasterIp(ctx, [V4, true]);
    assert.deepEqual(addrs(), []);
    fs.writeFileSync(script, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    await assert.rejects(activateMasterIp(ctx, [V4, true]), (e: unknown) => e instanceof RpcFail && /is not on gnt0 afterwards/.test(e.message));
  });

  test('a device that does not exist', async () => {
    await assert.rejects(activateMasterIp(ctx, [{ ...V4, netdev: 'nosuch0' }, false]),
      (e: unknown) => e instanceof RpcFail && /Master network device 'nosuch0' does not exist on node node1/.test(e.message));
  });
}
