// Backup logical units (upstream's cmdlib/backup.py): export, remove, prepare; and the
// import half that OP_INSTANCE_CREATE with mode "import" uses (upstream's
// LUInstanceCreate._ReadExportInfo / _ReadExportParams and the import branch of
// RunOsScripts).
//
// Upstream moves images with import/export daemons talking node to node. Here nodes
// never talk to each other (src/rpc/procedures-os.ts): the OS export script writes an
// image file into the export directory of the instance's primary node, and when the
// export goes to another node the master copies that file over in chunks; an import
// copies the image to the new primary the same way before its OS import script reads it.
// Exports are taken without snapshots: a running instance is exported while shut down,
// which upstream allows only with --long-sleep.
import crypto from 'node:crypto';
import { ECODE, OpExecError, OpPrereqError, ProgrammerError } from '../../core/errors.ts';
import type { OpInput } from '../../core/opcodes.ts';
import { EXPORT_VERSION } from '../../node/os/export-config.ts';
import { EXPORT_DIR, TRANSFER_CHUNK_SIZE } from '../../rpc/procedures-os.ts';
import { instanceDisks, MAX_DISKS, MAX_NICS } from '../config/instance-params.ts';
import type { InstanceObject, NodeObject } from '../config/model.ts';
import { expandNode, type HookSpec, type LockPlan, type LogicalUnit, type LUContext, type LUFactory } from './base.ts';
import { shutdownInstanceDisks, startInstanceDisks } from './instance-storage.ts';
import { removeInstance } from './instance-remove.ts';
import {
  callNode, checkNodeNotDrained, checkNodeOnline, instanceHooks, instanceLU, instDict, logWarning, nodeName, nodeOf,
  raiseRpc,
} from './instance-utils.ts';
import { expandInstance } from './tags.ts';

type Dict = Record<string, unknown>;

// ---------------------------------------------------------------------------------------
// config.ini

/** A parsed INI text: section → option → value (options lower-cased, as ConfigParser). */
export type Ini = Map<string, Map<string, string>>;

/**
 * SerializableConfigParser.Loads, for what Ganeti writes and people edit: [sections],
 * "key = value" or "key: value", indented continuation lines, "#" and ";" comments.
 */
export function parseIni(text: string): Ini {
  const ini: Ini = new Map();
  let section: Map<string, string> | null = null;
  let lastKey: string | null = null;
  for (const raw of text.split(/\r?\n/)) {
    if (/^\s/.test(raw) && raw.trim() !== '' && section && lastKey !== null) {
      section.set(lastKey, `${section.get(lastKey)}\n${raw.trim()}`);
      continue;
    }
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[([^\]]+)\]/.exec(line);
    if (header) {
      section = ini.get(header[1]) ?? new Map();
      ini.set(header[1], section);
      lastKey = null;
      continue;
    }
    const option = /^([^=:]+?)\s*[=:]\s*(.*)$/.exec(line);
    if (!option || !section) continue;
    lastKey = option[1].toLowerCase();
    section.set(lastKey, option[2]);
  }
  return ini;
}

function iniGet(ini: Ini, section: string, option: string): string | undefined {
  return ini.get(section)?.get(option);
}

/** Values Ganeti writes for an absent value ("None"), which upstream treats as absent. */
function noneToNull(v: string | undefined): string | null {
  return v === undefined || v.toLowerCase() === 'none' ? null : v;
}

// ---------------------------------------------------------------------------------------
// Moving files between nodes through the master

/** Copy a file below one node's export directory to another's, chunk by chunk. */
async function copyBetweenNodes(ctx: LUContext, src: NodeObject, srcPath: string, dst: NodeObject, dstPath: string): Promise<void> {
  let offset = 0;
  do {
    const read = await callNode(ctx, src.uuid, 'export_chunk_read', [srcPath, offset, TRANSFER_CHUNK_SIZE]);
    const [chunk, size] = raiseRpc(read, `Can't read ${srcPath} on node ${src.name}`) as [unknown, number];
    const next = offset + Math.max(0, Math.min(TRANSFER_CHUNK_SIZE, size - offset));
    const last = next >= size;
    const write = await callNode(ctx, dst.uuid, 'export_chunk_write', [dstPath, offset, chunk, last]);
    raiseRpc(write, `Can't write ${dstPath} on node ${dst.name}`);
    offset = next;
    if (last) break;
    if (ctx.signal.aborted) throw new OpExecError('Job killed during a disk transfer');
  } while (true);
}

