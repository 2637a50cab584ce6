// The master IP parameters the node_*_master_ip procedures take (upstream's
// objects.MasterNetworkParameters).
import type { ConfigData } from '../config/model.ts';

export interface MasterIpParams {
  uuid: string;
  ip: string;
  netmask: number;
  netdev: string;
  ip_family: number;
}

/** For the current master, or for `nodeUuid` (the old master, when taking the IP away from it). */
export function masterIpParams(data: ConfigData, nodeUuid = data.cluster.master_node): MasterIpParams {
  const c = data.cluster;
  return { uuid: nodeUuid, ip: c.master_ip, netmask: c.master_netmask, netdev: c.master_netdev, ip_family: c.primary_ip_family };
}
