process.env.TZ = 'UTC';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatInfo, pairs, tuple, type InfoDict, type InfoValue } from '../../src/cli/format/info.ts';
import { pyFixed } from '../../src/core/pyrepr.ts';
import { formatTimestamp } from '../../src/cli/format/time.ts';

// Expected outputs are the STDOUT sections of the named golden files.

test('scalars, empty containers and nesting', () => {
  assert.deepEqual(formatInfo(pairs(['a', null], ['b', true], ['c', 1.5], ['d', ''], ['e', {}], ['f', []], ['g', pairs()])),
    ['a: None', 'b: True', 'c: 1.5', 'd: ', 'e: ', 'f: ', 'g: ']);
  assert.deepEqual(formatInfo({ z: 1, a: { y: [1, [2, 3]], b: {} } }),
    ['a: ', '  b: ', '  y: ', '    - 1', '    - - 2', '      - 3', 'z: 1']);
  assert.deepEqual(formatInfo([{ k: 'v', j: 'w' }, [], {}]), ['- j: w', '  k: v', '- ', '- ']);
  assert.deepEqual(formatInfo({}), ['']);
});

test('tuples of scalars are inline; others are lists', () => {
  assert.deepEqual(formatInfo(pairs(['t', tuple(1, 'message', 'text, with comma')], ['e', tuple()], ['n', tuple(1, [2])])),
    ['t: [1, message, text, with comma]', 'e: []', 'n: ', '  - 1', '  - - 2']);
});

test('alignment groups pad values to the longest key of the group', () => {
  assert.deepEqual(formatInfo(pairs(['Short', 1, 'g'], ['A longer key', 2, 'g'], ['Other', 3], ['Mid key', 4, 'g'])),
    ['Short:        1', 'A longer key: 2', 'Other: 3', 'Mid key:      4']);
});

const at = (hms: string, usec: number): [number, number] => {
  const [h, m, s] = hms.split(':').map(Number);
  return [Date.UTC(2026, 10, 23, h, m, s) / 1000, usec];
};

interface Job {
  id: number;
  status: string;
  received: [number, number];
  started: [number, number];
  ended: [number, number];
  ops: {
    input: InfoDict;
    status: string;
    started: [number, number] | null;
    executed: [number, number] | null;
    ended: [number, number] | null;
    result: InfoValue;
    log: [number, [number, number], string, string][];
  }[];
}

const seconds = (from: [number, number], to: [number, number]) => to[0] - from[0] + (to[1] - from[1]) / 1e6;

/** What `gnt-job info` hands to the serializer for one job. */
function jobInfo(job: Job): InfoValue {
  const delta = (from: [number, number], to: [number, number]) => ` (delta ${pyFixed(seconds(from, to), 6)}s)`;
  return pairs(
    ['Job ID', job.id],
    ['Status', job.status],
    ['Received', formatTimestamp(job.received), 'ts'],
    ['Processing start', formatTimestamp(job.started) + delta(job.received, job.started), 'ts'],
    ['Processing end', formatTimestamp(job.ended) + delta(job.started, job.ended), 'ts'],
    ['Total processing time', `${pyFixed(seconds(job.received, job.ended), 6)} seconds`],
    ['Opcodes', job.ops.map((op) => pairs(
      ['Opcode', op.input.OP_ID],
      ['Status', op.status],
      ['Processing start', formatTimestamp(op.started), 'opts'],
      ['Execution start', formatTimestamp(op.executed), 'opts'],
      ['Processing end', formatTimestamp(op.ended), 'opts'],
      ['Input fields', op.input],
      ['Result', op.result],
      ['Execution log', op.log.map(([serial, ts, type, message]) =>
        pairs(['Time', formatTimestamp(ts)], ['Content', tuple(serial, type, message)]))],
    ))],
  );
}

