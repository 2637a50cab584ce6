// An instance's effective parameters (upstream's Cluster.Fill*) and the instance dict the
// master sends to noded (upstream's rpc._InstDict): the one place both are computed, for
// logical units, queries and RPC alike.
import type { ConfigData, DiskObject, InstanceObject, NicObject } from './model.ts';

type Dict = Record<string, unknown>;

/** The OS name without its variant: "debootstrap+buster" → "debootstrap". */
export function osBaseName(os: string): string {
  const plus = os.indexOf('+');
  return plus < 0 ? os : os.slice(0, plus);
}

/** Hypervisor parameters only the cluster sets, never an instance (constants.HVC_GLOBALS). */
export const HVC_GLOBALS = ['migration_port', 'migration_bandwidth', 'migration_mode', 'xen_cmd'];

/**
 * Cluster hvparams for the hypervisor, then the OS's os_hvp, then the instance's own;
 * with skipGlobals, without the cluster-wide ones (upstream's FillHV(skip_globals=True)).
 */
export function filledHvParams(config: ConfigData, inst: Pick<InstanceObject, 'hypervisor' | 'os' | 'hvparams'>,
  skipGlobals = false): Dict {
  const c = config.cluster as Dict & ConfigData['cluster'];
  const osHvp = (c.os_hvp as Record<string, Record<string, Dict>> | undefined)?.[inst.os]?.[inst.hypervisor] ?? {};
  const filled: Dict = { ...(c.hvparams?.[inst.hypervisor] ?? {}), ...osHvp, ...inst.hvparams };
  if (skipGlobals) for (const key of HVC_GLOBALS) delete filled[key];
  return filled;
}

/** Cluster beparams "default", then the instance's own. */
export function filledBeParams(config: ConfigData, inst: Pick<InstanceObject, 'beparams'>): Dict {
  const defaults = ((config.cluster as Dict).beparams as Record<string, Dict> | undefined)?.default ?? {};
  return { ...defaults, ...inst.beparams };
}

/** Cluster osparams for the OS (base name, then name with variant), then the instance's own. */
export function filledOsParams(config: ConfigData, inst: Pick<InstanceObject, 'os' | 'osparams'>): Dict {
  const all = ((config.cluster as Dict).osparams as Record<string, Dict> | undefined) ?? {};
  const base = osBaseName(inst.os);
  return { ...(all[base] ?? {}), ...(inst.os !== base ? all[inst.os] ?? {} : {}), ...inst.osparams };
}

/** Private OS parameters: the cluster's osparams_private_cluster, then the instance's. */
export function filledOsParamsPrivate(config: ConfigData, inst: Pick<InstanceObject, 'os' | 'osparams_private'>): Dict {
  const all = ((config.cluster as Dict).osparams_private_cluster as Record<string, Dict> | undefined) ?? {};
  return { ...(all[osBaseName(inst.os)] ?? {}), ...(inst.osparams_private ?? {}) };
}

/** Cluster nicparams "default", then the NIC's own. */
export function filledNicParams(config: ConfigData, nic: Pick<NicObject, 'nicparams'>): Dict {
  const defaults = ((config.cluster as Dict).nicparams as Record<string, Dict> | undefined)?.default ?? {};
  return { ...defaults, ...nic.nicparams };
}

/** How many disks and NICs an instance may have (constants.MAX_DISKS, MAX_NICS). */
export const MAX_DISKS = 16;
export const MAX_NICS = 8;

/** The instance's disk objects in index order. */
export function instanceDisks(config: ConfigData, inst: Pick<InstanceObject, 'disks'>): DiskObject[] {
  return inst.disks.map((uuid) => config.disks[uuid]).filter((d): d is DiskObject => d !== undefined);
}

/** utils.GetDiskTemplate: the disks' one dev_type, "diskless" without disks, "mixed" for several. */
export function diskTemplateOf(disks: DiskObject[]): string {
  const types = [...new Set(disks.map((d) => d.dev_type))];
  if (types.length === 0) return 'diskless';
  return types.length === 1 ? types[0] : 'mixed';
}

/** The disk template as upstream's config derives it in 3.x (GetInstanceDiskTemplate). */
export function instanceDiskTemplate(config: ConfigData, inst: Pick<InstanceObject, 'disks'>): string {
  return diskTemplateOf(instanceDisks(config, inst));
}

/** Node uuids other than the primary that hold any of the instance's disks (DRBD). */
export function secondaryNodes(config: ConfigData, inst: Pick<InstanceObject, 'disks' | 'primary_node'>): string[] {
  const all = new Set<string>();
  for (const d of instanceDisks(config, inst)) for (const n of d.nodes ?? []) if (n !== inst.primary_node) all.add(n);
  return [...all];
}

export interface InstanceOverrides {
  /** Temporary parameters (gnt-instance start -H/-B), on top of the filled ones. */
  hvparams?: Dict;
  beparams?: Dict;
  osparams?: Dict;
}

/**
 * The instance as noded receives it (the "inst" argument of instance_* and OS procedures):
 * the config object with hvparams/beparams/osparams/osparams_private filled, NICs with
 * filled nicparams (and netinfo null: networks are not managed yet), `disks_info` with the
 * disk objects in order, and `secondary_nodes` as node names. `primary_node` stays the
 * node uuid, as in config.data; `primary_node_name` names it for the OS environment.
 */
export function instanceRpcDict(config: ConfigData, inst: InstanceObject, overrides: InstanceOverrides = {}): Dict {
  const nodeName = (uuid: string) => config.nodes[uuid]?.name ?? uuid;
  return {
    ...inst,
    hvparams: { ...filledHvParams(config, inst), ...overrides.hvparams },
    beparams: { ...filledBeParams(config, inst), ...overrides.beparams },
    osparams: { ...filledOsParams(config, inst), ...overrides.osparams },
    osparams_private: filledOsParamsPrivate(config, inst),
    nics: inst.nics.map((nic) => ({ ...nic, nicparams: filledNicParams(config, nic), netinfo: null })),
    disks_info: instanceDisks(config, inst),
    secondary_nodes: secondaryNodes(config, inst).map(nodeName),
    primary_node_name: nodeName(inst.primary_node),
  };
}
