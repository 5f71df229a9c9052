/**
 * The files real rigs write, read without a conversion script: Bosch BME AI-Studio raw data (`.bmerawdata`,
 * a feature table: see bmeRawData.ts) and recordings of one CSV each, alone or in a folder (frames: see
 * recordingCsv.ts), with any of the delimiters of delimited.ts. `importKindOf` tells them from the project's own
 * formats (frames CSV, feature CSV, libsvm, recording folders with meta.json), which it leaves to the callers.
 */
import { existsSync } from 'node:fs';
import { open, readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { fail, ok, type DataIssue, type Result } from '../../errors.js';
import type { FeatureTable, FramesRecording, RecordedFrame } from '../../types.js';
import { describeFsError } from '../files.js';
import { BME_EXTENSION, parseBmeRawData } from './bmeRawData.js';
import { delimiterMismatch, toCommaCsv, type Delimiter } from './delimited.js';
import { DEFAULT_DATA_LIMITS, fileSizeReason, ReadBudget, type DataLimits } from './limits.js';
import { isRecordingCsvHeader, joinRecordings, labelFromFileName, parseRecordingCsv } from './recordingCsv.js';
import { baseName, fileName, isBlankLine, isCommentLine, splitCsvLine, textLines } from './text.js';

export type ImportKind = 'bme' | 'recordings';

/** Extensions of delimited text files (`.txt` stays notes, as before). */
export const TEXT_EXTENSIONS: readonly string[] = ['.csv', '.tsv'];

const byName = new Intl.Collator('en', { numeric: true });

/** Why the file is too large to read (`--max-file-mb`), as an issue, or null (also when it cannot be stat'ed: the read reports that). */
export async function fileTooLarge(path: string, limits: DataLimits): Promise<DataIssue | null> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch {
    return null;
  }
  const reason = fileSizeReason(size, limits);
  return reason === null ? null : { file: path, line: 0, reason };
}

async function readText(path: string, delimiter: Delimiter, limits: DataLimits = DEFAULT_DATA_LIMITS): Promise<Result<string>> {
  const tooLarge = await fileTooLarge(path, limits);
  if (tooLarge !== null) return fail(tooLarge);
  try {
    const text = await readFile(path, 'utf8');
    const mismatch = delimiterMismatch(text, delimiter);
    return mismatch === null ? ok(toCommaCsv(text, delimiter)) : fail({ file: path, line: 0, reason: mismatch });
  } catch (error) {
    return fail({ file: path, line: 0, reason: describeFsError(error) });
  }
}

async function readHead(path: string, delimiter: Delimiter): Promise<Result<string>> {
  let handle;
  try {
    handle = await open(path, 'r');
    const buffer = Buffer.alloc(1 << 16);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    const text = buffer.subarray(0, bytesRead).toString('utf8');
    const mismatch = delimiterMismatch(text, delimiter);
    return mismatch === null ? ok(toCommaCsv(text, delimiter)) : fail({ file: path, line: 0, reason: mismatch });
  } catch (error) {
    return fail({ file: path, line: 0, reason: describeFsError(error) });
  } finally {
    await handle?.close();
  }
}

/** The header cells of a CSV text (the first line neither blank nor a comment), or null. */
function headerOf(text: string): string[] | null {
  for (const line of textLines(text)) {
    if (isBlankLine(line.text) || isCommentLine(line.text)) continue;
    const cells = splitCsvLine(line.text);
    return typeof cells === 'string' ? null : cells;
  }
  return null;
}

async function isRecordingFile(path: string, delimiter: Delimiter): Promise<boolean> {
  // Only the header decides: the first 64 KiB (a file too large to read is refused when it is read).
  const text = await readHead(path, delimiter);
  if (!text.ok) return false;
  const header = headerOf(text.value.slice(0, 1 << 16));
  return header !== null && isRecordingCsvHeader(header);
}

interface Listed {
  readonly path: string;
  readonly sample: string;
  readonly label: string;
}

