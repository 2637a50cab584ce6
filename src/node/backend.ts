// noded's procedures: the node-local work the master asks for (spec/core.md §4.3).
// Each takes the JSON argument list and returns the payload, or throws a message that
// goes back as [false, msg]. Paths from the master are "virtual" (relative to the
// cluster's root, as upstream's virtual-cluster mode sends them) and re-rooted here.
import fs from 'node:fs';
import path from 'node:path';
import { PROTOCOL_VERSION } from '../core/constants.ts';
import { setFlagFile, syncDir, writeFileAtomic } from '../util/fs.ts';
import { decodeBlob } from '../rpc/client.ts';
import { SSCONF_KEY_RE, ssconfText } from '../core/ssconf.ts';
import type { ProcedureName } from '../rpc/procedures.ts';
import { RpcFail, type Handler, type NodeContext } from './context.ts';
import { hooksRunner } from './hooks.ts';
import { nodeVerify } from './verify.ts';
import { MEMBERSHIP } from './membership.ts';
import { MASTER_ROLE } from './master-role.ts';
import { INSTANCE_BACKEND } from './instance-backend.ts';
import { OS_BACKEND } from './os-backend.ts';
import { MIGRATION_BACKEND } from './migration-backend.ts';
import { HYPERVISOR_BACKEND } from './hypervisor-backend.ts';
import { STORAGE_BACKEND } from './storage-backend.ts';
import { getHypervisor } from './hypervisor/index.ts';
import { storageEnv } from './storage/index.ts';
import { storageUnitInfo } from './storage/units.ts';
import { HypervisorError } from '../core/errors.ts';
import { activateMasterIp, changeMasterNetmask, deactivateMasterIp } from './master-ip.ts';
import { nodePowercycle } from './powercycle.ts';

export { RpcFail, type NodeContext, type Handler } from './context.ts';

/** A path the master sent, placed under this node's root; refuses escapes. */
export function localPath(ctx: NodeContext, virtualPath: unknown, within: string): string {
  if (typeof virtualPath !== 'string' || !virtualPath.startsWith('/')) throw new RpcFail(`Invalid path ${JSON.stringify(virtualPath)}`);
  const p = path.join(ctx.paths.root, path.normalize(virtualPath));
  if (!p.startsWith(within + path.sep)) throw new RpcFail(`Path '${virtualPath}' is outside ${path.relative(ctx.paths.root, within) || '/'}`);
  return p;
}

