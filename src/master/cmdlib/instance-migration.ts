// Instance migration and failover (upstream's cmdlib/instance_migration.py:
// LUInstanceMigrate, LUInstanceFailover and their TLMigrateInstance tasklet), for the
// externally mirrored templates (diskless, sharedfile, blockdev, rbd, ext, gluster): the
// target comes from target_node or an iallocator, everything is checked before anything
// is stopped or started (target online, not drained, vm_capable, its memory, the
// hypervisor parameters there, the NICs' bridges, the instance's disks visible from it),
// then the hypervisor moves the instance (migration_info → accept_instance →
// instance_migrate → instance_get_migration_status → finalize on both nodes) or the
// instance is stopped here and started there (failover). There is no DRBD here, so the
// internally mirrored path (secondary nodes, dual-master disks) does not exist.
import { ECODE, OpExecError, OpPrereqError } from '../../core/errors.ts';
import type { OpInput } from '../../core/opcodes.ts';
import type { RpcResult } from '../../rpc/client.ts';
import { filledBeParams, filledHvParams, filledNicParams, instanceDisks } from '../config/instance-params.ts';
import type { DiskObject, InstanceObject } from '../config/model.ts';
import { relocateInstance } from '../iallocator/index.ts';
import { logInfo, type HookSpec, type LockPlan, type LogicalUnit, type LUContext } from './base.ts';
import { checkHypervisorParams } from './hv-validate.ts';
import { groupIpolicy, ipolicyViolations } from './instance-ipolicy.ts';
import { assembleInstanceDisks, shutdownInstanceDisks } from './instance-storage.ts';
import {
  callNode, checkNodeFreeMemory, checkNodeNotDrained, checkNodeOnline, checkNodeVmCapable, clusterHvParamsFor, instanceHookEnv,
  instanceLU, instDict, logWarning, nodeName, nodeOf, raiseRpc,
} from './instance-utils.ts';

type Dict = Record<string, unknown>;

/** Upstream's DTS_EXT_MIRROR, DTS_INT_MIRROR and DTS_MIRRORED. */
export const DTS_EXT_MIRROR = ['diskless', 'sharedfile', 'blockdev', 'rbd', 'ext', 'gluster'];
export const DTS_INT_MIRROR = ['drbd'];
export const DTS_MIRRORED = [...DTS_INT_MIRROR, ...DTS_EXT_MIRROR];
/** HV_MIGRATION_FAILED_STATUSES and HV_MIGRATION_ACTIVE. */
const MIGRATION_FAILED_STATUSES = ['failed', 'cancelled'];
const MIGRATION_ACTIVE = 'active';
/** DEFAULT_IALLOCATOR_SHORTCUT: "-I ." asks for the cluster's default allocator. */
export const DEFAULT_IALLOCATOR_SHORTCUT = '.';
/** TLMigrateInstance's poll and progress intervals. */
export const MIGRATION_POLL_INTERVAL_MS = 1000;
export const MIGRATION_FEEDBACK_INTERVAL_MS = 10_000;

/**
 * Whether disks of these types may move to another node, as the prerequisite error
 * upstream raises when not (null when they may): every disk must be mirrored.
 */
export function migrationTemplateError(diskTypes: string[], failover: boolean): OpPrereqError | null {
  const invalid = [...new Set(diskTypes.filter((t) => !DTS_MIRRORED.includes(t)))];
  if (invalid.length === 0) return null;
  return new OpPrereqError(`Instance's disk layout '${invalid.join(', ')}' does not allow ${failover ? 'failovers' : 'migrations'}`, ECODE.STATE);
}

/** The progress line upstream prints for one migration status, or null when it prints none. */
export function migrationProgressLine(status: Dict | null | undefined): string | null {
  const done = status?.transferred_ram;
  const total = status?.total_ram;
  if (typeof done !== 'number' || typeof total !== 'number' || total <= 0) return null;
  return `* memory transfer progress: ${((100 * done) / total).toFixed(2)} %`;
}

/**
 * Whether an instance of this hypervisor needs the bridges of its bridged NICs on the
 * node it runs on. The fake hypervisor attaches no NICs, so it does not (upstream checks
 * for every hypervisor; here instance creation and start-up never check bridges either).
 */
export function hypervisorNeedsBridges(hypervisor: string): boolean {
  return hypervisor !== 'fake';
}

