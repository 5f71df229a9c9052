/**
 * A folder of recordings, one CSV per recording, as instruments and data sets write them (SmellNet, most
 * logger scripts): a header row, one row per time step, no sample or label column. The label is the name of the
 * folder a file sits in (`coffee/run1.csv`), or the file's own name up to its first dot, without a trailing run
 * number (`coffee_03.csv`, `coffee.3f2a.csv`: coffee). Time comes from a column named t_s, time_s, time,
 * timestamp, t or seconds (time_ms or timestamp_ms: milliseconds), else one row a second. A `phase` column
 * (B, E, R, I) is used as in a frames file. `temperature` and `humidity` columns are read as the environment
 * channels temp_c and rh_pct. Every other column is a channel; empty or `nan` cells are failed readings.
 */
import { fail, ok, type DataIssue, type Result } from '../../errors.js';
import { PHASES, type FramesRecording, type Phase, type RecordedFrame } from '../../types.js';
import { columnsReason, ReadBudget } from './limits.js';
import { isBlankLine, isCommentLine, isNanCell, parseDecimal, quoteCell, splitCsvLine, textLines } from './text.js';

const TIME_S = ['t_s', 'time_s', 'time', 'timestamp', 't', 'seconds', 'time (s)', 'time[s]'];
const TIME_MS = ['time_ms', 'timestamp_ms', 't_ms', 'time (ms)'];
const ENVIRONMENT: Record<string, string> = {
  temperature: 'temp_c',
  temp: 'temp_c',
  temp_c: 'temp_c',
  temperature_c: 'temp_c',
  humidity: 'rh_pct',
  rh: 'rh_pct',
  rh_pct: 'rh_pct',
  relative_humidity: 'rh_pct',
  'relative humidity': 'rh_pct',
};

/** True for a CSV header that is one recording's (no `label` column, not a frames header). */
export function isRecordingCsvHeader(cells: readonly string[]): boolean {
  const lower = cells.map((c) => c.toLowerCase());
  return !lower.includes('label') && !(lower[0] === 'sample' && lower[1] === 'label');
}

/** The label a file's name gives: up to its first dot, without a trailing run number. */
export function labelFromFileName(name: string): string {
  const stem = name.split('.')[0] ?? name;
  const stripped = stem.replace(/[-_ ]*(run|rep|r)?[-_ ]*\d+$/i, '');
  return stripped === '' ? stem : stripped;
}

interface Layout {
  readonly columns: number;
  readonly timeColumn: number;
  readonly timeScale: number;
  readonly phaseColumn: number;
  readonly channelColumns: readonly number[];
  readonly channels: readonly string[];
}

function readHeader(cells: readonly string[]): Layout | string {
  const lower = cells.map((c) => c.toLowerCase());
  let timeColumn = lower.findIndex((c) => TIME_S.includes(c));
  let timeScale = 1;
  if (timeColumn < 0) {
    timeColumn = lower.findIndex((c) => TIME_MS.includes(c));
    timeScale = 1e-3;
  }
  const phaseColumn = lower.indexOf('phase');
  const channelColumns: number[] = [];
  const channels: string[] = [];
  const seen = new Set<string>();
  for (let j = 0; j < cells.length; j++) {
    if (j === timeColumn || j === phaseColumn) continue;
    if (cells[j] === '') return `header: column ${j + 1} has no name`;
    const name = ENVIRONMENT[lower[j]] ?? cells[j];
    if (seen.has(name)) return `header: two columns are channel ${quoteCell(name)}`;
    seen.add(name);
    channelColumns.push(j);
    channels.push(name);
  }
  if (channels.length === 0) return 'header: no channel columns';
  return { columns: cells.length, timeColumn, timeScale, phaseColumn, channelColumns, channels };
}

/**
 * One recording's frames: sample id `sample`, label `label`. Returns its channels and frames, or the line
 * and reason of the first problem (ragged row, a cell that is not a number, time that does not rise).
 */
