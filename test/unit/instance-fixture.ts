// The golden cluster the instance query tests compare against (test/golden/README.md):
// node1.gnt.test in group default; alpha (diskless, running, tags web prod), beta
// (diskless, stopped) and gamma (a 1 GiB file disk, running), with the uuids, MACs and
// times of the recordings (beta's uuids are not in any recording). Also the recordings'
// output, and an RPC client double for the query layer's fan-outs.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { RpcResult, RpcTarget } from '../../src/rpc/client.ts';
import type { ConfigData } from '../../src/master/config/model.ts';
import { DEFAULT_BEPARAMS, DEFAULT_NICPARAMS } from '../../src/master/config/defaults.ts';

const GOLDEN = path.join(import.meta.dirname, '../golden');

/** The STDOUT section of a golden recording. */
export function goldenStdout(file: string): string {
  const text = fs.readFileSync(path.join(GOLDEN, file), 'utf8');
  const m = /===== STDOUT \(\d+ bytes\) =====\n([\s\S]*?)===== STDERR/.exec(text);
  assert.ok(m, `no STDOUT in ${file}`);
  return m[1];
}

export const NODE1 = '78c7e9f1-fab8-42d9-b8da-205deddba3ab';
export const GROUP = '88e2168b-eafa-44f3-8e8c-5fa3ffcd6a31';
export const ALPHA = '6bc271db-f896-46fd-937d-14c253fc7f99';
export const BETA = 'i2';
export const GAMMA = '75001ee7-9a18-4e90-aa92-debb3c3288d5';
export const GAMMA_DISK = 'f1977163-555d-4080-bb83-aa34d53410df';
/** Upstream names a new disk's file after a uuid of its own, not the disk's. */
export const GAMMA_DISK_PATH = '/srv/ganeti/file-storage/gamma.gnt.test/9a79896c-74f4-448f-b640-5b1465881ef2.file.disk0';

/** A time of the recording day (2026-11-23, UTC) in config.data's seconds. */
const at = (hms: string) => Date.UTC(2026, 10, 23, ...hms.split(':').map(Number) as [number, number, number]) / 1000 + 0.25;
const CTIME = at('21:11:00');

export function goldenConfig(): ConfigData {
  const obj = (uuid: string, extra: Record<string, unknown>) => ({ uuid, serial_no: 3, ctime: CTIME, mtime: CTIME, ...extra });
  const inst = (uuid: string, name: string, mac: string, nicUuid: string, ctime: string, mtime: string, extra: Record<string, unknown> = {}) =>
    obj(uuid, {
      name, ctime: at(ctime), mtime: at(mtime), primary_node: NODE1, os: 'noop', hypervisor: 'fake', hvparams: {}, beparams: {},
      osparams: {}, osparams_private: {}, admin_state: 'up', admin_state_source: 'admin', disks: [], disks_active: true,
      network_port: null, tags: [], nics: [{ mac, ip: null, nicparams: {}, network: null, name: null, uuid: nicUuid }], ...extra,
    });
  return {
    version: 3000000,
    cluster: obj('c', {
      cluster_name: 'cluster.gnt.test', master_node: NODE1, enabled_hypervisors: ['fake'], hvparams: { fake: { migration_mode: 'live' } },
      beparams: structuredClone(DEFAULT_BEPARAMS), nicparams: structuredClone(DEFAULT_NICPARAMS), osparams: {},
      enabled_disk_templates: ['diskless', 'file'], file_storage_dir: '/srv/ganeti/file-storage', tags: [], enabled_user_shutdown: false,
    }),
    nodes: {
      [NODE1]: obj(NODE1, {
        name: 'node1.gnt.test', primary_ip: '192.0.2.10', secondary_ip: '192.0.2.10', master_candidate: true, offline: false,
        drained: false, group: GROUP, master_capable: true, vm_capable: true, ndparams: {}, powered: true, tags: [],
      }),
    },
    nodegroups: { [GROUP]: obj(GROUP, { name: 'default', members: [NODE1], alloc_policy: 'preferred', ndparams: {} }) },
    // Not in name order: listings must sort.
    instances: {
      [GAMMA]: inst(GAMMA, 'gamma.gnt.test', 'aa:00:00:f7:b6:33', '30c6ea99-2bb6-428a-a90a-5aef60d8d25a', '21:11:18', '21:11:19',
        { disks: [GAMMA_DISK] }),
      [ALPHA]: inst(ALPHA, 'alpha.gnt.test', 'aa:00:00:31:9c:e6', '1d001308-2d50-43d4-bc94-7ad0b90806e2', '21:11:13', '21:11:21',
        { tags: ['web', 'prod'] }),
      [BETA]: inst(BETA, 'beta.gnt.test', 'aa:00:00:29:cd:e6', 'nic-i2', '21:11:14', '21:11:15', { admin_state: 'down' }),
    },
    networks: {},
    disks: {
      [GAMMA_DISK]: obj(GAMMA_DISK, {
        dev_type: 'file', logical_id: ['loop', GAMMA_DISK_PATH], children: [], nodes: [NODE1], iv_name: 'disk/0', size: 1024,
        mode: 'rw', name: null, spindles: null, params: {},
      }),
    },
    filters: {},
    serial_no: 1,
    ctime: CTIME,
    mtime: CTIME,
  } as unknown as ConfigData;
}

/** What the fake hypervisor reports for a running golden instance. */
export const RUNNING = { memory: 128, vcpus: 1, state: 'running', time: 12 };

/** all_instances_info on the golden node: alpha and gamma run. */
export function goldenLive(): Record<string, unknown> {
  return { 'alpha.gnt.test': { ...RUNNING }, 'gamma.gnt.test': { ...RUNNING } };
}

export type Answer = (t: RpcTarget, proc: string) => RpcResult;

/** Each node's payload by name; an Error is that node's failure. */
export function answersByNode(answers: Record<string, unknown>): Answer {
  return (t) => {
    const a = answers[t.name];
    return a instanceof Error ? { node: t.name, ok: false, error: a.message } : { node: t.name, ok: true, payload: a };
  };
}

interface Call { targets: RpcTarget[]; proc: string; args: unknown[][] }

/**
 * The RPC client of the query layer (callMany), answering as `answer` says (the golden
 * node's all_instances_info by default); offline nodes fail as the real client makes them.
 */
export function fakeRpc(answer: Answer = (t) => ({ node: t.name, ok: true, payload: goldenLive() })) {
  const calls: Call[] = [];
  return {
    calls,
    async callMany(targets: RpcTarget[], proc: string, args: unknown[] | ((t: RpcTarget) => unknown[])) {
      calls.push({ targets, proc, args: targets.map((t) => (typeof args === 'function' ? args(t) : args)) });
      return new Map(targets.map((t): [string, RpcResult] =>
        [t.name, t.offline ? { node: t.name, ok: false, error: 'Node is marked offline', offline: true } : answer(t, proc)]));
    },
  };
}
