// Instance policies (ipolicy) as upstream applies them to an instance's specs: the
// group's policy filled from the cluster's (FillIPolicy) and the violations of one
// instance spec (ComputeIPolicySpecViolation), with upstream's texts.
import type { ConfigData, NodeGroupObject } from '../config/model.ts';

type Dict = Record<string, unknown>;

/** objects.FillIPolicy: the group's keys, the rest (and std's missing values) from the cluster. */
export function groupIpolicy(data: ConfigData, group: NodeGroupObject | undefined): Dict {
  const cluster = ((data.cluster as Dict).ipolicy ?? {}) as Dict;
  const custom = ((group as (NodeGroupObject & { ipolicy?: Dict }) | undefined)?.ipolicy ?? {}) as Dict;
  const out: Dict = structuredClone(custom);
  for (const [key, value] of Object.entries(cluster)) {
    if (!Object.hasOwn(out, key)) out[key] = structuredClone(value);
    else if (key === 'std') out[key] = { ...(value as Dict), ...(out[key] as Dict) };
  }
  return out;
}

export interface InstanceSpec {
  memorySize?: unknown;
  cpuCount?: unknown;
  diskCount: number;
  diskSizes: number[];
  nicCount: number;
  spindleUse?: unknown;
}

/** _ComputeMinMaxSpec: null when the value is within [min, max] (or not known). */
function minMaxViolation(name: string, qualifier: string, minmax: Dict, value: unknown): string | null {
  if (value === null || value === undefined || value === 'auto') return null;
  const max = (minmax.max as Dict | undefined)?.[name] ?? value;
  const min = (minmax.min as Dict | undefined)?.[name] ?? value;
  if ((value as number) > (max as number) || (min as number) > (value as number)) {
    const fqn = qualifier ? `${name}/${qualifier}` : name;
    return `${fqn} value ${String(value)} is not in range [${String(min)}, ${String(max)}]`;
  }
  return null;
}

/**
 * ComputeIPolicySpecViolation: the template must be allowed, and the spec must fit one
 * of the min/max pairs (the pair with the fewest violations is reported).
 */
export function ipolicyViolations(ipolicy: Dict, spec: InstanceSpec, diskTemplate: string): string[] {
  const tests: Array<[string, string, unknown]> = [
    ['memory-size', '', spec.memorySize],
    ['cpu-count', '', spec.cpuCount],
    ['nic-count', '', spec.nicCount],
    ['spindle-use', '', spec.spindleUse],
    ...spec.diskSizes.map((d, i): [string, string, unknown] => ['disk-size', String(i), d]),
  ];
  // A diskless instance has no disks to count.
  if (diskTemplate !== 'diskless') tests.push(['disk-count', '', spec.diskCount]);
  const out: string[] = [];
  const allowed = (ipolicy['disk-templates'] as string[] | undefined) ?? [];
  if (!allowed.includes(diskTemplate)) out.push(`Disk template ${diskTemplate} is not allowed (allowed templates: ${allowed.join(', ')})`);
  let best: string[] | null = null;
  for (const minmax of (ipolicy.minmax as Dict[] | undefined) ?? []) {
    const errs = tests.map(([n, q, v]) => minMaxViolation(n, q, minmax, v)).filter((e): e is string => e !== null);
    if (best === null || errs.length < best.length) best = errs;
  }
  return [...out, ...(best ?? [])];
}
