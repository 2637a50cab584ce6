// `plain` disks: LVM logical volumes, logical_id [vg, lv], driven through lvm2's command
// line tools with upstream's exact invocations and parsing (storage.bdev.LogicalVolume),
// so that the recorded fixtures of one are valid for the other. Also the volume-group
// and physical-volume figures node_info reports for `lvm-vg` / `lvm-pv` storage units.
import { BlockDeviceError } from './errors.ts';
import { failed, failReason, output, type StorageRunner } from './commands.ts';
import { idPair, LDS_FAULTY, LDS_OKAY, pyFloat, type BlockDevice, type BlockDevStatus, type DiskBackend, type DiskSpec, type StorageEnv } from './device.ts';
import { pyRepr } from '../../core/pyrepr.ts';

const SEP = '|';
const VALID_NAME = /^[a-zA-Z0-9+_.-]*$/;
const INVALID_NAMES = new Set(['.', '..', 'snapshot', 'pvmove']);
const INVALID_SUBSTRINGS = ['_mlog', '_mimage'];
/** Exclusive storage: room left on each PV for partitioning (constants.PART_MARGIN, PART_RESERVED). */
const PART_MARGIN = 0.01;
const PART_RESERVED = 0.02;
const LV_LINE_FIELDS = 'vg_name,lv_name,lv_attr,lv_kernel_major,lv_kernel_minor,vg_extent_size,stripes,devices';
const PV_DEVICE = /^([^ ()]+)\([0-9]+\)$/;

/** VG and LV names as lvm(8) allows them (upstream enforces both rule sets on both). */
export function validateLvmName(name: string): void {
  if (!VALID_NAME.test(name) || INVALID_NAMES.has(name) || INVALID_SUBSTRINGS.some((s) => name.includes(s))) {
    throw new BlockDeviceError(`Invalid LVM name '${name}'`);
  }
}

/** `pvs`/`vgs`/`lvs` in upstream's machine-readable form, one list of fields per line. */
async function volumeInfo(runner: StorageRunner, tool: 'pvs' | 'vgs' | 'lvs', fields: string[]): Promise<string[][]> {
  const r = await runner([tool, '--noheadings', '--nosuffix', '--units=m', '--unbuffered', `--separator=${SEP}`, `-o${fields.join(',')}`]);
  if (failed(r)) throw new BlockDeviceError(`Can't get the volume information: ${failReason(r)} - ${output(r)}`);
  return r.stdout.split('\n').filter((l) => l !== '').map((line) => {
    const parts = line.trim().split(SEP);
    if (parts.length !== fields.length) throw new BlockDeviceError(`Can't parse ${tool} output: line '${line}'`);
    return parts;
  });
}

export interface PvInfo {
  name: string;
  vgName: string;
  /** MiB. */
  size: number;
  free: number;
  attributes: string;
}

/** Allocatable PVs of the given VGs (all VGs when empty); null when pvs cannot tell. */
export async function pvInfo(runner: StorageRunner, vgNames: string[], filterAllocatable = true): Promise<PvInfo[] | null> {
  let rows: string[][];
  try {
    rows = await volumeInfo(runner, 'pvs', ['pv_name', 'vg_name', 'pv_free', 'pv_attr', 'pv_size', 'pv_name']);
  } catch {
    return null;
  }
  const result: PvInfo[] = [];
  for (const [name, vgName, free, attributes, size] of rows) {
    if (filterAllocatable && attributes[0] !== 'a') continue;
    if (vgNames.length > 0 && !vgNames.includes(vgName)) continue;
    if (result.length > 0 && result[result.length - 1].name === name) continue;
    result.push({ name, vgName, size: Number.parseFloat(size), free: Number.parseFloat(free), attributes });
  }
  return result;
}

const isEmptyPv = (pv: PvInfo) => pv.free >= pv.size;

/** The standard PV size under exclusive storage: the smallest PV minus the margins. */
function stdPvSize(pvs: PvInfo[]): number {
  return Math.floor(Math.min(...pvs.map((p) => p.size)) / (1 + PART_MARGIN + PART_RESERVED));
}

/** [standard PV size, empty PVs, all PVs] of a VG. */
async function rawFreePvInfo(runner: StorageRunner, vg: string): Promise<[number, number, number]> {
  const pvs = await pvInfo(runner, [vg]);
  if (!pvs || pvs.length === 0) return [0, 0, 0];
  return [stdPvSize(pvs), pvs.filter(isEmptyPv).length, pvs.length];
}

