// The configuration replica a master candidate keeps (config.data plus the deltas the
// master sends with config_update).
import type { NodeContext } from './context.ts';

/** The replica's serial number and the SHA-1 of its canonical serialization; null without a replica. */
export function replicaState(_ctx: NodeContext): { serial: number; checksum: string } | null {
  return null;
}
