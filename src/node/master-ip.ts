// The node side of the master IP: node_activate_master_ip, node_deactivate_master_ip and
// node_change_master_netmask (spec/core.md §4.3). Upstream runs a setup script for every
// change (its own tools/master-ip-setup, or the operator's etc/ganeti/scripts/master-ip-setup)
// and trusts its exit code; Ganeti issue #1113 (a failover that "succeeded" while the address
// stayed on the old master) is why every change here is checked with `ip address show`
// afterwards, and a disagreement is a failure even when the command exited 0.
//
// Three modes:
//  * loopback (virtual cluster): netdev `lo` with a loopback address — the address already
//    reaches this machine, so nothing runs;
//  * external script (use_external_mip_script): the operator's script with upstream's
//    environment, then the check;
//  * default: upstream's script's steps done directly (ip address add/del, gratuitous
//    ARP / unsolicited neighbour advertisement), then the check.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { RPC_TMO } from '../core/constants.ts';
import { RpcFail, type NodeContext } from './context.ts';
import { outputCollector } from '../util/output.ts';

/** Python's socket family numbers on Linux, as master_params.ip_family carries them. */
export const AF_INET = 2;
export const AF_INET6 = 10;

export interface MasterParams {
  uuid: string;
  ip: string;
  netmask: number;
  netdev: string;
  ip_family: number;
}

// ---------------------------------------------------------------------------------------
// Running commands. No shell: every argument goes to execve as is. Tests replace the runner.

export interface RunOptions {
  /** The complete environment of the command (nothing is inherited). */
  env: Record<string, string>;
  timeoutMs: number;
}

export interface RunResult {
  /** Exit code; null when killed by a signal or never started. */
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  /** The program does not exist (ENOENT on exec). */
  notFound?: boolean;
  /** Any other reason it could not be started (EACCES, ...). */
  spawnError?: string;
  timedOut?: boolean;
}

export type CommandRunner = (file: string, args: string[], opts: RunOptions) => Promise<RunResult>;

/** Output kept per stream: it ends up in error messages and logs. */
const MAX_OUTPUT = 64 * 1024;
/** `ip` answers at once; anything slower is a hung system. */
const IP_TIMEOUT_MS = 30_000;
/** arping -c 3 sends one packet a second. */
const ARP_TIMEOUT_MS = 15_000;
/** The operator's script: inside the FAST RPC timeout, so the master still gets the reply. */
const SCRIPT_TIMEOUT_MS = (RPC_TMO.FAST - 30) * 1000;

/**
 * spawn without a shell, in its own process group so that a timeout kills the script's
 * children too (otherwise a grandchild holding the output pipe would keep us waiting).
 */
export const defaultCommandRunner: CommandRunner = (file, args, opts) => new Promise((resolve) => {
  const out = outputCollector(MAX_OUTPUT);
  const err = outputCollector(MAX_OUTPUT);
  let child;
  try {
    child = spawn(file, args, { cwd: '/', env: opts.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    resolve({ code: null, signal: null, stdout: '', stderr: '', notFound: code === 'ENOENT', spawnError: (e as Error).message });
    return;
  }
  let timedOut = false;
  let settled = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch { /* already gone */ }
  }, opts.timeoutMs);
  child.stdout.on('data', out.add);
  child.stderr.on('data', err.add);
  child.on('error', (e: NodeJS.ErrnoException) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    resolve({ code: null, signal: null, stdout: out.text(), stderr: err.text(), notFound: e.code === 'ENOENT', spawnError: e.message });
  });
  child.on('close', (code, signal) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    resolve({ code, signal, stdout: out.text(), stderr: err.text(), timedOut });
  });
});

let runner: CommandRunner = defaultCommandRunner;

/** Replaces the command runner (tests); no argument restores the real one. Returns the previous one. */
export function setCommandRunner(fn?: CommandRunner): CommandRunner {
  const previous = runner;
  runner = fn ?? defaultCommandRunner;
  return previous;
}

/**
 * Environment for ip/arping/ndisc6: the daemon's PATH plus the sbin directories (the tools
 * live there and a daemon's PATH often lacks them; upstream's script appends the same),
 * and LC_ALL=C so that their messages are the English ones matched below (upstream's
 * RunCmd sets it too).
 */
function toolEnv(): Record<string, string> {
  const base = process.env.PATH || '/usr/local/bin:/usr/bin:/bin';
  return { PATH: `${base}:/sbin:/usr/sbin:/usr/local/sbin`, LC_ALL: 'C' };
}

function output(r: RunResult): string {
  return (r.stdout + r.stderr).trim();
}

