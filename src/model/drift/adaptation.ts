/**
 * Adaptation during operation (optional per deployment): the engine keeps a running mean of the features of
 * recent `clear` samples and moves the scaler's mean by the drift it shows since adaptation started, slowly
 * and within bounds. The clear containers play the part of the reference gas of component correction
 * (Artursson et al., J. Chemometrics 14 (2000) 711-723); the running mean is exponentially weighted.
 *
 * Guard: only samples whose verdict is `clear`, whose novelty is low and whose suspicious score is well below
 * the threshold are used; each sample's deviation is clipped; each step and the total shift are capped, so a
 * run of suspicious containers (not clear: ignored) or of odd clear ones (clipped, capped) cannot drag it.
 *
 * Those guards are not enough (measured on the container simulator, datasets/README.md: every model measured went
 * to 58-76 % false alarms within a day), so the engine also keeps the parent model and judges each sample with
 * it once adaptation has moved: a sample the parent flags is never cleared by the adapted model (the engine
 * makes it inconclusive, `adaptation-disagrees`), and `watchAddedAlarms` stops adaptation for good when it adds
 * alarms to more than a small share of recent samples.
 *
 * Pure functions on preallocated state: `observeSample` and `applyAdaptation` allocate nothing. The engine
 * calls them after each verdict:
 *   const state = createAdaptation(bundle, compiled);            // once
 *   observeSample(state, features, 0, verdict, score, novelty);  // after decideVerdict
 *   applyAdaptation(state, compiled);                            // the next prediction uses the shift
 */
import { EnoseError } from '../../errors.js';
import type { VerdictKind } from '../../types.js';
import type { ModelBundle } from '../runtime/bundle.js';
import { withScaler } from './correction.js';
import { signedLog, type CompiledModel } from '../runtime/pipeline.js';

export interface AdaptationOptions {
  /** Accepted clear samples averaged to fix the starting point before anything moves. @default 50 */
  readonly warmupSamples?: number;
  /** Weight of each accepted sample in the running mean. @default 0.02 */
  readonly rate?: number;
  /** Largest change of the shift per accepted sample, in training standard deviations. @default 0.01 */
  readonly maxStepSd?: number;
  /** Largest total shift per feature, in training standard deviations. @default 0.5 */
  readonly maxShiftSd?: number;
  /** Samples with novelty above this (1 = the novelty limit) are not used. @default 0.8 */
  readonly maxNovelty?: number;
  /** Samples with P(suspicious) above this share of the policy threshold are not used. @default 0.5 */
  readonly maxScoreShare?: number;
  /** A sample's deviation from the running mean is clipped at this many standard deviations. @default 3 */
  readonly clipSd?: number;
  /** Watchdog: judged samples over which the alarms adaptation added are counted. @default 200 */
  readonly watchSamples?: number;
  /**
   * Watchdog: largest share of the last `watchSamples` judged samples that the adapted model may flag while the
   * parent model calls them clear; above it adaptation stops and the model goes back to the parent. @default 0.02
   */
  readonly maxAddedAlarmShare?: number;
}

const DEFAULTS: Required<AdaptationOptions> = Object.freeze({
  warmupSamples: 50,
  rate: 0.02,
  maxStepSd: 0.01,
  maxShiftSd: 0.5,
  maxNovelty: 0.8,
  maxScoreShare: 0.5,
  clipSd: 3,
  watchSamples: 200,
  maxAddedAlarmShare: 0.02,
});

/** Why a sample was or was not used. */
export type AdaptationDecision = 'accepted' | 'warm-up' | 'not-clear' | 'novel' | 'score-too-high' | 'invalid' | 'stopped';

export interface AdaptationState {
  readonly options: Readonly<Required<AdaptationOptions>>;
  readonly width: number;
  readonly transform: ModelBundle['transform'];
  /** The model's scaler (its input statistics before adaptation). */
  readonly mean: Float64Array;
  readonly scale: Float64Array;
  /** P(suspicious) threshold of the model's policy. */
  readonly threshold: number;
  /** The compiled model's offset before adaptation. */
  readonly baseOffset: Float64Array;
  /** Mean of the warm-up samples (model input units). */
  readonly start: Float64Array;
  /** Running mean of accepted clear samples. */
  readonly running: Float64Array;
  /** The shift applied to the scaler's mean. */
  readonly shift: Float64Array;
  /** Scratch: the transformed sample. */
  readonly row: Float64Array;
  warmup: number;
  accepted: number;
  rejected: number;
  /** Watchdog ring over the last `watchSamples` judged samples: 1 where adaptation added an alarm. */
  readonly added: Uint8Array;
  addedIndex: number;
  addedCount: number;
  /** Set when the watchdog stopped adaptation: the model is the parent's again and nothing moves any more. */
  stopped: boolean;
}

