// The opcode table: one schema per opcode (parameters, types, defaults). LUXI, RAPI and
// the CLI validate against this one table; errors name the bad field. Later capabilities
// add their opcodes here (spec/core.md §3).
import { DISK_TEMPLATES, HYPERVISORS, OP_PRIO_SUBMIT_VALID } from './constants.ts';
import { ECODE, OpCodeUnknown, OpPrereqError } from './errors.ts';
import { isJsonInteger } from './json.ts';
import { MIGRATION_OPCODES } from './opcodes-migration.ts';
import { NETWORK_OPCODES } from './opcodes-network.ts';
import { ALLOCATION_OPCODES } from './opcodes-allocation.ts';
import { STORAGE_OPCODES } from './opcodes-storage.ts';

/** A value check; returns a description of what was expected when the value is wrong. */
export interface ParamType {
  name: string;
  check(v: unknown): boolean;
}

const t = (name: string, check: (v: unknown) => boolean): ParamType => ({ name, check });
const oneOf = (values: readonly string[]): ParamType =>
  t(`one of ${values.map((v) => `'${v}'`).join(', ')}`, (v) => typeof v === 'string' && values.includes(v));
export const T = {
  bool: t('boolean', (v) => typeof v === 'boolean'),
  int: t('integer', (v) => typeof v === 'number' && Number.isInteger(v)),
  nonNegInt: t('non-negative integer', (v) => typeof v === 'number' && Number.isInteger(v) && v >= 0),
  positiveInt: t('positive integer', (v) => typeof v === 'number' && Number.isInteger(v) && v > 0),
  float: t('number', (v) => typeof v === 'number' && Number.isFinite(v)),
  string: t('string', (v) => typeof v === 'string'),
  nonEmptyString: t('non-empty string', (v) => typeof v === 'string' && v.length > 0),
  stringList: t('list of strings', (v) => Array.isArray(v) && v.every((x) => typeof x === 'string')),
  dict: t('dictionary', (v) => v !== null && typeof v === 'object' && !Array.isArray(v)),
  list: t('list', (v) => Array.isArray(v)),
  any: t('any value', () => true),
  tagKind: t("one of 'cluster', 'node', 'nodegroup', 'instance', 'network'", (v) => typeof v === 'string' && ['cluster', 'node', 'nodegroup', 'instance', 'network'].includes(v)),
  allocPolicy: t("one of 'preferred', 'last_resort', 'unallocable'", (v) => typeof v === 'string' && ['preferred', 'last_resort', 'unallocable'].includes(v)),
  priority: t(`one of ${OP_PRIO_SUBMIT_VALID.join(', ')}`, (v) => typeof v === 'number' && OP_PRIO_SUBMIT_VALID.includes(v)),
  depends: t('list of [job_id, [status, ...]]', (v) =>
    Array.isArray(v) && v.every((d) => Array.isArray(d) && d.length === 2 &&
      (typeof d[0] === 'number' && Number.isInteger(d[0]) || typeof d[0] === 'string' && /^-?\d+$/.test(d[0])) &&
      Array.isArray(d[1]) && d[1].every((s: unknown) => typeof s === 'string'))),
  dictList: t('list of dictionaries', (v) => Array.isArray(v) && v.every((x) => x !== null && typeof x === 'object' && !Array.isArray(x))),
  diskTemplate: oneOf(DISK_TEMPLATES),
  hypervisor: oneOf(HYPERVISORS),
  createMode: oneOf(['create', 'import', 'remote-import']),
  fileDriver: oneOf(['loop', 'blktap', 'blktap2']),
  rebootType: oneOf(['soft', 'hard', 'full']),
  exportMode: oneOf(['local', 'remote']),
  adminStateSource: oneOf(['admin', 'user']),
  /** A disk index, 0 ≤ i < MAX_DISKS (upstream's DiskIndex). */
  diskIndex: t('disk index between 0 and 15', (v) => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < 16),
  /** OP_BACKUP_EXPORT's target_node: a node name (local) or a list of destination rows (remote). */
  exportTarget: t('node name or list', (v) => typeof v === 'string' && v.length > 0 || Array.isArray(v)),
  reason: t('list of [source, text, timestamp]', (v) =>
    Array.isArray(v) && v.every((r) => Array.isArray(r) && r.length === 3 && typeof r[0] === 'string' &&
      typeof r[1] === 'string' && isJsonInteger(r[2]))),
};

