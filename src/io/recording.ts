/**
 * The append-only recorder behind `--record <dir>`: every engine event it is given lands in the folder,
 * so that a replay through the same engine sees what the live run saw.
 *
 * Folder layout:
 * - `meta.json`: rig info, model id, start time, engine version, channels and the list of frames files
 *   (see {@link RecordingMeta}); written atomically when the folder is created, on every `info` event and on
 *   `close` (then with `endedAt` and `frameCount`: a recording without them was not closed).
 * - `frames.csv`: every frame, idle ones too, columns `sample,label,t_s,phase,seq,t_rig_ms,<channels...>`
 *   (`label` is empty; `sample` is the engine's cycle id, empty outside a cycle). `t_s` is the host arrival
 *   time (`atMs`) in seconds since the first frame of the recording, rounded to the microsecond and forced
 *   strictly rising (by 1 us when two frames arrive within the same microsecond): the host clock, unlike
 *   the rig's `t_rig_ms`, never jumps, wraps or restarts, and it is what real-time replay paces by.
 * - `frames-2.csv`, `frames-3.csv`, ...: a new frames file is started (a) when a reboot brings another
 *   channel list, since a CSV has one header, (b) when a sample id comes back after another sample
 *   (a repeated container id, or a cycle id equal to one before a reboot), since a frames file holds each
 *   sample's frames contiguously, and (c) at the next sample once the file holds `maxFramesFileBytes`
 *   (256 MiB by default), since the readers read a file whole. Replay reads the files in order as one stream; frames are numbered
 *   across them.
 * - `events.jsonl`: the source-level events other than frames (`info` with its `reboot` flag, `issue`,
 *   `gap`, `state`), one `eventToJson` line each with `afterFrame`: the 0-based index of the last frame
 *   written before it (-1 before the first frame).
 *   A cycle the host ended early (ENL/1 END, `endCycle`) is a `cycle-end` line there, given by `cycleEnd`:
 *   `{"afterFrame":N,"type":"cycle-end","atMs":..,"sample":..,"reason":..,"phase":..,"seq":..}`, N being the
 *   last frame before the rig's ack (src/io/recordedCycleEnd.ts; readers before it stop at the line). An END
 *   whose answer never came (`cycleEndUnanswered`) is a `cycle-end-unanswered` line after the last frame written.
 * - `verdicts.jsonl`: one `eventToJson` line per `verdict` event.
 * Engine-derived events (`phase`, `sample-started`, `over-budget`) are not recorded: a replay derives them.
 *
 * Durability: writes are buffered in memory and written with `fs.writeSync` every `flushEveryMs / 2`
 * (checked on every `write` and by a timer, so that nothing waits longer than `flushEveryMs`), when the buffer passes 1 MiB, on every verdict (so the frames
 * behind a verdict are on disk with it) and on `close`. A killed process loses at most the events of the
 * last `flushEveryMs`; the data is then in the OS page cache, which survives the process but not a power
 * cut: `close` also fsyncs. A cut last line is read back up to the cut by the replay, with a warning.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { EnoseError, fail, ok, type Result } from '../errors.js';
import { sameChannels, type EngineEvent, type RigInfo } from '../types.js';
import { framesCsvHeader } from './datasets/framesCsv.js';
import type { CycleEnded, CycleEndIssue } from './cycleEnd.js';
import { eventToJson } from './eventJson.js';
import { cycleEndLine, RecentSeqs, UNANSWERED_END_KINDS, unansweredEndLine } from './recordedCycleEnd.js';
import { describeFsError, writeFileAtomic } from './files.js';

export const RECORDING_FORMAT = 'enose-recording';
export const RECORDING_FORMAT_VERSION = 1;
/** Engine version written to meta.json unless the caller names another. */
export const RECORDING_ENGINE_VERSION = '0.1.0';

const FLUSH_BYTES = 1 << 20;
const FRAMES_FILE = /^frames(-[1-9][0-9]*)?\.csv$/;

/**
 * Largest frames file the writers (the recorder, `enose simulate`) let grow before they start the next one, at
 * the next sample: the readers read a file whole, as one string, and V8 caps a string near 512 MiB (about 1,500
 * simulated containers, or a day and a half at 10 Hz x 18 channels). 256 MiB leaves room.
 */
export const FRAMES_FILE_MAX_BYTES = 256 * 1024 * 1024;

