/**
 * `readDataset`: one entry point for every data set format. A path is a file or a folder of files; the
 * format is told by the extension and, for CSV, by the header.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { fail, ok, type DataIssue, type Result } from '../../errors.js';
import type { FeatureTable, FramesRecording } from '../../types.js';
import { parseFeatureCsv } from './featureCsv.js';
import { isFramesCsvHeader, parseFramesCsv, type FramesCsvOptions } from './framesCsv.js';
import { parseLibsvm } from './libsvm.js';
import { BME_EXTENSION } from './bmeRawData.js';
import { delimiterMismatch, toCommaCsv, type Delimiter } from './delimited.js';
import { fileTooLarge, importKindOf, readBmeFile, readRecordings } from './imported.js';
import { DEFAULT_DATA_LIMITS, ReadBudget, type DataLimits } from './limits.js';
import { isBlankLine, isCommentLine, splitCsvLine, textLines } from './text.js';

export { parseFeatureCsv } from './featureCsv.js';
export {
  formatFramesCsvNumber,
  formatFramesCsvRow,
  framesCsvHeader,
  isFramesCsvHeader,
  parseFramesCsv,
  type FramesCsvColumns,
  type FramesCsvOptions,
  type FramesCsvRead,
  type FramesCsvRow,
} from './framesCsv.js';
export { LIBSVM_MAX_INDEX, parseLibsvm } from './libsvm.js';
export { DEFAULT_DATA_LIMITS, MAX_LABEL_CHARS, ReadBudget, type DataLimits } from './limits.js';
export { parseDecimal } from './text.js';

/** File extensions read as libsvm-style feature files. */
export const LIBSVM_EXTENSIONS: readonly string[] = ['.dat', '.libsvm', '.svm'];
/** All extensions a folder is scanned for (`.csv` and `.tsv` are frames or feature files, told by the header). */
export const DATASET_EXTENSIONS: readonly string[] = [...LIBSVM_EXTENSIONS, '.csv', '.tsv', BME_EXTENSION];

export interface DatasetOptions extends FramesCsvOptions {
  /** Cell delimiter of the text files (comma, semicolon or tab; with the others a decimal comma is read). @default ',' */
  readonly delimiter?: Delimiter;
  /** Bounds on the width, rows, numbers, file size and classes of what is read (limits.ts). @default DEFAULT_DATA_LIMITS */
  readonly limits?: DataLimits;
  /** Refuse a feature file's row with an empty label (training: every sample needs a class). @default false */
  readonly requireLabels?: boolean;
  /** Checked before each file: once aborted (SIGINT/SIGTERM), the read stops with the issue `stopped`. */
  readonly signal?: AbortSignal;
}

type FileKind = 'libsvm' | 'csv' | 'bme' | 'recordings';

/** What `readDataset` read: one feature table, or the recordings of frames files (reduce them in signal/). */
export type Dataset =
  | { readonly kind: 'features'; readonly table: FeatureTable; readonly warnings: readonly DataIssue[] }
  | { readonly kind: 'frames'; readonly recordings: readonly FramesRecording[]; readonly warnings: readonly DataIssue[] };

type FileRead =
  | { readonly kind: 'features'; readonly table: FeatureTable; readonly warnings?: readonly DataIssue[] }
  | { readonly kind: 'frames'; readonly recording: FramesRecording; readonly warnings: readonly DataIssue[] };

const byName = new Intl.Collator('en', { numeric: true });

/**
 * Reads one or more data paths. Each path is a file or a folder; a folder is read non-recursively, its
 * files with a known extension (`.dat`, `.libsvm`, `.svm`: libsvm; `.csv`: frames when the header starts
 * `sample,label,t_s`, else a feature CSV) in name order, numbers compared as numbers (`batch2` before
 * `batch10`). Files of other extensions in a folder are ignored; given by name they are an error.
 *
 * Feature files are concatenated into one table, each row's group being its file's base name; libsvm
 * tables of different widths are padded to the widest with zeros (the format's missing value), while
 * feature CSVs must have the same columns. Frames files give one recording each. Mixing frames and
 * feature files is an error. Every failure (a missing path, an unreadable or bad file) is returned as
 * `{ ok: false, error }` naming the file, the line (0 for the whole file) and the reason; it never throws.
 */
