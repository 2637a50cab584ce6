// The master IP procedures against a simulated `ip` (a table of devices and addresses that
// answers `ip -o address show` and applies add/del as the kernel does), so every mode and
// every failure can be tried without touching a network interface. The external script is
// a real script in a temporary node root.
import { after, afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import {
  activateMasterIp, canonicalIp, changeMasterNetmask, deactivateMasterIp, defaultCommandRunner, masterIpEnv,
  parseIpAddrShow, setCommandRunner, type CommandRunner, type RunResult,
} from '../../src/node/master-ip.ts';
import { RpcFail, type NodeContext } from '../../src/node/context.ts';
import { nodePaths } from '../../src/util/paths.ts';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});
afterEach(() => setCommandRunner());

interface Addr { ip: string; prefix: number; label: string }

/** A fake iproute2 + arping: records every call. */
class FakeNet {
  devices = new Map<string, Addr[]>([['lo', [{ ip: '127.0.0.1', prefix: 8, label: 'lo' }]], ['eth0', []]]);
  calls: string[] = [];
  /** Simulate a broken tool: add/del exit 0 and change nothing. */
  silentNoop = false;
  arping: 'ok' | 'missing' | 'fail' = 'ok';
  /** Extra behaviour for other programs (the external script). */
  other?: CommandRunner;

  runner: CommandRunner = async (file, args, opts) => {
    this.calls.push([file, ...args].join(' '));
    if (file === 'ip') {
      assert.equal(opts.env.LC_ALL, 'C');
      assert.match(opts.env.PATH, /\/usr\/sbin/);
      return this.ip(args);
    }
    if (file === 'arping' || file === 'ndisc6') {
      if (this.arping === 'missing') return { code: null, signal: null, stdout: '', stderr: '', notFound: true, spawnError: 'spawn arping ENOENT' };
      return { code: this.arping === 'ok' ? 0 : 2, signal: null, stdout: '', stderr: this.arping === 'ok' ? '' : 'arping: bind: Cannot assign requested address' };
    }
    if (this.other) return this.other(file, args, opts);
    throw new Error(`unexpected command ${file}`);
  };

  private res(code: number, stdout = '', stderr = ''): RunResult {
    return { code, signal: null, stdout, stderr };
  }

  private ip(args: string[]): RunResult {
    if (args[0] === '-o' && args[1] === 'address' && args[2] === 'show') {
      let devs = [...this.devices.keys()];
      if (args[3] === 'dev') {
        if (!this.devices.has(args[4])) return this.res(1, '', `Device "${args[4]}" does not exist.\n`);
        devs = [args[4]];
      }
      const lines: string[] = [];
      devs.forEach((d) => {
        const idx = [...this.devices.keys()].indexOf(d) + 1;
        for (const a of this.devices.get(d)!) {
          const v6 = a.ip.includes(':');
          lines.push(`${idx}: ${d}    ${v6 ? 'inet6' : 'inet'} ${a.ip}/${a.prefix} scope global ${v6 ? '' : a.label}\\       valid_lft forever preferred_lft 0sec`);
        }
      });
      return this.res(0, lines.map((l) => `${l}\n`).join(''));
    }
    const [obj, verb, addr, devKw, dev, ...rest] = args;
    assert.equal(obj, 'address');
    assert.equal(devKw, 'dev');
    const [ipPart, prefix] = addr.split('/');
    const list = this.devices.get(dev);
    if (!list) return this.res(1, '', 'Cannot find device "' + dev + '"\n');
    if (this.silentNoop) return this.res(0);
    const v6 = ipPart.includes(':');
    const same = (a: Addr) => canonicalIp(a.ip) === canonicalIp(ipPart);
    if (verb === 'add') {
      if (v6 ? list.some(same) : list.some((a) => same(a) && a.prefix === Number(prefix))) return this.res(2, '', `Error: ipv${v6 ? 6 : 4}: Address already assigned.\n`);
      const li = rest.indexOf('label');
      list.push({ ip: ipPart, prefix: Number(prefix), label: li >= 0 ? rest[li + 1] : dev });
      return this.res(0);
    }
    if (verb === 'del') {
      const i = list.findIndex((a) => same(a) && a.prefix === Number(prefix));
      if (i < 0) return this.res(2, '', 'Error: ipv4: Address not found.\n');
      list.splice(i, 1);
      return this.res(0);
    }
    throw new Error(`unexpected ip ${args.join(' ')}`);
  }