/** CheckIAllocatorOrNode: at most one of both; neither (or "."): the cluster's default allocator. */
export function checkIAllocatorOrNode(ctx: LUContext, op: OpInput, iallocatorSlot: string, nodeSlot: string): void {
  const node = op[nodeSlot] ?? null;
  const ialloc = op[iallocatorSlot] ?? null;
  if (node !== null && ialloc !== null && ialloc !== DEFAULT_IALLOCATOR_SHORTCUT) {
    throw new OpPrereqError('Do not specify both, iallocator and node', ECODE.INVAL);
  }
  if ((node === null && ialloc === null) || ialloc === DEFAULT_IALLOCATOR_SHORTCUT) {
    const def = (ctx.config.cluster as Dict).default_iallocator;
    if (typeof def === 'string' && def !== '') op[iallocatorSlot] = def;
    else {
      throw new OpPrereqError('No iallocator or node given and no cluster-wide default iallocator found; please specify either ' +
        'an iallocator or a node, or set a cluster-wide default iallocator', ECODE.INVAL);
    }
  }
}

/** The instance's disk types (an empty list for a diskless instance). */
function diskTypes(disks: DiskObject[]): string[] {
  return disks.map((d) => d.dev_type);
}

const allOf = (types: string[], set: string[]) => types.every((t) => set.includes(t));

interface TaskletOptions {
  cleanup: boolean;
  failover: boolean;
  fallback: boolean;
  ignoreConsistency: boolean;
  allowRuntimeChanges: boolean;
  shutdownTimeout: number;
  ignoreIpolicy: boolean;
  ignoreHvversions: boolean;
}

const sleep = (ms: number, signal: AbortSignal) => new Promise<void>((resolve) => {
  const timer = setTimeout(resolve, ms);
  signal.addEventListener('abort', () => {
    clearTimeout(timer);
    resolve();
  }, { once: true });
});

/** TLMigrateInstance: the checks and the moves both LUs share. */
class MigrationTasklet {
  private readonly ctx: LUContext;
  private readonly op: OpInput;
  private readonly o: TaskletOptions;
  inst!: InstanceObject;
  targetUuid = '';
  live = false;
  private sourceUuid = '';
  private tgtFreeMem = 0;
  private currentMem = 0;
  private migrationInfo: unknown = null;

  constructor(ctx: LUContext, op: OpInput, options: TaskletOptions) {
    this.ctx = ctx;
    this.op = op;
    this.o = options;
  }

  get failover(): boolean {
    return this.o.failover;
  }

  private name(uuid: string): string {
    return nodeName(this.ctx, uuid);
  }

  async checkPrereq(inst: InstanceObject): Promise<void> {
    const { ctx, op, o } = this;
    this.inst = inst;
    const data = ctx.config.data;
    if (!o.cleanup && inst.admin_state !== 'up' && !o.failover && o.fallback) {
      logInfo(ctx, 'Instance is marked down or offline, fallback allowed, switching to failover');
      o.failover = true;
    }
    const disks = instanceDisks(data, inst);
    const types = diskTypes(disks);
    const templateError = migrationTemplateError(types, o.failover);
    if (templateError) throw templateError;
    if (!allOf(types, DTS_EXT_MIRROR)) {
      // DRBD (the only internally mirrored template) is not supported by this cluster.
      throw new OpPrereqError(`Instances with disk types ${[...new Set(types)].join(', ')} cannot be ${o.failover ? 'failed over' : 'migrated'} here`, ECODE.STATE);
    }

    checkIAllocatorOrNode(ctx, op, 'iallocator', 'target_node');
    if (op.iallocator) await this.runAllocator(op.iallocator as string);
    else this.targetUuid = op.target_node_uuid as string;
    const target = nodeOf(ctx, this.targetUuid);
    this.checkTargetIpolicy();
    if (this.targetUuid === inst.primary_node) {
      throw new OpPrereqError(`Cannot migrate instance ${inst.name} to its primary (${this.name(inst.primary_node)})`, ECODE.STATE);
    }
    // The target runs the instance (or, for a cleanup, is asked where it runs).
    checkNodeOnline(ctx, target.uuid);
    checkNodeVmCapable(ctx, target.uuid);

    const be = filledBeParams(data, inst);
    if (!o.cleanup && (!o.failover || inst.admin_state === 'up')) {
      this.tgtFreeMem = await checkNodeFreeMemory(ctx, target.uuid, `migrating instance ${inst.name}`, Number(be.minmem),
        inst.hypervisor, clusterHvParamsFor(ctx, inst.hypervisor));
    } else {
      logInfo(ctx, 'Not checking memory on the secondary node as instance will not be started');
    }
    if (!o.cleanup && !o.failover && be.always_failover === true) {
      logInfo(ctx, 'Instance configured to always failover; fallback to failover');
      o.failover = true;
    }
    await this.checkBridges();

    if (!o.cleanup) {
      checkNodeNotDrained(ctx, target.uuid);
      await checkHypervisorParams(ctx, [target.name], inst.hypervisor, filledHvParams(data, inst));
      await this.checkStorageReachable(disks);
      if (!o.failover) {
        const r = await callNode(ctx, inst.primary_node, 'instance_migratable', [instDict(ctx, inst)]);
        if (!r.ok && o.fallback) {
          logInfo(ctx, "Can't migrate, instance offline, fallback to failover");
          o.failover = true;
        } else {
          raiseRpc(r, "Can't migrate, please use failover", true, ECODE.STATE);
        }
      }
    }

    if (!o.failover) {
      if (op.live !== null && op.live !== undefined && op.mode !== null && op.mode !== undefined) {
        throw new OpPrereqError("Only one of the 'live' and 'mode' parameters are accepted", ECODE.INVAL);
      }
      if (op.live !== null && op.live !== undefined) {
        op.mode = op.live ? 'live' : 'non-live';
        // reset, so that a repeated check does not refuse both
        delete op.live;
      } else if (op.mode === null || op.mode === undefined) {
        op.mode = filledHvParams(data, inst).migration_mode ?? 'live';
      }
      this.live = op.mode === 'live';
    } else {
      this.live = false;
    }

    if (!(o.failover || o.cleanup)) {
      const r = await callNode(ctx, inst.primary_node, 'instance_info', [inst.name, inst.hypervisor, clusterHvParamsFor(ctx, inst.hypervisor)]);
      const info = raiseRpc(r, `Error checking instance on node ${this.name(inst.primary_node)}`, true) as Dict | null;
      if (info && typeof info === 'object' && Object.keys(info).length > 0) this.currentMem = Math.trunc(Number(info.memory));
    }
  }

