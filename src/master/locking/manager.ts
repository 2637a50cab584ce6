// The master's lock manager (spec/core.md §7): per-level shared/exclusive locks with
// priority-ordered waiters, in memory only.
//
// Deadlock freedom: one owner takes levels in ascending order, and every call is
// granted atomically (all its locks at once, never a part), so an owner only ever waits
// while holding lower levels. Waiters at one level wait only for holders (which wait at
// higher levels, or run) or for waiters queued ahead of them, whose (priority, arrival)
// key is strictly smaller; neither relation can close a cycle.
//
// ALL_SET (names null) is modelled with multiple-granularity locking: each level has a
// "[lockset]" lock that an ALL request takes in shared or exclusive mode, while a request
// for named members takes it in the matching intention mode next to the member locks.
// Exclusive "all" thus excludes any member holder, shared "all" excludes exclusive member
// holders, and a member that joins the level while "all" is held is still covered, like
// upstream's LockSet whose set lock must be held exclusively to add a name. Taking a
// whole level costs O(1) locks however many members it has.
import { OP_PRIO_HIGHEST, OP_PRIO_LOWEST, OP_PRIO_NORMAL } from '../../core/constants.ts';
import { LockError, ProgrammerError } from '../../core/errors.ts';

export const LEVELS = ['cluster', 'instance', 'node-alloc', 'nodegroup', 'node', 'node-res', 'network'] as const;
export type Level = (typeof LEVELS)[number];

const LEVEL_INDEX = new Map<Level, number>(LEVELS.map((level, i) => [level, i]));
const BGL = 'BGL';
const LOCKSET = '[lockset]';

export interface LockInfo {
  /** `<level>/<name>`, or `<level>/[lockset]` for the level as a whole. */
  name: string;
  mode: 'shared' | 'exclusive' | null;
  owner: string[];
  pending: Array<[mode: 'shared' | 'exclusive', owners: string[]]>;
}

/** One attempt ran out of time; nothing from it is held. */
export class LockTimeout extends LockError {
  readonly owner: string;
  readonly level: Level;
  constructor(owner: string, level: Level) {
    super(`Timeout while ${owner} waited for locks at level ${level}`);
    this.owner = owner;
    this.level = level;
  }
  // Callers retry on this; should one ever reach the wire it must decode as a known class.
  override get className(): string {
    return 'LockError';
  }
}

// Lock modes: intention-shared, intention-exclusive, shared, exclusive.
type Mode = 0 | 1 | 2 | 3;
const IS: Mode = 0;
const IX: Mode = 1;
const S: Mode = 2;
const X: Mode = 3;
const bit = (mode: Mode): number => 1 << mode;
/** Bitmask of the modes that conflict with each mode (the relation is symmetric). */
const CONFLICTS: readonly number[] = [bit(X), bit(S) | bit(X), bit(IX) | bit(X), bit(IS) | bit(IX) | bit(S) | bit(X)];
const EVERY_MODE = CONFLICTS[X];

class Lock {
  readonly key: string;
  readonly holders = new Map<string, Mode>();
  readonly heldCount = [0, 0, 0, 0];
  /** Waiting claims, ordered by (priority, arrival). */
  readonly queue: Claim[] = [];
  readonly waitCount = [0, 0, 0, 0];
  constructor(key: string) {
    this.key = key;
  }
  get idle(): boolean {
    return this.holders.size === 0 && this.queue.length === 0;
  }
}

interface Claim {
  lock: Lock;
  mode: Mode;
  request: Request;
}

interface Request {
  owner: string;
  level: Level;
  priority: number;
  /** null: every member at grant time. */
  names: string[] | null;
  shared: boolean;
  claims: Claim[];
  resolve: (names: string[]) => void;
  reject: (reason: unknown) => void;
  /** Stops the timer and abort listener. */
  dispose: () => void;
}

interface Holding {
  shared: boolean;
  /** Holds the level's lockset in shared/exclusive mode rather than member locks. */
  all: boolean;
  /** The members held; for `all`, the level's members when it was granted. */
  names: Set<string>;
}

interface OwnerState {
  held: Map<Level, Holding>;
  pending: Request | null;
}

/**
 * Locks that lost a holder or waiter, each with the bitmask of waiting modes that this
 * may have unblocked: those conflicting with what left. Other waiters stay blocked.
 */
type Touched = Map<Lock, number>;

function touch(touched: Touched, lock: Lock, leftMode: Mode): void {
  touched.set(lock, (touched.get(lock) ?? 0) | CONFLICTS[leftMode]);
}