  on(dev: string): string[] {
    return (this.devices.get(dev) ?? []).map((a) => `${a.ip}/${a.prefix}`);
  }
}

interface Logged { level: number; msg: string }

function context(): { ctx: NodeContext; logs: Logged[] } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gnt-mip-'));
  dirs.push(root);
  const logs: Logged[] = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => { logs.push(JSON.parse(s) as Logged); } });
  return { ctx: { paths: nodePaths(root), hostname: 'node1.example.com', log }, logs };
}

function fake(): FakeNet {
  const f = new FakeNet();
  setCommandRunner(f.runner);
  return f;
}

const V4 = { uuid: 'u-1', ip: '192.0.2.10', netmask: 24, netdev: 'eth0', ip_family: 2 };
const V6 = { uuid: 'u-1', ip: '2001:db8:0:0::10', netmask: 64, netdev: 'eth0', ip_family: 10 };

async function rejects(p: Promise<unknown>, re: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof RpcFail, `expected RpcFail, got ${String(e)}`);
    assert.match((e as Error).message, re);
    return true;
  });
}

function installScript(ctx: NodeContext, body: string, mode = 0o755): string {
  const dir = path.join(ctx.paths.confDir, 'scripts');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'master-ip-setup');
  fs.writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode });
  fs.chmodSync(file, mode);
  return file;
}

test('parsing `ip -o address show` and comparing addresses', () => {
  const text = [
    '1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever',
    '2: eth0    inet 192.0.2.10/24 scope global deprecated eth0:0\\       valid_lft forever preferred_lft 0sec',
    '3: ppp0    inet 10.0.0.1 peer 10.0.0.2/32 scope global ppp0\\       valid_lft forever',
    '4: g1@g0    inet6 2001:db8::10/64 scope global \\       valid_lft forever preferred_lft forever',
  ].join('\n');
  assert.deepEqual(parseIpAddrShow(text), [
    { dev: 'lo', family: 4, ip: '127.0.0.1', prefix: 8 },
    { dev: 'eth0', family: 4, ip: '192.0.2.10', prefix: 24 },
    { dev: 'ppp0', family: 4, ip: '10.0.0.1', prefix: 32 },
    { dev: 'g1', family: 6, ip: '2001:db8::10', prefix: 64 },
  ]);
  assert.equal(canonicalIp('2001:0DB8:0:0::10'), canonicalIp('2001:db8::10'));
  assert.equal(canonicalIp('::ffff:192.0.2.1'), canonicalIp('::ffff:c000:201'));
  assert.notEqual(canonicalIp('2001:db8::1'), canonicalIp('2001:db8::1:0'));
  assert.equal(canonicalIp('nonsense'), null);
});

test('upstream environment for the script and the master-ip hooks', () => {
  assert.deepEqual(masterIpEnv(V4), { MASTER_NETDEV: 'eth0', MASTER_IP: '192.0.2.10', MASTER_NETMASK: '24', CLUSTER_IP_VERSION: '4' });
  assert.deepEqual(masterIpEnv(V6), { MASTER_NETDEV: 'eth0', MASTER_IP: '2001:db8:0:0::10', MASTER_NETMASK: '64', CLUSTER_IP_VERSION: '6' });
});

test('loopback (virtual cluster): nothing runs, in any mode, and the log says why', async () => {
  const f = fake();
  const { ctx, logs } = context();
  const lo = { uuid: 'u', ip: '127.0.0.2', netmask: 8, netdev: 'lo', ip_family: 2 };
  assert.equal(await activateMasterIp(ctx, [lo, false]), null);
  assert.equal(await deactivateMasterIp(ctx, [lo, false]), null);
  assert.equal(await activateMasterIp(ctx, [{ ...lo, ip: '::1', netmask: 128, ip_family: 10 }, true]), null);
  assert.equal(await changeMasterNetmask(ctx, [8, 16, '127.0.0.2', 'lo']), null);
  assert.deepEqual(f.calls, []);
  const info = logs.filter((l) => l.level === 30).map((l) => l.msg);
  assert.ok(info.some((m) => /activation: nothing done, 127\.0\.0\.2 is a loopback address on lo/.test(m)), info.join('\n'));
  assert.ok(info.some((m) => /deactivation: nothing done/.test(m)));
  assert.ok(info.some((m) => /external master IP setup script is not run/.test(m)));
});