/** A hidden working directory (export_list does not show it) for one transfer on a node. */
function stagingDir(instanceName: string, what: 'export' | 'import'): string {
  return `${EXPORT_DIR}/.${what}-${instanceName}-${crypto.randomBytes(4).toString('hex')}`;
}

async function removeStaging(ctx: LUContext, node: NodeObject, dir: string): Promise<void> {
  const r = await callNode(ctx, node.uuid, 'export_remove', [dir.slice(EXPORT_DIR.length + 1)]);
  if (!r.ok) logWarning(ctx, `Could not remove the transfer directory ${dir} on node ${node.name}: ${r.error}`);
}

/**
 * One transfer of upstream's TransferInstanceData, with its feedback: "Exporting <label>
 * from <src> to <dst>", then "<label> finished receiving data" or why it failed.
 */
async function transfer(ctx: LUContext, label: string, src: NodeObject, dst: NodeObject, run: () => Promise<void>): Promise<boolean> {
  ctx.feedback(`Exporting ${label} from ${src.name} to ${dst.name}`);
  try {
    await run();
  } catch (err) {
    ctx.feedback(`${label} failed to receive data: ${(err as Error).message}`);
    return false;
  }
  ctx.feedback(`${label} finished receiving data`);
  return true;
}

/**
 * The OS export or import script for disk `idx`, run on the instance's primary node, with
 * the image at `image` on `imageNode`. When that is another node, the script works on a
 * staging copy on the primary that the master moves over (after an export, before an
 * import), as nodes cannot reach each other; the staging directory goes away either way.
 */
async function exportOrImportDisk(ctx: LUContext, direction: 'export' | 'import', inst: InstanceObject, idx: number,
  imageNode: NodeObject, image: string): Promise<void> {
  const pnode = nodeOf(ctx, inst.primary_node);
  const [proc, what] = direction === 'export' ? ['instance_disk_export', 'Export'] as const : ['instance_disk_import', 'Import'] as const;
  const runScript = async (path: string) =>
    raiseRpc(await callNode(ctx, pnode.uuid, proc, [instDict(ctx, inst), idx, path]), `${what} of disk ${idx} failed`);
  if (imageNode.uuid === pnode.uuid) {
    await runScript(image);
    return;
  }
  const staging = stagingDir(inst.name, direction);
  const staged = `${staging}/disk${idx}`;
  try {
    if (direction === 'import') await copyBetweenNodes(ctx, imageNode, image, pnode, staged);
    await runScript(staged);
    if (direction === 'export') await copyBetweenNodes(ctx, pnode, staged, imageNode, image);
  } finally {
    await removeStaging(ctx, pnode, staging);
  }
}

// ---------------------------------------------------------------------------------------
// OP_BACKUP_EXPORT

/** ExportInstanceHelper.LocalExport without snapshots: [finalize ok, [disk ok, ...]]. */
async function localExport(ctx: LUContext, inst: InstanceObject, dst: NodeObject): Promise<[boolean, boolean[]]> {
  const src = nodeOf(ctx, inst.primary_node);
  const disks = instanceDisks(ctx.config.data, inst);
  // Leftovers of an earlier export that failed half-way must not end up in this one.
  await callNode(ctx, dst.uuid, 'export_remove', [`${inst.name}.new`]);
  const results: boolean[] = [];
  for (const [idx, disk] of disks.entries()) {
    const destPath = `${EXPORT_DIR}/${inst.name}.new/${disk.uuid}`;
    results.push(await transfer(ctx, `disk/${idx}`, src, dst, () => exportOrImportDisk(ctx, 'export', inst, idx, dst, destPath)));
  }
  if (!results.every(Boolean)) {
    logWarning(ctx, `Some disk exports have failed; there may be leftover data for instance ${inst.name} on node ${dst.name}`);
    return [false, results];
  }
  ctx.feedback(`Finalizing export on ${dst.name}`);
  const r = await callNode(ctx, dst.uuid, 'finalize_export', [instDict(ctx, inst), disks]);
  if (!r.ok) logWarning(ctx, `Could not finalize export for instance ${inst.name} on node ${dst.name}: ${r.error}`);
  return [r.ok, results];
}