  private async runAllocator(allocator: string): Promise<void> {
    const { ctx, inst } = this;
    const result = await relocateInstance(ctx, allocator, inst.name, [this.name(inst.primary_node)]);
    const first = result[0];
    const node = first === undefined ? undefined : ctx.config.nodeByName(first) ?? ctx.config.node(first);
    if (!node) {
      throw new OpPrereqError(`Can't compute nodes using iallocator '${allocator}': ${first === undefined ? 'no node selected' : `unknown node '${first}'`}`, ECODE.NORES);
    }
    this.targetUuid = node.uuid;
    logInfo(ctx, `Selected nodes for instance ${inst.name} via iallocator ${allocator}: ${result.join(', ')}`);
  }

  /** CheckTargetNodeIPolicy: only a move to another group is checked against that group's policy. */
  private checkTargetIpolicy(): void {
    const { ctx, inst } = this;
    const data = ctx.config.data;
    const target = nodeOf(ctx, this.targetUuid);
    if (nodeOf(ctx, inst.primary_node).group === target.group) return;
    const be = filledBeParams(data, inst);
    const disks = instanceDisks(data, inst);
    const violations = ipolicyViolations(groupIpolicy(data, data.nodegroups[target.group]), {
      memorySize: be.maxmem, cpuCount: be.vcpus, diskCount: disks.length, diskSizes: disks.map((d) => d.size),
      nicCount: inst.nics.length, spindleUse: be.spindle_use,
    }, disks.length === 0 ? 'diskless' : disks[0].dev_type);
    if (violations.length === 0) return;
    const msg = `Instance does not meet target node group's (${target.group}) instance policy: ${violations.join(', ')}`;
    if (this.o.ignoreIpolicy) logWarning(ctx, msg);
    else throw new OpPrereqError(msg, ECODE.INVAL);
  }

  /** CheckInstanceBridgesExist on the target, for the bridged NICs. */
  private async checkBridges(): Promise<void> {
    const { ctx, inst } = this;
    if (!hypervisorNeedsBridges(inst.hypervisor)) return;
    // A bridged NIC on "lo" or on no link has no bridge: kvm gives it qemu's user-mode
    // networking (src/node/hypervisor/kvm/netdev.ts), which every node can.
    const bridges = inst.nics.map((n) => filledNicParams(ctx.config.data, n))
      .filter((p) => p.mode === 'bridged' && !['', 'lo'].includes(String(p.link ?? ''))).map((p) => String(p.link));
    if (bridges.length === 0) return;
    const r = await callNode(ctx, this.targetUuid, 'bridges_exist', [bridges]);
    raiseRpc(r, `Error checking bridges on destination node '${this.name(this.targetUuid)}'`, true, ECODE.ENVIRON);
  }

  /**
   * Every disk must be visible from the target (the same shared directory, the same
   * block device) before anything is stopped or started: blockdev_find there.
   */
  private async checkStorageReachable(disks: DiskObject[]): Promise<void> {
    const { ctx, inst } = this;
    const target = this.name(this.targetUuid);
    for (const [idx, disk] of disks.entries()) {
      const r = await callNode(ctx, this.targetUuid, 'blockdev_find', [disk]);
      const where = `Disk ${idx} (${disk.iv_name}) of instance ${inst.name} is not reachable from node ${target}`;
      if (!r.ok) throw new OpPrereqError(`${where}: ${r.error}`, ECODE.ENVIRON);
      if (r.payload === null || r.payload === undefined) {
        const path = Array.isArray(disk.logical_id) ? String(disk.logical_id[disk.logical_id.length - 1]) : disk.uuid;
        throw new OpPrereqError(`${where}: ${path} does not exist there (is its storage shared with node ${this.name(inst.primary_node)}?)`, ECODE.ENVIRON);
      }
    }
  }

