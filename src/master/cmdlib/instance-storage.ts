// Instance disks on the master side (upstream's cmdlib/instance_storage.py helpers):
// disk specs from opcodes, the disk objects of a template, and creating, removing,
// wiping, assembling and shutting down an instance's disks through noded's blockdev_*
// procedures, with upstream's messages and clean-up rules.
import crypto from 'node:crypto';
import path from 'node:path';
import { DISK_TEMPLATES } from '../../core/constants.ts';
import { ECODE, OpExecError, OpPrereqError, RemoteError } from '../../core/errors.ts';
import { forceDictType, type TypeTable } from '../../core/params.ts';
import { pyRepr } from '../../core/pyrepr.ts';
import { formatUnit } from '../../cli/format/table.ts';
import type { ClusterObject, DiskObject, InstanceObject } from '../config/model.ts';
import { instanceDisks } from '../config/instance-params.ts';
import { logInfo, type LUContext } from './base.ts';
import {
  callNode, checkInstanceState, clusterHvParamsFor, formatSeconds, INSTANCE_DOWN, instDict, logWarning, nodeInfoParts,
  nodeName, nodeOf, raiseRpc, setInstanceStatus,
} from './instance-utils.ts';

type Dict = Record<string, unknown>;

export const FILE_DRIVERS = ['loop', 'blktap', 'blktap2'];
export const DEFAULT_FILE_DRIVER = 'loop';
export const DISK_ACCESS_MODES = ['ro', 'rw'];
/** Templates whose disks are files below a storage directory. */
export const DTS_FILEBASED = ['file', 'sharedfile', 'gluster'];
/** Templates that need a volume group. */
export const DTS_LVM = ['plain', 'drbd'];
/** Templates whose disks can grow. */
export const DTS_GROWABLE = ['plain', 'drbd', 'file', 'sharedfile', 'rbd', 'ext', 'gluster'];
/** Templates grow-disk does not check free space for. */
const DTS_NO_FREE_SPACE_CHECK = ['file', 'sharedfile', 'rbd', 'ext', 'gluster'];
/** Templates that can adopt existing storage. */
export const DTS_MAY_ADOPT = ['plain', 'blockdev'];
export const DTS_MUST_ADOPT = ['blockdev'];
/** WipeDisks: a chunk is 10% of the disk, at most 1 GiB. */
const MIN_WIPE_CHUNK_PERCENT = 10;
const MAX_WIPE_CHUNK = 1024;

/** constants.IDISK_PARAMS_TYPES: what a disk dict of an opcode may hold. */
export const IDISK_PARAMS_TYPES: TypeTable = {
  size: 'size', spindles: 'int', mode: 'string', adopt: 'string', vg: 'string', metavg: 'string',
  provider: 'string', name: 'maybe-string', access: 'string',
};
/** The disk parameters modify may change (MODIFIABLE_IDISK_PARAMS_TYPES). */
export const MODIFIABLE_IDISK_PARAMS_TYPES: TypeTable = { mode: 'string', name: 'maybe-string' };

/** A new disk as the LUs compute it from the opcode (upstream's ComputeDisks result). */
export interface DiskSpec {
  size: number;
  mode: string;
  vg: string | null;
  name: string | null;
  metavg?: string;
  adopt?: string;
  spindles?: number;
  provider?: string;
}

/** CheckDiskTemplateEnabled */
export function checkDiskTemplateEnabled(cluster: ClusterObject, template: string): void {
  if (!(DISK_TEMPLATES as readonly string[]).includes(template)) {
    throw new OpPrereqError(`'${template}' is not a valid disk template. Valid disk templates are: ${DISK_TEMPLATES.join(',')}`);
  }
  if (!cluster.enabled_disk_templates.includes(template)) {
    throw new OpPrereqError(`Disk template '${template}' is not enabled in cluster. Enabled disk templates are: ` +
      cluster.enabled_disk_templates.join(','));
  }
}

