// How each NIC of an instance reaches the network on this node (upstream's netdev.OpenTap
// and kvm-ifup, reduced). Bridged NICs whose link is a bridge here get a tap device made
// now (`ip tuntap add`, enslaved to the bridge, up) and handed to qemu by name; its name is
// kept in kvm-hypervisor/nic/<instance>/<seq> and the device is deleted at cleanup.
// A virtual cluster's NICs are on "lo" (the default link of a loopback cluster), which is
// no bridge: they get qemu's user-mode networking, so a guest has a network without root
// or bridges (our extension; upstream has no user mode). Anything else that cannot work
// here is a clear error before qemu starts.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { HypervisorError } from '../../../core/errors.ts';
import { writeFileAtomicSync } from '../../../util/fs.ts';

type Dict = Record<string, unknown>;

export interface NicBackend {
  /** The -netdev value without its id. */
  netdev: string;
  /** The tap device made for it, or null. */
  tap: string | null;
  note: string | null;
}

const USER_MODE_LINKS = new Set(['', 'lo']);

function isBridge(link: string): boolean {
  return fs.existsSync(`/sys/class/net/${link}/bridge`);
}

function linkExists(link: string): boolean {
  return fs.existsSync(`/sys/class/net/${link}`);
}

function ip(args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new HypervisorError(`ip ${args.join(' ')} failed: ${r.error?.message ?? (r.stderr.trim() || `exit code ${String(r.status)}`)}`);
  }
}

/**
 * Decide and set up every NIC's backend; on failure the taps made so far are removed.
 * `salt` tells this node's taps from another's (virtual nodes share one machine, and the
 * source and the target of a migration both hold a tap for the same NIC meanwhile).
 */
export function openNics(instance: string, nics: Dict[], salt = '', recordDir: string | null = null): NicBackend[] {
  const result: NicBackend[] = [];
  if (recordDir) fs.rmSync(recordDir, { recursive: true, force: true });
  try {
    for (const [seq, nic] of nics.entries()) {
      const params = (nic.nicparams ?? {}) as Dict;
      const mode = String(params.mode ?? 'bridged');
      const link = String(params.link ?? '');
      if (mode === 'bridged') {
        if (USER_MODE_LINKS.has(link)) {
          result.push({ netdev: 'user', tap: null, note: `NIC ${seq}: link '${link}' is not a bridge, using qemu user-mode networking` });
          continue;
        }
        if (!linkExists(link)) throw new HypervisorError(`NIC ${seq}: bridge '${link}' does not exist on this node`);
        if (!isBridge(link)) throw new HypervisorError(`NIC ${seq}: link '${link}' is not a bridge on this node`);
        if (!fs.existsSync('/dev/net/tun')) throw new HypervisorError(`NIC ${seq}: /dev/net/tun does not exist on this node, cannot make a tap device`);
        const tap = `gnt${crypto.createHash('sha256').update(`${salt}/${instance}/${seq}/${String(nic.uuid)}`).digest('hex').slice(0, 8)}.${seq}`.slice(0, 15);
        try {
          ip(['link', 'del', tap]);
        } catch { /* not there: fine */ }
        // Recorded before it exists: whatever happens next (even a kill -9), cleanup finds it.
        if (recordDir) recordTap(recordDir, seq, tap);
        ip(['tuntap', 'add', 'dev', tap, 'mode', 'tap']);
        result.push({ netdev: `tap,ifname=${tap},script=no,downscript=no`, tap, note: null });
        ip(['link', 'set', tap, 'master', link, 'up']);
      } else {
        throw new HypervisorError(`NIC ${seq}: mode '${mode}' is not supported by this node's kvm hypervisor (bridged only)`);
      }
    }
  } catch (err) {
    closeTaps(recordDir ? savedTaps(recordDir) : result.map((r) => r.tap));
    if (recordDir) fs.rmSync(recordDir, { recursive: true, force: true });
    throw err;
  }
  return result;
}

export function closeTaps(taps: Array<string | null>): void {
  for (const tap of taps) {
    if (tap) spawnSync('ip', ['link', 'del', tap], { encoding: 'utf8' });
  }
}

/** Record one tap of an instance (nic/<instance>/<seq>, written atomically). */
export function recordTap(dir: string, seq: number, tap: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  writeFileAtomicSync(path.join(dir, String(seq)), tap, { mode: 0o644 });
}

/** Record the taps of an instance (nic/<instance>/<seq>). */
export function saveTaps(dir: string, backends: NicBackend[]): void {
  fs.rmSync(dir, { recursive: true, force: true });
  for (const [seq, b] of backends.entries()) if (b.tap) recordTap(dir, seq, b.tap);
}

export function savedTaps(dir: string): string[] {
  try {
    // Only the records themselves (a temporary file of an interrupted atomic write starts with a dot).
    return fs.readdirSync(dir).filter((f) => /^\d+$/.test(f)).map((f) => fs.readFileSync(path.join(dir, f), 'utf8').trim()).filter((t) => t !== '');
  } catch {
    return [];
  }
}
