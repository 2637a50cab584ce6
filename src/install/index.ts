// `ganeti install` and `ganeti uninstall`: the bare-metal set-up of a machine once the
// one file is on it. install copies the executable to <sbindir>/ganeti (unless it runs
// from there), makes a symlink per role beside it, writes the systemd units (noded,
// masterd, rapi, watcher and cleaner with their timers) and adds the daemons' ports to
// /etc/services where missing. uninstall removes exactly those (units by their mark,
// services entries by theirs) and leaves the cluster's data (var/lib/ganeti) alone.
// --root DIR does it all below DIR (tests, images); systemctl is only run for /.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { isSea } from 'node:sea';
import { ROLES } from '../roles.ts';
import { writeFileAtomicSync } from '../util/fs.ts';
import { parseServices } from '../util/services.ts';
import { MARK, SERVICES, SERVICES_MARK, servicesLine, units } from './units.ts';

const USAGE = 'Usage: ganeti install|uninstall [--root DIR] [--sbindir DIR]\n';
const DEFAULT_SBINDIR = '/usr/local/sbin';
const UNIT_DIR = 'etc/systemd/system';
/** Where Ganeti looks for instance allocators (IALLOCATOR_SEARCH_PATH); hail goes to the last. */
const IALLOCATOR_DIRS = ['usr/local/lib/ganeti/iallocators', 'usr/lib/ganeti/iallocators'];

interface Options {
  root: string;
  sbindir: string;
}

class UsageError extends Error {}

function parseOptions(argv: string[]): Options {
  const opts: Options = { root: '/', sbindir: DEFAULT_SBINDIR };
  for (let i = 0; i < argv.length; i++) {
    const m = /^--(root|sbindir)(?:=(.*))?$/.exec(argv[i]);
    if (!m) throw new UsageError(`unknown argument '${argv[i]}'`);
    const value = m[2] ?? argv[++i];
    if (!value) throw new UsageError(`--${m[1]} needs a directory`);
    if (!path.isAbsolute(value)) throw new UsageError(`--${m[1]} must be an absolute path, not '${value}'`);
    opts[m[1] as keyof Options] = path.resolve(value);
  }
  return opts;
}

/** A path of the target machine, below the root. */
const under = (o: Options, p: string) => path.join(o.root, p);

const roleNames = () => ROLES.map((r) => r.name);

function systemd(o: Options): boolean {
  if (o.root !== '/' || !fs.existsSync('/run/systemd/system')) return false;
  return spawnSync('systemctl', ['--version'], { stdio: 'ignore' }).status === 0;
}

function systemctl(args: string[], say: (s: string) => void): void {
  const r = spawnSync('systemctl', args, { encoding: 'utf8' });
  if (r.status !== 0) say(`warning: systemctl ${args.join(' ')} failed: ${(r.stderr || r.error?.message || '').trim()}`);
}

function copyExecutable(o: Options, say: (s: string) => void): void {
  const target = under(o, path.join(o.sbindir, 'ganeti'));
  const self = fs.realpathSync(process.execPath);
  if (fs.existsSync(target) && fs.realpathSync(target) === self) return;
  fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o755 });
  const tmp = `${target}.${process.pid}.tmp`;
  fs.copyFileSync(self, tmp);
  fs.chmodSync(tmp, 0o755);
  fs.renameSync(tmp, target);
  say(`installed ${target}`);
}

function makeLinks(o: Options, say: (s: string) => void): void {
  const dir = under(o, o.sbindir);
  for (const name of roleNames()) {
    const link = path.join(dir, name);
    const st = fs.lstatSync(link, { throwIfNoEntry: false });
    if (st && !st.isSymbolicLink()) {
      say(`warning: ${link} exists and is not a symlink: left alone`);
      continue;
    }
    fs.rmSync(link, { force: true });
    fs.symlinkSync('ganeti', link);
  }
  say(`linked ${roleNames().length} roles in ${dir}`);
}

/**
 * Our executable as the `hail` instance allocator, unless a hail (htools') is installed
 * already: a link /usr/lib/ganeti/iallocators/hail → <sbindir>/ganeti.
 */
function linkIAllocator(o: Options, say: (s: string) => void): void {
  const existing = IALLOCATOR_DIRS.map((d) => under(o, path.join(d, 'hail'))).find((p) => fs.lstatSync(p, { throwIfNoEntry: false }));
  if (existing) {
    const st = fs.lstatSync(existing);
    if (!(st.isSymbolicLink() && fs.readlinkSync(existing) === path.join(o.sbindir, 'ganeti'))) say(`kept the installed iallocator ${existing}`);
    return;
  }
  const link = under(o, path.join(IALLOCATOR_DIRS[1], 'hail'));
  fs.mkdirSync(path.dirname(link), { recursive: true, mode: 0o755 });
  fs.symlinkSync(path.join(o.sbindir, 'ganeti'), link);
  say(`linked the hail iallocator: ${link}`);
}

