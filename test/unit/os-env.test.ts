// The OS scripts' environment (spec/surface.md §5.2) for an instance dict exactly as the
// master builds it (instanceRpcDict): every variable, and nothing else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { instanceRpcDict } from '../../src/master/config/instance-params.ts';
import type { ConfigData, DiskObject, InstanceObject } from '../../src/master/config/model.ts';
import { tryOsFromDisk, type OsDefinition } from '../../src/node/os/definition.ts';
import { osCoreEnv, osEnvironment } from '../../src/node/os/environment.ts';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/os');

function fixtureOs(name: string): OsDefinition {
  const r = tryOsFromDisk(name, [FIXTURES]);
  assert.ok(r.ok);
  return r.os;
}

const NODE1 = '8ab4faff-2a83-4d29-8034-ae843445e60c';
const INST = '3bb97e88-c752-4801-b661-b1c1a3bf08b6';
const DISK0 = 'ac0bcf40-64ca-46a6-80ab-58e3786cd4c0';
const DISK1 = 'd1d1d1d1-0000-4000-8000-000000000001';

function disk(uuid: string, fields: Partial<DiskObject>): DiskObject {
  return {
    uuid, serial_no: 1, ctime: 1795467171.817796, mtime: 1795467171.8177946, children: [], nodes: [NODE1], params: {},
    dev_type: 'file', logical_id: [], iv_name: 'disk/0', size: 1024, mode: 'rw', ...fields,
  };
}

function sampleConfig(): ConfigData {
  const instance: InstanceObject = {
    uuid: INST, serial_no: 3, ctime: 1795467171.797786, mtime: 1795467172.372306,
    name: 'inst1.example.com', primary_node: NODE1, os: 'writer+second', hypervisor: 'kvm',
    hvparams: { kernel_path: '/boot/custom' }, beparams: { maxmem: 256, vcpus: 2 },
    osparams: { marker: 'hello' }, osparams_private: { secret: 's3cr3t' },
    admin_state: 'up', admin_state_source: 'admin', disks_active: true, tags: ['t1'],
    nics: [
      { mac: 'aa:00:00:f2:8e:1d', ip: '192.0.2.10', name: 'eth0', nicparams: {}, uuid: '9b66ad35-ea0b-4b5e-94c5-214be138d48c' },
      { mac: 'aa:00:00:f2:8e:1e', ip: null, name: null, nicparams: { mode: 'routed', link: 'rt100' }, uuid: '9b66ad35-ea0b-4b5e-94c5-214be138d48d' },
    ],
    disks: [DISK0, DISK1],
  };
  return {
    version: 3000000, serial_no: 1, ctime: 0, mtime: 0, networks: {}, filters: {}, nodegroups: {},
    cluster: {
      uuid: 'c', serial_no: 1, ctime: 0, mtime: 0, cluster_name: 'cluster.example.com', master_node: NODE1,
      master_ip: '192.0.2.1', master_netdev: 'gnt0', master_netmask: 32, primary_ip_family: 2,
      enabled_hypervisors: ['kvm', 'fake'], enabled_disk_templates: ['file', 'plain'], candidate_pool_size: 10,
      max_running_jobs: 20, max_tracked_jobs: 25, file_storage_dir: '/srv/ganeti/file-storage',
      shared_file_storage_dir: '', gluster_storage_dir: '', tags: [],
      hvparams: { kvm: { acpi: true, disk_type: 'paravirtual', kernel_path: '/boot/vmlinuz', migration_port: 8102, nic_type: 'e1000' } },
      beparams: { default: { always_failover: false, auto_balance: true, maxmem: 128, minmem: 128, spindle_use: 1, vcpus: 1 } },
      nicparams: { default: { link: 'gnt0', mode: 'bridged', vlan: '' } },
      osparams: { writer: { flavour: 'vanilla', marker: 'cluster' } },
      osparams_private_cluster: { writer: { token: 'cluster-token' } },
    } as unknown as ConfigData['cluster'],
    nodes: { [NODE1]: { uuid: NODE1, name: 'node1.example.com' } as unknown as ConfigData['nodes'][string] },
    instances: { [INST]: instance },
    disks: {
      [DISK0]: disk(DISK0, { dev_type: 'file', logical_id: ['loop', `/srv/ganeti/file-storage/inst1.example.com/${DISK0}.file.disk0`], name: 'root' }),
      [DISK1]: disk(DISK1, { dev_type: 'plain', logical_id: ['xenvg', `${DISK1}.disk1_data`], iv_name: 'disk/1', size: 512, mode: 'ro' }),
    },
  };
}