test('a non-loopback address on lo is managed like any other', async () => {
  const f = fake();
  const { ctx } = context();
  await activateMasterIp(ctx, [{ ...V4, netdev: 'lo' }, false]);
  assert.deepEqual(f.on('lo'), ['127.0.0.1/8', '192.0.2.10/24']);
});

test('default IPv4: ip address add with label and preferred_lft 0, checked, then gratuitous ARP', async () => {
  const f = fake();
  const { ctx } = context();
  assert.equal(await activateMasterIp(ctx, [V4, false]), null);
  assert.deepEqual(f.on('eth0'), ['192.0.2.10/24']);
  assert.equal(f.devices.get('eth0')![0].label, 'eth0:0');
  assert.deepEqual(f.calls, [
    'ip -o address show dev eth0',
    'ip -o address show',
    'ip address add 192.0.2.10/24 dev eth0 label eth0:0 preferred_lft 0',
    'ip -o address show dev eth0',
    'arping -q -U -c 3 -I eth0 -s 192.0.2.10 192.0.2.10',
  ]);
  f.calls = [];
  assert.equal(await deactivateMasterIp(ctx, [V4, false]), null);
  assert.deepEqual(f.on('eth0'), []);
  assert.deepEqual(f.calls, ['ip -o address show dev eth0', 'ip address del 192.0.2.10/24 dev eth0', 'ip -o address show dev eth0']);
});

test('default: idempotent (already present on activate, already absent on deactivate)', async () => {
  const f = fake();
  const { ctx, logs } = context();
  await activateMasterIp(ctx, [V4, false]);
  f.calls = [];
  await activateMasterIp(ctx, [V4, false]);
  assert.deepEqual(f.calls, ['ip -o address show dev eth0']);
  assert.deepEqual(f.on('eth0'), ['192.0.2.10/24']);
  assert.ok(logs.some((l) => /already configured on this node/.test(l.msg)));
  await deactivateMasterIp(ctx, [V4, false]);
  f.calls = [];
  await deactivateMasterIp(ctx, [V4, false]);
  assert.deepEqual(f.calls, ['ip -o address show dev eth0', 'ip -o address show']);
  assert.ok(logs.some((l) => /not configured on this node: nothing to do/.test(l.msg)));
});

test('default: a race where someone else added it meanwhile is still success (the check decides)', async () => {
  const f = fake();
  const { ctx } = context();
  const real = f.runner;
  // The address appears between our listing and our add: add answers "already assigned".
  setCommandRunner(async (file, args, opts) => {
    if (args[1] === 'add') f.devices.get('eth0')!.push({ ip: '192.0.2.10', prefix: 24, label: 'eth0:0' });
    return real(file, args, opts);
  });
  await activateMasterIp(ctx, [V4, false]);
  assert.deepEqual(f.on('eth0'), ['192.0.2.10/24']);
});

test('default: a command that exits 0 but leaves the address missing fails (issue #1113)', async () => {
  const f = fake();
  const { ctx } = context();
  f.silentNoop = true;
  await rejects(activateMasterIp(ctx, [V4, false]),
    /not activated on node1\.example\.com: 'ip address add 192\.0\.2\.10\/24 dev eth0 label eth0:0 preferred_lft 0' reported success, but 192\.0\.2\.10\/24 is not on eth0 afterwards/);
  assert.ok(!f.calls.some((c) => c.startsWith('arping')), 'no ARP for an address that is not there');
  f.silentNoop = false;
  f.devices.get('eth0')!.push({ ip: '192.0.2.10', prefix: 24, label: 'eth0:0' });
  f.silentNoop = true;
  await rejects(deactivateMasterIp(ctx, [V4, false]), /not deactivated on node1\.example\.com: .* 192\.0\.2\.10\/24 is still on eth0/);
});