  async exec(): Promise<void> {
    const { ctx } = this;
    this.inst = ctx.config.data.instances[this.inst.uuid] ?? this.inst;
    this.sourceUuid = this.inst.primary_node;
    if (this.o.failover) {
      ctx.feedback(`Failover instance ${this.inst.name}`);
      await this.execFailover();
    } else {
      ctx.feedback(`Migrating instance ${this.inst.name}`);
      if (this.o.cleanup) await this.execCleanup();
      else await this.execMigration();
    }
  }

  /** The address the target is reached at for the transfer (upstream: its secondary IP). */
  private targetIp(): string {
    const node = nodeOf(this.ctx, this.targetUuid);
    return node.secondary_ip || node.primary_ip;
  }

  private async setPrimary(uuid: string): Promise<void> {
    this.inst = await this.ctx.config.update((tx) => {
      const inst = tx.data.instances[this.inst.uuid];
      if (!inst) throw new OpExecError(`Instance ${this.inst.name} disappeared from the configuration`);
      inst.primary_node = uuid;
      tx.modified(inst);
      for (const disk of instanceDisks(tx.data, inst)) {
        // A shared disk is reached from the new primary now (non-DRBD disks list one node).
        if (Array.isArray(disk.nodes) && disk.nodes.length <= 1 && disk.nodes[0] !== uuid) {
          disk.nodes = [uuid];
          tx.modified(disk);
        }
      }
      return inst;
    });
  }

  private disks(): DiskObject[] {
    return instanceDisks(this.ctx.config.data, this.inst);
  }

  /** _CloseInstanceDisks: failures are warnings when the node is offline or consistency is ignored. */
  private async closeDisks(nodeUuid: string): Promise<void> {
    const name = this.name(nodeUuid);
    this.ctx.feedback(`* closing instance disks on node ${name}`);
    const r = await callNode(this.ctx, nodeUuid, 'blockdev_close', [this.inst.name, this.disks()]);
    if (r.ok) return;
    if (r.offline || this.o.ignoreConsistency) logWarning(this.ctx, `Could not close instance disks on node ${name}, proceeding anyway`);
    else throw new OpExecError(`Cannot close instance disks on node ${name}: ${r.error}`);
  }

  /** _OpenInstanceDisks */
  private async openDisks(nodeUuid: string, exclusive: boolean): Promise<void> {
    const name = this.name(nodeUuid);
    this.ctx.feedback(`* opening instance disks on node ${name} ${exclusive ? 'in exclusive mode' : 'in shared mode'}`);
    const r = await callNode(this.ctx, nodeUuid, 'blockdev_open', [this.inst.name, this.disks(), exclusive]);
    raiseRpc(r, `Cannot open instance disks on node ${name}`);
  }

  /** _AbortMigration: finalize both ends with success=false; failures are logged only. */
  private async abortMigration(): Promise<[RpcResult, RpcResult]> {
    const { ctx } = this;
    const dst = await callNode(ctx, this.targetUuid, 'instance_finalize_migration_dst', [instDict(ctx, this.inst), this.migrationInfo, false]);
    if (!dst.ok) ctx.log.error({ node: this.name(this.targetUuid), err: dst.error }, 'Aborting migration failed on target node');
    const src = await callNode(ctx, this.sourceUuid, 'instance_finalize_migration_src', [instDict(ctx, this.inst), false, this.live]);
    if (!src.ok) ctx.log.error({ node: this.name(this.sourceUuid), err: src.error }, 'Aborting migration failed on source node');
    return [dst, src];
  }

  /** _RevertDiskStatus for externally mirrored disks. */
  private async revertDiskStatus(): Promise<void> {
    await this.closeDisks(this.targetUuid);
    await this.openDisks(this.sourceUuid, true);
  }

  /** Abort, revert the disks, and fail with `message`. */
  private async failMigration(message: string): Promise<never> {
    this.ctx.feedback('Migration failed, aborting');
    await this.abortMigration();
    await this.revertDiskStatus();
    throw new OpExecError(`Could not migrate instance ${this.inst.name}: ${message}`);
  }