function describeExit(r: RunResult): string {
  if (r.timedOut) return 'timed out and was killed';
  if (r.spawnError !== undefined) return `could not be started (${r.spawnError})`;
  if (r.code !== null) return `exited with code ${r.code}`;
  return `was killed by ${r.signal ?? 'a signal'}`;
}

function cmdline(file: string, args: string[]): string {
  return [file, ...args].join(' ');
}

// ---------------------------------------------------------------------------------------
// Addresses

/** A canonical form to compare addresses by: ip prints them compressed, the config may not. */
export function canonicalIp(ip: string): string | null {
  const v = net.isIP(ip);
  if (v === 4) return ip.split('.').map((o) => String(Number(o))).join('.');
  if (v !== 6) return null;
  // Expand "::" and an embedded IPv4 tail into eight 16-bit groups.
  let s = ip.toLowerCase();
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const o = v4[1].split('.').map(Number);
    s = s.slice(0, -v4[1].length) + `${((o[0] << 8) | o[1]).toString(16)}:${((o[2] << 8) | o[3]).toString(16)}`;
  }
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
  const h = head ? head.split(':') : [];
  const t = tail === undefined ? [] : tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.map((g) => parseInt(g, 16).toString(16)).join(':');
}

function isLoopback(ip: string): boolean {
  const v = net.isIP(ip);
  if (v === 4) return ip.split('.')[0] === '127';
  return v === 6 && canonicalIp(ip) === '0:0:0:0:0:0:0:1';
}

export interface AddressEntry {
  dev: string;
  family: 4 | 6;
  ip: string;
  prefix: number;
}

/** Parses `ip -o address show` lines ("2: eth0    inet 192.0.2.1/24 brd … scope global eth0:0\ …"). */
export function parseIpAddrShow(text: string): AddressEntry[] {
  const entries: AddressEntry[] = [];
  for (const line of text.split('\n')) {
    const m = /^\d+:\s+([^\s@]+)(?:@\S+)?\s+(inet6?)\s+([0-9A-Fa-f.:]+)(?:\/(\d+))?/.exec(line);
    if (!m) continue;
    const family = m[2] === 'inet6' ? 6 : 4;
    // A point-to-point address prints as "inet A peer B/n": the prefix belongs to the peer.
    const prefix = m[4] !== undefined ? Number(m[4]) : family === 6 ? 128 : 32;
    entries.push({ dev: m[1], family, ip: m[3], prefix });
  }
  return entries;
}

// ---------------------------------------------------------------------------------------
// Arguments

function validNetdev(dev: string): boolean {
  // Linux interface names: at most 15 bytes, no slash, colon or white space. A leading "-"
  // would read as an option to ip.
  return /^[^\s/:-][^\s/:]{0,14}$/.test(dev) && dev !== '.' && dev !== '..';
}

function checkNetmask(family: 4 | 6, netmask: unknown): number {
  const max = family === 4 ? 32 : 128;
  // upstream's IPAddress.ValidateNetmask: 0 < netmask <= address length
  if (typeof netmask !== 'number' || !Number.isInteger(netmask) || netmask <= 0 || netmask > max) {
    throw new RpcFail(`Invalid netmask ${JSON.stringify(netmask)} for an IPv${family} master IP (1-${max})`);
  }
  return netmask;
}

interface Target {
  ip: string;
  canon: string;
  family: 4 | 6;
  netmask: number;
  netdev: string;
}

function parseMasterParams(procedure: string, args: unknown[]): { params: MasterParams; target: Target; external: boolean } {
  const [p, ext] = args;
  if (typeof p !== 'object' || p === null || Array.isArray(p)) throw new RpcFail(`${procedure} expects [master_params, use_external_mip_script]`);
  const params = p as MasterParams;
  if (typeof params.ip !== 'string' || !net.isIP(params.ip)) throw new RpcFail(`Invalid master IP ${JSON.stringify(params.ip)}`);
  const family = net.isIP(params.ip) as 4 | 6;
  const expected = family === 4 ? AF_INET : AF_INET6;
  if (params.ip_family !== undefined && params.ip_family !== null && params.ip_family !== expected) {
    throw new RpcFail(`Master IP ${params.ip} is an IPv${family} address but ip_family is ${JSON.stringify(params.ip_family)} (expected ${expected})`);
  }
  const netmask = checkNetmask(family, params.netmask);
  if (typeof params.netdev !== 'string' || !validNetdev(params.netdev)) throw new RpcFail(`Invalid master network device ${JSON.stringify(params.netdev)}`);
  if (ext !== undefined && ext !== null && typeof ext !== 'boolean') throw new RpcFail(`use_external_mip_script must be a boolean, not ${JSON.stringify(ext)}`);
  return { params, target: { ip: params.ip, canon: canonicalIp(params.ip)!, family, netmask, netdev: params.netdev }, external: ext === true };
}

