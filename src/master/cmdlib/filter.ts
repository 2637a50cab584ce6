// Job filter rules. Upstream has no opcodes for them: luxid changes the configuration
// directly on the LUXI calls ReplaceFilter and DeleteFilter (so that a rule can never be
// held up by the queue it controls), and the scheduler looks at the queued jobs again.
import crypto from 'node:crypto';
import { GenericError, LuxiError } from '../../core/errors.ts';
import { nowNs } from '../../core/json.ts';
import { actionError, isUuid, predicatesError, reasonError } from '../config/filter-fields.ts';
import type { FilterRuleObject } from '../config/model.ts';
import type { ConfigStore } from '../config/store.ts';
import type { LUFactory } from './base.ts';

export const FILTER_LUS: Readonly<Record<string, LUFactory>> = {};

export interface FilterDeps {
  config: ConfigStore;
  /** The highest job id handed out so far. */
  jobSerial(): number;
  /** Let the scheduler look at the queued jobs again. */
  reschedule(): void;
}

function argError(method: string, msg: string): LuxiError {
  return new LuxiError(`Invalid arguments for ${method}: ${msg}`);
}

/**
 * LUXI ReplaceFilter [uuid or null, priority, predicates, action, reason]: adds a rule (a
 * new uuid) or replaces the one with that uuid (or adds it under that uuid); the watermark
 * is the newest job id, and luxid's own entry closes the reason trail. Returns the uuid.
 */
export async function replaceFilter(deps: FilterDeps, args: unknown[]): Promise<string> {
  const method = 'ReplaceFilter';
  if (args.length !== 5) throw argError(method, `expected 5 argument(s), got ${args.length}`);
  const [rawUuid, priority, predicates, action, reason] = args;
  if (rawUuid !== null && typeof rawUuid !== 'string') throw argError(method, 'the uuid must be a string or null');
  if (typeof priority !== 'number' || !Number.isInteger(priority) || priority < 0) throw argError(method, 'the priority must be a non-negative integer');
  for (const e of [predicatesError(predicates), actionError(action), reasonError(reason)]) if (e) throw argError(method, e);
  let uuid: string;
  if (rawUuid === null) uuid = crypto.randomUUID();
  else if (isUuid(rawUuid)) uuid = rawUuid;
  else throw new GenericError('Unable to parse UUID');
  await deps.config.update((tx) => {
    const rule: FilterRuleObject = {
      uuid,
      watermark: deps.jobSerial(),
      priority,
      predicates: predicates as unknown[][],
      action: action as FilterRuleObject['action'],
      reason_trail: [...(reason as unknown[][]), ['luxid', '', nowNs()]],
    };
    tx.add('filters', rule as unknown as Parameters<typeof tx.add>[1]);
  });
  deps.reschedule();
  return uuid;
}

/** LUXI DeleteFilter [uuid]: null; an unknown uuid is an error. */
export async function deleteFilter(deps: FilterDeps, args: unknown[]): Promise<null> {
  if (args.length !== 1) throw argError('DeleteFilter', `expected 1 argument(s), got ${args.length}`);
  const uuid = String(args[0]);
  if (!Object.hasOwn(deps.config.data.filters ?? {}, uuid)) throw new GenericError(`Filter rule with UUID ${uuid} does not exist`);
  await deps.config.update((tx) => {
    if (Object.hasOwn(tx.data.filters, uuid)) tx.remove('filters', uuid);
  });
  deps.reschedule();
  return null;
}
