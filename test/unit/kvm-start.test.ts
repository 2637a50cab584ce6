// Starting an instance against a fake qemu (a shell script answering the capability
// probes from the recorded outputs of test/fixtures/qemu, and "daemonizing" as qemu does:
// a detached process carrying the command line, its pid in the -pidfile): a start that
// fails after qemu came up leaves nothing running and no runtime files; a qemu that never
// finishes starting is killed after the start timeout; tap records are written before qemu
// runs and deleted with the runtime files; migration info says whether the guest ran.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { guestRanBefore, KvmHypervisor } from '../../src/node/hypervisor/kvm/index.ts';
import { DEFAULT_HVPARAMS } from '../../src/master/config/defaults.ts';
import { nodePaths } from '../../src/util/paths.ts';
import type { HvInstance } from '../../src/node/hypervisor/types.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kvm-start-'));
const FIX = path.join(import.meta.dirname, '../fixtures/qemu');
const trace = path.join(dir, 'trace');
const fake = path.join(dir, 'fake-qemu');
fs.writeFileSync(fake, `#!/bin/sh
case "$1" in
  -help) cat '${FIX}/7.2-help.txt'; exit 0;;
  -machine) cat '${FIX}/7.2-machine.txt'; exit 0;;
  -device) cat '${FIX}/7.2-device.txt'; exit 0;;
esac
echo $$ > '${trace}'
if [ "$FAKE_QEMU_MODE" = hang ]; then sleep 1000; exit 0; fi
pidfile=""; prev=""
for a in "$@"; do [ "$prev" = "-pidfile" ] && pidfile="$a"; prev="$a"; done
setsid sh -c 'echo $$ > "$0"; while :; do sleep 1; done' "$pidfile" "$@" </dev/null >/dev/null 2>&1 &
while [ ! -s "$pidfile" ]; do sleep 0.05; done
exit 0
`, { mode: 0o755 });

const killed: number[] = [];
after(() => {
  for (const pid of killed) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch { /* gone */ }
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8') !== '';
  } catch {
    return false;
  }
};

function instance(name: string, hv: Record<string, unknown> = {}): HvInstance {
  return {
    name, hypervisor: 'kvm', uuid: '11111111-2222-3333-4444-555555555555',
    hvparams: { ...DEFAULT_HVPARAMS.kvm, kvm_path: fake, kernel_path: '', initrd_path: '', ...hv },
    beparams: { maxmem: 64, minmem: 64, vcpus: 1 },
  } as unknown as HvInstance;
}