  private async execMigration(): Promise<void> {
    const { ctx } = this;
    const inst = this.inst;
    const hvspec = [[inst.hypervisor, clusterHvParamsFor(ctx, inst.hypervisor)]];
    const [srcInfo, dstInfo] = await Promise.all([this.sourceUuid, this.targetUuid].map(async (uuid) => {
      const r = await callNode(ctx, uuid, 'node_info', [[], hvspec]);
      const payload = raiseRpc(r, `Unable to retrieve node information from node '${this.name(uuid)}'`) as unknown[];
      const hv = Array.isArray(payload?.[2]) ? (payload[2] as Dict[])[0] : null;
      return hv ?? {};
    }));
    const srcVersion = srcInfo.hv_version;
    const dstVersion = dstInfo.hv_version;
    if (srcVersion !== undefined && dstVersion !== undefined && JSON.stringify(srcVersion) !== JSON.stringify(dstVersion)) {
      const show = (v: unknown) => (Array.isArray(v) ? `(${v.join(', ')})` : String(v));
      ctx.feedback(`* warning: hypervisor version mismatch between source (${show(srcVersion)}) and target (${show(dstVersion)}) node`);
      ctx.feedback(`  migrating from hypervisor version ${show(srcVersion)} to ${show(dstVersion)} is likely unsupported`);
      if (this.o.ignoreHvversions) ctx.feedback('  continuing anyway (told to ignore version mismatch)');
      else throw new OpExecError(`Unsupported migration between hypervisor versions (${show(srcVersion)} to ${show(dstVersion)})`);
    }

    // Externally mirrored disks are not assembled on a secondary: nothing to compare.
    ctx.feedback('* checking disk consistency between source and target');

    if (this.currentMem > this.tgtFreeMem) {
      if (!this.o.allowRuntimeChanges) {
        throw new OpExecError(`Memory ballooning not allowed and not enough free memory to fit instance ${inst.name} on target node ` +
          `${this.name(this.targetUuid)} (have ${this.tgtFreeMem}MB, need ${this.currentMem}MB)`);
      }
      ctx.feedback(`* setting instance memory to ${this.tgtFreeMem}`);
      const r = await callNode(ctx, inst.primary_node, 'instance_balloon_memory', [instDict(ctx, inst), this.tgtFreeMem]);
      raiseRpc(r, 'Cannot modify instance runtime memory');
    }

    const info = await callNode(ctx, this.sourceUuid, 'migration_info', [instDict(ctx, inst)]);
    if (!info.ok) {
      const text = `Failed fetching source migration information from ${this.name(this.sourceUuid)}: ${info.error}`;
      ctx.log.error(text);
      throw new OpExecError(text);
    }
    this.migrationInfo = info.payload;

    await this.closeDisks(this.targetUuid);
    await this.openDisks(this.sourceUuid, false);
    await this.openDisks(this.targetUuid, false);

    ctx.feedback(`* preparing ${this.name(this.targetUuid)} to accept the instance`);
    const accept = await callNode(ctx, this.targetUuid, 'accept_instance', [instDict(ctx, inst), this.migrationInfo, this.targetIp()]);
    if (!accept.ok) {
      ctx.log.error({ err: accept.error }, 'Instance pre-migration failed, trying to revert disk status');
      ctx.feedback('Pre-migration failed, aborting');
      await this.abortMigration();
      await this.revertDiskStatus();
      throw new OpExecError(`Could not pre-migrate instance ${inst.name}: ${accept.error}`);
    }

    ctx.feedback(`* migrating instance to ${this.name(this.targetUuid)}`);
    const migrate = await callNode(ctx, this.sourceUuid, 'instance_migrate', [ctx.config.cluster.cluster_name, instDict(ctx, inst), this.targetIp(), this.live]);
    if (!migrate.ok) {
      ctx.log.error({ err: migrate.error }, 'Instance migration failed, trying to revert disk status');
      await this.failMigration(migrate.error);
    }

    ctx.feedback('* starting memory transfer');
    let lastFeedback = Date.now();
    for (;;) {
      const r = await callNode(ctx, this.sourceUuid, 'instance_get_migration_status', [instDict(ctx, inst)]);
      const status = (r.ok ? r.payload : null) as Dict | null;
      if (!r.ok || MIGRATION_FAILED_STATUSES.includes(String(status?.status))) {
        ctx.log.error({ err: r.ok ? null : r.error }, 'Instance migration failed, trying to revert disk status');
        await this.failMigration(r.ok ? 'hypervisor returned failure' : r.error);
      }
      if (status?.status !== MIGRATION_ACTIVE) {
        ctx.feedback('* memory transfer complete');
        break;
      }
      const line = migrationProgressLine(status);
      if (Date.now() - lastFeedback > MIGRATION_FEEDBACK_INTERVAL_MS && line !== null) {
        ctx.feedback(line);
        lastFeedback = Date.now();
      }
      if (ctx.signal.aborted) await this.failMigration('the job was cancelled');
      await sleep(MIGRATION_POLL_INTERVAL_MS, ctx.signal);
    }

    // Both ends are finalized together; the configuration names the new primary only then,
    // so a failed finalization leaves the old location on record for a --cleanup.
    const src = await callNode(ctx, this.sourceUuid, 'instance_finalize_migration_src', [instDict(ctx, inst), true, this.live]);
    const dst = await callNode(ctx, this.targetUuid, 'instance_finalize_migration_dst', [instDict(ctx, inst), this.migrationInfo, true]);
    const errors: string[] = [];
    if (!src.ok) errors.push(`${this.name(this.sourceUuid)}: ${src.error}`);
    if (!dst.ok) errors.push(`${this.name(this.targetUuid)}: ${dst.error}`);
    if (errors.length > 0) throw new OpExecError(`Could not finalize instance migration: ${errors.join(' ')}`);

    await this.setPrimary(this.targetUuid);
    await this.closeDisks(this.sourceUuid);
    if (this.disks().length > 0) await this.openDisks(this.targetUuid, true);
    await this.unmapSourceDisks();
    ctx.feedback('* done');
  }

