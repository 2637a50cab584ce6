// The LUXI methods the master serves (spec/core.md §1.4). Each checks its arguments
// and names what is wrong; opcodes are validated against the one opcode table.
import os from 'node:os';
import fs from 'node:fs';
import {
  CONFIG_VERSION, EXPORT_VERSION, LUXI_WFJC_TIMEOUT, OS_API_VERSION, PROTOCOL_VERSION, RELEASE_VERSION, RS_NORMAL, VCS_VERSION,
} from '../../core/constants.ts';
import { ECODE, GenericError, LuxiError, OpExecError, OpPrereqError } from '../../core/errors.ts';
import { validateOpcode, type OpInput } from '../../core/opcodes.ts';
import { queryFields, runQuery, type Field, type Filter } from '../../core/query.ts';
import { JOB_FIELDS } from '../jobs/fields.ts';
import { LOCK_FIELDS } from '../locking/fields.ts';
import { NODE_FIELDS, nodeViews } from '../config/node-fields.ts';
import { GROUP_FIELDS, groupViews } from '../config/group-fields.ts';
import { INSTANCE_FIELDS, instanceViews } from '../config/instance-fields.ts';
import { OS_FIELDS, osViews } from '../config/os-fields.ts';
import { EXPORT_FIELDS, exportViews, exportsByNode } from '../config/export-fields.ts';
import { NETWORK_FIELDS, networkViews } from '../config/network-fields.ts';
import { FILTER_FIELDS, filterViews } from '../config/filter-fields.ts';
import { deleteFilter, replaceFilter, type FilterDeps } from '../cmdlib/filter.ts';
import { queryTags } from '../cmdlib/tags.ts';
import type { MethodTable } from './server.ts';
import type { Master } from '../master.ts';

function argError(method: string, msg: string): LuxiError {
  return new LuxiError(`Invalid arguments for ${method}: ${msg}`);
}

function expectArgs(method: string, args: unknown[], min: number, max = min): void {
  if (args.length < min || args.length > max) {
    throw argError(method, `expected ${min === max ? min : `${min} to ${max}`} argument(s), got ${args.length}`);
  }
}

function stringList(method: string, what: string, v: unknown): string[] {
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw argError(method, `${what} must be a list of strings`);
  return v;
}

function jobId(method: string, v: unknown): number {
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw argError(method, `job id must be a non-negative integer, got ${JSON.stringify(v)}`);
  return n;
}

function opList(method: string, v: unknown): OpInput[] {
  if (!Array.isArray(v) || v.length === 0) throw argError(method, 'a job must be a non-empty list of opcodes');
  return v.map((op) => validateOpcode(op));
}

function filterArg(method: string, v: unknown): Filter {
  if (v === null || v === undefined) return null;
  if (!Array.isArray(v)) throw argError(method, 'the filter must be null or a list');
  return v;
}

/** A query resource: its field catalog and how to get its items for the fields asked. */
interface Resource {
  fields: ReadonlyMap<string, Field<any>>;
  items(fields: string[], filter: Filter): unknown[] | Promise<unknown[]>;
}

