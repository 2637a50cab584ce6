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

/** One answer of a multiple-choice question: the key typed, the value returned, its help line. */
export type Choice<T> = [key: string, value: T, help: string];

/**
 * AskUser with explicit choices (e.g. y/v/n): the prompt lists the keys with the last, the
 * default, in brackets; "?" explains them. Without a terminal the last choice is the answer.
 */
export async function askChoice<T>(question: string, choices: Array<Choice<T>>): Promise<T> {
  const fallback = choices[choices.length - 1][1];
  let fd: number;
  try {
    fd = fs.openSync('/dev/tty', 'r+');
  } catch {
    return fallback;
  }
  try {
    const keys = choices.map(([k], i) => (i === choices.length - 1 ? `[${k}]` : k));
    for (;;) {
      fs.writeSync(fd, `${question}\n${[...keys, '?'].join('/')}: `);
      const buf = Buffer.alloc(256);
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) return fallback;
      const answer = buf.subarray(0, n).toString().trim().toLowerCase();
      const chosen = choices.find(([k]) => k === answer);
      if (chosen) return chosen[1];
      if (answer === '') return fallback;
      if (answer === '?') fs.writeSync(fd, `${choices.map(([k, , help]) => ` ${k} - ${help}\n`).join('')}\n`);
    }
  } finally {
    fs.closeSync(fd);
  }
}
