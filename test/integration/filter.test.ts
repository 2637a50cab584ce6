// Job filter rules on real jobs (OP_TEST_DELAY), through gnt-filter and through LUXI:
// PAUSE keeps jobs queued until the rule goes or changes, REJECT cancels them (only jobs
// newer than the watermark when asked so), RATE_LIMIT n lets at most n run at once, ACCEPT
// ahead of a PAUSE lets a maintenance through, CONTINUE changes nothing; the rules in
// config.data's format; gnt-filter's output the same as Ganeti 3.0's own client prints it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { LuxiClient } from '../../src/luxi/client.ts';
import { jobEnd, TestCluster } from './cluster.ts';

const cluster = new TestCluster();
const node = cluster.init('node1.flt.test', 'cluster.flt.test');
let luxi: LuxiClient;
before(async () => {
  luxi = await LuxiClient.connect(node.file('var/run/ganeti/socket/ganeti-master'));
});
after(() => {
  luxi?.close();
  cluster.destroy();
});

const PYTHONPATH = '/usr/share/ganeti/3.0';
const realClient = fs.existsSync(`${PYTHONPATH}/ganeti/client/gnt_filter.py`) && fs.existsSync('/usr/bin/python3');

function ok(tool: string, args: string[]): string {
  const r = node.run(tool, args);
  assert.equal(r.code, 0, `${tool} ${args.join(' ')}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

function sameAsReal(args: string[]): string {
  const ours = node.run('gnt-filter', args);
  if (realClient) {
    const r = spawnSync('/usr/bin/python3', ['-c', "import sys; sys.argv[0] = 'gnt-filter'; from ganeti.client import gnt_filter as m; sys.exit(m.Main())", ...args], {
      env: { ...node.env, PYTHONPATH }, encoding: 'utf8',
    });
    assert.deepEqual({ code: ours.code, stdout: ours.stdout, stderr: ours.stderr }, { code: r.status, stdout: r.stdout, stderr: r.stderr }, `gnt-filter ${args.join(' ')}`);
  }
  return ours.stdout;
}

const DELAY = (duration: number, reason: unknown[][] = []) => [{ OP_ID: 'OP_TEST_DELAY', duration, reason }];
const submit = async (duration: number, reason: unknown[][] = []) => Number(await luxi.call('SubmitJob', [DELAY(duration, reason)]));
const status = async (id: number) => ((await luxi.call('QueryJobs', [[id], ['status']])) as string[][])[0][0];
const IS_DELAY = JSON.stringify([['opcode', ['=', 'OP_ID', 'OP_TEST_DELAY']]]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function configFilters(): Record<string, any> {
  const journal = node.file('var/lib/ganeti/config.journal');
  const deadline = Date.now() + 10_000;
  while (fs.existsSync(journal) && fs.statSync(journal).size > 0 && Date.now() < deadline) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  return JSON.parse(fs.readFileSync(node.file('var/lib/ganeti/config.data'), 'utf8')).filters;
}

test('PAUSE keeps matching jobs queued; deleting the rule starts them; other jobs run', async () => {
  const uuid = ok('gnt-filter', ['add', '--predicates', IS_DELAY, '--action', 'PAUSE', '--reason', 'maintenance']).trim();
  assert.match(uuid, /^[0-9a-f-]{36}$/);
  const rule = configFilters()[uuid];
  assert.deepEqual(Object.keys(rule).sort(), ['action', 'predicates', 'priority', 'reason_trail', 'uuid', 'watermark']);
  assert.deepEqual({ action: rule.action, priority: rule.priority, predicates: rule.predicates, watermark: rule.watermark },
    { action: 'PAUSE', priority: 0, predicates: JSON.parse(IS_DELAY), watermark: 1 });
  assert.deepEqual(rule.reason_trail.map((r: unknown[]) => r.slice(0, 2)), [['gnt:user', 'maintenance'], ['luxid', '']]);

  const paused = await submit(0.01);
  const other = Number(await luxi.call('SubmitJob', [[{ OP_ID: 'OP_TAGS_SET', kind: 'cluster', tags: ['x'] }]]));
  assert.equal(await jobEnd(luxi, other), 'success');
  await sleep(300);
  assert.equal(await status(paused), 'queued');
  assert.match(ok('gnt-job', ['list', '--no-headers', '-o', 'id,status', String(paused)]), /queued/);
  ok('gnt-filter', ['delete', uuid]);
  assert.equal(await jobEnd(luxi, paused), 'success');
  assert.deepEqual(configFilters(), {});
});

test('REJECT cancels queued jobs newer than the watermark (LUXI ReplaceFilter); older paused ones are kept', async () => {
  const pause = String(await luxi.call('ReplaceFilter', [null, 5, JSON.parse(IS_DELAY), 'PAUSE', []]));
  const older = await submit(0.01);
  const reject = String(await luxi.call('ReplaceFilter', [null, 0, [['jobid', ['>', 'id', 'watermark']]], 'REJECT', [['test', 'drain', 1]]]));
  assert.equal(configFilters()[reject].watermark, older);
  const newer = await submit(0.01);
  assert.equal(await jobEnd(luxi, newer), 'canceled');
  const [[opstatus, opresult]] = (await luxi.call('QueryJobs', [[newer], ['opstatus', 'opresult']])) as unknown[][][];
  assert.deepEqual([opstatus, opresult], [['canceled'], [null]]);
  assert.equal(await status(older), 'queued');
  // The synchronous command reports the cancellation as upstream's does.
  const r = node.run('gnt-debug', ['delay', '0.01']);
  assert.deepEqual({ code: r.code, stderr: r.stderr }, { code: 1, stderr: 'Failure: command execution error:\nJob was canceled\n' });
  assert.equal(await luxi.call('DeleteFilter', [reject]), null);
  // Replacing the PAUSE rule by an ACCEPT one lets the older job run.
  assert.equal(await luxi.call('ReplaceFilter', [pause, 5, JSON.parse(IS_DELAY), 'ACCEPT', []]), pause);
  assert.equal(await jobEnd(luxi, older), 'success');
  await luxi.call('DeleteFilter', [pause]);
});

test('RATE_LIMIT n: at most n matching jobs run at once, all finish', async () => {
  const uuid = ok('gnt-filter', ['add', '--predicates', IS_DELAY, '--action', 'RATE_LIMIT 1']).trim();
  assert.deepEqual(configFilters()[uuid].action, ['RATE_LIMIT', 1]);
  const ids = [await submit(0.4), await submit(0.4), await submit(0.4)];
  let maxRunning = 0;
  const done = Promise.all(ids.map((id) => jobEnd(luxi, id)));
  let finished = false;
  void done.then(() => { finished = true; });
  while (!finished) {
    const rows = (await luxi.call('QueryJobs', [ids, ['status']])) as string[][];
    maxRunning = Math.max(maxRunning, rows.filter(([s]) => s === 'running' || s === 'waiting').length);
    await sleep(50);
  }
  assert.deepEqual(await done, ['success', 'success', 'success']);
  assert.equal(maxRunning, 1);
  ok('gnt-filter', ['delete', uuid]);
});

test('ACCEPT ahead of PAUSE lets one maintenance through; CONTINUE changes nothing', async () => {
  const accept = ok('gnt-filter', ['add', '--priority', '0', '--predicates', JSON.stringify([['reason', ['=', 'reason', 'pink bunny']]]), '--action', 'ACCEPT']).trim();
  const cont = ok('gnt-filter', ['add', '--priority', '0', '--predicates', '[]', '--action', 'CONTINUE']).trim();
  const pause = ok('gnt-filter', ['add', '--priority', '1', '--predicates', JSON.stringify([['jobid', ['>', 'id', 'watermark']]]), '--action', 'PAUSE']).trim();
  const held = await submit(0.01);
  const maint = await submit(0.01, [['gnt:user', 'pink bunny', 1]]);
  assert.equal(await jobEnd(luxi, maint), 'success');
  assert.equal(await status(held), 'queued');
  ok('gnt-filter', ['replace', '--priority', '1', '--action', 'CONTINUE', pause]);
  assert.equal(await jobEnd(luxi, held), 'success');
  for (const u of [accept, cont, pause]) ok('gnt-filter', ['delete', u]);
});

test('gnt-filter list, list-fields and info as Ganeti 3.0\'s client prints them; errors', async () => {
  const uuid = ok('gnt-filter', ['add', '--priority', '3', '--predicates', IS_DELAY, '--action', 'RATE_LIMIT 4', '--reason', 'why']).trim();
  const list = sameAsReal(['list']);
  assert.match(list, /^UUID +Watermark Priority Predicates +Action +ReasonTrail\n/);
  assert.match(list, new RegExp(`\n${uuid} \\d+ +3 +\\[\\['opcode', \\['=', 'OP_ID', 'OP_TEST_DELAY'\\]\\]\\] \\['RATE_LIMIT', 4\\] \\[\\['gnt:user', 'why', \\d+\\], \\['luxid', '', \\d+\\]\\]\n`));
  sameAsReal(['list', '--no-headers', '--separator=|', '-o', 'uuid,action,priority', uuid]);
  sameAsReal(['list-fields']);
  const info = sameAsReal(['info', uuid]);
  assert.match(info, new RegExp(`^UUID: ${uuid}\n  Watermark: \\d+\n  Priority: 3\n  Predicates: \\[\\['opcode', \\['=', 'OP_ID', 'OP_TEST_DELAY'\\]\\]\\]\n  Action: \\['RATE_LIMIT', 4\\]\n  Reason trail: \\[\\['gnt:user', 'why', \\d+\\], \\['luxid', '', \\d+\\]\\]\n$`));
  ok('gnt-filter', ['delete', uuid]);

  const missing = node.run('gnt-filter', ['delete', uuid]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, new RegExp(`Filter rule with UUID ${uuid} does not exist`));
  const badUuid = node.run('gnt-filter', ['replace', '--action', 'ACCEPT', 'not-a-uuid']);
  assert.equal(badUuid.code, 1);
  assert.match(badUuid.stderr, /Unable to parse UUID/);
  const badAction = node.run('gnt-filter', ['add', '--action', 'DROP']);
  assert.equal(badAction.code, 1);
  assert.match(badAction.stderr, /unknown filter action 'DROP'/);
  await assert.rejects(luxi.call('ReplaceFilter', [null, -1, [], 'ACCEPT', []]), /priority must be a non-negative integer/);
  await assert.rejects(luxi.call('ReplaceFilter', [null, 0, [['status', ['=', 'a', 'b']]], 'ACCEPT', []]), /invalid filter predicate/);
  assert.deepEqual(configFilters(), {});
});
