// The kvm hypervisor on real qemu with the tests' tiny guest (test/fixtures/guest/):
// start, stop and live-migration times, and noded's memory while it manages 10 guests.
//
//   node bench/kvm.ts        (GANETI_BIN: the executable, default dist/ganeti)
//
// Figures: "start" is the `gnt-instance start` job (qemu up and running); "boot" the time
// from there to the guest's first marker line on its serial console (TCG here: no
// /dev/kvm); "stop" a `gnt-instance shutdown` answered by the guest's ACPI handler;
// "migrate" a live migration between the two virtual nodes (`gnt-instance migrate` when
// this build has it, else the hypervisor calls the master would make, in this process).
// noded's RSS is read from /proc before any guest, with 10 running guests of 96 MiB, and
// after listing them with their live fields (one QMP query per guest).
// Baseline: the developers' guide has none for kvm (real Ganeti: about 1 s to stop an
// instance under the fake hypervisor; Ganeti's own job overhead is most of that).
import fs from 'node:fs';
import path from 'node:path';
import net from 'node:net';
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { TestCluster, type VirtualNode } from '../test/integration/cluster.ts';
import { KvmHypervisor } from '../src/node/hypervisor/kvm/index.ts';
import { parseRuntime } from '../src/node/hypervisor/kvm/runtime.ts';
import { nodePaths } from '../src/util/paths.ts';

const QEMU = '/usr/bin/qemu-system-x86_64';
const GUESTS = Number(process.env.BENCH_KVM_GUESTS ?? 10);
const GUEST_MIB = Number(process.env.BENCH_KVM_MEMORY ?? 96);

