import fs from 'node:fs';
import { execSync } from 'node:child_process';
import { jobEnd, TestCluster } from '../test/integration/cluster.ts';
import { LuxiClient } from '../src/luxi/client.ts';
const JOBS = Number(process.env.BENCH_JOBS ?? 2000);
const cluster = new TestCluster();
try {
  const node = cluster.init();
  const socket = node.file('var/run/ganeti/socket/ganeti-query');
  const masterd = Number(fs.readFileSync(node.file('var/run/ganeti/ganeti-masterd.pid'), 'utf8'));
  const before = execSync(`/tmp/threads.sh ${masterd}`, { encoding: 'utf8' });
  let next = 0;
  const acks: number[] = []; const ends: number[] = []; const ids: number[] = [];
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  await Promise.all(Array.from({ length: 10 }, async () => {
    const client = await LuxiClient.connect(socket);
    while (next < JOBS) {
      next++;
      const ts = performance.now();
      const id = (await client.call('SubmitJob', [[{ OP_ID: 'OP_TEST_DELAY', duration: 0.001 }]])) as number;
      const ta = performance.now();
      await jobEnd(client, id);
      acks.push(ta - ts); ends.push(performance.now() - ta); ids.push(id);
    }
    client.close();
  }));
  const wall = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  console.log(`jobs/s ${(JOBS / wall).toFixed(0)}; bench client CPU/job ${((c.user + c.system) / 1000 / JOBS).toFixed(3)} ms`);
  const q = (a: number[], p: number) => { const b = [...a].sort((x, y) => x - y); return b[Math.floor(p * b.length)].toFixed(2); };
  console.log('client: submit->ack p50', q(acks, .5), 'p90', q(acks, .9), '; ack->end p50', q(ends, .5), 'p90', q(ends, .9));
  const c2 = await LuxiClient.connect(socket);
  const rows = (await c2.call('QueryJobs', [ids, ['received_ts', 'start_ts', 'end_ts', 'opexec', 'opend']])) as any[];
  const ms = (t: [number, number]) => t[0] * 1000 + t[1] / 1000;
  const pick: number[] = [], toExec: number[] = [], execLen: number[] = [], fin: number[] = [];
  for (const [r, st, en, [ex], [oe]] of rows) { pick.push(ms(st) - ms(r)); toExec.push(ms(ex) - ms(st)); execLen.push(ms(oe) - ms(ex)); fin.push(ms(en) - ms(oe)); }
  console.log('server: received->start p50', q(pick, .5), 'p90', q(pick, .9), '; start->exec', q(toExec, .5), q(toExec, .9), '; exec->opend', q(execLen, .5), q(execLen, .9), '; opend->end', q(fin, .5), q(fin, .9));
  c2.close();
  console.log('before\n' + before + 'after\n' + execSync(`/tmp/threads.sh ${masterd}`, { encoding: 'utf8' }));
  if (process.env.GANETI_CPU_PROFILE_DIR) { process.kill(masterd, 'SIGUSR2'); await new Promise((r) => setTimeout(r, 2000)); }
} finally {
  if (process.env.KEEP) for (const n of (cluster as any).nodes) n.kill(); else cluster.destroy();
}
