// The node's membership in a cluster: its config replica, the cluster key of a master
// candidate, leaving the cluster, and the operator commands run through the RPC.
import { RpcFail, type Handler } from './context.ts';

const todo: Handler = () => {
  throw new RpcFail('not implemented yet');
};

export const MEMBERSHIP = {
  config_update: todo,
  upload_file_single: todo,
  set_cluster_key: todo,
  node_demote_from_mc: todo,
  node_leave_cluster: todo,
  run_command: todo,
  copy_file: todo,
} satisfies Record<string, Handler>;
