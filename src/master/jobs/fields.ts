// The `job` query resource (spec/surface.md §2.6): what `gnt-job list`, QueryJobs,
// WaitForJobChange and RAPI read from a job.
import { jobPriority, jobStatus, redactSecrets, type Job } from '../../core/jobs.ts';
import { opSummary } from '../../core/opcodes.ts';
import type { Field, FieldKind } from '../../core/query.ts';

export interface JobView {
  job: Job;
  archived: boolean;
}

const f = (name: string, title: string, kind: FieldKind, doc: string, get: (v: JobView) => unknown): Field<JobView> =>
  ({ name, title, kind, doc, get });

export const JOB_FIELDS: ReadonlyMap<string, Field<JobView>> = new Map([
  f('archived', 'Archived', 'bool', 'Whether job is archived', (v) => v.archived),
  f('end_ts', 'End', 'other', 'Timestamp of job end (tuple containing seconds and microseconds)', (v) => v.job.end_timestamp),
  f('id', 'ID', 'number', 'Job ID', (v) => v.job.id),
  f('opend', 'OpCode_end', 'other', 'List of opcode execution end timestamps', (v) => v.job.ops.map((o) => o.end_timestamp)),
  f('opexec', 'OpCode_exec', 'other', 'List of opcode execution start timestamps (after acquiring locks)', (v) => v.job.ops.map((o) => o.exec_timestamp)),
  f('oplog', 'OpCode_log', 'other', 'List of opcode output logs', (v) => v.job.ops.map((o) => o.log)),
  f('oppriority', 'OpCode_prio', 'other', 'List of opcode priorities', (v) => v.job.ops.map((o) => o.priority)),
  f('opresult', 'OpCode_result', 'other', 'List of opcodes results', (v) => v.job.ops.map((o) => o.result)),
  f('ops', 'OpCodes', 'other', 'List of all opcodes', (v) => v.job.ops.map((o) => redactSecrets(o.input))),
  f('opstart', 'OpCode_start', 'other', 'List of opcode start timestamps (before acquiring locks)', (v) => v.job.ops.map((o) => o.start_timestamp)),
  f('opstatus', 'OpCode_status', 'other', 'List of opcodes status', (v) => v.job.ops.map((o) => o.status)),
  f('priority', 'Priority', 'number', 'Current job priority (19 to -20)', (v) => jobPriority(v.job)),
  f('received_ts', 'Received', 'other', 'Timestamp of when job was received (tuple containing seconds and microseconds)', (v) => v.job.received_timestamp),
  f('start_ts', 'Start', 'other', 'Timestamp of job start (tuple containing seconds and microseconds)', (v) => v.job.start_timestamp),
  f('status', 'Status', 'text', 'Job status', (v) => jobStatus(v.job)),
  f('summary', 'Summary', 'other', 'List of per-opcode summaries', (v) => v.job.ops.map((o) => opSummary(o.input))),
].map((x) => [x.name, x]));