test('a start failing after qemu came up (no QMP answer for "cont") leaves no qemu, no runtime files', async () => {
  const hv = new KvmHypervisor(nodePaths(path.join(dir, 'node1')));
  let daemon = 0;
  await assert.rejects(async () => {
    const p = hv.start(instance('inst1'), [], false);
    // The daemon's pid, while it lives (killed by the test's end otherwise).
    for (let i = 0; i < 100 && !daemon; i++) {
      await new Promise((r) => setTimeout(r, 50));
      daemon = hv.files.readPid('inst1') ?? 0;
    }
    if (daemon) killed.push(daemon);
    await p;
  }, /Can't connect to the QMP socket/);
  assert.ok(daemon > 0, 'qemu did start');
  assert.ok(!alive(daemon), 'the started qemu was destroyed');
  assert.ok(!fs.existsSync(hv.files.pidFile('inst1')));
  assert.ok(!fs.existsSync(hv.files.runtimeFile('inst1')));
  assert.deepEqual(await hv.listInstances(), []);
});

test('a qemu that does not finish starting is killed after the start timeout', async () => {
  const hv = new KvmHypervisor(nodePaths(path.join(dir, 'node2')));
  hv.startTimeoutMs = 1_500;
  process.env.FAKE_QEMU_MODE = 'hang';
  try {
    fs.rmSync(trace, { force: true });
    const t = Date.now();
    await assert.rejects(hv.start(instance('inst2'), [], false), /Failed to start instance inst2: qemu did not finish starting within 2 seconds/);
    assert.ok(Date.now() - t < 10_000);
  } finally {
    delete process.env.FAKE_QEMU_MODE;
  }
  const pid = Number(fs.readFileSync(trace, 'utf8'));
  killed.push(pid);
  for (let i = 0; i < 20 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(!alive(pid), 'the hanging qemu (its process group) was killed');
  assert.ok(!fs.existsSync(hv.files.runtimeFile('inst2')));
});

test('tap records: atomic, listed, and gone with the runtime files', async () => {
  const { recordTap, savedTaps } = await import('../../src/node/hypervisor/kvm/netdev.ts');
  const hv = new KvmHypervisor(nodePaths(path.join(dir, 'node3')));
  const nicDir = hv.files.instanceNicDir('inst3');
  recordTap(nicDir, 0, 'gntdeadbeef.0');
  recordTap(nicDir, 1, 'gntdeadbeef.1');
  fs.writeFileSync(path.join(nicDir, '.1.123.tmp'), 'half-written');
  assert.deepEqual(savedTaps(nicDir), ['gntdeadbeef.0', 'gntdeadbeef.1']);
  // Those devices do not exist: deleting them is harmless; the record goes.
  hv.files.removeRuntimeFiles('inst3');
  assert.ok(!fs.existsSync(nicDir));
  await hv.cleanup('inst3');
});

test('migration info: the target resumes only a guest that ran on the source', () => {
  assert.equal(guestRanBefore(JSON.stringify([[], [], {}, [], { guest_running: true }])), true);
  assert.equal(guestRanBefore(JSON.stringify([[], [], {}, [], { guest_running: false }])), false);
  assert.equal(guestRanBefore(JSON.stringify([[], [], {}, []])), false, 'no record: as upstream, no resume');
  assert.equal(guestRanBefore('not json'), false);
});

test('finalizeMigrationDst waits for the guest to arrive, resumes only a guest that ran', async () => {
  const hv = new KvmHypervisor(nodePaths(path.join(dir, 'node5')));
  // A "qemu" of instance inst5 (its command line names it) and a fake QMP monitor.
  const proc = spawn('sh', ['-c', 'sleep 60', 'qemu', '-name', 'inst5'], { stdio: 'ignore' });
  killed.push(proc.pid!);
  await new Promise((r) => setTimeout(r, 100));
  fs.writeFileSync(hv.files.pidFile('inst5'), `${proc.pid}\n`);
  let statuses: string[] = [];
  const commands: string[] = [];
  const server = net.createServer((c) => {
    c.write('{"QMP": {"version": {}, "capabilities": []}}\r\n');
    let buf = '';
    c.on('data', (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const msg = JSON.parse(buf.slice(0, nl)) as { execute: string; id: string };
        buf = buf.slice(nl + 1);
        commands.push(msg.execute);
        const ret = msg.execute === 'query-status' ? { status: statuses.length > 1 ? statuses.shift() : statuses[0] } : {};
        c.write(`${JSON.stringify({ return: ret, id: msg.id })}\r\n`);
      }
    });
  });
  await new Promise<void>((r) => server.listen(hv.files.qmpSocket('inst5'), r));
  try {
    const inst = instance('inst5');
    const ran = JSON.stringify([[], [], {}, [], { guest_running: true }]);
    const paused = JSON.stringify([[], [], {}, [], { guest_running: false }]);
    // Still loading the last state for a moment after the source completed, then paused (non-live): resumed.
    statuses = ['inmigrate', 'inmigrate', 'paused'];
    await hv.finalizeMigrationDst(inst, ran, true);
    assert.equal(commands.filter((c) => c === 'cont').length, 1);
    // Paused on the source before the migration: stays paused.
    statuses = ['paused'];
    await hv.finalizeMigrationDst(inst, paused, true);
    assert.equal(commands.filter((c) => c === 'cont').length, 1);
    // Never arrives: a clear error after the wait.
    hv.migrationArrivalTimeoutMs = 500;
    statuses = ['inmigrate'];
    await assert.rejects(hv.finalizeMigrationDst(inst, ran, true), /Instance inst5 has not arrived on the target/);
  } finally {
    server.close();
    proc.kill('SIGKILL');
  }
});
