// What every `ferry` command shares: reading its command line, its help text, the two kinds of failure it
// reports, where its output goes and its colours. It imports nothing but node:util, so that `ferry --help`
// starts at once.
import { type ParseArgsOptionsConfig, parseArgs, styleText } from 'node:util';

/** A wrong command line: the message, and the command whose help to point at (none: `ferry --help`). */
export class UsageError extends Error {
  override name = 'UsageError';
  readonly command: string | undefined;
  constructor(message: string, command?: string) {
    super(message);
    this.command = command;
  }
}

/** A failure the user can act on: printed as it is, exit code 1 (or the command's own, e.g. 2 for `diff`). */
export class CliError extends Error {
  override name = 'CliError';
  readonly exitCode: number;
  constructor(message: string, options: { readonly exitCode?: number; readonly cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.exitCode = options.exitCode ?? 1;
  }
}

/** One `ferry` command, as the dispatcher loads it. */
export interface Command {
  readonly help: string;
  run(args: readonly string[]): Promise<number>;
}

export const out = (text: string): void => void process.stdout.write(`${text}\n`);
export const err = (text: string): void => void process.stderr.write(`${text}\n`);

/** The colours and styles output uses. */
export type Style = 'red' | 'green' | 'yellow' | 'cyan' | 'gray' | 'bold' | 'dim';

/**
 * Text in a style on standard output: plain whenever `NO_COLOR` is set (no-color.org), else as Node's styleText
 * decides (colour on a terminal, or with `FORCE_COLOR`).
 */
export const paint = (style: Style, text: string): string =>
  process.env.NO_COLOR ? text : styleText(style, text, { stream: process.stdout });

export const defaultConfigPath = (): string => process.env.FERRY_CONFIG_FILE || 'ferry.config.yaml';
export const defaultStateDir = (): string => process.env.FERRY_STATE_DIR || '.ferry';

/** An option of a help text: how it is written and what it does. */
export type OptionHelp = readonly [flags: string, text: string];

export const CONFIG_HELP: OptionHelp = [
  '-c, --config <file>',
  'Configuration (default: ferry.config.yaml, or FERRY_CONFIG_FILE)',
];
export const STATE_DIR_HELP: OptionHelp = [
  '--state-dir <dir>',
  'State: store, queue, Git cache (default: .ferry, or FERRY_STATE_DIR)',
];
export const SECRETS_HELP: OptionHelp = [
  '--secrets <file>',
  'YAML map of secret names to values; FERRY_SECRET_<NAME> variables win',
];

/** A command's help: its usage line, what it does, and its options in aligned columns. */
export function usage(synopsis: string, description: string, options: readonly OptionHelp[]): string {
  const all: readonly OptionHelp[] = [...options, ['-h, --help', 'Show this help']];
  // Long flags line up after the short ones; a flag too long for the column gets a line of its own.
  const flag = (flags: string) => (flags.startsWith('--') ? `    ${flags}` : flags);
  const width = Math.min(30, Math.max(...all.map(([flags]) => flag(flags).length)) + 2);
  const lines = all.map(([flags, text]) => {
    const written = flag(flags);
    return written.length + 2 > width
      ? `  ${written}\n  ${' '.repeat(width)}${text}`
      : `  ${written.padEnd(width)}${text}`;
  });
  return `Usage: ${synopsis}\n\n${description}\n\nOptions:\n${lines.join('\n')}`;
}

/** Parses a command's arguments strictly (with `-h`/`--help` added); a bad one is a UsageError. */
export function parse<T extends ParseArgsOptionsConfig>(
  command: string,
  args: readonly string[],
  options: T,
  allowPositionals = false,
) {
  try {
    return parseArgs({
      args: [...args],
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals,
      allowNegative: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error), command);
  }
}

/** A whole-number option within bounds, or undefined when it is not given. */
export function integer(
  value: string | undefined,
  name: string,
  command: string,
  range: { readonly min: number; readonly max: number },
): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number < range.min || number > range.max) {
    throw new UsageError(
      `--${name} must be a whole number from ${range.min} to ${range.max}, not "${value}"`,
      command,
    );
  }
  return number;
}

/** An option that takes one of a few words. */
export function oneOf<const T extends string>(
  value: string,
  name: string,
  command: string,
  choices: readonly T[],
): T {
  if ((choices as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`--${name} must be ${choices.join(' or ')}, not "${value}"`, command);
}

/** Prints a help text; the exit code of a command asked for its help. */
export function printHelp(text: string): number {
  out(text);
  return 0;
}
