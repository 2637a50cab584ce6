// The one place that turns errors into what the CLI prints and its exit code
// (spec/surface.md §0.4): scripts grep these texts, so they match Ganeti's.
import { EXIT_FAILURE } from '../core/constants.ts';
import {
  ConfigurationError, GanetiError, HooksAbort, HooksFailure, JobLost, JobQueueDrainError, JobQueueFull, NoMasterError,
  OpExecError, OpPrereqError, ParameterError, TagError, PermissionError, QueryFilterParseError, ResolverError, TimeoutError,
  TypeEnforcementError,
} from '../core/errors.ts';
import { numberText } from '../core/json.ts';
import { formatFilterParseError } from './filter-parser.ts';

/** An error that carries its own exit code and exact text (usage errors, --submit's JobID line). */
export class CliExit extends Error {
  readonly exitCode: number;

  constructor(message: string, exitCode: number) {
    super(message);
    this.exitCode = exitCode;
  }
}

function arg(err: GanetiError, i: number): string {
  const v = err.args[i];
  return typeof v === 'string' ? v : v === undefined ? '' : numberText(v);
}

/** [exit code, message] for any error. */
export function formatError(err: unknown): [number, string] {
  if (err instanceof CliExit) return [err.exitCode, err.message];
  if (err instanceof OpPrereqError) {
    const [msg, ecode] = [arg(err, 0), err.args[1]];
    return [EXIT_FAILURE, `Failure: prerequisites not met for this operation:\n${ecode ? `error type: ${String(ecode)}, error details:\n` : ''}${msg}`];
  }
  if (err instanceof OpExecError) return [EXIT_FAILURE, `Failure: command execution error:\n${arg(err, 0)}`];
  if (err instanceof HooksAbort) {
    const lines = ['Failure: hooks execution failed:'];
    for (const entry of (err.args[0] as Array<[string, string, string]>) ?? []) {
      const [node, script, out] = entry;
      lines.push(out ? `  node: ${node}, script: ${script}, output: ${out}` : `  node: ${node}, script: ${script} (no output)`);
    }
    return [EXIT_FAILURE, lines.join('\n')];
  }
  if (err instanceof HooksFailure) return [EXIT_FAILURE, `Failure: hooks general failure: ${arg(err, 0)}`];
  if (err instanceof JobQueueDrainError) return [EXIT_FAILURE, "Failure: the job queue is marked for drain and doesn't accept new requests"];
  if (err instanceof JobQueueFull) return [EXIT_FAILURE, "Failure: the job queue is full and doesn't accept new job submissions until old jobs are archived"];
  if (err instanceof TagError) return [EXIT_FAILURE, `Failure: invalid tag(s) given:\n${arg(err, 0)}`];
  if (err instanceof ParameterError) return [EXIT_FAILURE, `Failure: unknown/wrong parameter name '${arg(err, 0)}'`];
  if (err instanceof TypeEnforcementError) return [EXIT_FAILURE, `Parameter Error: ${arg(err, 0)}`];
  if (err instanceof ResolverError) return [EXIT_FAILURE, `Failure: can't resolve hostname '${arg(err, 0)}'`];
  if (err instanceof NoMasterError) {
    return [EXIT_FAILURE, 'Cannot communicate with the master daemon.\nIs the process running and listening for connections?'];
  }
  if (err instanceof PermissionError) {
    return [EXIT_FAILURE, "It seems you don't have permissions to connect to the master daemon.\nPlease retry as a different user."];
  }
  if (err instanceof TimeoutError) return [EXIT_FAILURE, `Timeout while talking to the master daemon. Jobs might have been submitted and will continue to run even if the call timed out. Useful commands in this situation are "gnt-job list", "gnt-job cancel" and "gnt-job watch". Error:\n${arg(err, 0)}`];
  if (err instanceof JobLost) return [EXIT_FAILURE, `Error checking job status: ${arg(err, 0)}`];
  if (err instanceof QueryFilterParseError) return [EXIT_FAILURE, formatFilterParseError(err)];
  if (err instanceof ConfigurationError) return [2, `Corrupt configuration file: ${arg(err, 0)}\nAborting.`];
  if (err instanceof GanetiError) return [EXIT_FAILURE, `Unhandled Ganeti error: ${arg(err, 0)}`];
  const e = err as Error;
  return [EXIT_FAILURE, `Unhandled exception: ${e?.message ?? String(err)}`];
}
