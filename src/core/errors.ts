// Ganeti's error classes and their wire encoding: `["ClassName", [args...]]`
// (spec/core.md §1.3). Every role raises these; LUXI, the job queue and RAPI encode
// them the same way, and the CLI maps them to messages and exit codes in one place
// (src/cli/errors.ts).

export class GanetiError extends Error {
  /** Constructor arguments, in order, as they travel on the wire. */
  readonly args: unknown[];
  constructor(...args: unknown[]) {
    super(args.length > 0 ? String(args[0]) : '');
    this.args = args;
  }
  get className(): string {
    return this.constructor.name;
  }
  encode(): [string, unknown[]] {
    return [this.className, this.args];
  }
}

// One-argument errors ([msg]).
export class GenericError extends GanetiError {}
export class LockError extends GanetiError {}
export class PidFileLockError extends GanetiError {}
export class HypervisorError extends GanetiError {}
export class ProgrammerError extends GanetiError {}
export class ConfigurationError extends GanetiError {}
export class RemoteError extends GanetiError {}
export class SignatureError extends GanetiError {}
export class ParameterError extends GanetiError {}
export class TagError extends GanetiError {}
export class OpExecError extends GanetiError {}
export class OpCodeUnknown extends GanetiError {}
export class JobLost extends GanetiError {}
export class JobFileCorrupted extends GanetiError {}
export class HooksFailure extends GanetiError {}
export class ParseError extends GanetiError {}
export class TypeEnforcementError extends GanetiError {}
export class CommandError extends GanetiError {}
export class JobQueueError extends GanetiError {}
export class JobQueueDrainError extends GanetiError {}
export class LuxiError extends GanetiError {}
export class QueryFilterParseError extends GanetiError {}
export class ProtocolError extends GanetiError {}
export class NoMasterError extends GanetiError {}
export class TimeoutError extends GanetiError {}
export class PermissionError extends GanetiError {}
export class RequestError extends GanetiError {}
export class RpcError extends GanetiError {}

// Errors with other arities.
/** `[msg, ecode]`; ecode is one of ECODES. */
export class OpPrereqError extends GanetiError {
  constructor(msg: string, ecode?: string) {
    super(...(ecode === undefined ? [msg] : [msg, ecode]));
  }
}
export class HooksAbort extends GanetiError {}
export class JobQueueFull extends GanetiError {}
export class ConfigVersionMismatch extends GanetiError {}
export class ResolverError extends GanetiError {}
/** An iallocator's answer does not fit its request (upstream's ResultValidationError). */
export class ResultValidationError extends GanetiError {}

export const ECODE = {
  RESOLVER: 'resolver_error',
  NORES: 'insufficient_resources',
  TEMP_NORES: 'temp_insufficient_resources',
  INVAL: 'wrong_input',
  STATE: 'wrong_state',
  NOENT: 'unknown_entity',
  EXISTS: 'already_exists',
  NOTUNIQUE: 'resource_not_unique',
  FAULT: 'internal_error',
  ENVIRON: 'environment_error',
} as const;

const CLASSES: Record<string, new (...args: any[]) => GanetiError> = {
  GenericError, LockError, PidFileLockError, HypervisorError, ProgrammerError,
  ConfigurationError, RemoteError, SignatureError, ParameterError, OpExecError,
  OpCodeUnknown, JobLost, JobFileCorrupted, HooksFailure, ParseError,
  TypeEnforcementError, CommandError, JobQueueError, JobQueueDrainError, LuxiError,
  QueryFilterParseError, ProtocolError, NoMasterError, TimeoutError, PermissionError,
  RequestError, RpcError, OpPrereqError, HooksAbort, JobQueueFull,
  ConfigVersionMismatch, ResolverError, TagError, ResultValidationError,
};

/** Encode any thrown value the way Ganeti puts errors on the wire. */
export function encodeError(err: unknown): [string, unknown[]] {
  if (err instanceof GanetiError) return err.encode();
  const msg = err instanceof Error ? err.message : String(err);
  return ['GenericError', [msg]];
}

/** Rebuild an encoded error; unknown classes become a RequestError carrying the raw value. */
export function decodeError(value: unknown): GanetiError {
  if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && Array.isArray(value[1])) {
    const cls = CLASSES[value[0]];
    if (cls) {
      // Bypass subclass constructors (OpPrereqError's signature) and keep the wire args as-is.
      return Reflect.construct(GanetiError, value[1] as unknown[], cls) as GanetiError;
    }
  }
  if (typeof value === 'string') return new GenericError(value);
  return new RequestError(value);
}

export function isEncodedError(value: unknown): value is [string, unknown[]] {
  return Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' &&
    Array.isArray(value[1]) && value[0] in CLASSES;
}
