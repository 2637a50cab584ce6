// Virtual clusters for integration tests: each node is a root directory whose last
// component is the node name, its noded on its own loopback address. Everything runs
// the built executable through symlinks, as an operator would.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import type { LuxiClient } from '../../src/luxi/client.ts';
import { RpcClient } from '../../src/rpc/client.ts';
import { loadKey } from '../../src/rpc/auth.ts';
import { clusterTransport } from '../../src/rpc/transport.ts';
import { nodePaths } from '../../src/util/paths.ts';

export const BIN = process.env.GANETI_BIN ?? path.resolve('dist/ganeti');

/** Debian's `noop` OS definition, which instance tests use (make test-deps installs it). */
export const NOOP_OS = '/usr/share/ganeti/os/noop';
/** The reason to skip a test that needs NOOP_OS, or false when it is there. */
export const noopOsMissing: string | false = fs.existsSync(NOOP_OS) ? false : `Debian's ganeti-os-noop is not installed (${NOOP_OS})`;

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A loopback address no other test uses at the same time: 127.<pid-derived>.<n>.1 */
let counter = 0;
export function freeLoopback(): string {
  counter += 1;
  const a = 16 + (process.pid % 200);
  return `127.${a}.${counter}.${1 + Math.floor(Math.random() * 250)}`;
}

export class VirtualNode {
  readonly root: string;
  readonly name: string;
  readonly ip: string;
  readonly bin: string;

  constructor(base: string, name: string, ip: string, bin: string) {
    this.root = path.join(base, name);
    this.name = name;
    this.ip = ip;
    this.bin = bin;
    fs.mkdirSync(this.root, { recursive: true });
  }

  get env(): NodeJS.ProcessEnv {
    return { PATH: `${this.bin}:/usr/bin:/bin`, GANETI_ROOTDIR: this.root, GANETI_HOSTNAME: this.name, TZ: 'UTC', LANG: 'C.UTF-8' };
  }

  file(rel: string): string {
    return path.join(this.root, rel);
  }

  /**
   * A node-RPC client as this node's master would make it: its cluster key, and TLS
   * pinned to its cluster certificate (or plain HTTP in a --no-ssl cluster).
   */
  rpcClient(): RpcClient {
    const paths = nodePaths(this.root);
    return new RpcClient(() => loadKey(paths.clusterKey, 'cluster key'), () => clusterTransport(paths));
  }

  /** Run a role (e.g. "gnt-job", ["list"]) through its symlink. */
  run(role: string, args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}): RunResult {
    const r = spawnSync(path.join(this.bin, role), args, { env: { ...this.env, ...opts.env }, input: opts.input ?? '', encoding: 'utf8', timeout: 120_000 });
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  }

  /** Run the executable itself (`ganeti <args>`), e.g. `ganeti join-token`. */
  runMain(args: string[]): RunResult {
    const r = spawnSync(BIN, args, { env: this.env, encoding: 'utf8', timeout: 120_000 });
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  }

  runAsync(role: string, args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
    return new Promise((resolve) => {
      const child = spawn(path.join(this.bin, role), args, { env: { ...this.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => { stdout += d; });
      child.stderr.on('data', (d) => { stderr += d; });
      child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    });
  }

  pid(daemon: string): number | null {
    try {
      return Number.parseInt(fs.readFileSync(this.file(`var/run/ganeti/${daemon}.pid`), 'utf8'), 10);
    } catch {
      return null;
    }
  }

  /** Stop the node's daemons (SIGKILL: tests must not depend on a clean stop). */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    for (const d of ['ganeti-rapi', 'ganeti-masterd', 'ganeti-noded']) {
      const pid = this.pid(d);
      if (pid) {
        try {
          process.kill(pid, signal);
        } catch { /* already gone */ }
      }
    }
  }
}

export class TestCluster {
  readonly base: string;
  readonly bin: string;
  readonly nodes: VirtualNode[] = [];

  constructor() {
    this.base = fs.mkdtempSync(path.join(os.tmpdir(), 'gnt-test-'));
    this.bin = path.join(this.base, 'bin');
    const r = spawnSync(BIN, ['links', this.bin], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ganeti links failed: ${r.stderr}`);
  }

  addNode(name: string, ip = freeLoopback()): VirtualNode {
    const n = new VirtualNode(this.base, name, ip, this.bin);
    this.nodes.push(n);
    return n;
  }

  /** A one-node cluster on a fresh loopback address. */
  init(name = 'node1', clusterName = 'cluster.test', extraArgs: string[] = []): VirtualNode {
    const n = this.addNode(name);
    const r = n.run('gnt-cluster', ['init', '--primary-ip', n.ip, ...extraArgs, clusterName]);
    if (r.code !== 0) throw new Error(`gnt-cluster init failed (${r.code}): ${r.stderr}${r.stdout}`);
    return n;
  }

  /**
   * A new node joined to the cluster as an operator does it: start its noded, read its
   * one-time token with `ganeti join-token`, run `gnt-node add` on the master.
   */
  join(master: VirtualNode, name: string, extraArgs: string[] = [], nodedArgs: string[] = []): VirtualNode {
    const n = this.addNode(name);
    const start = n.run('ganeti-noded', ['-b', n.ip, ...nodedArgs]);
    if (start.code !== 0) throw new Error(`ganeti-noded on ${name} failed (${start.code}): ${start.stderr}`);
    const token = n.runMain(['join-token']);
    if (token.code !== 0) throw new Error(`ganeti join-token on ${name} failed: ${token.stderr}`);
    const r = master.run('gnt-node', ['add', '--primary-ip', n.ip, '--join-token', token.stdout.trim(), ...extraArgs, name]);
    if (r.code !== 0) throw new Error(`gnt-node add ${name} failed (${r.code}): ${r.stderr}${r.stdout}`);
    return n;
  }

  destroy(): void {
    for (const n of this.nodes) n.kill();
    fs.rmSync(this.base, { recursive: true, force: true });
  }
}

export function waitFor(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const holds = () => {
      try {
        return cond();
      } catch {
        return false; // e.g. a file that is not there yet
      }
    };
    const tick = () => {
      if (holds()) return resolve();
      if (Date.now() > deadline) return reject(new Error('timed out waiting'));
      setTimeout(tick, 20);
    };
    tick();
  });
}

/** Follow a job with WaitForJobChange until it ends; its final status ("lost" if unknown). */
export async function jobEnd(client: LuxiClient, id: number): Promise<string> {
  let prev: unknown = null;
  for (;;) {
    const r = await client.call('WaitForJobChange', [id, ['status'], prev, null, 20]);
    if (r === null) return 'lost';
    if (r === 'nochange') continue;
    const [[status]] = r as [[string]];
    if (['success', 'error', 'canceled'].includes(status)) return status;
    prev = [status];
  }
}
