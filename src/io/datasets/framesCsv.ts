/**
 * Frames CSV, the time-series format of recordings and data sets: one row per frame, header
 * `sample,label,t_s,<channels...>` with optional `phase`, `seq` and `t_rig_ms` columns anywhere after `t_s`.
 * The reader returns a `FramesRecording`; the writer side is pure string formatting for the recorder and the
 * simulator, written so that every number reads back bit-identically.
 */
import { EnoseError, fail, ok, type DataIssue, type Result } from '../../errors.js';
import { PHASES, type FramesRecording, type Phase, type RecordedFrame } from '../../types.js';
import { columnsReason, ReadBudget } from './limits.js';
import { isBlankLine, isCommentLine, isNanCell, parseDecimal, quoteCell, splitCsvLine, textLines } from './text.js';

/** The three columns every frames CSV starts with, in this order. */
export const FRAMES_CSV_LEADING_COLUMNS = ['sample', 'label', 't_s'] as const;
/** Optional columns, allowed anywhere after `t_s`; every other column is a channel. */
export const FRAMES_CSV_OPTIONAL_COLUMNS = ['phase', 'seq', 't_rig_ms'] as const;

const UINT32_MAX = 4294967295;
const VALUE_CHUNK_FRAMES = 1024;

export interface FramesCsvOptions {
  /**
   * Replaying a crash-cut recording: when the text does not end with a line break and its last line is
   * ragged or does not parse, drop that line with a warning instead of failing. A cut that still parses
   * (inside the digits of the last value) cannot be told from a complete line and is kept.
   * @default false
   */
  readonly tolerateCutLastLine?: boolean;
  /** Bounds on the channels, the frames, the numbers and the labels (limits.ts). @default a budget with the default limits */
  readonly budget?: ReadBudget;
}

export interface FramesCsvRead {
  readonly recording: FramesRecording;
  /** Lines dropped under `tolerateCutLastLine` (at most one). */
  readonly warnings: readonly DataIssue[];
}

interface FramesLayout {
  readonly columnCount: number;
  readonly phaseColumn: number;
  readonly seqColumn: number;
  readonly rigTimeColumn: number;
  readonly channelColumns: readonly number[];
  readonly channels: readonly string[];
}

/** True when CSV header cells start with `sample,label,t_s`: the mark of a frames file. */
export function isFramesCsvHeader(cells: readonly string[]): boolean {
  return cells.length >= 3 && cells[0] === 'sample' && cells[1] === 'label' && cells[2] === 't_s';
}

/**
 * Parses a frames CSV text.
 *
 * - Lines starting with `#` are comments; blank lines are skipped anywhere (a trailing one too).
 * - The header starts `sample,label,t_s`; `phase`, `seq`, `t_rig_ms` may follow anywhere, at most once;
 *   all other columns are channels (at least one; unique, non-empty names). `temp_c` and `rh_pct` are
 *   environment channels (see `isEnvironmentChannel`); the reader treats every channel alike.
 * - `sample` is an id, empty for frames outside any cycle; `label` may be empty; `t_s` is a finite number
 *   of seconds, strictly rising within a sample; a sample's frames are contiguous (frames with an empty id
 *   may sit between them); `phase` is one of `I`, `B`, `E`, `R`; `seq` and `t_rig_ms` are unsigned 32-bit
 *   integers; a channel cell is a finite decimal or `nan` in any case (a failed reading, read as NaN).
 * - Anything else gives `{ ok: false, error }` naming the line and the reason (line 0 for an empty file
 *   or a file without frames).
 */
