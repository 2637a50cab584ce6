// Confirmation prompts (spec/surface.md §0.5): asked on the controlling terminal, not
// stdin; without a terminal the answer is the last choice, "no".
import fs from 'node:fs';

export async function askUser(question: string): Promise<boolean> {
  let fd: number;
  try {
    fd = fs.openSync('/dev/tty', 'r+');
  } catch {
    return false;
  }
  try {
    for (;;) {
      fs.writeSync(fd, `${question}\ny/[n]/?: `);
      const buf = Buffer.alloc(256);
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      const answer = buf.subarray(0, n).toString().trim().toLowerCase();
      if (answer === 'y') return true;
      if (answer === 'n' || answer === '' || n === 0) return false;
      if (answer === '?') fs.writeSync(fd, 'y - Perform the operation\nn - Do not perform the operation\n');
    }
  } finally {
    fs.closeSync(fd);
  }
}