export interface ParamSpec {
  type: ParamType;
  /** Default when absent; a function for mutable defaults. Absent + no default = required. */
  default?: unknown;
  /** Null is accepted (and, when the value stays null, the key is left out of stored opcodes). */
  optional?: boolean;
  doc?: string;
}

export interface OpcodeSpec {
  id: string;
  params: Record<string, ParamSpec>;
  /** Parameter whose value makes the job summary, e.g. TEST_DELAY(1.0e-2). */
  summaryParam?: string;
  doc: string;
}

/** Parameters every opcode carries (spec/core.md §3.1). */
export const COMMON_PARAMS: Record<string, ParamSpec> = {
  dry_run: { type: T.bool, default: false, optional: true },
  debug_level: { type: T.nonNegInt, default: 0 },
  priority: { type: T.priority, default: 0 },
  depends: { type: T.depends, default: null, optional: true },
  comment: { type: T.string, default: null, optional: true },
  reason: { type: T.reason, default: [] },
};
/** Common keys kept in stored opcodes even when null (as Ganeti stores them). */
const KEEP_NULL = new Set(['dry_run', 'depends', 'comment']);

const VERIFY_FLAGS: Record<string, ParamSpec> = {
  debug_simulate_errors: { type: T.bool, default: false },
  error_codes: { type: T.bool, default: false },
  skip_checks: { type: T.stringList, default: [] },
  ignore_errors: { type: T.stringList, default: [] },
  verbose: { type: T.bool, default: false },
};

const GROUP_PARAMS: Record<string, ParamSpec> = {
  alloc_policy: { type: T.allocPolicy, default: null, optional: true },
  ndparams: { type: T.dict, default: null, optional: true },
  diskparams: { type: T.dict, default: null, optional: true },
  ipolicy: { type: T.dict, default: null, optional: true },
  hv_state: { type: T.dict, default: null, optional: true },
  disk_state: { type: T.dict, default: null, optional: true },
};

/** Optional-name helpers for the instance opcodes' recurring parameters. */
const optString: ParamSpec = { type: T.nonEmptyString, default: null, optional: true };
const optBool: ParamSpec = { type: T.bool, default: null, optional: true };
const optDict: ParamSpec = { type: T.dict, default: null, optional: true };
const INSTANCE_NAME: Record<string, ParamSpec> = {
  instance_name: { type: T.string },
  instance_uuid: optString,
};
const SHUTDOWN_TIMEOUT: ParamSpec = { type: T.nonNegInt, default: 120 };

