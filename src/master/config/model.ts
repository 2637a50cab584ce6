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

export interface ConfigData {
  version: number;
  cluster: ClusterObject;
  nodes: Record<string, NodeObject>;
  nodegroups: Record<string, NodeGroupObject>;
  instances: Record<string, ConfigObject & { name: string; primary_node: string }>;
  networks: Record<string, ConfigObject>;
  disks: Record<string, ConfigObject>;
  filters: Record<string, ConfigObject>;
  serial_no: number;
  ctime: number;
  mtime: number;
}

/** Seconds since the epoch as a float, the ctime/mtime format of config objects. */
export function nowFloat(): number {
  return Date.now() / 1000;
}