test('gnt-job info 10 (golden 070)', () => {
  const job: Job = {
    id: 10, status: 'error', received: at('21:11:22', 801623), started: at('21:11:23', 134152), ended: at('21:11:23', 142723),
    ops: [{
      status: 'error', started: at('21:11:23', 134152), executed: null, ended: at('21:11:23', 142715),
      input: {
        OP_ID: 'OP_TEST_DELAY', comment: null, debug_level: 0, depends: null, dry_run: false, duration: 0,
        interruptible: false, no_locks: false, on_master: true, on_nodes: [], priority: 0,
        reason: [['gnt:client:gnt-debug', 'delay', 1795468282798816768n], ['gnt:opcode:test_delay', 'job=10;index=0', 1795468282801623000n]],
        repeat: 0,
      },
      result: ['OpPrereqError', ['Duration must be greater than zero']],
      log: [],
    }],
  };
  assert.deepEqual(formatInfo([jobInfo(job)]), [
    "- Job ID: 10",
    "  Status: error",
    "  Received:         2026-11-23 21:11:22.801623",
    "  Processing start: 2026-11-23 21:11:23.134152 (delta 0.332529s)",
    "  Processing end:   2026-11-23 21:11:23.142723 (delta 0.008571s)",
    "  Total processing time: 0.341100 seconds",
    "  Opcodes: ",
    "    - Opcode: OP_TEST_DELAY",
    "      Status: error",
    "      Processing start: 2026-11-23 21:11:23.134152",
    "      Execution start:  N/A",
    "      Processing end:   2026-11-23 21:11:23.142715",
    "      Input fields: ",
    "        OP_ID: OP_TEST_DELAY",
    "        comment: None",
    "        debug_level: 0",
    "        depends: None",
    "        dry_run: False",
    "        duration: 0",
    "        interruptible: False",
    "        no_locks: False",
    "        on_master: True",
    "        on_nodes: ",
    "        priority: 0",
    "        reason: ",
    "          - - gnt:client:gnt-debug",
    "            - delay",
    "            - 1795468282798816768",
    "          - - gnt:opcode:test_delay",
    "            - job=10;index=0",
    "            - 1795468282801623000",
    "        repeat: 0",
    "      Result: ",
    "        - OpPrereqError",
    "        - - Duration must be greater than zero",
    "      Execution log: ",
  ]);
});

