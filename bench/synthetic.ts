// Synthetic instances for the benchmarks: Ganeti 3.0 instance objects (with one 1 GiB file
// disk each, or diskless), written into a config.data while its masterd is stopped.
import crypto from 'node:crypto';

type Config = { instances: Record<string, unknown>; disks: Record<string, unknown>; serial_no: number };

/**
 * Replace the instances (and disks) of `config` by `count` running ones named
 * inst<i>.example.com, spread round-robin over `nodeUuids`; returns [name, node uuid] pairs.
 * The serial moves on by 1000: candidates' replicas are then older and get the file whole.
 */
export function setSyntheticInstances(config: Config, count: number, nodeUuids: string[], opts: { disks: boolean } = { disks: true }): Array<[string, string]> {
  const now = Date.now() / 1000;
  const placed: Array<[string, string]> = [];
  config.instances = {};
  config.disks = {};
  config.serial_no += 1000;
  for (let i = 0; i < count; i++) {
    const uuid = crypto.randomUUID();
    const node = nodeUuids[i % nodeUuids.length];
    const name = `inst${i}.example.com`;
    const disks: string[] = [];
    if (opts.disks) {
      const disk = crypto.randomUUID();
      disks.push(disk);
      config.disks[disk] = {
        children: [], ctime: now, dev_type: 'file', iv_name: 'disk/0', logical_id: ['loop', `/srv/ganeti/file-storage/${name}/${disk}.file.disk0`],
        mode: 'rw', mtime: now, nodes: [node], params: {}, serial_no: 1, size: 1024, uuid: disk,
      };
    }
    const mac = [i >> 16, i >> 8, i].map((b) => (b & 255).toString(16).padStart(2, '0')).join(':');
    config.instances[uuid] = {
      admin_state: 'up', admin_state_source: 'admin', beparams: {}, ctime: now, disks, disks_active: true, hvparams: {},
      hypervisor: 'fake', mtime: now, name, nics: [{ mac: `aa:00:00:${mac}`, nicparams: {}, uuid: crypto.randomUUID() }],
      os: 'noop', osparams: {}, osparams_private: {}, primary_node: node, serial_no: 1, tags: [], uuid,
    };
    placed.push([name, node]);
  }
  return placed;
}