/** Instance, OS and backup opcodes (Ganeti 3.0's parameters; 2.x clients send subsets). */
const INSTANCE_OPCODES: OpcodeSpec[] = [
  {
    id: 'OP_INSTANCE_CREATE',
    doc: 'Creates an instance (mode create) or imports one from an export (mode import).',
    summaryParam: 'instance_name',
    params: {
      instance_name: { type: T.string },
      force_variant: { type: T.bool, default: false },
      wait_for_sync: { type: T.bool, default: true },
      name_check: { type: T.bool, default: false },
      ignore_ipolicy: { type: T.bool, default: false },
      opportunistic_locking: { type: T.bool, default: false },
      beparams: { type: T.dict, default: {} },
      disks: { type: T.dictList, doc: 'size (MiB or with unit), mode, adopt, vg, metavg, name, spindles, provider, access' },
      disk_template: { type: T.diskTemplate, default: null, optional: true },
      group_name: optString,
      file_driver: { type: T.fileDriver, default: null, optional: true },
      file_storage_dir: optString,
      hvparams: { type: T.dict, default: {} },
      hypervisor: { type: T.hypervisor, default: null, optional: true },
      iallocator: optString,
      identify_defaults: { type: T.bool, default: false },
      ip_check: { type: T.bool, default: false },
      conflicts_check: { type: T.bool, default: true },
      mode: { type: T.createMode },
      nics: { type: T.dictList, doc: 'mac, ip, mode, link, network, name, vlan, bridge' },
      no_install: optBool,
      osparams: { type: T.dict, default: {} },
      osparams_private: { type: T.dict, default: {}, optional: true },
      osparams_secret: { type: T.dict, default: {}, optional: true },
      os_type: optString,
      pnode: optString,
      pnode_uuid: optString,
      snode: optString,
      snode_uuid: optString,
      source_handshake: { type: T.list, default: null, optional: true },
      source_instance_name: optString,
      source_shutdown_timeout: SHUTDOWN_TIMEOUT,
      source_x509_ca: optString,
      src_node: optString,
      src_node_uuid: optString,
      src_path: optString,
      compress: { type: T.string, default: 'none' },
      start: { type: T.bool, default: true },
      forthcoming: { type: T.bool, default: false },
      commit: { type: T.bool, default: false },
      tags: { type: T.stringList, default: [] },
      instance_communication: { type: T.bool, default: false },
      helper_startup_timeout: { type: T.int, default: 300, optional: true },
      helper_shutdown_timeout: { type: T.int, default: 7200, optional: true },
    },
  },
  {
    id: 'OP_INSTANCE_REMOVE',
    doc: 'Removes an instance and its disks.',
    summaryParam: 'instance_name',
    params: { ...INSTANCE_NAME, shutdown_timeout: SHUTDOWN_TIMEOUT, ignore_failures: { type: T.bool, default: false } },
  },
  {
    id: 'OP_INSTANCE_STARTUP',
    doc: 'Starts an instance.',
    summaryParam: 'instance_name',
    params: {
      ...INSTANCE_NAME,
      force: { type: T.bool, default: false },
      ignore_offline_nodes: { type: T.bool, default: false },
      hvparams: { type: T.dict, default: {}, doc: 'temporary hypervisor parameters' },
      beparams: { type: T.dict, default: {}, doc: 'temporary backend parameters' },
      no_remember: { type: T.bool, default: false },
      startup_paused: { type: T.bool, default: false },
      shutdown_timeout: SHUTDOWN_TIMEOUT,
    },
  },
  {
    id: 'OP_INSTANCE_SHUTDOWN',
    doc: 'Stops an instance.',
    summaryParam: 'instance_name',
    params: {
      ...INSTANCE_NAME,
      force: { type: T.bool, default: false },
      ignore_offline_nodes: { type: T.bool, default: false },
      timeout: SHUTDOWN_TIMEOUT,
      no_remember: { type: T.bool, default: false },
      admin_state_source: { type: T.adminStateSource, default: null, optional: true },
    },
  },
  {
    id: 'OP_INSTANCE_REBOOT',
    doc: 'Reboots an instance (soft, hard or full).',
    summaryParam: 'instance_name',
    params: {
      ...INSTANCE_NAME,
      shutdown_timeout: SHUTDOWN_TIMEOUT,
      ignore_secondaries: { type: T.bool, default: false },
      reboot_type: { type: T.rebootType },
    },
  },
  {
    id: 'OP_INSTANCE_REINSTALL',
    doc: "Reinstalls an instance's OS.",
    summaryParam: 'instance_name',
    params: {
      ...INSTANCE_NAME,
      force_variant: { type: T.bool, default: false },
      os_type: optString,
      osparams: optDict,
      osparams_private: optDict,
      osparams_secret: optDict,
    },
  },
  {
    id: 'OP_INSTANCE_RENAME',
    doc: 'Renames an instance.',
    params: {
      ...INSTANCE_NAME,
      new_name: { type: T.nonEmptyString },
      name_check: { type: T.bool, default: false },
      ip_check: { type: T.bool, default: false },
    },
  },
  {
    id: 'OP_INSTANCE_SET_PARAMS',
    doc: "Changes an instance's parameters, NICs and disks.",
    summaryParam: 'instance_name',
    params: {
      ...INSTANCE_NAME,
      force: { type: T.bool, default: false },
      force_variant: { type: T.bool, default: false },
      ignore_ipolicy: { type: T.bool, default: false },
      nics: { type: T.list, default: [], doc: '[[action, index or name, params], ...] or 2.x [[action or index, params], ...]' },
      disks: { type: T.list, default: [], doc: 'as nics' },
      beparams: { type: T.dict, default: {} },
      runtime_mem: { type: T.positiveInt, default: null, optional: true },
      hvparams: { type: T.dict, default: {} },
      disk_template: { type: T.diskTemplate, default: null, optional: true },
      ext_params: { type: T.dict, default: {} },
      file_driver: { type: T.fileDriver, default: null, optional: true },
      file_storage_dir: optString,
      pnode: optString,
      pnode_uuid: optString,
      remote_node: optString,
      remote_node_uuid: optString,
      iallocator: optString,
      os_name: optString,
      osparams: { type: T.dict, default: {} },
      osparams_private: optDict,
      clear_osparams: { type: T.bool, default: false },
      clear_osparams_private: { type: T.bool, default: false },
      remove_osparams: { type: T.stringList, default: null, optional: true },
      remove_osparams_private: { type: T.stringList, default: null, optional: true },
      wait_for_sync: { type: T.bool, default: true },
      offline: optBool,
      conflicts_check: { type: T.bool, default: true },
      hotplug: { type: T.bool, default: true },
      hotplug_if_possible: { type: T.bool, default: false },
      instance_communication: optBool,
    },
  },
  {
    id: 'OP_INSTANCE_ACTIVATE_DISKS',
    doc: "Activates an instance's disks; returns [[node, iv_name, dev_path], ...].",
    summaryParam: 'instance_name',
    params: { ...INSTANCE_NAME, ignore_size: { type: T.bool, default: false }, wait_for_sync: { type: T.bool, default: false } },
  },
  {
    id: 'OP_INSTANCE_DEACTIVATE_DISKS',
    doc: "Deactivates an instance's disks.",
    summaryParam: 'instance_name',
    params: { ...INSTANCE_NAME, force: { type: T.bool, default: false } },
  },
  {
    id: 'OP_INSTANCE_GROW_DISK',
    doc: "Grows one of an instance's disks.",
    summaryParam: 'instance_name',
    params: {
      ...INSTANCE_NAME,
      wait_for_sync: { type: T.bool, default: true },
      disk: { type: T.diskIndex },
      amount: { type: T.nonNegInt, doc: 'MiB to add, or the new size when absolute' },
      absolute: { type: T.bool, default: false },
      ignore_ipolicy: { type: T.bool, default: false },
    },
  },
  {
    id: 'OP_INSTANCE_RECREATE_DISKS',
    doc: "Recreates an instance's missing disks (all when disks is empty).",
    summaryParam: 'instance_name',
    params: {
      ...INSTANCE_NAME,
      disks: { type: T.list, default: [], doc: '[] (all), [index, ...] or [[index, params], ...]' },
      nodes: { type: T.stringList, default: [] },
      node_uuids: { type: T.stringList, default: null, optional: true },
      iallocator: optString,
    },
  },
  { id: 'OP_INSTANCE_CONSOLE', doc: "Returns how to reach an instance's console.", summaryParam: 'instance_name', params: { ...INSTANCE_NAME } },
  {
    id: 'OP_INSTANCE_QUERY_DATA',
    doc: 'Returns detailed data about instances (gnt-instance info).',
    params: {
      use_locking: { type: T.bool, default: false },
      instances: { type: T.stringList, default: [] },
      static: { type: T.bool, default: false },
    },
  },
  {
    id: 'OP_OS_DIAGNOSE',
    doc: 'Lists the OSes the nodes offer (legacy; OP_QUERY what=os supersedes it).',
    params: { output_fields: { type: T.stringList }, names: { type: T.stringList, default: [] } },
  },
  {
    id: 'OP_BACKUP_QUERY',
    doc: 'Lists the exports on the nodes (legacy 2.x opcode).',
    params: { nodes: { type: T.stringList, default: [] }, use_locking: { type: T.bool, default: false } },
  },
  {
    id: 'OP_BACKUP_PREPARE',
    doc: 'Prepares an instance export (remote mode: returns the handshake and key).',
    summaryParam: 'instance_name',
    params: { ...INSTANCE_NAME, mode: { type: T.exportMode } },
  },
  {
    id: 'OP_BACKUP_EXPORT',
    doc: 'Exports an instance to a node; returns [finalize_ok, [disk_ok, ...]].',
    summaryParam: 'instance_name',
    params: {
      ...INSTANCE_NAME,
      compress: { type: T.string, default: 'none' },
      shutdown_timeout: SHUTDOWN_TIMEOUT,
      target_node: { type: T.exportTarget },
      target_node_uuid: optString,
      shutdown: { type: T.bool, default: true },
      remove_instance: { type: T.bool, default: false },
      ignore_remove_failures: { type: T.bool, default: false },
      mode: { type: T.exportMode, default: 'local' },
      x509_key_name: { type: T.list, default: null, optional: true },
      destination_x509_ca: optString,
      zero_free_space: { type: T.bool, default: false },
      zeroing_timeout_fixed: { type: T.int, default: null, optional: true },
      zeroing_timeout_per_mib: { type: T.float, default: null, optional: true },
      long_sleep: { type: T.bool, default: false },
    },
  },
  { id: 'OP_BACKUP_REMOVE', doc: "Removes an instance's export from the nodes.", summaryParam: 'instance_name', params: { ...INSTANCE_NAME } },
];

