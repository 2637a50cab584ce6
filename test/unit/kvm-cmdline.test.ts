// The kvm command line and the qemu capability probe, against recorded qemu outputs
// (test/fixtures/qemu/: Debian's 7.2 for real, a crafted older 2.11 and newer 9.2): options
// a qemu removed are never passed (Ganeti #1338 -balloon, -usbdevice; -no-acpi, -chroot).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  capsFromOutputs, checkQemuVersion, defaultMachine, hasDevice, hasOption, machineSupported, parseQemuVersion, qemuCaps, type QemuCaps,
} from '../../src/node/hypervisor/kvm/capabilities.ts';
import { buildKvmCommand, deviceId, resolveBindAddress, usbDevice, type KvmCommandInput } from '../../src/node/hypervisor/kvm/cmdline.ts';
import { validateWithCaps } from '../../src/node/hypervisor/kvm/validation.ts';
import { DEFAULT_HVPARAMS } from '../../src/master/config/defaults.ts';

const FIX = path.join(import.meta.dirname, '../fixtures/qemu');
const read = (f: string) => fs.readFileSync(path.join(FIX, f), 'utf8');

function caps(v: '7.2' | '9.2-crafted' | '2.11-crafted'): QemuCaps {
  return capsFromOutputs('/usr/bin/kvm', read(`${v}-help.txt`), read(`${v}-machine.txt`), read(`${v}-device.txt`));
}

const FILES = {
  pidFile: '/r/pid/inst1', qmp: '/r/ctrl/inst1.qmp', serial: '/r/ctrl/inst1.serial', monitor: '/r/ctrl/inst1.monitor',
  qga: '/r/ctrl/inst1.qga', chroot: '/r/chroot/inst1', keymap: '/r/keymap/inst1',
};

function input(c: QemuCaps, hv: Record<string, unknown> = {}, extra: Partial<KvmCommandInput> = {}): KvmCommandInput {
  return {
    name: 'inst1',
    uuid: '11111111-2222-3333-4444-555555555555',
    hvp: { ...DEFAULT_HVPARAMS.kvm, kernel_path: '', ...hv },
    bep: { maxmem: 256, minmem: 128, vcpus: 2 },
    networkPort: 11000,
    disks: [],
    nics: [],
    netBackends: [],
    startupPaused: false,
    caps: c,
    accel: 'tcg',
    files: FILES,
    ...extra,
  };
}

/** The values following each occurrence of `opt`. */
function values(argv: string[], opt: string): string[] {
  return argv.flatMap((a, i) => (a === opt ? [argv[i + 1]] : []));
}

test('capabilities: version, options, devices and aliases, machines', () => {
  const c = caps('7.2');
  assert.deepEqual(c.version, [7, 2, 22]);
  assert.equal(c.versionText, '7.2.22');
  assert.deepEqual(parseQemuVersion('QEMU emulator version 2.5\nx')?.version, [2, 5, 0]);
  assert.equal(parseQemuVersion('no version here'), null);
  assert.ok(hasOption(c, '-qmp') && hasOption(c, '-daemonize') && hasOption(c, '-no-acpi') && hasOption(c, '-nic'));
  assert.ok(!hasOption(c, '-balloon'), 'qemu 7.2 has no -balloon');
  assert.ok(!hasOption(c, '-soundhw'));
  assert.ok(hasDevice(c, 'virtio-blk-pci') && hasDevice(c, 'virtio-balloon') && hasDevice(c, 'lsi'), 'names and aliases');
  assert.ok(!hasDevice(c, 'virtio-blk-pc'));
  assert.equal(defaultMachine(c), 'pc-i440fx-7.2');
  assert.ok(machineSupported(c, 'pc') && machineSupported(c, 'pc-i440fx-7.1') && machineSupported(c, 'q35'));
  assert.ok(!machineSupported(c, 'pc-i440fx-99.0'));
  assert.equal(defaultMachine(caps('9.2-crafted')), 'pc-i440fx-9.2');
});

test('capabilities: a qemu older than 2.8 is refused with a clear error', () => {
  const old = capsFromOutputs('/opt/qemu', read('2.5-crafted-help.txt'), read('7.2-machine.txt'), read('7.2-device.txt'));
  assert.throws(() => checkQemuVersion(old), /The KVM binary \('\/opt\/qemu'\) is qemu 2\.5\.0; version 2\.8 or newer is needed/);
  assert.doesNotThrow(() => checkQemuVersion(caps('2.11-crafted')));
});

