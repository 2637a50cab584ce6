// The configuration replica a master candidate keeps: config.data plus the journal of
// the changes the master sends with config_update (src/core/config-journal.ts), the
// same files the master itself writes, so that a candidate can take over as master.
import fs from 'node:fs';
import crypto from 'node:crypto';
import { DurableConfig, REPLICA_SNAPSHOTS, journalFileFor, loadConfig, parseConfig, serializeConfig, validDelta, applyDelta } from '../core/config-journal.ts';
import { RpcFail, type NodeContext } from './context.ts';

let replica: { file: string; config: DurableConfig } | null = null;

function open(ctx: NodeContext): DurableConfig | null {
  const file = ctx.paths.configFile;
  if (replica?.file === file) return replica.config;
  if (!fs.existsSync(file)) return null;
  replica = { file, config: DurableConfig.load(file, REPLICA_SNAPSHOTS) };
  return replica.config;
}

/** config_update: [delta] → true when applied (or already held), false when the replica is too old for it. */
export async function applyConfigUpdate(ctx: NodeContext, args: unknown[]): Promise<boolean> {
  const delta = args[0];
  if (!validDelta(delta)) throw new RpcFail('config_update expects one configuration change record');
  const config = open(ctx);
  if (!config) return false;
  if (delta.serial <= config.data.serial_no) return true;
  if (delta.serial !== config.data.serial_no + 1) return false;
  applyDelta(config.data, delta);
  await config.commit(delta);
  return true;
}

/** A full configuration from the master (upload_file_single of config.data). */
export async function replaceConfig(ctx: NodeContext, text: string): Promise<void> {
  const data = parseConfig(text, 'uploaded configuration');
  const current = open(ctx);
  if (current) {
    await current.replace(data);
  } else {
    const config = new DurableConfig(ctx.paths.configFile, data, REPLICA_SNAPSHOTS);
    await config.snapshot();
    replica = { file: ctx.paths.configFile, config };
  }
}

/**
 * Write the replica out and forget it: this node's master daemon takes config.data over
 * (master failover), and a replica's pending snapshot must never overwrite it.
 */
export async function releaseReplica(_ctx: NodeContext): Promise<void> {
  if (replica) await replica.config.close().catch(() => undefined);
  replica = null;
}

/** Forget the replica and remove its files (demotion, leaving the cluster). */
export async function dropReplica(ctx: NodeContext): Promise<void> {
  if (replica) await replica.config.close().catch(() => undefined);
  replica = null;
  for (const f of [ctx.paths.configFile, journalFileFor(ctx.paths.configFile)]) fs.rmSync(f, { force: true });
}

/**
 * The serial number and the SHA-1 of the canonical serialization of this node's copy of
 * the configuration; null without one. Read-only: on the master node the files belong
 * to masterd.
 */
export function replicaState(ctx: NodeContext): { serial: number; checksum: string } | null {
  let data;
  try {
    // From the files: on the master node they belong to masterd, not to a replica here.
    data = loadConfig(ctx.paths.configFile);
  } catch {
    return null;
  }
  return { serial: data.serial_no, checksum: crypto.createHash('sha1').update(serializeConfig(data)).digest('hex') };
}
