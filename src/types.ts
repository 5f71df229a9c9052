/** Shared vocabulary of the engine: what flows from bytes to verdicts. */

/** Phase of a sampling cycle: idle, baseline (clean air), exposure (sample air), recovery. */
export type Phase = 'I' | 'B' | 'E' | 'R';
export const PHASES: readonly Phase[] = ['I', 'B', 'E', 'R'];

/** Channel names that are environment readings, not gas sensors. */
export const ENVIRONMENT_CHANNELS: readonly string[] = ['temp_c', 'rh_pct'];

export function isEnvironmentChannel(name: string): boolean {
  return ENVIRONMENT_CHANNELS.includes(name);
}

/** A station or rig id (verdicts' `station`, MQTT topic levels, URL paths): safe in each without escaping. */
export const STATION_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

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

/** What a rig says about itself (the ENL/1 info line); a replayed file gives the same shape. */
export interface RigInfo {
  /** Protocol name and version, `ENL/1` for rigs; `csv` for plain-CSV rigs; `file` for replays. */
  readonly proto: string;
  readonly rig: string;
  readonly fw: string;
  readonly rateHz: number;
  readonly unit: 'ohm' | 'adc';
  /** Channel names in frame order; `temp_c` and `rh_pct` are environment readings. */
  readonly channels: readonly string[];
}

/** A host-to-rig command. */
export type RigCommand =
  | { readonly command: 'START'; readonly sampleId: string }
  | { readonly command: 'STOP' }
  | { readonly command: 'INFO' }
  /** The host's verdict is in: the rig ends the exposure now and the recovery once clean (ENL/1 `END`). */
  | { readonly command: 'END'; readonly reason: string };

/** The fixed names of line-level problems, used in events, metrics and tests. */
export type LinkIssueKind = 'too-long' | 'bad-checksum' | 'malformed' | 'wrong-channel-count' | 'repeated-seq' | 'no-info';

/**
 * What the engine takes from a rig's info line, bounded: its buffers are sized by the rate (frames per window)
 * and the channel count. The ENL/1 codec refuses lines beyond these (`malformed`), the engine any other source's.
 */
export const RIG_INFO_LIMITS = Object.freeze({ minRateHz: 0.001, maxRateHz: 1000, maxChannels: 256, maxNameChars: 64 });

/** Link state of a source. */
export type LinkState = 'connected' | 'disconnected' | 'reconnecting';

/**
 * What a FrameSource delivers, in order. `atMs` is the host's monotonic time (performance.now()) when the
 * event's bytes arrived: verdict latency is measured from it.
 */
export type SourceEvent =
  | ({ readonly type: 'info'; readonly atMs: number } & RigInfo)
  | {
      readonly type: 'frame';
      readonly atMs: number;
      readonly seq: number;
      readonly tMs: number;
      readonly phase: Phase;
      /** One value per channel of the last info; NaN for a failed reading. Owned by the receiver. */
      readonly values: Float64Array;
      /** Sample id and label from a recording's columns (replay only). */
      readonly sample?: string;
      readonly label?: string;
    }
  /** A line-level problem; `count` (absent: 1) when a run of identical ones (kind and detail) is reported once, `line` its first. */
  | { readonly type: 'issue'; readonly atMs: number; readonly kind: LinkIssueKind; readonly line: string; readonly detail: string; readonly count?: number }
  | { readonly type: 'gap'; readonly atMs: number; readonly fromSeq: number; readonly toSeq: number; readonly lost: number }
  | { readonly type: 'state'; readonly atMs: number; readonly state: LinkState; readonly detail: string }
  /** The rig restarted (a new info line): a cycle in progress is cut. */
  | { readonly type: 'reboot'; readonly atMs: number }
  | { readonly type: 'ack'; readonly atMs: number; readonly command: string; readonly ok: boolean; readonly detail: string };

/**
 * Where frames come from: a serial rig, a replayed recording, or an array in memory. The engine sees only
 * this interface, never serialport or files.
 */