/**
 * Upstream's _BuildMasterIpEnv: the external script's whole environment and the
 * master-ip-turnup/turndown hooks' variables.
 */
export function masterIpEnv(params: Pick<MasterParams, 'ip' | 'netmask' | 'netdev' | 'ip_family'>): Record<string, string> {
  const version = params.ip_family === AF_INET6 ? 6 : params.ip_family === AF_INET ? 4 : net.isIP(params.ip);
  return {
    MASTER_NETDEV: params.netdev,
    MASTER_IP: params.ip,
    MASTER_NETMASK: String(params.netmask),
    CLUSTER_IP_VERSION: String(version),
  };
}

// ---------------------------------------------------------------------------------------
// The steps

async function ip(args: string[]): Promise<RunResult> {
  return runner('ip', args, { env: toolEnv(), timeoutMs: IP_TIMEOUT_MS });
}

/** The addresses on netdev; a device that does not exist is a clear failure. */
async function addressesOn(ctx: NodeContext, netdev: string): Promise<AddressEntry[]> {
  const args = ['-o', 'address', 'show', 'dev', netdev];
  const r = await ip(args);
  if (r.notFound) throw new RpcFail(`Cannot manage the master IP on ${ctx.hostname}: the 'ip' command (iproute2) is not installed`);
  if (r.code !== 0) {
    if (/does not exist|cannot find device/i.test(output(r))) {
      throw new RpcFail(`Master network device '${netdev}' does not exist on node ${ctx.hostname}`);
    }
    throw new RpcFail(`Cannot list the addresses of '${netdev}' on ${ctx.hostname}: '${cmdline('ip', args)}' ${describeExit(r)}: ${output(r)}`);
  }
  return parseIpAddrShow(r.stdout);
}

/** The same address on any device, for "configured on the wrong device" (upstream's script checks this too). */
async function devicesWith(t: Target): Promise<string[]> {
  const r = await ip(['-o', 'address', 'show']);
  if (r.code !== 0) return [];
  return [...new Set(parseIpAddrShow(r.stdout).filter((e) => canonicalIp(e.ip) === t.canon).map((e) => e.dev))];
}

function ofTarget(entries: AddressEntry[], t: Target): AddressEntry[] {
  return entries.filter((e) => canonicalIp(e.ip) === t.canon);
}

function listing(entries: AddressEntry[]): string {
  return entries.length ? entries.map((e) => `${e.ip}/${e.prefix}`).join(', ') : 'none';
}

/** `ip address add` as upstream's script: a label on IPv4 (labels are IPv4-only), preferred_lft 0. */
function addArgs(t: Target, netmask: number): string[] {
  // preferred_lft 0 marks the address deprecated, so the kernel never picks the floating
  // master IP as the source address of the node's own connections.
  const label = t.family === 4 ? ['label', `${t.netdev}:0`] : [];
  return ['address', 'add', `${t.ip}/${netmask}`, 'dev', t.netdev, ...label, 'preferred_lft', '0'];
}

function delArgs(t: Target, prefix: number): string[] {
  return ['address', 'del', `${t.ip}/${prefix}`, 'dev', t.netdev];
}

/** Runs ip; a failure that means "already so" (a race with someone else) is left to the check. */
async function ipChange(ctx: NodeContext, args: string[], benign: RegExp, what: string): Promise<void> {
  const r = await ip(args);
  if (r.code === 0) {
    ctx.log.info({ command: cmdline('ip', args) }, what);
    return;
  }
  if (r.code !== null && benign.test(output(r))) {
    ctx.log.info({ command: cmdline('ip', args), output: output(r) }, `${what}: already so`);
    return;
  }
  throw new RpcFail(`'${cmdline('ip', args)}' ${describeExit(r)} on ${ctx.hostname}: ${output(r)}`);
}

const ADD_BENIGN = /file exists|already assigned/i;
const DEL_BENIGN = /cannot assign requested address|address not found/i;

/**
 * Makes t.ip/netmask the address's only form on netdev. An IPv4 address may carry several
 * prefixes at once, so the new one is added before the stale ones go (no gap); the kernel
 * refuses a second prefix for an IPv6 address, so there the stale one goes first.
 */