export function parseFramesCsv(text: string, source: string, options: FramesCsvOptions = {}): Result<FramesCsvRead> {
  const tolerateCut = options.tolerateCutLastLine === true;
  const budget = options.budget ?? new ReadBudget();
  const issue = (line: number, reason: string): { ok: false; error: DataIssue } => fail({ file: source, line, reason });

  let layout: FramesLayout | null = null;
  const frames: RecordedFrame[] = [];
  const warnings: DataIssue[] = [];
  const lastOfSample = new Map<string, { tS: number; line: number }>();
  let currentSample = '';
  let chunk = new Float64Array(0);
  let chunkUsed = 0;

  for (const line of textLines(text)) {
    if (isBlankLine(line.text) || isCommentLine(line.text)) continue;
    const cells = splitCsvLine(line.text);
    if (layout === null) {
      if (typeof cells === 'string') return issue(line.number, cells);
      const checked = readHeader(cells);
      if (typeof checked === 'string') return issue(line.number, checked);
      const wide = columnsReason(checked.channels.length, budget.limits, 'channels');
      if (wide !== null) return issue(line.number, wide);
      layout = checked;
      chunk = new Float64Array(layout.channels.length * VALUE_CHUNK_FRAMES);
      continue;
    }
    const width = layout.channels.length;
    if (chunkUsed + width > chunk.length) {
      chunk = new Float64Array(width * VALUE_CHUNK_FRAMES);
      chunkUsed = 0;
    }
    const values = chunk.subarray(chunkUsed, chunkUsed + width);
    let reason = typeof cells === 'string' ? cells : null;
    let frame: RecordedFrame | null = null;
    if (reason === null) {
      const parsed = readRow(cells as string[], layout, values, line.number);
      if (typeof parsed === 'string') reason = parsed;
      else frame = parsed;
    }
    if (frame !== null) reason ??= budget.addRow(width) ?? budget.checkLabel(frame.label, true);
    if (frame !== null && reason === null && frame.sample !== '') {
      const last = lastOfSample.get(frame.sample);
      if (last !== undefined && frame.sample !== currentSample) {
        reason = `sample ${quoteCell(frame.sample)} appears again after other samples (first at line ${last.line}): a sample's frames must be contiguous`;
      } else if (last !== undefined && !(frame.tS > last.tS)) {
        reason = `t_s ${frame.tS} does not rise within sample ${quoteCell(frame.sample)} (${last.tS} at line ${last.line})`;
      }
    }
    if (reason !== null || frame === null) {
      const why = reason ?? 'unreadable row';
      if (tolerateCut && !line.terminated) {
        warnings.push({ file: source, line: line.number, reason: `last line cut short (no line break at the end of the file), dropped: ${why}` });
        break;
      }
      return issue(line.number, why);
    }
    if (frame.sample !== '') {
      currentSample = frame.sample;
      lastOfSample.set(frame.sample, { tS: frame.tS, line: line.number });
    }
    chunkUsed += width;
    frames.push(frame);
  }

  if (layout === null) return issue(0, text.length === 0 ? 'empty file' : 'no header line');
  if (frames.length === 0) return issue(0, 'no frames after the header');
  return ok({ recording: { source, channels: layout.channels, frames }, warnings });
}

function readHeader(cells: readonly string[]): FramesLayout | string {
  if (!isFramesCsvHeader(cells)) return 'header: a frames file starts with the columns sample,label,t_s';
  const seen = new Set<string>();
  let phaseColumn = -1;
  let seqColumn = -1;
  let rigTimeColumn = -1;
  const channelColumns: number[] = [];
  const channels: string[] = [];
  for (let j = 0; j < cells.length; j++) {
    const name = cells[j];
    if (name === '') return `header: column ${j + 1} has no name`;
    if (seen.has(name)) return `header: duplicate column name ${quoteCell(name)}`;
    seen.add(name);
    if (j < 3) continue;
    if (name === 'phase') phaseColumn = j;
    else if (name === 'seq') seqColumn = j;
    else if (name === 't_rig_ms') rigTimeColumn = j;
    else {
      channelColumns.push(j);
      channels.push(name);
    }
  }
  if (channels.length === 0) return 'header: no channel columns';
  return { columnCount: cells.length, phaseColumn, seqColumn, rigTimeColumn, channelColumns, channels };
}

function readUint32(cell: string): number {
  const x = parseDecimal(cell, 0, cell.length);
  return Number.isInteger(x) && x >= 0 && x <= UINT32_MAX ? x : NaN;
}

function readRow(cells: string[], layout: FramesLayout, values: Float64Array, line: number): RecordedFrame | string {
  if (cells.length !== layout.columnCount) return `ragged row: ${cells.length} cells, the header has ${layout.columnCount}`;
  const tCell = cells[2];
  const tS = parseDecimal(tCell, 0, tCell.length);
  if (Number.isNaN(tS)) return `t_s ${quoteCell(tCell)} is not a finite number`;
  let phase: Phase | null = null;
  if (layout.phaseColumn >= 0) {
    const cell = cells[layout.phaseColumn];
    if (!(PHASES as readonly string[]).includes(cell)) return `phase ${quoteCell(cell)} is not one of I, B, E, R`;
    phase = cell as Phase;
  }
  let seq: number | null = null;
  if (layout.seqColumn >= 0) {
    const cell = cells[layout.seqColumn];
    seq = readUint32(cell);
    if (Number.isNaN(seq)) return `seq ${quoteCell(cell)} is not an unsigned 32-bit integer`;
  }
  let tRigMs: number | null = null;
  if (layout.rigTimeColumn >= 0) {
    const cell = cells[layout.rigTimeColumn];
    tRigMs = readUint32(cell);
    if (Number.isNaN(tRigMs)) return `t_rig_ms ${quoteCell(cell)} is not an unsigned 32-bit integer`;
  }
  const columns = layout.channelColumns;
  for (let k = 0; k < columns.length; k++) {
    const cell = cells[columns[k]];
    const x = parseDecimal(cell, 0, cell.length);
    if (Number.isNaN(x)) {
      if (!isNanCell(cell)) return `channel ${quoteCell(layout.channels[k])}: ${quoteCell(cell)} is not a number (a failed reading is written nan)`;
    }
    values[k] = x;
  }
  return { sample: cells[0], label: cells[1], tS, phase, seq, tRigMs, values, line };
}

