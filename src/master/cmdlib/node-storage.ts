// Node storage unit logical units (upstream's cmdlib/node.py LUNodeQueryStorage,
// LUNodeModifyStorage, LURepairNodeStorage): list the storage units of a type on nodes
// (storage_list), change a unit (only lvm-pv's "allocatable"), repair one (only lvm-vg's
// fix-consistency: vgreduce --removemissing). Which types a cluster accepts follows its
// enabled disk templates, with upstream's checks and texts.
import { DISK_TEMPLATES } from '../../core/constants.ts';
import { ECODE, OpPrereqError } from '../../core/errors.ts';
import type { OpInput } from '../../core/opcodes.ts';
import type { ClusterObject, InstanceObject } from '../config/model.ts';
import { instanceDisks } from '../config/instance-params.ts';
import { niceSort } from '../config/ssconf.ts';
import { LDS_FAULTY } from '../../node/storage/device.ts';
import { expandNode, rpcTarget, type LockPlan, type LogicalUnit, type LUContext, type LUFactory } from './base.ts';
import { callNode, instanceNodes, logWarning, nodeName, raiseRpc } from './instance-utils.ts';

/** Storage fields only the master knows (not asked from the nodes). */
export const SF_NODE = 'node';
export const SF_TYPE = 'type';
export const SF_NAME = 'name';
/** Upstream's VALID_STORAGE_FIELDS. */
export const VALID_STORAGE_FIELDS = ['allocatable', 'free', 'name', 'node', 'size', 'type', 'used'];
/** MODIFIABLE_STORAGE_FIELDS */
export const MODIFIABLE_STORAGE_FIELDS: Readonly<Record<string, readonly string[]>> = { 'lvm-pv': ['allocatable'] };
export const SO_FIX_CONSISTENCY = 'fix-consistency';
/** VALID_STORAGE_OPERATIONS */
export const VALID_STORAGE_OPERATIONS: Readonly<Record<string, readonly string[]>> = { 'lvm-vg': [SO_FIX_CONSISTENCY] };
/** STS_REPORT_NODE_STORAGE, in the order upstream's message printed it in the reference run. */
export const STS_REPORT_NODE_STORAGE = ['lvm-vg', 'sharedfile', 'gluster', 'lvm-pv', 'file'];
/** MAP_DISK_TEMPLATE_STORAGE_TYPE */
export const DISK_TEMPLATE_STORAGE_TYPE: Readonly<Record<string, string>> = {
  blockdev: 'blockdev', diskless: 'diskless', drbd: 'lvm-vg', ext: 'ext', file: 'file', gluster: 'gluster', plain: 'lvm-vg',
  rbd: 'rados', sharedfile: 'sharedfile',
};

/** CheckStorageTypeEnabled: some enabled disk template must use the storage type (lvm-pv goes with lvm-vg). */
export function checkStorageTypeEnabled(cluster: Pick<ClusterObject, 'enabled_disk_templates'>, storageType: string): void {
  if (storageType === 'lvm-pv') {
    checkStorageTypeEnabled(cluster, 'lvm-vg');
    return;
  }
  const templates = DISK_TEMPLATES.filter((dt) => DISK_TEMPLATE_STORAGE_TYPE[dt] === storageType);
  if (templates.some((dt) => cluster.enabled_disk_templates.includes(dt))) return;
  throw new OpPrereqError(`No disk template of storage type '${storageType}' is enabled in this cluster. Enabled disk templates are: ` +
    cluster.enabled_disk_templates.join(','));
}

/** _GetStorageTypeArgs: the storage directories of the file types, nothing for the others. */
export function storageTypeArgs(cluster: ClusterObject, storageType: string): unknown[] {
  if (storageType === 'file') return [[cluster.file_storage_dir]];
  if (storageType === 'sharedfile') {
    const paths: string[] = [];
    if (cluster.enabled_disk_templates.includes('sharedfile')) paths.push(cluster.shared_file_storage_dir);
    if (cluster.enabled_disk_templates.includes('gluster')) paths.push(cluster.gluster_storage_dir);
    return [paths];
  }
  return [];
}

/** _CheckOutputFields */
export function checkOutputFields(valid: readonly string[], selected: readonly string[]): void {
  const delta = selected.filter((f) => !valid.includes(f));
  if (delta.length > 0) throw new OpPrereqError(`Unknown output fields selected: ${delta.join(',')}`, ECODE.INVAL);
}

