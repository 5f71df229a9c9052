/**
 * Delimited text other than commas: semicolon- or tab-separated exports (a spreadsheet in a comma-decimal
 * locale writes `1,5;2,25`). Turned into the comma CSV every reader takes, line for line, so that the readers'
 * messages keep their line numbers: with another delimiter a cell `1,5` (a decimal comma) becomes `1.5`, and a
 * cell holding a comma otherwise is quoted.
 */
import { EnoseError } from '../../errors.js';

export type Delimiter = ',' | ';' | '\t';

/** `--delimiter`: comma, semicolon or tab, by name or as the character itself. */
export function parseDelimiter(raw: string): Delimiter {
  const names: Record<string, Delimiter> = { comma: ',', ',': ',', semicolon: ';', ';': ';', tab: '\t', '\t': '\t', '\\t': '\t' };
  const d = names[raw.toLowerCase()];
  if (d === undefined) throw new EnoseError('bad-option', `--delimiter must be comma, semicolon or tab, got "${raw}"`);
  return d;
}

const DECIMAL_COMMA = /^[+-]?\d*,\d+([eE][+-]?\d+)?$/;

/** Splits one line on `delimiter`, honouring double quotes (RFC 4180 within a line). */
function splitLine(line: string, delimiter: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') {
        quoted = false;
      } else {
        cell += c;
      }
    } else if (c === '"' && cell.trim() === '') {
      quoted = true;
      cell = '';
    } else if (c === delimiter) {
      cells.push(cell);
      cell = '';
    } else {
      cell += c;
    }
  }
  cells.push(cell);
  return cells;
}

/** The text as comma CSV, the same number of lines; comment (`#`) and blank lines pass through. */
export function toCommaCsv(text: string, delimiter: Delimiter): string {
  if (delimiter === ',') return text;
  const lines = text.split('\n');
  for (let k = 0; k < lines.length; k++) {
    const raw = lines[k];
    const cr = raw.endsWith('\r');
    const line = cr ? raw.slice(0, -1) : raw;
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const cells = splitLine(line, delimiter).map((cell) => {
      const t = cell.trim();
      if (DECIMAL_COMMA.test(t)) return t.replace(',', '.');
      return /[",]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
    });
    lines[k] = cells.join(',') + (cr ? '\r' : '');
  }
  return lines.join('\n');
}

/**
 * Read with commas, a text whose header has no comma but semicolons or tabs was written with another delimiter:
 * the reason to say so (the readers would report a ragged row or a bad number instead), or null.
 */
export function delimiterMismatch(text: string, delimiter: Delimiter): string | null {
  if (delimiter !== ',') return null;
  for (const raw of text.slice(0, 1 << 16).split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.includes(',')) return null;
    if (line.includes(';')) return 'the header has semicolons between its cells, no commas: read it with --delimiter semicolon';
    if (line.includes('\t')) return 'the header has tabs between its cells, no commas: read it with --delimiter tab';
    return null;
  }
  return null;
}