/** [free spindles, total spindles] of a VG (exclusive storage). */
export async function vgSpindles(runner: StorageRunner, vg: string): Promise<[number, number]> {
  const [, free, total] = await rawFreePvInfo(runner, vg);
  return [free, total];
}

/** Upstream's constant: the smallest volume group gnt-cluster accepts (MiB). */
const MIN_VG_SIZE = 20480;
/** utils.CheckVolumeGroupSize: why `vg` is not usable in a node's vg_list answer, or null. */
export function volumeGroupProblem(vgs: Record<string, number>, vg: string, minSize = MIN_VG_SIZE): string | null {
  const size = vgs[vg];
  if (size === undefined) return `volume group '${vg}' missing`;
  if (size < minSize) return `volume group '${vg}' too small (${minSize}MiB required, ${size}MiB found)`;
  return null;
}

export interface VgInfo {
  name: string;
  /** MiB. */
  free: number;
  size: number;
}

/** Writable VGs among `vgNames` (all when empty); null when vgs cannot tell. */
export async function vgInfo(runner: StorageRunner, vgNames: string[], exclusiveStorage: boolean): Promise<VgInfo[] | null> {
  let rows: string[][];
  try {
    rows = await volumeInfo(runner, 'vgs', ['vg_name', 'vg_free', 'vg_attr', 'vg_size']);
  } catch {
    return null;
  }
  const result: VgInfo[] = [];
  for (const [name, free, attr, size] of rows) {
    if (attr[0] === 'r') continue;
    if (vgNames.length > 0 && !vgNames.includes(name)) continue;
    let vgFree = Number.parseFloat(free);
    if (exclusiveStorage) {
      const [pvSize, freePvs] = await rawFreePvInfo(runner, name);
      vgFree = pvSize * freePvs;
    }
    result.push({ name, free: vgFree, size: Number.parseFloat(size) });
  }
  return result;
}

interface LvInfo {
  attr: string;
  major: number;
  minor: number;
  /** KiB. */
  peSize: number;
  stripes: number;
  pvNames: string[];
}

function parseLvLine(line: string): [string, LvInfo] {
  const elems = line.trim().split(SEP);
  // Thin volumes have no devices: the last (empty) field may look like a trailing separator.
  if (elems.length === 9 && elems[8] === '') elems.pop();
  if (elems.length !== 8) throw new BlockDeviceError(`Can't parse LVS output, len(${pyRepr(elems)}) != 8`);
  const [vg, lv, attr, major, minor, peSize, stripes, pvs] = elems;
  if (attr.length < 6) throw new BlockDeviceError(`lvs lv_attr is not at least 6 characters (${attr})`);
  const int = (v: string, what: string) => {
    const n = Number.parseInt(v, 10);
    if (!/^\s*-?\d+\s*$/.test(v) || !Number.isFinite(n)) throw new BlockDeviceError(`${what}: invalid literal '${v}'`);
    return n;
  };
  const pvNames = pvs === '' ? [] : pvs.split(',').map((pv) => {
    const m = PV_DEVICE.exec(pv);
    if (!m) throw new BlockDeviceError(`Can't parse this device list: ${pvs}`);
    return m[1];
  });
  const pe = Number.parseFloat(peSize);
  if (!Number.isFinite(pe)) throw new BlockDeviceError(`Can't parse vg extent size: ${peSize}`);
  return [`/dev/${vg}/${lv}`, {
    attr,
    major: int(major, 'lvs major/minor cannot be parsed'),
    minor: int(minor, 'lvs major/minor cannot be parsed'),
    peSize: Math.trunc(pe),
    stripes: int(stripes, "Can't parse the number of stripes"),
    pvNames,
  }];
}

/** Every LV on the node by device path (upstream's GetLvGlobalInfo); empty if lvs fails. */
async function lvGlobalInfo(runner: StorageRunner): Promise<Map<string, LvInfo>> {
  const r = await runner(['lvs', '--noheadings', `--separator=${SEP}`, '--units=k', '--nosuffix', `-o${LV_LINE_FIELDS}`]);
  if (failed(r)) return new Map();
  return new Map(r.stdout.split('\n').filter((l) => l.trim() !== '').map(parseLvLine));
}

/** Upstream's _CheckResult. */
function check(argv: string[], r: Awaited<ReturnType<StorageRunner>>): void {
  if (failed(r)) throw new BlockDeviceError(`Command: ${argv.join(' ')} error: ${failReason(r)} - ${output(r)}`);
}