const OPCODES: OpcodeSpec[] = [
  { id: 'OP_CLUSTER_POST_INIT', doc: 'Runs after the cluster is initialised.', params: {} },
  { id: 'OP_CLUSTER_DESTROY', doc: 'Destroys the cluster (only the master may be left).', params: {} },
  {
    id: 'OP_CLUSTER_SET_PARAMS',
    doc: 'Changes cluster parameters.',
    params: {
      force: { type: T.bool, default: false },
      candidate_pool_size: { type: T.positiveInt, default: null, optional: true },
      max_running_jobs: { type: T.positiveInt, default: null, optional: true },
      max_tracked_jobs: { type: T.positiveInt, default: null, optional: true },
      mac_prefix: { type: T.string, default: null, optional: true },
      modify_etc_hosts: { type: T.bool, default: null, optional: true },
      maintain_node_health: { type: T.bool, default: null, optional: true },
      prealloc_wipe_disks: { type: T.bool, default: null, optional: true },
      uid_pool: { type: T.list, default: null, optional: true },
      add_uids: { type: T.list, default: null, optional: true },
      remove_uids: { type: T.list, default: null, optional: true },
      reserved_lvs: { type: T.stringList, default: null, optional: true },
      vg_name: { type: T.string, default: null, optional: true },
      enabled_hypervisors: { type: T.stringList, default: null, optional: true },
      hvparams: { type: T.dict, default: null, optional: true },
      beparams: { type: T.dict, default: null, optional: true },
      nicparams: { type: T.dict, default: null, optional: true },
      ndparams: { type: T.dict, default: null, optional: true },
      diskparams: { type: T.dict, default: null, optional: true },
      ipolicy: { type: T.dict, default: null, optional: true },
      master_netdev: { type: T.string, default: null, optional: true },
      master_netmask: { type: T.int, default: null, optional: true },
      use_external_mip_script: { type: T.bool, default: null, optional: true },
      enabled_disk_templates: { type: T.stringList, default: null, optional: true },
      file_storage_dir: { type: T.string, default: null, optional: true },
      shared_file_storage_dir: { type: T.string, default: null, optional: true },
      default_iallocator: { type: T.string, default: null, optional: true },
      default_iallocator_params: { type: T.dict, default: null, optional: true },
      compression_tools: { type: T.stringList, default: null, optional: true },
      enabled_user_shutdown: { type: T.bool, default: null, optional: true },
    },
  },
  {
    id: 'OP_CLUSTER_VERIFY',
    doc: 'Verifies the cluster: submits one OP_CLUSTER_VERIFY_CONFIG job and one OP_CLUSTER_VERIFY_GROUP job per group.',
    params: { ...VERIFY_FLAGS, group_name: { type: T.nonEmptyString, default: null, optional: true }, verify_clutter: { type: T.bool, default: false } },
  },
  { id: 'OP_CLUSTER_VERIFY_CONFIG', doc: 'Verifies the cluster-wide configuration.', params: { ...VERIFY_FLAGS } },
  {
    id: 'OP_CLUSTER_VERIFY_GROUP',
    doc: 'Verifies the nodes of one node group.',
    summaryParam: 'group_name',
    params: { ...VERIFY_FLAGS, group_name: { type: T.nonEmptyString }, verify_clutter: { type: T.bool, default: false } },
  },
  { id: 'OP_CLUSTER_REDIST_CONF', doc: 'Re-uploads the configuration to the master candidates and ssconf to all nodes.', params: {} },
  { id: 'OP_CLUSTER_RENAME', doc: 'Renames the cluster.', summaryParam: 'name', params: { name: { type: T.nonEmptyString } } },
  {
    id: 'OP_NODE_ADD',
    doc: 'Adds a node (already joined to the cluster by `gnt-node add`) to the configuration.',
    summaryParam: 'node_name',
    params: {
      node_name: { type: T.nonEmptyString },
      primary_ip: { type: T.nonEmptyString, default: null, optional: true },
      secondary_ip: { type: T.nonEmptyString, default: null, optional: true },
      readd: { type: T.bool, default: false },
      group: { type: T.nonEmptyString, default: null, optional: true },
      master_capable: { type: T.bool, default: null, optional: true },
      vm_capable: { type: T.bool, default: null, optional: true },
      ndparams: { type: T.dict, default: null, optional: true },
      hv_state: { type: T.dict, default: null, optional: true },
      disk_state: { type: T.dict, default: null, optional: true },
      node_setup: { type: T.bool, default: false },
    },
  },
  {
    id: 'OP_NODE_REMOVE',
    doc: 'Removes a node from the cluster.',
    summaryParam: 'node_name',
    params: { node_name: { type: T.nonEmptyString }, node_uuid: { type: T.nonEmptyString, default: null, optional: true } },
  },
  {
    id: 'OP_NODE_POWERCYCLE',
    doc: 'Tries to powercycle a node (the master only with force).',
    summaryParam: 'node_name',
    params: {
      node_name: { type: T.nonEmptyString },
      node_uuid: { type: T.nonEmptyString, default: null, optional: true },
      force: { type: T.bool, default: false },
    },
  },
  {
    id: 'OP_NODE_SET_PARAMS',
    doc: "Changes a node's role flags and parameters.",
    summaryParam: 'node_name',
    params: {
      node_name: { type: T.nonEmptyString },
      node_uuid: { type: T.nonEmptyString, default: null, optional: true },
      force: { type: T.bool, default: false },
      master_candidate: { type: T.bool, default: null, optional: true },
      offline: { type: T.bool, default: null, optional: true },
      drained: { type: T.bool, default: null, optional: true },
      auto_promote: { type: T.bool, default: false },
      master_capable: { type: T.bool, default: null, optional: true },
      vm_capable: { type: T.bool, default: null, optional: true },
      secondary_ip: { type: T.nonEmptyString, default: null, optional: true },
      ndparams: { type: T.dict, default: null, optional: true },
      powered: { type: T.bool, default: null, optional: true },
      hv_state: { type: T.dict, default: null, optional: true },
      disk_state: { type: T.dict, default: null, optional: true },
    },
  },
  {
    id: 'OP_GROUP_ADD',
    doc: 'Adds a node group.',
    summaryParam: 'group_name',
    params: { group_name: { type: T.nonEmptyString }, ...GROUP_PARAMS },
  },
  {
    id: 'OP_GROUP_SET_PARAMS',
    doc: "Changes a node group's parameters.",
    summaryParam: 'group_name',
    params: { group_name: { type: T.nonEmptyString }, ...GROUP_PARAMS },
  },
  { id: 'OP_GROUP_REMOVE', doc: 'Removes an empty node group.', summaryParam: 'group_name', params: { group_name: { type: T.nonEmptyString } } },
  {
    id: 'OP_GROUP_RENAME',
    doc: 'Renames a node group.',
    summaryParam: 'group_name',
    params: { group_name: { type: T.nonEmptyString }, new_name: { type: T.nonEmptyString } },
  },
  {
    id: 'OP_GROUP_ASSIGN_NODES',
    doc: 'Moves nodes into a node group.',
    summaryParam: 'group_name',
    params: { group_name: { type: T.nonEmptyString }, nodes: { type: T.stringList }, node_uuids: { type: T.stringList, default: null, optional: true }, force: { type: T.bool, default: false } },
  },
  {
    id: 'OP_TAGS_GET',
    doc: 'Returns the tags of an object.',
    params: { kind: { type: T.tagKind }, name: { type: T.string, default: null, optional: true }, use_locking: { type: T.bool, default: false } },
  },
  {
    id: 'OP_TAGS_SET',
    doc: 'Adds tags to an object.',
    params: { kind: { type: T.tagKind }, name: { type: T.string, default: null, optional: true }, tags: { type: T.stringList } },
  },
  {
    id: 'OP_TAGS_DEL',
    doc: 'Removes tags from an object.',
    params: { kind: { type: T.tagKind }, name: { type: T.string, default: null, optional: true }, tags: { type: T.stringList } },
  },
  { id: 'OP_TAGS_SEARCH', doc: 'Searches all tags for a regular expression.', summaryParam: 'pattern', params: { pattern: { type: T.nonEmptyString } } },
  {
    id: 'OP_TEST_DELAY',
    doc: 'Sleeps for a while, on the master and/or on nodes; used to test the job queue.',
    summaryParam: 'duration',
    params: {
      duration: { type: T.float, doc: 'seconds to sleep' },
      on_master: { type: T.bool, default: true },
      on_nodes: { type: T.stringList, default: [] },
      on_node_uuids: { type: T.stringList, default: null, optional: true },
      repeat: { type: T.nonNegInt, default: 0 },
      interruptible: { type: T.bool, default: false },
      no_locks: { type: T.bool, default: true },
    },
  },
  ...INSTANCE_OPCODES,
  ...MIGRATION_OPCODES,
  ...ALLOCATION_OPCODES,
  ...NETWORK_OPCODES,
  ...STORAGE_OPCODES,
];