/** _CleanupExports: older exports of the instance on every other node go away. */
async function cleanupExports(ctx: LUContext, inst: InstanceObject, dst: NodeObject): Promise<void> {
  const others = ctx.config.nodes().filter((n) => n.uuid !== dst.uuid);
  if (others.length === 0) return;
  ctx.feedback(`Removing old exports for instance ${inst.name}`);
  const lists = await Promise.all(others.map((n) => callNode(ctx, n.uuid, 'export_list', [])));
  for (const [i, list] of lists.entries()) {
    if (!list.ok || !Array.isArray(list.payload) || !list.payload.includes(inst.name)) continue;
    const r = await callNode(ctx, others[i].uuid, 'export_remove', [inst.name]);
    if (!r.ok) logWarning(ctx, `Could not remove older export for instance ${inst.name} on node ${others[i].name}: ${r.error}`);
  }
}

/** The remote (inter-cluster) modes need import/export daemons, which this cluster does not run. */
function refuseRemote(mode: unknown): void {
  if (mode === 'remote') {
    throw new OpPrereqError('Remote export needs the remote import-export daemons, which this cluster does not run', ECODE.INVAL);
  }
}

/** OP_BACKUP_EXPORT (LUBackupExport), local mode. */
export function backupExport(op: OpInput, ctx: LUContext): LogicalUnit {
  let inst: InstanceObject;
  let dst: NodeObject;
  // All nodes, as upstream: an older export may be on any of them and is removed.
  const locking = (current: InstanceObject): LockPlan =>
    ({ bglShared: true, levels: { instance: { names: [current.uuid], shared: false }, node: { names: null, shared: false } } });
  return instanceLU(op, ctx, locking, (current) => { inst = current; }, {
    checkArguments() {
      refuseRemote(op.mode);
    },
    expandNames() {
      dst = expandNode(ctx, (op.target_node_uuid as string | null | undefined) ?? (op.target_node as string));
      op.target_node_uuid = dst.uuid;
      op.target_node = dst.name;
    },
    checkPrereq() {
      checkNodeOnline(ctx, inst.primary_node);
      if (op.remove_instance && inst.admin_state === 'up' && !op.shutdown) {
        throw new OpPrereqError('Can not remove instance without shutting it down before', ECODE.STATE);
      }
      dst = nodeOf(ctx, dst.uuid);
      checkNodeOnline(ctx, dst.uuid);
      checkNodeNotDrained(ctx, dst.uuid);
      const cluster = ctx.config.cluster as Dict;
      if (op.zero_free_space) {
        // Zeroing boots a helper VM from the zeroing image (RunWithHelperVM).
        if (!cluster.zeroing_image) throw new OpPrereqError('A zeroing image must be set for zeroing to work', ECODE.INVAL);
      } else if ((op.zeroing_timeout_fixed ?? null) !== null || (op.zeroing_timeout_per_mib ?? null) !== null) {
        throw new OpPrereqError('Zeroing timeout options can only be used only with the --zero-free-space option', ECODE.INVAL);
      }
      if (op.long_sleep && !op.shutdown) {
        throw new OpPrereqError('The long sleep option only makes sense when the instance can be shut down.', ECODE.INVAL);
      }
      const compress = op.compress as string;
      const tools = (cluster.compression_tools as string[] | null | undefined) ?? [];
      if (compress !== 'none' && !tools.includes(compress)) {
        throw new OpPrereqError(`Compression tool not allowed, tools allowed are [${tools.join(', ')}]`, ECODE.INVAL);
      }
    },
    hooks(): HookSpec {
      const spec = instanceHooks(ctx, 'instance-export', inst, {
        EXPORT_MODE: op.mode as string,
        EXPORT_NODE: dst.name,
        EXPORT_DO_SHUTDOWN: op.shutdown as boolean,
        SHUTDOWN_TIMEOUT: op.shutdown_timeout as number,
        REMOVE_INSTANCE: op.remove_instance ? 'True' : 'False',
      });
      const nodes = [...new Set([ctx.config.masterNode().name, nodeName(ctx, inst.primary_node), dst.name])];
      return { ...spec, preNodes: nodes, postNodes: nodes };
    },
    async exec() {
      if (op.zero_free_space) throw new OpExecError('Zeroing free space needs a helper VM, which the fake hypervisor cannot run');
      const src = nodeOf(ctx, inst.primary_node);
      // Upstream prefers a snapshot while the instance stays up (TrySnapshot); this
      // cluster takes none, so that case needs the instance down for the whole export.
      // Refused before the shutdown rather than after it, so the instance keeps running.
      if (!op.remove_instance && inst.admin_state === 'up') {
        if (!op.shutdown) throw new OpExecError('Not all disks could be snapshotted, and you requested a live export; aborting');
        if (!op.long_sleep) {
          throw new OpExecError('Not all disks could be snapshotted, and you did not allow the instance to remain offline for a ' +
            'longer time through the --long-sleep option; aborting');
        }
      }
      if (op.shutdown) {
        ctx.feedback(`Shutting down instance ${inst.name}`);
        const r = await callNode(ctx, src.uuid, 'instance_shutdown', [instDict(ctx, inst), op.shutdown_timeout, op.reason]);
        raiseRpc(r, `Could not shutdown instance ${inst.name} on node ${src.name}`);
      }
      const activateDisks = !inst.disks_active;
      if (activateDisks) {
        ctx.feedback(`Activating disks for ${inst.name}`);
        await startInstanceDisks(ctx, inst, null);
        inst = ctx.config.data.instances[inst.uuid] ?? inst;
      }
      let fin: boolean;
      let dresults: boolean[];
      try {
        [fin, dresults] = await localExport(ctx, inst, dst);
        if (op.shutdown && inst.admin_state === 'up' && !op.remove_instance) {
          ctx.feedback(`Starting instance ${inst.name}`);
          const r = await callNode(ctx, src.uuid, 'instance_start', [instDict(ctx, inst), false, op.reason]);
          if (!r.ok) {
            ctx.feedback(`Failed to start instance: ${r.error}`);
            await shutdownInstanceDisks(ctx, inst);
            throw new OpExecError(`Could not start instance: ${r.error}`);
          }
        }
      } finally {
        if (activateDisks) {
          ctx.feedback(`Deactivating disks for ${inst.name}`);
          await shutdownInstanceDisks(ctx, ctx.config.data.instances[inst.uuid] ?? inst);
        }
      }
      if (!(fin && dresults.every(Boolean))) {
        const failures: string[] = [];
        if (!fin) failures.push('export finalization');
        if (!dresults.every(Boolean)) {
          failures.push(`disk export: disk(s) ${dresults.flatMap((ok, i) => (ok ? [] : [String(i)])).join(', ')}`);
        }
        throw new OpExecError(`Export failed, errors in ${failures.join(', ')}`);
      }
      if (op.remove_instance) {
        ctx.feedback(`Removing instance ${inst.name}`);
        await removeInstance(ctx, ctx.config.data.instances[inst.uuid] ?? inst, op.ignore_remove_failures === true);
      }
      await cleanupExports(ctx, inst, dst);
      return [fin, dresults];
    },
  });
}

