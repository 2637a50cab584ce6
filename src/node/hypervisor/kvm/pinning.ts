// CPU pinning from the cpu_mask hvparam (upstream's _ExecuteCpuAffinity): "all", one CPU
// list for the whole VM ("0-2,4"), or one entry per vCPU separated by ":" ("1:3:all").
// The whole VM is pinned with `taskset -a -p` (every thread), single vCPUs by their
// thread ids from QMP query-cpus-fast. qemu starts paused (-S) for it and is resumed after.
import os from 'node:os';
import { spawnSync } from 'node:child_process';
import { HypervisorError } from '../../../core/errors.ts';
import type { QmpClient } from './qmp.ts';

export type CpuMask = Array<'all' | number[]>;

/** utils.ParseMultiCpuMask; throws on a malformed mask. */
export function parseMultiCpuMask(mask: string): CpuMask {
  return mask.split(':').map((entry) => {
    const e = entry.trim();
    if (e === 'all' || e === '') return 'all';
    const cpus: number[] = [];
    for (const part of e.split(',')) {
      const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
      if (!m) throw new HypervisorError(`Invalid CPU mask definition: ${mask}`);
      const lo = Number(m[1]);
      const hi = m[2] === undefined ? lo : Number(m[2]);
      if (hi < lo) throw new HypervisorError(`Invalid CPU mask definition: ${mask}`);
      for (let c = lo; c <= hi; c++) cpus.push(c);
    }
    return cpus;
  });
}

/** Whether the mask asks for any pinning at all. */
export function needsPinning(mask: unknown): boolean {
  if (typeof mask !== 'string' || mask === '') return false;
  return parseMultiCpuMask(mask).some((e) => e !== 'all');
}

function taskset(args: string[]): void {
  const r = spawnSync('taskset', args, { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new HypervisorError(`taskset ${args.join(' ')} failed: ${r.error?.message ?? (r.stderr.trim() || `exit code ${String(r.status)}`)}`);
  }
}

/** Pin qemu `pid` (or its vCPU threads) as `mask` says. */
export async function applyCpuMask(mask: string, pid: number, qmp: QmpClient): Promise<void> {
  const entries = parseMultiCpuMask(mask);
  const allCpus = Array.from({ length: os.cpus().length }, (_, i) => i).join(',');
  if (entries.length === 1) {
    if (entries[0] !== 'all') taskset(['-a', '-p', '-c', entries[0].join(','), String(pid)]);
    return;
  }
  const cpus = (await qmp.execute('query-cpus-fast')) as Array<{ 'cpu-index': number; 'thread-id': number }>;
  if (!Array.isArray(cpus) || cpus.length !== entries.length) {
    throw new HypervisorError(`Number of vCPUs (${Array.isArray(cpus) ? cpus.length : '?'}) does not match the CPU mask ${mask}`);
  }
  for (const cpu of cpus) {
    const entry = entries[cpu['cpu-index']];
    taskset(['-p', '-c', entry === 'all' ? allCpus : entry.join(','), String(cpu['thread-id'])]);
  }
}
