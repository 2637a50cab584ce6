// What a resource handler gets for one request: the names captured from the URL, the
// query arguments (upstream's parse_qs: lists of non-empty values), the parsed body, and
// its own LUXI connection to the master daemon (opened on first use, closed when the
// request ends), with the helpers upstream's ResourceBase offers (bulk, dry-run, force,
// job submission with the reason trail).
import { LuxiClient } from '../luxi/client.ts';
import { nowNs } from '../core/json.ts';
import type { OpInput } from '../core/opcodes.ts';
import { badRequest, fromMasterError, type LuxiCallKind } from './errors.ts';
import { fillOpcode, type OpcodeInput } from './opcode-input.ts';

/** Upstream's reason sources (constants.OPCODE_REASON_SRC_USER / _RLIB2). */
const REASON_SRC_USER = 'gnt:user';
const REASON_SRC_RLIB2 = 'gnt:library:rlib2';

/** Python's parse_qs: values per name, in order; empty values dropped ("keep_blank_values" off). */
export function parseQuery(search: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [k, v] of new URLSearchParams(search)) {
    if (v === '') continue;
    const list = out.get(k);
    if (list) list.push(v);
    else out.set(k, [v]);
  }
  return out;
}

/** Python's int() of a query value: optional sign, digits (underscores between), blanks around. */
export function pyInt(text: string): number | null {
  const m = /^\s*([+-]?\d+(?:_\d+)*)\s*$/.exec(text);
  return m ? Number(m[1].replace(/_/g, '')) : null;
}

export class RequestContext {
  readonly method: string;
  readonly path: string;
  /** The variable parts of the URL (names, job ids, disk indices), in order. */
  readonly items: string[];
  readonly query: Map<string, string[]>;
  /** The JSON body, null when there was none. */
  readonly body: unknown;
  readonly user: string | null;
  /** The resource's name for the reason trail (upstream: the class name without R_2_). */
  readonly opName: string;
  private readonly socket: string;
  private client: LuxiClient | null = null;

  constructor(opts: { method: string; path: string; items: string[]; query: Map<string, string[]>; body: unknown; user: string | null; opName: string; socket: string }) {
    this.method = opts.method;
    this.path = opts.path;
    this.items = opts.items;
    this.query = opts.query;
    this.body = opts.body;
    this.user = opts.user;
    this.opName = opts.opName;
    this.socket = opts.socket;
  }

  /** An integer query argument (upstream's _checkIntVariable). */
  intArg(name: string, dflt = 0): number {
    const v = this.query.get(name)?.[0];
    if (v === undefined) return dflt;
    const n = pyInt(v);
    if (n === null) throw badRequest(`Invalid value for the '${name}' parameter`);
    return n;
  }

  /** A string query argument, its first value (upstream's _checkStringVariable). */
  stringArg(name: string, dflt: string | null = null): string | null {
    return this.query.get(name)?.[0] ?? dflt;
  }

  flag(name: string): boolean {
    return Boolean(this.intArg(name));
  }

  get bulk(): boolean {
    return this.flag('bulk');
  }

  get dryRun(): boolean {
    return this.flag('dry-run');
  }

  get force(): boolean {
    return this.flag('force');
  }

  /** A body parameter; without a default, a missing one is a 400 (upstream's CheckParameter). */
  bodyParam(name: string, ...dflt: [unknown?]): unknown {
    const body = (this.body ?? {}) as Record<string, unknown>;
    if (typeof body === 'object' && !Array.isArray(body) && Object.hasOwn(body, name)) return body[name];
    if (dflt.length > 0) return dflt[0];
    throw badRequest(`Required parameter '${name}' is missing`);
  }

  /** The reason trail every opcode from RAPI carries: the user's reason (?reason=), then RAPI itself. */
  reasonTrail(): unknown[] {
    const trail: unknown[] = [];
    const userReason = this.stringArg('reason');
    if (userReason) trail.push([REASON_SRC_USER, userReason, nowNs()]);
    trail.push([`${REASON_SRC_RLIB2}:${this.opName}`, '', nowNs()]);
    return trail;
  }

  /** The opcode for this request's body and fixed parameters (plus the reason trail). */
  opcode(input: Omit<OpcodeInput, 'fixed'> & { fixed?: Record<string, unknown> }): OpInput {
    return fillOpcode({ ...input, fixed: { ...(input.fixed ?? {}), reason: this.reasonTrail() } });
  }

  private async luxi(): Promise<LuxiClient> {
    if (!this.client) {
      try {
        this.client = await LuxiClient.connect(this.socket);
      } catch (err) {
        throw fromMasterError(err, 'connect');
      }
    }
    return this.client;
  }

  /** A LUXI call; the master's errors become HTTP errors. */
  async call(method: string, args: unknown[], kind: LuxiCallKind = 'other'): Promise<unknown> {
    const client = await this.luxi();
    try {
      return await client.call(method, args);
    } catch (err) {
      throw fromMasterError(err, kind);
    }
  }

  /** Submit one job; its id (a number). */
  submit(ops: OpInput[]): Promise<unknown> {
    return this.call('SubmitJob', [ops], 'submit');
  }

  /** Submit the job of one opcode built from this request. */
  submitOpcode(input: Omit<OpcodeInput, 'fixed'> & { fixed?: Record<string, unknown> }): Promise<unknown> {
    return this.submit([this.opcode(input)]);
  }

  close(): void {
    this.client?.close();
    this.client = null;
  }
}
