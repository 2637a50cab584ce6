// OP_INSTANCE_CREATE (upstream's LUInstanceCreate): the same checks in the same order
// with the same texts, then disks, configuration, wipe, OS installation and start.
// A failure before the instance is in the configuration leaves nothing behind (created
// disks and their directory are removed); after that, as upstream, the instance stays
// (a failed OS script or start leaves it to be inspected, reinstalled or removed).
import crypto from 'node:crypto';
import net from 'node:net';
import { ECODE, OpExecError, OpPrereqError, ResolverError } from '../../core/errors.ts';
import type { OpInput } from '../../core/opcodes.ts';
import { BES_PARAMETER_TYPES, forceDictType, HVS_PARAMETER_TYPES } from '../../core/params.ts';
import { resolveHost } from '../../util/resolve.ts';
import { osBaseName } from '../config/instance-params.ts';
import type { ConfigData, DiskObject, InstanceObject, NodeObject } from '../config/model.ts';
import { buildInstanceHookEnv } from '../hooks.ts';
import { expandNode, logInfo, type HookSpec, type LockPlan, type LogicalUnit, type LUContext } from './base.ts';
import {
  assignMacs, checkNicNetworks, clusterMacs, computeNics, dropPicksOnFailure, INIC_PARAMS_TYPES, normalizeVlan, reserveNicIps, type NewNic,
} from './instance-nics.ts';
import {
  calculateFileStorageDir, checkDiskSizes, checkDiskTemplateEnabled, checkNodesFreeDiskPerVG, computeDisks, computeDiskSizePerVG,
  createDisks, DEFAULT_FILE_DRIVER, DTS_FILEBASED, DTS_LVM, DTS_MAY_ADOPT, DTS_MUST_ADOPT, exclusiveStorage,
  forceDiskParams, generateDisks, removeDisks, undoCreateDisks, validateDeviceNames, waitForSync, wipeDisks,
  type DiskSpec,
} from './instance-storage.ts';
import {
  callNode, checkHvParamsNotGlobal, checkNodeFreeMemory, checkOsParams, hookNic, instDict, logWarning, raiseRpc,
  upgradeBeParams,
} from './instance-utils.ts';
import { ipolicyViolations, groupIpolicy } from './instance-ipolicy.ts';
import {
  applyExportParams, expandImportSource, exportedMac, exportImages, importInstanceDisks, readExportInfo, type ExportInfo,
} from './backup.ts';
import { removeInstanceFromConfig } from './instance-remove.ts';
import { validateTag } from './tags.ts';
import { checkHypervisorParams } from './hv-validate.ts';
import { allocateInstance, requiredNodes } from '../iallocator/index.ts';

type Dict = Record<string, unknown>;

/** netutils.Hostname.GetNormalizedName */
export function normalizeHostname(name: string): string {
  const lower = name.toLowerCase();
  if (!/^[a-z0-9._-]{1,255}$/.test(lower) || lower.includes('..') || lower.startsWith('.')) {
    throw new OpPrereqError(`Invalid hostname '${lower}'`, ECODE.INVAL);
  }
  return lower.replace(/\.+$/, '');
}

/** CheckHostnameSane: the name must resolve, and (as upstream) be a prefix of what it resolves to. */
export async function checkHostnameSane(name: string): Promise<{ name: string; ip: string }> {
  const ip = await resolveHost(name);
  if (ip === null) throw new ResolverError(name, -2, 'Name or service not known');
  return { name, ip };
}

/** CheckInstanceExistence */
export function checkInstanceExistence(data: ConfigData, name: string): void {
  if (Object.values(data.instances).some((i) => i.name === name)) {
    throw new OpPrereqError(`Instance '${name}' is already in the cluster`, ECODE.EXISTS);
  }
}

/** The hypervisors that need a network port (VNC/SPICE consoles), upstream's HTS_REQ_PORT. */
const HTS_REQ_PORT = ['xen-hvm', 'kvm'];
const LAST_DRBD_PORT = 14999;

/** config.AllocatePort: a free port from the pool, else one above the highest used. */
function allocatePort(data: ConfigData): number {
  const c = data.cluster as Dict;
  const pool = (c.tcpudp_port_pool as number[] | undefined) ?? [];
  if (pool.length > 0) return pool.shift() as number;
  const port = Number(c.highest_used_port ?? 0) + 1;
  if (port >= LAST_DRBD_PORT) throw new OpExecError(`The highest used port is greater than ${LAST_DRBD_PORT}. Aborting.`);
  c.highest_used_port = port;
  return port;
}