test('default: a failing ip command is an RpcFail with its output', async () => {
  fake();
  const { ctx } = context();
  setCommandRunner(async (_file, args) => {
    if (args[0] === '-o') return { code: 0, signal: null, stdout: '', stderr: '' };
    return { code: 2, signal: null, stdout: '', stderr: 'RTNETLINK answers: Operation not permitted\n' };
  });
  await rejects(activateMasterIp(ctx, [V4, false]), /'ip address add 192\.0\.2\.10\/24 dev eth0 label eth0:0 preferred_lft 0' exited with code 2 on node1\.example\.com: RTNETLINK answers: Operation not permitted/);
});

test('a missing netdev fails clearly before anything changes, in every mode', async () => {
  const f = fake();
  const { ctx } = context();
  const bad = { ...V4, netdev: 'br9' };
  const script = installScript(ctx, `touch "${ctx.paths.root}/ran"`);
  await rejects(activateMasterIp(ctx, [bad, false]), /Master network device 'br9' does not exist on node node1\.example\.com/);
  await rejects(deactivateMasterIp(ctx, [bad, false]), /Master network device 'br9' does not exist/);
  await rejects(activateMasterIp(ctx, [bad, true]), /Master network device 'br9' does not exist/);
  await rejects(changeMasterNetmask(ctx, [24, 16, '192.0.2.10', 'br9']), /Master network device 'br9' does not exist/);
  assert.deepEqual(f.calls.filter((c) => !c.startsWith('ip -o address show')), []);
  assert.ok(!fs.existsSync(path.join(ctx.paths.root, 'ran')), `${script} must not have run`);
});

test('invalid parameters are refused', async () => {
  fake();
  const { ctx } = context();
  await rejects(activateMasterIp(ctx, [{ ...V4, ip: 'not-an-ip' }, false]), /Invalid master IP/);
  await rejects(activateMasterIp(ctx, [{ ...V4, ip_family: 10 }, false]), /IPv4 address but ip_family is 10/);
  await rejects(activateMasterIp(ctx, [{ ...V4, netmask: 33 }, false]), /Invalid netmask 33/);
  await rejects(activateMasterIp(ctx, [{ ...V4, netdev: '-f' }, false]), /Invalid master network device/);
  await rejects(activateMasterIp(ctx, [{ ...V4, netdev: 'a/b' }, false]), /Invalid master network device/);
  await rejects(activateMasterIp(ctx, ['x', false]), /expects \[master_params, use_external_mip_script\]/);
  await rejects(activateMasterIp(ctx, [V4, 'yes']), /use_external_mip_script must be a boolean/);
});

test('default IPv6: no label, unsolicited neighbour advertisement with ndisc6; uncompressed config form matches', async () => {
  const f = fake();
  const { ctx } = context();
  await activateMasterIp(ctx, [V6, false]);
  assert.deepEqual(f.on('eth0'), ['2001:db8:0:0::10/64']);
  assert.ok(f.calls.includes('ip address add 2001:db8:0:0::10/64 dev eth0 preferred_lft 0'), f.calls.join('\n'));
  assert.ok(f.calls.includes('ndisc6 -q -r 3 2001:db8:0:0::10 eth0'));
  // ip prints the compressed form; the check compares addresses, not strings.
  f.devices.set('eth0', [{ ip: '2001:db8::10', prefix: 64, label: 'eth0' }]);
  f.calls = [];
  await activateMasterIp(ctx, [V6, false]);
  assert.deepEqual(f.calls, ['ip -o address show dev eth0']);
  await deactivateMasterIp(ctx, [V6, false]);
  assert.deepEqual(f.on('eth0'), []);
  assert.ok(f.calls.includes('ip address del 2001:db8:0:0::10/64 dev eth0'));
});

test('arping missing or failing is not fatal', async () => {
  const f = fake();
  const { ctx, logs } = context();
  f.arping = 'missing';
  await activateMasterIp(ctx, [V4, false]);
  assert.ok(logs.some((l) => /arping is not installed/.test(l.msg)));
  await deactivateMasterIp(ctx, [V4, false]);
  f.arping = 'fail';
  await activateMasterIp(ctx, [V4, false]);
  assert.ok(logs.some((l) => l.level === 40 && /arping exited with code 2 \(not fatal\)/.test(l.msg)));
  assert.deepEqual(f.on('eth0'), ['192.0.2.10/24']);
});