/** utils.ValidateDeviceNames: names must not be numbers and must be unique. */
export function validateDeviceNames(kind: 'NIC' | 'disk', names: Array<string | null | undefined>, taken: string[] = []): void {
  const valid = [...taken];
  for (const name of names) {
    if (typeof name === 'string' && /^\s*[-+]?\d+\s*$/.test(name)) {
      throw new OpPrereqError(`Invalid name '${name}'. Purely numeric ${kind} names are not allowed`, ECODE.INVAL);
    }
    if (name !== null && name !== undefined && name.toLowerCase() !== 'none') {
      if (valid.includes(name)) throw new OpPrereqError(`${kind} name '${name}' already used`, ECODE.NOTUNIQUE);
      valid.push(name);
    }
  }
}

/** ForceDictType on a disk dict of an opcode (sizes like "10G" become MiB). */
export function forceDiskParams(disk: Dict, types: TypeTable = IDISK_PARAMS_TYPES): void {
  forceDictType(disk, types);
}

/** ComputeDisks: the new disks' specs, checked, from the opcode's (type-checked) disk dicts. */
export function computeDisks(disks: Dict[], template: string, defaultVg: string | null): DiskSpec[] {
  return disks.map((disk) => {
    const mode = (disk.mode as string | undefined) ?? 'rw';
    if (!DISK_ACCESS_MODES.includes(mode)) throw new OpPrereqError(`Invalid disk access mode '${mode}'`, ECODE.INVAL);
    const raw = disk.size;
    if (raw === undefined || raw === null) throw new OpPrereqError('Missing disk size', ECODE.INVAL);
    const size = typeof raw === 'number' ? Math.trunc(raw) : /^\s*[-+]?\d+\s*$/.test(String(raw)) ? Number.parseInt(String(raw), 10) : Number.NaN;
    if (!Number.isFinite(size) || size < 0) throw new OpPrereqError(`Invalid disk size '${String(raw)}'`, ECODE.INVAL);
    const provider = disk.provider as string | undefined;
    if (provider && template !== 'ext') {
      throw new OpPrereqError(`The 'provider' option is only valid for the ext disk template, not ${template}`, ECODE.INVAL);
    }
    let name = (disk.name as string | null | undefined) ?? null;
    if (name !== null && name.toLowerCase() === 'none') name = null;
    const spec: DiskSpec = { size, mode, vg: (disk.vg as string | undefined) ?? defaultVg, name };
    if (disk.metavg !== undefined) spec.metavg = disk.metavg as string;
    if (disk.adopt !== undefined) spec.adopt = disk.adopt as string;
    if (disk.spindles !== undefined && disk.spindles !== null) spec.spindles = disk.spindles as number;
    if (template === 'ext') {
      if (!provider) throw new OpPrereqError("Missing provider for template 'ext'", ECODE.INVAL);
      spec.provider = provider;
    }
    return spec;
  });
}

/**
 * A disk of no size cannot hold anything: refused like a size that is not a number (after
 * the instance policy, which already refuses it unless ignored, as upstream reports it).
 */
export function checkDiskSizes(specs: DiskSpec[]): void {
  for (const s of specs) if (s.size <= 0) throw new OpPrereqError(`Invalid disk size '${s.size}'`, ECODE.INVAL);
}

/** ComputeDiskSizePerVG: MiB needed per volume group (DRBD adds 128 MiB of metadata a disk). */
export function computeDiskSizePerVG(template: string, disks: DiskSpec[]): Record<string, number> {
  const payload = template === 'drbd' ? 128 : 0;
  if (!DTS_LVM.includes(template)) return {};
  const vgs: Record<string, number> = {};
  for (const d of disks) {
    const vg = d.vg ?? '';
    vgs[vg] = (vgs[vg] ?? 0) + d.size + payload;
  }
  return vgs;
}

/**
 * CalculateFileStorageDir: <cluster storage dir>[/<requested subdir>]/<instance>, for the
 * file-based templates; null for the others.
 */
