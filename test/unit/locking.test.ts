import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProgrammerError } from '../../src/core/errors.ts';
import { runQuery } from '../../src/core/query.ts';
import { LOCK_FIELDS } from '../../src/master/locking/fields.ts';
import { LEVELS, LockManager, LockTimeout, lockAttemptTimeouts, type Level } from '../../src/master/locking/manager.ts';

function fixedMembers(): Record<Level, string[]> {
  return {
    cluster: ['BGL'], instance: ['i1', 'i2', 'i3'], 'node-alloc': ['NAL'], nodegroup: ['g1', 'g2'],
    node: ['n1', 'n2', 'n3', 'n4'], 'node-res': ['n1', 'n2', 'n3', 'n4'], network: ['net1', 'net2'],
  };
}

function setup() {
  const members = fixedMembers();
  return { members, lm: new LockManager((level) => members[level]) };
}

/** Observe a promise's outcome without awaiting it. */
function watch<T>(p: Promise<T>) {
  const w = { done: false, value: undefined as T | undefined, error: undefined as unknown };
  p.then((v) => { w.done = true; w.value = v; }, (e: unknown) => { w.done = true; w.error = e; });
  return w;
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

test('shared locks are compatible; exclusive conflicts with shared and exclusive', async () => {
  const { lm } = setup();
  assert.deepEqual(await lm.acquire('a', 'node', ['n1'], true, 0), ['n1']);
  assert.deepEqual(await lm.acquire('b', 'node', ['n1'], true, 0), ['n1']);
  const c = watch(lm.acquire('c', 'node', ['n2', 'n1'], false, 0));
  await tick();
  assert.equal(c.done, false);
  lm.release('a', 'node');
  await tick();
  assert.equal(c.done, false);
  lm.releaseAll('b');
  await tick();
  assert.deepEqual(c.value, ['n1', 'n2']);
  const d = watch(lm.acquire('d', 'node', ['n2'], false, 0));
  const e = watch(lm.acquire('e', 'node', ['n2'], true, 0));
  await tick();
  assert.equal(d.done || e.done, false);
  lm.release('c');
  await tick();
  assert.equal(d.done, true);
  assert.equal(e.done, false);
});

test('all members (ALL_SET) against single members, both ways', async () => {
  const { lm, members } = setup();
  // Exclusive "all" excludes any member holder, and waits for them.
  await lm.acquire('a', 'node', ['n3'], true, 0);
  const all = watch(lm.acquire('b', 'node', null, false, 0));
  await tick();
  assert.equal(all.done, false);
  lm.releaseAll('a');
  await tick();
  assert.deepEqual(all.value, ['n1', 'n2', 'n3', 'n4']);
  const member = watch(lm.acquire('c', 'node', ['n1'], true, 0));
  await tick();
  assert.equal(member.done, false);
  lm.releaseAll('b');
  await tick();
  assert.equal(member.done, true);

  // Shared "all" coexists with shared members but not with exclusive ones.
  assert.deepEqual(await lm.acquire('d', 'node', null, true, 0), ['n1', 'n2', 'n3', 'n4']);
  const sharedMember = watch(lm.acquire('e', 'node', ['n2'], true, 0));
  const exclusiveMember = watch(lm.acquire('f', 'node', ['n4'], false, 0));
  members.node.push('n5');
  const newMember = watch(lm.acquire('g', 'node', ['n5'], false, 0));
  await tick();
  assert.equal(sharedMember.done, true);
  assert.equal(exclusiveMember.done, false);
  assert.equal(newMember.done, false, 'a member added while "all" is held is covered too');
  lm.releaseAll('d');
  await tick();
  assert.equal(exclusiveMember.done, true);
  assert.equal(newMember.done, true);
  const sharedAll = watch(lm.acquire('h', 'node', null, true, 0));
  await tick();
  assert.equal(sharedAll.done, false, 'shared "all" waits for exclusive member holders');
  lm.releaseAll('f');
  lm.releaseAll('g');
  await tick();
  assert.equal(sharedAll.done, true);
});

test('waiters are served by priority, then in arrival order', async () => {
  const { lm } = setup();
  await lm.acquire('holder', 'instance', ['i1'], false, 0);
  const order: string[] = [];
  const wait = (owner: string, priority: number) =>
    void lm.acquire(owner, 'instance', ['i1'], false, priority).then(() => order.push(owner));
  wait('normal1', 0);
  wait('low', 10);
  wait('normal2', 0);
  wait('high', -10);
  wait('normal3', 0);
  for (const owner of ['holder', 'high', 'normal1', 'normal2', 'normal3']) {
    await tick();
    lm.releaseAll(owner);
  }
  await tick();
  assert.deepEqual(order, ['high', 'normal1', 'normal2', 'normal3', 'low']);
});

test('pending shared requests are granted together', async () => {
  const { lm } = setup();
  await lm.acquire('x', 'nodegroup', ['g1'], false, 0);
  const waiters = ['s1', 's2', 's3'].map((o) => watch(lm.acquire(o, 'nodegroup', ['g1'], true, 0)));
  await tick();
  lm.releaseAll('x');
  await tick();
  assert.ok(waiters.every((w) => w.done));
  assert.deepEqual(lm.info(), [{ name: 'nodegroup/g1', mode: 'shared', owner: ['s1', 's2', 's3'], pending: [] }]);
});

test('a shared waiter still blocked elsewhere does not hold up the shared ones behind it', async () => {
  const { lm } = setup();
  await lm.acquire('x1', 'nodegroup', ['g1'], false, 0);
  await lm.acquire('x2', 'nodegroup', ['g2'], false, 0);
  const blocked = watch(lm.acquire('blocked', 'nodegroup', ['g1', 'g2'], true, 0));
  const free = watch(lm.acquire('free', 'nodegroup', ['g1'], true, 0));
  lm.releaseAll('x1');
  await tick();
  assert.deepEqual([blocked.done, free.done], [false, true]);
});

test('a waiting exclusive request blocks later shared requests of equal or lower importance', async () => {
  const { lm } = setup();
  await lm.acquire('reader', 'network', ['net1'], true, 0);
  const writer = watch(lm.acquire('writer', 'network', ['net1'], false, 0));
  const sameImportance = watch(lm.acquire('same', 'network', ['net1'], true, 0));
  const lessImportant = watch(lm.acquire('less', 'network', ['net1'], true, 5));
  const moreImportant = watch(lm.acquire('more', 'network', ['net1'], true, -5));
  await tick();
  assert.deepEqual([writer.done, sameImportance.done, lessImportant.done, moreImportant.done], [false, false, false, true]);
  lm.releaseAll('reader');
  lm.releaseAll('more');
  await tick();
  assert.deepEqual([writer.done, sameImportance.done, lessImportant.done], [true, false, false]);
  lm.releaseAll('writer');
  await tick();
  assert.deepEqual([sameImportance.done, lessImportant.done], [true, true]);
});

test('a timed-out request holds nothing and unblocks those queued behind it', async () => {
  const { lm } = setup();
  await lm.acquire('holder', 'node', ['n1'], false, 0);
  const timedOut = lm.acquire('slow', 'node', ['n1', 'n2'], false, 0, { timeoutMs: 20 });
  // Queued behind "slow" on n2, although n2 itself is free.
  const behind = watch(lm.acquire('behind', 'node', ['n2'], false, 0));
  await tick();
  assert.equal(behind.done, false);
  await assert.rejects(timedOut, (err: unknown) =>
    err instanceof LockTimeout && /slow/.test(err.message) && /node/.test(err.message) && err.className === 'LockError');
  await tick();
  assert.equal(behind.done, true);
  assert.equal(lm.owned('slow').size, 0);
  assert.ok(lm.info().every((l) => !l.owner.includes('slow') && l.pending.every(([, o]) => !o.includes('slow'))));
  await assert.rejects(lm.acquire('nowait', 'node', ['n1'], true, 0, { timeoutMs: 0 }), LockTimeout);
  assert.equal(lm.owned('nowait').size, 0);
});

test('an aborted request holds nothing and lets others proceed', async () => {
  const { lm } = setup();
  await lm.acquire('holder', 'node', null, true, 0);
  const ctl = new AbortController();
  const aborted = lm.acquire('job', 'node', ['n1'], false, 0, { signal: ctl.signal });
  const exclusiveAll = watch(lm.acquire('other', 'node', null, false, 0));
  const reason = new Error('canceled');
  ctl.abort(reason);
  await assert.rejects(aborted, (err) => err === reason);
  lm.releaseAll('holder');
  await tick();
  assert.equal(exclusiveAll.done, true);
  assert.equal(lm.owned('job').size, 0);

  const already = new AbortController();
  already.abort();
  await assert.rejects(lm.acquire('late', 'instance', ['i1'], false, 0, { signal: already.signal }), { name: 'AbortError' });
  assert.equal(lm.owned('late').size, 0);
});

test('levels must be acquired in ascending order, at a valid priority', async () => {
  const { lm } = setup();
  await lm.acquire('a', 'node', ['n1'], false, 0);
  assert.throws(() => lm.acquire('a', 'instance', ['i1'], false, 0), ProgrammerError);
  assert.throws(() => lm.acquire('a', 'node', ['n2'], false, 0), ProgrammerError);
  assert.throws(() => lm.acquire('a', 'node-res', ['n1'], false, 99), ProgrammerError);
  await lm.acquire('a', 'node-res', ['n2'], false, 0);
  lm.release('a', 'node');
  await lm.acquire('a', 'network', null, false, 0);
  assert.deepEqual(lm.owned('a'), new Map([['node-res', ['n2']], ['network', ['net1', 'net2']]]));
});

test('a second request while one is pending is a programming error', async () => {
  const { lm } = setup();
  await lm.acquire('a', 'instance', ['i1'], false, 0);
  void lm.acquire('b', 'instance', ['i1'], false, 0);
  assert.throws(() => lm.acquire('b', 'node', ['n1'], false, 0), ProgrammerError);
});

test('releasing some names, including from a whole level, wakes their waiters', async () => {
  const { lm } = setup();
  assert.deepEqual(await lm.acquire('a', 'instance', null, false, 0), ['i1', 'i2', 'i3']);
  const i2 = watch(lm.acquire('b', 'instance', ['i2'], false, 0));
  const i1 = watch(lm.acquire('c', 'instance', ['i1'], true, 0));
  await tick();
  assert.equal(i2.done || i1.done, false);
  lm.release('a', 'instance', ['i2', 'i3']);
  await tick();
  assert.deepEqual([i2.done, i1.done], [true, false]);
  assert.deepEqual(lm.owned('a'), new Map([['instance', ['i1']]]));
  assert.throws(() => lm.release('a', 'instance', ['i2']), ProgrammerError);
  lm.release('a', 'instance', ['i1']);
  await tick();
  assert.equal(i1.done, true);
  assert.equal(lm.owned('a').size, 0);
});

test('giving up part of a whole level admits requests for members added since', async () => {
  const { lm, members } = setup();
  await lm.acquire('a', 'network', null, false, 0);
  members.network.push('net3');
  const added = watch(lm.acquire('b', 'network', ['net3'], false, 0));
  await tick();
  assert.equal(added.done, false);
  lm.release('a', 'network', ['net2']);
  await tick();
  assert.equal(added.done, true);
  assert.deepEqual(lm.owned('a'), new Map([['network', ['net1']]]));
});

test('info() lists held and awaited locks with their owners and pending requests', async () => {
  const { lm } = setup();
  await lm.acquire('job/1', 'cluster', null, true, 0);
  await lm.acquire('job/1', 'node', null, false, 0);
  await lm.acquire('job/2', 'cluster', ['BGL'], true, 0);
  void lm.acquire('job/2', 'node', ['n2'], true, 0);
  void lm.acquire('job/3', 'node', null, true, 0);
  void lm.acquire('job/4', 'node', null, true, 0);
  void lm.acquire('job/5', 'node', null, false, 0);
  const nodes = ['n1', 'n3', 'n4'].map((n) => ({ name: `node/${n}`, mode: 'exclusive', owner: ['job/1'], pending: [] }));
  const expected = [
    { name: 'cluster/BGL', mode: 'shared', owner: ['job/1', 'job/2'], pending: [] },
    { name: 'node/[lockset]', mode: 'exclusive', owner: ['job/1'], pending: [['shared', ['job/3', 'job/4']], ['exclusive', ['job/5']]] },
    nodes[0],
    { name: 'node/n2', mode: 'exclusive', owner: ['job/1'], pending: [['shared', ['job/2']]] },
    nodes[1], nodes[2],
  ];
  assert.deepEqual(lm.info(), expected);
  const rows = runQuery(LOCK_FIELDS, ['name', 'mode', 'owner', 'pending'], lm.info(), ['=', 'name', 'cluster/BGL']);
  assert.deepEqual(rows.fields.map((f) => [f.name, f.title, f.kind]),
    [['name', 'Name', 'text'], ['mode', 'Mode', 'other'], ['owner', 'Owner', 'other'], ['pending', 'Pending', 'other']]);
  assert.deepEqual(rows.data, [[[0, 'cluster/BGL'], [0, 'shared'], [0, ['job/1', 'job/2']], [0, []]]]);
  const jobs = ['job/1', 'job/2', 'job/3', 'job/4', 'job/5'];
  for (const job of jobs) lm.releaseAll(job);
  await tick();
  // The waiters were granted meanwhile.
  for (const job of jobs) lm.releaseAll(job);
  assert.deepEqual(lm.info(), []);
});

test('the lock attempt timeout schedule', () => {
  const unjittered = [...lockAttemptTimeouts(() => 0.5)];
  assert.equal(unjittered[0], 5);
  assert.ok(unjittered.every((t, i) => t >= 5 && t <= 75 && (i === 0 || t >= unjittered[i - 1])));
  assert.equal(unjittered.at(-1), 75);
  const sum = unjittered.reduce((a, b) => a + b, 0);
  assert.ok(sum >= 1800 && sum - unjittered.at(-1)! < 1800, `sum ${sum}`);
  const jittered = [...lockAttemptTimeouts()];
  assert.equal(jittered.length, unjittered.length);
  jittered.forEach((t, i) => assert.ok(Math.abs(t - unjittered[i]) <= unjittered[i] * 0.05 + 1e-9));
  assert.ok(Math.abs(jittered[0] - 5) <= 0.25);
  assert.ok(jittered.every((t) => t <= 75 * 1.05));
});

/** A small deterministic PRNG (mulberry32). */
function seeded(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('property: concurrent random owners never deadlock and never share an exclusive lock', async () => {
  const random = seeded(20240607);
  const { lm, members } = setup();
  // The test's own record of what each owner holds: level -> owner -> holding.
  const model = new Map<Level, Map<string, { names: string[] | null; shared: boolean }>>(LEVELS.map((l) => [l, new Map()]));
  const conflict = (a: { names: string[] | null; shared: boolean }, b: { names: string[] | null; shared: boolean }) =>
    !(a.shared && b.shared) && (a.names === null || b.names === null || a.names.some((n) => b.names!.includes(n)));
  let grants = 0;

  const onGrant = (owner: string, level: Level, names: string[] | null, shared: boolean) => {
    grants++;
    const mine = { names, shared };
    for (const [other, theirs] of model.get(level)!) {
      assert.ok(!conflict(mine, theirs), `${owner} got ${level} ${JSON.stringify(mine)} while ${other} holds ${JSON.stringify(theirs)}`);
    }
    model.get(level)!.set(owner, mine);
    // The manager's own view, sampled because it lists every lock.
    if (random() < 0.25) {
      for (const lock of lm.info()) {
        if (lock.mode === 'exclusive') assert.equal(lock.owner.length, 1, `${lock.name}: ${lock.owner}`);
      }
    }
  };
  const hold = () => new Promise<void>((resolve) => (random() < 0.98 ? setImmediate(resolve) : setTimeout(resolve, 0)));

  const worker = async (owner: string, rounds: number) => {
    for (let round = 0; round < rounds; round++) {
      const priority = Math.floor(random() * 40) - 20;
      try {
        for (const level of LEVELS.filter(() => random() < 0.5)) {
          const names = random() < 0.2 ? null : members[level].filter(() => random() < 0.4);
          const shared = level === 'cluster' ? random() < 0.9 : random() < 0.5;
          const timeoutMs = random() < 0.1 ? 1 : undefined;
          const abort = random() < 0.05 ? new AbortController() : undefined;
          if (abort) setImmediate(() => abort.abort());
          const got = await lm.acquire(owner, level, names, shared, priority, { timeoutMs, signal: abort?.signal });
          // Instances may have been added since the grant.
          if (names === null) assert.ok(got.every((n) => members[level].includes(n)) && got.length > 0);
          if (got.length > 0) onGrant(owner, level, names, shared);
          await hold();
          if (got.length > 1 && random() < 0.2) {
            const kept = got.slice(1);
            model.get(level)!.set(owner, { names: kept, shared });
            lm.release(owner, level, [got[0]]);
          }
        }
      } catch (err) {
        assert.ok(err instanceof LockTimeout || (err as Error).name === 'AbortError', String(err));
      }
      for (const holders of model.values()) holders.delete(owner);
      lm.releaseAll(owner);
      assert.equal(lm.owned(owner).size, 0);
      if (random() < 0.01) members.instance.push(`i${members.instance.length + 1}`);
    }
  };

  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`deadlock or too slow: ${JSON.stringify(lm.info())}`)), 4000);
  });
  try {
    await Promise.race([Promise.all(Array.from({ length: 30 }, (_, i) => worker(`job/${i}`, 150))), deadline]);
  } finally {
    clearTimeout(timer);
  }
  assert.ok(grants > 3000, `only ${grants} grants`);
  assert.deepEqual(lm.info(), []);
});