export function luxiMethods(master: Master): MethodTable {
  const { queue, config } = master;
  const resources: Record<string, Resource> = {
    job: { fields: JOB_FIELDS, items: () => [] }, // served by the queue itself
    node: { fields: NODE_FIELDS, items: (fields, filter) => nodeViews(config, master.rpc, fields, filter) },
    group: { fields: GROUP_FIELDS, items: () => groupViews(config) },
    lock: { fields: LOCK_FIELDS, items: () => master.locks.info() },
    instance: { fields: INSTANCE_FIELDS, items: (fields, filter) => instanceViews(config, master.rpc, fields, filter) },
    os: { fields: OS_FIELDS, items: () => osViews(config, master.rpc) },
    export: { fields: EXPORT_FIELDS, items: () => exportViews(config, master.rpc) },
    network: { fields: NETWORK_FIELDS, items: () => networkViews(config) },
    filter: { fields: FILTER_FIELDS, items: () => filterViews(config.data) },
  };
  const filterDeps: FilterDeps = { config, jobSerial: () => queue.serial, reschedule: () => master.executor.reschedule() };
  const resource = (method: string, what: unknown): Resource => {
    if (typeof what === 'string' && Object.hasOwn(resources, what)) return resources[what];
    throw new OpPrereqError(`Resource '${String(what)}' is not queryable through ${method} (known: ${Object.keys(resources).join(', ')})`, ECODE.INVAL);
  };

  /**
   * The classic Query* calls: the named items (by name or uuid; unknown names are left
   * out) or all of them, as rows of plain values; an unknown field is an error.
   */
  const classicQuery = async (method: string, what: string, args: unknown[]) => {
    expectArgs(method, args, 3);
    const [names, fields, useLocking] = args;
    if (useLocking) throw new OpPrereqError('Sync queries are not allowed', ECODE.INVAL);
    const wanted = names === null ? [] : stringList(method, 'names', names);
    const fieldNames = stringList(method, 'fields', fields);
    const r = resource(method, what);
    const unknown = fieldNames.filter((n) => !r.fields.has(n));
    if (unknown.length > 0) throw new OpPrereqError(`Unknown output fields selected: ${unknown.join(', ')}`, ECODE.INVAL);
    const filter: Filter = wanted.length === 0 ? null : ['|', ...wanted.map((n) => ['|', ['=', 'name', n], ['=', 'uuid', n]])];
    const response = runQuery(r.fields, fieldNames, await r.items(fieldNames, filter), filter);
    return response.data.map((row) => row.map(([status, value]) => (status === RS_NORMAL ? value : null)));
  };

  const submitMany = async (method: string, args: unknown[], ignoreDrain: boolean) => {
    expectArgs(method, args, 1);
    if (!Array.isArray(args[0])) throw argError(method, 'expected a list of jobs');
    const jobs = args[0].map((ops) => opList(method, ops));
    return (await queue.submit(jobs, { ignoreDrain })).map(([ok, v]) => (ok ? [true, v] : [false, v.message]));
  };
  const submitOne = async (method: string, args: unknown[], ignoreDrain: boolean) => {
    expectArgs(method, args, 1);
    const ops = opList(method, args[0]);
    for (const op of ops) {
      for (const [dep] of (op.depends as Array<[number, string[]]> | null) ?? []) {
        if (Number(dep) < 0) throw new OpPrereqError('Relative job dependencies are only allowed in SubmitManyJobs', ECODE.INVAL);
      }
    }
    const [[ok, result]] = await queue.submit([ops], { ignoreDrain });
    if (!ok) throw result;
    return result;
  };

  return {
    SubmitJob: (args) => submitOne('SubmitJob', args, false),
    SubmitJobToDrainedQueue: (args) => submitOne('SubmitJobToDrainedQueue', args, true),
    SubmitManyJobs: (args) => submitMany('SubmitManyJobs', args, false),

    WaitForJobChange: (args) => {
      expectArgs('WaitForJobChange', args, 5);
      const [id, fields, prevInfo, prevSerial, timeout] = args;
      const serial = prevSerial === null ? null : Number(prevSerial);
      if (serial !== null && !Number.isInteger(serial)) throw argError('WaitForJobChange', 'previous log serial must be an integer or null');
      if (typeof timeout !== 'number' || timeout < 0) throw argError('WaitForJobChange', 'timeout must be a non-negative number');
      return queue.waitForChange(jobId('WaitForJobChange', id), stringList('WaitForJobChange', 'fields', fields), prevInfo, serial,
        Math.min(timeout, LUXI_WFJC_TIMEOUT));
    },

    QueryJobs: (args) => {
      expectArgs('QueryJobs', args, 2);
      const [ids, fields] = args;
      const idList = ids === null ? null : Array.isArray(ids) ? ids.map((i) => jobId('QueryJobs', i)) : (() => { throw argError('QueryJobs', 'job ids must be a list or null'); })();
      return queue.queryJobs(idList, stringList('QueryJobs', 'fields', fields));
    },

    Query: async (args) => {
      expectArgs('Query', args, 3);
      const [what, fields, filter] = args;
      const names = stringList('Query', 'fields', fields);
      if (what === 'job') return queue.query(names, filterArg('Query', filter));
      const r = resource('Query', what);
      const qfilter = filterArg('Query', filter);
      return runQuery(r.fields, names, await r.items(names, qfilter), qfilter);
    },

    QueryFields: (args) => {
      expectArgs('QueryFields', args, 2);
      const [what, fields] = args;
      return queryFields(resource('QueryFields', what).fields, fields === null ? null : stringList('QueryFields', 'fields', fields));
    },

    QueryInstances: (args) => classicQuery('QueryInstances', 'instance', args),
    QueryNodes: (args) => classicQuery('QueryNodes', 'node', args),
    QueryGroups: (args) => classicQuery('QueryGroups', 'group', args),
    QueryNetworks: (args) => classicQuery('QueryNetworks', 'network', args),

    QueryFilters: (args) => {
      // luxid's handleUuidQuery: the rules with these uuids (unknown ones left out), or all.
      expectArgs('QueryFilters', args, 2);
      const [uuids, fields] = args;
      const wanted = uuids === null ? [] : stringList('QueryFilters', 'uuids', uuids);
      const fieldNames = stringList('QueryFilters', 'fields', fields);
      const unknown = fieldNames.filter((n) => !FILTER_FIELDS.has(n));
      if (unknown.length > 0) throw new OpPrereqError(`Unknown output fields selected: ${unknown.join(', ')}`, ECODE.INVAL);
      const filter: Filter = wanted.length === 0 ? null : ['|', ...wanted.map((u) => ['=', 'uuid', u])];
      const response = runQuery(FILTER_FIELDS, fieldNames, filterViews(config.data), filter);
      return response.data.map((row) => row.map(([status, value]) => (status === RS_NORMAL ? value : null)));
    },
    ReplaceFilter: (args) => replaceFilter(filterDeps, args),
    DeleteFilter: (args) => deleteFilter(filterDeps, args),

    QueryExports: async (args) => {
      expectArgs('QueryExports', args, 2);
      const [nodes, useLocking] = args;
      if (useLocking) throw new OpPrereqError('Sync queries are not allowed', ECODE.INVAL);
      const names = nodes === null ? [] : stringList('QueryExports', 'nodes', nodes);
      return exportsByNode(await exportViews(config, master.rpc), names);
    },

    QueryTags: (args) => {
      expectArgs('QueryTags', args, 2);
      return queryTags(config, args);
    },

    CancelJob: (args) => {
      expectArgs('CancelJob', args, 1, 2);
      return queue.cancel(jobId('CancelJob', args[0]), Boolean(args[1]));
    },

    ChangeJobPriority: (args) => {
      expectArgs('ChangeJobPriority', args, 2);
      const prio = args[1];
      if (typeof prio !== 'number' || !Number.isInteger(prio)) throw argError('ChangeJobPriority', 'priority must be an integer');
      return queue.changePriority(jobId('ChangeJobPriority', args[0]), prio);
    },

    ArchiveJob: async (args) => {
      expectArgs('ArchiveJob', args, 1);
      const [ok] = await queue.archive([jobId('ArchiveJob', args[0])]);
      return ok;
    },

    AutoArchiveJobs: (args) => {
      expectArgs('AutoArchiveJobs', args, 2);
      const [age, timeout] = args;
      if (typeof age !== 'number' || (age < 0 && age !== -1)) throw argError('AutoArchiveJobs', 'age must be seconds or -1 (all)');
      if (typeof timeout !== 'number' || timeout < 0) throw argError('AutoArchiveJobs', 'timeout must be a non-negative number of seconds');
      return queue.autoArchive(age, timeout);
    },

    SetDrainFlag: async (args) => {
      expectArgs('SetDrainFlag', args, 1);
      if (typeof args[0] !== 'boolean') throw argError('SetDrainFlag', 'the flag must be a boolean');
      await queue.setDrainFlag(args[0]);
      await master.replicateDrainFlag(args[0]);
      return true;
    },

    SetWatcherPause: async (args) => {
      expectArgs('SetWatcherPause', args, 1);
      const until = args[0];
      if (until !== null && (typeof until !== 'number' || !Number.isFinite(until))) throw argError('SetWatcherPause', 'expected a time (seconds since the epoch) or null');
      if (until !== null && until < Date.now() / 1000) throw new GenericError(`Can not set watcher pause to a time in the past (${until})`);
      const failed = (await master.callOnlineNodes('set_watcher_pause', [until])).filter((r) => !r.ok);
      if (failed.length > 0) throw new OpExecError(`Failed to set watcher pause on node(s) ${failed.map((r) => r.node).join(', ')}`);
      return until;
    },

    QueryClusterInfo: (args) => {
      expectArgs('QueryClusterInfo', args, 0);
      return clusterInfo(master);
    },

    QueryConfigValues: (args) => {
      expectArgs('QueryConfigValues', args, 1);
      const fields = stringList('QueryConfigValues', 'fields', args[0]);
      return fields.map((name) => configValue(master, name));
    },
  };
}