export function calculateFileStorageDir(template: string, cluster: ClusterObject, instanceName: string,
  fileStorageDir: string | null | undefined): string | null {
  if (!DTS_FILEBASED.includes(template)) return null;
  const base = template === 'file' ? cluster.file_storage_dir : template === 'sharedfile' ? cluster.shared_file_storage_dir : cluster.gluster_storage_dir;
  if (!base) {
    throw new OpPrereqError(`Cluster file storage dir for '${template}' storage type not defined`, ECODE.STATE);
  }
  const parts = [base];
  if (fileStorageDir) parts.push(fileStorageDir);
  if (template !== 'gluster') parts.push(instanceName);
  const joined = path.posix.normalize(parts.join('/'));
  // utils.PathJoin: the result must stay below the storage directory.
  if (!joined.startsWith(`${path.posix.normalize(base)}/`) && joined !== path.posix.normalize(base)) {
    throw new OpPrereqError(`Invalid file storage directory '${fileStorageDir}'`, ECODE.INVAL);
  }
  return joined;
}

/**
 * GenerateDiskTemplate for the non-mirrored templates: new disk objects (not yet in the
 * configuration), logical ids as the RPC contract names them.
 */
export function generateDisks(ctx: LUContext, template: string, primaryUuid: string, specs: DiskSpec[],
  fileStorageDir: string | null, fileDriver: string | null, baseIndex: number): DiskObject[] {
  checkDiskTemplateEnabled(ctx.config.cluster, template);
  if (template === 'diskless') return [];
  if (template === 'drbd') throw new OpPrereqError('The drbd disk template is not supported', ECODE.INVAL);
  const vgName = (ctx.config.cluster as Dict).volume_group_name as string | null | undefined;
  return specs.map((spec, i) => {
    const idx = baseIndex + i;
    const uuid = crypto.randomUUID();
    let logicalId: unknown[];
    switch (template) {
      case 'plain':
        logicalId = [spec.vg ?? vgName, `${uuid}.disk${idx}`];
        break;
      case 'file':
      case 'sharedfile':
        logicalId = [fileDriver ?? DEFAULT_FILE_DRIVER, `${fileStorageDir}/${uuid}.${template}.disk${idx}`];
        break;
      case 'gluster':
        logicalId = [fileDriver ?? DEFAULT_FILE_DRIVER, `ganeti/${uuid}.${idx}`];
        break;
      case 'blockdev':
        logicalId = ['manual', spec.adopt];
        break;
      case 'rbd':
        logicalId = ['rbd', `${uuid}.rbd.disk${idx}`];
        break;
      case 'ext':
        logicalId = [spec.provider, `${uuid}.ext.disk${idx}`];
        break;
      default:
        throw new OpPrereqError(`Unknown disk template '${template}'`, ECODE.INVAL);
    }
    ctx.feedback(`* disk ${idx}, size ${formatUnit(spec.size, 'h')}`);
    const disk = {
      uuid, dev_type: template, logical_id: logicalId, children: [], nodes: [primaryUuid],
      iv_name: `disk/${idx}`, size: spec.size, mode: spec.mode as DiskObject['mode'], params: {},
    } as Omit<DiskObject, 'serial_no' | 'ctime' | 'mtime'> as DiskObject;
    if (spec.name) disk.name = spec.name;
    if (spec.spindles !== undefined) disk.spindles = spec.spindles;
    return disk;
  });
}

/** str(objects.Disk), as upstream's disk error messages show a disk. */
export function diskDescription(disk: DiskObject): string {
  const tuple = (id: unknown[]) => `(${id.map((x) => pyRepr(x)).join(', ')}${id.length === 1 ? ',' : ''})`;
  let val = disk.dev_type === 'plain'
    ? `<LogicalVolume(/dev/${String(disk.logical_id[0])}/${String(disk.logical_id[1])}`
    : `<Disk(type=${disk.dev_type}, logical_id=${tuple(disk.logical_id)}, children=${pyRepr(disk.children ?? null)}`;
  val += disk.iv_name ? `, visible as /dev/${disk.iv_name}` : ', not visible';
  if (disk.spindles !== null && disk.spindles !== undefined) val += `, spindles=${disk.spindles}`;
  val += Number.isInteger(disk.size) ? `, size=${disk.size}m)>` : `, size='${String(disk.size)}')>`;
  return val;
}

