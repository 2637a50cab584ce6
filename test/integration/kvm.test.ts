// The kvm hypervisor on real qemu (TCG here: no /dev/kvm), with the tiny guest of
// test/fixtures/guest/ (Debian's kernel, a busybox initramfs printing
// "GANETI-GUEST-READY <name> tick <n>" on its serial console every second). A cluster of
// two virtual nodes on loopback; ONE guest (a 1 GiB sparse sharedfile disk, a NIC on a tap in a bridge where one can be made, else in user mode), reused through the whole file (TCG boots take
// seconds): start and the marker read through `gnt-instance console`, hvparams qemu
// refuses, noded restarted under the running guest, live migration there and back
// (hypervisor level: node2 → node1 → node2; `gnt-instance migrate` is tested by
// migrate*.test.ts), reboot, ACPI shutdown, a forced shutdown of a guest ignoring ACPI,
// a crashed qemu (ERROR_down, restarted by the watcher).
// Skipped, saying why, only when qemu or the guest's kernel cannot be had.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { TestCluster, type VirtualNode } from './cluster.ts';
import { KvmHypervisor } from '../../src/node/hypervisor/kvm/index.ts';
import { parseRuntime } from '../../src/node/hypervisor/kvm/runtime.ts';
import { withQmp } from '../../src/node/hypervisor/kvm/qmp.ts';
import { nodePaths } from '../../src/util/paths.ts';
import type { HvInstance } from '../../src/node/hypervisor/types.ts';

const QEMU = '/usr/bin/qemu-system-x86_64';
const NOOP = '/usr/share/ganeti/os/noop';

function guest(): { kernel: string; initrd: string } | string {
  if (!fs.existsSync(QEMU)) return `qemu is not installed (${QEMU}; Debian's qemu-system-x86)`;
  if (!fs.existsSync(NOOP)) return `Debian's ganeti-os-noop is not installed (${NOOP})`;
  const r = spawnSync('sh', [path.join(import.meta.dirname, '../fixtures/guest/build.sh')], { encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) return `the test guest cannot be built: ${r.stderr.trim() || r.error?.message}`;
  const kernel = /^kernel (.*)$/m.exec(r.stdout)?.[1];
  const initrd = /^initrd (.*)$/m.exec(r.stdout)?.[1];
  return kernel && initrd ? { kernel, initrd } : `the test guest builder said: ${r.stdout}`;
}

const g = guest();
const skip = typeof g === 'string' ? g : false;
const INST = 'vm1';

/**
 * A bridge for the guest's NIC (a tap on it, made by the node), where this machine lets
 * us make one (root, CAP_NET_ADMIN); else the NIC stays on the virtual cluster's "lo" link
 * (qemu user-mode networking). Both virtual nodes see it: they are one machine.
 */
const BRIDGE = `gntk${process.pid % 100000}`;
function makeBridge(): boolean {
  const r = spawnSync('ip', ['link', 'add', BRIDGE, 'type', 'bridge'], { encoding: 'utf8' });
  if (r.status !== 0) return false;
  spawnSync('ip', ['link', 'set', BRIDGE, 'up']);
  return true;
}
let bridged = false;

let cluster: TestCluster;
let node1: VirtualNode;
let node2: VirtualNode;

const kvmDir = (n: VirtualNode) => n.file('var/run/ganeti/kvm-hypervisor');
const pidOf = (n: VirtualNode): number | null => {
  try {
    return Number(fs.readFileSync(path.join(kvmDir(n), 'pid', INST), 'utf8'));
  } catch {
    return null;
  }
};
const alive = (pid: number | null) => {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(INST);
  } catch {
    return false;
  }
};

