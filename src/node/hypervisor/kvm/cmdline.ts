// The qemu command line of an instance, from its hvparams and beparams (upstream's
// _GenerateKVMRuntime + _ExecuteKVMRuntime + _GenerateKVMBlockDevicesOptions, in one pure
// function: no file is read or written here, so the unit tests check it against recorded
// -help/-machine help/-device help outputs). Every option that a qemu version removed is
// chosen from the probed capabilities (./capabilities.ts):
//   -balloon virtio (gone in 3.1)       → -device virtio-balloon
//   -usbdevice tablet|mouse (deprecated) → -device usb-tablet|usb-mouse
//   -no-acpi (gone in 9.0)              → -machine …,acpi=off
//   -chroot / -runas (gone in 9.x)      → -run-with chroot=…,user=…
//   -soundhw (gone in 7.1)              → -device <model>
//   -vnc …,tls,x509=… (gone in 3.1)     → -object tls-creds-x509 + tls-creds=
//   server,nowait (deprecated in 6.0)   → server=on,wait=off
//   -nographic with -daemonize (≥1.4)   → -display none
import fs from 'node:fs';
import os from 'node:os';
import { HypervisorError } from '../../../core/errors.ts';
import { defaultMachine, hasDevice, hasOption, serverNowait, versionAtLeast, type QemuCaps } from './capabilities.ts';

type Dict = Record<string, unknown>;

export const VNC_BASE_PORT = 5900;
const QEMU_PCI_SLOTS = 32;
const PCI_BUS = 'pci.0';
const SCSI_BUS = 'scsi.0';

/** Upstream's HT_SCSI_DEVICE_TYPES: disk types on a SCSI bus. */
export const SCSI_DISK_TYPES = ['scsi-generic', 'scsi-block', 'scsi-hd', 'scsi-cd', 'scsi'];
/** Disk templates on storage every node sees (upstream's DTS_EXT_MIRROR): cache=none, or migration corrupts them. */
const EXT_MIRROR = ['sharedfile', 'blockdev', 'rbd', 'ext', 'gluster'];

export interface KvmDiskEntry {
  disk: Dict;
  /** The path qemu opens (the node's disk link, var/run/ganeti/instance-disks/<instance>:<idx>). */
  link: string;
  /** Userspace URI (rbd, gluster), null for kernel-space devices. */
  uri: string | null;
}

export interface KvmFilesFor {
  pidFile: string;
  qmp: string;
  serial: string;
  monitor: string;
  qga: string;
  chroot: string;
  keymap: string;
}

export interface KvmCommandInput {
  name: string;
  uuid?: string;
  hvp: Dict;
  bep: Dict;
  networkPort?: number | null;
  disks: KvmDiskEntry[];
  nics: Dict[];
  /** One -netdev value per NIC without its id (e.g. "user", "tap,ifname=gnt1,script=no,downscript=no"). */
  netBackends: string[];
  startupPaused: boolean;
  incoming?: { host: string; port: number };
  caps: QemuCaps;
  accel: 'kvm' | 'tcg';
  files: KvmFilesFor;
  /** This node's interfaces (os.networkInterfaces()), for bind addresses given as an interface name. */
  interfaces?: Interfaces;
}

export interface KvmCommand {
  argv: string[];
  /** The machine type used (the hvparam, or qemu's default resolved now: kept for migration). */
  machine: string;
  /** Choices worth a log line (overridden cache modes, VNC not started, …). */
  notes: string[];
}

const str = (v: unknown): string => (v === null || v === undefined ? '' : String(v));
const int = (v: unknown, fallback = 0): number => {
  const n = Number(v);
  return Number.isFinite(n) ? Math.floor(n) : fallback;
};

/** The device a disk_type needs (upstream's _DEVICE_DRIVER: paravirtual is virtio-blk-pci). */
export function diskDriver(diskType: string): string {
  return diskType === 'paravirtual' ? 'virtio-blk-pci' : diskType;
}

/** The device a nic_type needs. */
export function nicDriver(nicType: string): string {
  return nicType === 'paravirtual' ? 'virtio-net-pci' : nicType;
}

