// `hail [options] INPUT-FILE|-`: our instance allocator as an IAllocator plugin (see
// hail-core.ts for the placement rule). Reads the request, writes the response JSON to
// stdout; a malformed request is "Error: ..." on stderr and exit 1, a bad option exit 2,
// as htools' hail.
import fs from 'node:fs';
import { HailInputError, runIAllocator, type HailOptions } from './hail-core.ts';

const VERSION = 'hail (ganeti-ts) version 3.0.2';

const USAGE = `Usage: hail [OPTION...] INPUT-FILE|-
  -p[FIELDS]  --print-nodes[=FIELDS]             accepted, ignored
  -t FILE     --text-data=FILE                   not supported
  -v          --verbose                          increase the verbosity level
              --ignore-dynu                      accepted, ignored
              --ignore-soft-errors               exclusion tags do not refuse a node
              --no-capacity-checks               accepted (N+1 is never required)
              --restrict-allocation-to=NODE,...  Restrict allocations to the given set of nodes
              --mond[=CHOICE]                    accepted, ignored
  -V          --version                          show the version of the program
  -h          --help                             show help
`;

/** Parse the options hail knows; the input file; or the exit code and message for a bad command line. */
export function parseArgs(argv: string[]): { opts: HailOptions; file: string } | { code: number; out?: string; err?: string } {
  const opts: HailOptions = {};
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-') {
      files.push(a);
    } else if (a === '-h' || a === '--help') {
      return { code: 0, out: USAGE };
    } else if (a === '-V' || a === '--version') {
      return { code: 0, out: `${VERSION}\n` };
    } else if (a === '--ignore-soft-errors') {
      opts.ignoreSoftErrors = true;
    } else if (a === '--no-capacity-checks') {
      opts.noCapacityChecks = true;
    } else if (a.startsWith('--restrict-allocation-to')) {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      if (v === undefined) return { code: 2, err: "Command line error: option `--restrict-allocation-to' requires an argument NODE,...\n" };
      opts.restrictTo = v.split(',').filter((x) => x !== '');
    } else if (a === '-v' || a === '--verbose' || a === '--ignore-dynu' || /^-p/.test(a) || /^--print-nodes(=|$)/.test(a) ||
      /^--mond(=|$)/.test(a) || a === '--mond-xen' || /^--static-kvm-node-memory=/.test(a)) {
      // accepted for compatibility with htools' hail
    } else if (a === '-t' || a.startsWith('--text-data') || a.startsWith('--simulate') || a === '-S' || a.startsWith('--save')) {
      return { code: 2, err: `Command line error: option '${a}' is not supported by this hail\n` };
    } else if (a.startsWith('-')) {
      return { code: 2, err: `Command line error: unrecognized option \`${a}'\n` };
    } else {
      files.push(a);
    }
  }
  if (files.length === 0) return { code: 1, err: 'Error: This program needs an input file.\n' };
  if (files.length > 1) return { code: 1, err: 'Error: Only one argument is accepted (the input file)\n' };
  return { opts, file: files[0] };
}

export async function main(argv: string[]): Promise<number> {
  const parsed = parseArgs(argv);
  if ('code' in parsed) {
    if (parsed.out) process.stdout.write(parsed.out);
    if (parsed.err) process.stderr.write(parsed.err);
    return parsed.code;
  }
  let text: string;
  try {
    text = fs.readFileSync(parsed.file === '-' ? 0 : parsed.file, 'utf8');
  } catch (err) {
    process.stderr.write(`hail: ${parsed.file}: ${(err as Error).message}\n`);
    return 1;
  }
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (err) {
    process.stderr.write(`Error: Parsing input IAllocator message: Invalid JSON: ${(err as Error).message}\n`);
    return 1;
  }
  try {
    const response = runIAllocator(input, parsed.opts);
    process.stdout.write(`${JSON.stringify({ success: response.success, info: response.info, result: response.result })}\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof HailInputError)) throw err;
    process.stderr.write(`Error: ${err.message}\n`);
    return 1;
  }
}
