// A child process's output, kept up to a limit: a runaway command must not fill the
// daemon's memory, and the reader still learns how much was cut.

export interface OutputCollector {
  add(chunk: Buffer): void;
  text(): string;
}

export function outputCollector(max: number): OutputCollector {
  const chunks: Buffer[] = [];
  let size = 0;
  return {
    add(c: Buffer) {
      if (size < max) chunks.push(c.subarray(0, max - size));
      size += c.length;
    },
    text() {
      const s = Buffer.concat(chunks).toString('utf8');
      return size > max ? `${s}\n[output truncated: ${size} bytes]\n` : s;
    },
  };
}
