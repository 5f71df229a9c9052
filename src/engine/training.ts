/**
 * Training on frames goes through the live engine's own feature path: every recorded cycle is replayed
 * through the engine core in feature-only mode, so a model sees in training exactly the features it will
 * see live.
 */
import { EnoseError } from '../errors.js';
import type { ModelInput, ModelLimits } from '../model/runtime/bundle.js';
import { sortedQuantile } from '../model/numeric/quantile.js';
import { DEFAULT_CYCLE_LIMITS } from '../signal/cycle.js';
import { sampleFeatureNames } from '../signal/extractor.js';
import { DEFAULT_EXTRACTOR, defaultGateLimits, type ExtractorConfig, type GateLimits } from '../signal/features.js';
import type { FeatureTable, RigInfo, SourceEvent, VerdictReason } from '../types.js';
import { EngineCore, type CycleFeaturesRecord } from './core.js';
import { modelRigOf } from './rigFit.js';
import type { ModelRig } from '../model/runtime/rigFingerprint.js';
import { learnRigLimits, type RigLimits } from './rigLimits.js';

export type GateReason = 'channel-saturated' | 'channel-dead' | 'channel-spiking' | 'baseline-unstable';
export const GATE_REASONS: readonly GateReason[] = ['channel-saturated', 'channel-dead', 'channel-spiking', 'baseline-unstable'];

export interface TrainingSetOptions {
  readonly extractor?: Partial<ExtractorConfig>;
  /** Channel gates to report but not act on, in training and in the model's verdicts. */
  readonly ignoreGates?: readonly GateReason[];
  /**
   * The baseline-unstable limit is fitted here: this quantile of the training cycles' baseline drift, never
   * below the default limit (5 % of R0). Carry-over from a strongly smelling container moves the next
   * baseline; a model trained with such cycles may judge them, and only a baseline that moves more than
   * the training baselines did is `baseline-unstable`. 0 keeps the default limit. @default 0.99
   */
  readonly baselineDriftQuantile?: number;
  /**
   * Gates that fit the rig: learn each channel's limits from the recordings (`learnRigLimits`), leave out the
   * channels dead in all of them, and store both in the model. Off: the fixed limits (the shipped models). @default false
   */
  readonly learnGates?: boolean;
  /** Limits already learned (by `extractTrainingSet` with `learnGates`, or by a caller running workers). */
  readonly rigLimits?: RigLimits;
}

export interface SkippedCycle {
  readonly group: string;
  readonly sample: string;
  readonly label?: string;
  readonly reasons: readonly (VerdictReason | 'no-label')[];
}

export interface TrainingSet {
  readonly table: FeatureTable;
  readonly input: ModelInput;
  readonly limits: ModelLimits;
  readonly skipped: readonly SkippedCycle[];
  readonly rig: RigInfo;
  /** The rig's identity and the fingerprint of the training cycles (null without a gas channel). */
  readonly modelRig: ModelRig | null;
  /** Channels dead in all of training, left out of the model (with `learnGates`). */
  readonly dropped: RigLimits['dead'];
}

/** One recording's events (info first, then frames) and the group its cycles belong to (its file name). */
export interface TrainingRecording {
  readonly group: string;
  readonly events: Iterable<SourceEvent>;
}

/** Margin added around the environment ranges seen in training before a cycle is out of range. */
function environmentMargin(channel: string, min: number, max: number): number {
  const unit = channel === 'rh_pct' ? 5 : 2; // 5 %RH, 2 degC
  return Math.max(unit, 0.1 * (max - min));
}

/**
 * Extracts one feature row per cycle of the recordings. Cycles with quality problems or without a label are
 * skipped and listed (never silently). All recordings must have the same channels.
 */
export function extractTrainingSet(recordings: readonly TrainingRecording[], options: TrainingSetOptions = {}): TrainingSet {
  const withLimits = withRigLimits(recordings, options);
  return assembleTrainingSet(recordings.map((r) => extractRecordingCycles(r, withLimits)), withLimits);
}

/** The options with the rig's limits learned from the recordings, when `learnGates` asks for them. */
export function withRigLimits(recordings: readonly TrainingRecording[], options: TrainingSetOptions): TrainingSetOptions {
  if (options.learnGates !== true || options.rigLimits) return options;
  let channels: readonly string[] | null = null;
  for (const r of recordings) {
    for (const e of r.events) {
      if (e.type === 'info') channels ??= e.channels;
      break;
    }
  }
  if (!channels) return options;
  return { ...options, rigLimits: learnRigLimits(channels, recordings.map((r) => r.events)) };
}

