// The watcher's pure parts: the state file (upstream's format, corrupt files, expiry),
// the restart/clean-up decisions with their retry budget and the lock check (Ganeti
// #790), disk activation after a reboot, the pause file and the command line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { lockedInstances, planDiskActivation, planInstances, type WatchedInstance, type WatchedNode } from '../../src/watcher/decide.ts';
import { MAXTRIES, parseState, pythonJson, RETRY_EXPIRATION, serializeState, WatcherState } from '../../src/watcher/state.ts';
import { watcherPaused } from '../../src/watcher/pause.ts';

function capture() {
  const lines: Array<{ level: number; msg: string }> = [];
  const log = pino({ level: 'debug' }, { write: (l: string) => { lines.push(JSON.parse(l) as { level: number; msg: string }); } });
  return { log, lines, messages: () => lines.map((l) => l.msg) };
}

function inst(name: string, status: string, extra: Partial<WatchedInstance> = {}): WatchedInstance {
  return { name, uuid: `uuid-${name}`, status, adminState: 'up', disksActive: true, snodes: [], diskTemplate: 'diskless', ...extra };
}

function freshState(now = 1_000_000): { state: WatcherState; clock: { t: number } } {
  const clock = { t: now };
  return { state: new WatcherState(parseState('').data, () => clock.t), clock };
}

test('state file: upstream JSON layout, Python separators, a trailing newline', () => {
  const { state } = freshState(1700000000.5);
  state.recordRestartAttempt('web1');
  state.setNodeBootId('node1', 'b00t');
  const text = serializeState(state.data);
  assert.equal(text, '{"instance": {"web1": {"restart_when": 1700000000.5, "restart_count": 1}}, "node": {"node1": {"bootid": "b00t"}}}\n');
  const again = parseState(text);
  assert.equal(again.error, null);
  assert.deepEqual(again.data, state.data);
  assert.equal(pythonJson({ a: [1, 'x', null, true] }), '{"a": [1, "x", null, true]}');
});

test('state file: empty is new, corrupt or mis-shaped content gives defaults and the reason', () => {
  assert.deepEqual(parseState(''), { data: { instance: {}, node: {} }, error: null });
  for (const bad of ['{"instance": ', '[1, 2]', '"text"', '{"instance": []}', '{"instance": {"a": 5}}', '{"instance": {"a": {"restart_count": "x"}}}', '{"node": {"n": {"bootid": 7}}}']) {
    const r = parseState(bad);
    assert.ok(r.error, bad);
    assert.deepEqual(r.data, { instance: {}, node: {} }, bad);
  }
  // Keys of its own (older or newer versions) are kept; missing sections are added.
  assert.deepEqual(parseState('{"node": {}, "extra": 1}').data, { node: {}, extra: 1, instance: {} });
});

test('state: obsolete instances and records older than 8 hours are forgotten', () => {
  const { state, clock } = freshState();
  state.recordRestartAttempt('gone');
  state.recordRestartAttempt('old');
  clock.t += RETRY_EXPIRATION - 10;
  state.recordRestartAttempt('recent');
  state.recordCleanupAttempt('cleaned');
  clock.t += 20;
  const r = state.maintainInstanceList(['old', 'recent', 'cleaned']);
  assert.deepEqual(r, { obsolete: ['gone'], expired: ['old'] });
  assert.deepEqual(Object.keys(state.data.instance).sort(), ['cleaned', 'recent']);
});

test('restarts: five attempts, then one "giving up", then "retries exhausted"', () => {
  const { state } = freshState();
  const down = [inst('web1', 'ERROR_down')];
  const messages: string[] = [];
  for (let run = 0; run < MAXTRIES + 2; run++) {
    const [d] = planInstances(down, new Set(), state);
    messages.push(`${d.action} ${d.level} ${d.message}`);
    if (d.action === 'restart' || d.action === 'give-up') state.recordRestartAttempt(d.instance);
  }
  assert.deepEqual(messages, [
    "restart info Restarting instance 'web1' (attempt #1)",
    "restart info Restarting instance 'web1' (attempt #2)",
    "restart info Restarting instance 'web1' (attempt #3)",
    "restart info Restarting instance 'web1' (attempt #4)",
    "restart info Restarting instance 'web1' (attempt #5)",
    "give-up error Could not restart instance 'web1' after 5 attempts, giving up",
    "skip warn Not restarting instance 'web1', retries exhausted",
  ]);
  // Running again: the record goes, with a word; down with its node: it goes silently.
  assert.deepEqual(planInstances([inst('web1', 'running')], new Set(), state),
    [{ instance: 'web1', action: 'forget', level: 'info', message: "Restart of instance 'web1' succeeded" }]);
  assert.deepEqual(planInstances([inst('web1', 'ERROR_nodedown')], new Set(), state),
    [{ instance: 'web1', action: 'forget', level: 'info', message: null }]);
});

test('restarts: only ERROR_down instances; healthy ones without records need nothing', () => {
  const { state } = freshState();
  const all = ['running', 'ADMIN_down', 'ADMIN_offline', 'ERROR_up', 'ERROR_wrongnode', 'ERROR_nodedown', 'ERROR_nodeoffline']
    .map((s, i) => inst(`i${i}`, s));
  assert.deepEqual(planInstances(all, new Set(), state), []);
});

