// Default parameters of a new cluster: Ganeti 3.0.2's values, as its `gnt-cluster init`
// writes them into config.data (read off a real 3.0.2 cluster, shared/samples/).

export const DEFAULT_BEPARAMS = {
  "default": {
    "always_failover": false,
    "auto_balance": true,
    "maxmem": 128,
    "minmem": 128,
    "spindle_use": 1,
    "vcpus": 1
  }
};

export const DEFAULT_COMPRESSION_TOOLS = [
  "gzip",
  "gzip-fast",
  "gzip-slow"
];

export const DEFAULT_DATA_COLLECTORS = {
  "cpu-avg-load": {
    "active": true,
    "interval": 5000000
  },
  "diskstats": {
    "active": true,
    "interval": 5000000
  },
  "drbd": {
    "active": true,
    "interval": 5000000
  },
  "inst-status-xen": {
    "active": true,
    "interval": 5000000
  },
  "lv": {
    "active": true,
    "interval": 5000000
  },
  "xen-cpu-avg-load": {
    "active": true,
    "interval": 5000000
  }
};

export const DEFAULT_DEFAULT_IALLOCATOR = "hail";

export const DEFAULT_DISKPARAMS = {
  "blockdev": {},
  "diskless": {},
  "drbd": {
    "c-delay-target": 1,
    "c-fill-target": 0,
    "c-max-rate": 61440,
    "c-min-rate": 4096,
    "c-plan-ahead": 20,
    "data-stripes": 1,
    "disk-barriers": "n",
    "disk-custom": "",
    "dynamic-resync": false,
    "meta-barriers": false,
    "meta-stripes": 1,
    "metavg": "xenvg",
    "net-custom": "",
    "protocol": "C",
    "resync-rate": 61440
  },
  "ext": {
    "access": "kernelspace"
  },
  "file": {},
  "gluster": {
    "access": "kernelspace",
    "host": "127.0.0.1",
    "port": 24007,
    "volume": "gv0"
  },
  "plain": {
    "stripes": 1
  },
  "rbd": {
    "access": "kernelspace",
    "pool": "rbd"
  },
  "sharedfile": {}
};