export async function readDataset(paths: string | readonly string[], options: DatasetOptions = {}): Promise<Result<Dataset>> {
  const list = typeof paths === 'string' ? [paths] : paths;
  if (list.length === 0) return fail({ file: '', line: 0, reason: 'no data path given' });

  const files: { path: string; kind: FileKind }[] = [];
  for (const path of list) {
    const expanded = await expandPath(path, options.delimiter ?? ',');
    if (!expanded.ok) return expanded;
    files.push(...expanded.value);
  }

  const reads: FileRead[] = [];
  const budget = new ReadBudget(options.limits ?? DEFAULT_DATA_LIMITS);
  for (const file of files) {
    if (options.signal?.aborted) return fail({ file: file.path, line: 0, reason: 'stopped' });
    const read = await readDataFile(file.path, file.kind, options, budget);
    if (!read.ok) return read;
    if (reads.length > 0 && reads[0].kind !== read.value.kind) {
      const first = reads[0].kind === 'features' ? reads[0].table.source : reads[0].recording.source;
      return fail({
        file: file.path,
        line: 0,
        reason: `a ${read.value.kind} file cannot be read together with ${reads[0].kind} files such as ${first}`,
      });
    }
    reads.push(read.value);
  }

  if (reads[0].kind === 'frames') {
    const recordings: FramesRecording[] = [];
    const warnings: DataIssue[] = [];
    for (const read of reads) {
      if (read.kind !== 'frames') continue;
      recordings.push(read.recording);
      for (const w of read.warnings) warnings.push(w);
    }
    return ok({ kind: 'frames', recordings, warnings });
  }
  const tables = reads.flatMap((read) => (read.kind === 'features' ? [read.table] : []));
  const joined = concatFeatureTables(tables, list.join(','));
  if (!joined.ok) return joined;
  // libsvm tables of different widths are padded to the widest: the numbers held may grow past the bound here.
  const padded = joined.value.count * joined.value.width - tables.reduce((n, t) => n + t.count * t.width, 0);
  const over = padded > 0 ? budget.addValues(padded) : null;
  if (over !== null) return fail({ file: joined.value.source, line: 0, reason: over });
  return ok({ kind: 'features', table: joined.value, warnings: reads.flatMap((read) => (read.kind === 'features' ? (read.warnings ?? []) : [])) });
}

async function expandPath(path: string, delimiter: Delimiter): Promise<Result<{ path: string; kind: FileKind }[]>> {
  // The files real rigs write (imported.ts): a .bmerawdata file, recordings of one CSV each.
  const imported = await importKindOf(path, delimiter);
  if (imported !== null) return ok([{ path, kind: imported }]);
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    return fail({ file: path, line: 0, reason: systemReason(error, 'cannot read') });
  }
  if (info.isFile()) {
    const kind = extensionKind(path);
    if (kind === null) {
      return fail({ file: path, line: 0, reason: `unknown data file extension (expected one of ${DATASET_EXTENSIONS.join(', ')})` });
    }
    return ok([{ path, kind }]);
  }
  if (!info.isDirectory()) return fail({ file: path, line: 0, reason: 'not a file or a folder' });
  let names: string[];
  try {
    names = (await readdir(path, { withFileTypes: true })).filter((entry) => !entry.isDirectory()).map((entry) => entry.name);
  } catch (error) {
    return fail({ file: path, line: 0, reason: systemReason(error, 'cannot list the folder') });
  }
  const found: { path: string; kind: FileKind }[] = [];
  for (const name of names.sort(byName.compare)) {
    const kind = extensionKind(name);
    if (kind !== null) found.push({ path: join(path, name), kind });
  }
  if (found.length === 0) return fail({ file: path, line: 0, reason: `no data files (${DATASET_EXTENSIONS.join(', ')}) in the folder` });
  return ok(found);
}

function extensionKind(path: string): FileKind | null {
  const ext = extname(path).toLowerCase();
  if (LIBSVM_EXTENSIONS.includes(ext)) return 'libsvm';
  if (ext === BME_EXTENSION) return 'bme';
  return ext === '.csv' || ext === '.tsv' ? 'csv' : null;
}