function ok(n: VirtualNode, tool: string, args: string[]): string {
  const r = n.run(tool, args);
  assert.equal(r.code, 0, `${tool} ${args.join(' ')}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

function status(): string {
  return ok(node1, 'gnt-instance', ['list', '--no-headers', '-o', 'status,pnode', INST]).trim();
}

/** `gnt-instance console` until `re` shows (the console of whichever node runs it). */
function consoleUntil(re: RegExp, timeoutMs = 90_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(node1.bin, 'gnt-instance'), ['console', INST], { env: node1.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`console: no ${re} within ${timeoutMs} ms; got ${JSON.stringify(out.slice(-400))} ${err}`));
    }, timeoutMs);
    child.stdout.on('data', (d) => {
      out += d;
      if (re.test(out)) {
        clearTimeout(timer);
        child.kill('SIGKILL');
        resolve(out);
      }
    });
    child.stderr.on('data', (d) => { err += d; });
    child.on('close', (code) => {
      if (!re.test(out)) {
        clearTimeout(timer);
        reject(new Error(`console ended (${code}) before ${re}: ${JSON.stringify(out.slice(-400))} ${err}`));
      }
    });
  });
}

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The instance as the hypervisor runs it on `n` (hvparams from its runtime file). */
function hvInstance(n: VirtualNode): HvInstance & { network_port: number } {
  const runtime = parseRuntime(fs.readFileSync(path.join(kvmDir(n), 'conf', `${INST}.runtime`), 'utf8'));
  return { name: INST, hypervisor: 'kvm', hvparams: runtime[2], beparams: { maxmem: 128, minmem: 128, vcpus: 1 }, network_port: 0 };
}

before(() => {
  if (skip) return;
  const { kernel, initrd } = g as { kernel: string; initrd: string };
  cluster = new TestCluster();
  node1 = cluster.init('node1', 'cluster.test', ['--enabled-hypervisors=kvm', '--enabled-disk-templates=sharedfile,file,diskless']);
  ok(node1, 'gnt-cluster', ['modify', '-H', `kvm:kvm_path=${QEMU},kernel_path=${kernel},initrd_path=${initrd},migration_bandwidth=256`]);
  node2 = cluster.join(node1, 'node2');
  bridged = makeBridge();
  // Shared storage: both nodes' shared-file-storage directory is one directory, as an NFS
  // mount would make it.
  const shared = path.join(cluster.base, 'shared-storage');
  fs.mkdirSync(shared, { recursive: true });
  for (const n of [node1, node2]) {
    const dir = nodePaths(n.root).sharedFileStorageDir;
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(path.dirname(dir), { recursive: true });
    fs.symlinkSync(shared, dir);
  }
  const added = ok(node1, 'gnt-instance', ['add', '--net', `0:link=${bridged ? BRIDGE : 'lo'}`, '-o', 'noop', '-t', 'sharedfile', '--disk', '0:size=1G', '--no-name-check', '--no-ip-check', '-n', 'node2',
    '-B', 'maxmem=128,minmem=128,vcpus=1', '-H', `kvm:kernel_args=ro ganeti_name=${INST} quiet`, INST]);
  // The add says which accelerator runs the new guest.
  assert.match(added, new RegExp(`KVM: instance ${INST} started with (TCG software emulation|KVM acceleration)`));
});

after(() => {
  if (skip) return;
  // Never leave a qemu behind: they outlive noded by design.
  for (const n of cluster.nodes) {
    for (const f of fs.existsSync(path.join(kvmDir(n), 'pid')) ? fs.readdirSync(path.join(kvmDir(n), 'pid')) : []) {
      const pid = Number(fs.readFileSync(path.join(kvmDir(n), 'pid', f), 'utf8'));
      try {
        if (fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(f)) process.kill(pid, 'SIGKILL');
      } catch { /* gone */ }
    }
  }
  cluster.destroy();
  if (bridged) {
    // Taps left by the killed guests, then the bridge.
    for (const tap of fs.existsSync(`/sys/class/net/${BRIDGE}/brif`) ? fs.readdirSync(`/sys/class/net/${BRIDGE}/brif`) : []) {
      spawnSync('ip', ['link', 'del', tap]);
    }
    spawnSync('ip', ['link', 'del', BRIDGE]);
  }
});

test('start: a real qemu runs the guest, its marker comes through gnt-instance console', { skip }, async () => {
  assert.match(status(), /^running\s+node2$/);
  const pid = pidOf(node2);
  assert.ok(alive(pid), 'qemu of the instance runs, from the pid file of node2');
  const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  assert.ok(cmdline.includes('-daemonize'));
  assert.ok(cmdline.includes('tcg') || cmdline.includes('kvm'), `accelerator on the command line: ${cmdline.join(' ')}`);
  assert.ok(!cmdline.includes('-balloon'), '-balloon was removed from qemu in 3.1');
  // The sharedfile disk (cache=none: shared storage), through the node's disk link, on virtio; the NIC on a tap in the
  // bridge, or in user mode (link lo).
  assert.ok(cmdline.some((a) => /^file=.*\/instance-disks\/vm1:0,format=raw,if=none,cache=none,id=disk-/.test(a)), cmdline.join(' '));
  assert.ok(cmdline.some((a) => /^virtio-blk-pci,id=disk-/.test(a)));
  assert.ok(cmdline.some((a) => /^virtio-net-pci,.*mac=aa:00:00:/.test(a)));
  if (bridged) {
    const tap = fs.readFileSync(path.join(kvmDir(node2), 'nic', INST, '0'), 'utf8');
    assert.ok(cmdline.includes(`tap,id=${/^tap,id=([^,]+)/.exec(cmdline.find((a) => a.startsWith('tap,id='))!)![1]},ifname=${tap},script=no,downscript=no`));
    assert.deepEqual(fs.readdirSync(`/sys/class/net/${BRIDGE}/brif`), [tap], 'the tap is in the bridge');
  } else {
    assert.ok(cmdline.some((a) => /^user,id=nic-/.test(a)));
  }
  const log = fs.readFileSync(node2.file('var/log/ganeti/ganeti-noded.log'), 'utf8');
  assert.match(log, /started with (TCG software emulation|KVM acceleration)/);
  const out = await consoleUntil(new RegExp(`GANETI-GUEST-READY ${INST} tick \\d+`));
  assert.match(out, /GANETI-GUEST-READY vm1 tick/);
  // --show-cmd: upstream's ssh + socat command.
  assert.match(ok(node1, 'gnt-instance', ['console', '--show-cmd', INST]),
    /^ssh .*-t -p 22 root@node2 '\/usr\/bin\/socat STDIO,raw,echo=0,escape=0x1d UNIX-CONNECT:\S+\/vm1\.serial'\n$/);
});

test('hvparams the node qemu cannot use are refused before anything changes', { skip }, () => {
  let r = node1.run('gnt-instance', ['modify', '-H', 'machine_version=pc-bogus-1.0', INST]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /Hypervisor parameter validation failed on node node2: Unsupported machine version: pc-bogus-1\.0/);
  r = node1.run('gnt-instance', ['modify', '-H', 'kvm_path=/nonexistent/qemu', INST]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /validation failed on node node2: The KVM binary \('\/nonexistent\/qemu'\) does not exist/);
  r = node1.run('gnt-instance', ['modify', '-H', 'nic_type=e1000x', INST]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /nic_type/);
  assert.doesNotMatch(ok(node1, 'gnt-instance', ['info', INST]), /pc-bogus|nonexistent/);
  // A value this qemu takes is accepted; info then shows where VNC listens (network port - 5900).
  ok(node1, 'gnt-instance', ['modify', '-H', 'vnc_bind_address=0.0.0.0,machine_version=pc', INST]);
  const info = ok(node1, 'gnt-instance', ['info', INST]);
  const port = Number(/Allocated network port: (\d+)/.exec(info)![1]);
  assert.ok(port > 5900);
  assert.match(info, new RegExp(`console connection: vnc to node2:${port} \\(display ${port - 5900}\\)`));
  ok(node1, 'gnt-instance', ['modify', '-H', 'vnc_bind_address=default,machine_version=default', INST]);
});

test('noded restarted under a running guest: qemu survives and is found again', { skip }, async () => {
  const pid = pidOf(node2);
  const noded = node2.pid('ganeti-noded');
  assert.ok(noded);
  process.kill(noded, 'SIGTERM');
  await waitFor('noded to stop', () => !fs.existsSync(`/proc/${noded}`));
  assert.ok(alive(pid), 'qemu outlives noded');
  assert.match(status(), /^ERROR_nodedown/);
  const r = node2.run('ganeti-noded', ['-b', node2.ip]);
  assert.equal(r.code, 0, r.stderr);
  await waitFor('the instance listed running again', () => /^running\s+node2$/.test(status()));
  assert.equal(pidOf(node2), pid, 'the same qemu');
});

test('live migration node2 → node1 → node2 (hypervisor level): the guest keeps running and printing', { skip }, async () => {
  for (const [src, dst] of [[node2, node1], [node1, node2]] as const) {
    const hvSrc = new KvmHypervisor(nodePaths(src.root));
    const hvDst = new KvmHypervisor(nodePaths(dst.root));
    const inst = hvInstance(src);
    const info = await hvSrc.migrationInfo(inst);
    await hvDst.acceptInstance(inst, [], info, dst.ip);
    assert.equal(await hvDst.qmpStatus(INST), 'inmigrate');
    const started = Date.now();
    await hvSrc.migrateInstance('cluster.test', inst, dst.ip, true);
    let st = await hvSrc.getMigrationStatus(inst);
    while (st.status === 'active' || st.status === 'setup') {
      await new Promise((r) => setTimeout(r, 250));
      st = await hvSrc.getMigrationStatus(inst);
    }
    assert.equal(st.status, 'completed', JSON.stringify(st));
    assert.ok((st.total_ram ?? 0) > 0);
    await hvDst.finalizeMigrationDst(inst, info, true);
    await hvSrc.finalizeMigrationSource(inst, true, true);
    assert.equal(pidOf(src), null, 'nothing left on the source');
    assert.equal(await withQmp(hvDst.files.qmpSocket(INST), async (q) => ((await q.execute('query-status')) as { status: string }).status), 'running');
    assert.ok(Date.now() - started < 60_000);
  }
  // Back on node2, as the configuration says: the console keeps printing new ticks.
  const before = await consoleUntil(/tick (\d+)\r?\n/);
  const n = Number(/tick (\d+)\r?\n/.exec(before)![1]);
  await consoleUntil(new RegExp(`tick ${n + 2}\\b`));
  assert.match(status(), /^running\s+node2$/);
});

const migrateCmd = (): string | false => {
  if (skip) return skip;
  if (node1.run('gnt-instance', ['migrate', '--help']).code !== 0) return 'this build has no gnt-instance migrate';
  return bridged ? false : `no bridge could be made here (${BRIDGE}), and the master refuses to migrate a NIC on "lo" (bridges_exist)`;
};

test('gnt-instance migrate there and back: the guest keeps running on the target', { skip: skip || undefined }, async (t) => {
  const why = migrateCmd();
  if (why) {
    t.skip(why);
    return;
  }
  for (const [src, dst] of [[node2, node1], [node1, node2]] as const) {
    const pid = pidOf(src);
    const out = ok(node1, 'gnt-instance', ['migrate', '-f', '-n', dst.name, INST]);
    assert.match(out, /migrat/i);
    assert.ok(!alive(pid), 'the source qemu is gone');
    assert.ok(alive(pidOf(dst)), `qemu runs on ${dst.name}`);
    const hv = new KvmHypervisor(nodePaths(dst.root));
    assert.equal(await hv.qmpStatus(INST), 'running');
    assert.match(status(), new RegExp(`^running\\s+${dst.name}$`));
    const before = await consoleUntil(/tick (\d+)\r?\n/);
    const n = Number(/tick (\d+)\r?\n/.exec(before)![1]);
    await consoleUntil(new RegExp(`tick ${n + 1}\\b`));
    if (bridged) assert.deepEqual(fs.readdirSync(`/sys/class/net/${BRIDGE}/brif`).length, 1, 'one tap: the source one went');
  }
});

test('reboot: a new qemu from the saved runtime, the guest boots again', { skip }, async () => {
  const pid = pidOf(node2);
  ok(node1, 'gnt-instance', ['reboot', INST]);
  const pid2 = pidOf(node2);
  assert.notEqual(pid2, pid);
  assert.ok(alive(pid2) && !alive(pid));
  await consoleUntil(/GANETI-GUEST-READY vm1 tick \d+/);
  assert.match(status(), /^running/);
});

test('shutdown: ACPI power-down, the guest powers itself off', { skip }, async () => {
  const pid = pidOf(node2);
  const t = Date.now();
  ok(node1, 'gnt-instance', ['shutdown', INST]);
  assert.ok(Date.now() - t < 30_000, 'the guest obeyed the power button (no forced stop after the timeout)');
  assert.ok(!alive(pid));
  assert.match(status(), /^ADMIN_down/);
  assert.ok(!fs.existsSync(path.join(kvmDir(node2), 'pid', INST)), 'runtime files cleaned');
  assert.match(fs.readFileSync(node2.file('var/log/ganeti/ganeti-noded.log'), 'utf8'), /ACPI power-down sent to instance vm1/);
});

test('shutdown of a guest ignoring ACPI: forced after the timeout', { skip }, async () => {
  ok(node1, 'gnt-instance', ['modify', '-H', `kernel_args=ro ganeti_name=${INST} ganeti_ignore_acpi=1 quiet`, INST]);
  // The start says which accelerator runs the guest.
  assert.match(ok(node1, 'gnt-instance', ['start', INST]), /KVM: instance vm1 started with (TCG software emulation \(no \/dev\/kvm on this node: slow\)|KVM acceleration \(\/dev\/kvm\)), qemu /);
  await consoleUntil(/ignoring the power button[\s\S]*tick \d+/);
  const pid = pidOf(node2);
  const t = Date.now();
  ok(node1, 'gnt-instance', ['shutdown', '--timeout=4', INST]);
  const took = Date.now() - t;
  assert.ok(took >= 4_000, `waited for the timeout (${took} ms)`);
  assert.ok(!alive(pid));
  assert.match(fs.readFileSync(node2.file('var/log/ganeti/ganeti-noded.log'), 'utf8'), /shutdown unsuccessful, forcing/);
  ok(node1, 'gnt-instance', ['modify', '-H', `kernel_args=ro ganeti_name=${INST} quiet`, INST]);
});

test('a crashed qemu: ERROR_down, and the watcher starts it again', { skip }, async () => {
  ok(node1, 'gnt-instance', ['start', INST]);
  const pid = pidOf(node2);
  assert.ok(alive(pid));
  process.kill(pid!, 'SIGKILL');
  await waitFor('qemu to die', () => !alive(pid));
  assert.match(status(), /^ERROR_down/);
  const r = node1.run('ganeti-watcher', ['--ignore-pause']);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  await waitFor('the watcher to restart it', () => /^running/.test(status()), 60_000);
  assert.ok(alive(pidOf(node2)));
});

test('user_shutdown: a guest powering itself off is USER_down, and the watcher cleans it up', { skip }, async () => {
  ok(node1, 'gnt-cluster', ['modify', '--user-shutdown', 'yes']);
  ok(node1, 'gnt-instance', ['shutdown', INST]);
  ok(node1, 'gnt-instance', ['modify', '-H', 'user_shutdown=true', INST]);
  ok(node1, 'gnt-instance', ['start', INST]);
  await consoleUntil(/power button handled[\s\S]*tick \d+/);
  const pid = pidOf(node2);
  // The guest powers off by itself (its power button pressed behind the node's back).
  const hv = new KvmHypervisor(nodePaths(node2.root));
  // On a busy machine the guest's listener may not read its power button yet when the
  // marker shows (a press then goes unseen): pressed again every few seconds, as a person would.
  let nextPress = 0;
  await waitFor('USER_down', async () => {
    if (/^USER_down/.test(status())) return true;
    if (Date.now() >= nextPress) {
      nextPress = Date.now() + 8_000;
      try {
        await withQmp(hv.files.qmpSocket(INST), (q) => q.execute('system_powerdown'));
      } catch { /* powered off meanwhile */ }
    }
    return false;
  }, 120_000);
  assert.ok(alive(pid), 'qemu stays (-no-shutdown), so the node can tell it from a crash');
  assert.equal(await hv.qmpStatus(INST), 'shutdown');
  const r = node1.run('ganeti-watcher', ['--ignore-pause']);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  await waitFor('the watcher to clean it up', () => !alive(pid), 30_000);
  // Down by the user's (the guest's) doing: still USER_down, now with nothing running.
  assert.match(ok(node1, 'gnt-instance', ['list', '--no-headers', '-o', 'status,oper_state,admin_state', INST]), /^USER_down\s+N\s+down$/m);
  assert.ok(!fs.existsSync(path.join(kvmDir(node2), 'pid', INST)));
});