function watcherPause(master: Master): number | null {
  try {
    const v = Number.parseInt(fs.readFileSync(master.paths.watcherPause, 'utf8').trim(), 10);
    return Number.isFinite(v) && v >= Date.now() / 1000 ? v : null;
  } catch {
    return null;
  }
}

function configValue(master: Master, name: string): unknown {
  const c = master.config.cluster;
  switch (name) {
    case 'cluster_name': return c.cluster_name;
    case 'master_node': return master.config.masterNode().name;
    case 'drain_flag': return master.queue.drained;
    case 'watcher_pause': return watcherPause(master);
    case 'modify_ssh_setup': return c.modify_ssh_setup ?? false;
    case 'ssh_key_type': return c.ssh_key_type ?? 'rsa';
    case 'ssh_key_bits': return c.ssh_key_bits ?? 2048;
    default: return null;
  }
}

/** QueryClusterInfo's dictionary (spec/core.md §6.4). */
export function clusterInfo(master: Master): Record<string, unknown> {
  const c = master.config.cluster as Record<string, any>;
  const arch = os.arch() === 'x64' ? 'x86_64' : os.arch();
  const bits = ['x64', 'arm64', 'ppc64', 's390x', 'riscv64', 'loong64'].includes(os.arch()) ? '64bits' : '32bits';
  return {
    software_version: RELEASE_VERSION,
    protocol_version: PROTOCOL_VERSION,
    config_version: CONFIG_VERSION,
    os_api_version: OS_API_VERSION,
    export_version: EXPORT_VERSION,
    vcs_version: VCS_VERSION,
    architecture: [bits, arch],
    name: c.cluster_name,
    master: master.config.masterNode().name,
    default_hypervisor: c.enabled_hypervisors[0],
    enabled_hypervisors: c.enabled_hypervisors,
    hvparams: Object.fromEntries(c.enabled_hypervisors.map((hv: string) => [hv, c.hvparams[hv] ?? {}])),
    os_hvp: c.os_hvp ?? {},
    beparams: c.beparams,
    osparams: c.osparams ?? {},
    ipolicy: c.ipolicy,
    nicparams: c.nicparams,
    ndparams: c.ndparams,
    diskparams: c.diskparams,
    candidate_pool_size: c.candidate_pool_size,
    max_running_jobs: c.max_running_jobs,
    max_tracked_jobs: c.max_tracked_jobs,
    mac_prefix: c.mac_prefix,
    master_netdev: c.master_netdev,
    master_netmask: c.master_netmask,
    use_external_mip_script: c.use_external_mip_script,
    volume_group_name: c.volume_group_name ?? null,
    file_storage_dir: c.file_storage_dir,
    shared_file_storage_dir: c.shared_file_storage_dir,
    gluster_storage_dir: c.gluster_storage_dir,
    maintain_node_health: c.maintain_node_health,
    ctime: c.ctime,
    mtime: c.mtime,
    uuid: c.uuid,
    tags: c.tags ?? [],
    uid_pool: c.uid_pool ?? [],
    default_iallocator: c.default_iallocator,
    default_iallocator_params: c.default_iallocator_params ?? {},
    reserved_lvs: c.reserved_lvs ?? [],
    primary_ip_version: c.primary_ip_family === 10 ? 6 : 4,
    prealloc_wipe_disks: c.prealloc_wipe_disks,
    hidden_os: c.hidden_os ?? [],
    blacklisted_os: c.blacklisted_os ?? [],
    enabled_disk_templates: c.enabled_disk_templates,
    install_image: c.install_image ?? '',
    instance_communication_network: c.instance_communication_network ?? '',
    zeroing_image: c.zeroing_image ?? '',
    compression_tools: c.compression_tools,
    enabled_user_shutdown: c.enabled_user_shutdown,
    enabled_data_collectors: Object.fromEntries(Object.entries(c.data_collectors ?? {}).map(([k, v]) => [k, (v as { active: boolean }).active])),
    data_collector_interval: Object.fromEntries(Object.entries(c.data_collectors ?? {}).map(([k, v]) => [k, (v as { interval: number }).interval])),
    drbd_usermode_helper: c.drbd_usermode_helper ?? null,
    modify_ssh_setup: c.modify_ssh_setup ?? false,
    ssh_key_type: c.ssh_key_type ?? 'rsa',
    ssh_key_bits: c.ssh_key_bits ?? 2048,
  };
}
