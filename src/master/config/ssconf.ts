// The ssconf values: small per-key files on every node (spec/core.md §6.5), computed
// from the configuration. Multi-valued keys are lists of lines.
import { RELEASE_VERSION } from '../../core/constants.ts';
import { formatUidPool } from '../../core/params.ts';
import type { ConfigData, NodeObject } from './model.ts';

const py = (b: unknown) => (b ? 'True' : 'False');

// One collator for every comparison: localeCompare builds one per call (40 ms for 10,000 names).
const niceCollator = new Intl.Collator('en', { numeric: true });

/** Ganeti's "nice" sort: digit runs compare as numbers (node2 < node10). */
export function niceSort(names: string[]): string[] {
  return [...names].sort(niceCollator.compare);
}

export function instanceList(data: ConfigData): string[] {
  return niceSort(Object.values(data.instances).map((i) => i.name));
}

/** The ssconf values; the sorted instance names may come from the caller, who knows when they change. */
export function ssconfValues(data: ConfigData, instances: string[] = instanceList(data)): Record<string, string[]> {
  const c = data.cluster;
  const nodes: NodeObject[] = Object.values(data.nodes).sort((a, b) => niceCollator.compare(a.name, b.name));
  const mcs = nodes.filter((n) => n.master_candidate);
  const master = data.nodes[c.master_node];
  const values: Record<string, string[]> = {
    cluster_name: [c.cluster_name],
    cluster_tags: [...(c.tags ?? [])],
    enabled_user_shutdown: [py(c.enabled_user_shutdown)],
    file_storage_dir: [c.file_storage_dir],
    gluster_storage_dir: [c.gluster_storage_dir],
    shared_file_storage_dir: [c.shared_file_storage_dir],
    hypervisor_list: [...c.enabled_hypervisors],
    instance_list: instances,
    maintain_node_health: [py(c.maintain_node_health)],
    master_candidates: mcs.map((n) => n.name),
    master_candidates_ips: mcs.map((n) => n.primary_ip),
    master_ip: [c.master_ip],
    master_netdev: [c.master_netdev],
    master_netmask: [String(c.master_netmask)],
    master_node: [master ? master.name : 'NO MASTER'],
    networks: Object.values(data.networks).map((n) => `${n.uuid} ${String(n.name)}`),
    node_list: nodes.map((n) => n.name),
    node_primary_ips: nodes.map((n) => `${n.name} ${n.primary_ip}`),
    node_secondary_ips: nodes.map((n) => `${n.name} ${n.secondary_ip}`),
    node_vm_capable: nodes.map((n) => `${n.name}=${py(n.vm_capable)}`),
    nodegroups: Object.values(data.nodegroups).map((g) => `${g.uuid} ${g.name}`),
    offline_nodes: nodes.filter((n) => n.offline).map((n) => n.name),
    online_nodes: nodes.filter((n) => !n.offline).map((n) => n.name),
    primary_ip_family: [String(c.primary_ip_family)],
    release_version: [RELEASE_VERSION],
    ssh_ports: nodes.map((n) => `${n.name}=${String((n.ndparams?.ssh_port as number | undefined) ?? (c.ndparams as Record<string, unknown>)?.ssh_port ?? 22)}`),
    uid_pool: formatUidPool(c.uid_pool, '\n').split('\n').filter((l) => l !== ''),
  };
  for (const [hv, params] of Object.entries(c.hvparams)) {
    values[`hvparams_${hv}`] = Object.keys(params).sort().map((k) => `${k}=${formatSsconfValue(params[k])}`);
  }
  return values;
}

function formatSsconfValue(v: unknown): string {
  if (typeof v === 'boolean') return py(v);
  if (v === null || v === undefined) return 'None';
  return String(v);
}
