// The official RAPI client for the integration tests: Debian's python3-ganeti-rapi
// (`ganeti.rapi.client`, Ganeti 3.0.2) run by the system Python against a virtual node's
// RAPI, with the users file those tests log in with.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import type { VirtualNode } from './cluster.ts';

export const PYTHON = '/usr/bin/python3';

const probe = spawnSync(PYTHON, ['-c', 'import pycurl\nfrom ganeti.rapi import client'], { encoding: 'utf8' });
/** False, or why the tests that drive the official client are skipped. */
export const rapiClientMissing: string | false = probe.status === 0 ? false
  : `the official RAPI client is not installed (${PYTHON}: python3-ganeti-rapi and python3-pycurl, Debian packages; \`make test-deps\` installs them as root): ${(probe.stderr || probe.error?.message || '').trim().split('\n').pop()}`;

/** Write the node's RAPI users file (mode 0600) and have its ganeti-rapi reload it (SIGHUP). */
export function setRapiUsers(node: VirtualNode, text: string): void {
  fs.mkdirSync(node.file('var/lib/ganeti/rapi'), { recursive: true });
  fs.writeFileSync(node.file('var/lib/ganeti/rapi/users'), text, { mode: 0o600 });
  process.kill(node.pid('ganeti-rapi')!, 'SIGHUP');
}

export interface RapiPythonOptions {
  /** The RAPI user (default bench:benchpass). */
  user?: string;
  password?: string;
  /** Python run after the prelude and before the code (a file's own helpers). */
  extra?: string;
  /** Run again, up to 20 times half a second apart, while RAPI refuses the connection. */
  retryRefused?: boolean;
}

/**
 * Run Python against the node's RAPI and return `out`, which the code sets, as JSON. The
 * prelude defines `c`, a GanetiRapiClient for the node as the user; `client`, the module;
 * `json`; `wait(jid)`, the client's WaitForJobCompletion (true when the job succeeded);
 * `job_result(jid)`, [ok, the job's opresult]; `err(fn)`, [code, message] of the
 * GanetiApiError fn raises (the message's &#x27; unescaped), None when it raises none.
 */
export function runRapiPython(node: VirtualNode, code: string, opts: RapiPythonOptions = {}): any {
  const prelude = [
    'import json',
    'from ganeti.rapi import client',
    `c = client.GanetiRapiClient(${JSON.stringify(node.ip)}, port=5080, username=${JSON.stringify(opts.user ?? 'bench')}, password=${JSON.stringify(opts.password ?? 'benchpass')})`,
    'def wait(jid):',
    '  return c.WaitForJobCompletion(jid, period=0.2, retries=600)',
    'def job_result(jid):',
    '  ok = wait(jid)',
    "  return [ok, c.GetJobStatus(jid)['opresult']]",
    'def err(fn):',
    '  try:',
    '    fn()',
    '  except client.GanetiApiError as e:',
    "    return [e.code, str(e).replace('&#x27;', \"'\")]",
    'out = None',
  ].join('\n');
  const script = `${prelude}\n${opts.extra ?? ''}\n${code}\nprint(json.dumps(out))`;
  const run = () => spawnSync(PYTHON, ['-c', script], { encoding: 'utf8', timeout: 120_000 });
  let r = run();
  for (let i = 0; opts.retryRefused && i < 20 && r.status !== 0 && /Connection refused|couldn't connect/i.test(r.stderr); i++) {
    spawnSync('sleep', ['0.5']);
    r = run();
  }
  assert.equal(r.status, 0, `python failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}