/** The extractor settings of a training run: the defaults, the options, and the dead channels left out. */
function extractorOfOptions(options: TrainingSetOptions): ExtractorConfig {
  const dead = options.rigLimits?.dead ?? [];
  return { ...DEFAULT_EXTRACTOR, ...options.extractor, ...(dead.length > 0 && { dropChannels: dead.map((d) => d.channel) }) };
}

/** True when some feature is measured against the baseline (a whole-sample-only model reads none). */
function usesBaseline(e: ExtractorConfig): boolean {
  return (e.summaryFeatures ?? true) || (e.windowS ?? 0) > 0 || (e.recoveryWindowS ?? 0) > 0 || (e.baselineWindowS ?? 0) > 0;
}

/** The gates a model reports but does not act on: the options', and the baseline's when no feature uses it. */
function ignoredGatesOf(options: TrainingSetOptions): GateReason[] {
  const given = [...(options.ignoreGates ?? [])];
  return usesBaseline(extractorOfOptions(options)) || given.includes('baseline-unstable') ? given : [...given, 'baseline-unstable'];
}

/** What training reads of a cycle's record (`CycleFeaturesRecord`): the packed rows of trainingRows.ts give the same. */
export type TrainingCandidate = Pick<CycleFeaturesRecord, 'sample' | 'label' | 'features' | 'exposureS' | 'baselineDrift' | 'rigValues'>;

/** What one recording gave (`extractRecordingCycles`): candidate cycles, skipped ones, the rig it was made on. */
export interface RecordingCycles {
  readonly group: string;
  readonly candidates: readonly TrainingCandidate[];
  readonly skipped: readonly SkippedCycle[];
  readonly rig: RigInfo | null;
}

/**
 * The expensive half of `extractTrainingSet`, one recording at a time: its cycles through the engine core in
 * feature-only mode. Recordings are independent here, so a caller may run them on worker threads and hand the
 * results, in recording order, to `assembleTrainingSet`: the training set is then the same, bit for bit.
 */
export function extractRecordingCycles(recording: TrainingRecording, options: TrainingSetOptions = {}): RecordingCycles {
  const candidates: CycleFeaturesRecord[] = [];
  const { skipped, rig } = forEachRecordingCycle(recording, options, (record) => candidates.push(record));
  return { group: recording.group, candidates, skipped, rig };
}

/**
 * The loop of `extractRecordingCycles`: every cycle fit for training goes to `onCandidate` as it ends (its record
 * is the caller's to keep), the others are listed as skipped. The events are read once, in order, and none is kept.
 */
export function forEachRecordingCycle(
  recording: TrainingRecording,
  options: TrainingSetOptions,
  onCandidate: (record: CycleFeaturesRecord) => void,
): { skipped: SkippedCycle[]; rig: RigInfo | null } {
  const extractor = extractorOfOptions(options);
  const skipped: SkippedCycle[] = [];
  let rig: RigInfo | null = null;
  const group = recording.group;
  const learned = options.rigLimits?.channels;
  const core = new EngineCore(null, { extractor, emitFrames: false, ignoreGates: passGatesOf(options), ...(learned && { channelLimits: learned }) }, () => undefined, (record) => {
    const reasons: (VerdictReason | 'no-label')[] = [...record.reasons];
    if (record.label === undefined || record.label === '') reasons.push('no-label');
    if (reasons.length > 0) skipped.push({ group, sample: record.sample, ...(record.label !== undefined && { label: record.label }), reasons });
    else onCandidate(record);
  });
  for (const event of recording.events) {
    if (event.type === 'info') {
      const { type: _t, atMs: _a, ...info } = event;
      if (rig && rig.channels.join() !== info.channels.join()) {
        throw new EnoseError('bad-data', `${group}: channels ${info.channels.join(',')} differ from ${rig.channels.join(',')} earlier in the recording`);
      }
      rig ??= info;
    }
    core.push(event);
  }
  core.end();
  return { skipped, rig };
}

/** The gates training passes over: the ignored ones, and the baseline gate (applied once its limit is fitted). */
function passGatesOf(options: TrainingSetOptions): GateReason[] {
  const ignoreGates = ignoredGatesOf(options);
  const driftQuantile = options.baselineDriftQuantile ?? 0.99;
  return driftQuantile > 0 && !ignoreGates.includes('baseline-unstable') ? [...ignoreGates, 'baseline-unstable'] : [...ignoreGates];
}

