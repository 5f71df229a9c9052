/**
 * Recordings and data sets as a `FrameSource`, at full speed or paced like the live run, so that the same
 * engine re-examines what it saw live.
 *
 * Input is either
 * - a recording folder written by `createRecorder` (`meta.json`, `frames.csv` [+ `frames-2.csv`, ...],
 *   `events.jsonl`): the rig info comes from meta.json, and the `info` (with a reboot before it when its
 *   `reboot` flag is set), `issue`, `gap` and `state` events of events.jsonl are re-injected after the frame
 *   they followed live, so that a replay sees what the live engine saw, and so is the rig's `END,OK` ack of a
 *   cycle the host ended early (a `cycle-end` line, src/io/recordedCycleEnd.ts; `endCycle` answers from it); or
 * - a plain frames CSV (a data set such as `beverage-enose-2016-05/frames.csv`, or a folder holding only a
 *   `frames.csv`): the info is made up (rig = the file's base name, fw and proto `file`, unit `ohm`,
 *   `rateHz` from the median step of `t_s` within samples, channels from the header).
 *
 * Each row gives one `frame` event: `seq` from the `seq` column, else the row's index (0-based, counted
 * across the frames files); `tMs` from `t_rig_ms`, else round(t_s * 1000) modulo 2^32 (a rig clock wraps
 * the same way); `phase` from the `phase` column, else host-timed: within each sample the frames less than
 * `baselineS` after the sample's first frame are `B`, later ones `E`, and frames with an empty sample id
 * `I`; `sample` and `label` from their columns; `atMs` is `performance.now()` at emission. A sample's last
 * cycle needs no extra frame: the engine closes a cycle when the `sample` id changes and when the source
 * ends, which is how a data set whose samples end in `E` still yields one verdict per sample.
 *
 * A recording cut by a crash is read up to the cut: a cut last line of a frames file or of events.jsonl
 * is dropped, and every such fact lands in `warnings` (nothing is written to stderr; the caller reports).
 * The files are read whole into memory (about the file's size again for a recording of hours at 10 Hz x 18
 * channels, ~100 MB), within `limits` (datasets/limits.ts: a file over 500 MiB, which V8 cannot hold as one string, is
 * refused in one line; the writers start a new frames file after 256 MiB). Frame values are views into the reader's arrays.
 */