/**
 * Adaptation state for a model and its compiled form (the one the engine predicts with). Throws EnoseError when
 * the model has no verdict policy: without `clear` verdicts there is nothing to adapt on.
 */
export function createAdaptation(bundle: ModelBundle, model: CompiledModel, options: AdaptationOptions = {}): AdaptationState {
  if (!bundle.policy) throw new EnoseError('bad-option', 'adaptation needs a model with a suspicious/clear policy (it learns from clear verdicts)');
  const o = { ...DEFAULTS, ...options };
  const positive = (name: keyof AdaptationOptions, v: number, max = Infinity) => {
    if (!(v > 0 && v <= max)) throw new EnoseError('bad-option', `adaptation ${name} must be in (0, ${max}], got ${v}`);
  };
  if (!Number.isInteger(o.warmupSamples) || o.warmupSamples < 1) throw new EnoseError('bad-option', `adaptation warmupSamples must be a positive integer, got ${o.warmupSamples}`);
  positive('rate', o.rate, 1);
  positive('maxStepSd', o.maxStepSd);
  positive('maxShiftSd', o.maxShiftSd);
  positive('maxNovelty', o.maxNovelty);
  positive('maxScoreShare', o.maxScoreShare, 1);
  positive('clipSd', o.clipSd);
  positive('maxAddedAlarmShare', o.maxAddedAlarmShare, 1);
  if (!Number.isInteger(o.watchSamples) || o.watchSamples < 1) throw new EnoseError('bad-option', `adaptation watchSamples must be a positive integer, got ${o.watchSamples}`);
  const width = bundle.input.featureNames.length;
  if (model.width !== width) throw new EnoseError('model-mismatch', 'the compiled model is not this bundle');
  return {
    options: Object.freeze(o),
    width,
    transform: bundle.transform,
    mean: Float64Array.from(bundle.scaler.mean),
    scale: Float64Array.from(bundle.scaler.scale),
    threshold: bundle.policy.threshold,
    baseOffset: Float64Array.from(model.offset),
    start: new Float64Array(width),
    running: new Float64Array(width),
    shift: new Float64Array(width),
    row: new Float64Array(width),
    warmup: 0,
    accepted: 0,
    rejected: 0,
    added: new Uint8Array(o.watchSamples),
    addedIndex: 0,
    addedCount: 0,
    stopped: false,
  };
}

/**
 * Offers one judged sample (its raw feature row at `features[offset ..]`, its verdict, P(suspicious) and
 * novelty as `decideVerdict` and `noveltyOfLast` gave them). Updates the running mean and the shift when the
 * guard lets it through; call `applyAdaptation` afterwards to move the compiled model.
 */
export function observeSample(
  state: AdaptationState,
  features: Float64Array,
  offset: number,
  verdict: VerdictKind | null,
  score: number | null,
  novelty: number,
): AdaptationDecision {
  const o = state.options;
  let why: AdaptationDecision | null = null;
  if (state.stopped) why = 'stopped';
  else if (verdict !== 'clear') why = 'not-clear';
  else if (novelty > o.maxNovelty) why = 'novel';
  else if (score === null || !(score <= o.maxScoreShare * state.threshold)) why = 'score-too-high';
  const { width, row, running, start, shift, scale } = state;
  if (why === null) {
    for (let j = 0; j < width; j++) {
      const v = features[offset + j];
      if (!Number.isFinite(v)) {
        why = 'invalid';
        break;
      }
      row[j] = state.transform === 'signed-log' ? signedLog(v) : v;
    }
  }
  if (why !== null) {
    state.rejected++;
    return why;
  }
  if (state.warmup < o.warmupSamples) {
    state.warmup++;
    for (let j = 0; j < width; j++) start[j] += (row[j] - start[j]) / state.warmup;
    if (state.warmup === o.warmupSamples) running.set(start);
    return 'warm-up';
  }
  for (let j = 0; j < width; j++) {
    const s = scale[j];
    const clip = o.clipSd * s;
    let d = row[j] - running[j];
    if (d > clip) d = clip;
    else if (d < -clip) d = -clip;
    running[j] += o.rate * d;
    const cap = o.maxShiftSd * s;
    let target = running[j] - start[j];
    if (target > cap) target = cap;
    else if (target < -cap) target = -cap;
    const stepCap = o.maxStepSd * s;
    let step = target - shift[j];
    if (step > stepCap) step = stepCap;
    else if (step < -stepCap) step = -stepCap;
    shift[j] += step;
  }
  state.accepted++;
  return 'accepted';
}

