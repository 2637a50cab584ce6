// config.data in Ganeti 3.0's structure (spec/core.md §6). Objects are kept as the
// plain JSON Ganeti writes; these types name the fields the code reads.

export interface ConfigObject {
  uuid: string;
  serial_no: number;
  ctime: number;
  mtime: number;
  [key: string]: unknown;
}

export interface ClusterObject extends ConfigObject {
  cluster_name: string;
  master_node: string;
  master_ip: string;
  master_netdev: string;
  master_netmask: number;
  primary_ip_family: number;
  enabled_hypervisors: string[];
  enabled_disk_templates: string[];
  candidate_pool_size: number;
  max_running_jobs: number;
  max_tracked_jobs: number;
  file_storage_dir: string;
  shared_file_storage_dir: string;
  gluster_storage_dir: string;
  hvparams: Record<string, Record<string, unknown>>;
  tags: string[];
}

export interface NodeObject extends ConfigObject {
  name: string;
  primary_ip: string;
  secondary_ip: string;
  master_candidate: boolean;
  offline: boolean;
  drained: boolean;
  group: string;
  master_capable: boolean;
  vm_capable: boolean;
  ndparams: Record<string, unknown>;
  powered: boolean;
  tags: string[];
}

export interface NodeGroupObject extends ConfigObject {
  name: string;
  members: string[];
  alloc_policy: string;
}

/** A NIC inside an instance (not a top-level object): Ganeti 3.0's objects.NIC. */
export interface NicObject {
  mac: string;
  ip?: string | null;
  /** Only the values set on this NIC; the cluster's nicparams.default fill the rest. */
  nicparams: Record<string, unknown>;
  network?: string | null;
  name?: string | null;
  uuid: string;
}

/** An instance: Ganeti 3.0's objects.Instance as config.data stores it (disks are uuids). */
export interface InstanceObject extends ConfigObject {
  name: string;
  /** Node uuid. */
  primary_node: string;
  os: string;
  hypervisor: string;
  hvparams: Record<string, unknown>;
  beparams: Record<string, unknown>;
  osparams: Record<string, unknown>;
  osparams_private: Record<string, unknown>;
  admin_state: 'up' | 'down' | 'offline';
  admin_state_source: 'admin' | 'user';
  nics: NicObject[];
  /** Disk uuids, in index order (config.disks holds the objects). */
  disks: string[];
  disks_active: boolean;
  network_port?: number | null;
  tags: string[];
}

/** A disk: Ganeti 3.0's top-level objects.Disk. */
export interface DiskObject extends ConfigObject {
  /** The disk template: plain, file, sharedfile, drbd, blockdev, rbd, ext, gluster. */
  dev_type: string;
  /** plain: [vg, lv]; file/sharedfile: [driver, path]; blockdev: ["manual", path]. */
  logical_id: unknown[];
  children: DiskObject[];
  /** Node uuids holding the disk (3.x). */
  nodes: string[];
  /** "disk/0", "disk/1", ... */
  iv_name: string;
  /** MiB. */
  size: number;
  mode: 'rw' | 'ro';
  name?: string | null;
  spindles?: number | null;
  params: Record<string, unknown>;
}

/** A Network as config.data stores it (objects.Network); optional keys are left out when unset. */
export interface NetworkObject extends ConfigObject {
  name: string;
  network: string;
  gateway?: string | null;
  network6?: string | null;
  gateway6?: string | null;
  mac_prefix?: string | null;
  reservations?: string;
  ext_reservations?: string;
  tags: string[];
}

/** A job filter rule as config.data stores it (objects.FilterRule; no serial number or times). */
export interface FilterRuleObject {
  uuid: string;
  /** The highest job id when the rule was added or replaced. */
  watermark: number;
  /** Non-negative; lower numbers are applied first. */
  priority: number;
  /** [["jobid" | "opcode" | "reason", <query filter>], ...] */
  predicates: unknown[][];
  /** "ACCEPT" | "PAUSE" | "REJECT" | "CONTINUE" | ["RATE_LIMIT", n] */
  action: string | [string, number];
  reason_trail: unknown[][];
}

export interface ConfigData {
  version: number;
  cluster: ClusterObject;
  nodes: Record<string, NodeObject>;
  nodegroups: Record<string, NodeGroupObject>;
  instances: Record<string, InstanceObject>;
  networks: Record<string, NetworkObject>;
  disks: Record<string, DiskObject>;
  filters: Record<string, FilterRuleObject>;
  serial_no: number;
  ctime: number;
  mtime: number;
}

/** Seconds since the epoch as a float, the ctime/mtime format of config objects. */
export function nowFloat(): number {
  return Date.now() / 1000;
}
