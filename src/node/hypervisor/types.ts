// The hypervisor interface: what noded's instance procedures need from a hypervisor
// (upstream's hv_base.BaseHypervisor, reduced to what is used). `fake` implements it now;
// a `kvm` backend registers itself in ./index.ts the same way.
import type { DiskSpec } from '../storage/index.ts';

/** "running", or "shutdown": the guest shut itself down (upstream's user shutdown, USER_down). */
export type HvState = 'running' | 'shutdown';

/** One instance as the hypervisor sees it (upstream's (name, id, memory, vcpus, state, times)). */
export interface HvInstanceInfo {
  name: string;
  /** MiB. */
  memory: number;
  vcpus: number;
  state: HvState;
  /** CPU time used, seconds. */
  time: number;
}

/** The parts of the instance dict a hypervisor reads (instanceRpcDict on the master). */
export interface HvInstance {
  name: string;
  uuid?: string;
  hypervisor: string;
  hvparams: Record<string, unknown>;
  beparams: Record<string, unknown>;
}

/** A disk ready for the instance: the device on this node and its link for the hypervisor. */
export interface HvBlockDevice {
  disk: DiskSpec;
  /** The device (or file) on this machine. */
  localPath: string;
  /** var/run/ganeti/instance-disks/<instance>:<idx> on this machine. */
  linkName: string;
  /** Userspace access URI (rbd, gluster); null for kernel-space devices. */
  uri: string | null;
}

/** hv_info of node_info, MiB and CPU counts (upstream's GetNodeInfo keys). */
export interface HvNodeInfo {
  memory_total: number;
  memory_free: number;
  memory_dom0: number;
  cpu_total: number;
  cpu_dom0: number;
  cpu_nodes: number;
  cpu_sockets: number;
}

/** Upstream's objects.InstanceConsole (absent keys are left out on the wire). */
export interface InstanceConsole {
  instance: string;
  kind: 'msg' | 'ssh' | 'vnc' | 'spice';
  message?: string;
  host?: string;
  port?: number;
  user?: string;
  command?: string[];
  display?: number;
}

export interface StopOptions {
  /** Destroy rather than ask the guest to shut down. */
  force: boolean;
  /** A second (or later) soft attempt. */
  retry: boolean;
  /** Seconds the guest gets for a soft shutdown. */
  timeout?: number;
}

/** Upstream's objects.MigrationStatus, as instance_get_migration_status answers it. */
export interface MigrationStatus {
  /** 'active' | 'completed' | 'failed' | 'cancelled' (upstream's HV_MIGRATION_*; also 'setup'). */
  status: string;
  /** Bytes sent so far and in all (absent when the hypervisor does not say). */
  transferred_ram?: number;
  total_ram?: number;
}

export interface Hypervisor {
  readonly name: string;
  /** Names of the instances that exist on this node (running or shut down by their guest). */
  listInstances(hvparams?: Record<string, unknown>): Promise<string[]>;
  instanceInfo(name: string, hvparams?: Record<string, unknown>): Promise<HvInstanceInfo | null>;
  allInstancesInfo(hvparams?: Record<string, unknown>): Promise<HvInstanceInfo[]>;
  /** Returns a line for the operator, if any (kvm: which accelerator runs the guest). */
  start(inst: HvInstance, blockDevices: HvBlockDevice[], startupPaused: boolean): Promise<string | void>;
  stop(inst: HvInstance, opts: StopOptions): Promise<void>;
  /** Whatever must go after an instance stopped (sockets, pid files); best effort. */
  cleanup(name: string): Promise<void>;
  /** A soft reboot (inside the guest). */
  reboot(inst: HvInstance): Promise<void>;
  balloon(inst: HvInstance, memoryMib: number): Promise<void>;
  nodeInfo(hvparams?: Record<string, unknown>): Promise<HvNodeInfo>;
  console(inst: HvInstance, node: unknown, group: unknown, hvparams: Record<string, unknown>, beparams: Record<string, unknown>): InstanceConsole;
  /** A problem description, or null when the hypervisor is usable. */
  verify(hvparams?: Record<string, unknown>): Promise<string | null>;
  /** Hard-reboot the node now (node_powercycle, after its delay). */
  powercycle(hvparams?: Record<string, unknown>): Promise<void>;
  /**
   * Whether this node's hypervisor can run with `hvparams` (upstream's ValidateParameters,
   * the node-side half of hypervisor_validate_params): a message naming the parameter and
   * why, or null. kvm checks the values against the installed qemu here.
   */
  validateParameters(hvparams: Record<string, unknown>): Promise<string | null>;

  // Live migration (upstream's hv_base migration calls, in the order the master makes them):
  // migrationInfo on the source → acceptInstance on the target → migrateInstance on the
  // source → getMigrationStatus on the source until it is no longer active →
  // finalizeMigrationDst on the target and finalizeMigrationSource on the source.
  /** What the target needs to know from the source (kvm: the runtime command line), opaque to the master. */
  migrationInfo(inst: HvInstance): Promise<string>;
  /** Prepare to receive `inst` on this node, listening on `target` (this node's address). */
  acceptInstance(inst: HvInstance, blockDevices: HvBlockDevice[], info: string, target: string): Promise<void>;
  /** Send the running `inst` to the node at address `target`; returns once the transfer started. */
  migrateInstance(clusterName: string, inst: HvInstance, target: string, live: boolean): Promise<void>;
  getMigrationStatus(inst: HvInstance): Promise<MigrationStatus>;
  /** On the target: keep the instance (success) or kill the half-received one. */
  finalizeMigrationDst(inst: HvInstance, info: string, success: boolean): Promise<void>;
  /** On the source: clean up after the instance left (success) or resume it (failure). */
  finalizeMigrationSource(inst: HvInstance, success: boolean, live: boolean): Promise<void>;
}
