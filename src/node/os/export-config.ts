// An export's config.ini as upstream's backend.FinalizeExport writes it: sections
// [export], [instance], [hypervisor], [backend], [os], [os_private], in Python
// ConfigParser's format ("key = value" lines, a blank line after each section). The
// master reads it back for imports (src/master/cmdlib/backup.ts).
import { pyStr } from '../../core/pyrepr.ts';

type Dict = Record<string, unknown>;

/** constants.EXPORT_VERSION: what config.ini's [export] version says and imports require. */
export const EXPORT_VERSION = 0;
export const EXPORT_CONF_FILE = 'config.ini';

/** Cluster-wide hypervisor parameters, never stored per instance (constants.HVC_GLOBALS). */
const HVC_GLOBALS = new Set(['migration_bandwidth', 'migration_mode', 'migration_port', 'xen_cmd']);
/** constants.NICS_PARAMETER_TYPES, in the order Ganeti's generated constants list them. */
const NIC_PARAMETERS = ['link', 'mode', 'vlan'];

function dict(v: unknown): Dict {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Dict) : {};
}

/** Python's "%d" of a JSON number. */
function pyInt(v: unknown): string {
  return String(Math.trunc(Number(v)));
}

/** utils.GetDiskTemplate: the disks' common type, "diskless" without disks, "mixed" otherwise. */
export function diskTemplateOf(disks: Dict[]): string {
  const types = [...new Set(disks.map((d) => String(d.dev_type)))];
  if (types.length === 0) return 'diskless';
  return types.length > 1 ? 'mixed' : types[0];
}

/** ConfigParser.write: "[section]", "key = value" (continuation lines indented), a blank line. */
export function formatIni(sections: Array<[string, Array<[string, string]>]>): string {
  let out = '';
  for (const [name, items] of sections) {
    out += `[${name}]\n`;
    for (const [key, value] of items) out += `${key.toLowerCase()} = ${value.replace(/\n/g, '\n\t')}\n`;
    out += '\n';
  }
  return out;
}

/**
 * The config.ini of an export of `inst` (the instance dict noded receives, parameters
 * filled) whose disk images are `disks` (null for a disk that was not exported). `source`
 * is the instance's primary node as the dict names it.
 */
export function exportConfigText(inst: Dict, disks: Array<Dict | null>, timestamp: number): string {
  const be = dict(inst.beparams);
  const exported = disks.filter((d): d is Dict => d !== null);

  const exp: Array<[string, string]> = [
    ['version', String(EXPORT_VERSION)],
    ['timestamp', pyInt(timestamp)],
    ['source', pyStr(inst.primary_node)],
    ['os', pyStr(inst.os)],
    ['compression', 'none'],
  ];

  const ins: Array<[string, string]> = [
    ['name', pyStr(inst.name)],
    ['maxmem', pyInt(be.maxmem)],
    ['minmem', pyInt(be.minmem)],
    // "memory" is deprecated, but older Ganetis read it.
    ['memory', pyInt(be.maxmem)],
    ['vcpus', pyInt(be.vcpus)],
    ['disk_template', diskTemplateOf(exported)],
    ['hypervisor', pyStr(inst.hypervisor)],
    ['tags', (Array.isArray(inst.tags) ? inst.tags : []).map(String).join(' ')],
  ];
  const nics = Array.isArray(inst.nics) ? inst.nics.map(dict) : [];
  nics.forEach((nic, i) => {
    ins.push([`nic${i}_mac`, pyStr(nic.mac ?? null)]);
    ins.push([`nic${i}_ip`, pyStr(nic.ip ?? null)]);
    ins.push([`nic${i}_network`, pyStr(nic.network ?? null)]);
    ins.push([`nic${i}_name`, pyStr(nic.name ?? null)]);
    const nicparams = dict(nic.nicparams);
    for (const param of NIC_PARAMETERS) ins.push([`nic${i}_${param}`, pyStr(nicparams[param] ?? null)]);
  });
  ins.push(['nic_count', String(nics.length)]);
  let diskCount = 0;
  disks.forEach((disk, i) => {
    if (!disk) return;
    diskCount++;
    ins.push([`disk${i}_ivname`, pyStr(disk.iv_name ?? null)]);
    ins.push([`disk${i}_dump`, pyStr(disk.uuid)]);
    ins.push([`disk${i}_size`, pyInt(disk.size)]);
    ins.push([`disk${i}_name`, pyStr(disk.name ?? null)]);
  });
  ins.push(['disk_count', String(diskCount)]);

  const hyp = Object.entries(dict(inst.hvparams)).filter(([k]) => !HVC_GLOBALS.has(k)).map(([k, v]): [string, string] => [k, pyStr(v)]);
  const bep = Object.entries(be).map(([k, v]): [string, string] => [k, pyStr(v)]);
  const osp = Object.entries(dict(inst.osparams)).map(([k, v]): [string, string] => [k, pyStr(v)]);
  const ospPrivate = Object.entries(dict(inst.osparams_private)).map(([k, v]): [string, string] => [k, pyStr(v)]);

  return formatIni([
    ['export', exp],
    ['instance', ins],
    ['hypervisor', hyp],
    ['backend', bep],
    ['os', osp],
    ['os_private', ospPrivate],
  ]);
}
