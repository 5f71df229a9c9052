/**
 * A command's options declared once (unjs/citty's `args`, made strict): one typed table per command, from which
 * both the `node:util` parseArgs options (`parserOptions`) and the `--help` text (help.ts) are made, so that the
 * two cannot drift apart. Shared groups of options (serial, model trust, token, ...) are table fragments that a
 * command spreads into its own table.
 */
import type { ParseArgsConfig } from 'node:util';

/** A heading of the help under which options are listed; rows without one go under the command's "Options". */
export interface HelpGroup {
  /** The heading, printed with a colon after it. */
  readonly title: string;
  /** Terms listed like options before the group's options (emulate-rig's fault specs): [term, description]. */
  readonly items?: readonly (readonly [term: string, description: string])[];
  /** Prose after the group's options, printed as it is. */
  readonly after?: string;
}

interface RowBase {
  /** One line of what the option does (wrapped to the help's width; a `\n` starts a new line). */
  readonly description: string;
  /** A one-letter alias, `-x`. */
  readonly short?: string;
  /** The default as the help shows it (the command applies it; absent means none). */
  readonly default?: string;
  /** `true` for `[required]`, or a condition: `'with --mqtt'` for `[required with --mqtt]`. */
  readonly required?: true | string;
  /** Where the help lists it; absent: the command's own "Options". */
  readonly group?: HelpGroup;
}

export interface BooleanRow extends RowBase {
  readonly type: 'boolean';
}

export interface StringRow extends RowBase {
  readonly type: 'string';
  /** The value's placeholder without brackets (`file`, `s`, `path|auto`): the help shows `--name <file>`. */
  readonly value: string;
  /** Repeatable: every occurrence is kept (an array). */
  readonly multiple?: true;
}

export type OptionRow = BooleanRow | StringRow;

/** Option name (without `--`, units in the name: `timeout-s`) to its row. */
export type OptionTable = Readonly<Record<string, OptionRow>>;

/** What parseArgs gives for a row: a boolean, the strings of a repeatable option, or a string. */
export type OptionValue<R extends OptionRow> = R extends { readonly type: 'boolean' } ? boolean : R extends { readonly multiple: true } ? string[] : string;

/** What parseArgs gives for a table (absent where argv did not name the option). */
export type OptionValues<T extends OptionTable> = { readonly [K in keyof T]?: OptionValue<T[K]> };

export type ParserOptions = NonNullable<ParseArgsConfig['options']>;

/** The main group of every command. */
export const OPTIONS_GROUP: HelpGroup = { title: 'Options' };

/** `-h, --help` is every command's: added by the parser and the help, never declared in a table. */
export const HELP_ROW: BooleanRow = { type: 'boolean', short: 'h', description: 'this help' };

/** The table as parseArgs options: type, multiple and short only (a default here would hide whether a flag was given). */
export function parserOptions(table: OptionTable): ParserOptions {
  const out: ParserOptions = {};
  for (const [name, row] of Object.entries(table)) {
    out[name] = {
      type: row.type,
      ...(row.type === 'string' && row.multiple === true && { multiple: true }),
      ...(row.short !== undefined && { short: row.short }),
    };
  }
  out['help'] = { type: 'boolean', short: 'h' };
  return out;
}