function bootId(): string {
  try {
    return fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return 'unknown';
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}


export const BACKEND: Record<ProcedureName, Handler> = {
  version: () => PROTOCOL_VERSION,

  // [boot_id, [storage unit info...], [hv_info...]]: storage units from ./storage/units.ts
  // (file, sharedfile, lvm-vg, lvm-pv), hv_info from each hypervisor (the fake one takes
  // its instances' memory off memory_free).
  node_info: async (ctx, args) => {
    const [storageUnits, hvSpecs] = args as [unknown[], unknown[]];
    const env = storageEnv(ctx.paths);
    const storage = [];
    for (const su of Array.isArray(storageUnits) ? storageUnits : []) storage.push(await storageUnitInfo(env, su));
    const hv = [];
    for (const spec of Array.isArray(hvSpecs) ? hvSpecs : []) {
      const [name, hvparams] = (Array.isArray(spec) ? spec : [spec]) as [unknown, Record<string, unknown> | undefined];
      try {
        hv.push(await getHypervisor(ctx.paths, name).nodeInfo(hvparams ?? {}));
      } catch (err) {
        if (err instanceof HypervisorError) throw new RpcFail(err.message);
        throw err;
      }
    }
    return [bootId(), storage, hv];
  },

  test_delay: async (_ctx, args) => {
    const duration = Number(args[0]);
    if (!Number.isFinite(duration) || duration < 0) throw new RpcFail(`Invalid delay duration ${JSON.stringify(args[0])}`);
    await sleep(duration * 1000);
    return null;
  },

  write_ssconf_files: async (ctx, args) => {
    const values = args[0];
    if (values === null || typeof values !== 'object' || Array.isArray(values)) throw new RpcFail('ssconf values must be a dictionary');
    const files = Object.entries(values).map(([key, value]) => {
      if (!SSCONF_KEY_RE.test(key)) throw new RpcFail(`Invalid ssconf key '${key}'`);
      const lines = Array.isArray(value) ? value.map(String) : [String(value)];
      // No size limit here: a large cluster's instance list is past upstream's 128 KiB read
      // limit, and refusing it would leave every other key of this call stale.
      const text = ssconfText(lines);
      return [ctx.paths.ssconfFile(key), text];
    });
    fs.mkdirSync(ctx.paths.dataDir, { recursive: true, mode: 0o755 });
    // Only the files whose text changes are rewritten (an instance add changes one of ~30),
    // and those together: each is an fsync, and the cluster waits for every node.
    const changed = files.filter(([file, text]) => {
      try {
        return fs.readFileSync(file, 'utf8') !== text;
      } catch {
        return true;
      }
    });
    if (changed.length === 0) return null;
    await Promise.all(changed.map(([file, text]) => writeFileAtomic(file, text, { mode: 0o444, syncDir: false })));
    await syncDir(ctx.paths.dataDir);
    return null;
  },

  jobqueue_update: async (ctx, args) => {
    const [fileName, blob] = args;
    const file = localPath(ctx, fileName, ctx.paths.queueDir);
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o750 });
    await writeFileAtomic(file, decodeBlob(blob), { mode: 0o640 });
    return null;
  },

  jobqueue_rename: async (ctx, args) => {
    const pairs = args[0];
    if (!Array.isArray(pairs)) throw new RpcFail('jobqueue_rename expects a list of [old, new] pairs');
    const moves = pairs.map((pair) => {
      if (!Array.isArray(pair) || pair.length !== 2) throw new RpcFail('jobqueue_rename expects [old, new] pairs');
      return [localPath(ctx, pair[0], ctx.paths.queueDir), localPath(ctx, pair[1], ctx.paths.queueDir)];
    });
    const dirs = new Set<string>();
    for (const [from, to] of moves) {
      fs.mkdirSync(path.dirname(to), { recursive: true, mode: 0o750 });
      fs.renameSync(from, to);
      dirs.add(path.dirname(from)).add(path.dirname(to));
    }
    for (const d of dirs) await syncDir(d);
    return moves.map(() => null);
  },

  jobqueue_set_drain_flag: async (ctx, args) => {
    await setFlagFile(ctx.paths.queueDrain, args[0] ? '' : null);
    return null;
  },

  set_watcher_pause: async (ctx, args) => {
    const until = args[0];
    if (until !== null && (typeof until !== 'number' || !Number.isFinite(until))) throw new RpcFail('Watcher pause must be a time or null');
    await setFlagFile(ctx.paths.watcherPause, until === null ? null : `${Math.floor(until as number)}\n`);
    return null;
  },

  hooks_runner: (ctx, args) => hooksRunner(ctx, args),
  node_verify: (ctx, args) => nodeVerify(ctx, args),
  ...MEMBERSHIP,
  ...MASTER_ROLE,
  node_activate_master_ip: (ctx, args) => activateMasterIp(ctx, args),
  node_deactivate_master_ip: (ctx, args) => deactivateMasterIp(ctx, args),
  node_change_master_netmask: (ctx, args) => changeMasterNetmask(ctx, args),
  node_powercycle: (ctx, args) => nodePowercycle(ctx, args),
  ...INSTANCE_BACKEND,
  ...OS_BACKEND,
  ...MIGRATION_BACKEND,
  ...HYPERVISOR_BACKEND,
  ...STORAGE_BACKEND,
};
