// Memory and CPU figures of a Linux node, as upstream's hv_base.GetLinuxNodeInfo reads
// them: /proc/meminfo (free = MemFree + Buffers + Cached, the node's own use = Active) and
// /proc/cpuinfo (one "processor" line per logical CPU).
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { HypervisorError } from '../../core/errors.ts';
import type { HvNodeInfo } from './types.ts';

export function linuxNodeInfo(meminfo = '/proc/meminfo', cpuinfo = '/proc/cpuinfo'): HvNodeInfo {
  let mem: string;
  let cpu: string;
  try {
    mem = fs.readFileSync(meminfo, 'utf8');
    cpu = fs.readFileSync(cpuinfo, 'utf8');
  } catch (err) {
    throw new HypervisorError(`Failed to list node info: ${(err as Error).message}`);
  }
  const kib: Record<string, number> = {};
  for (const line of mem.split('\n')) {
    const m = /^([^:]+):\s*(\d+)/.exec(line);
    if (m) kib[m[1].trim()] = Number(m[2]);
  }
  const mib = (key: string) => Math.floor((kib[key] ?? 0) / 1024);
  const cpuTotal = (cpu.match(/^processor\s*:\s*[0-9]+\s*$/gm) ?? []).length;
  return {
    memory_total: mib('MemTotal'),
    memory_free: mib('MemFree') + mib('Buffers') + mib('Cached'),
    memory_dom0: mib('Active'),
    cpu_total: cpuTotal,
    // The node OS can use every CPU; NUMA layout is not looked at (upstream: the same).
    cpu_dom0: cpuTotal,
    cpu_nodes: 1,
    cpu_sockets: 1,
  };
}

/**
 * Hard-reboot this machine, as upstream's LinuxPowercycle: the kernel's sysrq trigger
 * ("b": reboot at once, without syncing or unmounting), else `reboot -n -f`. Returns
 * (why it failed) only if neither rebooted.
 */
export function linuxPowercycle(trigger = '/proc/sysrq-trigger'): string {
  let why: string;
  try {
    fs.writeFileSync(trigger, 'b');
    why = `${trigger} accepted the request but the machine did not reboot`;
  } catch (err) {
    why = `cannot write ${trigger}: ${(err as Error).message}`;
  }
  const r = spawnSync('reboot', ['-n', '-f'], { encoding: 'utf8' });
  return `${why}; reboot -n -f: ${r.error?.message ?? (r.stderr.trim() || `exit code ${r.status}`)}`;
}