// ---------------------------------------------------------------------------------------
// OP_BACKUP_REMOVE, OP_BACKUP_PREPARE

/** OP_BACKUP_REMOVE (LUBackupRemove): the instance's export on whichever nodes have one. */
export function backupRemove(op: OpInput, ctx: LUContext): LogicalUnit {
  return {
    locks(): LockPlan {
      // Every node; the instance itself need not exist any more.
      return { bglShared: true, levels: { node: { names: null, shared: false } } };
    },
    async exec() {
      let name: string;
      let fqdnWarn = false;
      try {
        name = expandInstance(ctx.config.data, op.instance_name as string).name;
      } catch {
        // An export of a removed instance is found by its full name only.
        name = op.instance_name as string;
        fqdnWarn = true;
      }
      const nodes = ctx.config.nodes();
      const lists = await Promise.all(nodes.map((n) => callNode(ctx, n.uuid, 'export_list', [])));
      let found = false;
      for (const [i, list] of lists.entries()) {
        if (!list.ok) {
          logWarning(ctx, `Failed to query node ${nodes[i].name} (continuing): ${list.error}`);
          continue;
        }
        if (!Array.isArray(list.payload) || !list.payload.includes(name)) continue;
        found = true;
        const r = await callNode(ctx, nodes[i].uuid, 'export_remove', [name]);
        if (!r.ok) ctx.log.error({ instance: name, node: nodes[i].name, error: r.error }, 'Could not remove export');
      }
      if (fqdnWarn && !found) {
        ctx.feedback('Export not found. If trying to remove an export belonging to a deleted instance please use its ' +
          'Fully Qualified Domain Name.');
      }
      return null;
    },
  };
}