/** The recordings of a folder: its label folders' files, then its own files, in name order. */
async function listRecordings(dir: string): Promise<Listed[]> {
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => byName.compare(a.name, b.name));
  const out: Listed[] = [];
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    const inner = (await readdir(join(dir, e.name), { withFileTypes: true })).filter((f) => f.isFile() && TEXT_EXTENSIONS.includes(extname(f.name).toLowerCase()));
    for (const f of inner.sort((a, b) => byName.compare(a.name, b.name))) {
      out.push({ path: join(dir, e.name, f.name), sample: `${e.name}/${baseName(f.name)}`, label: e.name });
    }
  }
  for (const e of entries) {
    if (e.isFile() && TEXT_EXTENSIONS.includes(extname(e.name).toLowerCase())) out.push({ path: join(dir, e.name), sample: baseName(e.name), label: labelFromFileName(e.name) });
  }
  return out;
}

/**
 * What imported kind a path is: `bme` for a `.bmerawdata` file; `recordings` for a text file whose header has
 * no `label` column (not a frames or feature CSV), or a folder (without meta.json) of such files or of label
 * folders holding them; null for everything else (the project's own formats, or a path that does not exist).
 */
export async function importKindOf(path: string, delimiter: Delimiter = ','): Promise<ImportKind | null> {
  let info;
  try {
    info = await stat(path);
  } catch {
    return null;
  }
  if (info.isFile()) {
    const ext = extname(path).toLowerCase();
    if (ext === BME_EXTENSION) return 'bme';
    return TEXT_EXTENSIONS.includes(ext) && (await isRecordingFile(path, delimiter)) ? 'recordings' : null;
  }
  if (!info.isDirectory() || existsSync(join(path, 'meta.json'))) return null;
  let listed: Listed[];
  try {
    listed = await listRecordings(path);
  } catch {
    return null;
  }
  if (listed.length === 0) return null;
  // The first file decides (label folders' files come first), and only a recording's header (no label column,
  // not a frames header) makes the folder one: a folder of the project's own files keeps its reading.
  return (await isRecordingFile(listed[0].path, delimiter)) ? 'recordings' : null;
}

/** A `.bmerawdata` file (and its `.bmelabelinfo`, when there is one) as a feature table. */
export async function readBmeFile(path: string, budget: ReadBudget = new ReadBudget(), labelsRequired = false): Promise<Result<{ table: FeatureTable; warnings: DataIssue[] }>> {
  const text = await readText(path, ',', budget.limits);
  if (!text.ok) return text;
  const infoPath = path.slice(0, -BME_EXTENSION.length) + '.bmelabelinfo';
  let labelInfo: unknown = null;
  if (existsSync(infoPath)) {
    const info = await readText(infoPath, ',', budget.limits);
    if (!info.ok) return info;
    try {
      labelInfo = JSON.parse(info.value);
    } catch (error) {
      return fail({ file: infoPath, line: 0, reason: `not JSON: ${(error as Error).message}` });
    }
  }
  return parseBmeRawData(text.value, path, labelInfo, budget, labelsRequired);
}

/** A recording file, or a folder of them, as one frames recording whose samples are the files. */
export async function readRecordings(path: string, delimiter: Delimiter = ',', budget: ReadBudget = new ReadBudget()): Promise<Result<FramesRecording>> {
  let listed: Listed[];
  try {
    listed = (await stat(path)).isDirectory() ? await listRecordings(path) : [{ path, sample: baseName(path), label: labelFromFileName(fileName(path)) }];
  } catch (error) {
    return fail({ file: path, line: 0, reason: describeFsError(error) });
  }
  const files: { path: string; sample: string; channels: readonly string[]; frames: RecordedFrame[] }[] = [];
  for (const l of listed) {
    const text = await readText(l.path, delimiter, budget.limits);
    if (!text.ok) return text;
    const read = parseRecordingCsv(text.value, l.path, l.sample, l.label, budget);
    if (!read.ok) return read;
    files.push({ path: l.path, sample: l.sample, ...read.value });
  }
  return joinRecordings(path, files);
}