/** One frames file of a recording. */
export interface RecordingFramesFile {
  /** `frames.csv`, `frames-2.csv`, ... */
  readonly file: string;
  /** Index (0-based, across the recording) of the file's first frame. */
  readonly firstFrame: number;
  readonly channels: readonly string[];
}

/** What `meta.json` holds. */
export interface RecordingMeta {
  readonly format: typeof RECORDING_FORMAT;
  readonly formatVersion: typeof RECORDING_FORMAT_VERSION;
  readonly engineVersion: string;
  readonly modelId: string;
  /** The source's description, e.g. `serial:/dev/ttyUSB0`. */
  readonly source: string;
  /** ISO 8601. */
  readonly startedAt: string;
  /** ISO 8601, written by `close`; null while recording (or after a crash). */
  readonly endedAt: string | null;
  /** The first rig info of the recording, null until one arrives. Later ones are in events.jsonl. */
  readonly rig: RigInfo | null;
  /** Channels of the first frames file (those of `rig`). */
  readonly channels: readonly string[];
  readonly frameFiles: readonly RecordingFramesFile[];
  /** Frames written, set by `close`; null while recording (or after a crash). */
  readonly frameCount: number | null;
}

const rigInfoSchema = z.object({
  proto: z.string(),
  rig: z.string(),
  fw: z.string(),
  rateHz: z.number().positive(),
  unit: z.enum(['ohm', 'adc']),
  channels: z.array(z.string()).min(1),
});

const metaSchema = z.looseObject({
  format: z.literal(RECORDING_FORMAT),
  formatVersion: z.literal(RECORDING_FORMAT_VERSION),
  engineVersion: z.string(),
  modelId: z.string(),
  source: z.string(),
  startedAt: z.string(),
  endedAt: z.string().nullable(),
  rig: rigInfoSchema.nullable(),
  channels: z.array(z.string()),
  frameFiles: z.array(
    z.object({
      file: z.string().regex(FRAMES_FILE, 'a frames file is named frames.csv or frames-<n>.csv'),
      firstFrame: z.number().int().nonnegative(),
      channels: z.array(z.string()).min(1),
    }),
  ),
  frameCount: z.number().int().nonnegative().nullable(),
});

/** Validates the text of a `meta.json`; a reason naming the first bad field otherwise. */
export function parseRecordingMeta(text: string): Result<RecordingMeta, string> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return fail('not valid JSON');
  }
  const parsed = metaSchema.safeParse(value);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const where = first === undefined || first.path.length === 0 ? '' : `${first.path.join('.')}: `;
    return fail(`not a recording's meta.json (${where}${first?.message ?? 'invalid'})`);
  }
  return ok(parsed.data as RecordingMeta);
}

export interface RecorderOptions {
  /** Id of the model the live engine ran, for meta.json. */
  readonly modelId: string;
  /** The source's `description`, for meta.json. */
  readonly source: string;
  readonly startedAt: Date;
  /** Longest time an event waits in memory before it is written. @default 1000 */
  readonly flushEveryMs?: number;
  /** @default RECORDING_ENGINE_VERSION */
  readonly engineVersion?: string;
  /**
   * Called once when writing fails (disk full, folder removed). The recorder then drops what it is given,
   * so that a live engine keeps running; `close` rejects with the same error.
   */
  readonly onError?: (error: EnoseError) => void;
  /** A new frames file is started at the next sample once the current one holds this many bytes. @default FRAMES_FILE_MAX_BYTES */
  readonly maxFramesFileBytes?: number;
}

export interface Recorder {
  readonly dir: string;
  /** Frames recorded so far (written or buffered; frames dropped after a write failure do not count). */
  readonly frameCount: number;
  /**
   * Records one engine event. Throws `EnoseError('bad-usage')` on misuse: after `close`, a frame before any
   * `info`, a frame whose values do not match the channels, a seq or rig time that is not a uint32, or a
   * sample id with a line break. Write failures do not throw (see `onError`).
   */
  write(event: EngineEvent): void;
  /**
   * Records where and why the rig ended a cycle early (the value of a successful `endCycle`), after the frame
   * it names by seq (the last frame before the rig's ack), or after the last frame when that one is gone.
   */
  cycleEnd(ended: CycleEnded): void;
  /**
   * Records an END sent for cycle `sample` whose answer never came (`issue`: `not-connected` or `timeout`, the
   * failures after which the rig may have ended the cycle all the same), after the last frame written: the
   * recording then says the host asked, not that the cycle ran in full. Other issues are not recorded (the rig
   * said no). Throws `EnoseError('bad-usage')` after close or for another issue kind.
   */
  cycleEndUnanswered(sample: string, reason: string, issue: CycleEndIssue, atMs: number): void;
  /** Writes everything buffered now. */
  flush(): void;
  /** Flushes, fsyncs and closes the files and completes meta.json. Idempotent. */
  close(): Promise<void>;
}