/** OP_BACKUP_PREPARE (LUBackupPrepare): nothing to prepare for a local export. */
export function backupPrepare(op: OpInput, ctx: LUContext): LogicalUnit {
  let inst: InstanceObject;
  return instanceLU(op, ctx, { nodes: false }, (current) => { inst = current; }, {
    checkArguments() {
      refuseRemote(op.mode);
    },
    checkPrereq() {
      checkNodeOnline(ctx, inst.primary_node);
    },
    async exec() {
      return null;
    },
  });
}

export const BACKUP_LUS: Readonly<Record<string, LUFactory>> = {
  OP_BACKUP_EXPORT: backupExport,
  OP_BACKUP_REMOVE: backupRemove,
  OP_BACKUP_PREPARE: backupPrepare,
};

// ---------------------------------------------------------------------------------------
// Import: what OP_INSTANCE_CREATE mode "import" calls

/** An export as an import reads it (config.ini of `path` on `node`). */
export interface ExportInfo {
  node: NodeObject;
  /** The export's directory (cluster path), e.g. /srv/ganeti/export/<instance>. */
  path: string;
  ini: Ini;
  /** [export] os */
  os: string;
  /** [instance] name: the exported instance's name (the rename script's old name). */
  oldName: string;
}

/**
 * The import half of LUInstanceCreate.ExpandNames: src_path defaults to the instance
 * name, a relative one is below the export directory, an absolute one needs src_node.
 * Sets op.src_node/src_node_uuid/src_path and returns the node uuids to lock (null: every
 * node, when the export must be searched for).
 */
export function expandImportSource(ctx: LUContext, op: OpInput): string[] | null {
  if (op.src_path === null || op.src_path === undefined) op.src_path = op.instance_name;
  const srcPath = op.src_path as string;
  if (op.src_node === null || op.src_node === undefined) {
    op.src_node = null;
    if (srcPath.startsWith('/')) throw new OpPrereqError('Importing an instance from a path requires a source node option', ECODE.INVAL);
    return null;
  }
  const node = expandNode(ctx, (op.src_node_uuid as string | null | undefined) ?? (op.src_node as string));
  op.src_node_uuid = node.uuid;
  op.src_node = node.name;
  if (!srcPath.startsWith('/')) op.src_path = `${EXPORT_DIR}/${srcPath}`;
  return [node.uuid];
}