/** Writes the adapted offset into the compiled model (its scaler mean moved by the shift); no allocation. */
export function applyAdaptation(state: AdaptationState, model: CompiledModel): void {
  const { width, shift, baseOffset } = state;
  const { projection, offset, components } = model;
  for (let c = 0; c < components; c++) {
    let s = baseOffset[c];
    const base = c * width;
    for (let j = 0; j < width; j++) s -= projection[base + j] * shift[j];
    offset[c] = s;
  }
}

/** The largest shift of a feature's mean so far, in training standard deviations. */
export function largestShiftSd(state: AdaptationState): number {
  let m = 0;
  for (let j = 0; j < state.width; j++) {
    const s = state.scale[j];
    if (s > 0) m = Math.max(m, Math.abs(state.shift[j]) / s);
  }
  return m;
}

/**
 * The watchdog. A moved model's scores shift by a fraction of their spread, and a classifier can be far more
 * sensitive than that in some directions: on the container simulator a random shift of 0.2 standard deviation
 * in the leading components took a shipped model from 0.9 % to 21 % false alarms, and the running mean of a
 * few hundred clear samples is that noisy. So the engine also judges each sample with the parent model (after
 * the verdict) and reports here whether the adapted model flagged it (`adaptedSuspicious`) where the parent
 * called it clear (`parentClear`). When more than `maxAddedAlarmShare` of the last `watchSamples` judged samples
 * are such added alarms, adaptation stops: the compiled model is put back to the parent's and stays so.
 * Returns true when this call stopped it. Allocation-free.
 */
export function watchAddedAlarms(state: AdaptationState, model: CompiledModel, adaptedSuspicious: boolean, parentClear: boolean): boolean {
  if (state.stopped) return false;
  const { added } = state;
  const now = adaptedSuspicious && parentClear ? 1 : 0;
  state.addedCount += now - added[state.addedIndex];
  added[state.addedIndex] = now;
  state.addedIndex = (state.addedIndex + 1) % added.length;
  if (state.addedCount > state.options.maxAddedAlarmShare * added.length) {
    state.stopped = true;
    model.offset.set(state.baseOffset);
    state.shift.fill(0);
    return true;
  }
  return false;
}

/** Puts the compiled model back as it was before adaptation and forgets what was learnt. */
export function resetAdaptation(state: AdaptationState, model: CompiledModel): void {
  state.start.fill(0);
  state.running.fill(0);
  state.shift.fill(0);
  state.warmup = 0;
  state.accepted = 0;
  state.rejected = 0;
  state.added.fill(0);
  state.addedIndex = 0;
  state.addedCount = 0;
  state.stopped = false;
  model.offset.set(state.baseOffset);
}

/**
 * The adapted model as a bundle of its own (scaler mean moved by the shift), so that verdicts given after
 * adaptation can name the exact model: its lineage records the parent and the samples the shift rests on.
 */
export function adaptedBundle(parent: ModelBundle, state: AdaptationState): ModelBundle {
  const mean = Array.from(state.mean, (m, j) => m + state.shift[j]);
  return withScaler(parent, { mean, scale: Array.from(state.scale) }, {
    parent: parent.hash,
    method: `online-adaptation(accepted=${state.accepted}, warmup=${state.warmup}, rate=${state.options.rate}${state.stopped ? ", stopped by its watchdog: the parent's scaler" : ""})`,
    reference: null,
  });
}
