// The watcher hooks: the scripts in etc/ganeti/hooks/watcher/ run on every node at
// every watcher run, by the run-parts rules of all hooks, in the watcher's environment.
// Their result is only logged (upstream's RunWatcherHooks).
import fs from 'node:fs';
import path from 'node:path';
import { runParts } from '../node/hooks.ts';
import type { Logger } from '../util/log.ts';
import type { NodePaths } from '../util/paths.ts';

export async function runWatcherHooks(paths: NodePaths, log: Logger): Promise<void> {
  const dir = path.join(paths.confDir, 'hooks', 'watcher');
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) return;
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  for (const entry of await runParts(dir, { env })) {
    if (entry.status === 'skip') log.debug(`Watcher hook ${entry.name}: skipped`);
    else if (entry.status === 'error') log.warn(`Watcher hook ${entry.name}: error (${entry.error ?? ''})`);
    else if (entry.result) {
      const r = entry.result;
      if (r.exitCode === 0) log.debug(`Watcher hook ${entry.name}: success (output: ${r.output})`);
      else log.warn(`Watcher hook ${entry.name}: failed (exit: ${r.exitCode ?? r.signal ?? '?'}) (output: ${r.output})`);
    }
  }
}