test('the address on another device: activation refuses to add it twice, deactivation refuses (upstream: wrong device)', async () => {
  const f = fake();
  const { ctx } = context();
  f.devices.set('eth1', [{ ip: '192.0.2.10', prefix: 24, label: 'eth1' }]);
  await rejects(activateMasterIp(ctx, [V4, false]), /configured on eth1 on node1\.example\.com, not on the master network device eth0/);
  await rejects(deactivateMasterIp(ctx, [V4, false]), /configured on the wrong device \(eth1, not eth0\)/);
  assert.deepEqual(f.on('eth0'), []);
  assert.deepEqual(f.on('eth1'), ['192.0.2.10/24']);
});

test('a stale prefix: activation replaces it, deactivation removes every prefix', async () => {
  const f = fake();
  const { ctx } = context();
  f.devices.set('eth0', [{ ip: '192.0.2.10', prefix: 16, label: 'eth0:0' }]);
  await activateMasterIp(ctx, [V4, false]);
  assert.deepEqual(f.on('eth0'), ['192.0.2.10/24']);
  f.devices.get('eth0')!.push({ ip: '192.0.2.10', prefix: 16, label: 'eth0:0' });
  await deactivateMasterIp(ctx, [V4, false]);
  assert.deepEqual(f.on('eth0'), []);
  // IPv6 takes one prefix per address: the stale one goes first.
  f.devices.set('eth0', [{ ip: '2001:db8::10', prefix: 48, label: 'eth0' }]);
  await activateMasterIp(ctx, [V6, false]);
  assert.deepEqual(f.on('eth0'), ['2001:db8:0:0::10/64']);
});

test('external script: upstream environment only, start/stop, then the check', async () => {
  const f = fake();
  const { ctx } = context();
  const envOut = path.join(ctx.paths.root, 'env');
  const script = installScript(ctx, `env | sort > "${envOut}.$1"\necho "did $1"`);
  f.other = async (file, args, opts) => {
    assert.equal(file, script);
    const r = await defaultCommandRunner(file, args, opts);
    // What the operator's script would have done to the interfaces.
    if (args[0] === 'start') f.devices.get('eth0')!.push({ ip: '192.0.2.10', prefix: 24, label: 'eth0:0' });
    else f.devices.set('eth0', []);
    return r;
  };
  assert.equal(await activateMasterIp(ctx, [V4, true]), null);
  const env = fs.readFileSync(`${envOut}.start`, 'utf8').split('\n').filter((l) => l && !/^(PWD|SHLVL|_|OLDPWD)=/.test(l));
  assert.deepEqual(env, ['CLUSTER_IP_VERSION=4', 'MASTER_IP=192.0.2.10', 'MASTER_NETDEV=eth0', 'MASTER_NETMASK=24']);
  assert.deepEqual(f.calls, ['ip -o address show dev eth0', `${script} start`, 'ip -o address show dev eth0']);
  assert.equal(await deactivateMasterIp(ctx, [V4, true]), null);
  assert.ok(fs.existsSync(`${envOut}.stop`));
  assert.ok(!f.calls.some((c) => c.startsWith('arping') || c.startsWith('ip address')), 'the script does the work, not us');
});

test('external script: exit 0 without the address in place fails (issue #1113)', async () => {
  const f = fake();
  const { ctx } = context();
  const script = installScript(ctx, 'exit 0');
  f.other = defaultCommandRunner;
  await rejects(activateMasterIp(ctx, [V4, true]), new RegExp(`not activated on node1\\.example\\.com: the external script ${script} reported success, but 192\\.0\\.2\\.10/24 is not on eth0`));
  f.devices.get('eth0')!.push({ ip: '192.0.2.10', prefix: 24, label: 'eth0:0' });
  await rejects(deactivateMasterIp(ctx, [V4, true]), /not deactivated on node1\.example\.com: the external script .* 192\.0\.2\.10\/24 is still on eth0/);
});

