// The YAML-like serializer behind `gnt-job info`, `gnt-cluster info` and the other
// info commands (spec/surface.md §0.8; Ganeti's PrintGenericInfo). The shapes it
// distinguishes follow Python's: dicts print sorted, ordered key/value lists keep
// their order (optionally aligning values), lists print as "- item", and tuples of
// scalars print inline as "[a, b]".
import { pyStr } from '../../core/pyrepr.ts';

export type InfoScalar = string | number | bigint | boolean | null | undefined;
export type InfoValue = InfoScalar | readonly InfoValue[] | InfoDict | InfoPairs | InfoTuple;
export interface InfoDict {
  readonly [key: string]: InfoValue;
}

/** key, value, and optionally an alignment group: values of one group start in the same column. */
export type InfoEntry = readonly [key: string, value: InfoValue, alignGroup?: string];

/** An ordered key/value list (Python: a list of tuples). */
export class InfoPairs {
  readonly entries: readonly InfoEntry[];
  constructor(entries: readonly InfoEntry[]) {
    this.entries = entries;
  }
}

/** A tuple (Python): inline "[a, b, c]" when all items are scalars, otherwise a list. */
export class InfoTuple {
  readonly items: readonly InfoValue[];
  constructor(items: readonly InfoValue[]) {
    this.items = items;
  }
}

export function pairs(...entries: InfoEntry[]): InfoPairs {
  return new InfoPairs(entries);
}

export function tuple(...items: InfoValue[]): InfoTuple {
  return new InfoTuple(items);
}

const INDENT = '  ';

function isContainer(value: InfoValue): boolean {
  return typeof value === 'object' && value !== null;
}

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

class InfoWriter {
  text = '';

  /**
   * Keyed and listed items: the first goes right where the cursor is unless the
   * value follows a key, in which case every item starts on its own indented line.
   */
  private items<T>(items: readonly T[], level: number, afterKey: boolean, writeItem: (item: T) => void): void {
    if (items.length === 0) {
      this.text += '\n';
      return;
    }
    if (afterKey) this.text += '\n';
    items.forEach((item, i) => {
      if (afterKey || i > 0) this.text += INDENT.repeat(level);
      writeItem(item);
    });
  }

  private keyed(entries: readonly InfoEntry[], level: number, afterKey: boolean): void {
    const groupWidth = new Map<string, number>();
    for (const [key, , group] of entries) {
      if (group !== undefined) groupWidth.set(group, Math.max(groupWidth.get(group) ?? 0, key.length));
    }
    this.items(entries, level, afterKey, ([key, value, group]) => {
      this.text += `${key}: `;
      if (group !== undefined) this.text += ' '.repeat((groupWidth.get(group) ?? 0) - key.length);
      this.write(value, level + 1, true);
    });
  }

  private list(items: readonly InfoValue[], level: number, afterKey: boolean): void {
    this.items(items, level, afterKey, (item) => {
      this.text += '- ';
      this.write(item, level + 1, false);
    });
  }

  write(data: InfoValue, level: number, afterKey: boolean): void {
    if (data instanceof InfoPairs) {
      this.keyed(data.entries, level, afterKey);
    } else if (data instanceof InfoTuple) {
      if (data.items.some(isContainer)) this.list(data.items, level, afterKey);
      else this.text += `[${data.items.map(pyStr).join(', ')}]\n`;
    } else if (Array.isArray(data)) {
      this.list(data, level, afterKey);
    } else if (isContainer(data)) {
      const dict = data as InfoDict;
      const keys = Object.keys(dict).sort(compareKeys);
      this.keyed(keys.map((k): InfoEntry => [k, dict[k]]), level, afterKey);
    } else {
      this.text += `${pyStr(data)}\n`;
    }
  }
}

/** The lines PrintGenericInfo prints for `data` (trailing empty lines dropped, as Ganeti does). */
export function formatInfo(data: InfoValue): string[] {
  const writer = new InfoWriter();
  writer.write(data, 0, false);
  return writer.text.replace(/\n+$/, '').split('\n');
}