export interface FrameSource {
  /** For logs and the recording's meta: e.g. `serial:/dev/ttyUSB0`, `replay:run1/frames.csv`. */
  readonly description: string;
  /**
   * Delivers events to `emit` in order until the source ends (end of a replay) or `signal` aborts; resolves
   * then. A serial source does not end on a disconnect: it reports `state` events and reconnects.
   */
  run(emit: (event: SourceEvent) => void, signal: AbortSignal): Promise<void>;
  /** Sends a command to the rig. Sources without a rig (replay, memory) reject with EnoseError('bad-usage'). */
  send(command: RigCommand): Promise<void>;
}

/** Where and why the rig ended a cycle (ENL/1 END; src/io/cycleEnd.ts). */
export interface CycleEnded {
  readonly reason: string;
  /** Phase of the last frame before the rig's ack (B, E or R: what END cut), null before any frame. */
  readonly phase: Phase | null;
  /** Seq of that frame, null before any frame. */
  readonly seq: number | null;
  /** Host time the ack arrived (performance.now()). */
  readonly atMs: number;
}

export type CycleEndIssueKind = 'unsupported' | 'refused' | 'timeout' | 'not-connected';

export interface CycleEndIssue {
  readonly kind: CycleEndIssueKind;
  readonly detail: string;
}

/** `Result<CycleEnded, CycleEndIssue>` (errors.ts), spelled out: the vocabulary imports nothing. */
export type CycleEndResult = { readonly ok: true; readonly value: CycleEnded } | { readonly ok: false; readonly error: CycleEndIssue };

/** A source that can tell its rig to end the cycle in progress (src/io/cycleEnd.ts says how). */
export interface CycleEnding {
  /** Sends END with `reason` (`clear`, `suspicious`, ...) and resolves on the rig's answer. */
  endCycle(reason: string): Promise<CycleEndResult>;
  /** Whether the rig takes END: null until it answered one on this connection (the host keeps full cycles while false). */
  readonly endSupported: boolean | null;
}

/** A source with `endCycle` (serial, replay, replay rig), not one without (memory). */
export function canEndCycles(source: FrameSource): source is FrameSource & CycleEnding {
  return typeof (source as Partial<CycleEnding>).endCycle === 'function';
}

/** Why a verdict is what it is: stable, machine-readable reason codes. */
export type VerdictReason =
  | 'suspicious-class'
  | 'clear-class'
  | 'suspicious-class-below-threshold'
  | 'suspicious-classes-outweigh-clear'
  | 'unknown-odour'
  | 'no-policy'
  | 'too-short'
  | 'cut-disconnect'
  | 'cut-reboot'
  | 'cut-stopped'
  | 'lost-frames'
  | 'gap-too-long'
  | 'channel-saturated'
  | 'channel-dead'
  | 'channel-spiking'
  | 'baseline-unstable'
  | 'humidity-out-of-range'
  | 'temperature-out-of-range'
  | 'features-invalid'
  /** With adaptation during operation: the adapted model said clear where the unadapted parent says suspicious. */
  | 'adaptation-disagrees'
  /** The cycle's data is far outside the model's training data (its rig fingerprint): another rig, or one moved far. */
  | 'rig-mismatch';

/** Data quality of one sampling cycle, as the verdict reports it. */
export interface CycleQuality {
  readonly framesB: number;
  readonly framesE: number;
  /** Recovery frames, present when the model's verdict comes after the recovery (recovery-window features). */
  readonly framesR?: number;
  readonly lostFrames: number;
  readonly lostShare: number;
  /** Longest gap between consecutive frames of the B or E phase (and R, with framesR), in seconds. */
  readonly maxGapS: number;
  readonly cut: 'disconnect' | 'reboot' | 'stopped' | null;
  /** Channels that failed a gate, with the gate: e.g. { channel: 'tgs2600_1', gate: 'dead' }. */
  readonly channels: readonly { readonly channel: string; readonly gate: 'saturated' | 'dead' | 'spiking' | 'baseline-unstable' }[];
  /** Distance to the nearest training sample over the model's novelty limit (1 = at the limit; at most 2 = twice the limit or farther, where the search stops), or null. */
  readonly novelty: number | null;
}