  /** rbd and ext disks are unmapped from the old primary after a successful migration. */
  private async unmapSourceDisks(): Promise<void> {
    const unmap = this.disks().filter((d) => d.dev_type === 'rbd' || d.dev_type === 'ext');
    if (unmap.length === 0) return;
    this.ctx.feedback(`* unmapping instance's disks ${unmap.map((d) => d.name ?? 'None').join(', ')} from ${this.name(this.sourceUuid)}`);
    for (const disk of unmap) {
      const r = await callNode(this.ctx, this.sourceUuid, 'blockdev_shutdown', [disk]);
      if (!r.ok) {
        this.ctx.log.error({ disk: disk.iv_name, node: this.name(this.sourceUuid), err: r.error },
          `Migration was successful, but couldn't unmap the block device; you need to unmap the device ${disk.iv_name} manually`);
      }
    }
  }

  /** _FindInstanceLocations: the online nodes that list the instance. */
  private async findInstanceLocations(): Promise<string[]> {
    const { ctx, inst } = this;
    ctx.feedback('* checking where the instance actually runs (if this hangs, the hypervisor might be in a bad state)');
    const nodes = ctx.config.nodes().filter((n) => !n.offline);
    const results = await Promise.all(nodes.map((n) => callNode(ctx, n.uuid, 'instance_list',
      [[inst.hypervisor], ctx.config.cluster.hvparams ?? {}])));
    const found: string[] = [];
    results.forEach((r, i) => {
      const names = raiseRpc(r, `Can't contact node ${nodes[i].name}`) as string[];
      if (Array.isArray(names) && names.includes(inst.name)) found.push(nodes[i].uuid);
    });
    ctx.feedback(`* instance running on: ${found.map((u) => this.name(u)).join(',')}`);
    return found;
  }

  private async execCleanup(): Promise<void> {
    const { ctx } = this;
    let locations = await this.findInstanceLocations();
    let onSource = locations.includes(this.sourceUuid);
    let onTarget = locations.includes(this.targetUuid);
    if (onSource && onTarget) {
      ctx.feedback('Trying to cleanup after failed migration');
      const info = await callNode(ctx, this.sourceUuid, 'migration_info', [instDict(ctx, this.inst)]);
      if (!info.ok) throw new OpExecError(`Failed fetching source migration information from ${this.name(this.sourceUuid)}: ${info.error}`);
      this.migrationInfo = info.payload;
      const [dst, src] = await this.abortMigration();
      if (!dst.ok || !src.ok) {
        throw new OpExecError(`Instance migration cleanup failed: ${[dst.ok ? '' : dst.error, src.ok ? '' : src.error].join(',')}`);
      }
      locations = await this.findInstanceLocations();
      onSource = locations.includes(this.sourceUuid);
      onTarget = locations.includes(this.targetUuid);
    }
    if (onSource && onTarget) {
      throw new OpExecError('Instance seems to be running on two nodes, or the hypervisor is confused; you will have to ensure ' +
        'manually that it runs only on one and restart this operation');
    }
    if (!(onSource || onTarget)) {
      if (locations.length !== 1) {
        throw new OpExecError("Instance does not seem to be running at all; in this case it's safer to repair by running " +
          "'gnt-instance stop' to ensure disk shutdown, and then restarting it");
      }
      this.targetUuid = locations[0];
      ctx.feedback(`* instance running on unexpected node (${this.name(this.targetUuid)}), updating as the new secondary`);
      onTarget = true;
    }
    let demoted: string;
    if (onTarget) {
      ctx.feedback(`* instance running on secondary node (${this.name(this.targetUuid)}), updating config`);
      await this.setPrimary(this.targetUuid);
      demoted = this.sourceUuid;
    } else {
      ctx.feedback(`* instance confirmed to be running on its primary node (${this.name(this.sourceUuid)})`);
      demoted = this.targetUuid;
    }
    await this.closeDisks(demoted);
    if (this.disks().length > 0) await this.openDisks(this.inst.primary_node, true);
    ctx.feedback('* done');
  }