/** The nodes a disk lives on, primary first (ComputeNodeTree for the non-mirrored templates). */
export function diskNodes(disk: DiskObject, primary: string): string[] {
  const nodes = disk.nodes && disk.nodes.length > 0 ? disk.nodes : [primary];
  return [primary, ...nodes.filter((n) => n !== primary)].filter((n) => nodes.includes(n));
}

/** Whether exclusive_storage is in effect on a node (its ndparams over its group's and the cluster's). */
export function exclusiveStorage(ctx: LUContext, nodeUuid: string): boolean {
  const node = nodeOf(ctx, nodeUuid);
  const group = ctx.config.data.nodegroups[node.group] as unknown as { ndparams?: Dict } | undefined;
  const cluster = (ctx.config.cluster as Dict).ndparams as Dict | undefined;
  const v = node.ndparams?.exclusive_storage ?? group?.ndparams?.exclusive_storage ?? cluster?.exclusive_storage;
  return v === true;
}

/**
 * CreateDisks: the file storage directory (file-based templates), then each disk on its
 * nodes. On a failure everything created so far is removed again and OpExecError raised.
 */
export async function createDisks(ctx: LUContext, inst: InstanceObject, disks: DiskObject[]): Promise<Array<[string, DiskObject]>> {
  if (disks.length === 0) return [];
  const template = disks[0].dev_type;
  checkDiskTemplateEnabled(ctx.config.cluster, template);
  const pnode = inst.primary_node;
  let createdDir: string | null = null;
  if (DTS_FILEBASED.includes(template) && template !== 'gluster') {
    const dir = path.posix.dirname(String(disks[0].logical_id[1]));
    const r = await callNode(ctx, pnode, 'file_storage_dir_create', [dir]);
    raiseRpc(r, `Failed to create directory '${dir}' on node ${nodeName(ctx, pnode)}`);
    createdDir = dir;
  }
  const info = `originstname+${inst.name}`;
  const created: Array<[string, DiskObject]> = [];
  for (const disk of disks) {
    for (const node of diskNodes(disk, pnode)) {
      const onPrimary = node === pnode;
      const r = await callNode(ctx, node, 'blockdev_create', [disk, disk.size, inst.name, onPrimary, info, exclusiveStorage(ctx, node)]);
      if (!r.ok) {
        ctx.log.warn({ instance: inst.name, disk: disk.iv_name }, 'creating a disk failed');
        await undoCreateDisks(ctx, created);
        if (createdDir !== null && !dirHoldsOtherDisks(ctx, inst, createdDir)) {
          await callNode(ctx, pnode, 'file_storage_dir_remove', [createdDir]);
        }
        throw new OpExecError(`Can't create block device ${diskDescription(disk)} on node ${nodeName(ctx, node)} for instance ${inst.name}: ${r.error}`);
      }
      created.push([node, disk]);
    }
  }
  return created;
}

/** Whether the instance's configured disks (other than new ones) keep files in the directory. */
function dirHoldsOtherDisks(ctx: LUContext, inst: InstanceObject, dir: string): boolean {
  return instanceDisks(ctx.config.data, inst).some((d) => DTS_FILEBASED.includes(d.dev_type) && path.posix.dirname(String(d.logical_id[1])) === dir);
}

/** _UndoCreateDisks: remove what CreateDisks made, warning about what cannot be removed. */
export async function undoCreateDisks(ctx: LUContext, created: Array<[string, DiskObject]>): Promise<void> {
  for (const [node, disk] of created) {
    const r = await callNode(ctx, node, 'blockdev_remove', [disk]);
    if (!r.ok) ctx.log.warn({ disk: disk.uuid, node: nodeName(ctx, node), err: r.error }, `Failed to remove newly-created disk ${diskDescription(disk)}`);
  }
}

/**
 * RemoveDisks: the disks (all of the instance's by default) on their nodes, then the file
 * storage directories no remaining disk uses. Failures are warnings; returns whether all went well.
 */