/** How many leading PCA scores a verdict carries (`VerdictEvent.pcaScores`): what the score plot and the report draw. */
export const VERDICT_PCA_SCORES = 3;

export interface VerdictEvent {
  readonly type: 'verdict';
  /** The host's monotonic clock (performance.now()) at the verdict: for latencies, not a date. */
  readonly atMs: number;
  /**
   * The wall-clock time of the verdict, ISO 8601 UTC (`2026-12-07T09:15:02.113Z`), from the engine's `wallClock`.
   * Always set by the engine; absent only in verdicts recorded by versions before it.
   */
  readonly wallTime?: string;
  /** The station that judged the sample: the engine's `stationId`, by default the rig's id. Set as `wallTime` is. */
  readonly station?: string;
  readonly sample: string;
  /** Null when the model has no suspicious/clear policy: the verdict then carries the class only. */
  readonly verdict: VerdictKind | null;
  /** Most probable class, or null when no prediction could be made (e.g. a cut cycle). */
  readonly class: string | null;
  /** Class probabilities in the model's class order (empty when no prediction was made). */
  readonly probabilities: Readonly<Record<string, number>>;
  /** P(suspicious classes), or null. */
  readonly score: number | null;
  readonly reasons: readonly VerdictReason[];
  readonly quality: CycleQuality;
  readonly modelId: string;
  /** From the arrival of the frame that ended the exposure to this event, in milliseconds. */
  readonly latencyMs: number;
  readonly frames: { readonly first: number; readonly last: number; readonly count: number };
  /** Label from a recording's `label` column, when replaying labelled data. */
  readonly label?: string;
  /**
   * With adaptation during operation: the clear samples accepted before this verdict, and the largest shift of
   * the scaler's mean they had made, in training standard deviations (the verdict used the model so moved);
   * `stopped` once the watchdog has stopped adaptation (the model is the parent's again: shift 0).
   */
  readonly adaptation?: { readonly accepted: number; readonly largestShiftSd: number; readonly stopped: boolean };
  /**
   * The sample's first PCA scores in the space of the model that judged it (`VERDICT_PCA_SCORES` of them, fewer
   * for a model with fewer components; adaptation's shift included): where it falls on the model's score plot.
   * Null when no prediction was made (`class` null). Always set by the engine; absent only in verdicts recorded
   * by versions before it.
   */
  readonly pcaScores?: readonly number[] | null;
  /**
   * When the verdict was decided: seconds into the cycle (the rig's clock, from the cycle's first frame to the
   * frame that brought the verdict: 90 for a model that decides when the default cycle's exposure ends, 150 for
   * one that decides when its recovery ends; at the end of the data, one frame period after the last frame). Always
   * set by the engine; absent in verdicts recorded before it.
   */
  readonly decidedAtS?: number;
  /** The checkpoint the verdict came at (`VerdictCheckpoint`). Set as `decidedAtS` is. */
  readonly checkpoint?: VerdictCheckpoint;
  /**
   * True for a verdict of an early checkpoint of the engine's early plan (`EngineCoreOptions.early`): the cycle
   * got no other verdict, and the rig may have been told to end it. False otherwise. Set as `decidedAtS` is.
   */
  readonly early?: boolean;
}

/**
 * Where in the cycle a verdict was decided: inside the exposure (a model of its first windows, `decideInExposure`:
 * when its last window completes, 60 s into the default cycle for three 10 s windows), the exposure's end (a model
 * of the exposure), inside the recovery (a model of its first recovery windows, `decideInRecovery`: when its last
 * recovery window completes, 100 s into the default cycle for one 10 s window), the recovery's end (a model of
 * the whole recovery too), the baseline's end (a cycle with no
 * exposure: inconclusive), or a cut (disconnect, reboot, STOP). The end of the data (a recording's last cycle)
 * ends the phase the cycle is in.
 */