  private async execFailover(): Promise<void> {
    const { ctx } = this;
    const source = nodeOf(ctx, this.sourceUuid);
    const target = this.name(this.targetUuid);
    if (this.inst.disks_active) {
      // Externally mirrored disks are not assembled on a secondary: nothing to compare.
      ctx.feedback('* checking disk consistency between source and target');
    } else {
      ctx.feedback('* not checking disk consistency as instance is not running');
    }
    ctx.feedback('* shutting down instance on source node');
    const r = await callNode(ctx, source.uuid, 'instance_shutdown', [instDict(ctx, this.inst), this.o.shutdownTimeout, this.op.reason]);
    if (!r.ok) {
      if (this.o.ignoreConsistency || source.offline) {
        logWarning(ctx, `Could not shutdown instance ${this.inst.name} on node ${source.name}, proceeding anyway; please make sure ` +
          `node ${source.name} is down; error details: ${r.error}`);
      } else {
        throw new OpExecError(`Could not shutdown instance ${this.inst.name} on node ${source.name}: ${r.error}`);
      }
    }
    // Every template that gets here is externally mirrored: the old primary lets go of the disks.
    await this.closeDisks(source.uuid);
    ctx.feedback("* deactivating the instance's disks on source node");
    if (!(await shutdownInstanceDisks(ctx, this.inst, { ignorePrimary: true }))) throw new OpExecError("Can't shut down the instance's disks");

    await this.setPrimary(this.targetUuid);
    if (this.inst.admin_state !== 'up') return;
    ctx.feedback(`* activating the instance's disks on target node ${target}`);
    const { ok } = await assembleInstanceDisks(ctx, this.inst, { ignoreSecondaries: true });
    this.inst = ctx.config.data.instances[this.inst.uuid] ?? this.inst;
    if (!ok) {
      await shutdownInstanceDisks(ctx, this.inst);
      throw new OpExecError("Can't activate the instance's disks");
    }
    ctx.feedback(`* starting the instance on the target node ${target}`);
    const start = await callNode(ctx, this.targetUuid, 'instance_start', [instDict(ctx, this.inst), false, this.op.reason]);
    if (!start.ok) {
      await shutdownInstanceDisks(ctx, this.inst);
      throw new OpExecError(`Could not start instance ${this.inst.name} on node ${target}: ${start.error}`);
    }
  }
}

/**
 * _ExpandNamesForMigration + _DeclareLocksForMigration: the instance, and for externally
 * mirrored disks the primary and the target node (every node, and the node-allocation
 * lock, when an allocator chooses), their node-res locks alike.
 */
function migrationLocks(ctx: LUContext, op: OpInput, inst: InstanceObject): LockPlan {
  const types = diskTypes(instanceDisks(ctx.config.data, inst));
  const plan: LockPlan = { bglShared: true, levels: { instance: { names: [inst.uuid], shared: false } } };
  let nodes: string[] | null;
  if (allOf(types, DTS_EXT_MIRROR)) {
    if (op.target_node_uuid) nodes = [...new Set([inst.primary_node, op.target_node_uuid as string])];
    else {
      nodes = null;
      plan.levels['node-alloc'] = { names: null, shared: false };
    }
  } else {
    nodes = [inst.primary_node];
  }
  plan.levels.node = { names: nodes, shared: false };
  plan.levels['node-res'] = { names: nodes, shared: false };
  return plan;
}

/** The opcode's target_node resolved (upstream's ExpandNodeUuidAndName in ExpandNames). */
function expandTargetNode(ctx: LUContext, op: OpInput): void {
  if (op.target_node === null || op.target_node === undefined) return;
  const wanted = op.target_node as string;
  const node = ctx.config.nodeByName(wanted) ?? ctx.config.node(wanted) ??
    ctx.config.nodes().find((n) => n.name.split('.')[0] === wanted);
  if (!node) throw new OpPrereqError(`Node '${wanted}' not known`, ECODE.NOENT);
  const expected = op.target_node_uuid as string | null | undefined;
  if (expected && expected !== node.uuid) {
    throw new OpPrereqError(`The nodes UUID '${node.uuid}' does not match the expected UUID '${expected}' for node '${node.name}'. ` +
      'Maybe the node changed since you submitted this job.', ECODE.NOTUNIQUE);
  }
  op.target_node_uuid = node.uuid;
  op.target_node = node.name;
}