export const OPCODE_TABLE: ReadonlyMap<string, OpcodeSpec> = new Map(OPCODES.map((o) => [o.id, o]));

export type OpInput = Record<string, unknown> & { OP_ID: string };

function wrongInput(msg: string): OpPrereqError {
  return new OpPrereqError(msg, ECODE.INVAL);
}

/**
 * Validate one opcode dict and return it with every default filled in, in the form the
 * job queue stores. Throws OpCodeUnknown / OpPrereqError(wrong_input) naming the problem.
 */
export function validateOpcode(raw: unknown): OpInput {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw wrongInput('Opcode must be a dictionary');
  const input = raw as Record<string, unknown>;
  const id = input.OP_ID;
  if (typeof id !== 'string') throw wrongInput("Opcode is missing 'OP_ID'");
  const spec = OPCODE_TABLE.get(id);
  if (!spec) throw new OpCodeUnknown(`Unknown opcode '${id}'`);
  const all = { ...COMMON_PARAMS, ...spec.params };
  for (const key of Object.keys(input)) {
    if (key !== 'OP_ID' && !(key in all)) throw wrongInput(`Unknown parameter '${key}' for opcode ${id}`);
  }
  const out: OpInput = { OP_ID: id };
  for (const [key, p] of Object.entries(all)) {
    let v = input[key];
    if (v === undefined) {
      if (!('default' in p)) throw wrongInput(`Parameter '${key}' of opcode ${id} is required`);
      v = structuredClone(p.default);
    }
    if (v === null) {
      if (!p.optional && p.default !== null) throw wrongInput(`Parameter '${key}' of opcode ${id} must not be null`);
      if (KEEP_NULL.has(key)) out[key] = null;
      continue;
    }
    if (!p.type.check(v)) {
      throw wrongInput(`Parameter '${key}' of opcode ${id} must be a ${p.type.name}, got ${JSON.stringify(v)}`);
    }
    out[key] = v;
  }
  return out;
}

/** Haskell's `show` for a Double, which Ganeti 3 uses in job summaries: 0.01 → "1.0e-2". */
export function showDouble(x: number): string {
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const a = Math.abs(x);
  if (a >= 0.1 && a < 1e7) {
    const s = String(x);
    return s.includes('.') || s.includes('e') ? s : `${s}.0`;
  }
  const [mant, exp] = x.toExponential().split('e');
  const m = mant.includes('.') ? mant : `${mant}.0`;
  return `${m}e${Number(exp)}`;
}

/** One opcode's summary as `gnt-job list` shows it: OP_ID without OP_, plus the summary value. */
export function opSummary(input: Record<string, unknown>): string {
  const id = String(input.OP_ID ?? 'OP_UNKNOWN');
  const base = id.startsWith('OP_') ? id.slice(3) : id;
  const spec = OPCODE_TABLE.get(id);
  if (!spec?.summaryParam) return base;
  const v = input[spec.summaryParam];
  if (v === undefined || v === null) return base;
  const shown = spec.params[spec.summaryParam]?.type === T.float && typeof v === 'number' ? showDouble(v) : String(v);
  return `${base}(${shown})`;
}
