// `gnt-instance info`: the per-instance description upstream prints from
// OP_INSTANCE_QUERY_DATA's result (gnt_instance._FormatInstanceInfo and helpers), in
// PrintGenericInfo's layout (goldens 053, 055).
import { pyRepr, pyStr } from '../../core/pyrepr.ts';
import { formatUnit } from '../format/table.ts';
import { formatTimestamp } from '../format/time.ts';
import { pairs, type InfoEntry, type InfoValue } from '../format/info.ts';
import { formatParamsDictInfo } from './node.ts';

type Dict = Record<string, any>;

const ROMAN: Array<[number, string]> = [
  [1000, 'M'], [900, 'CM'], [500, 'D'], [400, 'CD'], [100, 'C'], [90, 'XC'], [50, 'L'], [40, 'XL'], [10, 'X'], [9, 'IX'],
  [5, 'V'], [4, 'IV'], [1, 'I'],
];

/** compat.TryToRoman: positive integers as roman numerals when asked, anything else unchanged. */
export function tryToRoman(value: unknown, roman: boolean): unknown {
  if (!roman || typeof value !== 'number' || !Number.isInteger(value) || value <= 0 || value >= 4000) return value;
  let n = value;
  let out = '';
  for (const [v, s] of ROMAN) {
    while (n >= v) {
      out += s;
      n -= v;
    }
  }
  return out;
}

const LDS_FAULTY = 2;
const LDS_UNKNOWN = 3;

/** One device status line: "path (major:minor)" plus the sync or failure state. */
function deviceStatus(devType: string, status: unknown[], roman: boolean): string {
  if (!status || status.length === 0) return 'not active';
  const [path, major, minor, syncp, estt, degraded, ldisk] = status;
  const num = (x: unknown) => (x === null || x === undefined ? 'N/A' : pyStr(tryToRoman(x, roman)));
  let txt = `${pyStr(path)} (${num(major)}:${num(minor)})`;
  if (devType === 'drbd') {
    let sync = 'in sync';
    if (syncp !== null && syncp !== undefined) {
      sync = `*RECOVERING* ${Number(syncp).toFixed(2).padStart(5)}%,`;
      sync += estt ? ` ETA ${pyStr(tryToRoman(estt, roman))}s` : ' ETA unknown';
    }
    const ldiskText = ldisk === LDS_FAULTY ? ' *MISSING DISK*' : ldisk === LDS_UNKNOWN ? ' *UNCERTAIN STATE*' : '';
    txt += ` ${sync}, status ${degraded ? '*DEGRADED*' : 'ok'}${ldiskText}`;
  } else if (devType === 'plain' && ldisk === LDS_FAULTY) {
    txt += ' *FAILED* (failed drive?)';
  }
  return txt;
}

/** _FormatDiskDetails: how a disk's logical id reads, one line or several. */
function diskDetails(dev: Dict, roman: boolean): string[] | InfoEntry[] {
  if (dev.dev_type === 'drbd' && dev.drbd_info) {
    const d = dev.drbd_info as Dict;
    return [
      ['nodeA', `${pyStr(d.primary_node)}, minor=${pyStr(tryToRoman(d.primary_minor, roman))}`],
      ['nodeB', `${pyStr(d.secondary_node)}, minor=${pyStr(tryToRoman(d.secondary_minor, roman))}`],
      ['port', pyStr(tryToRoman(d.port, roman))],
      ['auth key', pyStr(d.secret)],
    ];
  }
  if (dev.dev_type === 'plain' && Array.isArray(dev.logical_id) && dev.logical_id.length === 2) {
    return [`${pyStr(dev.logical_id[0])}/${pyStr(dev.logical_id[1])}`];
  }
  return [pyRepr(dev.logical_id)];
}

/** _FormatBlockDevInfo: a disk (or a child device) as ordered key/value lines. */
export function blockDevInfo(idx: number, topLevel: boolean, dev: Dict, roman: boolean): InfoValue {
  const header = topLevel ? (dev.iv_name ?? `disk ${pyStr(tryToRoman(idx, roman))}`) : `child ${pyStr(tryToRoman(idx, roman))}`;
  const size = typeof dev.size === 'number' && Number.isInteger(dev.size) ? formatUnit(dev.size, 'h') : pyStr(dev.size);
  const data: InfoEntry[] = [[header, `${pyStr(dev.dev_type)}, size ${size}`]];
  if (topLevel) {
    if (dev.spindles !== null && dev.spindles !== undefined) data.push(['spindles', dev.spindles]);
    data.push(['access mode', dev.mode]);
  }
  if (dev.logical_id !== null && dev.logical_id !== undefined) {
    const details = diskDetails(dev, roman);
    if (details.length === 1 && typeof details[0] === 'string') data.push(['logical_id', details[0]]);
    else for (const d of details) data.push(typeof d === 'string' ? ['logical_id', d] : d);
  }
  if (dev.pstatus) data.push(['on primary', deviceStatus(dev.dev_type, dev.pstatus, roman)]);
  if (dev.sstatus) data.push(['on secondary', deviceStatus(dev.dev_type, dev.sstatus, roman)]);
  data.push(['name', pyStr(dev.name)], ['UUID', pyStr(dev.uuid)]);
  const children = (dev.children as Dict[] | undefined) ?? [];
  if (children.length > 0) data.push(['child devices', children.map((c, i) => blockDevInfo(i, false, c, roman))]);
  return pairs(...data);
}

