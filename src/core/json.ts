// JSON that keeps integers beyond 2^53 exact. Ganeti's reason trail carries nanosecond
// timestamps (e.g. 1795468282798816768) that a plain JSON.parse would round; we keep
// them as raw JSON values (JSON.rawJSON) so they are stored and returned byte-exact.

type RawJson = { rawJSON: string };
const J = JSON as unknown as {
  rawJSON(text: string): RawJson;
  isRawJSON(v: unknown): v is RawJson;
};

/** A run of 16+ digits: the only texts that may hold integers beyond 2^53. */
const LONG_NUMBER = /\d{16}/;

export function parseJson(text: string): unknown {
  // A reviver makes JSON.parse several times slower: use it only where it can matter.
  if (!LONG_NUMBER.test(text)) return JSON.parse(text);
  return JSON.parse(text, function (this: unknown, _key: string, value: unknown, ctx?: { source?: string }) {
    if (typeof value === 'number' && !Number.isSafeInteger(value) && ctx?.source && /^-?\d+$/.test(ctx.source)) {
      return J.rawJSON(ctx.source);
    }
    return value;
  } as (this: unknown, key: string, value: unknown) => unknown);
}

/** A JSON integer of any size, emitted verbatim by JSON.stringify. */
export function rawJson(text: string): unknown {
  return J.rawJSON(text);
}

/** Milliseconds since the epoch with microsecond resolution (Date.now() has only ms). */
export function preciseNowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Nanoseconds since the epoch, the reason trail's timestamp format. */
export function nowNs(ms: number = preciseNowMs()): unknown {
  return rawJson((BigInt(Math.floor(ms * 1000)) * 1000n).toString());
}

/** Preserved big integers as BigInt, for code that prints values (the CLI). */
export function rawToBigInt(v: unknown): unknown {
  if (isRawJson(v)) return BigInt(v.rawJSON);
  if (Array.isArray(v)) return v.map(rawToBigInt);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, rawToBigInt(x)]));
  return v;
}

export function isRawJson(v: unknown): v is RawJson {
  return J.isRawJSON(v);
}

/** An integer, whether a safe JS number or a preserved big one. */
export function isJsonInteger(v: unknown): boolean {
  return (typeof v === 'number' && Number.isInteger(v)) || (isRawJson(v) && /^-?\d+$/.test(v.rawJSON));
}

/** The decimal text of a (possibly big) JSON integer or number. */
export function numberText(v: unknown): string {
  return isRawJson(v) ? v.rawJSON : String(v);
}

/** Copy of a value with object keys sorted recursively (Ganeti's sort_keys dumps). */
export function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object' && !isRawJson(value)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined) out[k] = sortKeys(v);
    }
    return out;
  }
  return value;
}