/**
 * _ReadExportInfo: finds the export when no source node was given (export_list on every
 * node; sets op.src_node/src_node_uuid/src_path), reads its config.ini and checks its version.
 */
export async function readExportInfo(ctx: LUContext, op: OpInput): Promise<ExportInfo> {
  if (op.src_node_uuid === null || op.src_node_uuid === undefined) {
    const nodes = ctx.config.nodes();
    const lists = await Promise.all(nodes.map((n) => callNode(ctx, n.uuid, 'export_list', [])));
    const at = lists.findIndex((l) => l.ok && Array.isArray(l.payload) && l.payload.includes(op.src_path));
    if (at < 0) throw new OpPrereqError(`No export found for relative path ${String(op.src_path)}`, ECODE.INVAL);
    op.src_node = nodes[at].name;
    op.src_node_uuid = nodes[at].uuid;
    op.src_path = `${EXPORT_DIR}/${String(op.src_path)}`;
  }
  const node = nodeOf(ctx, op.src_node_uuid as string);
  checkNodeOnline(ctx, node.uuid);
  const path = op.src_path as string;
  const text = raiseRpc(await callNode(ctx, node.uuid, 'export_info', [path]), `No export or invalid export found in dir ${path}`);
  const ini = parseIni(String(text));
  if (!ini.has('export')) throw new ProgrammerError('Corrupted export config', ECODE.ENVIRON);
  const version = iniGet(ini, 'export', 'version');
  if (Number(version) !== EXPORT_VERSION) {
    throw new OpPrereqError(`Wrong export version ${String(version)} (wanted ${EXPORT_VERSION})`, ECODE.ENVIRON);
  }
  return { node, path, ini, os: iniGet(ini, 'export', 'os') ?? '', oldName: iniGet(ini, 'instance', 'name') ?? '' };
}

/**
 * _ReadExportParams: the export's OS always, and its disks, NICs, tags, hypervisor and
 * parameters where the opcode gives none (parameters key by key). Values stay the strings
 * config.ini holds; the create LU's ForceDictType turns them into their types. "None"
 * (how Ganeti writes an absent name, IP or network) comes back as null.
 */
export function applyExportParams(op: OpInput, info: ExportInfo): void {
  const { ini } = info;
  const ins = ini.get('instance') ?? new Map<string, string>();
  op.os_type = info.os;
  const opDisks = (op.disks as Dict[] | undefined) ?? [];
  if (opDisks.length === 0) {
    const disks: Dict[] = [];
    for (let i = 0; i < MAX_DISKS; i++) {
      const size = ins.get(`disk${i}_size`);
      if (size === undefined) continue;
      if (!/^\s*[+-]?\d+\s*$/.test(size)) throw new OpPrereqError(`Invalid disk${i}_size '${size}' in the export`, ECODE.INVAL);
      disks.push({ size: Number(size), name: noneToNull(ins.get(`disk${i}_name`)) });
    }
    op.disks = disks;
    if (disks.length === 0 && op.disk_template !== 'diskless') {
      throw new OpPrereqError('No disk info specified and the export is missing the disk information', ECODE.INVAL);
    }
  }
  const opNics = (op.nics as Dict[] | undefined) ?? [];
  if (opNics.length === 0) {
    const nics: Dict[] = [];
    for (let i = 0; i < MAX_NICS && ins.has(`nic${i}_mac`); i++) {
      const nic: Dict = {};
      for (const key of ['ip', 'mac', 'name']) if (ins.has(`nic${i}_${key}`)) nic[key] = noneToNull(ins.get(`nic${i}_${key}`));
      // Upstream takes the network whenever the option is there, "None" included, and then
      // leaves mode and link to the defaults; only a missing option brings them along.
      const network = ins.get(`nic${i}_network`);
      if (network !== undefined && network !== '') {
        nic.network = noneToNull(network);
      } else {
        for (const key of ['mode', 'link', 'vlan']) nic[key] = ins.get(`nic${i}_${key}`) ?? null;
      }
      nics.push(nic);
    }
    op.nics = nics;
  }
  const tags = op.tags as string[] | undefined;
  if ((!tags || tags.length === 0) && ins.has('tags')) op.tags = ins.get('tags')!.split(/\s+/).filter((t) => t !== '');
  if ((op.hypervisor === null || op.hypervisor === undefined) && ins.has('hypervisor')) op.hypervisor = ins.get('hypervisor');

  const fill = (target: Dict, values: Map<string, string> | undefined) => {
    for (const [k, v] of values ?? []) if (!Object.hasOwn(target, k)) target[k] = v;
  };
  op.hvparams = (op.hvparams as Dict | undefined) ?? {};
  fill(op.hvparams as Dict, ini.get('hypervisor'));
  op.beparams = (op.beparams as Dict | undefined) ?? {};
  const be = op.beparams as Dict;
  if (ini.has('backend')) {
    for (const [k, v] of ini.get('backend')!) {
      if (!Object.hasOwn(be, k)) be[k] = v;
      // The pre-2.6 "memory" stands for both bounds.
      if (k === 'memory') {
        be.maxmem ??= v;
        be.minmem ??= v;
      }
    }
  } else {
    // Old exports keep them in [instance].
    for (const k of ['always_failover', 'auto_balance', 'maxmem', 'minmem', 'spindle_use', 'vcpus']) {
      if (!Object.hasOwn(be, k) && ins.has(k)) be[k] = ins.get(k);
    }
  }
  op.osparams = (op.osparams as Dict | undefined) ?? {};
  fill(op.osparams as Dict, ini.get('os'));
  op.osparams_private = (op.osparams_private as Dict | null | undefined) ?? {};
  fill(op.osparams_private as Dict, ini.get('os_private'));
}

