// Query logical units that run as jobs: OP_INSTANCE_QUERY_DATA (gnt-instance info),
// OP_OS_DIAGNOSE (gnt-os list/info/diagnose; legacy, OP_QUERY supersedes it) and
// OP_BACKUP_QUERY (legacy export listing). They read the configuration and ask the nodes;
// they change nothing.
import { RS_NORMAL } from '../../core/constants.ts';
import { ECODE, OpExecError, OpPrereqError } from '../../core/errors.ts';
import type { OpInput } from '../../core/opcodes.ts';
import { runQuery, type Filter } from '../../core/query.ts';
import type { RpcResult } from '../../rpc/client.ts';
import { exportViews, exportsByNode } from '../config/export-fields.ts';
import { userShutdownAllowed } from '../config/instance-fields.ts';
import {
  diskTemplateOf, filledBeParams, filledHvParams, filledNicParams, filledOsParams, instanceDisks, secondaryNodes,
} from '../config/instance-params.ts';
import type { ConfigData, DiskObject, InstanceObject, NodeObject } from '../config/model.ts';
import { OS_FIELDS, osViews } from '../config/os-fields.ts';
import { niceSort } from '../config/ssconf.ts';
import { rpcTarget, type LockPlan, type LogicalUnit, type LUContext, type LUFactory } from './base.ts';
import { instanceNodes, logWarning, raiseRpc } from './instance-utils.ts';
import { expandInstance } from './tags.ts';

type Dict = Record<string, unknown>;

const NO_LOCKS: LockPlan = { bglShared: true, levels: {} };

/** NICListToTuple: [name, uuid, ip, mac, mode, link, vlan, network, netinfo] per NIC, parameters filled. */
function nicTuples(data: ConfigData, inst: InstanceObject): unknown[][] {
  return inst.nics.map((nic) => {
    const p = filledNicParams(data, nic);
    const net = nic.network ? data.networks[nic.network] ?? null : null;
    return [nic.name ?? null, nic.uuid, nic.ip ?? null, nic.mac, p.mode, p.link, p.vlan ?? '', nic.network ?? null, net];
  });
}

/** blockdev_find's answer as the tuple `gnt-instance info` shows: null when the device is not active. */
function blockdevStatus(r: RpcResult, instName: string): unknown[] | null {
  if (!r.ok && r.offline) return null;
  const s = raiseRpc(r, `Can't compute disk status for ${instName}`) as Dict | null;
  if (s === null || typeof s !== 'object') return null;
  return [s.dev_path ?? null, s.major ?? null, s.minor ?? null, s.sync_percent ?? null, s.estimated_time ?? null,
    s.is_degraded ?? false, s.ldisk_status ?? null];
}

/** LUInstanceQueryData: the configuration of each instance and, unless static, its state on its nodes. */
export const instanceQueryData: LUFactory = (op: OpInput, ctx: LUContext): LogicalUnit => {
  const isStatic = Boolean(op.static);
  let wanted: InstanceObject[] = [];
  return {
    expandNames() {
      const data = ctx.config.data;
      if (!isStatic && !op.use_locking) logWarning(ctx, 'Non-static data requested, locks need to be acquired');
      const names = (op.instances as string[] | undefined) ?? [];
      if (names.length > 0) {
        const seen = new Set<string>();
        wanted = names.map((n) => expandInstance(data, n)).filter((i) => !seen.has(i.uuid) && seen.add(i.uuid));
      } else {
        const byName = new Map(Object.values(data.instances).map((i) => [i.name, i]));
        wanted = niceSort([...byName.keys()]).map((n) => byName.get(n)!);
      }
    },
    locks(): LockPlan {
      if (isStatic && !op.use_locking) return NO_LOCKS;
      const nodes = [...new Set(wanted.flatMap((i) => instanceNodes(ctx.config.data, i)))];
      return {
        bglShared: true,
        levels: {
          instance: { names: wanted.map((i) => i.uuid), shared: true },
          node: { names: nodes, shared: true },
        },
      };
    },
    checkPrereq() {
      const data = ctx.config.data;
      // The instances may have gone while the locks were awaited.
      wanted = wanted.filter((i) => data.instances[i.uuid]).map((i) => data.instances[i.uuid]);
    },
    async exec() {
      const data = ctx.config.data;
      const result: Record<string, Dict> = {};
      for (const inst of wanted) result[inst.name] = await instanceData(ctx, data, inst, isStatic);
      return result;
    },
  };
};