function rssMib(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

function ok(n: VirtualNode, tool: string, args: string[]): string {
  const r = n.run(tool, args);
  if (r.code !== 0) throw new Error(`${tool} ${args.join(' ')}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

function timed(fn: () => void): number {
  const t = performance.now();
  fn();
  return (performance.now() - t) / 1000;
}

/** Seconds until the guest's marker shows on its serial socket. */
function waitMarker(socket: string, name: string, timeoutMs = 120_000): Promise<number> {
  const t = performance.now();
  return new Promise((resolve, reject) => {
    let buf = '';
    const conn = net.createConnection(socket);
    const timer = setTimeout(() => {
      conn.destroy();
      reject(new Error(`no marker from ${name}`));
    }, timeoutMs);
    conn.on('data', (d) => {
      buf += d;
      if (buf.includes(`GANETI-GUEST-READY ${name} tick`)) {
        clearTimeout(timer);
        conn.destroy();
        resolve((performance.now() - t) / 1000);
      }
    });
    conn.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

function killGuests(cluster: TestCluster): void {
  for (const n of cluster.nodes) {
    const dir = n.file('var/run/ganeti/kvm-hypervisor/pid');
    for (const f of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
      const pid = Number(fs.readFileSync(path.join(dir, f), 'utf8'));
      try {
        if (fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(f)) process.kill(pid, 'SIGKILL');
      } catch { /* gone */ }
    }
  }
}

async function main(): Promise<void> {
  if (!fs.existsSync(QEMU)) {
    console.log(`kvm bench skipped: qemu is not installed (${QEMU})`);
    return;
  }
  const built = spawnSync('sh', [path.join(import.meta.dirname, '../test/fixtures/guest/build.sh')], { encoding: 'utf8' });
  if (built.status !== 0) {
    console.log(`kvm bench skipped: the test guest cannot be built: ${built.stderr.trim()}`);
    return;
  }
  const kernel = /^kernel (.*)$/m.exec(built.stdout)![1];
  const initrd = /^initrd (.*)$/m.exec(built.stdout)![1];
  const cluster = new TestCluster();
  try {
    const node1 = cluster.init('node1', 'cluster.test', ['--enabled-hypervisors=kvm']);
    ok(node1, 'gnt-cluster', ['modify', '-H', `kvm:kvm_path=${QEMU},kernel_path=${kernel},initrd_path=${initrd},migration_bandwidth=1024`]);
    const node2 = cluster.join(node1, 'node2');
    const add = (name: string, mib: number, start: boolean) => ok(node1, 'gnt-instance', ['add', '-o', 'noop', '-t', 'diskless', '--no-name-check', '--no-ip-check', '--no-nics', '--ignore-ipolicy',
      '-n', 'node1', '-B', `maxmem=${mib},minmem=${mib},vcpus=1`, '-H', `kvm:kernel_args=ro ganeti_name=${name} quiet`, ...(start ? [] : ['--no-start']), name]);
    const hv1 = new KvmHypervisor(nodePaths(node1.root));
    const hv2 = new KvmHypervisor(nodePaths(node2.root));

    add('bench1', 128, false);
    const start = timed(() => ok(node1, 'gnt-instance', ['start', 'bench1']));
    const boot = await waitMarker(hv1.files.serialSocket('bench1'), 'bench1');
    const stop = timed(() => ok(node1, 'gnt-instance', ['shutdown', 'bench1']));
    ok(node1, 'gnt-instance', ['start', 'bench1']);
    await waitMarker(hv1.files.serialSocket('bench1'), 'bench1');

    let migrate: number;
    let how: string;
    const help = node1.run('gnt-instance', ['migrate', '--help']);
    if (help.code === 0) {
      how = 'gnt-instance migrate -f';
      migrate = timed(() => ok(node1, 'gnt-instance', ['migrate', '-f', 'bench1']));
      await waitMarker(hv2.files.serialSocket('bench1'), 'bench1');
    } else {
      how = 'hypervisor calls (no gnt-instance migrate in this build)';
      const runtime = parseRuntime(fs.readFileSync(path.join(hv1.files.confDir, 'bench1.runtime'), 'utf8'));
      const inst = { name: 'bench1', hypervisor: 'kvm', hvparams: runtime[2], beparams: { maxmem: 128, vcpus: 1 } };
      const t = performance.now();
      const info = await hv1.migrationInfo(inst);
      await hv2.acceptInstance(inst, [], info, node2.ip);
      await hv1.migrateInstance('cluster.test', inst, node2.ip, true);
      let st = await hv1.getMigrationStatus(inst);
      while (st.status === 'active' || st.status === 'setup') {
        await new Promise((r) => setTimeout(r, 100));
        st = await hv1.getMigrationStatus(inst);
      }
      if (st.status !== 'completed') throw new Error(`migration ${st.status}`);
      await hv2.finalizeMigrationDst(inst, info, true);
      await hv1.finalizeMigrationSource(inst, true, true);
      migrate = (performance.now() - t) / 1000;
      // Back where the configuration has it.
      const back = { ...inst };
      const info2 = await hv2.migrationInfo(back);
      await hv1.acceptInstance(back, [], info2, node1.ip);
      await hv2.migrateInstance('cluster.test', back, node1.ip, true);
      for (let s = await hv2.getMigrationStatus(back); s.status === 'active' || s.status === 'setup'; s = await hv2.getMigrationStatus(back)) {
        await new Promise((r) => setTimeout(r, 100));
      }
      await hv1.finalizeMigrationDst(back, info2, true);
      await hv2.finalizeMigrationSource(back, true, true);
    }
    ok(node1, 'gnt-instance', ['remove', '-f', 'bench1']);

    const noded = node1.pid('ganeti-noded')!;
    const rssBefore = rssMib(noded);
    const t0 = performance.now();
    for (let i = 1; i <= GUESTS; i++) add(`g${i}`, GUEST_MIB, true);
    const addAll = (performance.now() - t0) / 1000;
    const rssRunning = rssMib(noded);
    const listT = timed(() => ok(node1, 'gnt-instance', ['list', '-o', 'name,status,oper_ram,oper_vcpus']));
    for (let i = 0; i < 5; i++) ok(node1, 'gnt-instance', ['list', '-o', 'name,status,oper_ram']);
    const rssListed = rssMib(noded);
    const qemuRss = fs.readdirSync(hv1.files.pidDir).reduce((sum, f) => sum + rssMib(Number(fs.readFileSync(path.join(hv1.files.pidDir, f), 'utf8'))), 0);

    console.log(`kvm (qemu ${spawnSync(QEMU, ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0].replace(/^QEMU emulator version /, '')}, ${fs.existsSync('/dev/kvm') ? 'KVM' : 'TCG, no /dev/kvm'}):`);
    console.log(`  start (gnt-instance start, 128 MiB):   ${start.toFixed(2)} s   (+ ${boot.toFixed(1)} s guest boot to its first console line)`);
    console.log(`  stop (gnt-instance shutdown, ACPI):    ${stop.toFixed(2)} s   (upstream baseline: ~1 s with the fake hypervisor; none for kvm)`);
    console.log(`  live migration node1 → node2:          ${migrate.toFixed(2)} s   (${how})`);
    console.log(`  ${GUESTS} guests of ${GUEST_MIB} MiB added and started:  ${addAll.toFixed(1)} s; gnt-instance list with live fields: ${listT.toFixed(2)} s`);
    console.log(`  noded RSS: ${rssBefore.toFixed(1)} MiB without guests, ${rssRunning.toFixed(1)} MiB with ${GUESTS} running, ${rssListed.toFixed(1)} MiB after listing them 6 times`);
    console.log(`  (the ${GUESTS} qemu processes: ${qemuRss.toFixed(0)} MiB RSS together)`);
  } finally {
    killGuests(cluster);
    cluster.destroy();
  }
}

await main();
