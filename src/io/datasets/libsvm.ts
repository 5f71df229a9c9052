/**
 * Reader of libsvm-style feature files, the format of the UCI gas sensor array drift data
 * (Vergara et al. 2012, UCI dataset 224): one sample a line, `<label> <index>:<value> ...`.
 */
import { fail, ok, type DataIssue, type Result } from '../../errors.js';
import type { FeatureTable } from '../../types.js';
import { ReadBudget } from './limits.js';
import { baseName, fileName, parseDecimal, quoteCell } from './text.js';

/** Indices above this are refused whatever the limits: the table is dense, so a stray huge index would exhaust memory. */
export const LIBSVM_MAX_INDEX = 1_000_000;

const SPACE = 32;
const TAB = 9;
const CR = 13;
const COLON = 58;
const HASH = 35;

function isBlank(c: number): boolean {
  return c === SPACE || c === TAB || c === CR;
}

/**
 * Parses a libsvm-style text into a dense feature table.
 *
 * - A line is `<label>` then `<index>:<value>` pairs separated by spaces or tabs; `\r\n` line ends are fine.
 * - Indices are integers from 1, strictly rising within a line; a missing index is a 0 (sparse format).
 *   The width is the largest index in the file; features are named `f1` .. `f<width>`.
 * - Labels are kept as the strings written (`1`..`6` for the drift data); values must be finite decimals.
 * - Blank lines (anywhere) and lines starting with `#` are skipped.
 * - Sample ids are `<file name>#<line>`; the group of every row is the file's base name (`batch2`).
 *
 * - `budget` bounds the width (the highest index: --max-columns), the rows, the numbers held dense and the labels.
 *
 * Any other content gives `{ ok: false, error }` naming the line and the reason; a text with no sample
 * at all gives line 0.
 */
export function parseLibsvm(text: string, source: string, budget: ReadBudget = new ReadBudget()): Result<FeatureTable> {
  const maxIndex = Math.min(LIBSVM_MAX_INDEX, budget.limits.maxColumns);
  const file = fileName(source);
  const issue = (line: number, reason: string): { ok: false; error: DataIssue } => fail({ file: source, line, reason });

  let indices = new Int32Array(1 << 16);
  let values = new Float64Array(1 << 16);
  let used = 0;
  const rowEnds: number[] = [];
  const labels: string[] = [];
  const samples: string[] = [];
  const labelPool = new Map<string, string>();
  let width = 0;

  const n = text.length;
  let pos = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 0;
  while (pos < n) {
    line++;
    let end = text.indexOf('\n', pos);
    if (end < 0) end = n;
    let i = pos;
    pos = end + 1;
    while (i < end && isBlank(text.charCodeAt(i))) i++;
    if (i === end || text.charCodeAt(i) === HASH) continue;

    const labelStart = i;
    let c = 0;
    while (i < end && !isBlank((c = text.charCodeAt(i)))) {
      if (c === COLON) return issue(line, `no label: the line starts with the pair ${quoteCell(text.slice(labelStart, tokenEnd(text, labelStart, end)))}`);
      i++;
    }
    const raw = text.slice(labelStart, i);
    const badLabel = budget.checkLabel(raw, false);
    if (badLabel !== null) return issue(line, badLabel);
    let label = labelPool.get(raw);
    if (label === undefined) {
      // A copy, so that a label does not keep the whole file's text alive.
      label = raw.length > 12 ? [...raw].join('') : raw;
      labelPool.set(label, label);
    }

    let previous = 0;
    for (;;) {
      while (i < end && isBlank(text.charCodeAt(i))) i++;
      if (i >= end) break;
      const pairStart = i;
      let index = 0;
      while (i < end && (c = text.charCodeAt(i)) >= 48 && c <= 57) {
        index = index * 10 + (c - 48);
        if (index > maxIndex) {
          const pair = quoteCell(text.slice(pairStart, tokenEnd(text, pairStart, end)));
          return issue(line, `index in ${pair} is larger than the ${maxIndex.toLocaleString('en-US')} columns a data file may have${maxIndex < LIBSVM_MAX_INDEX ? ' (--max-columns raises the bound)' : ''}`);
        }
        i++;
      }
      if (i === pairStart || i >= end || text.charCodeAt(i) !== COLON) {
        return issue(line, `${quoteCell(text.slice(pairStart, tokenEnd(text, pairStart, end)))} is not an <index>:<value> pair`);
      }
      if (index === 0) return issue(line, 'index 0: indices start at 1');
      if (index <= previous) {
        return issue(line, index === previous ? `index ${index} repeated` : `index ${index} after ${previous}: indices must rise`);
      }
      const valueStart = ++i;
      while (i < end && !isBlank(text.charCodeAt(i))) i++;
      const value = parseDecimal(text, valueStart, i);
      if (Number.isNaN(value)) return issue(line, `value ${quoteCell(text.slice(valueStart, i))} of index ${index} is not a finite number`);
      if (used === indices.length) {
        const biggerIndices = new Int32Array(used * 2);
        biggerIndices.set(indices);
        indices = biggerIndices;
        const biggerValues = new Float64Array(used * 2);
        biggerValues.set(values);
        values = biggerValues;
      }
      indices[used] = index;
      values[used] = value;
      used++;
      previous = index;
    }
    // The table is dense: each row holds `width` numbers, and a wider row pads every row before it.
    const over = (previous > width ? budget.addValues((previous - width) * labels.length) : null) ?? budget.addRow(Math.max(width, previous));
    if (over !== null) return issue(line, over);
    if (previous > width) width = previous;
    rowEnds.push(used);
    labels.push(label);
    samples.push(`${file}#${line}`);
  }

  const count = labels.length;
  if (count === 0) return issue(0, text.length === 0 ? 'empty file' : 'no samples in the file');
  if (width === 0) return issue(0, 'no features: no line has an <index>:<value> pair');

  const x = new Float64Array(count * width);
  let k = 0;
  for (let row = 0; row < count; row++) {
    const offset = row * width - 1;
    const rowEnd = rowEnds[row];
    for (; k < rowEnd; k++) x[offset + indices[k]] = values[k];
  }
  const featureNames = Array.from({ length: width }, (_, j) => `f${j + 1}`);
  const group = baseName(source);
  return ok({
    source,
    featureNames,
    width,
    count,
    x,
    labels,
    samples,
    groups: new Array<string>(count).fill(group),
  });
}

function tokenEnd(text: string, start: number, end: number): number {
  let i = start;
  while (i < end && !isBlank(text.charCodeAt(i))) i++;
  return i;
}