/** A qemu device id from a Ganeti uuid (upstream's _GenerateDeviceKVMId: up to the third '-'). */
export function deviceId(kind: 'disk' | 'nic', uuid: unknown, seq: number): string {
  const u = typeof uuid === 'string' && uuid !== '' ? uuid.split('-').slice(0, 3).join('-') : `${seq}`;
  return `${kind}-${u}`;
}

/** -usbdevice names as -device drivers (Ganeti #1633: -usbdevice host:… is refused by qemu ≥ 5). */
export function usbDevice(spec: string): string | null {
  const s = spec.trim();
  if (s === 'tablet') return 'usb-tablet';
  if (s === 'mouse') return 'usb-mouse';
  if (s === 'keyboard') return 'usb-kbd';
  let m = /^host:([0-9a-fA-F]{1,4}):([0-9a-fA-F]{1,4})$/.exec(s);
  if (m) return `usb-host,vendorid=0x${m[1]},productid=0x${m[2]}`;
  m = /^host:(\d+)\.(\d+)$/.exec(s);
  if (m) return `usb-host,hostbus=${m[1]},hostaddr=${m[2]}`;
  return null;
}

function isIPv4(s: string): boolean {
  return /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(s) && s.split('.').every((p) => Number(p) <= 255);
}

function isIPv6(s: string): boolean {
  return s.includes(':') && /^[0-9a-fA-F:.]+$/.test(s);
}

export type Interfaces = NodeJS.Dict<os.NetworkInterfaceInfo[]>;

/**
 * vnc_bind_address / spice_bind as qemu takes it: an address or a path as it is, an
 * interface name as its first address of the family (upstream's GetInterfaceIpAddresses:
 * IPv4 for VNC; for SPICE the spice_ip_version's, IPv4 first when none is given). An
 * interface with no such address is a clear error, not a "unix:<name>/…" socket.
 */
export function resolveBindAddress(what: 'VNC' | 'SPICE', value: string, ipVersion = 0, interfaces: Interfaces = os.networkInterfaces()): string {
  if (value === '' || isIPv4(value) || isIPv6(value) || value.startsWith('/')) return value;
  const addrs = interfaces[value];
  if (addrs === undefined) {
    if (fs.existsSync(`/sys/class/net/${value}`)) throw new HypervisorError(`${what}: interface ${value} has no IP address on this node`);
    throw new HypervisorError(`${what}: '${value}' is neither an IP address, an absolute path nor an interface of this node`);
  }
  const v4 = addrs.filter((a) => a.family === 'IPv4').map((a) => a.address);
  const v6 = addrs.filter((a) => a.family === 'IPv6').map((a) => a.address);
  const pick = what === 'VNC' || ipVersion === 4 ? v4 : ipVersion === 6 ? v6 : (v4.length > 0 ? v4 : v6);
  if (pick.length === 0) {
    throw new HypervisorError(`${what}: could not determine an IPv${what === 'VNC' || ipVersion !== 6 ? '4' : '6'} address of interface ${value}`);
  }
  return pick[0];
}

/** A free slot of a bus, reserved (upstream's utils.GetFreeSlot). */
function takeSlot(slots: boolean[], what: string): number {
  const i = slots.indexOf(false);
  if (i < 0) throw new HypervisorError(`All slots of ${what} are in use`);
  slots[i] = true;
  return i;
}