test('capabilities: a missing or non-executable binary is a clear error', async () => {
  await assert.rejects(qemuCaps('/nonexistent/kvm'), /The KVM binary \('\/nonexistent\/kvm'\) does not exist/);
  await assert.rejects(qemuCaps('relative/kvm'), /must be absolute/);
  await assert.rejects(qemuCaps(path.join(FIX, 'README.md')), /is not executable/);
});

test('capabilities: the installed qemu is probed once per binary', { skip: !fs.existsSync('/usr/bin/qemu-system-x86_64') && 'qemu is not installed' }, async () => {
  const a = qemuCaps('/usr/bin/qemu-system-x86_64');
  const b = qemuCaps('/usr/bin/qemu-system-x86_64');
  assert.equal(a, b, 'the same probe (cached)');
  const c = await a;
  assert.ok(c.version[0] >= 2);
  assert.ok(hasOption(c, '-qmp'));
});

test('command line on qemu 7.2: the basics, in upstream order', () => {
  const { argv, machine } = buildKvmCommand(input(caps('7.2')));
  assert.equal(argv[0], '/usr/bin/kvm');
  assert.deepEqual(argv.slice(1, 9), ['-name', 'inst1', '-m', '256', '-smp', '2', '-pidfile', '/r/pid/inst1']);
  assert.equal(machine, 'pc-i440fx-7.2');
  assert.deepEqual(values(argv, '-machine'), ['pc-i440fx-7.2']);
  assert.deepEqual(values(argv, '-accel'), ['tcg']);
  assert.deepEqual(values(argv, '-device'), ['virtio-balloon'], 'the balloon as a device: -balloon is gone since 3.1');
  assert.ok(!argv.includes('-balloon') && !argv.includes('-usbdevice') && !argv.includes('-no-acpi'));
  assert.ok(argv.includes('-daemonize'));
  assert.deepEqual(values(argv, '-monitor'), ['unix:/r/ctrl/inst1.monitor,server=on,wait=off']);
  assert.deepEqual(values(argv, '-serial'), ['unix:/r/ctrl/inst1.serial,server=on,wait=off']);
  assert.deepEqual(values(argv, '-qmp'), ['unix:/r/ctrl/inst1.qmp,server=on,wait=off']);
  assert.deepEqual(values(argv, '-display'), ['none'], 'never -nographic with -daemonize');
  assert.deepEqual(values(argv, '-nic'), ['none']);
  assert.deepEqual(values(argv, '-uuid'), ['11111111-2222-3333-4444-555555555555']);
  assert.ok(!argv.includes('-S'));
  assert.ok(buildKvmCommand(input(caps('7.2'), {}, { startupPaused: true })).argv.includes('-S'));
});

test('command line: kernel, initrd and the appended arguments with the serial console', () => {
  const { argv } = buildKvmCommand(input(caps('7.2'), { kernel_path: '/boot/vmlinuz', initrd_path: '/boot/initrd', kernel_args: 'ro quiet', root_path: '/dev/vda1', serial_speed: 115200 }));
  assert.deepEqual(values(argv, '-kernel'), ['/boot/vmlinuz']);
  assert.deepEqual(values(argv, '-initrd'), ['/boot/initrd']);
  assert.deepEqual(values(argv, '-append'), ['root=/dev/vda1 ro quiet console=ttyS0,115200']);
  const noSerial = buildKvmCommand(input(caps('7.2'), { kernel_path: '/boot/vmlinuz', serial_console: false })).argv;
  assert.deepEqual(values(noSerial, '-serial'), ['none']);
  assert.ok(!values(noSerial, '-append')[0].includes('console='));
});

test('command line: acpi off, reboot exit, user shutdown, kvm and machine version', () => {
  const c = caps('7.2');
  let { argv } = buildKvmCommand(input(c, { acpi: false, reboot_behavior: 'exit', user_shutdown: true, machine_version: 'q35' }, { accel: 'kvm' }));
  assert.deepEqual(values(argv, '-machine'), ['q35,acpi=off'], '-no-acpi is deprecated (8.0) and removed (9.0): the machine property');
  assert.deepEqual(values(argv, '-accel'), ['kvm']);
  assert.ok(argv.includes('-no-reboot') && argv.includes('-no-shutdown') && !argv.includes('-no-acpi'));
  // An old qemu (no -accel): the machine property; -no-acpi before 5.0.
  ({ argv } = buildKvmCommand(input(caps('2.11-crafted'), { acpi: false })));
  assert.deepEqual(values(argv, '-machine'), ['pc-i440fx-2.11,accel=tcg']);
  assert.ok(argv.includes('-no-acpi'));
  assert.deepEqual(values(argv, '-device'), [], 'no virtio-balloon device there');
  assert.deepEqual(values(argv, '-balloon'), ['virtio']);
  assert.deepEqual(values(argv, '-serial'), ['unix:/r/ctrl/inst1.serial,server,nowait'], 'the old chardev syntax before 6.0');
  assert.deepEqual(values(argv, '-net'), ['none']);
  assert.throws(() => buildKvmCommand(input(c, { kvm_flag: 'enabled' })), /kvm_flag is 'enabled' but this node has no KVM/);
});

