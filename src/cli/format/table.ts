// The `list` and `list-fields` table layout (spec/surface.md §2.3): query cells are
// rendered by field kind, then laid out either aligned in padded columns or joined
// by a separator, exactly as Ganeti's FormatQueryResult/FormatTable do.
import { RS_NODATA, RS_NORMAL, RS_OFFLINE, RS_UNAVAIL, RS_UNKNOWN } from '../../core/constants.ts';
import type { Cell, FieldDef, FieldKind } from '../../core/query.ts';
import { pyFixed, pyStr } from '../../core/pyrepr.ts';
import { formatTimestamp } from './time.ts';

export type Units = 'h' | 'm' | 'g' | 't';

export interface TableColumn {
  title: string;
  alignRight: boolean;
}

/** A per-field replacement for the kind's default rendering of normal cells. */
export interface ColumnFormat {
  format: (value: unknown) => string;
  alignRight: boolean;
}

export interface QueryTableOptions {
  /** Print the title row (false for --no-headers). Default true. */
  header?: boolean;
  /** --separator; absent or null means padded, aligned columns. */
  separator?: string | null;
  /** --units; absent means 'h' for aligned output and 'm' with a separator. */
  units?: Units | null;
  /** -v: spell out non-normal cell statuses. */
  verbose?: boolean;
  /** List-valued fields the command prints joined with "," instead of as a Python list. */
  joinedFields?: Iterable<string>;
  /** Field name → custom rendering (e.g. gnt-group's ndparams). */
  overrides?: Readonly<Record<string, ColumnFormat>>;
}

/** Names `list-fields` shows for each kind. */
export const FIELD_KIND_NAMES: Readonly<Record<FieldKind, string>> = {
  unknown: 'Unknown',
  text: 'Text',
  bool: 'Boolean',
  number: 'Number',
  float: 'Floating-point number',
  unit: 'Storage size',
  timestamp: 'Timestamp',
  other: 'Custom',
};

// [terse, verbose] renderings of cells whose status is not RS_NORMAL.
const STATUS_TEXT: Readonly<Record<number, readonly [string, string]>> = {
  [RS_UNKNOWN]: ['??', '(unknown)'],
  [RS_NODATA]: ['?', '(nodata)'],
  [RS_UNAVAIL]: ['-', '(unavail)'],
  [RS_OFFLINE]: ['*', '(offline)'],
};

/** A MiB amount in the given units (utils.FormatUnit). */
export function formatUnit(mib: number, units: Units): string {
  // Only the human-readable choice names its unit.
  const suffix = (letter: string) => (units === 'h' ? letter : '');
  if (units === 'm' || (units === 'h' && mib < 1024)) return pyFixed(mib, 0) + suffix('M');
  if (units === 'g' || (units === 'h' && mib < 1024 * 1024)) return pyFixed(mib / 1024, 1) + suffix('G');
  return pyFixed(mib / 1024 / 1024, 1) + suffix('T');
}

function commaJoined(value: unknown): string {
  return Array.isArray(value) ? value.map(pyStr).join(',') : pyStr(value);
}

function kindFormat(kind: FieldKind, units: Units): ColumnFormat {
  switch (kind) {
    case 'bool':
      return { format: (v) => (v ? 'Y' : 'N'), alignRight: false };
    case 'number':
    case 'float':
      return { format: pyStr, alignRight: true };
    case 'unit':
      return { format: (v) => (typeof v === 'number' ? formatUnit(v, units) : pyStr(v)), alignRight: true };
    case 'timestamp':
      return { format: (v) => formatTimestamp(typeof v === 'number' ? v : null), alignRight: false };
    default:
      return { format: pyStr, alignRight: false };
  }
}

/** Lay out already-rendered rows: padded columns, or plain separator-joined cells. */
export function formatTable(columns: readonly TableColumn[], rows: readonly (readonly string[])[],
  header: boolean, separator: string | null = null): string[] {
  const lines = header ? [columns.map((c) => c.title), ...rows] : [...rows];
  if (separator !== null) return lines.map((row) => row.join(separator));
  const widths = columns.map((_, i) => lines.reduce((width, row) => Math.max(width, row[i].length), 0));
  const last = columns.length - 1;
  // A left-aligned last column would only add trailing spaces.
  if (last >= 0 && !columns[last].alignRight) widths[last] = 0;
  return lines.map((row) => row.map((cell, i) =>
    columns[i].alignRight ? cell.padStart(widths[i]) : cell.padEnd(widths[i])).join(' '));
}

/** Render a query result (field definitions plus rows of cells) as list output lines. */
export function formatQueryTable(fields: readonly FieldDef[], rows: readonly (readonly Cell[])[],
  options: QueryTableOptions = {}): string[] {
  const separator = options.separator ?? null;
  const units = options.units ?? (separator ? 'm' : 'h');
  const joined = new Set(options.joinedFields ?? []);
  const formats = fields.map((f) => options.overrides?.[f.name] ??
    (joined.has(f.name) ? { format: commaJoined, alignRight: false } : kindFormat(f.kind, units)));
  const rendered = rows.map((row) => row.map(([status, value], i) => {
    if (status === RS_NORMAL) return formats[i].format(value);
    const text = STATUS_TEXT[status];
    if (!text) throw new Error(`Unknown result status ${status}`);
    return text[options.verbose ? 1 : 0];
  }));
  const columns = fields.map((f, i) => ({ title: f.title, alignRight: formats[i].alignRight }));
  return formatTable(columns, rendered, options.header ?? true, separator);
}

/** `list-fields` output: one row per field with its name, kind, title and description. */
export function formatFieldList(fields: readonly FieldDef[], header = true, separator: string | null = null): string[] {
  const columns = ['Name', 'Type', 'Title', 'Description'].map((title) => ({ title, alignRight: false }));
  const rows = fields.map((f) => [f.name, FIELD_KIND_NAMES[f.kind] ?? f.kind, f.title, f.doc]);
  return formatTable(columns, rows, header, separator);
}

/** The stderr warning list commands print when fields are unknown, or null if none are. */
export function unknownFieldsWarning(fields: readonly FieldDef[]): string | null {
  const unknown = fields.filter((f) => f.kind === 'unknown').map((f) => f.name);
  return unknown.length > 0 ? `Warning: Queried for unknown fields ${unknown.join(', ')}` : null;
}