class LogicalVolume implements BlockDevice {
  private readonly env: StorageEnv;
  private readonly vg: string;
  private lv: string;
  private info: LvInfo | null = null;

  constructor(env: StorageEnv, vg: string, lv: string) {
    this.env = env;
    this.vg = vg;
    this.lv = lv;
  }

  get devPath(): string {
    return `/dev/${this.vg}/${this.lv}`;
  }

  get localPath(): string {
    return this.devPath;
  }

  get uniqueId(): unknown[] {
    return [this.vg, this.lv];
  }

  get attached(): boolean {
    return this.info !== null;
  }

  async attach(): Promise<boolean> {
    this.info = (await lvGlobalInfo(this.env.runner)).get(this.devPath) ?? null;
    return this.info !== null;
  }

  private async run(argv: string[]) {
    return this.env.runner(argv);
  }

  async assemble(): Promise<void> {
    // Always activate: a VG may come up inactive after a boot or a disk problem.
    const r = await this.run(['lvchange', '-ay', this.devPath]);
    if (failed(r)) throw new BlockDeviceError(`Can't activate lv ${this.devPath}: ${output(r)}`);
  }

  async shutdown(): Promise<void> {
    // LVs are not deactivated (upstream: a no-op).
  }

  async remove(): Promise<void> {
    if (!this.info?.minor && !(await this.attach())) return; // already gone
    const r = await this.run(['lvremove', '-f', `${this.vg}/${this.lv}`]);
    if (failed(r)) throw new BlockDeviceError(`Can't lvremove: ${failReason(r)} - ${output(r)}`);
  }

  async rename(newId: unknown[]): Promise<void> {
    const [newVg, newName] = idPair({ dev_type: 'plain', logical_id: newId });
    if (newVg !== this.vg) {
      throw new BlockDeviceError(`Can't move a logical volume across volume groups (from ${this.vg} to to ${newVg})`);
    }
    validateLvmName(newName);
    const r = await this.run(['lvrename', newVg, this.lv, newName]);
    if (failed(r)) throw new BlockDeviceError(`Failed to rename the logical volume: ${output(r)}`);
    this.lv = newName;
  }

  async setInfo(text: string): Promise<void> {
    const tagsArgv = ['lvs', '-o', 'tags', '--noheadings', '--nosuffix', this.devPath];
    const tags = await this.run(tagsArgv);
    check(tagsArgv, tags);
    const old = tags.stdout.trim();
    if (old) {
      for (const tag of old.split(',')) {
        const argv = ['lvchange', '--deltag', tag.trim(), this.devPath];
        check(argv, await this.run(argv));
      }
    }
    // LVM tags: [A-Za-z0-9_+.-], not starting with '-', at most 128 characters.
    const tag = text.replace(/^[^A-Za-z0-9_+.]/, '_').replace(/[^-A-Za-z0-9_+.]/g, '_').slice(0, 128);
    const argv = ['lvchange', '--addtag', tag, this.devPath];
    check(argv, await this.run(argv));
  }

  async grow(amountMib: number, dryrun: boolean, backingstore: boolean, exclusiveStorage: boolean): Promise<void> {
    if (!backingstore) return;
    if (!this.info && !(await this.attach())) throw new BlockDeviceError("Can't attach to LV during Grow()");
    const info = this.info!;
    // Round up to whole stripes of extents (pe_size is in KiB).
    const fullStripe = info.peSize * info.stripes;
    let amount = amountMib * 1024;
    const rest = amount % fullStripe;
    if (rest !== 0) amount += fullStripe - rest;
    const cmd = ['lvextend', '-L', `+${amount}k`];
    if (dryrun) cmd.push('--test');
    let pvList: string[] = [];
    if (exclusiveStorage) {
      const pvs = await pvInfo(this.env.runner, [this.vg]);
      if (!pvs || pvs.length === 0) throw new BlockDeviceError(`Cannot get information about PVs for ${this.devPath}`);
      const std = stdPvSize(pvs);
      const free = pvs.filter((p) => info.pvNames.includes(p.name)).reduce((s, p) => s + p.free - (p.size - std), 0);
      if (amount > free * 1024) {
        throw new BlockDeviceError(`Not enough free space to grow ${this.devPath}: ${Math.floor(amount / 1024)} MiB required, ${Math.floor(free)} available`);
      }
      // Growing never adds spindles: stay on the PVs the LV already uses.
      pvList = [...info.pvNames];
    }
    // The best policies may find no room where the worse ones do ('cling' needs a recent LVM).
    let last = '';
    for (const policy of ['contiguous', 'cling', 'normal']) {
      const r = await this.run([...cmd, '--alloc', policy, this.devPath, ...pvList]);
      if (!failed(r)) return;
      last = output(r);
    }
    throw new BlockDeviceError(`Can't grow LV ${this.devPath}: ${last}`);
  }