async function setAddress(ctx: NodeContext, t: Target, netmask: number, stale: AddressEntry[]): Promise<void> {
  if (t.family === 6) {
    for (const e of stale) await ipChange(ctx, delArgs(t, e.prefix), DEL_BENIGN, 'removed the master IP with a stale prefix');
    await ipChange(ctx, addArgs(t, netmask), ADD_BENIGN, 'added the master IP');
  } else {
    await ipChange(ctx, addArgs(t, netmask), ADD_BENIGN, 'added the master IP');
    for (const e of stale) await ipChange(ctx, delArgs(t, e.prefix), DEL_BENIGN, 'removed the master IP with a stale prefix');
  }
}

/** Tell the neighbours the address moved here, as upstream's script; only ever a warning. */
async function announce(ctx: NodeContext, t: Target): Promise<void> {
  const [file, args] = t.family === 4
    ? ['arping', ['-q', '-U', '-c', '3', '-I', t.netdev, '-s', t.ip, t.ip]]
    : ['ndisc6', ['-q', '-r', '3', t.ip, t.netdev]];
  const r = await runner(file, args, { env: toolEnv(), timeoutMs: ARP_TIMEOUT_MS });
  if (r.notFound) {
    ctx.log.info(`${file} is not installed: neighbours learn the master IP's new place when their cache expires`);
  } else if (r.code !== 0) {
    ctx.log.warn({ command: cmdline(file, args), output: output(r) }, `${file} ${describeExit(r)} (not fatal)`);
  }
}

/** The check that decides (Ganeti issue #1113): the address must be there now. */
async function verifyPresent(ctx: NodeContext, t: Target, how: string): Promise<void> {
  const now = ofTarget(await addressesOn(ctx, t.netdev), t);
  if (!now.some((e) => e.prefix === t.netmask)) {
    throw new RpcFail(`The master IP was not activated on ${ctx.hostname}: ${how} reported success, but ${t.ip}/${t.netmask} is not on ${t.netdev} afterwards (${t.ip} there: ${listing(now)})`);
  }
}

/** ... and gone now, in every prefix: any form of it still answers here. */
async function verifyAbsent(ctx: NodeContext, t: Target, how: string): Promise<void> {
  const now = ofTarget(await addressesOn(ctx, t.netdev), t);
  if (now.length) {
    throw new RpcFail(`The master IP was not deactivated on ${ctx.hostname}: ${how} reported success, but ${listing(now)} is still on ${t.netdev}`);
  }
}

function loopbackMode(ctx: NodeContext, t: Target, external: boolean, action: string): boolean {
  if (t.netdev !== 'lo' || !isLoopback(t.ip)) return false;
  ctx.log.info({ ip: t.ip, netdev: t.netdev, externalScript: external },
    `master IP ${action}: nothing done, ${t.ip} is a loopback address on lo (virtual cluster): it already reaches this machine` +
    (external ? '; the external master IP setup script is not run for a loopback address' : ''));
  return true;
}

async function runScript(ctx: NodeContext, params: MasterParams, action: 'start' | 'stop'): Promise<void> {
  const script = path.join(ctx.paths.confDir, 'scripts', 'master-ip-setup');
  let st: fs.Stats;
  try {
    st = fs.statSync(script);
  } catch {
    throw new RpcFail(`use_external_mip_script is set but the external master IP setup script ${script} does not exist on ${ctx.hostname}`);
  }
  try {
    if (!st.isFile()) throw new Error('not a file');
    fs.accessSync(script, fs.constants.X_OK);
  } catch {
    throw new RpcFail(`The external master IP setup script ${script} on ${ctx.hostname} is not an executable file`);
  }
  // Upstream runs it with reset_env: these four variables are its whole environment.
  const r = await runner(script, [action], { env: masterIpEnv(params), timeoutMs: SCRIPT_TIMEOUT_MS });
  if (r.code !== 0) {
    const status = r.code !== null ? `return value: ${r.code}` : describeExit(r);
    throw new RpcFail(`Failed to ${action} the master IP on ${ctx.hostname}. Script ${script} ${status}, output: '${output(r)}'`);
  }
  ctx.log.info({ script, action, output: output(r) }, `external master IP setup script: ${action} done`);
}

// ---------------------------------------------------------------------------------------
// The procedures

