// `ganeti install` and `ganeti uninstall` into a temporary root (--root): the file, the
// role links, the systemd units and the /etc/services entries, and back.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { BIN } from './cluster.ts';
import { ROLES } from '../../src/roles.ts';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gnt-install-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));

const ganeti = (args: string[], bin = BIN) => {
  const r = spawnSync(bin, args, { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
};
const at = (p: string) => path.join(root, p);
const UNITS = ['ganeti-noded.service', 'ganeti-masterd.service', 'ganeti-rapi.service', 'ganeti-watcher.service', 'ganeti-watcher.timer', 'ganeti-cleaner.service', 'ganeti-cleaner.timer'];

test('install: the file, a link per role, the systemd units and the services entries', () => {
  fs.mkdirSync(at('etc'), { recursive: true });
  // An operator's own entry stays as it is; only what is missing is added.
  fs.writeFileSync(at('etc/services'), 'ssh\t\t22/tcp\t\t\t\t# SSH Remote Login Protocol\nganeti-rapi\t15080/tcp\n');
  fs.mkdirSync(at('var/lib/ganeti'), { recursive: true });
  fs.writeFileSync(at('var/lib/ganeti/config.data'), '{}\n');

  const r = ganeti(['install', '--root', root]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /installed .*\/usr\/local\/sbin\/ganeti\n/);
  assert.match(r.stdout, /on the machine: systemctl daemon-reload && systemctl enable --now ganeti-noded\.service ganeti-masterd\.service ganeti-watcher\.timer ganeti-cleaner\.timer\n/);

  const installed = at('usr/local/sbin/ganeti');
  assert.equal(fs.statSync(installed).size, fs.statSync(BIN).size);
  assert.equal(fs.statSync(installed).mode & 0o777, 0o755);
  for (const role of ROLES) assert.equal(fs.readlinkSync(at(`usr/local/sbin/${role.name}`)), 'ganeti', role.name);
  // The installed links run the roles.
  assert.match(ganeti(['--version'], at('usr/local/sbin/ganeti-noded')).stdout, /^ganeti-noded \(ganeti-ts\)/);

  for (const unit of UNITS) assert.match(fs.readFileSync(at(`etc/systemd/system/${unit}`), 'utf8'), /^# Installed by `ganeti install`/, unit);
  const noded = fs.readFileSync(at('etc/systemd/system/ganeti-noded.service'), 'utf8');
  assert.match(noded, /^ExecStart=\/usr\/local\/sbin\/ganeti-noded -f$/m);
  assert.match(noded, /^KillMode=process$/m);
  assert.match(noded, /^LimitMEMLOCK=infinity$/m);
  assert.match(fs.readFileSync(at('etc/systemd/system/ganeti-watcher.timer'), 'utf8'), /^OnCalendar=\*:0\/5$/m);
  assert.match(fs.readFileSync(at('etc/systemd/system/ganeti-cleaner.service'), 'utf8'), /^ExecStart=\/usr\/local\/sbin\/ganeti-cleaner master\nExecStart=\/usr\/local\/sbin\/ganeti-cleaner node$/m);

  assert.equal(fs.readFileSync(at('etc/services'), 'utf8'),
    'ssh\t\t22/tcp\t\t\t\t# SSH Remote Login Protocol\nganeti-rapi\t15080/tcp\nganeti-noded\t1811/tcp\t\t\t# Ganeti node daemon (ganeti install)\n');

  // Installing again changes nothing and duplicates nothing.
  assert.equal(ganeti(['install', '--root', root]).code, 0);
  assert.equal(fs.readFileSync(at('etc/services'), 'utf8').match(/ganeti-noded/g)?.length, 1);
});

test('uninstall: removes exactly what install laid down, keeps the cluster data', () => {
  fs.writeFileSync(at('etc/systemd/system/other.service'), '[Unit]\n');
  const r = ganeti(['uninstall', '--root', root]);
  assert.equal(r.code, 0, r.stderr);
  for (const unit of UNITS) assert.ok(!fs.existsSync(at(`etc/systemd/system/${unit}`)), unit);
  assert.ok(fs.existsSync(at('etc/systemd/system/other.service')));
  assert.deepEqual(fs.readdirSync(at('usr/local/sbin')), []);
  assert.equal(fs.readFileSync(at('etc/services'), 'utf8'), 'ssh\t\t22/tcp\t\t\t\t# SSH Remote Login Protocol\nganeti-rapi\t15080/tcp\n');
  assert.equal(fs.readFileSync(at('var/lib/ganeti/config.data'), 'utf8'), '{}\n');
  assert.match(r.stdout, /kept the cluster's data/);
});

test('bad arguments: exit 2 with the usage', () => {
  const r = ganeti(['install', '--bogus']);
  assert.deepEqual([r.code, r.stderr], [2, "Usage: ganeti install|uninstall [--root DIR] [--sbindir DIR]\nganeti install: error: unknown argument '--bogus'\n"]);
  const rel = ganeti(['uninstall', '--root', 'relative/dir']);
  assert.deepEqual([rel.code, rel.stderr], [2, "Usage: ganeti install|uninstall [--root DIR] [--sbindir DIR]\nganeti uninstall: error: --root must be an absolute path, not 'relative/dir'\n"]);
});