/** The locks were taken for the instance's primary node as it was then; it must not have moved. */
function checkPrimaryLocked(op: OpInput, plan: LockPlan | null, inst: InstanceObject): void {
  const names = plan?.levels.node?.names;
  if (names && !names.includes(inst.primary_node)) {
    throw new OpPrereqError(`Instance ${String(op.instance_name)}'s primary node changed since locks were acquired; retry the operation`, ECODE.STATE);
  }
}

function migrationHooksNodes(ctx: LUContext, t: MigrationTasklet): { master: string; source: string; target: string } {
  return { master: ctx.config.masterNode().name, source: nodeName(ctx, t.inst.primary_node), target: nodeName(ctx, t.targetUuid) };
}

/** What a migrate and a failover LU differ in: checks before the tasklet's, and the hooks. */
interface MoveKind {
  extraCheck?(): void;
  hooks(hookInst: InstanceObject, source: string, target: string, master: string): HookSpec;
}

/** An LU that moves an instance to another node through a MigrationTasklet. */
function moveLU(op: OpInput, ctx: LUContext, tasklet: MigrationTasklet, kind: MoveKind): LogicalUnit {
  let plan: LockPlan | null = null;
  let inst: InstanceObject;
  let hookInst: InstanceObject | null = null;
  let hookSource = '';
  return instanceLU(op, ctx, (current) => (plan = migrationLocks(ctx, op, current)), (current) => { inst = current; }, {
    expandNames() {
      expandTargetNode(ctx, op);
    },
    async checkPrereq() {
      checkPrimaryLocked(op, plan, inst);
      kind.extraCheck?.();
      await tasklet.checkPrereq(inst);
    },
    hooks(): HookSpec {
      // The pre hooks see the instance before the move, the post hooks its old primary too.
      hookInst ??= tasklet.inst;
      const { master, source, target } = migrationHooksNodes(ctx, tasklet);
      hookSource ||= source;
      return kind.hooks(ctx.config.data.instances[hookInst.uuid] ?? hookInst, hookSource, target, master);
    },
    async exec() {
      await tasklet.exec();
      return null;
    },
  });
}

/** OP_INSTANCE_MIGRATE */
export function instanceMigrate(op: OpInput, ctx: LUContext): LogicalUnit {
  const tasklet = new MigrationTasklet(ctx, op, {
    cleanup: op.cleanup === true, failover: false, fallback: op.allow_failover === true, ignoreConsistency: false,
    allowRuntimeChanges: op.allow_runtime_changes !== false, shutdownTimeout: 120, ignoreIpolicy: op.ignore_ipolicy === true,
    ignoreHvversions: op.ignore_hvversions === true,
  });
  return moveLU(op, ctx, tasklet, {
    hooks: (inst, source, target, master) => ({
      path: 'instance-migrate',
      type: 'INSTANCE',
      env: {
        ...instanceHookEnv(ctx.config.data, inst),
        MIGRATE_LIVE: tasklet.live,
        MIGRATE_CLEANUP: op.cleanup as boolean,
        OLD_PRIMARY: source,
        NEW_PRIMARY: target,
        ALLOW_RUNTIME_CHANGES: op.allow_runtime_changes as boolean,
        OLD_SECONDARY: '',
        NEW_SECONDARY: '',
      },
      preNodes: [master, source, target],
      postNodes: [master, source, target],
    }),
  });
}

/** OP_INSTANCE_FAILOVER */
export function instanceFailover(op: OpInput, ctx: LUContext): LogicalUnit {
  const tasklet = new MigrationTasklet(ctx, op, {
    cleanup: op.cleanup === true, failover: true, fallback: false, ignoreConsistency: op.ignore_consistency === true,
    allowRuntimeChanges: true, shutdownTimeout: Number(op.shutdown_timeout ?? 120), ignoreIpolicy: op.ignore_ipolicy === true,
    ignoreHvversions: true,
  });
  return moveLU(op, ctx, tasklet, {
    extraCheck() {
      if (op.cleanup === true) {
        // upstream asserts that a failover is never a cleanup
        throw new OpPrereqError('A failover cannot clean up after a failed migration; use migrate --cleanup', ECODE.INVAL);
      }
    },
    hooks: (inst, source, target, master) => ({
      path: 'instance-failover',
      type: 'INSTANCE',
      env: {
        IGNORE_CONSISTENCY: op.ignore_consistency as boolean,
        SHUTDOWN_TIMEOUT: op.shutdown_timeout as number,
        OLD_PRIMARY: source,
        NEW_PRIMARY: target,
        FAILOVER_CLEANUP: op.cleanup as boolean,
        OLD_SECONDARY: '',
        NEW_SECONDARY: '',
        ...instanceHookEnv(ctx.config.data, inst),
      },
      preNodes: [master, target],
      postNodes: [master, target, source],
    }),
  });
}
