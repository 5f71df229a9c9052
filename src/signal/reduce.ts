/**
 * The foundation's simple reduction of a frames recording to one feature vector per sample.
 *
 * STOP-GAP: the streaming engine issue replaces this with the real, incremental feature extractor (several
 * response forms, transients, quality gates), and `enose train` on frames then goes through that one path.
 */
import { EnoseError, fail, ok, type DataIssue, type Result } from '../errors.js';
import { isEnvironmentChannel, sameChannels, type FeatureTable, type FramesRecording, type Phase, type RecordedFrame } from '../types.js';

export interface ReduceOptions {
  /**
   * Without a `phase` column, the frames of a sample with `t_s - t_s(first frame) < baselineS` are its
   * baseline and the rest its exposure. Ignored for frames that carry a phase.
   * @default 30
   */
  readonly baselineS?: number;
}

/** Feature names of the reduction, in channel order: `<channel>:frac_ss` for gas, `<channel>:mean` for environment. */
export function reducedFeatureNames(channels: readonly string[]): string[] {
  return channels.map((name) => (isEnvironmentChannel(name) ? `${name}:mean` : `${name}:frac_ss`));
}

/**
 * Reduces a frames recording to one row per sample (stop-gap, see the module comment). Frames with an
 * empty sample id are outside any cycle and skipped. Per sample:
 * - baseline frames are the `B` frames (or, without a phase, the first `baselineS` seconds) and exposure
 *   frames the `E` frames (or the rest); `I` and `R` frames are not used;
 * - gas channel: R0 = median of its baseline readings (robust to spikes), response = the fractional change
 *   (mean of its readings over the last third of the exposure frames - R0) / R0, as the steady-state
 *   response of Vergara et al. 2012 (Sens. Actuators B 166) taken relative to the baseline;
 * - environment channel (`temp_c`, `rh_pct`): mean of its readings over all exposure frames;
 * - NaN readings (failed readings) are left out of medians and means;
 * - label: the sample's label, which all its frames must share.
 * A sample without baseline or exposure frames, a channel without a valid reading where one is needed, a
 * zero R0 or a label that changes within a sample gives `{ ok: false, error }` naming the file, the first
 * line of the sample and the reason. Rows are grouped by the recording's file name (see `recordingGroup`).
 * Throws `EnoseError('bad-option')` for a `baselineS` that is not a positive finite number.
 */
export function reduceFrames(recording: FramesRecording, options: ReduceOptions = {}): Result<FeatureTable> {
  return reduceRecordings([recording], options);
}

/**
 * `reduceFrames` over several recordings with the same channels (names and order), concatenated in order.
 * Recordings with different channels give an error naming the first that differs (line 0).
 */