test('gnt-job info 50 with an execution log (golden 128)', () => {
  const job: Job = {
    id: 50, status: 'success', received: at('21:12:39', 48580), started: at('21:12:39', 455636), ended: at('21:12:40', 604321),
    ops: [{
      status: 'success', started: at('21:12:39', 455636), executed: at('21:12:39', 465013), ended: at('21:12:40', 604309),
      input: {
        OP_ID: 'OP_INSTANCE_CREATE', beparams: {}, comment: null, commit: false, compress: 'none', conflicts_check: true,
        debug_level: 0, depends: null, disk_template: 'diskless', disks: [], dry_run: false, force_variant: false,
        forthcoming: false, helper_shutdown_timeout: 7200, helper_startup_timeout: 300, hvparams: {}, hypervisor: 'fake',
        identify_defaults: false, ignore_ipolicy: false, instance_communication: false, instance_name: 'delta.gnt.test',
        ip_check: false, mode: 'create', name_check: false, nics: [{}], opportunistic_locking: false, os_type: 'noop',
        osparams: {}, osparams_private: {}, osparams_secret: {}, pnode: 'node1.gnt.test',
        pnode_uuid: '78c7e9f1-fab8-42d9-b8da-205deddba3ab', priority: 0,
        reason: [['gnt:library:rlib2:instances', '', 1795468359040248576n], ['gnt:opcode:instance_create', 'job=50;index=0', 1795468359048580000n]],
        source_shutdown_timeout: 120, start: true, tags: [], wait_for_sync: true,
      },
      result: ['node1.gnt.test'],
      log: [
        [1, at('21:12:39', 960047), 'message', '* creating instance disks...'],
        [2, at('21:12:39', 963401), 'message', 'adding instance delta.gnt.test to cluster config'],
        [3, at('21:12:39', 981006), 'message', 'adding disks to cluster config'],
        [4, at('21:12:40', 379563), 'message', '* starting instance...'],
      ],
    }],
  };
  assert.deepEqual(formatInfo([jobInfo(job)]), [
    "- Job ID: 50",
    "  Status: success",
    "  Received:         2026-11-23 21:12:39.048580",
    "  Processing start: 2026-11-23 21:12:39.455636 (delta 0.407056s)",
    "  Processing end:   2026-11-23 21:12:40.604321 (delta 1.148685s)",
    "  Total processing time: 1.555741 seconds",
    "  Opcodes: ",
    "    - Opcode: OP_INSTANCE_CREATE",
    "      Status: success",
    "      Processing start: 2026-11-23 21:12:39.455636",
    "      Execution start:  2026-11-23 21:12:39.465013",
    "      Processing end:   2026-11-23 21:12:40.604309",
    "      Input fields: ",
    "        OP_ID: OP_INSTANCE_CREATE",
    "        beparams: ",
    "        comment: None",
    "        commit: False",
    "        compress: none",
    "        conflicts_check: True",
    "        debug_level: 0",
    "        depends: None",
    "        disk_template: diskless",
    "        disks: ",
    "        dry_run: False",
    "        force_variant: False",
    "        forthcoming: False",
    "        helper_shutdown_timeout: 7200",
    "        helper_startup_timeout: 300",
    "        hvparams: ",
    "        hypervisor: fake",
    "        identify_defaults: False",
    "        ignore_ipolicy: False",
    "        instance_communication: False",
    "        instance_name: delta.gnt.test",
    "        ip_check: False",
    "        mode: create",
    "        name_check: False",
    "        nics: ",
    "          - ",
    "        opportunistic_locking: False",
    "        os_type: noop",
    "        osparams: ",
    "        osparams_private: ",
    "        osparams_secret: ",
    "        pnode: node1.gnt.test",
    "        pnode_uuid: 78c7e9f1-fab8-42d9-b8da-205deddba3ab",
    "        priority: 0",
    "        reason: ",
    "          - - gnt:library:rlib2:instances",
    "            - ",
    "            - 1795468359040248576",
    "          - - gnt:opcode:instance_create",
    "            - job=50;index=0",
    "            - 1795468359048580000",
    "        source_shutdown_timeout: 120",
    "        start: True",
    "        tags: ",
    "        wait_for_sync: True",
    "      Result: ",
    "        - node1.gnt.test",
    "      Execution log: ",
    "        - Time: 2026-11-23 21:12:39.960047",
    "          Content: [1, message, * creating instance disks...]",
    "        - Time: 2026-11-23 21:12:39.963401",
    "          Content: [2, message, adding instance delta.gnt.test to cluster config]",
    "        - Time: 2026-11-23 21:12:39.981006",
    "          Content: [3, message, adding disks to cluster config]",
    "        - Time: 2026-11-23 21:12:40.379563",
    "          Content: [4, message, * starting instance...]",
  ]);
});

