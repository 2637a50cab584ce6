// What the per-group watcher does, decided from the cluster's answers and the state
// file without touching either (upstream's _CheckInstances and _CheckDisks): each
// decision carries its log line in Ganeti's words, the caller submits the jobs.
import { MAXTRIES, type WatcherState } from './state.ts';

/** An instance as the watcher queries it (fields of upstream's _GetGroupData). */
export interface WatchedInstance {
  name: string;
  uuid: string;
  status: string;
  adminState: string;
  disksActive: boolean;
  snodes: string[];
  diskTemplate: string;
}

export interface WatchedNode {
  name: string;
  /** null when the node did not answer (down or offline). */
  bootid: string | null;
  offline: boolean;
  /** Names of the instances that have this node as a secondary. */
  secondaries: string[];
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Decision {
  instance: string;
  /**
   * restart: OP_INSTANCE_STARTUP, then count the attempt; give-up: count the attempt
   * that is not made; cleanup: OP_INSTANCE_SHUTDOWN for a user shutdown; forget: drop the
   * instance's record; skip: only the log line.
   */
  action: 'restart' | 'give-up' | 'cleanup' | 'forget' | 'skip';
  level: LogLevel;
  message: string | null;
}

/** Should run but does not: the watcher starts it. */
const BAD_STATES = new Set(['ERROR_down']);
/** The primary is down or offline: starting the instance cannot work. */
export const HELPLESS_STATES = new Set(['ERROR_nodedown', 'ERROR_nodeoffline']);

/**
 * Names (and UUIDs: our lock manager names instance locks by UUID, upstream by name) of
 * the instances a job holds or waits for, from Query("lock", ["name", "mode", "owner",
 * "pending"]) rows of values. Such an instance is in the middle of an operation — a
 * failover, a shutdown — and the watcher must not act on it (Ganeti #790).
 */
export function lockedInstances(rows: unknown[][]): Set<string> {
  const locked = new Set<string>();
  for (const [name, mode, , pending] of rows) {
    if (typeof name !== 'string' || !name.startsWith('instance/')) continue;
    const held = mode !== null && mode !== undefined && mode !== '';
    const waited = Array.isArray(pending) && pending.length > 0;
    if (held || waited) locked.add(name.slice('instance/'.length));
  }
  return locked;
}

function isLocked(inst: WatchedInstance, locked: Set<string>): boolean {
  return locked.has(inst.uuid) || locked.has(inst.name);
}

/** Upstream's Instance.NeedsCleanup: the guest shut itself down while it should run. */
function needsCleanup(inst: WatchedInstance): boolean {
  return inst.status === 'USER_down' && inst.adminState !== 'down';
}

/** The pass over a group's instances: restart what should run, clean up user shutdowns. */
export function planInstances(instances: WatchedInstance[], locked: Set<string>, state: WatcherState): Decision[] {
  const plan: Decision[] = [];
  const say = (instance: string, action: Decision['action'], level: LogLevel, message: string | null) =>
    plan.push({ instance, action, level, message });
  for (const inst of instances) {
    const q = `'${inst.name}'`;
    if (needsCleanup(inst)) {
      if (isLocked(inst, locked)) say(inst.name, 'skip', 'info', `Not cleaning up instance ${q}, instance is locked`);
      else if (state.cleanupAttempts(inst.name) > MAXTRIES) say(inst.name, 'skip', 'warn', `Not cleaning up instance ${q}, retries exhausted`);
      else say(inst.name, 'cleanup', 'info', `Instance ${q} was shutdown by the user, cleaning up instance`);
    } else if (BAD_STATES.has(inst.status)) {
      const n = state.restartAttempts(inst.name);
      if (isLocked(inst, locked)) say(inst.name, 'skip', 'info', `Not restarting instance ${q}, instance is locked`);
      else if (n > MAXTRIES) say(inst.name, 'skip', 'warn', `Not restarting instance ${q}, retries exhausted`);
      else if (n === MAXTRIES) say(inst.name, 'give-up', 'error', `Could not restart instance ${q} after ${MAXTRIES} attempts, giving up`);
      else say(inst.name, 'restart', 'info', `Restarting instance ${q} (attempt #${n + 1})`);
    } else if (state.restartAttempts(inst.name) > 0) {
      say(inst.name, 'forget', 'info', HELPLESS_STATES.has(inst.status) ? null : `Restart of instance ${q} succeeded`);
    }
  }
  return plan;
}

export interface DiskPlan {
  /** Log lines and the instances whose disks to activate, in order. */
  decisions: Array<{ instance: string; activate: boolean; level: LogLevel; message: string }>;
  /** Boot ids to remember: nodes whose check is complete. */
  bootids: Array<[node: string, bootid: string]>;
}

/**
 * Nodes whose boot id changed since the last run were rebooted: the disks of the
 * instances that have them as secondary are re-activated (their primary keeps running,
 * so nothing else would). A node whose instance was locked keeps its old boot id, so the
 * next run looks again instead of never.
 */
export function planDiskActivation(nodes: WatchedNode[], instances: Map<string, WatchedInstance>, locked: Set<string>,
  started: Set<string>, state: WatcherState): DiskPlan {
  const plan: DiskPlan = { decisions: [], bootids: [] };
  for (const node of nodes) {
    if (!node.bootid) {
      // A node that does not answer has no boot id; an offline one is not asked at all.
      if (!node.offline) plan.decisions.push({ instance: '', activate: false, level: 'debug', message: `Node '${node.name}' missing boot ID, skipping secondary checks` });
      continue;
    }
    if (state.nodeBootId(node.name) === node.bootid) continue;
    let complete = true;
    for (const name of node.secondaries) {
      const inst = instances.get(name);
      const q = `'${name}'`;
      if (!inst) {
        plan.decisions.push({ instance: name, activate: false, level: 'info', message: `Can't find instance ${q}, maybe it was ignored` });
      } else if (!inst.disksActive) {
        plan.decisions.push({ instance: name, activate: false, level: 'info', message: `Skipping disk activation for instance with not activated disks ${q}` });
      } else if (started.has(name)) {
        // Starting the instance activated its disks, as far as they can be.
        plan.decisions.push({ instance: name, activate: false, level: 'debug', message: `Skipping disk activation for instance ${q} as it was already started` });
      } else if (isLocked(inst, locked)) {
        complete = false;
        plan.decisions.push({ instance: name, activate: false, level: 'info', message: `Not activating disks for instance ${q}, instance is locked` });
      } else {
        plan.decisions.push({ instance: name, activate: true, level: 'info', message: `Activating disks for instance ${q}` });
      }
    }
    if (complete) plan.bootids.push([node.name, node.bootid]);
  }
  return plan;
}
