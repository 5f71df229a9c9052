/**
 * Reader of feature CSV files: a header `label,<feature names...>` (plus an optional `sample` column,
 * anywhere), then one sample a row.
 */
import { fail, ok, type DataIssue, type Result } from '../../errors.js';
import type { FeatureTable } from '../../types.js';
import { columnsReason, ReadBudget } from './limits.js';
import { baseName, fileName, isBlankLine, isCommentLine, parseDecimal, quoteCell, splitCsvLine, textLines } from './text.js';

/**
 * Parses a feature CSV text into a feature table.
 *
 * - The header (the first line that is neither blank nor a `#` comment) names a `label` column, an
 *   optional `sample` column (both anywhere) and at least one feature column; names are unique and
 *   non-empty.
 * - Every row has as many cells as the header; feature cells are finite decimal numbers (`nan` is
 *   refused here: a feature table feeds the model, which has no use for a missing feature).
 * - The label may be empty (unlabelled samples) unless `labelsRequired`; the sample id defaults to `<file name>#<line>`.
 * - `budget` bounds the features, the rows, the numbers and the labels (limits.ts): past one, an issue.
 * - Blank lines and `#` comment lines are skipped anywhere; unquoted cells lose surrounding spaces;
 *   cells may be double-quoted (RFC 4180) but not span lines.
 * - The group of every row is the file's base name.
 */
export function parseFeatureCsv(text: string, source: string, budget: ReadBudget = new ReadBudget(), labelsRequired = false): Result<FeatureTable> {
  const file = fileName(source);
  const issue = (line: number, reason: string): { ok: false; error: DataIssue } => fail({ file: source, line, reason });

  let header: string[] | null = null;
  let labelColumn = -1;
  let sampleColumn = -1;
  let featureColumns: number[] = [];
  let x = new Float64Array(0);
  let count = 0;
  const labels: string[] = [];
  const samples: string[] = [];

  for (const line of textLines(text)) {
    if (isBlankLine(line.text) || isCommentLine(line.text)) continue;
    const cells = splitCsvLine(line.text);
    if (typeof cells === 'string') return issue(line.number, cells);
    if (header === null) {
      const checked = checkHeader(cells);
      if (typeof checked === 'string') return issue(line.number, checked);
      const wide = columnsReason(checked.featureColumns.length, budget.limits, 'feature columns');
      if (wide !== null) return issue(line.number, wide);
      header = cells;
      labelColumn = checked.labelColumn;
      sampleColumn = checked.sampleColumn;
      featureColumns = checked.featureColumns;
      x = new Float64Array(featureColumns.length * 256);
      continue;
    }
    if (cells.length !== header.length) {
      return issue(line.number, `ragged row: ${cells.length} cells, the header has ${header.length}`);
    }
    const width = featureColumns.length;
    const over = budget.addRow(width) ?? budget.checkLabel(cells[labelColumn], !labelsRequired);
    if (over !== null) return issue(line.number, over);
    if ((count + 1) * width > x.length) {
      const bigger = new Float64Array(x.length * 2);
      bigger.set(x);
      x = bigger;
    }
    const offset = count * width;
    for (let j = 0; j < width; j++) {
      const cell = cells[featureColumns[j]];
      const value = parseDecimal(cell, 0, cell.length);
      if (Number.isNaN(value)) {
        return issue(line.number, `column ${quoteCell(header[featureColumns[j]])}: ${quoteCell(cell)} is not a finite number`);
      }
      x[offset + j] = value;
    }
    labels.push(cells[labelColumn]);
    const sample = sampleColumn >= 0 ? cells[sampleColumn] : '';
    samples.push(sample === '' ? `${file}#${line.number}` : sample);
    count++;
  }

  if (header === null) return issue(0, text.length === 0 ? 'empty file' : 'no header line');
  if (count === 0) return issue(0, 'no samples after the header');
  const width = featureColumns.length;
  const names = header;
  const group = baseName(source);
  return ok({
    source,
    featureNames: featureColumns.map((j) => names[j]),
    width,
    count,
    x: x.slice(0, count * width),
    labels,
    samples,
    groups: new Array<string>(count).fill(group),
  });
}

interface FeatureHeader {
  readonly labelColumn: number;
  readonly sampleColumn: number;
  readonly featureColumns: number[];
}

function checkHeader(cells: readonly string[]): FeatureHeader | string {
  const seen = new Set<string>();
  let labelColumn = -1;
  let sampleColumn = -1;
  const featureColumns: number[] = [];
  for (let j = 0; j < cells.length; j++) {
    const name = cells[j];
    if (name === '') return `header: column ${j + 1} has no name`;
    if (seen.has(name)) return `header: duplicate column name ${quoteCell(name)}`;
    seen.add(name);
    if (name === 'label') labelColumn = j;
    else if (name === 'sample') sampleColumn = j;
    else featureColumns.push(j);
  }
  if (labelColumn < 0) return 'header: no "label" column';
  if (featureColumns.length === 0) return 'header: no feature columns';
  return { labelColumn, sampleColumn, featureColumns };
}
