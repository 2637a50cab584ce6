// LUXI framing and message shapes (spec/core.md §1.2–1.3): UTF-8 JSON terminated by
// the byte 0x03; Python senders put a newline before it, so receivers trim.
import { LUXI_EOM, LUXI_MAX_MESSAGE } from './constants.ts';
import { ProtocolError } from './errors.ts';

export interface LuxiRequest {
  method: string;
  args: unknown[];
  version?: number;
}

export interface LuxiResponse {
  success: boolean;
  result: unknown;
  version?: number;
}

/** Splits a byte stream into messages; keeps a partial tail between chunks. */
export class LuxiDecoder {
  private chunks: Buffer[] = [];
  private size = 0;
  private readonly maxMessage: number;
  constructor(maxMessage = LUXI_MAX_MESSAGE) {
    this.maxMessage = maxMessage;
  }

  /** Feed bytes; returns the complete messages found. Throws ProtocolError when a message is too large. */
  push(data: Buffer): string[] {
    const out: string[] = [];
    let start = 0;
    for (;;) {
      const idx = data.indexOf(LUXI_EOM, start);
      if (idx < 0) break;
      const piece = data.subarray(start, idx);
      const whole = this.size === 0 ? piece : Buffer.concat([...this.chunks, piece]);
      this.chunks = [];
      this.size = 0;
      if (whole.length > this.maxMessage) throw new ProtocolError(`Message too large (${whole.length} bytes)`);
      out.push(whole.toString('utf8'));
      start = idx + 1;
    }
    if (start < data.length) {
      const rest = data.subarray(start);
      this.size += rest.length;
      if (this.size > this.maxMessage) {
        this.chunks = [];
        this.size = 0;
        throw new ProtocolError(`Message too large (more than ${this.maxMessage} bytes without end marker)`);
      }
      this.chunks.push(Buffer.from(rest));
    }
    return out;
  }
}

export function encodeMessage(value: unknown): Buffer {
  const json = JSON.stringify(value);
  if (json.includes('\x03')) throw new ProtocolError('Message contains the end-of-message byte');
  return Buffer.concat([Buffer.from(json, 'utf8'), Buffer.from([LUXI_EOM])]);
}

/** Parse and shape-check one request; errors name what is wrong. */
export function parseRequest(text: string, parse: (t: string) => unknown = JSON.parse): LuxiRequest {
  let value: unknown;
  try {
    value = parse(text.trim());
  } catch (err) {
    throw new ProtocolError(`Failed to parse request: invalid JSON (${(err as Error).message})`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ProtocolError('Failed to parse request: not a JSON object');
  }
  const obj = value as Record<string, unknown>;
  if (typeof obj.method !== 'string') throw new ProtocolError("Failed to parse request: missing or invalid 'method'");
  if (!Array.isArray(obj.args)) throw new ProtocolError("Failed to parse request: missing or invalid 'args' (must be a list)");
  if (obj.version !== undefined && obj.version !== null && typeof obj.version !== 'number') {
    throw new ProtocolError("Failed to parse request: invalid 'version'");
  }
  return { method: obj.method, args: obj.args, version: obj.version as number | undefined };
}