async function instanceData(ctx: LUContext, data: ConfigData, inst: InstanceObject, isStatic: boolean): Promise<Dict> {
  const pnode = data.nodes[inst.primary_node];
  if (!pnode) throw new OpExecError(`Primary node ${inst.primary_node} of instance ${inst.name} is not in the configuration`);
  let runState: string | null = null;
  if (!isStatic && pnode.offline) {
    logWarning(ctx, `Primary node ${pnode.name} is marked offline, returning static information only for instance ${inst.name}`);
  } else if (!isStatic) {
    const hvparams = data.cluster.hvparams?.[inst.hypervisor] ?? {};
    const r = await ctx.rpc.call(rpcTarget(pnode), 'instance_info', [inst.name, inst.hypervisor, hvparams]);
    runState = remoteState(data, inst, raiseRpc(r, `Error checking node ${pnode.name}`) as Dict | null);
  }
  const secondaries = secondaryNodes(data, inst).map((u) => data.nodes[u]).filter((n): n is NodeObject => n !== undefined);
  const disks = instanceDisks(data, inst);
  const disksInfo: Dict[] = [];
  for (const disk of disks) disksInfo.push(await diskStatus(ctx, data, inst, disk, isStatic));
  const groupName = (uuid: string) => data.nodegroups[uuid]?.name ?? uuid;
  return {
    name: inst.name,
    config_state: inst.admin_state,
    run_state: runState,
    pnode: pnode.name,
    pnode_group_uuid: pnode.group,
    pnode_group_name: groupName(pnode.group),
    snodes: secondaries.map((n) => n.name),
    snodes_group_uuids: secondaries.map((n) => n.group),
    snodes_group_names: secondaries.map((n) => groupName(n.group)),
    os: inst.os,
    nics: nicTuples(data, inst),
    disk_template: diskTemplateOf(disks),
    disks: disksInfo,
    hypervisor: inst.hypervisor,
    network_port: inst.network_port ?? null,
    hv_instance: inst.hvparams ?? {},
    hv_actual: filledHvParams(data, inst, true),
    be_instance: inst.beparams ?? {},
    be_actual: filledBeParams(data, inst),
    os_instance: inst.osparams ?? {},
    os_actual: filledOsParams(data, inst),
    serial_no: inst.serial_no,
    mtime: inst.mtime,
    ctime: inst.ctime,
    uuid: inst.uuid,
  };
}

/**
 * run_state: what instance_info on the primary found (a guest that shut itself down is
 * "user down" where user shutdowns count), else what the configuration says it should be.
 */
function remoteState(data: ConfigData, inst: InstanceObject, remote: Dict | null): string {
  if (remote !== null && typeof remote === 'object' && 'state' in remote) {
    if (remote.state !== 'shutdown') return 'up';
    return userShutdownAllowed(data, inst) ? 'user down' : 'down';
  }
  if (inst.admin_state === 'up') return 'down';
  if (inst.admin_state === 'down') return inst.admin_state_source === 'user' ? 'user down' : 'down';
  return 'offline';
}

/** One disk's description with its device state on the primary (and, for DRBD, the secondary). */
async function diskStatus(ctx: LUContext, data: ConfigData, inst: InstanceObject, disk: DiskObject, isStatic: boolean): Promise<Dict> {
  const find = async (nodeUuid: string | undefined): Promise<unknown[] | null> => {
    const node = nodeUuid ? data.nodes[nodeUuid] : undefined;
    if (isStatic || !node) return null;
    return blockdevStatus(await ctx.rpc.call(rpcTarget(node), 'blockdev_find', [disk]), inst.name);
  };
  const secondary = disk.dev_type === 'drbd' ? (disk.nodes ?? []).find((n) => n !== inst.primary_node) : undefined;
  return {
    iv_name: disk.iv_name,
    dev_type: disk.dev_type,
    logical_id: disk.logical_id,
    pstatus: await find(inst.primary_node),
    sstatus: await find(secondary),
    children: [],
    mode: disk.mode,
    size: disk.size,
    spindles: disk.spindles ?? null,
    name: disk.name ?? null,
    uuid: disk.uuid,
  };
}

/**
 * The filter OP_OS_DIAGNOSE applies (LUOsDiagnose._BuildFilter): the names asked for and,
 * as the legacy call did, no hidden, blacklisted or invalid OS unless that field is asked.
 */
export function osDiagnoseFilter(fields: string[], names: string[]): Filter {
  const nameFilter = names.length > 0 ? ['|', ...names.map((n) => ['=', 'name', n])] : null;
  const status: unknown[] = ['hidden', 'blacklisted'].filter((f) => !fields.includes(f)).map((f) => ['!', ['?', f]]);
  if (!fields.includes('valid')) status.push(['?', 'valid']);
  const statusFilter = status.length > 0 ? ['&', ...status] : null;
  if (nameFilter && statusFilter) return ['&', nameFilter, statusFilter];
  return nameFilter ?? statusFilter;
}

/** LUOsDiagnose: rows of the asked OS fields (old-style query), as `gnt-os` reads them. */
export const osDiagnose: LUFactory = (op: OpInput, ctx: LUContext): LogicalUnit => {
  const fields = op.output_fields as string[];
  return {
    checkArguments() {
      const unknown = fields.filter((f) => !OS_FIELDS.has(f));
      if (unknown.length > 0) throw new OpPrereqError(`Unknown output fields selected: ${unknown.join(', ')}`, ECODE.INVAL);
    },
    locks: () => NO_LOCKS,
    async exec() {
      const filter = osDiagnoseFilter(fields, (op.names as string[] | undefined) ?? []);
      const response = runQuery(OS_FIELDS, fields, await osViews(ctx.config, ctx.rpc), filter);
      return response.data.map((row) => row.map(([status, value]) => (status === RS_NORMAL ? value : null)));
    },
  };
};

/** LUBackupQuery: node name → its exports, or false for a node that could not be asked. */
export const backupQuery: LUFactory = (op: OpInput, ctx: LUContext): LogicalUnit => ({
  locks: () => NO_LOCKS,
  async exec() {
    return exportsByNode(await exportViews(ctx.config, ctx.rpc), (op.nodes as string[] | undefined) ?? []);
  },
});

export const QUERY_LUS: Readonly<Record<string, LUFactory>> = {
  OP_INSTANCE_QUERY_DATA: instanceQueryData,
  OP_OS_DIAGNOSE: osDiagnose,
  OP_BACKUP_QUERY: backupQuery,
};