/** OP_INSTANCE_CREATE */
export function instanceCreate(op: OpInput, ctx: LUContext): LogicalUnit {
  let pnode: NodeObject;
  /** Node locks: the new instance's nodes, the export's node; null = every node (export to be searched for). */
  let nodeLocks: string[] | null = [];
  let exportInfo: ExportInfo | null = null;
  let srcImages: Array<string | null> = [];
  let diskTemplate = '';
  let fileDriver: string | null = null;
  let fileStorageDir: string | null = null;
  let specs: DiskSpec[] = [];
  let nics: NewNic[] = [];
  /** Addresses checkNicNetworks holds for this job until it commits: [network uuid, address]. */
  let nicPicks: Array<[string, string]> = [];
  let beFull: Dict = {};
  let hvFull: Dict = {};
  let osFull: Dict = {};
  let hypervisor = '';
  let checkIp: string | null = null;

  const cluster = () => ctx.config.cluster as ConfigData['cluster'] & Dict;
  const opDisks = () => op.disks as Dict[];
  const opNics = () => op.nics as Dict[];

  function checkDiskArguments(): void {
    validateDeviceNames('disk', opDisks().map((d) => d.name as string | null | undefined));
    diskTemplate = (op.disk_template as string | undefined) ?? cluster().enabled_disk_templates[0];
    op.disk_template = diskTemplate;
    checkDiskTemplateEnabled(ctx.config.cluster, diskTemplate);
    let hasAdopt = false;
    let hasNoAdopt = false;
    for (const disk of opDisks()) {
      if (diskTemplate !== 'ext') forceDiskParams(disk);
      if (Object.hasOwn(disk, 'adopt')) hasAdopt = true;
      else hasNoAdopt = true;
    }
    if (hasAdopt && hasNoAdopt) throw new OpPrereqError('Either all disks are adopted or none is', ECODE.INVAL);
    if (hasAdopt) {
      if (!DTS_MAY_ADOPT.includes(diskTemplate)) {
        throw new OpPrereqError(`Disk adoption is not supported for the '${diskTemplate}' disk template`, ECODE.INVAL);
      }
      // Adopting existing volumes needs lv_list/bdev_sizes on the nodes, which noded does not offer.
      throw new OpPrereqError('Disk adoption is not supported by this cluster yet', ECODE.INVAL);
    } else if (DTS_MUST_ADOPT.includes(diskTemplate)) {
      throw new OpPrereqError(`Disk template ${diskTemplate} requires disk adoption, but no 'adopt' parameter given`, ECODE.INVAL);
    }
  }

  // A failed job gives its NICs' held addresses back (a commit drops them anyway).
  return dropPicksOnFailure({
    checkArguments() {
      if (op.forthcoming && op.commit) throw new OpPrereqError('Forthcoming generation and commiting are mutually exclusive', ECODE.INVAL);
      if (op.forthcoming || op.commit) throw new OpPrereqError('Forthcoming instances are not supported', ECODE.INVAL);
      if (op.no_install && op.start) {
        logInfo(ctx, 'No-installation mode selected, disabling startup');
        op.start = false;
      }
      op.instance_name = normalizeHostname(op.instance_name as string);
      if (op.ip_check && !op.name_check) throw new OpPrereqError('Cannot do IP address check without a name check', ECODE.INVAL);
      if (op.instance_communication) {
        throw new OpPrereqError('Instance communication needs an instance communication network, which this cluster does not manage', ECODE.INVAL);
      }
      for (const nic of opNics()) forceDictType(nic, INIC_PARAMS_TYPES);
      validateDeviceNames('NIC', opNics().map((n) => n.name as string | null | undefined));
      for (const nic of opNics()) if (typeof nic.vlan === 'string' && nic.vlan) nic.vlan = normalizeVlan(nic.vlan);
      checkDiskArguments();
      if (op.file_driver && !['loop', 'blktap', 'blktap2'].includes(op.file_driver as string)) {
        throw new OpPrereqError(`Invalid file driver name '${String(op.file_driver)}'`, ECODE.INVAL);
      }
      if (!op.file_driver && DTS_FILEBASED.includes(diskTemplate)) op.file_driver = DEFAULT_FILE_DRIVER;
      fileDriver = (op.file_driver as string | undefined) ?? null;
      // CheckIAllocatorOrNode
      if (op.pnode && op.iallocator) throw new OpPrereqError('Do not specify both, iallocator and node', ECODE.INVAL);
      if (!op.pnode && !op.iallocator) {
        const def = cluster().default_iallocator as string | undefined;
        if (!def) {
          throw new OpPrereqError('No iallocator or node given and no cluster-wide default iallocator found; please specify either an ' +
            'iallocator or a node, or set a cluster-wide default iallocator', ECODE.INVAL);
        }
        op.iallocator = def;
      }
      if (op.pnode) {
        if (diskTemplate === 'drbd') {
          if (!op.snode) throw new OpPrereqError('The networked disk templates need a mirror node', ECODE.INVAL);
        } else if (op.snode) {
          logWarning(ctx, 'Secondary node will be ignored on non-mirrored disk template');
          delete op.snode;
        }
      }
      if (op.opportunistic_locking && !op.iallocator) {
        throw new OpPrereqError('Opportunistic locking is only available in combination with an instance allocator', ECODE.INVAL);
      }
      if (op.mode === 'import') {
        op.force_variant = true;
        if (op.no_install) logInfo(ctx, 'No-installation mode has no effect during import');
      } else if (op.mode === 'create') {
        if (!op.os_type) throw new OpPrereqError('No guest OS or OS image specified', ECODE.INVAL);
        if (((cluster().blacklisted_os as string[] | undefined) ?? []).includes(op.os_type as string)) {
          throw new OpPrereqError(`Guest OS '${String(op.os_type)}' is not allowed for installation`, ECODE.STATE);
        }
      } else {
        throw new OpPrereqError('Remote import needs the remote import-export daemons, which this cluster does not run', ECODE.INVAL);
      }
    },

    expandNames() {
      checkInstanceExistence(ctx.config.data, op.instance_name as string);
      if (op.iallocator) {
        // The allocator chooses among every node (upstream: locking.ALL_SET); the locks of
        // the nodes it did not choose are released as soon as it has answered.
        nodeLocks = null;
        if (op.mode === 'import') expandImportSource(ctx, op);
        return;
      }
      pnode = expandNode(ctx, (op.pnode_uuid as string | undefined) ?? (op.pnode as string));
      op.pnode_uuid = pnode.uuid;
      op.pnode = pnode.name;
      nodeLocks = [pnode.uuid];
      if (op.snode) {
        const snode = expandNode(ctx, op.snode as string);
        op.snode_uuid = snode.uuid;
        op.snode = snode.name;
        nodeLocks.push(snode.uuid);
      }
      if (op.mode === 'import') {
        const src = expandImportSource(ctx, op);
        nodeLocks = src === null ? null : [...new Set([...nodeLocks, ...src])];
      }
    },

    locks(): LockPlan {
      // The new instance is locked by its name: two creations of one name serialize here.
      return {
        bglShared: true,
        levels: {
          instance: { names: [op.instance_name as string], shared: false },
          node: { names: nodeLocks, shared: false },
          'node-res': { names: nodeLocks === null ? null : [...nodeLocks], shared: false },
        },
      };
    },

    async checkPrereq() {
      if (op.name_check) checkIp = (await checkHostnameSane(op.instance_name as string)).ip;
      const data = ctx.config.data;
      const c = cluster();
      checkInstanceExistence(data, op.instance_name as string);
      fileStorageDir = calculateFileStorageDir(diskTemplate, c, op.instance_name as string, op.file_storage_dir as string | null);
      if (op.mode === 'import') {
        exportInfo = await readExportInfo(ctx, op);
        applyExportParams(op, exportInfo);
      }
      if (!c.volume_group_name && DTS_LVM.includes(diskTemplate)) {
        throw new OpPrereqError('Cluster does not support lvm-based instances', ECODE.STATE);
      }
      if (!op.hypervisor || op.hypervisor === 'auto') op.hypervisor = c.enabled_hypervisors[0];
      hypervisor = op.hypervisor as string;
      if (!c.enabled_hypervisors.includes(hypervisor)) {
        throw new OpPrereqError(`Selected hypervisor (${hypervisor}) not enabled in the cluster (${c.enabled_hypervisors.join(',')})`, ECODE.STATE);
      }
      for (const tag of op.tags as string[]) validateTag(tag);
      const hvparams = op.hvparams as Dict;
      forceDictType(hvparams, HVS_PARAMETER_TYPES);
      const osHvp = ((c.os_hvp as Record<string, Record<string, Dict>> | undefined)?.[op.os_type as string]?.[hypervisor]) ?? {};
      hvFull = { ...(c.hvparams?.[hypervisor] ?? {}), ...osHvp, ...hvparams };
      checkHvParamsNotGlobal(hvparams);
      // ComputeFullBeParams
      const beDefaults = ((c.beparams as Record<string, Dict> | undefined)?.default) ?? {};
      const beparams = op.beparams as Dict;
      for (const [k, v] of Object.entries(beparams)) if (v === 'auto') beparams[k] = beDefaults[k];
      upgradeBeParams(beparams);
      forceDictType(beparams, BES_PARAMETER_TYPES);
      beFull = { ...beDefaults, ...beparams };
      op.osparams_private ??= {};
      op.osparams_secret ??= {};
      const osName = (op.os_type as string | undefined) ?? '';
      const allOsParams = (c.osparams as Record<string, Dict> | undefined) ?? {};
      osFull = {
        ...(allOsParams[osBaseName(osName)] ?? {}), ...(allOsParams[osName] ?? {}), ...(op.osparams as Dict),
        ...(op.osparams_private as Dict), ...(op.osparams_secret as Dict),
      };
      if (op.identify_defaults) revertToDefaults(data, op, hypervisor);
      const usedMacs = clusterMacs(data);
      const nicDefaults = ((c.nicparams as Record<string, Dict> | undefined)?.default) ?? {};
      nics = computeNics(opNics(), nicDefaults, { nameCheck: op.name_check === true, defaultIp: checkIp, usedMacs, data });
      specs = computeDisks(opDisks(), diskTemplate, (c.volume_group_name as string | null | undefined) ?? null);
      if (exportInfo) {
        srcImages = exportImages(exportInfo, specs.length);
        // Imported under its old name, the instance keeps its MACs.
        if (op.instance_name === exportInfo.oldName) {
          nics.forEach((nic, idx) => {
            const mac = exportedMac(exportInfo!, idx);
            if (nic.mac === 'auto' && mac) nic.mac = mac;
          });
        }
      }
      if (op.ip_check && checkIp !== null && await ipInUse(checkIp)) {
        throw new OpPrereqError(`IP ${checkIp} of instance ${String(op.instance_name)} already in use`, ECODE.NOTUNIQUE);
      }
      assignMacs(nics, String(c.mac_prefix ?? 'aa:00:00'), usedMacs);

      if (op.iallocator) {
        await runAllocator();
        const keep = [op.pnode_uuid, op.snode_uuid, op.src_node_uuid].filter((u): u is string => typeof u === 'string');
        ctx.releaseLocks?.('node', keep);
        ctx.releaseLocks?.('node-res', keep);
      }
      pnode = data.nodes[pnode.uuid];
      if (!pnode) throw new OpPrereqError(`Node '${String(op.pnode)}' not known`, ECODE.NOENT);
      if (pnode.offline) throw new OpPrereqError(`Cannot use offline primary node '${pnode.name}'`, ECODE.STATE);
      if (pnode.drained) throw new OpPrereqError(`Cannot use drained primary node '${pnode.name}'`, ECODE.STATE);
      if (!pnode.vm_capable) throw new OpPrereqError(`Cannot use non-vm_capable primary node '${pnode.name}'`, ECODE.STATE);
      // NICs in networks: the group's netparams, addresses from the pools (needs the primary node).
      nicPicks = checkNicNetworks(data, nics, pnode, op.conflicts_check !== false, (m) => logInfo(ctx, m));

      const exclStor = exclusiveStorage(ctx, pnode.uuid);
      if (exclStor && diskTemplate !== 'plain') {
        throw new OpPrereqError(`Disk template ${diskTemplate} not supported with exclusive storage`, ECODE.STATE);
      }
      for (const spec of specs) checkSpindles(spec, exclStor);
      if (DTS_LVM.includes(diskTemplate)) {
        await checkNodesFreeDiskPerVG(ctx, [pnode.uuid], computeDiskSizePerVG(diskTemplate, specs));
      }

      const group = data.nodegroups[pnode.group];
      const ipolicy = groupIpolicy(data, group);
      const violations = ipolicyViolations(ipolicy, {
        memorySize: beFull.maxmem, cpuCount: beFull.vcpus, diskCount: specs.length, diskSizes: specs.map((s) => s.size),
        nicCount: nics.length, spindleUse: beFull.spindle_use,
      }, diskTemplate);
      if (!op.ignore_ipolicy && violations.length > 0) {
        throw new OpPrereqError(`Instance allocation to group ${pnode.group} (${group?.name ?? ''}) violates policy: ${violations.join(', ')}`, ECODE.INVAL);
      }
      checkDiskSizes(specs);
      await checkHypervisorParams(ctx, [pnode.name], hypervisor, hvFull);
      await checkOsParams(ctx, true, [pnode.uuid], osName, osFull, op.force_variant === true);
      const compress = op.compress as string;
      const tools = (c.compression_tools as string[] | undefined) ?? [];
      if (compress !== 'none' && !tools.includes(compress)) {
        throw new OpPrereqError(`Compression tool not allowed, tools allowed are [${tools.join(', ')}]`, ECODE.INVAL);
      }
      if (op.start) {
        await checkNodeFreeMemory(ctx, pnode.uuid, `creating instance ${String(op.instance_name)}`, Number(beFull.maxmem),
          hypervisor, { ...(c.hvparams?.[hypervisor] ?? {}), ...hvparams });
      }
    },

    hooks(): HookSpec {
      const data = ctx.config.data;
      const nodes = [ctx.config.masterNode().name, pnode.name];
      const env = {
        ADD_MODE: op.mode as string,
        ...(op.mode === 'import' ? { SRC_NODE: op.src_node as string, SRC_PATH: op.src_path as string, SRC_IMAGES: pyList(srcImages) } : {}),
        ...buildInstanceHookEnv({
          name: op.instance_name as string,
          primaryNode: pnode.name,
          secondaryNodes: [],
          osType: (op.os_type as string | undefined) ?? null,
          status: op.start,
          minmem: beFull.minmem,
          maxmem: beFull.maxmem,
          vcpus: beFull.vcpus,
          nics: nics.map((n) => hookNic(data, n)),
          diskTemplate,
          disks: specs.map((s) => ({ name: s.name, size: s.size, mode: s.mode })),
          bep: beFull,
          hvp: hvFull,
          hypervisor,
          tags: op.tags as string[],
        }),
      };
      return { path: 'instance-add', type: 'INSTANCE', env, preNodes: nodes, postNodes: nodes };
    },

    async exec() {
      const name = op.instance_name as string;
      const uuid = crypto.randomUUID();
      const disks = generateDisks(ctx, diskTemplate, pnode.uuid, specs, fileStorageDir, fileDriver, 0);
      const iobj = {
        name, uuid, os: (op.os_type as string | undefined) ?? '', primary_node: pnode.uuid,
        nics: nics.map((n) => ({ ...n })), disks: [] as string[], disks_active: false,
        admin_state: 'down', admin_state_source: 'admin',
        beparams: op.beparams as Dict, hvparams: op.hvparams as Dict, hypervisor,
        osparams: op.osparams as Dict, osparams_private: op.osparams_private as Dict,
        tags: [...new Set(op.tags as string[])].sort(),
      } as Omit<InstanceObject, 'serial_no' | 'ctime' | 'mtime'> as InstanceObject;

      ctx.feedback('* creating instance disks...');
      let madeDisks: Array<[string, DiskObject]>;
      try {
        madeDisks = await createDisks(ctx, iobj, disks);
      } catch (err) {
        logWarning(ctx, 'Device creation failed');
        throw err;
      }

      ctx.feedback(`adding instance ${name} to cluster config`);
      try {
        await ctx.config.update((tx) => {
          // Checked again under the configuration's own serialization (a rename may have taken the name).
          checkInstanceExistence(tx.data, name);
          const taken = new Set<string>();
          for (const other of Object.values(tx.data.instances)) for (const n of other.nics) taken.add(n.mac);
          for (const n of iobj.nics) {
            if (taken.has(n.mac)) throw new OpExecError(`MAC address ${n.mac} already in use in cluster`);
          }
          reserveNicIps(tx, iobj.nics);
          if (HTS_REQ_PORT.includes(hypervisor)) {
            iobj.network_port = allocatePort(tx.data);
            tx.modified(tx.data.cluster);
          }
          for (const d of disks) tx.add('disks', d);
          iobj.disks = disks.map((d) => d.uuid);
          tx.add('instances', iobj);
          return iobj;
        });
      } catch (err) {
        await undoCreateDisks(ctx, madeDisks);
        await removeFileStorageDir(ctx, pnode.uuid, fileStorageDir);
        throw err;
      }
      ctx.feedback('adding disks to cluster config');
      let inst = ctx.config.data.instances[uuid];

      let diskAbort = false;
      if (cluster().prealloc_wipe_disks && disks.length > 0) {
        ctx.feedback('* wiping instance disks...');
        try {
          await wipeDisks(ctx, inst, disks.map((d, i) => [i, d, 0] as [number, DiskObject, number]));
        } catch (err) {
          ctx.log.warn({ instance: name, err: String(err) }, 'Wiping disks failed');
          logWarning(ctx, `Wiping instance disks failed (${(err as Error).message})`);
          diskAbort = true;
        }
      }
      await removeDegradedDisks(diskAbort, inst);
      // upstream checks again after imaging the disks from an OS image (not offered here).
      await removeDegradedDisks(false, inst);

      if (inst.os) {
        try {
          await checkOsTrusted(inst);
          await runOsScripts(inst);
        } catch (err) {
          // Upstream keeps the half-made instance (ADMIN_down, disks and all); here an OS
          // that cannot be run, or a failed install or import, leaves nothing behind, so the
          // same add can simply be retried.
          await discard(inst);
          throw err;
        }
      }

      if (op.start) {
        inst = await ctx.config.update((tx) => {
          const i = tx.data.instances[uuid];
          i.admin_state = 'up';
          i.disks_active = true;
          tx.modified(i);
          return i;
        });
        ctx.log.info({ instance: name, node: pnode.name }, 'starting instance');
        ctx.feedback('* starting instance...');
        const r = await callNode(ctx, pnode.uuid, 'instance_start', [instDict(ctx, inst), false, op.reason]);
        raiseRpc(r, 'Could not start instance');
        // The hypervisor's line for the operator (kvm: which accelerator runs the guest).
        if (r.ok && typeof r.payload === 'string') logInfo(ctx, r.payload);
      }
      return [pnode.name];
    },
  }, () => nicPicks, op.dry_run === true);

  /** _RunAllocator: the allocator picks the node(s); the opcode then names them as if given. */
  async function runAllocator(): Promise<void> {
    const allocator = op.iallocator as string;
    const result = await allocateInstance(ctx, allocator, {
      name: op.instance_name as string,
      disk_template: diskTemplate,
      group_name: (op.group_name as string | null | undefined) ?? null,
      tags: op.tags as string[],
      os: (op.os_type as string | null | undefined) ?? '',
      vcpus: Number(beFull.vcpus),
      memory: Number(beFull.maxmem),
      spindle_use: Number(beFull.spindle_use),
      disks: specs.map((spec) => ({ ...spec })),
      nics: nics.map((n) => ({ ...n })),
      hypervisor,
      node_whitelist: null,
    }, op.opportunistic_locking === true);
    pnode = expandNode(ctx, result[0]);
    op.pnode_uuid = pnode.uuid;
    op.pnode = pnode.name;
    logInfo(ctx, `Selected nodes for instance ${String(op.instance_name)} via iallocator ${allocator}: ${result.join(', ')}`);
    if (requiredNodes(diskTemplate) === 2) {
      const snode = expandNode(ctx, result[1]);
      op.snode_uuid = snode.uuid;
      op.snode = snode.name;
    }
  }

  /** _RemoveDegradedDisks: wait for the disks; degraded (or a failed wipe) removes the instance again. */
  async function removeDegradedDisks(abortAlready: boolean, inst: InstanceObject): Promise<void> {
    let abort = abortAlready;
    if (!abort && op.wait_for_sync) abort = !(await waitForSync(ctx, inst));
    if (!abort) return;
    await discard(inst);
    throw new OpExecError('There are some degraded disks for this instance');
  }

  /** Remove a just-created instance again: its disks and their directory, then its configuration. */
  async function discard(inst: InstanceObject): Promise<void> {
    await removeDisks(ctx, inst);
    await removeInstanceFromConfig(ctx, inst);
  }

  /** The OS as the primary's os_diagnose lists it must be there, and trusted (untrusted ones need a helper VM). */
  async function checkOsTrusted(inst: InstanceObject): Promise<void> {
    const diag = await callNode(ctx, inst.primary_node, 'os_diagnose', []);
    const oses = raiseRpc(diag, `Failed to get OS '${inst.os}'`) as unknown[][];
    const entry = (Array.isArray(oses) ? oses : []).find((o) => Array.isArray(o) && o[0] === osBaseName(inst.os));
    if (!entry) throw new OpPrereqError(`OS '${inst.os}' is not available in node '${inst.primary_node}'`);
    if (entry[7] === false) {
      throw new OpExecError(`Cannot run the untrusted OS '${inst.os}': installing it needs a helper VM (install image), which this cluster does not offer`);
    }
  }

  /** RunOsScripts: the OS create script (unless no_install), or the import; nothing without disks. */
  async function runOsScripts(inst: InstanceObject): Promise<void> {
    if (inst.disks.length === 0) return;
    if (op.mode === 'import' && exportInfo) {
      await importInstanceDisks(ctx, inst, exportInfo, srcImages, (op.debug_level as number | undefined) ?? 0);
      return;
    }
    if (op.no_install) return;
    ctx.feedback('* running the instance OS create scripts...');
    const r = await callNode(ctx, inst.primary_node, 'instance_os_add', [
      { ...instDict(ctx, inst), osparams_secret: op.osparams_secret ?? {} }, false, op.debug_level ?? 0]);
    raiseRpc(r, `Could not add os for instance ${inst.name} on node ${pnode.name}`);
  }
}