// ---------------------------------------------------------------------------------------------------------
// Writer

/** Which optional columns a frames CSV written by `framesCsvHeader` / `formatFramesCsvRow` carries. */
export interface FramesCsvColumns {
  /** Write the `phase` column. @default false */
  readonly withPhase?: boolean;
  /** Write the `seq` column. @default false */
  readonly withSeq?: boolean;
  /** Write the `t_rig_ms` column. @default false */
  readonly withRigTime?: boolean;
}

/** One row to write; a `RecordedFrame` is one. */
export interface FramesCsvRow {
  readonly sample: string;
  readonly label: string;
  readonly tS: number;
  readonly phase?: Phase | null;
  readonly seq?: number | null;
  readonly tRigMs?: number | null;
  readonly values: ArrayLike<number>;
}

const RESERVED = new Set<string>([...FRAMES_CSV_LEADING_COLUMNS, ...FRAMES_CSV_OPTIONAL_COLUMNS]);

/**
 * The header line (with its `\n`): `sample,label,t_s[,phase][,seq][,t_rig_ms],<channels>`.
 * Throws `EnoseError('bad-usage')` for an empty, duplicate or reserved channel name or one with a line break.
 */
export function framesCsvHeader(channels: readonly string[], columns: FramesCsvColumns = {}): string {
  if (channels.length === 0) throw new EnoseError('bad-usage', 'framesCsvHeader: no channels');
  const seen = new Set<string>();
  for (const name of channels) {
    if (name === '' || RESERVED.has(name) || seen.has(name) || /[\r\n]/.test(name)) {
      throw new EnoseError('bad-usage', `framesCsvHeader: channel name ${JSON.stringify(name)} is empty, reserved, repeated or has a line break`);
    }
    seen.add(name);
  }
  let line = 'sample,label,t_s';
  if (columns.withPhase === true) line += ',phase';
  if (columns.withSeq === true) line += ',seq';
  if (columns.withRigTime === true) line += ',t_rig_ms';
  for (const name of channels) line += `,${formatFramesCsvText(name)}`;
  return `${line}\n`;
}

/**
 * One frame as a line (with its `\n`), columns as in `framesCsvHeader` with the same `columns`.
 * Numbers are written in their shortest round-trip form (`String(x)`, `-0` kept), so they read back
 * bit-identically; a NaN reading is written `nan`, and so is an infinite one (not a valid reading).
 * Throws `EnoseError('bad-usage')` for a non-finite `t_s`, a missing phase / seq / rig time that `columns`
 * asks for, a seq or rig time that is not a uint32, or a sample id or label with a line break.
 */
export function formatFramesCsvRow(row: FramesCsvRow, columns: FramesCsvColumns = {}): string {
  if (!Number.isFinite(row.tS)) throw new EnoseError('bad-usage', `formatFramesCsvRow: t_s ${row.tS} is not finite`);
  let line = `${formatFramesCsvText(row.sample)},${formatFramesCsvText(row.label)},${formatFramesCsvNumber(row.tS)}`;
  if (columns.withPhase === true) {
    const phase = row.phase;
    if (phase === undefined || phase === null || !PHASES.includes(phase)) {
      throw new EnoseError('bad-usage', `formatFramesCsvRow: phase ${String(phase)} is not one of I, B, E, R`);
    }
    line += `,${phase}`;
  }
  if (columns.withSeq === true) line += `,${formatUint32('seq', row.seq)}`;
  if (columns.withRigTime === true) line += `,${formatUint32('t_rig_ms', row.tRigMs)}`;
  const values = row.values;
  for (let k = 0; k < values.length; k++) {
    const x = values[k];
    line += Number.isFinite(x) ? `,${formatFramesCsvNumber(x)}` : ',nan';
  }
  return `${line}\n`;
}

/** Shortest text that reads back to exactly `x` (`-0` included); `nan` for NaN. */
export function formatFramesCsvNumber(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  return x === 0 && 1 / x < 0 ? '-0' : String(x);
}

function formatUint32(name: string, x: number | null | undefined): string {
  if (typeof x !== 'number' || !Number.isInteger(x) || x < 0 || x > UINT32_MAX) {
    throw new EnoseError('bad-usage', `formatFramesCsvRow: ${name} ${String(x)} is not an unsigned 32-bit integer`);
  }
  return String(x);
}

/** A text cell, quoted when the reader would otherwise split, trim or skip it. */
function formatFramesCsvText(text: string): string {
  if (text === '') return text;
  if (/[\r\n]/.test(text)) throw new EnoseError('bad-usage', `frames CSV text ${JSON.stringify(text)} has a line break`);
  const first = text.charCodeAt(0);
  const last = text.charCodeAt(text.length - 1);
  const needsQuotes =
    text.includes(',') || text.includes('"') || first === 35 || first === 32 || first === 9 || last === 32 || last === 9;
  return needsQuotes ? `"${text.replace(/"/g, '""')}"` : text;
}