export function parseRecordingCsv(
  text: string,
  source: string,
  sample: string,
  label: string,
  budget: ReadBudget = new ReadBudget(),
): Result<{ channels: readonly string[]; frames: RecordedFrame[] }> {
  const issue = (line: number, reason: string): { ok: false; error: DataIssue } => fail({ file: source, line, reason });
  const badLabel = budget.checkLabel(label, true);
  if (badLabel !== null) return issue(0, `the label its name gives: ${badLabel}`);
  let layout: Layout | null = null;
  const frames: RecordedFrame[] = [];
  let lastT = -Infinity;
  for (const line of textLines(text)) {
    if (isBlankLine(line.text) || isCommentLine(line.text)) continue;
    const cells = splitCsvLine(line.text);
    if (typeof cells === 'string') return issue(line.number, cells);
    if (layout === null) {
      const read = readHeader(cells);
      if (typeof read === 'string') return issue(line.number, read);
      const wide = columnsReason(read.channels.length, budget.limits, 'channels');
      if (wide !== null) return issue(line.number, wide);
      layout = read;
      continue;
    }
    if (cells.length !== layout.columns) return issue(line.number, `ragged row: ${cells.length} cells, the header has ${layout.columns}`);
    const over = budget.addRow(layout.channels.length);
    if (over !== null) return issue(line.number, over);
    let tS = frames.length;
    if (layout.timeColumn >= 0) {
      const cell = cells[layout.timeColumn];
      tS = parseDecimal(cell, 0, cell.length) * layout.timeScale;
      if (!Number.isFinite(tS)) return issue(line.number, `time ${quoteCell(cell)} is not a finite number`);
      if (!(tS > lastT)) return issue(line.number, `time ${quoteCell(cell)} does not rise (the row before: ${lastT / layout.timeScale})`);
    }
    lastT = tS;
    let phase: Phase | null = null;
    if (layout.phaseColumn >= 0) {
      const cell = cells[layout.phaseColumn];
      if (!(PHASES as readonly string[]).includes(cell)) return issue(line.number, `phase ${quoteCell(cell)} is not one of I, B, E, R`);
      phase = cell as Phase;
    }
    const values = new Float64Array(layout.channels.length);
    for (let k = 0; k < layout.channelColumns.length; k++) {
      const cell = cells[layout.channelColumns[k]];
      if (cell === '' || isNanCell(cell)) {
        values[k] = NaN;
        continue;
      }
      const v = parseDecimal(cell, 0, cell.length);
      if (Number.isNaN(v)) return issue(line.number, `${layout.channels[k]}: ${quoteCell(cell)} is not a number (nan or an empty cell for a failed reading)`);
      values[k] = v;
    }
    frames.push({ sample, label, tS, phase, seq: null, tRigMs: null, values, line: line.number });
  }
  if (layout === null) return issue(0, text.length === 0 ? 'empty file' : 'no header line');
  if (frames.length === 0) return issue(0, 'no rows after the header');
  return ok({ channels: layout.channels, frames });
}

/** The recordings of a folder (as listed by the caller), joined into one recording whose samples are the files. */
export function joinRecordings(
  source: string,
  files: readonly { readonly path: string; readonly sample: string; readonly channels: readonly string[]; readonly frames: readonly RecordedFrame[] }[],
): Result<FramesRecording> {
  if (files.length === 0) return fail({ file: source, line: 0, reason: 'no recordings (.csv files) in the folder' });
  const first = files[0];
  const frames: RecordedFrame[] = [];
  for (const f of files) {
    if (f.channels.join() !== first.channels.join()) {
      return fail({ file: f.path, line: 0, reason: `its channels (${f.channels.join(',')}) differ from those of ${first.path} (${first.channels.join(',')})` });
    }
    for (const frame of f.frames) frames.push(frame);
  }
  return ok({ source, channels: first.channels, frames });
}