function abortReason(signal: AbortSignal): unknown {
  if (signal.reason !== undefined) return signal.reason;
  const err = new Error('The operation was aborted');
  err.name = 'AbortError';
  return err;
}

export class LockManager {
  private readonly members: (level: Level) => string[];
  /** Locks that are held or waited for, by `<level>/<name>`. */
  private readonly locks = new Map<string, Lock>();
  private readonly owners = new Map<string, OwnerState>();

  constructor(members: (level: Level) => string[]) {
    this.members = members;
  }

  /**
   * Acquire `names` at `level` (null: all members) for `owner`, resolving with the names
   * held. Programming errors (level order, a second concurrent request, a bad priority)
   * throw synchronously. Timeout rejects with LockTimeout, abort with the signal's
   * reason; either way nothing from this call stays held.
   */
  acquire(owner: string, level: Level, names: string[] | null, shared: boolean, priority: number,
    opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<string[]> {
    if (!Number.isInteger(priority) || priority < OP_PRIO_HIGHEST || priority > OP_PRIO_LOWEST) {
      throw new ProgrammerError(`Invalid lock priority ${priority}`);
    }
    const state = this.owners.get(owner);
    if (state) this.checkOrder(owner, state, level);
    const { signal, timeoutMs } = opts;
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    if (names === null && level === 'cluster') names = [BGL];
    const unique = names === null ? null : [...new Set(names)].sort();
    if (unique?.length === 0) return Promise.resolve([]);

    let settle!: Pick<Request, 'resolve' | 'reject'>;
    const promise = new Promise<string[]>((resolve, reject) => {
      settle = { resolve, reject };
    });
    const request: Request = { owner, level, priority, names: unique, shared, claims: [], ...settle, dispose: () => undefined };
    const claim = (key: string, mode: Mode) => request.claims.push({ lock: this.lockFor(key), mode, request });
    if (unique === null) {
      claim(`${level}/${LOCKSET}`, shared ? S : X);
    } else {
      // The cluster level's only member never joins or leaves, so it needs no lockset.
      if (level !== 'cluster') claim(`${level}/${LOCKSET}`, shared ? IS : IX);
      for (const name of unique) claim(`${level}/${name}`, shared ? S : X);
    }
    for (const c of request.claims) this.enqueue(c);
    const owning = state ?? { held: new Map(), pending: null };
    owning.pending = request;
    this.owners.set(owner, owning);

    if (this.grantable(request)) {
      this.grant(request);
    } else if (timeoutMs !== undefined && timeoutMs <= 0) {
      this.cancel(request, new LockTimeout(owner, level));
    } else {
      const timer = timeoutMs === undefined ? undefined : setTimeout(() => this.cancel(request, new LockTimeout(owner, level)), timeoutMs);
      const onAbort = () => this.cancel(request, abortReason(signal!));
      signal?.addEventListener('abort', onAbort, { once: true });
      request.dispose = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
    }
    return promise;
  }

  /** Release the owner's locks: everything, one level, or some names of one level. */
  release(owner: string, level?: Level, names?: string[]): void {
    if (level === undefined) {
      this.releaseAll(owner);
      return;
    }
    const state = this.owners.get(owner);
    const holding = state?.held.get(level);
    if (!state || !holding) {
      if (names?.length) throw new ProgrammerError(`${owner} does not hold locks at level ${level}`);
      return;
    }
    const touched: Touched = new Map();
    if (names === undefined) {
      this.dropLevel(owner, state, level, holding, touched);
    } else {
      const notHeld = names.filter((n) => !holding.names.has(n));
      if (notHeld.length > 0) throw new ProgrammerError(`${owner} does not hold ${level} locks ${notHeld.join(', ')}`);
      if (holding.all) this.splitAll(owner, level, holding, touched);
      for (const name of new Set(names)) {
        holding.names.delete(name);
        this.unhold(owner, this.locks.get(`${level}/${name}`)!, touched);
      }
      if (holding.names.size === 0) this.dropLevel(owner, state, level, holding, touched);
    }
    this.forgetOwnerIfIdle(owner, state);
    this.wake(touched);
  }

  /** Release every lock the owner holds (a pending request is left to its timeout/abort). */
  releaseAll(owner: string): void {
    const state = this.owners.get(owner);
    if (!state) return;
    const touched: Touched = new Map();
    for (const [level, holding] of state.held) this.dropLevel(owner, state, level, holding, touched);
    this.forgetOwnerIfIdle(owner, state);
    this.wake(touched);
  }

  owned(owner: string): Map<Level, string[]> {
    const result = new Map<Level, string[]>();
    const held = this.owners.get(owner)?.held;
    for (const level of LEVELS) {
      const holding = held?.get(level);
      if (holding) result.set(level, [...holding.names].sort());
    }
    return result;
  }

  /**
   * One entry per lock held or waited for, sorted by name. Intention modes are internal:
   * the lockset entry shows only whole-level holders and waiters, while a whole-level
   * holder also appears on each member it covers, as upstream's LockSet shows it.
   */
  info(): LockInfo[] {
    const entries = new Map<string, { holders: Map<string, Mode>; pending: Claim[] }>();
    const entry = (key: string) => {
      let e = entries.get(key);
      if (!e) entries.set(key, e = { holders: new Map(), pending: [] });
      return e;
    };
    const visible = (mode: Mode) => mode === S || mode === X;
    for (const lock of this.locks.values()) {
      const holders = [...lock.holders].filter(([, mode]) => visible(mode));
      const pending = lock.queue.filter((c) => visible(c.mode));
      if (holders.length === 0 && pending.length === 0) continue;
      const e = entry(lock.key);
      for (const [owner, mode] of holders) e.holders.set(owner, mode);
      e.pending.push(...pending);
    }
    for (const [owner, state] of this.owners) {
      for (const [level, holding] of state.held) {
        if (!holding.all) continue;
        for (const name of holding.names) entry(`${level}/${name}`).holders.set(owner, holding.shared ? S : X);
      }
    }
    const modeName = (mode: Mode) => (mode === X ? 'exclusive' : 'shared');
    return [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([name, e]): LockInfo => {
      const modes = [...e.holders.values()];
      const pending: LockInfo['pending'] = [];
      for (const c of e.pending) {
        const last = pending.at(-1);
        // Consecutive shared waiters are granted together, so they form one group.
        if (c.mode === S && last?.[0] === 'shared') last[1].push(c.request.owner);
        else pending.push([modeName(c.mode), [c.request.owner]]);
      }
      for (const [, owners] of pending) owners.sort();
      return {
        name,
        mode: modes.length === 0 ? null : modeName(modes.includes(X) ? X : S),
        owner: [...e.holders.keys()].sort(),
        pending,
      };
    });
  }

  private checkOrder(owner: string, state: OwnerState, level: Level): void {
    if (state.pending) {
      throw new ProgrammerError(`${owner} is already waiting for locks at level ${state.pending.level}`);
    }
    const index = LEVEL_INDEX.get(level)!;
    for (const held of state.held.keys()) {
      if (LEVEL_INDEX.get(held)! >= index) {
        throw new ProgrammerError(`${owner} cannot acquire locks at level ${level} while holding locks at level ${held}`);
      }
    }
  }

  private lockFor(key: string): Lock {
    let lock = this.locks.get(key);
    if (!lock) this.locks.set(key, lock = new Lock(key));
    return lock;
  }

  private enqueue(claim: Claim): void {
    const { queue } = claim.lock;
    let i = queue.length;
    while (i > 0 && queue[i - 1].request.priority > claim.request.priority) i--;
    queue.splice(i, 0, claim);
    claim.lock.waitCount[claim.mode]++;
  }

  private dequeue(claim: Claim): void {
    const { lock } = claim;
    lock.queue.splice(lock.queue.indexOf(claim), 1);
    lock.waitCount[claim.mode]--;
  }

  /** Compatible with every holder and with every claim queued ahead (no barging). */
  private grantable(request: Request): boolean {
    for (const claim of request.claims) {
      const { lock, mode } = claim;
      const conflicts = CONFLICTS[mode];
      let waitingConflicts = 0;
      for (let m = 0; m < 4; m++) {
        if (!(conflicts & (1 << m))) continue;
        if (lock.heldCount[m] > 0) return false;
        waitingConflicts += lock.waitCount[m];
      }
      if (conflicts & bit(mode)) waitingConflicts--; // the claim itself
      if (waitingConflicts === 0) continue;
      // A new request usually queues last: every conflicting waiter is then ahead.
      if (lock.queue.at(-1) === claim) return false;
      for (const ahead of lock.queue) {
        if (ahead === claim) break;
        if (conflicts & bit(ahead.mode)) return false;
      }
    }
    return true;
  }

  /** Sorted members per members list: the list is the same array while the level is unchanged. */
  private readonly sortedCache = new WeakMap<readonly string[], string[]>();

  private sortedMembers(level: Level): string[] {
    const members = this.members(level);
    let sorted = this.sortedCache.get(members);
    if (!sorted) {
      sorted = [...members].sort();
      this.sortedCache.set(members, sorted);
    }
    return sorted;
  }

  private grant(request: Request): void {
    const { owner, level } = request;
    const names = request.names ?? this.sortedMembers(level);
    for (const claim of request.claims) {
      this.dequeue(claim);
      claim.lock.holders.set(owner, claim.mode);
      claim.lock.heldCount[claim.mode]++;
    }
    const state = this.owners.get(owner)!;
    state.pending = null;
    state.held.set(level, { shared: request.shared, all: request.names === null, names: new Set(names) });
    request.dispose();
    request.resolve(names);
  }

  private cancel(request: Request, reason: unknown): void {
    const state = this.owners.get(request.owner);
    if (state?.pending !== request) return;
    state.pending = null;
    const touched: Touched = new Map();
    for (const claim of request.claims) {
      this.dequeue(claim);
      touch(touched, claim.lock, claim.mode);
      this.forgetLockIfIdle(claim.lock);
    }
    this.forgetOwnerIfIdle(request.owner, state);
    request.dispose();
    this.wake(touched);
    request.reject(reason);
  }

  /**
   * Grant every waiter of the touched locks that can go now. Between calls no waiter is
   * grantable, and granting a request never unblocks another (its claims block exactly
   * what they blocked while queued), so one pass over the unblocked modes suffices.
   */
  private wake(touched: Touched): void {
    for (const [lock, unblocked] of touched) {
      if (!lock.waitCount.some((count, mode) => count > 0 && unblocked & (1 << mode))) continue;
      let blockedModes = 0;
      let i = 0;
      while (i < lock.queue.length && blockedModes !== EVERY_MODE) {
        const claim = lock.queue[i];
        const mask = bit(claim.mode);
        if (unblocked & mask && !(blockedModes & mask) && this.grantable(claim.request)) {
          this.grant(claim.request); // removes the claim at i
        } else {
          blockedModes |= CONFLICTS[claim.mode];
          i++;
        }
      }
    }
  }

  /** Turn a whole-level holding into member locks, so that some of them can be released. */
  private splitAll(owner: string, level: Level, holding: Holding, touched: Touched): void {
    const memberMode = holding.shared ? S : X;
    for (const name of holding.names) {
      const lock = this.lockFor(`${level}/${name}`);
      lock.holders.set(owner, memberMode);
      lock.heldCount[memberMode]++;
    }
    const lockset = this.locks.get(`${level}/${LOCKSET}`)!;
    lockset.heldCount[memberMode]--;
    lockset.heldCount[holding.shared ? IS : IX]++;
    lockset.holders.set(owner, holding.shared ? IS : IX);
    touch(touched, lockset, memberMode);
    holding.all = false;
  }

  private dropLevel(owner: string, state: OwnerState, level: Level, holding: Holding, touched: Touched): void {
    if (!holding.all) {
      for (const name of holding.names) this.unhold(owner, this.locks.get(`${level}/${name}`)!, touched);
    }
    const lockset = this.locks.get(`${level}/${LOCKSET}`);
    if (lockset?.holders.has(owner)) this.unhold(owner, lockset, touched);
    state.held.delete(level);
  }

  private unhold(owner: string, lock: Lock, touched: Touched): void {
    const mode = lock.holders.get(owner);
    if (mode === undefined) throw new ProgrammerError(`${owner} does not hold ${lock.key}`);
    lock.holders.delete(owner);
    lock.heldCount[mode]--;
    touch(touched, lock, mode);
    this.forgetLockIfIdle(lock);
  }

  private forgetLockIfIdle(lock: Lock): void {
    if (lock.idle) this.locks.delete(lock.key);
  }

  private forgetOwnerIfIdle(owner: string, state: OwnerState): void {
    if (state.held.size === 0 && !state.pending) this.owners.delete(owner);
  }
}

/**
 * Upstream's per-attempt lock timeouts in seconds (mcpu._CalculateLockAttemptTimeouts):
 * growing from 5 s to at most 75 s until they add up to LOCK_ATTEMPTS_TIMEOUT, each
 * with ±5 % jitter so that retrying jobs spread out.
 */
export function* lockAttemptTimeouts(random: () => number = Math.random): Generator<number> {
  const minWait = 5.0;
  const maxWait = 75.0;
  // Ten hours spread over the priority steps from normal to highest.
  const total = Math.floor((10 * 3600) / (OP_PRIO_NORMAL - OP_PRIO_HIGHEST));
  let timeout = minWait;
  let sum = 0;
  for (;;) {
    yield timeout + timeout * 0.1 * (random() - 0.5);
    sum += timeout;
    if (sum >= total) return;
    timeout = Math.min(Math.max((timeout * 1.05) ** 1.25, minWait), maxWait);
  }
}