/** OP_NODE_QUERY_STORAGE: one row of the output fields per storage unit, nodes and units in NiceSort order. */
export function nodeQueryStorage(op: OpInput, ctx: LUContext): LogicalUnit {
  const outputFields = op.output_fields as string[];
  let nodeUuids: string[] = [];
  let storageType = '';
  /** _DetermineStorageType: the first enabled disk template's storage type. */
  const defaultStorageType = () => DISK_TEMPLATE_STORAGE_TYPE[ctx.config.cluster.enabled_disk_templates[0]];
  return {
    checkArguments() {
      checkOutputFields(VALID_STORAGE_FIELDS, outputFields);
    },
    expandNames() {
      const names = op.nodes as string[];
      nodeUuids = names.length > 0 ? names.map((n) => expandNode(ctx, n).uuid) : ctx.config.nodes().map((n) => n.uuid);
    },
    locks: (): LockPlan => ({
      bglShared: true,
      levels: { node: { names: (op.nodes as string[]).length > 0 ? [...new Set(nodeUuids)] : null, shared: true } },
    }),
    checkPrereq() {
      const cluster = ctx.config.cluster;
      if (op.storage_type) {
        checkStorageTypeEnabled(cluster, op.storage_type as string);
        storageType = op.storage_type as string;
        return;
      }
      storageType = defaultStorageType();
      if (!STS_REPORT_NODE_STORAGE.includes(storageType)) {
        throw new OpPrereqError(`Storage reporting for storage type '${storageType}' is not supported. Please use the --storage-type option ` +
          `to specify one of the supported storage types (${STS_REPORT_NODE_STORAGE.join(', ')}) or set the default disk template to one ` +
          'that supports storage reporting.');
      }
    },
    async exec() {
      // Always ask for the name, to sort by; never for node or type, which only the master knows.
      const fields = (outputFields.includes(SF_NAME) ? [...outputFields] : [SF_NAME, ...outputFields])
        .filter((f) => f !== SF_NODE && f !== SF_TYPE);
      const fieldIdx = new Map<string, number>();
      fields.forEach((f, i) => fieldIdx.set(f, i));
      const nameIdx = fieldIdx.get(SF_NAME)!;
      const cluster = ctx.config.cluster;
      const args = storageTypeArgs(cluster, storageType);
      const uuids = [...new Set(nodeUuids)].filter((u) => ctx.config.node(u));
      const data = await ctx.rpc.callMany(uuids.map((u) => rpcTarget(ctx.config.node(u)!)), 'storage_list',
        [storageType, args, op.name ?? null, fields]);
      const result: unknown[][] = [];
      // As upstream, the nodes come in NiceSort order of their uuids.
      for (const uuid of niceSort(uuids)) {
        const name = nodeName(ctx, uuid);
        const r = data.get(name);
        if (!r || (!r.ok && r.offline)) continue;
        if (!r.ok) {
          logWarning(ctx, `Can't get storage data from node ${name}: ${r.error}`);
          continue;
        }
        const rows = new Map<string, unknown[]>();
        for (const row of Array.isArray(r.payload) ? (r.payload as unknown[][]) : []) rows.set(String(row[nameIdx]), row);
        for (const unit of niceSort([...rows.keys()])) {
          const row = rows.get(unit)!;
          result.push(outputFields.map((f) => {
            if (f === SF_NODE) return name;
            if (f === SF_TYPE) return storageType;
            return row[fieldIdx.get(f)!];
          }));
        }
      }
      return result;
    },
  };
}

/** The node a single-node storage opcode names (ExpandNodeUuidAndName). */
function expandOpNode(op: OpInput, ctx: LUContext): string {
  const node = expandNode(ctx, (op.node_uuid as string | undefined) ?? (op.node_name as string));
  op.node_uuid = node.uuid;
  op.node_name = node.name;
  return node.uuid;
}