  async dimensions(): Promise<[number, number | null]> {
    const r = await this.run(['blockdev', '--getsize64', this.devPath]);
    if (failed(r)) throw new BlockDeviceError(`blockdev failed (${failReason(r)}): ${output(r)}`);
    const size = Number.parseInt(r.stdout.trim(), 10);
    if (!/^\d+$/.test(r.stdout.trim())) throw new BlockDeviceError(`Failed to parse blockdev output: ${pyRepr(r.stdout.trim())}`);
    return [size, this.info ? this.info.pvNames.length : null];
  }

  status(): BlockDevStatus {
    // A "virtual" LV (attr v...) has lost its backing storage (vgreduce --removemissing).
    const degraded = this.info === null || this.info.attr[0] === 'v';
    return {
      dev_path: this.devPath,
      major: this.info?.major ?? null,
      minor: this.info?.minor ?? null,
      sync_percent: null,
      estimated_time: null,
      is_degraded: degraded,
      ldisk_status: degraded ? LDS_FAULTY : LDS_OKAY,
    };
  }
}

function names(disk: DiskSpec): [string, string] {
  const [vg, lv] = idPair(disk);
  validateLvmName(vg);
  validateLvmName(lv);
  return [vg, lv];
}

async function createLv(env: StorageEnv, disk: DiskSpec, size: number, exclusiveStorage: boolean): Promise<BlockDevice> {
  const [vg, lv] = names(disk);
  const pvs = await pvInfo(env.runner, [vg]);
  if (!pvs || pvs.length === 0) throw new BlockDeviceError(exclusiveStorage ? 'No (empty) PVs found' : `Can't compute PV info for vg ${vg}`);
  pvs.sort((a, b) => b.free - a.free);
  let pvList = pvs.map((p) => p.name);
  if (pvList.some((p) => p.includes(':'))) {
    throw new BlockDeviceError("Some of your PVs have the invalid character ':' in their name, this is not supported - please filter them out in lvm.conf using either 'filter' or 'preferred_names'");
  }
  const desiredStripes = Number(disk.params?.stripes ?? 1) || 1;
  let stripes = Math.min(pvList.length, desiredStripes);
  if (exclusiveStorage) {
    const spindles = disk.spindles;
    if (spindles === null || spindles === undefined) {
      throw new BlockDeviceError('Unspecified number of spindles: this is requiredwhen exclusive storage is enabled, try running gnt-cluster repair-disk-sizes');
    }
    const required = Math.ceil(size / stdPvSize(pvs));
    if (spindles < required) {
      throw new BlockDeviceError(`Requested number of spindles (${spindles}) is not enough for a disk of ${size} MB (at least ${required} spindles needed)`);
    }
    pvList = pvs.filter(isEmptyPv).slice(0, spindles).map((p) => p.name);
    if (pvList.length < spindles) {
      throw new BlockDeviceError(`Not enough empty PVs (spindles) to create a disk of ${size} MB: ${pvList.length} available, ${spindles} needed`);
    }
    stripes = pvList.length;
  } else {
    const free = pvs.reduce((s, p) => s + p.free, 0);
    if (free < size) throw new BlockDeviceError(`Not enough free space: required ${size}, available ${pyFloat(free)}`);
  }
  // Badly spread free space may not allow the full stripe count: try fewer, down to one.
  const cmd = ['lvcreate', `-L${size}m`, `-n${lv}`];
  let result: Awaited<ReturnType<StorageRunner>> | undefined;
  for (let s = stripes; s > 0; s--) {
    result = await env.runner([...cmd, `-i${s}`, vg, ...pvList]);
    if (!failed(result)) break;
  }
  if (!result || failed(result)) throw new BlockDeviceError(`LV create failed (${result ? failReason(result) : 'no PVs'}): ${result ? output(result) : ''}`);
  const device = new LogicalVolume(env, vg, lv);
  await device.attach();
  return device;
}

export const LVM_BACKEND: DiskBackend = {
  create: createLv,
  async open(env, disk) {
    const [vg, lv] = names(disk);
    const device = new LogicalVolume(env, vg, lv);
    await device.attach();
    return device;
  },
};