test('an instance a job holds or waits for is left alone (Ganeti #790), by UUID or by name', () => {
  const rows = [
    ['cluster/BGL', 'shared', ['job/7'], []],
    ['instance/uuid-held', 'exclusive', ['job/7'], []],
    ['instance/waited', null, [], [['exclusive', ['job/8']]]],
    ['instance/idle', null, [], []],
    ['node/uuid-node', 'exclusive', ['job/7'], []],
  ];
  const locked = lockedInstances(rows);
  assert.deepEqual([...locked].sort(), ['uuid-held', 'waited']);
  const { state } = freshState();
  const plan = planInstances([inst('held', 'ERROR_down'), inst('waited', 'ERROR_down'), inst('free', 'ERROR_down'),
    inst('user', 'USER_down', { uuid: 'uuid-held' })], locked, state);
  assert.deepEqual(plan.map((d) => [d.action, d.message]), [
    ['skip', "Not restarting instance 'held', instance is locked"],
    ['skip', "Not restarting instance 'waited', instance is locked"],
    ['restart', "Restarting instance 'free' (attempt #1)"],
    ['skip', "Not cleaning up instance 'user', instance is locked"],
  ]);
  // Skipping for a lock spends none of the budget.
  assert.equal(state.restartAttempts('held'), 0);
});

test('user shutdowns are cleaned up unless the instance is meant to be down; clean-ups have their own budget', () => {
  const { state } = freshState();
  const plan = planInstances([inst('u1', 'USER_down'), inst('u2', 'USER_down', { adminState: 'down' })], new Set(), state);
  assert.deepEqual(plan.map((d) => [d.instance, d.action, d.message]), [
    ['u1', 'cleanup', "Instance 'u1' was shutdown by the user, cleaning up instance"],
  ]);
  for (let i = 0; i <= MAXTRIES; i++) state.recordCleanupAttempt('u1');
  assert.deepEqual(planInstances([inst('u1', 'USER_down')], new Set(), state).map((d) => [d.action, d.level, d.message]),
    [['skip', 'warn', "Not cleaning up instance 'u1', retries exhausted"]]);
});

test('disks: activated on a rebooted secondary, not for instances just started, locked, or with inactive disks', () => {
  const { state } = freshState();
  state.setNodeBootId('n1', 'boot-a');
  state.setNodeBootId('n2', 'boot-b');
  const instances = new Map([
    ['d1', inst('d1', 'running', { snodes: ['n2'] })],
    ['d2', inst('d2', 'running', { snodes: ['n2'], disksActive: false })],
    ['d3', inst('d3', 'running', { snodes: ['n2'] })],
    ['d4', inst('d4', 'running', { snodes: ['n3'] })],
    ['d5', inst('d5', 'running', { snodes: ['n3'] })],
  ]);
  const nodes: WatchedNode[] = [
    { name: 'n1', bootid: 'boot-a', offline: false, secondaries: [] }, // not rebooted
    { name: 'n2', bootid: 'boot-b2', offline: false, secondaries: ['d1', 'd2', 'd3', 'gone'] },
    { name: 'n3', bootid: 'boot-c', offline: false, secondaries: ['d4', 'd5'] }, // first seen
    { name: 'n4', bootid: null, offline: false, secondaries: [] },
    { name: 'n5', bootid: null, offline: true, secondaries: [] },
  ];
  const plan = planDiskActivation(nodes, instances, new Set(['uuid-d5']), new Set(['d3']), state);
  assert.deepEqual(plan.decisions.map((d) => [d.instance, d.activate, d.level, d.message]), [
    ['d1', true, 'info', "Activating disks for instance 'd1'"],
    ['d2', false, 'info', "Skipping disk activation for instance with not activated disks 'd2'"],
    ['d3', false, 'debug', "Skipping disk activation for instance 'd3' as it was already started"],
    ['gone', false, 'info', "Can't find instance 'gone', maybe it was ignored"],
    ['d4', true, 'info', "Activating disks for instance 'd4'"],
    ['d5', false, 'info', "Not activating disks for instance 'd5', instance is locked"],
    ['', false, 'debug', "Node 'n4' missing boot ID, skipping secondary checks"],
  ]);
  // n3 had a locked instance: its boot id is not taken, so the next run looks again.
  assert.deepEqual(plan.bootids, [['n2', 'boot-b2']]);
});

test('pause file: paused until its time, outdated and invalid files removed, unreadable means paused', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'watcher-pause-'));
  try {
    const file = path.join(dir, 'watcher.pause');
    const { log, messages } = capture();
    assert.equal(watcherPaused(file, log, 1000), false);
    fs.writeFileSync(file, '2000\n');
    assert.equal(watcherPaused(file, log, 1000), true);
    assert.equal(watcherPaused(file, log, 2000), true);
    assert.equal(watcherPaused(file, log, 2001), false);
    assert.ok(fs.existsSync(file), 'kept for an hour after its end');
    assert.equal(watcherPaused(file, log, 2000 + 3601), false);
    assert.ok(!fs.existsSync(file), 'removed an hour after its end');
    fs.writeFileSync(file, 'soon\n');
    assert.equal(watcherPaused(file, log, 1000), false);
    assert.ok(!fs.existsSync(file));
    assert.equal(messages().at(-1), `Watcher pause file (${file}) contains invalid value, removing it`);
    fs.mkdirSync(file);
    assert.equal(watcherPaused(file, log, 1000), true);
    assert.match(messages().at(-1)!, /^Watcher pause file \(.*\) cannot be read \(.*EISDIR.*\), treating the watcher as paused$/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
