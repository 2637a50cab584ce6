// The node-side check of kvm hvparams (upstream's KVMHypervisor.ValidateParameters and
// hv_base's file checks), against this node's files and its installed qemu: the first
// problem as a message naming the parameter, or null.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HypervisorError } from '../../../core/errors.ts';
import { hasDevice, hasOption, machineSupported, qemuCaps, type QemuCaps } from './capabilities.ts';
import { diskDriver, nicDriver, SCSI_DISK_TYPES, usbDevice } from './cmdline.ts';
import { parseMultiCpuMask } from './pinning.ts';

type Dict = Record<string, unknown>;

const str = (v: unknown): string => (v === null || v === undefined ? '' : String(v));

function fileCheck(hvp: Dict, key: string, kind: 'file' | 'dir', required: boolean, allowUrl = false): string | null {
  const value = str(hvp[key]);
  if (value === '') return required ? `Parameter '${key}' is required but not set` : null;
  if (allowUrl && /^(https?|ftp):\/\//.test(value)) return null;
  if (!path.isAbsolute(value) || path.normalize(value) !== value) {
    return `Parameter '${key}' fails syntax check: must be an absolute normalized path (current value: '${value}')`;
  }
  let st: fs.Stats | null = null;
  try {
    st = fs.statSync(value);
  } catch { /* missing */ }
  if (kind === 'file' && !st?.isFile()) return `Parameter '${key}' fails validation: not found or not a file (current value: '${value}')`;
  if (kind === 'dir' && !st?.isDirectory()) return `Parameter '${key}' fails validation: not found or not a directory (current value: '${value}')`;
  return null;
}

function isIP(s: string): boolean {
  return /^(\d{1,3}\.){3}\d{1,3}$/.test(s) || (s.includes(':') && /^[0-9a-fA-F:.]+$/.test(s));
}

function userExists(name: string): boolean {
  try {
    return fs.readFileSync('/etc/passwd', 'utf8').split('\n').some((l) => l.split(':')[0] === name);
  } catch {
    return false;
  }
}

/** Problems of `hvp` given the probed qemu (pure but for file checks; the unit tests use it). */
export function validateWithCaps(hvp: Dict, caps: QemuCaps, hasKvm: boolean): string | null {
  for (const [key, kind, url] of [
    ['kernel_path', 'file', false], ['initrd_path', 'file', false], ['floppy_image_path', 'file', false],
    ['cdrom_image_path', 'file', true], ['cdrom2_image_path', 'file', true], ['vnc_password_file', 'file', false],
    ['spice_password_file', 'file', false], ['vnc_x509_path', 'dir', false], ['mem_path', 'dir', false],
  ] as Array<[string, 'file' | 'dir', boolean]>) {
    const problem = fileCheck(hvp, key, kind, false, url);
    if (problem) return problem;
  }

  if (str(hvp.cpu_mask)) {
    try {
      parseMultiCpuMask(str(hvp.cpu_mask));
    } catch {
      return `Parameter 'cpu_mask' fails syntax check: a comma-separated list of CPU IDs or CPU ID ranges, or "all", per vCPU separated by ':' (current value: '${str(hvp.cpu_mask)}')`;
    }
  }

  const machine = str(hvp.machine_version);
  if (machine && !machineSupported(caps, machine)) return `Unsupported machine version: ${machine}`;

  const nicType = str(hvp.nic_type) || 'paravirtual';
  if (!hasDevice(caps, nicDriver(nicType))) {
    return `Parameter 'nic_type' is '${nicType}', but this node's qemu (${caps.versionText}) has no device '${nicDriver(nicType)}'`;
  }
  const diskType = str(hvp.disk_type) || 'paravirtual';
  const driver = diskDriver(diskType);
  if ((driver === 'virtio-blk-pci' || driver.startsWith('scsi-')) && !hasDevice(caps, driver)) {
    return `Parameter 'disk_type' is '${diskType}', but this node's qemu (${caps.versionText}) has no device '${driver}'`;
  }
  if (SCSI_DISK_TYPES.includes(diskType)) {
    const ctrl = str(hvp.scsi_controller_type) || 'lsi';
    if (!hasDevice(caps, ctrl)) return `Parameter 'scsi_controller_type' is '${ctrl}', but this node's qemu (${caps.versionText}) has no such device`;
  }

  for (const [key, value] of [['usb_mouse', str(hvp.usb_mouse)], ...str(hvp.usb_devices).split(',').map((s) => ['usb_devices', s.trim()])]) {
    if (!value) continue;
    const dev = usbDevice(value);
    const name = (dev ?? value).split(',')[0];
    if (!hasDevice(caps, name) && !(key === 'usb_mouse' && hasOption(caps, '-usbdevice'))) {
      return `Parameter '${key}': this node's qemu (${caps.versionText}) has no USB device for '${value}'`;
    }
  }

  const soundhw = str(hvp.soundhw);
  if (soundhw && !hasOption(caps, '-soundhw') && !hasDevice(caps, soundhw)) {
    return `Parameter 'soundhw' is '${soundhw}', but this node's qemu (${caps.versionText}) has neither -soundhw nor such a device`;
  }

  const kvmFlag = str(hvp.kvm_flag);
  if (kvmFlag === 'enabled' && !hasKvm) return "Parameter 'kvm_flag' is 'enabled', but this node has no KVM (/dev/kvm does not exist)";

  const securityModel = str(hvp.security_model) || 'none';
  if (securityModel === 'user') {
    const user = str(hvp.security_domain);
    if (!userExists(user)) return `Unknown security domain user ${user}`;
    if (!hasOption(caps, '-runas') && !hasOption(caps, '-run-with')) return `security_model 'user': this node's qemu (${caps.versionText}) cannot change its user`;
  } else if (securityModel === 'pool') {
    return "Parameter 'security_model' is 'pool', which this node's kvm hypervisor does not support";
  }
  if (hvp.use_chroot === true && !hasOption(caps, '-chroot') && !hasOption(caps, '-run-with')) {
    return `Parameter 'use_chroot': this node's qemu (${caps.versionText}) can not chroot`;
  }

  const vnc = str(hvp.vnc_bind_address);
  if (vnc) {
    const isInterface = Object.prototype.hasOwnProperty.call(os.networkInterfaces(), vnc);
    const isPath = path.isAbsolute(vnc) && path.normalize(vnc) === vnc;
    if (!isIP(vnc) && !isInterface && !isPath) {
      return 'VNC: The vnc_bind_address parameter must be either a valid IP address, an interface name, or an absolute path';
    }
  }
  const spice = str(hvp.spice_bind);
  if (spice) {
    if (vnc) return 'Both SPICE and VNC are configured, but only one of them can be used at a given time';
    if (!hasOption(caps, '-spice')) return "SPICE is configured, but it is not supported according to 'kvm --help'";
    if (!isIP(spice) && !Object.prototype.hasOwnProperty.call(os.networkInterfaces(), spice)) {
      return 'SPICE: The spice_bind parameter must be either a valid IP address or interface name';
    }
  }
  if (hvp.vhost_net === true && !fs.existsSync('/dev/vhost-net')) return "Parameter 'vhost_net' is set, but this node has no /dev/vhost-net";
  return null;
}

/** validateParameters: the binary first (missing, not runnable, too old), then the values. */
export async function validateKvmParams(hvp: Dict, hasKvm: boolean): Promise<string | null> {
  const kvmPath = str(hvp.kvm_path);
  if (!kvmPath) return "Parameter 'kvm_path' is required but not set";
  let caps: QemuCaps;
  try {
    caps = await qemuCaps(kvmPath);
  } catch (err) {
    if (err instanceof HypervisorError) return err.message;
    throw err;
  }
  return validateWithCaps(hvp, caps, hasKvm);
}
