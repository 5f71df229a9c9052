/** Argument parsing shared by the commands: node:util parseArgs, strict, with typed numeric options. */
import { parseArgs } from 'node:util';
import { EnoseError } from '../errors.js';
import { renderHelp, type CommandHelp } from './help.js';
import { parserOptions, type OptionTable, type OptionValues } from './options.js';

export interface CommandContext {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** True when stdout is a terminal (progress bars and colours only then). */
  readonly isTty: boolean;
  /** Cancelled on SIGINT/SIGTERM by main.ts. */
  readonly signal: AbortSignal;
  /** The environment (main.ts: process.env): serve and watch take ENOSE_<FLAG> from it (envOptions.ts). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export interface Command {
  readonly name: string;
  readonly summary: string;
  /** The options, declared once: the parser's and the help's (options.ts). */
  readonly options: OptionTable;
  /** The `--help` text, made from `options` (help.ts). */
  readonly usage: string;
  /** What `usage` is made from: the synopsis, the prose, the table and its groups. */
  readonly help: CommandHelp;
  run(argv: readonly string[], ctx: CommandContext): Promise<number>;
}

/** A command whose `--help` is made from its option table. */
export function defineCommand(def: CommandHelp & Pick<Command, 'name' | 'summary' | 'run'>): Command {
  const { name, summary, run, ...help } = def;
  return { name, summary, options: def.options, usage: renderHelp(help), help, run };
}

/**
 * What argv gave, typed by the command's table: a command reads only the options it declares (a name that is not
 * in its table does not compile). The shared readers (serialOptions.ts, ...) take any table's `Parsed`.
 */
export interface Parsed<T extends OptionTable = OptionTable> {
  readonly values: OptionValues<T>;
  readonly positionals: string[];
}

/** An option of the table `T`. */
export type OptionName<T extends OptionTable> = keyof T & string;

/** Parses argv strictly; an unknown option or a missing value is bad usage, reported in one line. */
export function parseCommand<T extends OptionTable>(command: string, argv: readonly string[], options: T): Parsed<T> {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options: parserOptions(options),
      allowPositionals: true,
      strict: true,
    });
    return { values: values as OptionValues<T>, positionals };
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new EnoseError('bad-usage', `${message.replace(/\. To specify a positional.*$/, '')} (see enose ${command} --help)`);
  }
}

export function stringOption<T extends OptionTable>(parsed: Parsed<T>, name: OptionName<T>): string | undefined {
  const v: unknown = parsed.values[name];
  return typeof v === 'string' ? v : undefined;
}

export function requireString<T extends OptionTable>(command: string, parsed: Parsed<T>, name: OptionName<T>): string {
  const v = stringOption(parsed, name);
  if (v === undefined || v === '') throw new EnoseError('bad-usage', `--${name} is required (see enose ${command} --help)`);
  return v;
}

export interface NumberRule {
  readonly integer?: boolean;
  readonly min?: number;
  readonly max?: number;
  /** Exclusive lower bound. */
  readonly above?: number;
}

export function numberOption<T extends OptionTable>(command: string, parsed: Parsed<T>, name: OptionName<T>, rule: NumberRule = {}): number | undefined {
  const raw = stringOption(parsed, name);
  if (raw === undefined) return undefined;
  const v = Number(raw);
  const bad = (why: string) => new EnoseError('bad-option', `--${name} ${why}, got "${raw}"`);
  if (raw.trim() === '' || !Number.isFinite(v)) throw bad('must be a number');
  if (rule.integer && !Number.isInteger(v)) throw bad('must be an integer');
  if (rule.min !== undefined && v < rule.min) throw bad(`must be at least ${rule.min}`);
  if (rule.max !== undefined && v > rule.max) throw bad(`must be at most ${rule.max}`);
  if (rule.above !== undefined && !(v > rule.above)) throw bad(`must be greater than ${rule.above}`);
  return v;
}

export function listOption<T extends OptionTable>(parsed: Parsed<T>, name: OptionName<T>): string[] | undefined {
  const raw = stringOption(parsed, name);
  if (raw === undefined) return undefined;
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}
