// The watcher's per-group state file (upstream's lib/watcher/state.py):
// var/lib/ganeti/watcher.<group-uuid>.data, JSON as Python's json.dumps writes it:
//   {"instance": {"<name>": {"restart_count": N, "restart_when": epoch,
//                            "cleanup_count": N, "cleanup_when": epoch}},
//    "node": {"<name>": {"bootid": "<boot id>"}}}
// Only instances that are down (or were being cleaned up) have records. Deleting the
// file is safe: the counters start again and every node looks rebooted.

/** Restart attempts before the watcher gives up on an instance (upstream MAXTRIES). */
export const MAXTRIES = 5;

/**
 * Records older than this are forgotten: five attempts at one run every five minutes take
 * about half an hour, so after 8 hours an instance gets a fresh budget (upstream's value).
 */
export const RETRY_EXPIRATION = 8 * 3600;

export interface InstanceRecord {
  restart_count?: number;
  restart_when?: number;
  cleanup_count?: number;
  cleanup_when?: number;
}

export interface NodeRecord {
  bootid?: string;
}

export interface StateData {
  instance: Record<string, InstanceRecord>;
  node: Record<string, NodeRecord>;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function checkRecords(what: string, v: unknown, fields: Record<string, 'number' | 'string'>): void {
  if (!isObject(v)) throw new Error(`"${what}" is not an object`);
  for (const [name, rec] of Object.entries(v)) {
    if (!isObject(rec)) throw new Error(`the ${what} record of '${name}' is not an object`);
    for (const [key, type] of Object.entries(fields)) {
      if (key in rec && typeof rec[key] !== type) throw new Error(`the ${what} record of '${name}' has a bad ${key}`);
    }
  }
}

/**
 * Parse a state file's text. An empty file is a new state; anything unreadable is
 * replaced by defaults, with the reason (upstream: "Invalid state file. Using defaults.").
 */
export function parseState(text: string): { data: StateData; error: string | null } {
  if (text.trim() === '') return { data: { instance: {}, node: {} }, error: null };
  try {
    const raw: unknown = JSON.parse(text);
    if (!isObject(raw)) throw new Error('the top level is not an object');
    const data = { ...raw } as Record<string, unknown>;
    data.instance ??= {};
    data.node ??= {};
    checkRecords('instance', data.instance, { restart_count: 'number', restart_when: 'number', cleanup_count: 'number', cleanup_when: 'number' });
    checkRecords('node', data.node, { bootid: 'string' });
    return { data: data as unknown as StateData, error: null };
  } catch (err) {
    return { data: { instance: {}, node: {} }, error: (err as Error).message };
  }
}

/** Python's json.dumps of JSON-shaped data: ", " and ": " separators, keys in insertion order. */
export function pythonJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(pythonJson).join(', ')}]`;
  if (isObject(value)) return `{${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}: ${pythonJson(v)}`).join(', ')}}`;
  return JSON.stringify(value) ?? 'null';
}

export function serializeState(data: StateData): string {
  return `${pythonJson(data)}\n`;
}

/** The restart and clean-up book-keeping, on the parsed data (upstream's WatcherState). */
export class WatcherState {
  readonly data: StateData;
  private readonly now: () => number;

  /** `now` is seconds since the epoch (a parameter so the unit tests can move time). */
  constructor(data: StateData, now: () => number = () => Date.now() / 1000) {
    this.data = data;
    this.now = now;
  }

  nodeBootId(name: string): string | null {
    return this.data.node[name]?.bootid ?? null;
  }

  setNodeBootId(name: string, bootid: string): void {
    (this.data.node[name] ??= {}).bootid = bootid;
  }

  restartAttempts(name: string): number {
    return this.data.instance[name]?.restart_count ?? 0;
  }

  cleanupAttempts(name: string): number {
    return this.data.instance[name]?.cleanup_count ?? 0;
  }

  /**
   * Forget instances that no longer exist and records older than RETRY_EXPIRATION.
   * Returns what was dropped, for the debug log.
   */
  maintainInstanceList(existing: Iterable<string>): { obsolete: string[]; expired: string[] } {
    const keep = new Set(existing);
    const records = this.data.instance;
    const obsolete = Object.keys(records).filter((name) => !keep.has(name));
    for (const name of obsolete) delete records[name];
    const earliest = this.now() - RETRY_EXPIRATION;
    // Upstream reads restart_when only; a clean-up record has cleanup_when instead.
    const expired = Object.keys(records).filter((name) => {
      const r = records[name];
      return Math.max(r.restart_when ?? -Infinity, r.cleanup_when ?? -Infinity) < earliest;
    });
    for (const name of expired) delete records[name];
    return { obsolete, expired };
  }

  recordRestartAttempt(name: string): void {
    const r = (this.data.instance[name] ??= {});
    r.restart_when = this.now();
    r.restart_count = (r.restart_count ?? 0) + 1;
  }

  recordCleanupAttempt(name: string): void {
    const r = (this.data.instance[name] ??= {});
    r.cleanup_when = this.now();
    r.cleanup_count = (r.cleanup_count ?? 0) + 1;
  }

  /** The instance is fine again: drop its record (only troubled instances are kept). */
  removeInstance(name: string): void {
    delete this.data.instance[name];
  }
}
