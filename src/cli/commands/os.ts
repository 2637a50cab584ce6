// gnt-os: the operating system definitions the nodes offer (upstream's gnt_os.py): list,
// info and diagnose, all from OP_OS_DIAGNOSE.
import { rawToBigInt } from '../../core/json.ts';
import { pyStr } from '../../core/pyrepr.ts';
import { formatInfo, pairs, type InfoValue } from '../format/info.ts';
import { toolMain, type Command } from '../framework.ts';
import { PRIORITY_OPT, submitAndWait } from '../jobs.ts';
import { LIST_OPTIONS } from '../list.ts';

type NodeEntry = [string, boolean, string, string[], Array<[string, string]>, number[], boolean?];

/** The names an OS is installed as: one per variant, or the bare name (cli.CalculateOSNames). */
export function calculateOsNames(name: string, variants: string[] | null | undefined): string[] {
  return variants && variants.length > 0 ? variants.map((v) => `${name}+${v}`) : [name];
}

const OS_API_V15 = 15;
const OS_API_V20 = 20;

/** OP_OS_DIAGNOSE's rows of the fields (null when the job returned nothing). */
async function diagnose(ctx: Parameters<Command['run']>[0], fields: string[]): Promise<unknown[][] | null> {
  const [result] = await submitAndWait(ctx, [{ OP_ID: 'OP_OS_DIAGNOSE', output_fields: fields, names: [] }]);
  return (rawToBigInt(result) as unknown[][] | null) ?? null;
}

/** `gnt-os list`'s lines: upstream's GenerateTable pads the title to the column, never the last column's cells. */
export function osListLines(rows: unknown[][], headers: boolean): string[] {
  const names = rows.flatMap(([name, variants]) => calculateOsNames(String(name), variants as string[] | null));
  return headers ? ['Name'.padEnd(Math.max(4, ...names.map((n) => n.length))), ...names] : names;
}

const list: Command = {
  name: 'list',
  usage: '',
  description: 'Lists all valid operating systems on the cluster',
  args: { min: 0, max: 0 },
  options: [LIST_OPTIONS[0], PRIORITY_OPT],
  async run(ctx) {
    const rows = (await diagnose(ctx, ['name', 'variants'])) ?? [];
    for (const line of osListLines(rows, !ctx.opts.no_headers)) ctx.out(`${line}\n`);
    return 0;
  },
};

/**
 * `gnt-os info`'s text for the OP_OS_DIAGNOSE rows, only the OSes named when names are
 * given; a named OS no node has but with cluster-level parameters shows those.
 */
export function osInfoText(rows: unknown[][], names: string[]): string {
  const wanted = [...names];
  const osHvp: Record<string, unknown> = {};
  const osParams: Record<string, unknown> = {};
  let out = '';
  for (const [name, valid, variants, parameters, apiVersions, blacklisted, hidden, hvp, osp, trusted] of rows) {
    Object.assign(osHvp, hvp);
    Object.assign(osParams, osp);
    if (names.length > 0) {
      const i = wanted.indexOf(String(name));
      if (i < 0) continue;
      wanted.splice(i, 1);
    }
    out += `${String(name)}:\n  - valid: ${pyStr(valid)}\n  - hidden: ${pyStr(hidden)}\n  - blacklisted: ${pyStr(blacklisted)}\n`;
    if (valid) {
      out += '  - API versions:\n';
      for (const v of [...(apiVersions as number[])].sort((a, b) => a - b)) out += `    - ${v}\n`;
      out += '  - variants:\n';
      for (const v of variants as string[]) out += `    - ${v}\n`;
      out += '  - parameters:\n';
      for (const [pname, pdesc] of parameters as Array<[string, string]>) out += `    - ${pname}: ${pdesc}\n`;
    }
    out += `  - trusted: ${pyStr(trusted)}\n\n`;
  }
  for (const name of wanted) {
    if (name in osHvp || name in osParams) {
      const info = pairs([name, pairs(
        ['OS-specific hypervisor parameters', (osHvp[name] ?? {}) as InfoValue],
        ['OS parameters', (osParams[name] ?? {}) as InfoValue],
      )]);
      out += `${formatInfo(info).join('\n')}\n`;
    } else {
      out += `${name}: \n`;
    }
    out += '\n';
  }
  return out;
}