/**
 * Creates the folder `dir` (and its parents) and starts a recording in it. Throws `EnoseError('bad-usage')`
 * when `dir` already holds a recording (a recording is never overwritten or appended to),
 * `EnoseError('bad-option')` for a bad `flushEveryMs` or `maxFramesFileBytes`, and `EnoseError('file-unreadable')` when the folder
 * or its files cannot be created.
 */
export function createRecorder(dir: string, options: RecorderOptions): Recorder {
  const flushEveryMs = options.flushEveryMs ?? 1000;
  const maxFramesFileBytes = options.maxFramesFileBytes ?? FRAMES_FILE_MAX_BYTES;
  if (!(maxFramesFileBytes > 0)) throw new EnoseError('bad-option', `createRecorder: maxFramesFileBytes ${String(maxFramesFileBytes)} is not a positive number of bytes`);
  if (!(flushEveryMs > 0) || !Number.isFinite(flushEveryMs)) {
    throw new EnoseError('bad-option', `createRecorder: flushEveryMs ${String(flushEveryMs)} is not a positive number of milliseconds`);
  }
  if (!(options.startedAt instanceof Date) || Number.isNaN(options.startedAt.getTime())) {
    throw new EnoseError('bad-option', 'createRecorder: startedAt is not a valid Date');
  }
  const metaPath = join(dir, 'meta.json');
  const initialMeta: RecordingMeta = {
    format: RECORDING_FORMAT,
    formatVersion: RECORDING_FORMAT_VERSION,
    engineVersion: options.engineVersion ?? RECORDING_ENGINE_VERSION,
    modelId: options.modelId,
    source: options.source,
    startedAt: options.startedAt.toISOString(),
    endedAt: null,
    rig: null,
    channels: [],
    frameFiles: [],
    frameCount: null,
  };
  let eventsFd = -1;
  let verdictsFd = -1;
  try {
    mkdirSync(dir, { recursive: true });
    if (existsSync(metaPath) || existsSync(join(dir, 'frames.csv'))) {
      throw new EnoseError('bad-usage', `${dir} already holds a recording; record into a new folder`);
    }
    eventsFd = openSync(join(dir, 'events.jsonl'), 'wx');
    verdictsFd = openSync(join(dir, 'verdicts.jsonl'), 'wx');
    writeFileAtomic(metaPath, metaText(initialMeta));
  } catch (error) {
    for (const fd of [eventsFd, verdictsFd]) if (fd >= 0) closeSync(fd);
    if (error instanceof EnoseError) throw error;
    throw new EnoseError('file-unreadable', `cannot create the recording in ${dir}: ${describeFsError(error)}`, { cause: error });
  }

  let meta: RecordingMeta = initialMeta;

  let framesFd = -1;
  let channelCount = 0;
  let currentChannels: readonly string[] = [];
  let framesBuf = '';
  let eventsBuf = '';
  let verdictsBuf = '';
  let bufferedBytes = 0;
  let frameCount = 0;
  let lastFlushAt = performance.now();
  let closed = false;
  let closing: Promise<void> | null = null;
  let failure: EnoseError | null = null;

  // Time base and sample bookkeeping of the frames rows.
  let t0Ms = NaN;
  let lastTUs = -1;
  let lastSampleRaw = '';
  let sampleCell = '';
  let currentSample = '';
  let samplesInFile = new Set<string>();
  /** Bytes of frame rows in the current frames file (written or buffered). */
  let bytesInFile = 0;
  const recentSeqs = new RecentSeqs();
  /** The last cycle id a frame carried: after an exposure-end verdict the engine's R frames carry none. */
  let lastCycleSample = '';

  const failWith = (error: unknown, action: string): void => {
    if (failure !== null) return;
    failure = new EnoseError('file-unreadable', `recording ${dir}: cannot ${action}: ${describeFsError(error)}`, { cause: error });
    framesBuf = eventsBuf = verdictsBuf = '';
    bufferedBytes = 0;
    options.onError?.(failure);
  };

  const writeMeta = (): void => {
    if (failure !== null) return;
    try {
      writeFileAtomic(metaPath, metaText(meta));
    } catch (error) {
      failWith(error, 'write meta.json');
    }
  };

  const flush = (): void => {
    lastFlushAt = performance.now();
    if (failure !== null) return;
    try {
      // Frames first: an event's afterFrame then never points past the frames on disk, crash or not.
      if (framesBuf.length > 0) writeSync(framesFd, framesBuf);
      framesBuf = '';
      if (eventsBuf.length > 0) writeSync(eventsFd, eventsBuf);
      eventsBuf = '';
      if (verdictsBuf.length > 0) writeSync(verdictsFd, verdictsBuf);
      verdictsBuf = '';
      bufferedBytes = 0;
    } catch (error) {
      failWith(error, 'write');
    }
  };

  const startFramesFile = (channels: readonly string[]): void => {
    const header = framesCsvHeader(channels, { withPhase: true, withSeq: true, withRigTime: true });
    flush();
    if (framesFd >= 0) {
      try {
        closeSync(framesFd);
      } catch {
        // Already flushed; a failing close loses nothing more.
      }
      framesFd = -1;
    }
    const n = meta.frameFiles.length + 1;
    const file = n === 1 ? 'frames.csv' : `frames-${n}.csv`;
    // meta.json names the file before it exists: a crash in between leaves a listed, missing (empty) file.
    meta = { ...meta, frameFiles: [...meta.frameFiles, { file, firstFrame: frameCount, channels: [...channels] }] };
    writeMeta();
    currentChannels = channels;
    channelCount = channels.length;
    samplesInFile = new Set();
    bytesInFile = 0;
    currentSample = '';
    if (failure !== null) return;
    try {
      framesFd = openSync(join(dir, file), 'wx');
      writeSync(framesFd, header);
    } catch (error) {
      failWith(error, `create ${file}`);
    }
  };

  // Flushing every half period keeps the age of the oldest buffered event under flushEveryMs even with the
  // timer's lateness and the gaps between writes; two small writeSync calls a second cost nothing.
  const periodMs = flushEveryMs / 2;
  const timer = setInterval(flush, periodMs);
  timer.unref();

  const afterFrame = (): string => `{"afterFrame":${frameCount - 1},`;

  function write(event: EngineEvent): void {
    if (closed) throw new EnoseError('bad-usage', `recorder ${dir}: write after close`);
    if (failure !== null) return; // reported once through onError; buffering on would only grow memory
    switch (event.type) {
      case 'frame': {
        if (channelCount === 0) throw new EnoseError('bad-usage', `recorder ${dir}: a frame before any info event`);
        const values = event.values;
        if (values.length !== channelCount) {
          throw new EnoseError('bad-usage', `recorder ${dir}: frame seq ${event.seq} has ${values.length} values for ${channelCount} channels`);
        }
        if (event.seq >>> 0 !== event.seq || event.tMs >>> 0 !== event.tMs) {
          throw new EnoseError('bad-usage', `recorder ${dir}: frame seq ${event.seq} / tMs ${event.tMs} is not an unsigned 32-bit integer`);
        }
        const phase = event.phase;
        if (phase !== 'I' && phase !== 'B' && phase !== 'E' && phase !== 'R') {
          throw new EnoseError('bad-usage', `recorder ${dir}: frame seq ${event.seq} has phase ${JSON.stringify(phase)}`);
        }
        const sample = event.sample;
        if (sample !== lastSampleRaw) {
          const cell = csvTextCell(sample);
          if (cell === null) throw new EnoseError('bad-usage', `recorder ${dir}: sample id ${JSON.stringify(sample)} has a line break`);
          if (sample !== '' && sample !== currentSample && (samplesInFile.has(sample) || bytesInFile >= maxFramesFileBytes)) startFramesFile(currentChannels);
          lastSampleRaw = sample;
          sampleCell = cell;
        }
        if (sample !== '') {
          lastCycleSample = sample;
          currentSample = sample;
          samplesInFile.add(sample);
        }
        if (Number.isNaN(t0Ms)) t0Ms = event.atMs;
        let tUs = Math.round((event.atMs - t0Ms) * 1000);
        if (!(tUs > lastTUs)) tUs = lastTUs + 1;
        lastTUs = tUs;
        let row = `${sampleCell},,${tUs / 1e6},${phase},${event.seq},${event.tMs}`;
        for (let k = 0; k < values.length; k++) {
          const x = values[k];
          row += Number.isFinite(x) ? (x === 0 && 1 / x < 0 ? ',-0' : `,${x}`) : ',nan';
        }
        framesBuf += `${row}\n`;
        bufferedBytes += row.length + 1;
        bytesInFile += row.length + 1;
        recentSeqs.push(frameCount, event.seq);
        frameCount++;
        break;
      }
      case 'info': {
        const rig: RigInfo = {
          proto: event.proto,
          rig: event.rig,
          fw: event.fw,
          rateHz: event.rateHz,
          unit: event.unit,
          channels: [...event.channels],
        };
        const line = `${afterFrame()}${eventToJson(event).slice(1)}\n`;
        eventsBuf += line;
        bufferedBytes += line.length;
        if (meta.rig === null) meta = { ...meta, rig, channels: rig.channels };
        if (channelCount === 0 || !sameChannels(currentChannels, event.channels)) startFramesFile(rig.channels);
        else writeMeta();
        break;
      }
      case 'issue':
      case 'gap':
      case 'state': {
        const line = `${afterFrame()}${eventToJson(event).slice(1)}\n`;
        eventsBuf += line;
        bufferedBytes += line.length;
        break;
      }
      case 'verdict':
        verdictsBuf += `${eventToJson(event)}\n`;
        flush();
        return;
      default:
        // phase, sample-started, over-budget, adaptation-stopped: derived by the engine (replay --adapt gives the
        // same), not recorded.
        return;
    }
    if (bufferedBytes >= FLUSH_BYTES || performance.now() - lastFlushAt >= periodMs) flush();
  }

  function cycleEnd(ended: CycleEnded): void {
    if (closed) throw new EnoseError('bad-usage', `recorder ${dir}: write after close`);
    if (failure !== null) return;
    const after = ended.seq === null ? frameCount - 1 : recentSeqs.indexOf(ended.seq, frameCount);
    const line = cycleEndLine(after, ended, lastCycleSample);
    eventsBuf += line;
    bufferedBytes += line.length;
    flush();
  }

  function cycleEndUnanswered(sample: string, reason: string, issue: CycleEndIssue, atMs: number): void {
    if (closed) throw new EnoseError('bad-usage', `recorder ${dir}: write after close`);
    if (!UNANSWERED_END_KINDS.has(issue.kind)) throw new EnoseError('bad-usage', `recorder ${dir}: an END answered ${issue.kind} was not taken by the rig: nothing to record`);
    if (failure !== null) return;
    const line = unansweredEndLine(frameCount - 1, sample, reason, issue, atMs);
    eventsBuf += line;
    bufferedBytes += line.length;
    flush();
  }

  function close(): Promise<void> {
    if (closing !== null) return closing;
    closed = true;
    clearInterval(timer);
    flush();
    for (const [fd, name] of [
      [framesFd, 'frames'],
      [eventsFd, 'events.jsonl'],
      [verdictsFd, 'verdicts.jsonl'],
    ] as const) {
      if (fd < 0) continue;
      try {
        if (failure === null) fsyncSync(fd);
        closeSync(fd);
      } catch (error) {
        failWith(error, `close ${name}`);
      }
    }
    framesFd = eventsFd = verdictsFd = -1;
    meta = { ...meta, endedAt: new Date().toISOString(), frameCount };
    writeMeta();
    const error = failure;
    closing = error === null ? Promise.resolve() : Promise.reject(error);
    return closing;
  }

  return {
    dir,
    get frameCount() {
      return frameCount;
    },
    write,
    cycleEnd,
    cycleEndUnanswered,
    flush,
    close,
  };
}

function metaText(meta: RecordingMeta): string {
  return `${JSON.stringify(meta, null, 2)}\n`;
}

/** A frames CSV text cell, quoted as the reader needs it; null for text with a line break (unwritable). */
function csvTextCell(text: string): string | null {
  if (text === '') return text;
  if (/[\r\n]/.test(text)) return null;
  const first = text.charCodeAt(0);
  const last = text.charCodeAt(text.length - 1);
  const needsQuotes = text.includes(',') || text.includes('"') || first === 35 || first === 32 || first === 9 || last === 32 || last === 9;
  return needsQuotes ? `"${text.replace(/"/g, '""')}"` : text;
}