test('external script: non-zero exit names the script, its exit code and output', async () => {
  const f = fake();
  const { ctx } = context();
  const script = installScript(ctx, 'echo "Error: master IP address configured on another machine." >&2\nexit 3');
  f.other = defaultCommandRunner;
  await rejects(activateMasterIp(ctx, [V6, true]),
    new RegExp(`Failed to start the master IP on node1\\.example\\.com\\. Script ${script} return value: 3, output: 'Error: master IP address configured on another machine\\.'`));
  await rejects(deactivateMasterIp(ctx, [V6, true]), /Failed to stop the master IP .* return value: 3/);
});

test('external script: missing or not executable', async () => {
  fake();
  const { ctx } = context();
  const script = path.join(ctx.paths.confDir, 'scripts', 'master-ip-setup');
  await rejects(activateMasterIp(ctx, [V4, true]), new RegExp(`external master IP setup script ${script} does not exist on node1\\.example\\.com`));
  installScript(ctx, 'exit 0', 0o644);
  await rejects(deactivateMasterIp(ctx, [V4, true]), new RegExp(`script ${script} on node1\\.example\\.com is not an executable file`));
});

test('change netmask: IPv4 adds the new prefix before removing the old; IPv6 the other way round; checked', async () => {
  const f = fake();
  const { ctx } = context();
  assert.equal(await changeMasterNetmask(ctx, [24, 24, '192.0.2.10', 'eth0']), null);
  assert.deepEqual(f.calls, [], 'same netmask: nothing to do');
  await rejects(changeMasterNetmask(ctx, [24, 16, '192.0.2.10', 'eth0']), /master IP address is not up on eth0 .* not attempting to change its netmask/);
  await activateMasterIp(ctx, [V4, false]);
  f.calls = [];
  await changeMasterNetmask(ctx, [24, 16, '192.0.2.10', 'eth0']);
  assert.deepEqual(f.on('eth0'), ['192.0.2.10/16']);
  assert.deepEqual(f.calls, [
    'ip -o address show dev eth0',
    'ip address add 192.0.2.10/16 dev eth0 label eth0:0 preferred_lft 0',
    'ip address del 192.0.2.10/24 dev eth0',
    'ip -o address show dev eth0',
  ]);
  f.devices.set('eth0', [{ ip: '2001:db8::10', prefix: 64, label: 'eth0' }]);
  f.calls = [];
  await changeMasterNetmask(ctx, [64, 56, '2001:db8::10', 'eth0']);
  assert.deepEqual(f.on('eth0'), ['2001:db8::10/56']);
  assert.deepEqual(f.calls.slice(1, 3), ['ip address del 2001:db8::10/64 dev eth0', 'ip address add 2001:db8::10/56 dev eth0 preferred_lft 0']);
  f.silentNoop = true;
  await rejects(changeMasterNetmask(ctx, [56, 48, '2001:db8::10', 'eth0']), /netmask was not changed .* expected 2001:db8::10\/48 on eth0, found 2001:db8::10\/56/);
});

test('the real runner: no shell, exact environment, exit codes, missing programs, timeouts', async () => {
  const r = await defaultCommandRunner('/bin/sh', ['-c', 'echo "$FOO $HOME"; echo err >&2; exit 4'], { env: { FOO: 'a;b' }, timeoutMs: 5000 });
  assert.deepEqual({ code: r.code, stdout: r.stdout, stderr: r.stderr }, { code: 4, stdout: 'a;b \n', stderr: 'err\n' });
  const echo = await defaultCommandRunner('/bin/echo', ['$(id)', ';', '*'], { env: {}, timeoutMs: 5000 });
  assert.equal(echo.stdout, '$(id) ; *\n');
  const missing = await defaultCommandRunner('no-such-program-gnt', [], { env: { PATH: '/nonexistent' }, timeoutMs: 5000 });
  assert.equal(missing.notFound, true);
  const t0 = Date.now();
  const slow = await defaultCommandRunner('/bin/sh', ['-c', 'sleep 30 & sleep 30'], { env: {}, timeoutMs: 200 });
  assert.equal(slow.timedOut, true);
  assert.ok(Date.now() - t0 < 5000, 'the process group is killed, the grandchild does not hold us');
});