/** The fields `gnt-os info` asks for, in the order osInfoText reads them. */
export const OS_INFO_FIELDS = ['name', 'valid', 'variants', 'parameters', 'api_versions', 'blacklisted', 'hidden', 'os_hvp', 'osparams', 'trusted'];

const info: Command = {
  name: 'info',
  aliases: ['show'],
  usage: '',
  description: 'Show detailed information about operating systems',
  args: { min: 0, max: null },
  options: [PRIORITY_OPT],
  async run(ctx) {
    const rows = await diagnose(ctx, OS_INFO_FIELDS);
    if (rows === null) {
      ctx.err("Can't get the OS list\n");
      return 1;
    }
    ctx.out(osInfoText(rows, ctx.args));
    return 0;
  },
};

/** An OS definition's state: "valid" or "invalid - why". */
function osStatus(status: boolean, message: string): string {
  return status ? 'valid' : `invalid - ${message}`;
}

/** `gnt-os diagnose`'s text and exit code (1 when some OS is not valid everywhere). */
export function osDiagnoseText(rows: unknown[][]): [string, number] {
  let out = '';
  let hasBad = false;
  for (const [osName, , osVariants, nodeData, hidden, blacklisted] of rows) {
    const valid = new Map<string, string>();
    const bad = new Map<string, string>();
    const hiddenLines = new Map<string, string[]>();
    for (const [node, entries] of Object.entries(nodeData as Record<string, NodeEntry[]>)) {
      hiddenLines.set(node, []);
      if (entries.length === 0) {
        bad.set(node, 'OS not found');
        continue;
      }
      const [[path, status, msg, variants, params, api, trusted], ...others] = entries;
      let text = `${osStatus(status, msg)} (path: ${path})`;
      const maxApi = api.length > 0 ? Math.max(...api) : 0;
      text += api.length > 0 ? ` [API versions: ${api.join(', ')}]` : ' [no API versions declared]';
      if (maxApi >= OS_API_V15) text += variants.length > 0 ? ` [variants: ${variants.join(', ')}]` : ' [no variants]';
      if (maxApi >= OS_API_V20) text += params.length > 0 ? ` [parameters: ${params.map((p) => p[0]).join(', ')}]` : ' [no parameters]';
      text += trusted ? ' [trusted]' : ' [untrusted]';
      (status ? valid : bad).set(node, text);
      for (const [hpath, hstatus, hmsg] of others) hiddenLines.get(node)!.push(`    [hidden] path: ${hpath}, status: ${osStatus(hstatus, hmsg)}`);
    }
    let global: string;
    if (valid.size > 0 && bad.size === 0) {
      global = 'valid';
    } else {
      global = valid.size === 0 && bad.size > 0 ? 'invalid' : 'partial valid';
      hasBad = true;
    }
    let line = `OS: ${String(osName)} [global status: ${global}]`;
    if (hidden) line += ' [hidden]';
    if (blacklisted) line += ' [blacklisted]';
    out += `${line}\n`;
    const variantList = osVariants as string[] | null;
    if (variantList && variantList.length > 0) out += `  Variants: [${variantList.join(', ')}]\n`;
    for (const map of [valid, bad]) {
      for (const node of [...map.keys()].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))) {
        out += `  Node: ${node}, status: ${map.get(node)!}\n`;
        for (const h of hiddenLines.get(node) ?? []) out += `${h}\n`;
      }
    }
    out += '\n';
  }
  return [out, hasBad ? 1 : 0];
}

const diagnoseCmd: Command = {
  name: 'diagnose',
  usage: '',
  description: 'Diagnose all operating systems',
  args: { min: 0, max: 0 },
  options: [PRIORITY_OPT],
  async run(ctx) {
    const rows = await diagnose(ctx, ['name', 'valid', 'variants', 'node_status', 'hidden', 'blacklisted']);
    if (rows === null) {
      ctx.err("Can't get the OS list\n");
      return 1;
    }
    const [text, code] = osDiagnoseText(rows);
    ctx.out(text);
    return code;
  },
};

export const main = toolMain('gnt-os', [diagnoseCmd, info, list]);