import { readFile, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { EnoseError, fail, ok, type DataIssue, type Result } from '../errors.js';
import type { FrameSource, FramesRecording, Phase, RecordedFrame, RigCommand, RigInfo, SourceEvent } from '../types.js';
import { delimiterMismatch, toCommaCsv, type Delimiter } from './datasets/delimited.js';
import { fileTooLarge, importKindOf, readRecordings } from './datasets/imported.js';
import { parseFramesCsv } from './datasets/framesCsv.js';
import { baseName, textLines } from './datasets/text.js';
import { parseEventValue } from './eventJson.js';
import { describeFsError } from './files.js';
import { DEFAULT_DATA_LIMITS, ReadBudget, type DataLimits } from './datasets/limits.js';
import { parseRecordingMeta } from './recording.js';
import type { CycleEnding, CycleEndResult } from './cycleEnd.js';
import { CYCLE_END_TYPE, CYCLE_END_UNANSWERED_TYPE, endFromRecording, parseCycleEnd, parseUnansweredEnd, type RecordedCycleEnd, type RecordedUnansweredEnd, type ReplayCursor } from './recordedCycleEnd.js';

/** `max`: as fast as possible; `realtime`: paced by the recorded `t_s`; a number: that many times faster. */
export type ReplaySpeed = 'max' | 'realtime' | number;

export interface ReplayOptions {
  /** @default 'max' */
  readonly speed?: ReplaySpeed;
  /** Host-timed phases of a file without a `phase` column: seconds of baseline at the start of each sample. @default 30 */
  readonly baselineS?: number;
  /** Events emitted between two turns of the event loop at speed `max`. @default 1000 */
  readonly yieldEvery?: number;
  /** Cell delimiter of a plain frames file or of recordings of one CSV each (datasets/delimited.ts). @default ',' */
  readonly delimiter?: Delimiter;
  /** Bounds on each file's size, channels and frames (datasets/limits.ts). @default DEFAULT_DATA_LIMITS */
  readonly limits?: DataLimits;
}

export interface ReplaySource extends FrameSource, CycleEnding {
  /** Cycles the live run ended early (ENL/1 END), in recording order. */
  readonly cycleEnds: readonly RecordedCycleEnd[];
  /** ENDs the live run sent whose answer never came (the rig may or may not have taken them), in recording order. */
  readonly unansweredEnds: readonly RecordedUnansweredEnd[];
  /** The rig info emitted first (from meta.json, or made up for a plain CSV). */
  readonly info: RigInfo;
  /** What was tolerated while reading: a cut last line, a missing events.jsonl, ... */
  readonly warnings: readonly DataIssue[];
  /** Frames the source emits per run. */
  readonly frameCount: number;
  /** True when phases are host-timed (no `phase` column). */
  readonly hostTimed: boolean;
}

/** One frames file as read: `firstFrame` is the index of its first frame across the recording. */
interface Segment {
  readonly channels: readonly string[];
  readonly frames: readonly RecordedFrame[];
  readonly firstFrame: number;
  /** Host-timed phases, when the file has no phase column. */
  readonly phases: readonly Phase[] | null;
}

/** A non-frame source event and where it goes: after the frame of index `afterFrame` (-1: before all). */
interface Placed {
  readonly afterFrame: number;
  readonly event: SourceEvent;
  /** Set on the END ack a `cycle-end` line stands for. */
  readonly cycleEnd?: RecordedCycleEnd;
}

interface Loaded {
  readonly info: RigInfo;
  readonly segments: readonly Segment[];
  readonly events: readonly Placed[];
  readonly unansweredEnds: readonly RecordedUnansweredEnd[];
  readonly warnings: readonly DataIssue[];
  readonly frameCount: number;
  readonly hostTimed: boolean;
  /** Nominal frame step for pacing across a reset of `t_s` (a new sample of a data set). */
  readonly stepS: number;
}

const UINT32 = 4294967296;

/**
 * Opens a recording folder or a frames CSV file as a source. Bad input (missing, unreadable or corrupt
 * files, channels that disagree with meta.json) gives `{ ok: false, error }`; it never throws for it.
 * Misuse rejects with `EnoseError('bad-option')`: a speed that is not `max`, `realtime` or a positive
 * finite number, a negative `baselineS`, a `yieldEvery` that is not a positive integer.
 */
export async function createReplaySource(path: string, options: ReplayOptions = {}): Promise<Result<ReplaySource>> {
  const speed = options.speed ?? 'max';
  const factor = speed === 'max' ? Infinity : speed === 'realtime' ? 1 : speed;
  if (typeof factor !== 'number' || !(factor > 0) || Number.isNaN(factor) || (speed !== 'max' && !Number.isFinite(factor))) {
    throw new EnoseError('bad-option', `replay speed ${JSON.stringify(speed)} is not max, realtime or a positive number`);
  }
  const baselineS = options.baselineS ?? 30;
  if (!(baselineS >= 0) || !Number.isFinite(baselineS)) throw new EnoseError('bad-option', `baselineS ${String(baselineS)} is not a non-negative number`);
  const yieldEvery = options.yieldEvery ?? 1000;
  if (!Number.isInteger(yieldEvery) || yieldEvery < 1) throw new EnoseError('bad-option', `yieldEvery ${String(yieldEvery)} is not a positive integer`);

  const loaded = await loadReplay(path, baselineS, options.delimiter ?? ',', options.limits ?? DEFAULT_DATA_LIMITS);
  if (!loaded.ok) return loaded;
  const data = loaded.value;
  let running = false;
  const cursor: ReplayCursor = { index: -1, sample: '', sampleStart: 0 };
  const cycleEnds = data.events.flatMap((placed) => (placed.cycleEnd === undefined ? [] : [placed.cycleEnd]));

  async function run(emit: (event: SourceEvent) => void, signal: AbortSignal): Promise<void> {
    if (running) throw new EnoseError('bad-usage', `replay of ${path}: run() called while it is already running`);
    running = true;
    cursor.index = -1;
    cursor.sample = '';
    try {
      await play(data, emit, signal, factor, yieldEvery, cursor);
    } finally {
      running = false;
    }
  }

  async function send(command: RigCommand): Promise<void> {
    throw new EnoseError('bad-usage', `a replay cannot send commands to a rig (${command.command}): it plays its recorded cycles as recorded; for a recording that answers START with its next cycle, use openReplayRig(path)`);
  }

  return ok({
    description: `replay:${path}`,
    cycleEnds,
    unansweredEnds: data.unansweredEnds,
    endSupported: cycleEnds.length > 0 ? true : null,
    endCycle: (_reason: string): Promise<CycleEndResult> => Promise.resolve(endFromRecording(cycleEnds, data.unansweredEnds, cursor, performance.now())),
    info: data.info,
    warnings: data.warnings,
    frameCount: data.frameCount,
    hostTimed: data.hostTimed,
    run,
    send,
  });
}

async function play(data: Loaded, emit: (event: SourceEvent) => void, signal: AbortSignal, factor: number, yieldEvery: number, cursor: ReplayCursor): Promise<void> {
  const events = data.events;
  let next = 0;
  let sinceYield = 0;
  const paced = Number.isFinite(factor);
  let startMs = NaN;
  let playMs = 0;
  let lastTS = NaN;

  const emitPlaced = (upTo: number): void => {
    while (next < events.length && events[next].afterFrame < upTo) {
      const event = events[next++].event;
      emit({ ...event, atMs: performance.now() } as SourceEvent);
      sinceYield++;
    }
  };

  for (const segment of data.segments) {
    const frames = segment.frames;
    const phases = segment.phases;
    for (let j = 0; j < frames.length; j++) {
      if (signal.aborted) return;
      const index = segment.firstFrame + j;
      const frame = frames[j];
      if (paced) {
        if (Number.isNaN(startMs)) {
          startMs = performance.now();
        } else {
          const stepS = frame.tS - lastTS;
          playMs += ((stepS > 0 ? stepS : data.stepS) * 1000) / factor;
        }
        lastTS = frame.tS;
        const waitMs = startMs + playMs - performance.now();
        if (waitMs >= 1) {
          try {
            await sleep(waitMs, undefined, { signal });
          } catch {
            return; // aborted
          }
          sinceYield = 0;
        }
      }
      emitPlaced(index);
      cursor.index = index;
      if (frame.sample !== '' && frame.sample !== cursor.sample) {
        cursor.sample = frame.sample;
        cursor.sampleStart = index;
      }
      emit({
        type: 'frame',
        atMs: performance.now(),
        seq: frame.seq ?? index % UINT32,
        tMs: frame.tRigMs ?? rigTimeOf(frame.tS),
        phase: frame.phase ?? (phases === null ? 'I' : phases[j]),
        values: frame.values,
        sample: frame.sample,
        label: frame.label,
      });
      emitPlaced(index + 1);
      if (++sinceYield >= yieldEvery) {
        sinceYield = 0;
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
  }
  if (signal.aborted) return;
  emitPlaced(Infinity);
}

function rigTimeOf(tS: number): number {
  const ms = Math.round(tS * 1000) % UINT32;
  return ms < 0 ? ms + UINT32 : ms;
}

// ---------------------------------------------------------------------------------------------------------
// Loading

async function loadReplay(path: string, baselineS: number, delimiter: Delimiter, limits: DataLimits): Promise<Result<Loaded>> {
  // Recordings of one CSV each (a file, or a folder of them): a plain frames file whose samples are the files.
  if ((await importKindOf(path, delimiter)) === 'recordings') {
    const read = await readRecordings(path, delimiter, new ReadBudget(limits));
    return read.ok ? ok(plainLoaded(read.value, baselineS, [])) : read;
  }
  let isFolder: boolean;
  try {
    isFolder = (await stat(path)).isDirectory();
  } catch (error) {
    return fail({ file: path, line: 0, reason: describeFsError(error) });
  }
  if (!isFolder) return loadPlainCsv(path, baselineS, [], delimiter, limits);
  const metaPath = join(path, 'meta.json');
  const metaText = await readText(metaPath, limits);
  if (!metaText.ok) {
    const framesPath = join(path, 'frames.csv');
    if (metaText.error.reason !== 'no such file or directory') return metaText;
    const warning = { file: metaPath, line: 0, reason: 'no meta.json: replaying frames.csv as a plain frames file (no rig info, no recorded events)' };
    return loadPlainCsv(framesPath, baselineS, [warning], delimiter, limits);
  }
  return loadRecording(path, metaText.value, baselineS, limits);
}

async function readText(path: string, limits: DataLimits): Promise<Result<string>> {
  const tooLarge = await fileTooLarge(path, limits);
  if (tooLarge !== null) return fail(tooLarge);
  try {
    return ok(await readFile(path, 'utf8'));
  } catch (error) {
    return fail({ file: path, line: 0, reason: describeFsError(error) });
  }
}

async function loadPlainCsv(path: string, baselineS: number, warnings: DataIssue[], delimiter: Delimiter, limits: DataLimits): Promise<Result<Loaded>> {
  const text = await readText(path, limits);
  if (!text.ok) return text;
  const mismatch = delimiterMismatch(text.value, delimiter);
  if (mismatch !== null) return fail({ file: path, line: 0, reason: mismatch });
  const read = parseFramesCsv(toCommaCsv(text.value, delimiter), path, { tolerateCutLastLine: true, budget: new ReadBudget(limits) });
  if (!read.ok) return read;
  for (const w of read.value.warnings) warnings.push(w);
  return ok(plainLoaded(read.value.recording, baselineS, warnings));
}

/** A recording without meta.json: the info made up (see the file's comment), phases host-timed without a phase column. */
function plainLoaded(recording: FramesRecording, baselineS: number, warnings: DataIssue[]): Loaded {
  const path = recording.source;
  const { channels, frames } = recording;
  const stepS = medianStepS([frames]);
  const rateHz = Number((1 / stepS).toPrecision(9));
  const info: RigInfo = { proto: 'file', rig: baseName(path), fw: 'file', rateHz, unit: 'ohm', channels };
  const hostTimed = frames[0].phase === null;
  const segment: Segment = { channels, frames, firstFrame: 0, phases: hostTimed ? hostTimedPhases(frames, baselineS) : null };
  return { info, segments: [segment], events: [{ afterFrame: -1, event: { type: 'info', atMs: 0, ...info } }], unansweredEnds: [], warnings, frameCount: frames.length, hostTimed, stepS };
}

async function loadRecording(dir: string, metaText: string, baselineS: number, limits: DataLimits): Promise<Result<Loaded>> {
  const budget = new ReadBudget(limits);
  const metaPath = join(dir, 'meta.json');
  const parsedMeta = parseRecordingMeta(metaText);
  if (!parsedMeta.ok) return fail({ file: metaPath, line: 0, reason: parsedMeta.error });
  const meta = parsedMeta.value;
  if (meta.rig === null || meta.frameFiles.length === 0) {
    return fail({ file: metaPath, line: 0, reason: 'the recording holds no frames (no rig info was received)' });
  }
  const warnings: DataIssue[] = [];
  const segments: Segment[] = [];
  let frameCount = 0;
  let nextIndex = 0;
  let hostTimed = false;
  for (let k = 0; k < meta.frameFiles.length; k++) {
    const entry = meta.frameFiles[k];
    const file = join(dir, entry.file);
    const text = await readText(file, limits);
    if (!text.ok) {
      if (text.error.reason === 'no such file or directory' && k === meta.frameFiles.length - 1) {
        warnings.push({ file, line: 0, reason: 'listed in meta.json but absent: the recorder stopped before creating it' });
        continue;
      }
      return text;
    }
    if (text.value.length === 0) {
      warnings.push({ file, line: 0, reason: 'empty: the recorder stopped before writing its header' });
      continue;
    }
    const read = parseFramesCsv(text.value, file, { tolerateCutLastLine: true, budget });
    if (!read.ok) {
      // A header and no frames is a legitimate file (a reboot right after another); anything else is not.
      if (read.error.line === 0 && read.error.reason === 'no frames after the header') continue;
      return read;
    }
    for (const w of read.value.warnings) warnings.push(w);
    const { channels, frames } = read.value.recording;
    if (!sameStrings(channels, entry.channels)) {
      return fail({ file, line: 0, reason: `its channels (${channels.join(',')}) differ from those meta.json lists for it (${entry.channels.join(',')})` });
    }
    const firstFrame = Math.max(entry.firstFrame, nextIndex);
    const phases = frames[0].phase === null ? hostTimedPhases(frames, baselineS) : null;
    hostTimed ||= phases !== null;
    segments.push({ channels, frames, firstFrame, phases });
    nextIndex = firstFrame + frames.length;
    frameCount += frames.length;
  }
  if (frameCount === 0) return fail({ file: join(dir, meta.frameFiles[0].file), line: 0, reason: 'the recording holds no frames' });

  const eventsPath = join(dir, 'events.jsonl');
  const recorded = await readEvents(eventsPath, warnings, limits);
  if (!recorded.ok) return recorded;
  const events = planEvents(meta.rig, segments, recorded.value.placed, eventsPath, warnings);
  const stepS = medianStepS(segments.map((segment) => segment.frames));
  return ok({ info: meta.rig, segments, events, unansweredEnds: recorded.value.unanswered, warnings, frameCount, hostTimed, stepS });
}

/** Reads events.jsonl: the info/issue/gap/state events with their `afterFrame`, and the unanswered ENDs, in file order. */
async function readEvents(path: string, warnings: DataIssue[], limits: DataLimits): Promise<Result<{ placed: Placed[]; unanswered: RecordedUnansweredEnd[] }>> {
  const read = await readText(path, limits);
  if (!read.ok && read.error.reason !== 'no such file or directory') return read;
  if (!read.ok) warnings.push({ file: path, line: 0, reason: 'absent: issues, gaps, link states and reboots of the live run are not replayed' });
  const text = read.ok ? read.value : '';
  const placed: Placed[] = [];
  const unanswered: RecordedUnansweredEnd[] = [];
  for (const line of textLines(text)) {
    if (line.text.trim() === '') continue;
    const event = readEventLine(line.text);
    if (typeof event === 'string') {
      if (!line.terminated) {
        warnings.push({ file: path, line: line.number, reason: `last line cut short (no line break at the end of the file), dropped: ${event}` });
        break;
      }
      return fail({ file: path, line: line.number, reason: event });
    }
    if (Array.isArray(event)) placed.push(...event);
    else if (event !== null) unanswered.push(event);
  }
  return ok({ placed, unanswered });
}

/** One events.jsonl line as the source events it stands for (a reboot and an info for `reboot: true`). */
function readEventLine(text: string): Placed[] | RecordedUnansweredEnd | null | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'not a JSON line';
  }
  const afterFrame = (value as { afterFrame?: unknown } | null)?.afterFrame;
  if (typeof afterFrame !== 'number' || !Number.isInteger(afterFrame) || afterFrame < -1) {
    return 'no afterFrame (an integer >= -1) on the event';
  }
  if ((value as { type?: unknown }).type === CYCLE_END_TYPE) {
    const end = parseCycleEnd(value);
    return end.ok ? [{ afterFrame, event: { type: 'ack', atMs: 0, command: 'END', ok: true, detail: '' }, cycleEnd: end.value }] : end.error;
  }
  if ((value as { type?: unknown }).type === CYCLE_END_UNANSWERED_TYPE) {
    const end = parseUnansweredEnd(value);
    return end.ok ? end.value : end.error;
  }
  const parsed = parseEventValue(value);
  if (!parsed.ok) return parsed.error;
  const event = parsed.value;
  switch (event.type) {
    case 'info': {
      const info: SourceEvent = {
        type: 'info',
        atMs: 0,
        proto: event.proto,
        rig: event.rig,
        fw: event.fw,
        rateHz: event.rateHz,
        unit: event.unit,
        channels: event.channels,
      };
      return event.reboot ? [{ afterFrame, event: { type: 'reboot', atMs: 0 } }, { afterFrame, event: info }] : [{ afterFrame, event: info }];
    }
    case 'issue':
      return [{ afterFrame, event: { type: 'issue', atMs: 0, kind: event.kind, line: event.line, detail: event.detail } }];
    case 'gap':
      return [{ afterFrame, event: { type: 'gap', atMs: 0, fromSeq: event.fromSeq, toSeq: event.toSeq, lost: event.lost } }];
    case 'state':
      return [{ afterFrame, event: { type: 'state', atMs: 0, state: event.state, detail: event.detail } }];
    default:
      return null; // engine-derived events are not source events: a replay derives them again
  }
}

/**
 * Orders the recorded events by `afterFrame` (stable) and makes sure the engine always holds the info
 * of the frames it gets: meta.json's info goes first when no info precedes the first frame, and a frames
 * file whose channels differ from the info in force gets a reboot and an info made up before it.
 */
function planEvents(rig: RigInfo, segments: readonly Segment[], recorded: Placed[], eventsPath: string, warnings: DataIssue[]): Placed[] {
  const events = recorded.map((placed, order) => ({ placed, order }));
  events.sort((a, b) => a.placed.afterFrame - b.placed.afterFrame || a.order - b.order);
  const plan: Placed[] = [];
  let e = 0;
  let current: readonly string[] | null = null;
  for (const segment of segments) {
    while (e < events.length && events[e].placed.afterFrame < segment.firstFrame) {
      const placed = events[e++].placed;
      if (placed.event.type === 'info') current = placed.event.channels;
      plan.push(placed);
    }
    if (current === null) {
      plan.unshift({ afterFrame: -1, event: { type: 'info', atMs: 0, ...rig } });
      current = rig.channels;
    }
    if (!sameStrings(current, segment.channels)) {
      warnings.push({
        file: eventsPath,
        line: 0,
        reason: `no info with the channels of the frames from index ${segment.firstFrame}: a reboot and an info with them are replayed before`,
      });
      const afterFrame = segment.firstFrame - 1;
      plan.push({ afterFrame, event: { type: 'reboot', atMs: 0 } }, { afterFrame, event: { type: 'info', atMs: 0, ...rig, channels: segment.channels } });
      current = segment.channels;
    }
  }
  while (e < events.length) plan.push(events[e++].placed);
  return plan;
}

/** Host-timed phases: `baselineS` of B from each sample's first frame, then E; I outside samples. */
function hostTimedPhases(frames: readonly RecordedFrame[], baselineS: number): Phase[] {
  const phases: Phase[] = new Array<Phase>(frames.length);
  let sample = '';
  let startS = 0;
  for (let i = 0; i < frames.length; i++) {
    const frame = frames[i];
    if (frame.sample === '') {
      phases[i] = 'I';
      continue;
    }
    if (frame.sample !== sample) {
      sample = frame.sample;
      startS = frame.tS;
    }
    phases[i] = frame.tS - startS < baselineS ? 'B' : 'E';
  }
  return phases;
}

/** Median of the positive `t_s` steps between consecutive frames of the same sample (1 s when there are none). */
function medianStepS(files: readonly (readonly RecordedFrame[])[]): number {
  const steps = new Float64Array(files.reduce((sum, frames) => sum + frames.length, 0));
  let n = 0;
  for (const frames of files) {
    for (let i = 1; i < frames.length; i++) {
      const step = frames[i].tS - frames[i - 1].tS;
      if (step > 0 && frames[i].sample === frames[i - 1].sample) steps[n++] = step;
    }
  }
  if (n === 0) return 1;
  const sorted = steps.subarray(0, n).sort();
  return n % 2 === 1 ? sorted[(n - 1) >> 1] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let j = 0; j < a.length; j++) if (a[j] !== b[j]) return false;
  return true;
}