export const DEFAULT_HVPARAMS = {
  "chroot": {
    "init_script": "/ganeti-chroot"
  },
  "fake": {
    "migration_mode": "live"
  },
  "kvm": {
    "acpi": true,
    "boot_order": "disk",
    "cdrom2_image_path": "",
    "cdrom_disk_type": "",
    "cdrom_image_path": "",
    "cpu_cores": 0,
    "cpu_mask": "all",
    "cpu_sockets": 0,
    "cpu_threads": 0,
    "cpu_type": "",
    "disk_aio": "threads",
    "disk_cache": "default",
    "disk_discard": "default",
    "disk_type": "paravirtual",
    "floppy_image_path": "",
    "initrd_path": "",
    "kernel_args": "ro",
    "kernel_path": "/boot/vmlinuz-3-kvmU",
    "keymap": "",
    "kvm_extra": "",
    "kvm_flag": "",
    "kvm_path": "/usr/bin/kvm",
    "kvm_pci_reservations": 12,
    "machine_version": "",
    "mem_path": "",
    "migration_bandwidth": 32,
    "migration_caps": "",
    "migration_downtime": 30,
    "migration_mode": "live",
    "migration_port": 8102,
    "nic_type": "paravirtual",
    "reboot_behavior": "reboot",
    "root_path": "/dev/vda1",
    "scsi_controller_type": "lsi",
    "security_domain": "",
    "security_model": "none",
    "serial_console": true,
    "serial_speed": 38400,
    "soundhw": "",
    "spice_bind": "",
    "spice_image_compression": "",
    "spice_ip_version": 0,
    "spice_jpeg_wan_compression": "",
    "spice_password_file": "",
    "spice_playback_compression": true,
    "spice_streaming_video": "",
    "spice_tls_ciphers": "HIGH:-DES:-3DES:-EXPORT:-DH",
    "spice_use_tls": false,
    "spice_use_vdagent": true,
    "spice_zlib_glz_wan_compression": "",
    "usb_devices": "",
    "usb_mouse": "",
    "use_chroot": false,
    "use_guest_agent": false,
    "use_localtime": false,
    "user_shutdown": false,
    "vga": "",
    "vhost_net": false,
    "virtio_net_queues": 1,
    "vnc_bind_address": "",
    "vnc_password_file": "",
    "vnc_tls": false,
    "vnc_x509_path": "",
    "vnc_x509_verify": false,
    "vnet_hdr": true
  },
  "lxc": {
    "cpu_mask": "",
    "devices": "c 1:3 rw,c 1:5 rw,c 1:7 rw,c 1:8 rw,c 1:9 rw,c 1:10 rw,c 5:0 rw,c 5:1 rw,c 5:2 rw,c 136:* rw",
    "drop_capabilities": "mac_override,sys_boot,sys_module,sys_time,sys_admin",
    "extra_cgroups": "",
    "extra_config": "",
    "num_ttys": 6,
    "startup_timeout": 30
  },
  "xen-hvm": {
    "acpi": true,
    "blockdev_prefix": "hd",
    "boot_order": "cd",
    "cdrom_image_path": "",
    "cpu_cap": 0,
    "cpu_mask": "all",
    "cpu_weight": 256,
    "cpuid": "",
    "device_model": "/usr/lib/xen/bin/qemu-dm",
    "disk_type": "paravirtual",
    "kernel_path": "/usr/lib/xen/boot/hvmloader",
    "migration_mode": "non-live",
    "migration_port": 8002,
    "nic_type": "rtl8139",
    "pae": true,
    "pci_pass": "",
    "reboot_behavior": "reboot",
    "soundhw": "",
    "use_localtime": false,
    "vif_script": "",
    "vif_type": "ioemu",
    "viridian": false,
    "vnc_bind_address": "0.0.0.0",
    "vnc_password_file": "/etc/ganeti/vnc-cluster-password",
    "xen_cmd": "xm"
  },
  "xen-pvm": {
    "blockdev_prefix": "sd",
    "bootloader_args": "",
    "bootloader_path": "",
    "cpu_cap": 0,
    "cpu_mask": "all",
    "cpu_weight": 256,
    "cpuid": "",
    "initrd_path": "",
    "kernel_args": "ro",
    "kernel_path": "/boot/vmlinuz-3-xenU",
    "migration_mode": "live",
    "migration_port": 8002,
    "reboot_behavior": "reboot",
    "root_path": "/dev/xvda1",
    "soundhw": "",
    "use_bootloader": false,
    "vif_script": "",
    "xen_cmd": "xm"
  }
};

export const DEFAULT_IPOLICY = {
  "disk-templates": [
    "diskless",
    "file"
  ],
  "minmax": [
    {
      "max": {
        "cpu-count": 8,
        "disk-count": 16,
        "disk-size": 1048576,
        "memory-size": 32768,
        "nic-count": 8,
        "spindle-use": 12
      },
      "min": {
        "cpu-count": 1,
        "disk-count": 1,
        "disk-size": 1024,
        "memory-size": 128,
        "nic-count": 1,
        "spindle-use": 1
      }
    }
  ],
  "spindle-ratio": 32,
  "std": {
    "cpu-count": 1,
    "disk-count": 1,
    "disk-size": 1024,
    "memory-size": 128,
    "nic-count": 1,
    "spindle-use": 1
  },
  "vcpu-ratio": 4
};

export const DEFAULT_NDPARAMS = {
  "cpu_speed": 1,
  "exclusive_storage": false,
  "oob_program": "",
  "ovs": false,
  "ovs_link": "",
  "ovs_name": "switch1",
  "spindle_count": 1,
  "ssh_port": 22
};

export const DEFAULT_NICPARAMS = {
  "default": {
    "link": "gnt0",
    "mode": "bridged",
    "vlan": ""
  }
};

export const DEFAULT_HV_STATE_STATIC = {
  "fake": {
    "cpu_node": 1,
    "cpu_total": 1,
    "mem_hv": 0,
    "mem_node": 0,
    "mem_total": 0
  }
};
