/**
 * Text scanning shared by the data set readers: strict decimal numbers, CSV cells, file names.
 * Kept apart so that every reader accepts exactly the same number syntax.
 */

const DIGIT_0 = 48;
const DIGIT_9 = 57;
const PLUS = 43;
const MINUS = 45;
const DOT = 46;
const LOWER_E = 101;
const UPPER_E = 69;
const SPACE = 32;
const TAB = 9;
const QUOTE = 34;

/** Exact powers of ten for the fast path of `parseDecimal` (10^22 is the largest exact double power). */
const POW10 = Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));

/**
 * Parses `s[start, end)` as a finite decimal number: `[+-]digits[.digits][e[+-]digits]` (or `.5`, `5.`),
 * nothing else (no spaces, hex, `Infinity` or `nan`). Returns NaN when the text is not such a number or
 * overflows. The value equals `Number(text)` bit for bit, so `String(x)` reads back to x: with at most 15
 * digits and a power of ten up to 22 it is one correctly rounded multiplication or division of exact
 * doubles (Clinger's fast path, Clinger 1990), otherwise `Number` itself.
 */
export function parseDecimal(s: string, start: number, end: number): number {
  let i = start;
  let negative = false;
  if (i < end) {
    const c = s.charCodeAt(i);
    if (c === PLUS || c === MINUS) {
      negative = c === MINUS;
      i++;
    }
  }
  let digits = 0;
  let mantissa = 0;
  let scale = 0;
  let c = 0;
  while (i < end && (c = s.charCodeAt(i)) >= DIGIT_0 && c <= DIGIT_9) {
    mantissa = mantissa * 10 + (c - DIGIT_0);
    i++;
    digits++;
  }
  if (i < end && s.charCodeAt(i) === DOT) {
    i++;
    while (i < end && (c = s.charCodeAt(i)) >= DIGIT_0 && c <= DIGIT_9) {
      mantissa = mantissa * 10 + (c - DIGIT_0);
      i++;
      digits++;
      scale--;
    }
  }
  if (digits === 0) return NaN;
  if (i < end && ((c = s.charCodeAt(i)) === LOWER_E || c === UPPER_E)) {
    i++;
    let expNegative = false;
    if (i < end && ((c = s.charCodeAt(i)) === PLUS || c === MINUS)) {
      expNegative = c === MINUS;
      i++;
    }
    let expDigits = 0;
    let exponent = 0;
    while (i < end && (c = s.charCodeAt(i)) >= DIGIT_0 && c <= DIGIT_9) {
      if (exponent < 100_000) exponent = exponent * 10 + (c - DIGIT_0);
      i++;
      expDigits++;
    }
    if (expDigits === 0) return NaN;
    scale += expNegative ? -exponent : exponent;
  }
  if (i !== end) return NaN;
  if (digits <= 15 && scale >= -22 && scale <= 22) {
    const magnitude = scale < 0 ? mantissa / POW10[-scale] : mantissa * POW10[scale];
    return negative ? -magnitude : magnitude;
  }
  const x = Number(s.slice(start, end));
  return Number.isFinite(x) ? x : NaN;
}

/** True when `cell` is `nan` in any case: the frames CSV's marker of a failed reading. */
export function isNanCell(cell: string): boolean {
  return cell.length === 3 && cell.toLowerCase() === 'nan';
}

/** Shortens a cell for an error message. */
export function quoteCell(cell: string): string {
  return JSON.stringify(cell.length > 24 ? `${cell.slice(0, 24)}...` : cell);
}

function trimBlanks(cell: string): string {
  const n = cell.length;
  if (n === 0) return cell;
  const a = cell.charCodeAt(0);
  const b = cell.charCodeAt(n - 1);
  return a === SPACE || a === TAB || b === SPACE || b === TAB ? cell.replace(/^[ \t]+|[ \t]+$/g, '') : cell;
}

/**
 * Splits one CSV line (no line break) into cells. Unquoted cells lose surrounding spaces and tabs; a cell
 * in double quotes keeps its text verbatim, with `""` for a quote (RFC 4180), but cannot span lines.
 * Returns a reason string when a quote is not closed or text follows a closing quote.
 */
export function splitCsvLine(line: string): string[] | string {
  if (line.indexOf('"') < 0) {
    const cells = line.split(',');
    for (let i = 0; i < cells.length; i++) cells[i] = trimBlanks(cells[i]);
    return cells;
  }
  const cells: string[] = [];
  const n = line.length;
  let i = 0;
  for (;;) {
    while (i < n && (line.charCodeAt(i) === SPACE || line.charCodeAt(i) === TAB)) i++;
    if (i < n && line.charCodeAt(i) === QUOTE) {
      let text = '';
      let from = ++i;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) return `quoted cell ${cells.length + 1} is not closed`;
        if (line.charCodeAt(q + 1) === QUOTE) {
          text += line.slice(from, q + 1);
          i = from = q + 2;
          continue;
        }
        text += line.slice(from, q);
        i = q + 1;
        break;
      }
      while (i < n && (line.charCodeAt(i) === SPACE || line.charCodeAt(i) === TAB)) i++;
      if (i < n && line.charCodeAt(i) !== 44) return `text after the closing quote of cell ${cells.length + 1}`;
      cells.push(text);
    } else {
      const comma = line.indexOf(',', i);
      const cellEnd = comma < 0 ? n : comma;
      const cell = trimBlanks(line.slice(i, cellEnd));
      if (cell.indexOf('"') >= 0) return `stray quote in cell ${cells.length + 1}`;
      cells.push(cell);
      i = cellEnd;
    }
    if (i >= n) return cells;
    i++; // past the comma
    if (i === n) {
      cells.push('');
      return cells;
    }
  }
}

/** One line of a text: its 1-based number and its text without the line break (`\n` or `\r\n`). */
export interface TextLine {
  readonly number: number;
  readonly text: string;
  /** False for a last line that the file does not end with a line break after. */
  readonly terminated: boolean;
}

/** The lines of a text, a leading byte-order mark removed. */
export function* textLines(text: string): Generator<TextLine> {
  let pos = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let number = 0;
  const n = text.length;
  while (pos < n) {
    number++;
    const nl = text.indexOf('\n', pos);
    const end = nl < 0 ? n : nl;
    const cut = end > pos && text.charCodeAt(end - 1) === 13 ? end - 1 : end;
    yield { number, text: text.slice(pos, cut), terminated: nl >= 0 };
    pos = end + 1;
  }
}

/** True for a line holding nothing but spaces and tabs. */
export function isBlankLine(line: string): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c !== SPACE && c !== TAB) return false;
  }
  return true;
}

/** True for a comment line: `#` as its first character after optional spaces. */
export function isCommentLine(line: string): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === 35) return true;
    if (c !== SPACE && c !== TAB) return false;
  }
  return false;
}

/** The file name of a path without its folder (`/a/batch2.dat` -> `batch2.dat`). */
export function fileName(path: string): string {
  const slash = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  return path.slice(slash + 1);
}

/** The file name of a path without its folder and extension (`/a/batch2.dat` -> `batch2`). */
export function baseName(path: string): string {
  const name = fileName(path);
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(0, dot) : name;
}