export async function removeDisks(ctx: LUContext, inst: InstanceObject, disks?: DiskObject[]): Promise<boolean> {
  const all = instanceDisks(ctx.config.data, inst);
  const remove = disks ?? all;
  let ok = true;
  for (const disk of remove) {
    const idx = all.findIndex((d) => d.uuid === disk.uuid);
    for (const node of diskNodes(disk, inst.primary_node)) {
      const r = await callNode(ctx, node, 'blockdev_remove', [disk]);
      if (!r.ok) {
        logWarning(ctx, `Could not remove disk ${idx < 0 ? 'None' : idx} on node ${nodeName(ctx, node)}, continuing anyway: ${r.error}`);
        if (!(r.offline && node !== inst.primary_node)) ok = false;
      }
    }
  }
  const dirOf = (d: DiskObject) => (['file', 'sharedfile'].includes(d.dev_type) ? path.posix.dirname(String(d.logical_id[1])) : null);
  const removedUuids = new Set(remove.map((d) => d.uuid));
  const remaining = new Set(all.filter((d) => !removedUuids.has(d.uuid)).map(dirOf).filter((d): d is string => d !== null));
  const obsolete = new Set(remove.map(dirOf).filter((d): d is string => d !== null && !remaining.has(d)));
  for (const dir of obsolete) {
    const r = await callNode(ctx, inst.primary_node, 'file_storage_dir_remove', [dir]);
    if (!r.ok) {
      logWarning(ctx, `Could not remove directory '${dir}' on node ${nodeName(ctx, inst.primary_node)}: ${r.error}`);
      ok = false;
    }
  }
  return ok;
}

/**
 * WipeDisks: zeroes the disks (from an offset) on the primary in chunks of 10% (at most
 * 1 GiB), reporting progress on the first chunk and then once a minute, as upstream.
 */
