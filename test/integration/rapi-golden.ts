// Real Ganeti 3.0.2 RAPI answers (test/golden/rapi-NNN.txt, `curl -i` recordings): the
// request, status line, headers and body of each.
import fs from 'node:fs';
import path from 'node:path';

export interface RapiGolden {
  command: string;
  status: string;
  /** [name, value] in the order sent. */
  headers: Array<[string, string]>;
  body: string;
}

const DIR = path.join(import.meta.dirname, '../golden');

export function rapiGolden(n: string): RapiGolden {
  const text = fs.readFileSync(path.join(DIR, `rapi-${n}.txt`), 'utf8');
  const command = text.split('\n')[0].replace(/^\$ /, '');
  const m = /===== STDOUT \(\d+ bytes\) =====\n([\s\S]*?)===== STDERR/.exec(text);
  if (!m) throw new Error(`no STDOUT in rapi-${n}.txt`);
  const out = m[1];
  const split = out.indexOf('\r\n\r\n') >= 0 ? out.indexOf('\r\n\r\n') : out.indexOf('\n\n');
  const sep = out.indexOf('\r\n\r\n') >= 0 ? 4 : 2;
  const head = out.slice(0, split).split(/\r?\n/);
  return {
    command,
    status: head[0],
    headers: head.slice(1).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()] as [string, string]),
    body: out.slice(split + sep),
  };
}

/** Every recording's number (001, 002, ...). */
export function rapiGoldenNumbers(): string[] {
  return fs.readdirSync(DIR).map((f) => /^rapi-(\d+)\.txt$/.exec(f)?.[1]).filter((n): n is string => n !== undefined).sort();
}