/** OP_NODE_MODIFY_STORAGE: change the fields of one storage unit that its type allows changing. */
export function nodeModifyStorage(op: OpInput, ctx: LUContext): LogicalUnit {
  let uuid = '';
  const storageType = op.storage_type as string;
  return {
    checkArguments() {
      uuid = expandOpNode(op, ctx);
      const modifiable = MODIFIABLE_STORAGE_FIELDS[storageType];
      if (!modifiable) throw new OpPrereqError(`Storage units of type '${storageType}' can not be modified`, ECODE.INVAL);
      const diff = Object.keys(op.changes as Record<string, unknown>).filter((k) => !modifiable.includes(k));
      if (diff.length > 0) {
        throw new OpPrereqError(`The following fields can not be modified for storage units of type '${storageType}': ` +
          `[${diff.map((k) => `'${k}'`).join(', ')}]`, ECODE.INVAL);
      }
    },
    locks: (): LockPlan => ({ bglShared: true, levels: { node: { names: [uuid], shared: false } } }),
    checkPrereq() {
      checkStorageTypeEnabled(ctx.config.cluster, storageType);
    },
    async exec() {
      const args = storageTypeArgs(ctx.config.cluster, storageType);
      const r = await callNode(ctx, uuid, 'storage_modify', [storageType, args, op.name ?? null, op.changes]);
      raiseRpc(r, `Failed to modify storage unit '${String(op.name)}' on ${String(op.node_name)}`);
      return null;
    },
  };
}

/** OP_REPAIR_NODE_STORAGE: fix a storage unit's consistency (lvm-vg); mirrored instances must be healthy elsewhere first. */
export function repairNodeStorage(op: OpInput, ctx: LUContext): LogicalUnit {
  let uuid = '';
  const storageType = op.storage_type as string;

  /** FindFaultyInstanceDisks on one node: the indexes of the instance's disks whose local storage is faulty there. */
  async function faultyDisks(inst: InstanceObject, nodeUuid: string): Promise<number[]> {
    const faulty: number[] = [];
    const disks = instanceDisks(ctx.config.data, inst);
    for (const [idx, disk] of disks.entries()) {
      const r = await callNode(ctx, nodeUuid, 'blockdev_find', [disk]);
      const st = raiseRpc(r, `Failed to get disk status from node ${nodeName(ctx, nodeUuid)}`, true, ECODE.ENVIRON) as { ldisk_status?: number } | null;
      if (st === null) {
        throw new OpPrereqError(`Failed to get disk status from node ${nodeName(ctx, nodeUuid)}: Can't find device ${disk.iv_name ?? idx}`, ECODE.ENVIRON);
      }
      if (st.ldisk_status === LDS_FAULTY) faulty.push(idx);
    }
    return faulty;
  }

  /** _CheckFaultyDisks: faulty disks abort, or only warn with ignore_consistency. */
  async function checkFaultyDisks(inst: InstanceObject, nodeUuid: string): Promise<void> {
    try {
      if ((await faultyDisks(inst, nodeUuid)).length > 0) {
        throw new OpPrereqError(`Instance '${inst.name}' has faulty disks on node '${nodeName(ctx, nodeUuid)}'`, ECODE.STATE);
      }
    } catch (err) {
      if (!(err instanceof OpPrereqError) || !op.ignore_consistency) throw err;
      logWarning(ctx, String(err.args[0]));
    }
  }

  return {
    checkArguments() {
      uuid = expandOpNode(op, ctx);
      if (!(VALID_STORAGE_OPERATIONS[storageType] ?? []).includes(SO_FIX_CONSISTENCY)) {
        throw new OpPrereqError(`Storage units of type '${storageType}' can not be repaired`, ECODE.INVAL);
      }
    },
    locks: (): LockPlan => ({ bglShared: true, levels: { node: { names: [uuid], shared: false } } }),
    async checkPrereq() {
      const data = ctx.config.data;
      checkStorageTypeEnabled(data.cluster, storageType);
      // An instance with active disks on this node and another must be healthy on the other one.
      for (const inst of Object.values(data.instances)) {
        const nodes = instanceNodes(data, inst);
        if (!nodes.includes(uuid) || !inst.disks_active) continue;
        for (const other of new Set(nodes.filter((n) => n !== uuid))) await checkFaultyDisks(inst, other);
      }
    },
    async exec() {
      ctx.feedback(`Repairing storage unit '${String(op.name)}' on ${String(op.node_name)} ...`);
      const args = storageTypeArgs(ctx.config.cluster, storageType);
      const r = await callNode(ctx, uuid, 'storage_execute', [storageType, args, op.name ?? null, SO_FIX_CONSISTENCY]);
      raiseRpc(r, `Failed to repair storage unit '${String(op.name)}' on ${String(op.node_name)}`);
      return null;
    },
  };
}

export const STORAGE_LUS: Readonly<Record<string, LUFactory>> = {
  OP_NODE_QUERY_STORAGE: nodeQueryStorage,
  OP_NODE_MODIFY_STORAGE: nodeModifyStorage,
  OP_REPAIR_NODE_STORAGE: repairNodeStorage,
};