export function reduceRecordings(recordings: readonly FramesRecording[], options: ReduceOptions = {}): Result<FeatureTable> {
  const baselineS = options.baselineS ?? 30;
  if (!(Number.isFinite(baselineS) && baselineS > 0)) {
    throw new EnoseError('bad-option', `baselineS must be a positive number of seconds, got ${baselineS}`);
  }
  if (recordings.length === 0) return fail({ file: '', line: 0, reason: 'no recordings to reduce' });
  const channels = recordings[0].channels;
  const width = channels.length;
  for (const recording of recordings) {
    if (!sameChannels(recording.channels, channels)) {
      return fail({
        file: recording.source,
        line: 0,
        reason: `its channels (${recording.channels.join(',')}) differ from those of ${recordings[0].source} (${channels.join(',')})`,
      });
    }
  }
  const environment = channels.map(isEnvironmentChannel);

  let maxFrames = 0;
  const perRecording = recordings.map((recording) => {
    const samples = groupSamples(recording.frames);
    for (const indices of samples.values()) maxFrames = Math.max(maxFrames, indices.length);
    return samples;
  });
  const count = perRecording.reduce((sum, samples) => sum + samples.size, 0);
  if (count === 0) {
    return fail({ file: recordings[0].source, line: 0, reason: 'no samples: every frame has an empty sample id' });
  }

  const x = new Float64Array(count * width);
  const labels: string[] = [];
  const sampleIds: string[] = [];
  const groups: string[] = [];
  const scratch = new Float64Array(maxFrames);
  const baseline: RecordedFrame[] = [];
  const exposure: RecordedFrame[] = [];
  let row = 0;
  for (let r = 0; r < recordings.length; r++) {
    const recording = recordings[r];
    const frames = recording.frames;
    const group = recordingGroup(recording.source);
    for (const [sample, indices] of perRecording[r]) {
      const first = frames[indices[0]];
      const where = (reason: string): { ok: false; error: DataIssue } =>
        fail({ file: recording.source, line: first.line ?? 0, reason: `sample ${JSON.stringify(sample)}: ${reason}` });

      baseline.length = 0;
      exposure.length = 0;
      for (const index of indices) {
        const frame = frames[index];
        if (frame.label !== first.label) {
          return where(`label ${JSON.stringify(frame.label)}${lineNote(frame)} differs from ${JSON.stringify(first.label)}`);
        }
        const phase: Phase = frame.phase ?? (frame.tS - first.tS < baselineS ? 'B' : 'E');
        if (phase === 'B') baseline.push(frame);
        else if (phase === 'E') exposure.push(frame);
      }
      const timed = first.phase === null;
      if (baseline.length === 0) return where(timed ? `no frames in its first ${baselineS} s (baseline)` : 'no baseline (B) frames');
      if (exposure.length === 0) return where(timed ? `no frames after its first ${baselineS} s (exposure)` : 'no exposure (E) frames');

      const offset = row * width;
      const tailStart = exposure.length - Math.ceil(exposure.length / 3);
      for (let c = 0; c < width; c++) {
        if (environment[c]) {
          const mean = meanOf(exposure, 0, c);
          if (Number.isNaN(mean)) return where(`channel ${JSON.stringify(channels[c])} has no valid reading in the exposure`);
          x[offset + c] = mean;
          continue;
        }
        const r0 = medianOf(baseline, c, scratch);
        if (Number.isNaN(r0)) return where(`channel ${JSON.stringify(channels[c])} has no valid reading in the baseline`);
        if (r0 === 0) return where(`channel ${JSON.stringify(channels[c])} has a baseline R0 of 0, so its fractional change is undefined`);
        const steady = meanOf(exposure, tailStart, c);
        if (Number.isNaN(steady)) return where(`channel ${JSON.stringify(channels[c])} has no valid reading in the last third of the exposure`);
        x[offset + c] = (steady - r0) / r0;
      }
      labels.push(first.label);
      sampleIds.push(sample);
      groups.push(group);
      row++;
    }
  }
  return ok({
    source: recordings.map((recording) => recording.source).join(','),
    featureNames: reducedFeatureNames(channels),
    width,
    count,
    x,
    labels,
    samples: sampleIds,
    groups,
  });
}

/**
 * The group of a recording's rows: its file name without folder and extension; for a file named
 * `frames.csv` (a recording directory's) the name of its folder instead.
 */
export function recordingGroup(source: string): string {
  const parts = source.split(/[\\/]+/).filter((part) => part !== '');
  const name = parts.length > 0 ? parts[parts.length - 1] : source;
  const dot = name.lastIndexOf('.');
  const base = dot > 0 ? name.slice(0, dot) : name;
  return base === 'frames' && parts.length > 1 ? parts[parts.length - 2] : base;
}

/** Frame indices of each non-empty sample id, in order of first appearance. */
function groupSamples(frames: readonly RecordedFrame[]): Map<string, number[]> {
  const samples = new Map<string, number[]>();
  for (let i = 0; i < frames.length; i++) {
    const id = frames[i].sample;
    if (id === '') continue;
    const indices = samples.get(id);
    if (indices === undefined) samples.set(id, [i]);
    else indices.push(i);
  }
  return samples;
}

/** Median of channel `c` over the frames, NaN readings left out; NaN when none is valid. */
function medianOf(frames: readonly RecordedFrame[], c: number, scratch: Float64Array): number {
  let n = 0;
  for (const frame of frames) {
    const v = frame.values[c];
    if (!Number.isNaN(v)) scratch[n++] = v;
  }
  if (n === 0) return NaN;
  const sorted = scratch.subarray(0, n).sort();
  const mid = n >> 1;
  return n % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Mean of channel `c` over frames[from..], NaN readings left out; NaN when none is valid. */
function meanOf(frames: readonly RecordedFrame[], from: number, c: number): number {
  let sum = 0;
  let n = 0;
  for (let i = from; i < frames.length; i++) {
    const v = frames[i].values[c];
    if (!Number.isNaN(v)) {
      sum += v;
      n++;
    }
  }
  return n === 0 ? NaN : sum / n;
}

function lineNote(frame: RecordedFrame): string {
  return frame.line === undefined ? '' : ` at line ${frame.line}`;
}