test('gnt-cluster info (golden 001)', () => {
  const specs = (cpu: number, disks: number, size: number, mem: number, nics: number, spindles: number) => ({
    'cpu-count': cpu, 'disk-count': disks, 'disk-size': size, 'memory-size': mem, 'nic-count': nics, 'spindle-use': spindles,
  });
  const collector = { active: true, interval: '5.000s' };
  const searchPath = (kind: string) => ['/srv/ganeti', '/usr/local/lib/ganeti', '/usr/lib/ganeti', '/usr/share/ganeti']
    .map((dir) => `${dir}/${kind}`).join(', ');
  const data = pairs(
    ['Cluster name', 'cluster.gnt.test'],
    ['Cluster UUID', 'b56d4ab4-d794-49f5-bbbe-96f0fa47b1a4'],
    ['Creation time', formatTimestamp(at('21:11:05', 0)[0])],
    ['Modification time', formatTimestamp(at('21:11:20', 0)[0] + 0.4)],
    ['Master node', 'node1.gnt.test'],
    ['Architecture (this node)', '64bits (x86_64)'],
    ['Tags', 'env:test, owner:golden'],
    ['Default hypervisor', 'fake'],
    ['Enabled hypervisors', 'fake'],
    ['Hypervisor parameters', { fake: { migration_mode: 'live' } }],
    ['OS-specific hypervisor parameters', {}],
    ['OS parameters', {}],
    ['Hidden OSes', ''],
    ['Blacklisted OSes', ''],
    ['Cluster parameters', pairs(
      ['candidate pool size', 10],
      ['maximal number of jobs running simultaneously', 20],
      ['maximal number of jobs simultaneously tracked by the scheduler', 25],
      ['mac prefix', 'aa:00:00'],
      ['master netdev', 'gnt0'],
      ['master netmask', 32],
      ['use external master IP address setup script', false],
      ['lvm volume group', null],
      ['lvm reserved volumes', '(none)'],
      ['drbd usermode helper', null],
      ['file storage path', '/srv/ganeti/file-storage'],
      ['shared file storage path', '/srv/ganeti/shared-file-storage'],
      ['gluster storage path', '/var/run/ganeti/gluster'],
      ['maintenance of node health', false],
      ['uid pool', ''],
      ['default instance allocator', 'hail'],
      ['default instance allocator parameters', {}],
      ['primary ip version', 4],
      ['preallocation wipe disks', false],
      ['OS search path', searchPath('os')],
      ['ExtStorage Providers search path', searchPath('extstorage')],
      ['enabled disk templates', 'diskless, file'],
      ['install image', ''],
      ['instance communication network', ''],
      ['zeroing image', ''],
      ['compression tools', ['gzip', 'gzip-fast', 'gzip-slow']],
      ['enabled user shutdown', false],
      ['modify ssh setup', false],
      ['ssh_key_type', 'rsa'],
      ['ssh_key_bits', 2048],
    )],
    ['Default node parameters', {
      cpu_speed: 1, exclusive_storage: false, oob_program: '', ovs: false, ovs_link: '', ovs_name: 'switch1',
      spindle_count: 1, ssh_port: 22,
    }],
    ['Default instance parameters', {
      default: { always_failover: false, auto_balance: true, maxmem: 128, minmem: 128, spindle_use: 1, vcpus: 1 },
    }],
    ['Default nic parameters', { default: { link: 'gnt0', mode: 'bridged', vlan: '' } }],
    ['Default disk parameters', {
      blockdev: {}, diskless: {}, file: {}, sharedfile: {},
      drbd: {
        'c-delay-target': 1, 'c-fill-target': 0, 'c-max-rate': 61440, 'c-min-rate': 4096, 'c-plan-ahead': 20,
        'data-stripes': 1, 'disk-barriers': 'n', 'disk-custom': '', 'dynamic-resync': false, 'meta-barriers': false,
        'meta-stripes': 1, metavg: 'xenvg', 'net-custom': '', protocol: 'C', 'resync-rate': 61440,
      },
      ext: { access: 'kernelspace' },
      gluster: { access: 'kernelspace', host: '127.0.0.1', port: 24007, volume: 'gv0' },
      plain: { stripes: 1 },
      rbd: { access: 'kernelspace', pool: 'rbd' },
    }],
    ['Instance policy - limits for instances', pairs(
      ['bounds specs', [pairs(['min/0', specs(1, 1, 1024, 128, 1, 1)], ['max/0', specs(8, 16, 1048576, 32768, 8, 12)])]],
      ['std', specs(1, 1, 1024, 128, 1, 1)],
      ['allowed disk templates', 'file, diskless'],
      ['vcpu-ratio', '4'],
      ['spindle-ratio', '32'],
    )],
    ['Data collectors', Object.fromEntries(['xen-cpu-avg-load', 'lv', 'inst-status-xen', 'drbd', 'diskstats', 'cpu-avg-load']
      .map((name) => [name, collector]))],
  );
  assert.deepEqual(formatInfo(data), [
    "Cluster name: cluster.gnt.test",
    "Cluster UUID: b56d4ab4-d794-49f5-bbbe-96f0fa47b1a4",
    "Creation time: 2026-11-23 21:11:05",
    "Modification time: 2026-11-23 21:11:20",
    "Master node: node1.gnt.test",
    "Architecture (this node): 64bits (x86_64)",
    "Tags: env:test, owner:golden",
    "Default hypervisor: fake",
    "Enabled hypervisors: fake",
    "Hypervisor parameters: ",
    "  fake: ",
    "    migration_mode: live",
    "OS-specific hypervisor parameters: ",
    "OS parameters: ",
    "Hidden OSes: ",
    "Blacklisted OSes: ",
    "Cluster parameters: ",
    "  candidate pool size: 10",
    "  maximal number of jobs running simultaneously: 20",
    "  maximal number of jobs simultaneously tracked by the scheduler: 25",
    "  mac prefix: aa:00:00",
    "  master netdev: gnt0",
    "  master netmask: 32",
    "  use external master IP address setup script: False",
    "  lvm volume group: None",
    "  lvm reserved volumes: (none)",
    "  drbd usermode helper: None",
    "  file storage path: /srv/ganeti/file-storage",
    "  shared file storage path: /srv/ganeti/shared-file-storage",
    "  gluster storage path: /var/run/ganeti/gluster",
    "  maintenance of node health: False",
    "  uid pool: ",
    "  default instance allocator: hail",
    "  default instance allocator parameters: ",
    "  primary ip version: 4",
    "  preallocation wipe disks: False",
    "  OS search path: /srv/ganeti/os, /usr/local/lib/ganeti/os, /usr/lib/ganeti/os, /usr/share/ganeti/os",
    "  ExtStorage Providers search path: /srv/ganeti/extstorage, /usr/local/lib/ganeti/extstorage, /usr/lib/ganeti/extstorage, /usr/share/ganeti/extstorage",
    "  enabled disk templates: diskless, file",
    "  install image: ",
    "  instance communication network: ",
    "  zeroing image: ",
    "  compression tools: ",
    "    - gzip",
    "    - gzip-fast",
    "    - gzip-slow",
    "  enabled user shutdown: False",
    "  modify ssh setup: False",
    "  ssh_key_type: rsa",
    "  ssh_key_bits: 2048",
    "Default node parameters: ",
    "  cpu_speed: 1",
    "  exclusive_storage: False",
    "  oob_program: ",
    "  ovs: False",
    "  ovs_link: ",
    "  ovs_name: switch1",
    "  spindle_count: 1",
    "  ssh_port: 22",
    "Default instance parameters: ",
    "  default: ",
    "    always_failover: False",
    "    auto_balance: True",
    "    maxmem: 128",
    "    minmem: 128",
    "    spindle_use: 1",
    "    vcpus: 1",
    "Default nic parameters: ",
    "  default: ",
    "    link: gnt0",
    "    mode: bridged",
    "    vlan: ",
    "Default disk parameters: ",
    "  blockdev: ",
    "  diskless: ",
    "  drbd: ",
    "    c-delay-target: 1",
    "    c-fill-target: 0",
    "    c-max-rate: 61440",
    "    c-min-rate: 4096",
    "    c-plan-ahead: 20",
    "    data-stripes: 1",
    "    disk-barriers: n",
    "    disk-custom: ",
    "    dynamic-resync: False",
    "    meta-barriers: False",
    "    meta-stripes: 1",
    "    metavg: xenvg",
    "    net-custom: ",
    "    protocol: C",
    "    resync-rate: 61440",
    "  ext: ",
    "    access: kernelspace",
    "  file: ",
    "  gluster: ",
    "    access: kernelspace",
    "    host: 127.0.0.1",
    "    port: 24007",
    "    volume: gv0",
    "  plain: ",
    "    stripes: 1",
    "  rbd: ",
    "    access: kernelspace",
    "    pool: rbd",
    "  sharedfile: ",
    "Instance policy - limits for instances: ",
    "  bounds specs: ",
    "    - min/0: ",
    "        cpu-count: 1",
    "        disk-count: 1",
    "        disk-size: 1024",
    "        memory-size: 128",
    "        nic-count: 1",
    "        spindle-use: 1",
    "      max/0: ",
    "        cpu-count: 8",
    "        disk-count: 16",
    "        disk-size: 1048576",
    "        memory-size: 32768",
    "        nic-count: 8",
    "        spindle-use: 12",
    "  std: ",
    "    cpu-count: 1",
    "    disk-count: 1",
    "    disk-size: 1024",
    "    memory-size: 128",
    "    nic-count: 1",
    "    spindle-use: 1",
    "  allowed disk templates: file, diskless",
    "  vcpu-ratio: 4",
    "  spindle-ratio: 32",
    "Data collectors: ",
    "  cpu-avg-load: ",
    "    active: True",
    "    interval: 5.000s",
    "  diskstats: ",
    "    active: True",
    "    interval: 5.000s",
    "  drbd: ",
    "    active: True",
    "    interval: 5.000s",
    "  inst-status-xen: ",
    "    active: True",
    "    interval: 5.000s",
    "  lv: ",
    "    active: True",
    "    interval: 5.000s",
    "  xen-cpu-avg-load: ",
    "    active: True",
    "    interval: 5.000s",
  ]);
});