/** _FormatInstanceNicInfo. */
function nicInfo(idx: number, nic: unknown[]): InfoValue {
  const [name, uuid, ip, mac, mode, link, vlan, , netinfo] = nic;
  const networkName = netinfo && typeof netinfo === 'object' ? (netinfo as Dict).name : null;
  return pairs(
    [`nic/${idx}`, ''],
    ['MAC', pyStr(mac)],
    ['IP', pyStr(ip)],
    ['mode', pyStr(mode)],
    ['link', pyStr(link)],
    ['vlan', pyStr(vlan)],
    ['network', pyStr(networkName)],
    ['UUID', pyStr(uuid)],
    ['name', pyStr(name)],
  );
}

/** _FormatInstanceNodesInfo. */
function nodesInfo(inst: Dict): InfoValue {
  const snodes = (inst.snodes as string[]) ?? [];
  const secs = snodes.map((name, i) =>
    `${name} (group ${pyStr(inst.snodes_group_names?.[i])}, group UUID ${pyStr(inst.snodes_group_uuids?.[i])})`).join(', ');
  return [
    pairs(['primary', inst.pnode], ['group', `${pyStr(inst.pnode_group_name)} (UUID ${pyStr(inst.pnode_group_uuid)})`]),
    pairs(['secondaries', secs]),
  ];
}

const VNC_BASE_PORT = 5900;

/** _GetVncConsoleInfo: where a VNC console listens, if the hypervisor has one. */
function vncConsoleInfo(inst: Dict): string | null {
  const bind = (inst.hv_actual as Dict | undefined)?.vnc_bind_address;
  if (!bind) return null;
  const port = inst.network_port;
  const display = Number(port) - VNC_BASE_PORT;
  if (display > 0 && bind === '0.0.0.0') return `vnc to ${inst.pnode}:${port} (display ${display})`;
  if (display > 0 && /^\d+\.\d+\.\d+\.\d+$/.test(String(bind))) return `vnc to ${bind}:${port} (node ${inst.pnode}) (display ${display})`;
  return `vnc to ${inst.pnode}:${bind}`;
}

/** One instance's `info` entry (_FormatInstanceInfo). */
export function instanceInfoEntry(inst: Dict, roman: boolean): InfoValue {
  let state = `configured to be ${pyStr(inst.config_state)}`;
  if (inst.run_state) state += `, actual state is ${pyStr(inst.run_state)}`;
  const info: InfoEntry[] = [
    ['Instance name', inst.name],
    ['UUID', inst.uuid],
    ['Serial number', pyStr(tryToRoman(inst.serial_no, roman))],
    ['Creation time', formatTimestamp(inst.ctime)],
    ['Modification time', formatTimestamp(inst.mtime)],
    ['State', state],
    ['Nodes', nodesInfo(inst)],
    ['Operating system', inst.os],
    ['Operating system parameters', formatParamsDictInfo(inst.os_instance ?? {}, inst.os_actual ?? {})],
  ];
  if ('network_port' in inst) info.push(['Allocated network port', pyStr(tryToRoman(inst.network_port, roman))]);
  info.push(['Hypervisor', inst.hypervisor]);
  const console = vncConsoleInfo(inst);
  if (console) info.push(['console connection', console]);
  // The deprecated "memory" backend value is still shown, as maxmem.
  const beActual = { ...(inst.be_actual as Dict), memory: (inst.be_actual as Dict)?.maxmem };
  info.push(
    ['Hypervisor parameters', formatParamsDictInfo(inst.hv_instance ?? {}, inst.hv_actual ?? {})],
    ['Back-end parameters', formatParamsDictInfo(inst.be_instance ?? {}, beActual)],
    ['NICs', ((inst.nics as unknown[][]) ?? []).map((nic, i) => nicInfo(i, nic))],
    ['Disk template', inst.disk_template],
    ['Disks', ((inst.disks as Dict[]) ?? []).map((d, i) => blockDevInfo(i, true, d, roman))],
  );
  return pairs(...info);
}