export function buildKvmCommand(input: KvmCommandInput): KvmCommand {
  const { hvp, caps } = input;
  const notes: string[] = [];
  const kvmPath = str(hvp.kvm_path) || caps.path;
  const cmd: string[] = [kvmPath];
  const sockOpts = serverNowait(caps);

  cmd.push('-name', input.name);
  const maxmem = int(input.bep.maxmem ?? input.bep.memory, 128);
  cmd.push('-m', String(maxmem));
  const smp = [String(int(input.bep.vcpus, 1))];
  if (int(hvp.cpu_cores)) smp.push(`cores=${int(hvp.cpu_cores)}`);
  if (int(hvp.cpu_threads)) smp.push(`threads=${int(hvp.cpu_threads)}`);
  if (int(hvp.cpu_sockets)) smp.push(`sockets=${int(hvp.cpu_sockets)}`);
  cmd.push('-smp', smp.join(','));
  cmd.push('-pidfile', input.files.pidFile);

  // PCI slots: the first kvm_pci_reservations are qemu's own (upstream's default 12).
  const reserved = Math.min(QEMU_PCI_SLOTS, Math.max(0, int(hvp.kvm_pci_reservations, 12)));
  const pciSlots = Array.from({ length: QEMU_PCI_SLOTS }, (_, i) => i < reserved);
  const scsiSlots = Array.from({ length: 16 }, () => false);

  const soundhw = str(hvp.soundhw);
  if (soundhw) {
    if (hasOption(caps, '-soundhw')) cmd.push('-soundhw', soundhw);
    else if (hasDevice(caps, soundhw)) cmd.push('-device', soundhw);
    else throw new HypervisorError(`soundhw '${soundhw}': this qemu (${caps.versionText}) has neither -soundhw nor a device of that name`);
  }

  const diskType = str(hvp.disk_type) || 'paravirtual';
  if (SCSI_DISK_TYPES.includes(diskType) && input.disks.length > 0) {
    cmd.push('-device', `${str(hvp.scsi_controller_type) || 'lsi'},id=scsi`);
  }

  // The balloon: -balloon virtio was removed in qemu 3.1 (Ganeti #1338).
  if (hasDevice(caps, 'virtio-balloon')) cmd.push('-device', 'virtio-balloon');
  else if (hasOption(caps, '-balloon')) cmd.push('-balloon', 'virtio');

  cmd.push('-daemonize');

  // The machine, the accelerator and ACPI.
  const machine = str(hvp.machine_version) || defaultMachine(caps);
  const machineProps: string[] = [];
  const acpi = hvp.acpi !== false;
  if (!acpi) {
    // -no-acpi: deprecated in 8.0, removed in 9.0; the machine property exists since 5.0.
    if (hasOption(caps, '-no-acpi') && !versionAtLeast(caps, 5, 0)) cmd.push('-no-acpi');
    else machineProps.push('acpi=off');
  }
  if (hasOption(caps, '-accel')) {
    cmd.push('-machine', [machine, ...machineProps].join(','));
    cmd.push('-accel', input.accel);
  } else if (hasOption(caps, '-machine')) {
    cmd.push('-machine', [machine, ...machineProps, `accel=${input.accel}`].join(','));
  } else {
    cmd.push('-M', machine);
    if (input.accel === 'kvm' && hasOption(caps, '-enable-kvm')) cmd.push('-enable-kvm');
  }
  if (str(hvp.reboot_behavior) === 'exit') cmd.push('-no-reboot');
  // A guest's own power-off keeps qemu (status "shutdown") when user shutdown is on, so
  // the node can tell it from a crash (upstream's kvmd + the .shutdown file).
  if (hvp.user_shutdown === true) cmd.push('-no-shutdown');

  const kernelPath = str(hvp.kernel_path);
  const bootOrder = str(hvp.boot_order) || 'disk';
  const bootCdrom = !kernelPath && bootOrder === 'cdrom';
  const bootFloppy = !kernelPath && bootOrder === 'floppy';
  const bootNetwork = !kernelPath && bootOrder === 'network';
  let bootDisk = !kernelPath && bootOrder === 'disk';

  if (input.startupPaused) cmd.push('-S');
  if (bootNetwork) cmd.push('-boot', 'n');

  const cdromType = str(hvp.cdrom_disk_type) || diskType;
  const cdrom = (image: string, boot: boolean) => {
    const url = /^(https?|ftp):\/\//.test(image);
    const iface = boot ? 'ide' : cdromType === 'paravirtual' ? 'virtio' : SCSI_DISK_TYPES.includes(cdromType) ? 'scsi' : cdromType;
    if (boot) cmd.push('-boot', 'd');
    cmd.push('-drive', `file=${image},media=cdrom${url ? '' : ',format=raw'},if=${iface}`);
  };
  if (str(hvp.cdrom_image_path)) cdrom(str(hvp.cdrom_image_path), bootCdrom);
  if (str(hvp.cdrom2_image_path)) cdrom(str(hvp.cdrom2_image_path), false);
  const floppy = str(hvp.floppy_image_path);
  if (floppy) {
    if (bootFloppy) cmd.push('-boot', 'a');
    cmd.push('-drive', `file=${floppy},format=raw,media=disk,if=floppy`);
  }

  if (kernelPath) {
    cmd.push('-kernel', kernelPath);
    if (str(hvp.initrd_path)) cmd.push('-initrd', str(hvp.initrd_path));
    const append = [`root=${str(hvp.root_path)}`, str(hvp.kernel_args)];
    if (hvp.serial_console !== false) append.push(`console=ttyS0,${int(hvp.serial_speed, 38400)}`);
    cmd.push('-append', append.filter((a) => a !== '').join(' '));
  }

  if (str(hvp.mem_path)) cmd.push('-mem-path', str(hvp.mem_path), '-mem-prealloc');

  cmd.push('-monitor', `unix:${input.files.monitor},${sockOpts}`);
  if (hvp.serial_console !== false) cmd.push('-serial', `unix:${input.files.serial},${sockOpts}`);
  else cmd.push('-serial', 'none');

  // USB, VNC, SPICE, display.
  const usbMouse = str(hvp.usb_mouse);
  const vncBind = resolveBindAddress('VNC', str(hvp.vnc_bind_address), 4, input.interfaces);
  const spiceBind = resolveBindAddress('SPICE', str(hvp.spice_bind), int(hvp.spice_ip_version), input.interfaces);
  if (hasOption(caps, '-usb')) cmd.push('-usb');
  const pointer = usbMouse || (vncBind ? 'tablet' : '');
  if (pointer) {
    const dev = usbDevice(pointer);
    if (dev && hasDevice(caps, dev.split(',')[0])) cmd.push('-device', dev);
    else if (hasOption(caps, '-usbdevice')) cmd.push('-usbdevice', pointer);
    else throw new HypervisorError(`usb_mouse '${pointer}': this qemu (${caps.versionText}) has no such USB device`);
  }

  if (vncBind) {
    let arg: string;
    if (isIPv4(vncBind) || isIPv6(vncBind)) {
      const port = int(input.networkPort);
      if (port > VNC_BASE_PORT) {
        const display = port - VNC_BASE_PORT;
        arg = vncBind === '0.0.0.0' ? `:${display}` : isIPv6(vncBind) ? `[${vncBind}]:${display}` : `${vncBind}:${display}`;
      } else {
        notes.push(`Network port is not a valid VNC display (${port} < ${VNC_BASE_PORT}), not starting VNC`);
        arg = 'none';
      }
      if (arg !== 'none') {
        if (hvp.vnc_tls === true) {
          const dir = str(hvp.vnc_x509_path);
          if (hasOption(caps, '-object') && versionAtLeast(caps, 2, 5)) {
            cmd.push('-object', `tls-creds-x509,id=vnc-tls0,endpoint=server${dir ? `,dir=${dir}` : ''},verify-peer=${hvp.vnc_x509_verify === true ? 'on' : 'off'}`);
            arg += ',tls-creds=vnc-tls0';
          } else {
            arg += ',tls';
            if (hvp.vnc_x509_verify === true) arg += `,x509verify=${dir}`;
            else if (dir) arg += `,x509=${dir}`;
          }
        }
        if (str(hvp.vnc_password_file)) arg += versionAtLeast(caps, 6, 0) ? ',password=on' : ',password';
      }
    } else {
      // An absolute path: a unix socket per instance in that directory (an interface name
      // was resolved to its address above).
      arg = `unix:${vncBind}/${input.name}.vnc`;
    }
    cmd.push('-vnc', arg);
  } else if (spiceBind) {
    if (!hasOption(caps, '-spice')) throw new HypervisorError("SPICE is configured, but it is not supported according to 'kvm --help'");
    let arg = `addr=${spiceBind},port=${int(input.networkPort)}`;
    if (!str(hvp.spice_password_file)) arg += ',disable-ticketing=on';
    const ipv = int(hvp.spice_ip_version);
    if (ipv) arg += `,ipv${ipv}=on`;
    if (str(hvp.spice_image_compression)) arg += `,image-compression=${str(hvp.spice_image_compression)}`;
    if (str(hvp.spice_jpeg_wan_compression)) arg += `,jpeg-wan-compression=${str(hvp.spice_jpeg_wan_compression)}`;
    if (str(hvp.spice_zlib_glz_wan_compression)) arg += `,zlib-glz-wan-compression=${str(hvp.spice_zlib_glz_wan_compression)}`;
    if (str(hvp.spice_streaming_video)) arg += `,streaming-video=${str(hvp.spice_streaming_video)}`;
    if (hvp.spice_playback_compression === false) arg += ',playback-compression=off';
    if (hvp.spice_use_vdagent === false) {
      arg += ',agent-mouse=off';
    } else {
      cmd.push('-device', 'virtio-serial-pci,id=spice', '-device', 'virtserialport,chardev=spicechannel0,name=com.redhat.spice.0',
        '-chardev', 'spicevmc,id=spicechannel0,name=vdagent');
    }
    cmd.push('-spice', arg);
  } else if (hasOption(caps, '-display')) {
    cmd.push('-display', 'none');
  } else {
    cmd.push('-nographic');
  }

  if (hvp.use_localtime === true) cmd.push('-rtc', 'base=localtime');

  // chroot and the user qemu runs as: -run-with since 9.0 replaced -chroot and -runas.
  const runWith: string[] = [];
  if (hvp.use_chroot === true) {
    if (hasOption(caps, '-chroot')) cmd.push('-chroot', input.files.chroot);
    else if (hasOption(caps, '-run-with')) runWith.push(`chroot=${input.files.chroot}`);
    else throw new HypervisorError(`use_chroot: this qemu (${caps.versionText}) has neither -chroot nor -run-with`);
  }
  const securityModel = str(hvp.security_model) || 'none';
  if (securityModel === 'user') {
    const user = str(hvp.security_domain);
    if (hasOption(caps, '-runas')) cmd.push('-runas', user);
    else if (hasOption(caps, '-run-with')) runWith.push(`user=${user}`);
    else throw new HypervisorError(`security_model 'user': this qemu (${caps.versionText}) has neither -runas nor -run-with`);
  } else if (securityModel === 'pool') {
    throw new HypervisorError("security_model 'pool' (the cluster's uid pool) is not supported by this node");
  }
  if (runWith.length > 0) cmd.push('-run-with', runWith.join(','));

  if (str(hvp.cpu_type)) cmd.push('-cpu', str(hvp.cpu_type));
  if (str(hvp.vga)) cmd.push('-vga', str(hvp.vga));
  else if (spiceBind) cmd.push('-vga', 'qxl');

  for (const spec of str(hvp.usb_devices).split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const dev = usbDevice(spec);
    if (dev && hasDevice(caps, dev.split(',')[0])) cmd.push('-device', dev);
    else if (hasDevice(caps, spec.split(',')[0])) cmd.push('-device', spec);
    else throw new HypervisorError(`usb_devices '${spec}': this qemu (${caps.versionText}) has no such USB device`);
  }

  if (input.uuid && hasOption(caps, '-uuid')) cmd.push('-uuid', input.uuid);

  if (str(hvp.keymap)) cmd.push('-k', str(hvp.keymap));

  if (hvp.use_guest_agent === true) {
    const slot = takeSlot(pciSlots, PCI_BUS);
    cmd.push('-chardev', `socket,path=${input.files.qga},${sockOpts},id=qga0`,
      '-device', `virtio-serial,id=qga0,bus=${PCI_BUS},addr=0x${slot.toString(16)}`,
      '-device', 'virtserialport,chardev=qga0,name=org.qemu.guest_agent.0');
  }

  const extra = str(hvp.kvm_extra);
  const extraArgs = extra ? extra.split(' ').filter((a) => a !== '') : [];

  // q35 and other PCIe machines have no "pci.0" bus: there qemu places the devices itself.
  const pciBusNamed = !/q35/.test(machine);
  const pciPlace = (slot: number) => (pciBusNamed ? `,bus=${PCI_BUS},addr=0x${slot.toString(16)}` : '');

  // NICs.
  if (input.nics.length === 0) {
    if (hasOption(caps, '-nic')) cmd.push('-nic', 'none');
    else cmd.push('-net', 'none');
  } else {
    const nicType = str(hvp.nic_type) || 'paravirtual';
    let model = nicDriver(nicType);
    if (nicType === 'paravirtual' && !hasDevice(caps, model)) model = 'virtio';
    const vhost = hvp.vhost_net === true ? ',vhost=on' : '';
    const queues = int(hvp.virtio_net_queues, 1);
    const mq = nicType === 'paravirtual' && queues > 1 ? `,mq=on,vectors=${2 * queues + 1}` : '';
    for (const [seq, nic] of input.nics.entries()) {
      const id = deviceId('nic', nic.uuid, seq);
      const backend = input.netBackends[seq] ?? 'user';
      const isTap = backend.startsWith('tap');
      const netdev = `${backend.split(',')[0]},id=${id}${backend.includes(',') ? `,${backend.split(',').slice(1).join(',')}` : ''}${isTap ? vhost : ''}${isTap && queues > 1 ? `,queues=${queues}` : ''}`;
      let device = `${model},id=${id}`;
      if (model !== 'ne2k_isa' && model !== 'virtio') device += pciPlace(takeSlot(pciSlots, PCI_BUS));
      device += `,netdev=${id},mac=${str(nic.mac)}${mq}`;
      cmd.push('-netdev', netdev, '-device', device);
    }
  }

  if (input.incoming) cmd.push('-incoming', `tcp:${input.incoming.host}:${input.incoming.port}`);

  cmd.push('-qmp', `unix:${input.files.qmp},${sockOpts}`);

  // Disks.
  const driver = diskDriver(diskType);
  const viaDevice = hasDevice(caps, driver);
  const iface = diskType === 'paravirtual' ? 'virtio' : diskType;
  const aio = str(hvp.disk_aio) || 'threads';
  const discard = str(hvp.disk_discard) || 'default';
  const cacheMode = str(hvp.disk_cache) || 'default';
  const needsBootFlag = /^-drive\s([^-]|(?<!^)-)*,boot=on\|off/ms.test(caps.help);
  for (const [seq, entry] of input.disks.entries()) {
    const d = entry.disk;
    let cache = '';
    if (EXT_MIRROR.includes(str(d.dev_type))) {
      if (cacheMode !== 'none') notes.push(`overriding disk_cache setting '${cacheMode}' with 'none' to prevent shared storage corruption on migration`);
      cache = ',cache=none';
    } else if (aio === 'native' && cacheMode !== 'none') {
      notes.push(`overriding disk_cache setting '${cacheMode}' with 'none' to prevent QEMU failures in version 2.6+`);
      cache = ',cache=none';
    } else if (cacheMode !== 'default') {
      cache = `,cache=${cacheMode}`;
    }
    const ro = str(d.mode) === 'ro' ? ',readonly=on' : '';
    const aioVal = aio !== 'threads' ? `,aio=${aio}` : '';
    const discardVal = discard !== 'default' ? `,discard=${discard}` : '';
    let bootVal = '';
    if (bootDisk) {
      cmd.push('-boot', 'c');
      bootDisk = false;
      if (needsBootFlag && diskType !== 'ide') bootVal = ',boot=on';
    }
    const file = entry.uri && str((d.params as Dict | undefined)?.access) === 'userspace' ? entry.uri : entry.link;
    const id = deviceId('disk', d.uuid, seq);
    if (viaDevice) {
      let dev = `${driver},id=${id}`;
      if (SCSI_DISK_TYPES.includes(diskType)) dev += `,bus=${SCSI_BUS},channel=0,scsi-id=${takeSlot(scsiSlots, SCSI_BUS)},lun=0`;
      else if (driver.endsWith('-pci')) dev += pciPlace(takeSlot(pciSlots, PCI_BUS));
      cmd.push('-device', `${dev},drive=${id}`);
      cmd.push('-drive', `file=${file},format=raw,if=none${bootVal}${cache}${aioVal}${discardVal}${ro},id=${id}`);
    } else {
      cmd.push('-drive', `file=${file},format=raw,if=${iface}${bootVal}${cache}${aioVal}${discardVal}${ro}`);
    }
  }

  if (str(hvp.kvm_flag) === 'enabled' && input.accel !== 'kvm') {
    throw new HypervisorError("kvm_flag is 'enabled' but this node has no KVM (/dev/kvm)");
  }

  cmd.push(...extraArgs);
  return { argv: cmd, machine, notes };
}