async function removeFileStorageDir(ctx: LUContext, nodeUuid: string, dir: string | null): Promise<void> {
  if (dir === null) return;
  await callNode(ctx, nodeUuid, 'file_storage_dir_remove', [dir]);
}

/** CheckSpindlesExclusiveStorage (spindles only count with exclusive storage). */
function checkSpindles(spec: DiskSpec, exclStor: boolean): void {
  if (!exclStor && spec.spindles !== undefined) {
    throw new OpPrereqError('Spindles in instance disks cannot be specified when exclusive storage is not active', ECODE.INVAL);
  }
  if (exclStor && spec.spindles === undefined) {
    throw new OpPrereqError('You must specify spindles in instance disks when exclusive storage is active', ECODE.INVAL);
  }
}

/** _RevertToDefaults: parameters equal to the cluster's defaults are not stored on the instance. */
function revertToDefaults(data: ConfigData, op: OpInput, hypervisor: string): void {
  const c = data.cluster as ConfigData['cluster'] & Dict;
  const prune = (params: Dict, defaults: Dict) => {
    for (const k of Object.keys(params)) if (Object.hasOwn(defaults, k) && defaults[k] === params[k]) delete params[k];
  };
  const osHvp = ((c.os_hvp as Record<string, Record<string, Dict>> | undefined)?.[op.os_type as string]?.[hypervisor]) ?? {};
  prune(op.hvparams as Dict, { ...(c.hvparams?.[hypervisor] ?? {}), ...osHvp });
  prune(op.beparams as Dict, ((c.beparams as Record<string, Dict> | undefined)?.default) ?? {});
  const nicDefaults = ((c.nicparams as Record<string, Dict> | undefined)?.default) ?? {};
  for (const nic of op.nics as Dict[]) {
    for (const k of ['mode', 'link', 'vlan']) if (Object.hasOwn(nic, k) && nic[k] === nicDefaults[k]) delete nic[k];
  }
  const osDefaults = ((c.osparams as Record<string, Dict> | undefined)?.[osBaseName(String(op.os_type ?? ''))]) ?? {};
  prune(op.osparams as Dict, osDefaults);
  prune((op.osparams_private as Dict | undefined) ?? {}, osDefaults);
}

/** Python's repr of the export images list (SRC_IMAGES): paths, False where a disk has none. */
function pyList(images: Array<string | null>): string {
  return `[${images.map((i) => (i === null ? 'False' : `'${i}'`)).join(', ')}]`;
}

/** netutils.TcpPing on noded's port: whether something answers at the address. */
function ipInUse(ip: string): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: ip, port: 1811, timeout: 1000 });
    const done = (v: boolean) => {
      sock.destroy();
      resolve(v);
    };
    sock.on('connect', () => done(true));
    sock.on('timeout', () => done(false));
    sock.on('error', (err: NodeJS.ErrnoException) => done(err.code === 'ECONNREFUSED'));
  });
}