test('every variable for a sample instance, as instanceRpcDict builds it', () => {
  const config = sampleConfig();
  const inst = instanceRpcDict(config, config.instances[INST]);
  // Where the node found the disks (src/node/os/disks.ts): a file below a virtual node's root, an LV.
  const devices = [
    { path: `/tmp/cluster/node1/srv/ganeti/file-storage/inst1.example.com/${DISK0}.file.disk0`, uri: null },
    { path: `/dev/xenvg/${DISK1}.disk1_data`, uri: null },
  ];
  const env = osEnvironment(inst, fixtureOs('writer'), 1, devices);
  assert.deepEqual(env, {
    OS_API_VERSION: '20',
    OS_NAME: 'writer',
    OS_VARIANT: 'second',
    DEBUG_LEVEL: '1',
    // Cluster osparams, the instance's own, then the private ones.
    OSP_FLAVOUR: 'vanilla',
    OSP_MARKER: 'hello',
    OSP_TOKEN: 'cluster-token',
    OSP_SECRET: 's3cr3t',
    PATH: '/sbin:/bin:/usr/sbin:/usr/bin',
    INSTANCE_NAME: 'inst1.example.com',
    INSTANCE_OS: 'writer+second',
    INSTANCE_UUID: INST,
    INSTANCE_CTIME: '1795467171.797786',
    INSTANCE_MTIME: '1795467172.372306',
    INSTANCE_PRIMARY_NODE: 'node1.example.com',
    INSTANCE_SECONDARY_NODES: '',
    HYPERVISOR: 'kvm',
    DISK_COUNT: '2',
    NIC_COUNT: '2',
    DISK_0_ACCESS: 'rw',
    DISK_0_UUID: DISK0,
    DISK_0_SIZE: '1024',
    // File disks: the cluster path re-rooted below the (virtual) node's root.
    DISK_0_PATH: `/tmp/cluster/node1/srv/ganeti/file-storage/inst1.example.com/${DISK0}.file.disk0`,
    DISK_0_NAME: 'root',
    DISK_0_FRONTEND_TYPE: 'paravirtual',
    DISK_0_BACKEND_TYPE: 'file:loop',
    DISK_1_ACCESS: 'ro',
    DISK_1_UUID: DISK1,
    DISK_1_SIZE: '512',
    DISK_1_PATH: `/dev/xenvg/${DISK1}.disk1_data`,
    DISK_1_FRONTEND_TYPE: 'paravirtual',
    DISK_1_BACKEND_TYPE: 'block',
    NIC_0_MAC: 'aa:00:00:f2:8e:1d',
    NIC_0_UUID: '9b66ad35-ea0b-4b5e-94c5-214be138d48c',
    NIC_0_NAME: 'eth0',
    NIC_0_IP: '192.0.2.10',
    NIC_0_MODE: 'bridged',
    NIC_0_BRIDGE: 'gnt0',
    NIC_0_LINK: 'gnt0',
    NIC_0_FRONTEND_TYPE: 'e1000',
    NIC_1_MAC: 'aa:00:00:f2:8e:1e',
    NIC_1_UUID: '9b66ad35-ea0b-4b5e-94c5-214be138d48d',
    NIC_1_MODE: 'routed',
    NIC_1_LINK: 'rt100',
    NIC_1_FRONTEND_TYPE: 'e1000',
    // Filled parameters, Python's str() of each value.
    INSTANCE_BE_always_failover: 'False',
    INSTANCE_BE_auto_balance: 'True',
    INSTANCE_BE_maxmem: '256',
    INSTANCE_BE_minmem: '128',
    INSTANCE_BE_spindle_use: '1',
    INSTANCE_BE_vcpus: '2',
    INSTANCE_HV_acpi: 'True',
    INSTANCE_HV_disk_type: 'paravirtual',
    INSTANCE_HV_kernel_path: '/boot/custom',
    INSTANCE_HV_migration_port: '8102',
    INSTANCE_HV_nic_type: 'e1000',
  });
});