/** node_activate_master_ip [master_params, use_external_mip_script] → null. */
export async function activateMasterIp(ctx: NodeContext, args: unknown[]): Promise<unknown> {
  const { params, target: t, external } = parseMasterParams('node_activate_master_ip', args);
  if (loopbackMode(ctx, t, external, 'activation')) return null;
  const before = ofTarget(await addressesOn(ctx, t.netdev), t);
  if (external) {
    await runScript(ctx, params, 'start');
    await verifyPresent(ctx, t, `the external script ${path.join(ctx.paths.confDir, 'scripts', 'master-ip-setup')}`);
    return null;
  }
  if (before.some((e) => e.prefix === t.netmask)) {
    // Upstream's script: "already configured on this machine. Doing nothing."
    ctx.log.info({ ip: t.ip, netdev: t.netdev }, 'master IP already configured on this node: nothing to do');
    return null;
  }
  if (!before.length) {
    const elsewhere = (await devicesWith(t)).filter((d) => d !== t.netdev);
    if (elsewhere.length) {
      throw new RpcFail(`Master IP ${t.ip} is configured on ${elsewhere.join(', ')} on ${ctx.hostname}, not on the master network device ${t.netdev}; not adding it twice`);
    }
  }
  // A form of the address with another prefix is replaced (a netmask change that was cut short).
  await setAddress(ctx, t, t.netmask, before);
  await verifyPresent(ctx, t, `'ip ${addArgs(t, t.netmask).join(' ')}'`);
  await announce(ctx, t);
  return null;
}

/** node_deactivate_master_ip [master_params, use_external_mip_script] → null. */
export async function deactivateMasterIp(ctx: NodeContext, args: unknown[]): Promise<unknown> {
  const { params, target: t, external } = parseMasterParams('node_deactivate_master_ip', args);
  if (loopbackMode(ctx, t, external, 'deactivation')) return null;
  const before = ofTarget(await addressesOn(ctx, t.netdev), t);
  if (external) {
    await runScript(ctx, params, 'stop');
    await verifyAbsent(ctx, t, `the external script ${path.join(ctx.paths.confDir, 'scripts', 'master-ip-setup')}`);
    return null;
  }
  if (!before.length) {
    const elsewhere = (await devicesWith(t)).filter((d) => d !== t.netdev);
    if (elsewhere.length) {
      throw new RpcFail(`Master IP ${t.ip} is configured on the wrong device (${elsewhere.join(', ')}, not ${t.netdev}) on ${ctx.hostname}: not shutting it down`);
    }
    ctx.log.info({ ip: t.ip, netdev: t.netdev }, 'master IP not configured on this node: nothing to do');
    return null;
  }
  // Every prefix it carries goes: what matters is that the address stops answering here.
  for (const e of before) await ipChange(ctx, delArgs(t, e.prefix), DEL_BENIGN, 'removed the master IP');
  await verifyAbsent(ctx, t, `'ip ${delArgs(t, before[0].prefix).join(' ')}'`);
  return null;
}

/** node_change_master_netmask [old_netmask, netmask, master_ip, master_netdev] → null. */
export async function changeMasterNetmask(ctx: NodeContext, args: unknown[]): Promise<unknown> {
  const [oldNetmask, netmask, masterIp, netdev] = args;
  if (typeof masterIp !== 'string' || !net.isIP(masterIp)) throw new RpcFail(`Invalid master IP ${JSON.stringify(masterIp)}`);
  if (typeof netdev !== 'string' || !validNetdev(netdev)) throw new RpcFail(`Invalid master network device ${JSON.stringify(netdev)}`);
  const family = net.isIP(masterIp) as 4 | 6;
  const nm = checkNetmask(family, netmask);
  const t: Target = { ip: masterIp, canon: canonicalIp(masterIp)!, family, netmask: nm, netdev };
  if (oldNetmask === netmask) return null;
  if (netdev === 'lo' && isLoopback(masterIp)) {
    ctx.log.info({ ip: masterIp, netmask: nm }, `master netmask change: nothing done, ${masterIp} is a loopback address on lo (virtual cluster)`);
    return null;
  }
  const before = ofTarget(await addressesOn(ctx, netdev), t);
  if (!before.length) {
    throw new RpcFail(`The master IP address is not up on ${netdev} on ${ctx.hostname}, not attempting to change its netmask`);
  }
  const stale = before.filter((e) => e.prefix !== nm);
  if (stale.length || !before.some((e) => e.prefix === nm)) await setAddress(ctx, t, nm, stale);
  const now = ofTarget(await addressesOn(ctx, netdev), t);
  if (!now.some((e) => e.prefix === nm) || now.some((e) => e.prefix !== nm)) {
    throw new RpcFail(`The master IP netmask was not changed on ${ctx.hostname}: expected ${masterIp}/${nm} on ${netdev}, found ${listing(now)}`);
  }
  return null;
}
