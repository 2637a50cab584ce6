// The ssconf file format shared by the master (which computes values) and noded
// (which writes them): one file per key, one item per line.

import fs from 'node:fs';

export const SSCONF_KEY_RE = /^[a-z0-9_-]+$/;

/** The bytes of one ssconf file: empty values stay empty, others end with a newline. */
export function ssconfText(lines: string[]): string {
  const joined = lines.join('\n');
  return joined === '' || joined.endsWith('\n') ? joined : `${joined}\n`;
}

/** One ssconf value of a node as its lines, or null when the file is missing. */
export function readSsconf(file: string): string[] | null {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  return text.split('\n').filter((l) => l !== '');
}
