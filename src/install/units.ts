// The systemd units and services entries that `ganeti install` lays down. Each unit
// starts with MARK, by which `ganeti uninstall` knows it as its own.
import { DEFAULT_NODED_PORT, DEFAULT_RAPI_PORT } from '../core/constants.ts';

export const MARK = '# Installed by `ganeti install` (ganeti-ts); `ganeti uninstall` removes it.';

/** The /etc/services entries (upstream's daemons that have a port and exist here). */
export const SERVICES: ReadonlyArray<{ name: string; port: number; proto: 'tcp'; comment: string }> = [
  { name: 'ganeti-noded', port: DEFAULT_NODED_PORT, proto: 'tcp', comment: 'Ganeti node daemon' },
  { name: 'ganeti-rapi', port: DEFAULT_RAPI_PORT, proto: 'tcp', comment: 'Ganeti remote API' },
];
/** What marks an entry as added by install (the comment's end). */
export const SERVICES_MARK = '(ganeti install)';

export function servicesLine(s: (typeof SERVICES)[number]): string {
  return `${s.name}\t${s.port}/${s.proto}\t\t\t# ${s.comment} ${SERVICES_MARK}`;
}

export interface Unit {
  file: string;
  /** Enabled at install (on a machine run by systemd). */
  enable: boolean;
  text: string;
}

/** The units, for the executable's symlinks in `sbindir` (as the target machine sees it). */
export function units(sbindir: string): Unit[] {
  const bin = (role: string) => `${sbindir}/${role}`;
  const unit = (file: string, enable: boolean, body: string): Unit => ({ file, enable, text: `${MARK}\n${body.trim()}\n` });
  return [
    unit('ganeti-noded.service', true, `
[Unit]
Description=Ganeti node daemon
Documentation=man:ganeti-noded(8)
Wants=network-online.target
After=network-online.target

[Service]
Type=simple
ExecStart=${bin('ganeti-noded')} -f
Restart=on-failure
RestartSec=2
# noded starts the master daemon at a master failover: that one outlives a noded restart.
KillMode=process
# noded locks itself in memory (mlockall) unless --no-mlock.
LimitMEMLOCK=infinity

[Install]
WantedBy=multi-user.target
`),
    unit('ganeti-masterd.service', true, `
[Unit]
Description=Ganeti master daemon
Documentation=man:ganeti-masterd(8)
Wants=ganeti-noded.service
After=ganeti-noded.service
# Only the master and the master candidates hold the configuration.
ConditionPathExists=/var/lib/ganeti/config.data

[Service]
Type=simple
ExecStart=${bin('ganeti-masterd')} -f
# 11: this node is a master candidate, not the master: nothing to run here.
SuccessExitStatus=11
Restart=on-failure
RestartPreventExitStatus=11 12

[Install]
WantedBy=multi-user.target
`),
    unit('ganeti-rapi.service', false, `
[Unit]
Description=Ganeti remote API daemon
Documentation=man:ganeti-rapi(8)
Wants=ganeti-masterd.service
After=ganeti-masterd.service
ConditionPathExists=/var/lib/ganeti/config.data

[Service]
Type=simple
ExecStart=${bin('ganeti-rapi')} -f
Restart=on-failure

[Install]
WantedBy=multi-user.target
`),
    unit('ganeti-watcher.service', false, `
[Unit]
Description=Ganeti periodic cluster maintenance (watcher)
Documentation=man:ganeti-watcher(8)
After=ganeti-noded.service

[Service]
Type=oneshot
ExecStart=${bin('ganeti-watcher')}
`),
    unit('ganeti-watcher.timer', true, `
[Unit]
Description=Run the Ganeti watcher every 5 minutes

[Timer]
OnCalendar=*:0/5
AccuracySec=30s

[Install]
WantedBy=timers.target
`),
    unit('ganeti-cleaner.service', false, `
[Unit]
Description=Ganeti cleaner: old archived jobs and stale files
Documentation=man:ganeti-cleaner(8)

[Service]
Type=oneshot
ExecStart=${bin('ganeti-cleaner')} master
ExecStart=${bin('ganeti-cleaner')} node
`),
    unit('ganeti-cleaner.timer', true, `
[Unit]
Description=Run the Ganeti cleaner daily

[Timer]
OnCalendar=*-*-* 02:45:00
Persistent=true

[Install]
WantedBy=timers.target
`),
  ];
}
