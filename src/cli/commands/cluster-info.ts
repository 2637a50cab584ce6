// `gnt-cluster info`: QueryClusterInfo's dictionary laid out as Ganeti's
// ShowClusterConfig does (golden 001.txt).
import { formatUidPool } from '../../core/params.ts';
import { formatInfo, pairs, type InfoValue } from '../format/info.ts';
import { formatTimestamp } from '../format/time.ts';

const OS_SEARCH_PATH = ['/srv/ganeti/os', '/usr/local/lib/ganeti/os', '/usr/lib/ganeti/os', '/usr/share/ganeti/os'];
const ES_SEARCH_PATH = ['/srv/ganeti/extstorage', '/usr/local/lib/ganeti/extstorage', '/usr/lib/ganeti/extstorage', '/usr/share/ganeti/extstorage'];

const joined = (v: unknown) => (Array.isArray(v) ? v.join(', ') : String(v ?? ''));

function ipolicyInfo(ipolicy: Record<string, any>): InfoValue {
  const minmax = (ipolicy.minmax ?? []) as Array<Record<string, InfoValue>>;
  return pairs(
    ['bounds specs', minmax.map((mm, i) => pairs([`min/${i}`, mm.min], [`max/${i}`, mm.max]))],
    ['std', ipolicy.std],
    ['allowed disk templates', joined(ipolicy['disk-templates'])],
    ['vcpu-ratio', ipolicy['vcpu-ratio']],
    ['spindle-ratio', ipolicy['spindle-ratio']],
  );
}

export function clusterInfoLines(r: Record<string, any>): string {
  const collectors: Record<string, InfoValue> = {};
  for (const name of Object.keys(r.enabled_data_collectors ?? {}).sort()) {
    collectors[name] = pairs(
      ['active', r.enabled_data_collectors[name]],
      ['interval', `${(Number(r.data_collector_interval?.[name] ?? 0) / 1e6).toFixed(3)}s`],
    );
  }
  const data = pairs(
    ['Cluster name', r.name],
    ['Cluster UUID', r.uuid],
    ['Creation time', formatTimestamp(r.ctime)],
    ['Modification time', formatTimestamp(r.mtime)],
    ['Master node', r.master],
    ['Architecture (this node)', `${r.architecture[0]} (${r.architecture[1]})`],
    ['Tags', r.tags?.length ? joined(r.tags) : '(none)'],
    ['Default hypervisor', r.default_hypervisor],
    ['Enabled hypervisors', joined(r.enabled_hypervisors)],
    ['Hypervisor parameters', r.hvparams],
    ['OS-specific hypervisor parameters', r.os_hvp],
    ['OS parameters', r.osparams],
    ['Hidden OSes', joined(r.hidden_os)],
    ['Blacklisted OSes', joined(r.blacklisted_os)],
    ['Cluster parameters', pairs(
      ['candidate pool size', r.candidate_pool_size],
      ['maximal number of jobs running simultaneously', r.max_running_jobs],
      ['maximal number of jobs simultaneously tracked by the scheduler', r.max_tracked_jobs],
      ['mac prefix', r.mac_prefix],
      ['master netdev', r.master_netdev],
      ['master netmask', r.master_netmask],
      ['use external master IP address setup script', r.use_external_mip_script],
      ['lvm volume group', r.volume_group_name],
      ['lvm reserved volumes', r.reserved_lvs?.length ? joined(r.reserved_lvs) : '(none)'],
      ['drbd usermode helper', r.drbd_usermode_helper],
      ['file storage path', r.file_storage_dir],
      ['shared file storage path', r.shared_file_storage_dir],
      ['gluster storage path', r.gluster_storage_dir],
      ['maintenance of node health', r.maintain_node_health],
      ['uid pool', formatUidPool(r.uid_pool)],
      ['default instance allocator', r.default_iallocator],
      ['default instance allocator parameters', r.default_iallocator_params],
      ['primary ip version', r.primary_ip_version],
      ['preallocation wipe disks', r.prealloc_wipe_disks],
      ['OS search path', joined(OS_SEARCH_PATH)],
      ['ExtStorage Providers search path', joined(ES_SEARCH_PATH)],
      ['enabled disk templates', joined(r.enabled_disk_templates)],
      ['install image', r.install_image],
      ['instance communication network', r.instance_communication_network],
      ['zeroing image', r.zeroing_image],
      ['compression tools', r.compression_tools],
      ['enabled user shutdown', r.enabled_user_shutdown],
      ['modify ssh setup', r.modify_ssh_setup],
      ['ssh_key_type', r.ssh_key_type],
      ['ssh_key_bits', r.ssh_key_bits],
    )],
    ['Default node parameters', r.ndparams],
    ['Default instance parameters', r.beparams],
    ['Default nic parameters', r.nicparams],
    ['Default disk parameters', r.diskparams],
    ['Instance policy - limits for instances', ipolicyInfo(r.ipolicy)],
    ['Data collectors', collectors],
  );
  const text = formatInfo(data).join('\n');
  return text.endsWith('\n') ? text : `${text}\n`;
}