/** The image of each of the new instance's disks (cluster paths on info.node), null where the export has none. */
export function exportImages(info: ExportInfo, diskCount: number): Array<string | null> {
  return Array.from({ length: diskCount }, (_, i) => {
    const dump = iniGet(info.ini, 'instance', `disk${i}_dump`);
    return dump === undefined ? null : `${info.path}/${dump}`;
  });
}

/** The MAC NIC `idx` had in the export (for an import under the same name, whose NICs say "auto"). */
export function exportedMac(info: ExportInfo, idx: number): string | null {
  return noneToNull(iniGet(info.ini, 'instance', `nic${idx}_mac`));
}

/**
 * The import branch of RunOsScripts, for an instance already in the configuration with
 * its disks created (and activated) on its primary: the OS import script for every disk
 * that has an image, then the OS rename script from the exported name. Failures are
 * warnings, as upstream's; returns the result of each disk that had an image.
 */
export async function importInstanceDisks(ctx: LUContext, inst: InstanceObject, info: ExportInfo,
  images: Array<string | null>, debugLevel: number): Promise<boolean[]> {
  // Upstream's RunOsScripts does nothing at all for an instance without disks.
  if (inst.disks.length === 0) return [];
  const pnode = nodeOf(ctx, inst.primary_node);
  ctx.feedback('* running the instance OS import scripts...');
  const results: boolean[] = [];
  for (const [idx, image] of images.entries()) {
    if (!image) continue;
    results.push(await transfer(ctx, `disk/${idx}`, info.node, pnode, () => exportOrImportDisk(ctx, 'import', inst, idx, info.node, image)));
  }
  if (!results.every(Boolean)) {
    logWarning(ctx, `Some disks for instance ${inst.name} on node ${pnode.name} were not imported successfully`);
  }
  if (inst.os) {
    ctx.feedback(`Running rename script for ${inst.name}`);
    const r = await callNode(ctx, pnode.uuid, 'instance_run_rename', [instDict(ctx, inst), info.oldName, debugLevel]);
    if (!r.ok) logWarning(ctx, `Failed to run rename script for ${inst.name} on node ${pnode.name}: ${r.error}`);
  }
  return results;
}