/** uninstall: our hail link only (one pointing at <sbindir>/ganeti). */
function unlinkIAllocator(o: Options, say: (s: string) => void): void {
  const link = under(o, path.join(IALLOCATOR_DIRS[1], 'hail'));
  const st = fs.lstatSync(link, { throwIfNoEntry: false });
  if (st?.isSymbolicLink() && fs.readlinkSync(link) === path.join(o.sbindir, 'ganeti')) {
    fs.rmSync(link);
    say(`removed ${link}`);
  }
}

function writeUnits(o: Options, say: (s: string) => void): void {
  const dir = under(o, UNIT_DIR);
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  for (const u of units(o.sbindir)) writeFileAtomicSync(path.join(dir, u.file), u.text, { mode: 0o644, syncDir: false });
  say(`wrote the systemd units in ${dir}`);
}

function readServices(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw err;
  }
}

function addServices(o: Options, say: (s: string) => void): void {
  const file = under(o, 'etc/services');
  const text = readServices(file);
  const known = parseServices(text);
  const missing = SERVICES.filter((s) => !known.has(s.name));
  if (missing.length === 0) return;
  const head = text === '' || text.endsWith('\n') ? text : `${text}\n`;
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o755 });
  writeFileAtomicSync(file, `${head}${missing.map(servicesLine).join('\n')}\n`, { mode: 0o644 });
  say(`added ${missing.map((s) => `${s.name} ${s.port}/${s.proto}`).join(', ')} to ${file}`);
}

export function install(o: Options, say: (s: string) => void): void {
  copyExecutable(o, say);
  makeLinks(o, say);
  linkIAllocator(o, say);
  writeUnits(o, say);
  addServices(o, say);
  const enabled = units(o.sbindir).filter((u) => u.enable).map((u) => u.file);
  if (systemd(o)) {
    systemctl(['daemon-reload'], say);
    systemctl(['enable', ...enabled], say);
    say(`enabled ${enabled.join(' ')}; start the node daemon with: systemctl start ganeti-noded`);
  } else {
    say(`on the machine: systemctl daemon-reload && systemctl enable --now ${enabled.join(' ')}`);
  }
}

export function uninstall(o: Options, say: (s: string) => void): void {
  const ours = units(o.sbindir).map((u) => u.file).filter((f) => {
    try {
      return fs.readFileSync(under(o, path.join(UNIT_DIR, f)), 'utf8').startsWith(MARK);
    } catch {
      return false;
    }
  });
  if (ours.length > 0 && systemd(o)) systemctl(['disable', '--now', ...ours], say);
  for (const f of ours) fs.rmSync(under(o, path.join(UNIT_DIR, f)), { force: true });
  if (ours.length > 0) say(`removed the systemd units ${ours.join(' ')}`);
  if (ours.length > 0 && systemd(o)) systemctl(['daemon-reload'], say);

  const dir = under(o, o.sbindir);
  let links = 0;
  for (const name of roleNames()) {
    const link = path.join(dir, name);
    const st = fs.lstatSync(link, { throwIfNoEntry: false });
    if (st?.isSymbolicLink() && path.basename(fs.readlinkSync(link)) === 'ganeti') {
      fs.rmSync(link);
      links += 1;
    }
  }
  if (links > 0) say(`removed ${links} role links from ${dir}`);
  unlinkIAllocator(o, say);
  const binary = path.join(dir, 'ganeti');
  if (fs.existsSync(binary)) {
    fs.rmSync(binary);
    say(`removed ${binary}`);
  }

  const file = under(o, 'etc/services');
  const text = readServices(file);
  const kept = text.split('\n').filter((line) => !line.trimEnd().endsWith(SERVICES_MARK));
  if (kept.length !== text.split('\n').length) {
    writeFileAtomicSync(file, kept.join('\n'), { mode: 0o644 });
    say(`removed the ganeti entries from ${file}`);
  }
  say(`kept the cluster's data (${under(o, 'var/lib/ganeti')}) and logs`);
}

/** `ganeti install|uninstall [--root DIR] [--sbindir DIR]` */
export async function main(command: 'install' | 'uninstall', argv: string[]): Promise<number> {
  let o: Options;
  try {
    o = parseOptions(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${USAGE}ganeti ${command}: error: ${err.message}\n`);
    return 2;
  }
  if (command === 'install' && !isSea()) {
    process.stderr.write('ganeti install: run it from the built executable (dist/ganeti): it installs the file it runs from\n');
    return 1;
  }
  if (o.root === '/' && process.getuid?.() !== 0) {
    process.stderr.write(`ganeti ${command}: must be run as root (or with --root DIR)\n`);
    return 1;
  }
  const say = (s: string) => process.stdout.write(`${s}\n`);
  try {
    if (command === 'install') install(o, say);
    else uninstall(o, say);
  } catch (err) {
    process.stderr.write(`ganeti ${command}: ${(err as Error).message}\n`);
    return 1;
  }
  return 0;
}
