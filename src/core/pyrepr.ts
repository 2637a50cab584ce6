// Python's str()/repr() of JSON-shaped values. Ganeti's CLI prints "other"-kind
// query cells, info values and error details with them, so matching the output
// byte for byte means reproducing Python's rules for quoting, escaping and numbers.

/** Python's "%.<digits>f": like toFixed, except exact ties round half to even. */
export function pyFixed(x: number, digits: number): string {
  if (!Number.isFinite(x)) return pyNumber(x);
  // toFixed gives up on such magnitudes; they are integers anyway.
  if (Math.abs(x) >= 1e21) return BigInt(x).toString() + (digits > 0 ? `.${'0'.repeat(digits)}` : '');
  const plain = x.toFixed(digits);
  // A tie has a finite binary expansion of at most digits+1 decimal places, so
  // looking 25 places further is enough to tell a real tie from a near one.
  const extended = Math.abs(x).toFixed(digits + 25);
  const tail = extended.slice(extended.length - 25);
  if (!/^50*$/.test(tail)) return plain;
  const truncated = extended.slice(0, extended.length - 25).replace(/\.$/, '');
  // toFixed rounds ties away from zero, which is right when that lands on an even digit.
  if (Number(truncated[truncated.length - 1]) % 2 === 1) return plain;
  return x < 0 ? `-${truncated}` : truncated;
}

/** How Python prints a number that arrived as JSON: integers exactly, floats like repr(float). */
export function pyNumber(n: number | bigint): string {
  if (typeof n === 'bigint') return n.toString();
  if (Number.isNaN(n)) return 'nan';
  if (!Number.isFinite(n)) return n > 0 ? 'inf' : '-inf';
  if (Number.isInteger(n)) {
    // JSON integers are Python ints; past 1e21 JS would switch to exponent form.
    return Math.abs(n) < 1e21 ? String(n) : BigInt(n).toString();
  }
  const [mantissa, exponentText] = n.toExponential().split('e');
  const exponent = Number(exponentText);
  const negative = mantissa.startsWith('-');
  const digits = mantissa.replace(/^-/, '').replace('.', '');
  // Python's repr switches to exponent form outside 1e-4 <= |x| < 1e16.
  if (exponent < -4 || exponent >= 16) {
    const frac = digits.length > 1 ? `.${digits.slice(1)}` : '';
    const sign = exponent < 0 ? '-' : '+';
    const expDigits = String(Math.abs(exponent)).padStart(2, '0');
    return `${negative ? '-' : ''}${digits[0]}${frac}e${sign}${expDigits}`;
  }
  const pointAt = exponent + 1;
  let body: string;
  if (pointAt <= 0) body = `0.${'0'.repeat(-pointAt)}${digits}`;
  else if (pointAt >= digits.length) body = `${digits}${'0'.repeat(pointAt - digits.length)}.0`;
  else body = `${digits.slice(0, pointAt)}.${digits.slice(pointAt)}`;
  return negative ? `-${body}` : body;
}

// Python's str.isprintable() is false for these categories (space excepted).
const NON_PRINTABLE = /^[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]$/u;

function hexEscape(code: number): string {
  if (code <= 0xff) return `\\x${code.toString(16).padStart(2, '0')}`;
  if (code <= 0xffff) return `\\u${code.toString(16).padStart(4, '0')}`;
  return `\\U${code.toString(16).padStart(8, '0')}`;
}

function reprString(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const code = ch.codePointAt(0) as number;
    if (ch === quote || ch === '\\') out += `\\${ch}`;
    else if (ch === '\t') out += '\\t';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (code < 0x20 || code === 0x7f) out += hexEscape(code);
    else if (code > 0x7f && NON_PRINTABLE.test(ch)) out += hexEscape(code);
    else out += ch;
  }
  return out + quote;
}

/** Python's repr() of a JSON-shaped value (objects are dicts in insertion order). */
export function pyRepr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'number' || typeof value === 'bigint') return pyNumber(value);
  if (typeof value === 'string') return reprString(value);
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(', ')}]`;
  if (value instanceof Map) {
    return `{${[...value].map(([k, v]) => `${pyRepr(k)}: ${pyRepr(v)}`).join(', ')}}`;
  }
  if (typeof value === 'object') {
    return `{${Object.entries(value).map(([k, v]) => `${reprString(k)}: ${pyRepr(v)}`).join(', ')}}`;
  }
  return String(value);
}

/** Python's str(): strings stay as they are, everything else is repr'd. */
export function pyStr(value: unknown): string {
  return typeof value === 'string' ? value : pyRepr(value);
}