export async function wipeDisks(ctx: LUContext, inst: InstanceObject, disks: Array<[number, DiskObject, number]>): Promise<void> {
  const node = inst.primary_node;
  for (const [idx, disk, startOffset] of disks) {
    let offset = startOffset;
    const size = disk.size;
    // upstream truncates the chunk; a disk under 10 MiB would then never progress.
    const chunk = Math.max(1, Math.trunc(Math.min(MAX_WIPE_CHUNK, (size / 100) * MIN_WIPE_CHUNK_PERCENT)));
    const infoText = offset === 0 ? '' : ` (from ${formatUnit(offset, 'h')} to ${formatUnit(size, 'h')})`;
    logInfo(ctx, `* Wiping disk ${idx}${infoText}`);
    const start = Date.now();
    let lastOutput = 0;
    while (offset < size) {
      const wipeSize = Math.min(chunk, size - offset);
      const r = await callNode(ctx, node, 'blockdev_wipe', [disk, offset, wipeSize]);
      raiseRpc(r, `Could not wipe disk ${idx} at offset ${offset} for size ${wipeSize}`);
      const now = Date.now();
      offset += wipeSize;
      if (now - lastOutput >= 60_000) {
        const eta = ((now - start) / 1000 / offset) * (size - offset);
        logInfo(ctx, ` - done: ${((offset / size) * 100).toFixed(1)}% ETA: ${formatSeconds(eta)}`);
        lastOutput = now;
      }
    }
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * WaitForSync: polls the disks on the primary (blockdev_find) until none is syncing;
 * false when a disk stays degraded. Logs upstream's "Waiting for ..." / "... in sync".
 */
export async function waitForSync(ctx: LUContext, inst: InstanceObject, disks?: DiskObject[], oneshot = false): Promise<boolean> {
  const list = disks ?? instanceDisks(ctx.config.data, inst);
  if (list.length === 0) return true;
  if (!oneshot) logInfo(ctx, `Waiting for instance ${inst.name} to sync disks`);
  const node = inst.primary_node;
  const name = nodeName(ctx, node);
  let retries = 0;
  let degradedRetries = 10;
  let done: boolean;
  let degraded: boolean;
  for (;;) {
    done = true;
    degraded = false;
    let maxTime = 0;
    const results = await Promise.all(list.map((d) => callNode(ctx, node, 'blockdev_find', [d])));
    const failed = results.find((r) => !r.ok);
    if (failed && !failed.ok) {
      logWarning(ctx, `Can't get any data from node ${name}: ${failed.error}`);
      retries += 1;
      if (retries >= 10) throw new RemoteError(`Can't contact node ${name} for mirror data, aborting.`);
      await sleep(6000);
      continue;
    }
    retries = 0;
    results.forEach((r, i) => {
      const st = (r.ok ? r.payload : null) as Dict | null;
      if (!st) {
        logWarning(ctx, `Can't compute data for node ${name}/${list[i].iv_name}`);
        return;
      }
      degraded ||= st.is_degraded === true && (st.sync_percent === null || st.sync_percent === undefined);
      if (typeof st.sync_percent === 'number') {
        done = false;
        let rem = 'no time estimate';
        if (typeof st.estimated_time === 'number') {
          rem = `${formatSeconds(st.estimated_time)} remaining (estimated)`;
          maxTime = st.estimated_time;
        }
        logInfo(ctx, `- device ${list[i].iv_name}: ${st.sync_percent.toFixed(2).padStart(6)}% done, ${rem}`);
      }
    });
    if ((done || oneshot) && degraded && degradedRetries > 0) {
      degradedRetries -= 1;
      await sleep(1000);
      continue;
    }
    if (done || oneshot) break;
    await sleep(Math.min(60, maxTime) * 1000);
  }
  if (done) logInfo(ctx, `Instance ${inst.name}'s disks are in sync`);
  return !degraded;
}

export interface AssembleResult {
  ok: boolean;
  /** [node name, iv_name, device path] per disk (OP_INSTANCE_ACTIVATE_DISKS's result). */
  info: Array<[string, string, string | null]>;
  /** blockdev_assemble's payloads on the primary: [dev_path, link_name, uri]. */
  payloads: unknown[];
}

/**
 * AssembleInstanceDisks: the disks (all by default, which marks them active) assembled on
 * the secondaries, then on the primary. Failures are warnings; a failure marks the disks inactive.
 */
export async function assembleInstanceDisks(ctx: LUContext, inst: InstanceObject,
  opts: { disks?: DiskObject[]; ignoreSecondaries?: boolean; ignoreSize?: boolean } = {}): Promise<AssembleResult> {
  if (!opts.disks) inst = await setInstanceStatus(ctx, inst.uuid, { disksActive: true });
  const disks = opts.disks ?? instanceDisks(ctx.config.data, inst);
  const all = instanceDisks(ctx.config.data, inst);
  const pnode = inst.primary_node;
  const rpcInst = instDict(ctx, inst);
  const sized = (d: DiskObject) => (opts.ignoreSize ? { ...d, size: null } : d);
  let ok = true;
  for (const disk of disks) {
    const idx = all.findIndex((d) => d.uuid === disk.uuid);
    for (const node of diskNodes(disk, pnode).filter((n) => n !== pnode)) {
      const r = await callNode(ctx, node, 'blockdev_assemble', [sized(disk), rpcInst, false, idx]);
      if (!r.ok) {
        logWarning(ctx, `Could not prepare block device ${disk.iv_name} on node ${nodeName(ctx, node)} (is_primary=False, pass=1): ${r.error}`);
        if (!(opts.ignoreSecondaries || r.offline)) ok = false;
      }
    }
  }
  const info: AssembleResult['info'] = [];
  const payloads: unknown[] = [];
  for (const disk of disks) {
    const idx = all.findIndex((d) => d.uuid === disk.uuid);
    let devPath: string | null = null;
    const r = await callNode(ctx, pnode, 'blockdev_assemble', [sized(disk), rpcInst, true, idx]);
    if (!r.ok) {
      logWarning(ctx, `Could not prepare block device ${disk.iv_name} on node ${nodeName(ctx, pnode)} (is_primary=True, pass=2): ${r.error}`);
      ok = false;
      payloads.push(null);
    } else {
      const payload = r.payload;
      devPath = Array.isArray(payload) ? (payload[0] as string | null) : (payload as string | null);
      payloads.push(payload);
    }
    info.push([nodeName(ctx, pnode), disk.iv_name, devPath]);
  }
  if (!ok) await setInstanceStatus(ctx, inst.uuid, { disksActive: false });
  return { ok, info, payloads };
}

/**
 * ShutdownInstanceDisks: blockdev_shutdown on every node of the disks (all by default,
 * which marks them inactive). Returns false on a failure that counts (see ignorePrimary).
 */
export async function shutdownInstanceDisks(ctx: LUContext, inst: InstanceObject,
  opts: { disks?: DiskObject[]; ignorePrimary?: boolean } = {}): Promise<boolean> {
  if (!opts.disks) inst = await setInstanceStatus(ctx, inst.uuid, { disksActive: false });
  const disks = opts.disks ?? instanceDisks(ctx.config.data, inst);
  let ok = true;
  for (const disk of disks) {
    for (const node of diskNodes(disk, inst.primary_node)) {
      const r = await callNode(ctx, node, 'blockdev_shutdown', [disk]);
      if (!r.ok) {
        logWarning(ctx, `Could not shutdown block device ${disk.iv_name} on node ${nodeName(ctx, node)}: ${r.error}`);
        if ((node === inst.primary_node && !opts.ignorePrimary) || (node !== inst.primary_node && !r.offline)) ok = false;
      }
    }
  }
  return ok;
}

/** _SafeShutdownInstanceDisks: only when the instance is down (and not running). */
export async function safeShutdownInstanceDisks(ctx: LUContext, inst: InstanceObject, disks?: DiskObject[]): Promise<void> {
  await checkInstanceState(ctx, inst, INSTANCE_DOWN, 'cannot shutdown disks');
  await shutdownInstanceDisks(ctx, inst, { disks });
}

/**
 * StartInstanceDisks: assemble all disks; on a failure shut them down again and raise
 * "Disk consistency error" (with upstream's --force hint when force is false).
 */
export async function startInstanceDisks(ctx: LUContext, inst: InstanceObject, force: boolean | null): Promise<void> {
  const { ok } = await assembleInstanceDisks(ctx, inst, { ignoreSecondaries: force === true });
  if (!ok) {
    await shutdownInstanceDisks(ctx, inst);
    if (force === false) {
      logWarning(ctx, '', "If the message above refers to a secondary node, you can retry the operation using '--force'");
    }
    throw new OpExecError('Disk consistency error');
  }
}

/**
 * CheckNodesFreeDiskPerVG: every node must have the MiB each volume group needs free,
 * asked through node_info's lvm-vg storage units.
 */
export async function checkNodesFreeDiskPerVG(ctx: LUContext, nodeUuids: string[], reqSizes: Record<string, number>): Promise<void> {
  for (const [vg, requested] of Object.entries(reqSizes)) {
    for (const uuid of nodeUuids) {
      const name = nodeName(ctx, uuid);
      const hv = ctx.config.cluster.enabled_hypervisors[0];
      const r = await callNode(ctx, uuid, 'node_info', [[['lvm-vg', vg, exclusiveStorage(ctx, uuid)]], [[hv, clusterHvParamsFor(ctx, hv)]]]);
      const payload = raiseRpc(r, `Cannot get current information from node ${name}`, true, ECODE.ENVIRON);
      const unit = nodeInfoParts(payload).storage.find((s) => s.type === 'lvm-vg');
      if (!unit) throw new OpPrereqError("Can't retrieve storage information for LVM");
      const free = unit.storage_free;
      if (typeof free !== 'number' || !Number.isInteger(free)) {
        throw new OpPrereqError(`Can't compute free disk space on node ${name} for vg ${vg}, result was '${free === undefined || free === null ? 'None' : String(free)}'`, ECODE.ENVIRON);
      }
      if (requested > free) {
        throw new OpPrereqError(`Not enough disk space on target node ${name} vg ${vg}: required ${requested} MiB, available ${free} MiB`, ECODE.NORES);
      }
    }
  }
}

/** The free-space check grow-disk makes before growing (LVM templates without exclusive storage). */
export function growNeedsSpaceCheck(template: string): boolean {
  return !DTS_NO_FREE_SPACE_CHECK.includes(template);
}

/** objects.Instance.FindDisk with upstream's texts. */
export function findDisk(disks: DiskObject[], idx: number): DiskObject {
  const d = disks[idx];
  if (!d) throw new OpPrereqError(`Invalid disk index: ${idx} (instace has disks 0 to ${disks.length - 1}`, ECODE.INVAL);
  return d;
}
