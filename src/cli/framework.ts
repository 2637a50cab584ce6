// The gnt-* tool framework: one table of commands per tool, Ganeti's usage texts,
// argument-count checks, and the run loop that maps every error through
// src/cli/errors.ts to a message and an exit code.
import path from 'node:path';
import { EXIT_FAILURE, EXIT_OPTPARSE, RELEASE_VERSION, VCS_VERSION } from '../core/constants.ts';
import { LuxiClient } from '../luxi/client.ts';
import { CliExit, formatError } from './errors.ts';
import { formatOptionHelp, OptionError, parseOptions, type OptionSpec } from './parser.ts';
import { formatUsage } from './format/usage.ts';

export interface CommandContext {
  tool: string;
  command: string;
  opts: Record<string, any>;
  args: string[];
  /** The LUXI connection, opened on first use. */
  client(): Promise<LuxiClient>;
  out(text: string): void;
  err(text: string): void;
}

export interface Command {
  name: string;
  aliases?: string[];
  /** Argument synopsis, e.g. "[<job-id>...]". */
  usage: string;
  description: string;
  options: OptionSpec[];
  /** Positional argument count; max null = unlimited. */
  args: { min: number; max: number | null };
  run(ctx: CommandContext): Promise<number>;
}

/** Options every subcommand accepts. */
export const COMMON_OPTIONS: OptionSpec[] = [
  { flags: ['-d', '--debug'], dest: 'debug', type: 'count', help: 'Turn debugging on' },
  { flags: ['--reason'], dest: 'reason', type: 'string', metavar: 'REASON', help: 'The reason for executing the command' },
];

function checkArgCount(cmd: Command, n: number): string | null {
  const { min, max } = cmd.args;
  if (max === 0 && n > 0) return `Command ${cmd.name} expects no arguments`;
  if (max === null) return n < min ? `Command ${cmd.name} expects at least ${min} argument(s)` : null;
  if (min === max && n !== min) return `Command ${cmd.name} expects ${min} argument(s)`;
  if (n > max) return `Command ${cmd.name} expects only ${max} argument(s)`;
  if (n < min) return `Command ${cmd.name} expects at least ${min} argument(s)`;
  return null;
}

function commandUsage(tool: string, cmd: Command): string {
  return `Usage\n=====\n  ${tool} ${cmd.name}${cmd.usage ? ` ${cmd.usage}` : ''}\n`;
}

export function toolMain(tool: string, commands: Command[]): (argv: string[]) => Promise<number> {
  return async (argv) => {
    // `gnt-… | head`: a reader that went away ends the output quietly, not with a stack trace.
    process.stdout.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(0);
      throw e;
    });
    const out = (t: string) => process.stdout.write(t);
    const err = (t: string) => process.stderr.write(t);
    const usage = () => `${formatUsage(tool, Object.fromEntries(commands.map((c) => [c.name, c.description]))).join('\n')}\n`;
    const [sub, ...rest] = argv;
    if (sub === undefined) {
      out(usage());
      return EXIT_FAILURE;
    }
    if (sub === '--help' || sub === '-h') {
      out(usage());
      return 0;
    }
    if (sub === '--version') {
      out(`${tool} (ganeti ${VCS_VERSION}) ${RELEASE_VERSION}\n`);
      return 0;
    }
    const cmd = commands.find((c) => c.name === sub || c.aliases?.includes(sub));
    if (!cmd) {
      out(usage());
      return EXIT_FAILURE;
    }
    const specs = [...cmd.options, ...COMMON_OPTIONS];
    if (rest.includes('-h') || rest.includes('--help')) {
      const idx = rest.findIndex((a) => !a.startsWith('-'));
      const helpIdx = Math.max(rest.indexOf('-h'), rest.indexOf('--help'));
      if (idx < 0 || helpIdx < idx) {
        out(`${commandUsage(tool, cmd)}\n${cmd.description}\n\nOptions\n=======\n${formatOptionHelp(specs).join('\n')}\n`);
        return 0;
      }
    }
    let parsed;
    try {
      parsed = parseOptions(rest, specs);
    } catch (e) {
      if (e instanceof OptionError) {
        err(`${commandUsage(tool, cmd)}\n${path.basename(tool)}: error: ${e.message}\n`);
        return EXIT_OPTPARSE;
      }
      throw e;
    }
    const countError = checkArgCount(cmd, parsed.args.length);
    if (countError) {
      err(`Error: ${countError}\n`);
      return EXIT_FAILURE;
    }
    let client: LuxiClient | null = null;
    const ctx: CommandContext = {
      tool,
      command: cmd.name,
      opts: parsed.opts,
      args: parsed.args,
      client: async () => (client ??= await LuxiClient.connect()),
      out,
      err,
    };
    try {
      return await cmd.run(ctx);
    } catch (e) {
      const [code, message] = formatError(e);
      err(`${message}\n`);
      return code;
    } finally {
      (client as LuxiClient | null)?.close();
    }
  };
}

/** Raised by commands to stop with a message on stderr and an exit code. */
export function exitWith(message: string, code = EXIT_FAILURE): never {
  throw new CliExit(message, code);
}
