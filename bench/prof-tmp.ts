import fs from 'node:fs';
import { jobEnd, TestCluster } from '../test/integration/cluster.ts';
import { LuxiClient } from '../src/luxi/client.ts';
const JOBS = Number(process.env.BENCH_JOBS ?? 2000);
const cluster = new TestCluster();
try {
  const node = cluster.init();
  const socket = node.file('var/run/ganeti/socket/ganeti-query');
  const masterd = Number(fs.readFileSync(node.file('var/run/ganeti/ganeti-masterd.pid'), 'utf8'));
  let next = 0;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  await Promise.all(Array.from({ length: 10 }, async () => {
    const client = await LuxiClient.connect(socket);
    while (next < JOBS) {
      next++;
      const id = (await client.call('SubmitJob', [[{ OP_ID: 'OP_TEST_DELAY', duration: 0.001 }]])) as number;
      await jobEnd(client, id);
    }
    client.close();
  }));
  const wall = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  console.log(`jobs/s ${(JOBS / wall).toFixed(0)}; bench client CPU/job ${((c.user + c.system) / 1000 / JOBS).toFixed(3)} ms`);
  process.kill(masterd, 'SIGUSR2');
  await new Promise((r) => setTimeout(r, 2000));
} finally {
  cluster.destroy();
}