export type VerdictCheckpoint = 'baseline-end' | 'in-exposure' | 'exposure-end' | 'in-recovery' | 'recovery-end' | 'cut';

/** Engine events: one flat object each, with the same names in the CLI's JSON, the service and metrics. */
export type EngineEvent =
  | ({ readonly type: 'info'; readonly atMs: number; readonly reboot: boolean } & RigInfo)
  | {
      readonly type: 'frame';
      readonly atMs: number;
      readonly seq: number;
      readonly tMs: number;
      readonly phase: Phase;
      readonly values: Float64Array;
      /** The cycle this frame belongs to, or '' outside any cycle. */
      readonly sample: string;
    }
  | Extract<SourceEvent, { type: 'issue' }>
  | Extract<SourceEvent, { type: 'gap' }>
  | Extract<SourceEvent, { type: 'state' }>
  | { readonly type: 'phase'; readonly atMs: number; readonly sample: string; readonly phase: Phase; readonly seq: number }
  | { readonly type: 'sample-started'; readonly atMs: number; readonly sample: string; readonly seq: number; readonly requested: boolean }
  | VerdictEvent
  | { readonly type: 'over-budget'; readonly atMs: number; readonly sample: string; readonly latencyMs: number; readonly budgetMs: number }
  /**
   * Adaptation during operation stopped by its watchdog after the verdict on `sample`: more than the allowed
   * share of the last `watchSamples` judged samples were flagged by the adapted model and called clear by the
   * parent (`addedAlarms` of them). The model is the parent's again from the next sample on.
   */
  | {
      readonly type: 'adaptation-stopped';
      readonly atMs: number;
      readonly sample: string;
      readonly addedAlarms: number;
      readonly watchSamples: number;
      readonly accepted: number;
      readonly largestShiftSd: number;
    }
  /**
   * Once per run: the rig is not the model's by its identity (at its info line, `sample` ''), or the last cycles'
   * data is far outside the model's training data (after the verdict on `sample`). One readable line in `message`.
   */
  | { readonly type: 'rig-mismatch'; readonly atMs: number; readonly basis: 'identity' | 'data'; readonly sample: string; readonly message: string }
  /**
   * A new rig session the engine has to decide on: the info line changed within the run (channels, rate or unit;
   * the cycle in progress was cut, `cut-reboot`, never clear), or the first info line when its cycles cannot be
   * judged. `judging` says whether cycles are judged from now on; when false, `reason` says why (channels not the
   * model's, a rate or channel count beyond RIG_INFO_LIMITS) and frames are ignored until an info line that fits.
   */
  | { readonly type: 'rig-changed'; readonly atMs: number; readonly judging: boolean; readonly change: string; readonly reason: string }
  /**
   * After an early verdict on `sample`, the engine told the rig to end the cycle (ENL/1 END with `reason`, the
   * verdict): `ended` is where the rig took it (null when it did not), `issue` why not (null when it did): an
   * `unsupported` rig keeps full cycles. A recorder takes `ended` (`recorder.cycleEnd`).
   */
  | {
      readonly type: 'cycle-end';
      readonly atMs: number;
      readonly sample: string;
      readonly reason: string;
      readonly ended: CycleEnded | null;
      readonly issue: CycleEndIssue | null;
    };

export type EngineEventType = EngineEvent['type'];

/** The same channel names in the same order. */
export function sameChannels(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The same rig description, field by field (an identical info line). */
export function sameRigInfo(a: RigInfo, b: RigInfo): boolean {
  return a.proto === b.proto && a.rig === b.rig && a.fw === b.fw && a.rateHz === b.rateHz && a.unit === b.unit && sameChannels(a.channels, b.channels);
}