async function readDataFile(path: string, kind: FileKind, options: DatasetOptions, budget: ReadBudget): Promise<Result<FileRead>> {
  if (kind === 'bme') {
    const read = await readBmeFile(path, budget, options.requireLabels === true);
    return read.ok ? ok({ kind: 'features', table: read.value.table, warnings: read.value.warnings }) : read;
  }
  if (kind === 'recordings') {
    const read = await readRecordings(path, options.delimiter ?? ',', budget);
    return read.ok ? ok({ kind: 'frames', recording: read.value, warnings: [] }) : read;
  }
  const tooLarge = await fileTooLarge(path, budget.limits);
  if (tooLarge !== null) return fail(tooLarge);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    return fail({ file: path, line: 0, reason: systemReason(error, 'cannot read') });
  }
  if (kind === 'libsvm') {
    const table = parseLibsvm(text, path, budget);
    return table.ok ? ok({ kind: 'features', table: table.value }) : table;
  }
  const mismatch = delimiterMismatch(text, options.delimiter ?? ',');
  if (mismatch !== null) return fail({ file: path, line: 0, reason: mismatch });
  text = toCommaCsv(text, options.delimiter ?? ',');
  if (csvIsFrames(text)) {
    const read = parseFramesCsv(text, path, { ...options, budget });
    return read.ok ? ok({ kind: 'frames', recording: read.value.recording, warnings: read.value.warnings }) : read;
  }
  const table = parseFeatureCsv(text, path, budget, options.requireLabels === true);
  return table.ok ? ok({ kind: 'features', table: table.value }) : table;
}

/** True when the first line that is neither blank nor a comment starts `sample,label,t_s`. */
function csvIsFrames(text: string): boolean {
  for (const line of textLines(text)) {
    if (isBlankLine(line.text) || isCommentLine(line.text)) continue;
    const cells = splitCsvLine(line.text);
    return typeof cells !== 'string' && isFramesCsvHeader(cells);
  }
  return false;
}

/**
 * Joins feature tables row-wise, in order. Tables whose feature names are `f1..fN` (libsvm) are padded to
 * the widest with zeros; other tables must have exactly the same feature names as the first. `source`
 * names the result (default: the tables' sources joined with commas).
 */
export function concatFeatureTables(tables: readonly FeatureTable[], source?: string): Result<FeatureTable> {
  if (tables.length === 0) return fail({ file: '', line: 0, reason: 'no feature tables' });
  if (tables.length === 1) return ok(source === undefined ? tables[0] : { ...tables[0], source });
  const first = tables[0];
  const allLibsvm = tables.every(isLibsvmLayout);
  let width = first.width;
  for (const table of tables) {
    if (allLibsvm) {
      width = Math.max(width, table.width);
    } else if (!sameNames(table.featureNames, first.featureNames)) {
      return fail({
        file: table.source,
        line: 0,
        reason: `its ${table.width} feature columns differ from the ${first.width} of ${first.source}`,
      });
    }
  }
  const featureNames = allLibsvm ? Array.from({ length: width }, (_, j) => `f${j + 1}`) : first.featureNames;
  const count = tables.reduce((sum, table) => sum + table.count, 0);
  const x = new Float64Array(count * width);
  const labels: string[] = [];
  const samples: string[] = [];
  const groups: string[] = [];
  let row = 0;
  for (const table of tables) {
    if (table.width === width) {
      x.set(table.x, row * width);
    } else {
      for (let i = 0; i < table.count; i++) x.set(table.x.subarray(i * table.width, (i + 1) * table.width), (row + i) * width);
    }
    row += table.count;
    // loops, not push(...): a spread of more than about 100,000 rows overflows the call stack
    for (let i = 0; i < table.count; i++) {
      labels.push(table.labels[i]);
      samples.push(table.samples[i]);
      groups.push(table.groups[i]);
    }
  }
  return ok({ source: source ?? tables.map((table) => table.source).join(','), featureNames, width, count, x, labels, samples, groups });
}

function isLibsvmLayout(table: FeatureTable): boolean {
  const names = table.featureNames;
  for (let j = 0; j < names.length; j++) if (names[j] !== `f${j + 1}`) return false;
  return true;
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let j = 0; j < a.length; j++) if (a[j] !== b[j]) return false;
  return true;
}

function systemReason(error: unknown, action: string): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'ENOENT') return 'no such file or folder';
  if (code === 'EACCES' || code === 'EPERM') return `${action}: permission denied`;
  if (code === 'EISDIR') return `${action}: it is a folder`;
  const message = error instanceof Error ? error.message : String(error);
  return `${action}: ${message}`;
}
