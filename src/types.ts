/** Shared vocabulary of the engine: what flows from bytes to verdicts. */

/** Phase of a sampling cycle: idle, baseline (clean air), exposure (sample air), recovery. */
export type Phase = 'I' | 'B' | 'E' | 'R';
export const PHASES: readonly Phase[] = ['I', 'B', 'E', 'R'];

/** Channel names that are environment readings, not gas sensors. */
export const ENVIRONMENT_CHANNELS: readonly string[] = ['temp_c', 'rh_pct'];

export function isEnvironmentChannel(name: string): boolean {
  return ENVIRONMENT_CHANNELS.includes(name);
}

/** One reading of every channel of the array; `NaN` marks a failed reading. */
export interface Frame {
  /** Rig sequence number (uint32, wraps), or the row index for data without one. */
  readonly seq: number;
  /** Rig monotonic time in milliseconds (uint32, wraps), or the file's time in ms. */
  readonly tMs: number;
  readonly phase: Phase;
  /** One value per channel, in the order of the rig's channel list. */
  readonly values: Float64Array;
}

/** A frame as read from a frames CSV file: the frame plus the file's sample id, label and time. */
export interface RecordedFrame {
  /** Sample id; empty for frames outside any cycle. */
  readonly sample: string;
  /** Ground-truth label; may be empty. */
  readonly label: string;
  /** Host time in seconds, rising within a sample. */
  readonly tS: number;
  /** Phase from the file, or null when the file has no `phase` column. */
  readonly phase: Phase | null;
  readonly seq: number | null;
  readonly tRigMs: number | null;
  readonly values: Float64Array;
  /** 1-based line of the frame in its file, when read from one (for error messages). */
  readonly line?: number;
}

/** A frames CSV file, read whole. */
export interface FramesRecording {
  readonly source: string;
  readonly channels: readonly string[];
  readonly frames: readonly RecordedFrame[];
}

/**
 * Feature vectors, one row per sample, stored row-major in one flat array so that the model's loops run
 * on typed arrays: row i is `x.subarray(i * width, (i + 1) * width)`.
 */
export interface FeatureTable {
  readonly source: string;
  readonly featureNames: readonly string[];
  readonly width: number;
  readonly count: number;
  readonly x: Float64Array;
  readonly labels: readonly string[];
  /** Sample ids (from a `sample` column, else `<file>#<line>`). */
  readonly samples: readonly string[];
  /** Group of each sample for per-batch reports: the file name it came from. */
  readonly groups: readonly string[];
}

export type VerdictKind = 'suspicious' | 'clear' | 'inconclusive';