/** The cheap half of `extractTrainingSet`: the recordings' cycles (in recording order) into one training set. */
export function assembleTrainingSet(parts: readonly RecordingCycles[], options: TrainingSetOptions = {}): TrainingSet {
  const extractor = extractorOfOptions(options);
  const ignoreGates = ignoredGatesOf(options);
  const driftQuantile = options.baselineDriftQuantile ?? 0.99;
  const passGates = passGatesOf(options);
  const candidates: { record: TrainingCandidate; group: string }[] = [];
  const skipped: SkippedCycle[] = [];
  let rig: RigInfo | null = null;
  for (const part of parts) {
    if (part.rig) {
      if (rig && rig.channels.join() !== part.rig.channels.join()) {
        throw new EnoseError('bad-data', `${part.group}: channels ${part.rig.channels.join(',')} differ from ${rig.channels.join(',')} of the other recordings`);
      }
      rig ??= part.rig;
    }
    for (const record of part.candidates) candidates.push({ record, group: part.group });
    for (const s of part.skipped) skipped.push(s);
  }
  if (!rig) throw new EnoseError('empty-data', `${parts.map((r) => r.group).join(', ')}: no frames`);
  const gates: { -readonly [K in keyof GateLimits]: GateLimits[K] } = { ...defaultGateLimits(rig.unit) };
  let rows = candidates;
  if (passGates.length > ignoreGates.length && candidates.length > 0) {
    const drifts = Float64Array.from(candidates, (r) => r.record.baselineDrift).sort();
    const q = sortedQuantile(drifts, driftQuantile);
    if (q > gates.maxBaselineDrift) gates.maxBaselineDrift = q;
    rows = [];
    for (const r of candidates) {
      if (r.record.baselineDrift > gates.maxBaselineDrift) skipped.push({ group: r.group, sample: r.record.sample, label: r.record.label!, reasons: ['baseline-unstable'] });
      else rows.push(r);
    }
  }
  if (rows.length === 0) {
    const why = skipped.slice(0, 3).map((s) => `${s.sample}: ${s.reasons.join('+')}`).join('; ');
    throw new EnoseError('empty-data', `no usable cycle to train on (${skipped.length} skipped${why ? `: ${why}` : ''})`);
  }
  const names = sampleFeatureNames(rig.channels, extractor);
  const width = names.length;
  const x = new Float64Array(rows.length * width);
  rows.forEach((r, i) => x.set(r.record.features, i * width));
  const environment: Record<string, { min: number; max: number }> = {};
  names.forEach((n, j) => {
    if (!n.endsWith(':mean')) return;
    const channel = n.slice(0, -5);
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < rows.length; i++) {
      min = Math.min(min, x[i * width + j]);
      max = Math.max(max, x[i * width + j]);
    }
    const margin = environmentMargin(channel, min, max);
    environment[channel] = { min: min - margin, max: max + margin };
  });
  const exposures = rows.map((r) => r.record.exposureS);
  const table: FeatureTable = {
    source: parts.map((r) => r.group).join(','),
    featureNames: names,
    width,
    count: rows.length,
    x,
    labels: rows.map((r) => r.record.label!),
    samples: rows.map((r) => r.record.sample),
    groups: rows.map((r) => r.group),
  };
  return {
    table,
    input: {
      kind: 'frames',
      channels: [...rig.channels],
      featureNames: names,
      extractor: { ...extractor, emaAlphas: [...extractor.emaAlphas], ...(extractor.dropChannels && { dropChannels: [...extractor.dropChannels] }) },
    },
    limits: {
      environment,
      // a loop, not Math.min(...exposures): a spread of 140,000 samples overflows the call stack
      exposureS: { min: exposures.reduce((a, b) => Math.min(a, b), Infinity), max: exposures.reduce((a, b) => Math.max(a, b), -Infinity) },
      gates,
      cycle: { ...DEFAULT_CYCLE_LIMITS },
      ignoreGates,
      ...(options.rigLimits && { channels: options.rigLimits.channels }),
    },
    skipped,
    rig,
    modelRig: modelRigOf(rig, rows.map((r) => r.record.rigValues), table.source),
    dropped: options.rigLimits?.dead ?? [],
  };
}