test('command line: chroot and user on 7.2 (-chroot/-runas) and on 9.2 (-run-with)', () => {
  const hv = { use_chroot: true, security_model: 'user', security_domain: 'nobody' };
  let { argv } = buildKvmCommand(input(caps('7.2'), hv));
  assert.deepEqual(values(argv, '-chroot'), ['/r/chroot/inst1']);
  assert.deepEqual(values(argv, '-runas'), ['nobody']);
  ({ argv } = buildKvmCommand(input(caps('9.2-crafted'), hv)));
  assert.ok(!argv.includes('-chroot') && !argv.includes('-runas'));
  assert.deepEqual(values(argv, '-run-with'), ['chroot=/r/chroot/inst1,user=nobody']);
  assert.throws(() => buildKvmCommand(input(caps('7.2'), { security_model: 'pool' })), /'pool'.*not supported/);
});

test('command line: VNC on the network port, a tablet as a USB device, usb_devices', () => {
  const c = caps('7.2');
  let { argv } = buildKvmCommand(input(c, { vnc_bind_address: '0.0.0.0' }));
  assert.deepEqual(values(argv, '-vnc'), [':5100']);
  assert.deepEqual(values(argv, '-device'), ['virtio-balloon', 'usb-tablet']);
  assert.ok(!argv.includes('-display'));
  ({ argv } = buildKvmCommand(input(c, { vnc_bind_address: '127.0.0.2', vnc_tls: true, vnc_x509_path: '/etc/x509', vnc_password_file: '/etc/pw' })));
  assert.deepEqual(values(argv, '-vnc'), ['127.0.0.2:5100,tls-creds=vnc-tls0,password=on'], 'no ",tls,x509=" since 3.1');
  assert.deepEqual(values(argv, '-object'), ['tls-creds-x509,id=vnc-tls0,endpoint=server,dir=/etc/x509,verify-peer=off']);
  ({ argv } = buildKvmCommand(input(c, { vnc_bind_address: '/var/run/vnc' })));
  assert.deepEqual(values(argv, '-vnc'), ['unix:/var/run/vnc/inst1.vnc']);
  const low = buildKvmCommand(input(c, { vnc_bind_address: '0.0.0.0' }, { networkPort: 1000 }));
  assert.deepEqual(values(low.argv, '-vnc'), ['none']);
  assert.match(low.notes[0], /not a valid VNC display/);
  ({ argv } = buildKvmCommand(input(c, { usb_devices: 'host:1234:abcd,mouse' })));
  assert.deepEqual(values(argv, '-device').slice(1), ['usb-host,vendorid=0x1234,productid=0xabcd', 'usb-mouse']);
  assert.equal(usbDevice('host:3.7'), 'usb-host,hostbus=3,hostaddr=7');
  assert.throws(() => buildKvmCommand(input(c, { usb_devices: 'nosuchthing' })), /usb_devices 'nosuchthing'/);
});

