/**
 * `enose <command> --help`, made from the command's option table (options.ts): every option of the table is
 * listed, under its group, and nothing that is not in it. Descriptions wrap at HELP_WIDTH columns; the default and
 * `[required]` go at the right end of a row's last line.
 */
import { HELP_ROW, OPTIONS_GROUP, type HelpGroup, type OptionRow, type OptionTable } from './options.js';

/** Columns of the help text. */
export const HELP_WIDTH = 104;
/** Option labels up to this long set the description column; a longer one puts its description after it. */
const MAX_LABEL = 25;

export interface CommandHelp {
  /** The synopsis after "Usage: " (continuation lines as they are). */
  readonly usage: string;
  /** What the command does: prose paragraphs, printed as they are. */
  readonly about: string;
  readonly options: OptionTable;
  /** The group of the rows that name none (default: "Options"); its `after` follows `-h, --help`. */
  readonly main?: HelpGroup;
  /** The order of the groups (the main group first unless listed here); groups not listed follow in table order. */
  readonly groups?: readonly HelpGroup[];
}

/** `--name <value>` (with `-x, ` before it for a short alias). */
export function optionLabel(name: string, row: OptionRow): string {
  const flag = `${row.short !== undefined ? `-${row.short}, ` : ''}--${name}`;
  return row.type === 'string' ? `${flag} <${row.value}>` : flag;
}

/** Words of `text` in lines of at most `width` columns (`first` for the first line); a `\n` starts a new line. */
function wrap(text: string, width: number, first = width): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    for (const word of paragraph.split(' ')) {
      const room = lines.length === 0 ? first : width;
      if (line !== '' && line.length + 1 + word.length > room) {
        lines.push(line);
        line = word;
      } else {
        line = line === '' ? word : `${line} ${word}`;
      }
    }
    lines.push(line);
  }
  return lines;
}

function tagsOf(row: OptionRow): string {
  const tags: string[] = [];
  if (row.required !== undefined) tags.push(row.required === true ? '[required]' : `[required ${row.required}]`);
  if (row.default !== undefined) tags.push(`[default: ${row.default}]`);
  return tags.join(' ');
}

/** One entry: the label, then the description from `column` on, wrapped, with its tags right-aligned. */
function entry(label: string, description: string, tags: string, column: number): string[] {
  const head = `  ${label}`;
  const long = head.length + 2 > column;
  const body = wrap(description, HELP_WIDTH - column, long ? HELP_WIDTH - head.length - 2 : HELP_WIDTH - column);
  const lines = body.map((text, i) => (i > 0 ? `${''.padEnd(column)}${text}` : long ? `${head}  ${text}` : `${head.padEnd(column)}${text}`));
  if (tags !== '') {
    const last = lines[lines.length - 1];
    if (last.length + 2 + tags.length <= HELP_WIDTH) lines[lines.length - 1] = `${last}${' '.repeat(HELP_WIDTH - last.length - tags.length)}${tags}`;
    else lines.push(tags.padStart(HELP_WIDTH));
  }
  return lines.map((l) => l.trimEnd());
}

/** The groups of a table in help order: `order` (the main group first unless it names it), then any other in table order. */
export function groupsOf(help: Pick<CommandHelp, 'options' | 'main' | 'groups'>): { group: HelpGroup; names: string[] }[] {
  const main = help.main ?? OPTIONS_GROUP;
  const order = help.groups ?? [];
  const byTitle = new Map<string, { group: HelpGroup; names: string[] }>();
  for (const g of order.some((o) => o.title === main.title) ? order : [main, ...order]) {
    if (!byTitle.has(g.title)) byTitle.set(g.title, { group: g, names: [] });
  }
  for (const [name, row] of Object.entries(help.options)) {
    const group = row.group ?? main;
    let slot = byTitle.get(group.title);
    if (!slot) byTitle.set(group.title, (slot = { group, names: [] }));
    slot.names.push(name);
  }
  return [...byTitle.values()].filter((g) => g.group.title === main.title || g.names.length > 0 || (g.group.items?.length ?? 0) > 0);
}

/** The whole `--help` text of a command. */
export function renderHelp(help: CommandHelp): string {
  const labels = Object.entries(help.options).map(([name, row]) => optionLabel(name, row).length);
  const itemTerms = (help.groups ?? []).flatMap((g) => (g.items ?? []).map(([term]) => term.length));
  const width = Math.max(10, ...[...labels, ...itemTerms].filter((n) => n <= MAX_LABEL));
  const column = 2 + width + 2;
  const out: string[] = [`Usage: ${help.usage}`, ''];
  if (help.about !== '') out.push(help.about.trimEnd(), '');
  const main = (help.main ?? OPTIONS_GROUP).title;
  for (const { group, names } of groupsOf(help)) {
    out.push(`${group.title}:`);
    for (const [term, description] of group.items ?? []) out.push(...entry(term, description, '', column));
    for (const name of names) {
      const row = help.options[name];
      out.push(...entry(optionLabel(name, row), row.description, tagsOf(row), column));
    }
    if (group.title === main) out.push(...entry(optionLabel('help', HELP_ROW), HELP_ROW.description, '', column));
    if (group.after !== undefined) out.push(group.after.trimEnd());
    out.push('');
  }
  return `${out.join('\n').trimEnd()}\n`;
}

/** Markdown text: `|` `<` `*` escaped, so that a description reads as it does in the terminal. */
function markdownText(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/\*/g, '\\*').replace(/\n/g, ' ');
}

/** The options of a command as markdown tables, one per help group (docs/CLI.md holds them: scripts/cli-options-doc.mjs). */
export function optionsMarkdown(help: Pick<CommandHelp, 'options' | 'main' | 'groups'>): string {
  const main = (help.main ?? OPTIONS_GROUP).title;
  const out: string[] = [];
  for (const { group, names } of groupsOf(help)) {
    if (names.length === 0) continue;
    if (group.title !== main) out.push('', `${markdownText(group.title)}:`, '');
    out.push('| option | what it does |', '|---|---|');
    for (const name of names) {
      const row = help.options[name];
      const tags = tagsOf(row).replace(/\[|\]/g, (b) => (b === '[' ? '(' : ')'));
      out.push(`| \`${optionLabel(name, row).replace(/\|/g, '\\|')}\` | ${markdownText(row.description)}${tags === '' ? '' : ` ${markdownText(tags)}`} |`);
    }
  }
  return `${out.join('\n').trim()}\n`;
}

/** A command's block of docs/CLI.md, between its markers (scripts/cli-options-doc.mjs writes it; a test checks it). */
export function optionsDocBlock(name: string, help: Pick<CommandHelp, 'options' | 'main' | 'groups'>): { open: string; close: string; block: string } {
  const open = `<!-- options: ${name} -->`;
  const close = `<!-- /options: ${name} -->`;
  const intro = `Options of \`enose ${name}\` (as \`enose ${name} --help\` lists them):`;
  return { open, close, block: `${open}\n${intro}\n\n${optionsMarkdown(help)}${close}` };
}
