// The shared `list` and `list-fields` commands: field selection (-o, -o +extra), name
// arguments and -F filters, table output, and exit 14 for unknown fields.
import { EXIT_UNKNOWN_FIELD } from '../core/constants.ts';
import { rawToBigInt } from '../core/json.ts';
import type { Filter, QueryResponse, FieldDef } from '../core/query.ts';
import type { CommandContext } from './framework.ts';
import type { OptionSpec } from './parser.ts';
import { formatFieldList, formatQueryTable, unknownFieldsWarning, type ColumnFormat, type Units } from './format/table.ts';

export const LIST_OPTIONS: OptionSpec[] = [
  { flags: ['--no-headers'], dest: 'no_headers', help: "Don't display column headers" },
  { flags: ['--separator'], dest: 'separator', type: 'string', metavar: 'SEPARATOR', help: 'Separator between output fields (defaults to one space)' },
  { flags: ['-o', '--output'], dest: 'output', type: 'string', metavar: 'FIELDS', help: 'Comma separated list of output fields' },
  { flags: ['-v', '--verbose'], dest: 'verbose', help: 'Increase the verbosity of the operation' },
  { flags: ['-F', '--filter'], dest: 'force_filter', help: 'Whether command argument should be treated as filter' },
];
export const UNITS_OPTION: OptionSpec = { flags: ['--units'], dest: 'units', type: 'choice', choices: ['h', 'm', 'g', 't'], metavar: 'UNITS', help: 'Specify units for output (one of h/m/g/t)' };
export const LIST_FIELDS_OPTIONS: OptionSpec[] = [LIST_OPTIONS[0], LIST_OPTIONS[1]];

/** -o handling: a leading "+" appends to the default fields. */
export function selectedFields(output: string | null, defaults: string[]): string[] {
  if (!output) return defaults;
  if (output.startsWith('+')) return [...defaults, ...output.slice(1).split(',')];
  return output.split(',');
}

export interface ListSpec {
  resource: string;
  defaultFields: string[];
  /** List-valued fields printed joined with "," (e.g. job summary). */
  joinedFields?: string[];
  /** The filter the positional arguments (and status options) make. */
  filter: (ctx: CommandContext) => Filter;
  /** Columns formatted as upstream's list command does it for this resource. */
  overrides?: Readonly<Record<string, ColumnFormat>>;
}

export function printQueryResult(ctx: CommandContext, response: QueryResponse, joinedFields: string[] = [], overrides?: ListSpec['overrides']): number {
  const lines = formatQueryTable(response.fields, rawToBigInt(response.data) as QueryResponse['data'], {
    header: !ctx.opts.no_headers,
    separator: ctx.opts.separator ?? null,
    units: (ctx.opts.units as Units | undefined) ?? null,
    verbose: Boolean(ctx.opts.verbose),
    joinedFields,
    overrides,
  });
  for (const l of lines) ctx.out(`${l}\n`);
  const warning = unknownFieldsWarning(response.fields);
  if (warning) {
    ctx.err(`${warning}\n`);
    return EXIT_UNKNOWN_FIELD;
  }
  return 0;
}

export async function runList(ctx: CommandContext, spec: ListSpec): Promise<number> {
  const fields = selectedFields(ctx.opts.output ?? null, spec.defaultFields);
  const client = await ctx.client();
  const response = (await client.call('Query', [spec.resource, fields, spec.filter(ctx)])) as QueryResponse;
  return printQueryResult(ctx, response, spec.joinedFields, spec.overrides);
}

export async function runListFields(ctx: CommandContext, resource: string): Promise<number> {
  const client = await ctx.client();
  const { fields } = (await client.call('QueryFields', [resource, ctx.args.length ? ctx.args : null])) as { fields: FieldDef[] };
  for (const l of formatFieldList(fields, !ctx.opts.no_headers, ctx.opts.separator ?? null)) ctx.out(`${l}\n`);
  const warning = unknownFieldsWarning(fields);
  if (warning) {
    ctx.err(`${warning}\n`);
    return EXIT_UNKNOWN_FIELD;
  }
  return 0;
}