test('the core environment: API version, variants and parameter names', () => {
  const writer = fixtureOs('writer');
  // No variant in the name: the OS's first; parameter names upper-cased with '-' as '_'.
  assert.deepEqual(osCoreEnv('writer', writer, { 'dash-ed': 1, Mixed: true }, 0), {
    OS_API_VERSION: '20', OS_NAME: 'writer', DEBUG_LEVEL: '0', OS_VARIANT: 'default',
    OSP_DASH_ED: '1', OSP_MIXED: 'True', PATH: '/sbin:/bin:/usr/sbin:/usr/bin',
  });
  // API 10 has no variants: OS_VARIANT is empty whatever the name says.
  const failing = fixtureOs('failing');
  assert.deepEqual(osCoreEnv('failing+x', failing, {}, 0), {
    OS_API_VERSION: '10', OS_NAME: 'failing', DEBUG_LEVEL: '0', OS_VARIANT: '', PATH: '/sbin:/bin:/usr/sbin:/usr/bin',
  });
  // The highest version both sides speak, not the highest the OS lists.
  assert.equal(osCoreEnv('x', { ...failing, apiVersions: [25, 15, 5] }, {}, 0).OS_API_VERSION, '15');
});

test('NICs on a network, secondary nodes, a diskless fake instance', () => {
  const inst = {
    name: 'net1', os: 'failing', uuid: 'u', ctime: 1.5, mtime: 2.25, primary_node: 'nodeuuid', hypervisor: 'fake',
    secondary_nodes: ['node2', 'node3'], disks_info: [], beparams: {}, hvparams: { migration_mode: 'live' },
    osparams: {}, osparams_private: {},
    nics: [{
      mac: 'aa:00:00:00:00:01', uuid: 'n1', ip: '198.51.100.7', nicparams: { mode: 'openvswitch', link: '' },
      netinfo: { name: 'net-a', uuid: 'net-uuid', tags: ['x', 'y'], network: '198.51.100.0/24', gateway: '198.51.100.1', network6: null, gateway6: null, mac_prefix: 'aa:00:01' },
    }],
  };
  const env = osEnvironment(inst, fixtureOs('failing'), 0, []);
  assert.equal(env.INSTANCE_PRIMARY_NODE, 'nodeuuid');
  assert.equal(env.INSTANCE_SECONDARY_NODES, 'node2 node3');
  assert.equal(env.INSTANCE_CTIME, '1.5');
  assert.equal(env.DISK_COUNT, '0');
  assert.equal(env.INSTANCE_HV_migration_mode, 'live');
  // Secret parameters (instance_os_add's extra) join the others as OSP_ variables.
  const withSecret = osEnvironment({ ...inst, osparams: { a: '1', b: '1' }, osparams_private: { b: '2' }, osparams_secret: { c: '3' } }, fixtureOs('failing'), 0, []);
  assert.deepEqual([withSecret.OSP_A, withSecret.OSP_B, withSecret.OSP_C], ['1', '2', '3']);
  const nicVars = Object.fromEntries(Object.entries(env).filter(([k]) => k.startsWith('NIC_0_')));
  assert.deepEqual(nicVars, {
    NIC_0_MAC: 'aa:00:00:00:00:01', NIC_0_UUID: 'n1', NIC_0_IP: '198.51.100.7', NIC_0_MODE: 'openvswitch',
    NIC_0_NETWORK_NAME: 'net-a', NIC_0_NETWORK_UUID: 'net-uuid', NIC_0_NETWORK_TAGS: 'x y',
    NIC_0_NETWORK_SUBNET: '198.51.100.0/24', NIC_0_NETWORK_GATEWAY: '198.51.100.1', NIC_0_NETWORK_MAC_PREFIX: 'aa:00:01',
  });
});