test('command line: disks per disk_type, cache for shared storage, NICs with their MACs', () => {
  const c = caps('7.2');
  const disks = [
    { disk: { uuid: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee', dev_type: 'file', mode: 'rw' }, link: '/r/disks/inst1:0', uri: null },
    { disk: { uuid: 'ffffffff-bbbb-cccc-dddd-eeeeeeeeeeee', dev_type: 'sharedfile', mode: 'rw' }, link: '/r/disks/inst1:1', uri: null },
  ];
  const nics = [{ mac: 'aa:00:00:12:34:56', uuid: '01234567-89ab-cdef-0123-456789abcdef', nicparams: { mode: 'bridged', link: 'lo' } }];
  const first = buildKvmCommand(input(c, { disk_cache: 'writeback' }, { disks, nics, netBackends: ['user'] }));
  let argv = first.argv;
  const notes = first.notes;
  assert.deepEqual(values(argv, '-netdev'), ['user,id=nic-01234567-89ab-cdef']);
  assert.deepEqual(values(argv, '-device').slice(1), [
    'virtio-net-pci,id=nic-01234567-89ab-cdef,bus=pci.0,addr=0xc,netdev=nic-01234567-89ab-cdef,mac=aa:00:00:12:34:56',
    'virtio-blk-pci,id=disk-aaaaaaaa-bbbb-cccc,bus=pci.0,addr=0xd,drive=disk-aaaaaaaa-bbbb-cccc',
    'virtio-blk-pci,id=disk-ffffffff-bbbb-cccc,bus=pci.0,addr=0xe,drive=disk-ffffffff-bbbb-cccc',
  ]);
  assert.deepEqual(values(argv, '-drive'), [
    'file=/r/disks/inst1:0,format=raw,if=none,cache=writeback,id=disk-aaaaaaaa-bbbb-cccc',
    'file=/r/disks/inst1:1,format=raw,if=none,cache=none,id=disk-ffffffff-bbbb-cccc',
  ]);
  assert.match(notes.join('\n'), /overriding disk_cache setting 'writeback' with 'none' to prevent shared storage corruption/);
  // Boot from the first disk without a kernel.
  ({ argv } = buildKvmCommand(input(c, { disk_type: 'scsi-hd', nic_type: 'e1000' }, { disks, nics, netBackends: ['tap,ifname=gnt1.0,script=no,downscript=no'] })));
  assert.deepEqual(values(argv, '-boot'), ['c']);
  assert.deepEqual(values(argv, '-netdev'), ['tap,id=nic-01234567-89ab-cdef,ifname=gnt1.0,script=no,downscript=no']);
  const devs = values(argv, '-device');
  assert.equal(devs[0], 'lsi,id=scsi');
  assert.ok(devs.includes('scsi-hd,id=disk-aaaaaaaa-bbbb-cccc,bus=scsi.0,channel=0,scsi-id=0,lun=0,drive=disk-aaaaaaaa-bbbb-cccc'));
  assert.ok(devs.some((d) => d.startsWith('e1000,id=nic-')));
  // ide: no such device, so the old if=ide drive.
  ({ argv } = buildKvmCommand(input(c, { disk_type: 'ide', kernel_path: '/k' }, { disks: disks.slice(0, 1) })));
  assert.deepEqual(values(argv, '-drive'), ['file=/r/disks/inst1:0,format=raw,if=ide']);
  assert.equal(deviceId('disk', undefined, 3), 'disk-3');
});

test('command line: migration target, kvm_extra last', () => {
  const { argv } = buildKvmCommand(input(caps('7.2'), { kvm_extra: '-global  kvm-pit.lost_tick_policy=discard' }, { incoming: { host: '127.0.0.2', port: 8102 } }));
  assert.deepEqual(values(argv, '-incoming'), ['tcp:127.0.0.2:8102']);
  assert.deepEqual(argv.slice(-2), ['-global', 'kvm-pit.lost_tick_policy=discard']);
});

test('validation against the probed qemu: machine, devices, files, kvm_flag', () => {
  const c = caps('7.2');
  const base = { ...DEFAULT_HVPARAMS.kvm, kernel_path: '' };
  assert.equal(validateWithCaps(base, c, false), null);
  assert.equal(validateWithCaps({ ...base, machine_version: 'pc-i440fx-99.9' }, c, false), 'Unsupported machine version: pc-i440fx-99.9');
  assert.equal(validateWithCaps({ ...base, machine_version: 'pc-i440fx-7.0' }, c, false), null);
  assert.match(validateWithCaps({ ...base, nic_type: 'rtl8139x' }, c, false)!, /nic_type' is 'rtl8139x', but this node's qemu \(7\.2\.22\) has no device 'rtl8139x'/);
  assert.match(validateWithCaps({ ...base, disk_type: 'scsi-hd', scsi_controller_type: 'nosuchscsi' }, c, false)!, /scsi_controller_type/);
  assert.match(validateWithCaps({ ...base, kernel_path: '/nonexistent/vmlinuz' }, c, false)!,
    /Parameter 'kernel_path' fails validation: not found or not a file \(current value: '\/nonexistent\/vmlinuz'\)/);
  assert.match(validateWithCaps({ ...base, kvm_flag: 'enabled' }, c, false)!, /kvm_flag.*no KVM/);
  assert.equal(validateWithCaps({ ...base, kvm_flag: 'enabled' }, c, true), null);
  assert.match(validateWithCaps({ ...base, vnc_bind_address: 'not an address' }, c, false)!, /VNC: The vnc_bind_address parameter must be/);
  assert.match(validateWithCaps({ ...base, soundhw: 'sb16x' }, c, false)!, /soundhw/);
  assert.equal(validateWithCaps({ ...base, use_chroot: true }, caps('9.2-crafted'), false), null, 'chroot through -run-with');
});

test('cpu_mask: parsed as upstream\'s multi-CPU mask; a malformed one is refused', async () => {
  const { parseMultiCpuMask, needsPinning } = await import('../../src/node/hypervisor/kvm/pinning.ts');
  assert.deepEqual(parseMultiCpuMask('all'), ['all']);
  assert.deepEqual(parseMultiCpuMask('0-2,4'), [[0, 1, 2, 4]]);
  assert.deepEqual(parseMultiCpuMask('1:3:all'), [[1], [3], 'all']);
  assert.throws(() => parseMultiCpuMask('2-1'), /Invalid CPU mask definition: 2-1/);
  assert.ok(!needsPinning('all') && !needsPinning('') && needsPinning('0') && needsPinning('all:1'));
  assert.match(validateWithCaps({ ...DEFAULT_HVPARAMS.kvm, kernel_path: '', cpu_mask: 'x' }, caps('7.2'), false)!, /Parameter 'cpu_mask' fails syntax check/);
});

test('bind addresses given as an interface name: its first address, or a clear error', async () => {
  const c = caps('7.2');
  const interfaces = {
    br0: [
      { address: 'fe80::1', netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', mac: '00:00:00:00:00:01', internal: false, cidr: 'fe80::1/64', scopeid: 2 },
      { address: '192.0.2.7', netmask: '255.255.255.0', family: 'IPv4', mac: '00:00:00:00:00:01', internal: false, cidr: '192.0.2.7/24' },
      { address: '192.0.2.8', netmask: '255.255.255.0', family: 'IPv4', mac: '00:00:00:00:00:01', internal: false, cidr: '192.0.2.8/24' },
    ],
    v6only: [{ address: '2001:db8::5', netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', mac: '00:00:00:00:00:02', internal: false, cidr: '2001:db8::5/64', scopeid: 0 }],
  } as unknown as NodeJS.Dict<import('node:os').NetworkInterfaceInfo[]>;
  let { argv } = buildKvmCommand(input(c, { vnc_bind_address: 'br0' }, { interfaces }));
  assert.deepEqual(values(argv, '-vnc'), ['192.0.2.7:5100'], 'not "unix:br0/inst1.vnc"');
  assert.throws(() => buildKvmCommand(input(c, { vnc_bind_address: 'v6only' }, { interfaces })), /VNC: could not determine an IPv4 address of interface v6only/);
  assert.throws(() => buildKvmCommand(input(c, { vnc_bind_address: 'nosuch0' }, { interfaces })), /VNC: 'nosuch0' is neither an IP address, an absolute path nor an interface of this node/);
  ({ argv } = buildKvmCommand(input(c, { spice_bind: 'v6only' }, { interfaces })));
  assert.match(values(argv, '-spice')[0], /^addr=2001:db8::5,port=11000/);
  assert.equal(resolveBindAddress('SPICE', 'br0', 0, interfaces), '192.0.2.7');
  assert.equal(resolveBindAddress('SPICE', 'br0', 6, interfaces), 'fe80::1');
  assert.throws(() => resolveBindAddress('SPICE', 'v6only', 4, interfaces), /SPICE: could not determine an IPv4 address of interface v6only/);
  // Addresses and paths are kept as they are; the real loopback interface resolves.
  assert.equal(resolveBindAddress('VNC', '0.0.0.0'), '0.0.0.0');
  assert.equal(resolveBindAddress('VNC', '/var/run/vnc'), '/var/run/vnc');
  assert.equal(resolveBindAddress('VNC', 'lo'), '127.0.0.1');
  // The console reports the address too.
  const { KvmHypervisor } = await import('../../src/node/hypervisor/kvm/index.ts');
  const { nodePaths } = await import('../../src/util/paths.ts');
  const os = await import('node:os');
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kvm-cl-'));
  try {
    const hv = new KvmHypervisor(nodePaths(root));
    const inst = { name: 'inst1', hypervisor: 'kvm', hvparams: { serial_console: false, vnc_bind_address: 'lo' }, beparams: {}, network_port: 5901 };
    assert.deepEqual(hv.console(inst as never, { name: 'node1' }, {}, {}, {}), { instance: 'inst1', kind: 'vnc', host: '127.0.0.1', port: 5901, display: 1 });
    const bad = hv.console({ ...inst, hvparams: { serial_console: false, vnc_bind_address: 'nosuch0' } } as never, { name: 'node1' }, {}, {}, {});
    assert.equal(bad.kind, 'msg');
    assert.match(String(bad.message), /nosuch0/);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
