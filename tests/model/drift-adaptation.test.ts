/**
 * Adaptation during operation: clear samples move the scaler slowly toward the drift they show; the guard keeps
 * suspicious, novel and extreme samples from dragging it; the compiled model and the snapshot bundle agree.
 */
import { describe, expect, it } from 'vitest';
import {
  adaptedBundle,
  applyAdaptation,
  createAdaptation,
  observeSample,
  resetAdaptation,
  watchAddedAlarms,
  type AdaptationOptions,
} from '../../src/model/drift/adaptation.js';
import type { ModelBundle } from '../../src/model/runtime/bundle.js';
import {
  compileModel,
  compilePolicy,
  decideVerdict,
  noveltyOfLast,
  predictCompiled,
  type CompiledModel,
} from '../../src/model/runtime/pipeline.js';
import { fitModel } from '../../src/model/fitting/fitModel.js';
import type { FeatureTable } from '../../src/types.js';
import { makeClusters } from '../helpers/synthetic.js';

const WIDTH = 6;
const table = makeClusters({ seed: 21, classes: ['clear', 'cocaine'], perClass: 80, width: WIDTH, separation: 2, scale: 10, offset: 100 });
const bundle = fitModel(table, { kind: 'features', featureNames: [...table.featureNames] }, { classifier: 'lda', cvFolds: 3, noveltyQuantile: 0.99 });
const clearRows = Array.from({ length: table.count }, (_, i) => i).filter((i) => table.labels[i] === 'clear');
const suspiciousRows = Array.from({ length: table.count }, (_, i) => i).filter((i) => table.labels[i] !== 'clear');

/** Row `i` of the table moved by `sd` training standard deviations on every feature. */
function drifted(i: number, sd: number): Float64Array {
  return Float64Array.from({ length: WIDTH }, (_, j) => table.x[i * WIDTH + j]! + sd * bundle.scaler.scale[j]!);
}

/** Runs one sample through model, policy and the adaptation, as the engine would. */
function run(model: CompiledModel, state: ReturnType<typeof createAdaptation>, row: Float64Array) {
  const probs = new Float64Array(bundle.classes.length);
  const policy = compilePolicy(bundle);
  const best = predictCompiled(model, row, 0, probs);
  const novelty = noveltyOfLast(model);
  const outcome = decideVerdict(policy, probs, best, novelty);
  const decision = observeSample(state, row, 0, outcome.verdict, outcome.score, novelty);
  applyAdaptation(state, model);
  return { decision, outcome };
}

function setup(options: AdaptationOptions = {}) {
  const model = compileModel(bundle);
  const state = createAdaptation(bundle, model, { warmupSamples: 40, rate: 0.05, maxStepSd: 0.02, ...options });
  // Warm up on undrifted clear samples, then a round of them: nothing should move much.
  for (const i of clearRows) run(model, state, drifted(i, 0));
  return { model, state };
}

function shiftSd(state: ReturnType<typeof createAdaptation>): number[] {
  return Array.from(state.shift, (s, j) => s / bundle.scaler.scale[j]!);
}

describe('adaptation during operation', () => {
  it('follows a slow drift of the clear samples and corrects the model for it', () => {
    const { model, state } = setup();
    expect(state.warmup).toBe(40);
    const still = shiftSd(state).map(Math.abs);
    expect(still.reduce((a, b) => a + b, 0) / WIDTH).toBeLessThan(0.15);
    for (let round = 0; round < 6; round++) for (const i of clearRows) run(model, state, drifted(i, 0.3));
    const shifts = shiftSd(state);
    console.info('adaptation shift (training sd) after a 0.3 sd drift:', shifts.map((s) => s.toFixed(3)).join(' '));
    // Each feature moves most of the way, none past the cap (0.5 sd). Only confidently clear samples count, so
    // the estimate carries some selection bias besides the noise of the running mean.
    const meanShift = shifts.reduce((a, b) => a + b, 0) / WIDTH;
    expect(meanShift).toBeGreaterThan(0.2);
    expect(meanShift).toBeLessThan(0.45);
    for (const s of shifts) expect(s).toBeGreaterThan(0.1);
    for (const s of shifts) expect(s).toBeLessThanOrEqual(0.5 + 1e-12);
    // The adapted model sees drifted clear samples as the parent saw undrifted ones.
    const fresh = compileModel(bundle);
    const p0 = new Float64Array(2);
    const p1 = new Float64Array(2);
    let gap = 0;
    for (const i of clearRows) {
      predictCompiled(fresh, drifted(i, 0), 0, p0);
      predictCompiled(model, drifted(i, 0.3), 0, p1);
      gap = Math.max(gap, Math.abs(p0[0]! - p1[0]!));
    }
    expect(gap).toBeLessThan(0.2);
  });

  it('caps the total shift and each step', () => {
    const { model, state } = setup({ maxShiftSd: 0.25, maxStepSd: 0.01 });
    const before = Float64Array.from(state.shift);
    const first = clearRows[0]!;
    // One clear sample far off: one bounded step.
    const decision = observeSample(state, drifted(first, 1.5), 0, 'clear', 0, 0);
    expect(decision).toBe('accepted');
    for (let j = 0; j < WIDTH; j++) expect(Math.abs(state.shift[j]! - before[j]!)).toBeLessThanOrEqual(0.01 * bundle.scaler.scale[j]! + 1e-12);
    for (let k = 0; k < 2000; k++) observeSample(state, drifted(clearRows[k % clearRows.length]!, 1.5), 0, 'clear', 0, 0);
    for (const s of shiftSd(state)) expect(Math.abs(s)).toBeLessThanOrEqual(0.25 + 1e-12);
    expect(Math.max(...shiftSd(state))).toBeCloseTo(0.25, 6);
    applyAdaptation(state, model);
  });

  it('ignores suspicious, inconclusive, novel and high-score samples: a run of them does not move the model', () => {
    const { model, state } = setup();
    const shift = Float64Array.from(state.shift);
    const offset = Float64Array.from(model.offset);
    const decisions = new Set<string>();
    for (let k = 0; k < 200; k++) {
      const row = drifted(suspiciousRows[k % suspiciousRows.length]!, 0.5);
      decisions.add(run(model, state, row).decision);
    }
    expect(decisions.has('accepted')).toBe(false);
    expect(observeSample(state, drifted(clearRows[0]!, 2), 0, 'inconclusive', 0.1, 0)).toBe('not-clear');
    expect(observeSample(state, drifted(clearRows[0]!, 2), 0, 'clear', 0, 5)).toBe('novel');
    expect(observeSample(state, drifted(clearRows[0]!, 2), 0, 'clear', bundle.policy!.threshold * 0.9, 0)).toBe('score-too-high');
    expect(observeSample(state, Float64Array.from({ length: WIDTH }, () => NaN), 0, 'clear', 0, 0)).toBe('invalid');
    expect(Array.from(state.shift)).toEqual(Array.from(shift));
    expect(Array.from(model.offset)).toEqual(Array.from(offset));
    expect(state.rejected).toBeGreaterThanOrEqual(204);
  });

  it('the compiled model after adaptation predicts as the snapshot bundle does, and reset restores the parent', () => {
    const { model, state } = setup();
    for (const i of clearRows) run(model, state, drifted(i, 0.2));
    const snapshot: ModelBundle = adaptedBundle(bundle, state);
    expect(snapshot.lineage?.parent).toBe(bundle.hash);
    expect(snapshot.lineage?.method).toMatch(/^online-adaptation\(accepted=\d+/);
    const compiledSnapshot = compileModel(snapshot);
    const a = new Float64Array(2);
    const b = new Float64Array(2);
    for (let i = 0; i < table.count; i++) {
      predictCompiled(model, table.x, i * WIDTH, a);
      predictCompiled(compiledSnapshot, table.x, i * WIDTH, b);
      expect(a[0]!).toBeCloseTo(b[0]!, 9);
    }
    resetAdaptation(state, model);
    expect(Array.from(model.offset)).toEqual(Array.from(compileModel(bundle).offset));
  });

  it('the watchdog counts added alarms over a sliding window, stops at the limit, and reset starts it again', () => {
    const { model, state } = setup({ watchSamples: 10, maxAddedAlarmShare: 0.2 });
    for (const i of clearRows) run(model, state, drifted(i, 0.3));
    expect(Array.from(model.offset)).not.toEqual(Array.from(compileModel(bundle).offset));
    // Two added alarms in ten are allowed; they leave the window after ten more samples.
    for (let k = 0; k < 2; k++) expect(watchAddedAlarms(state, model, true, true)).toBe(false);
    for (let k = 0; k < 8; k++) expect(watchAddedAlarms(state, model, true, false)).toBe(false);
    expect(state.addedCount).toBe(2);
    for (let k = 0; k < 10; k++) expect(watchAddedAlarms(state, model, false, true)).toBe(false);
    expect(state.addedCount).toBe(0);
    // A third within ten samples stops it: the parent's offset is back and nothing moves it any more.
    for (let k = 0; k < 2; k++) expect(watchAddedAlarms(state, model, true, true)).toBe(false);
    expect(watchAddedAlarms(state, model, true, true)).toBe(true);
    expect(state.stopped).toBe(true);
    expect(Array.from(model.offset)).toEqual(Array.from(compileModel(bundle).offset));
    expect(observeSample(state, drifted(clearRows[0]!, 0.3), 0, 'clear', 0, 0)).toBe('stopped');
    const snapshot = adaptedBundle(bundle, state);
    expect(snapshot.lineage!.method).toMatch(/stopped by its watchdog/);
    expect(snapshot.scaler.mean).toEqual(bundle.scaler.mean);
    expect(watchAddedAlarms(state, model, true, true)).toBe(false);
    resetAdaptation(state, model);
    expect(state.stopped).toBe(false);
    expect(observeSample(state, drifted(clearRows[0]!, 0.3), 0, 'clear', 0, 0)).toBe('warm-up');
  });

  it('needs a model with a policy and sane options', () => {
    const noPolicy: FeatureTable = { ...table, labels: table.labels.map((l) => (l === 'clear' ? 'a' : 'b')) };
    const plain = fitModel(noPolicy, { kind: 'features', featureNames: [...table.featureNames] }, { cvFolds: 0 });
    expect(() => createAdaptation(plain, compileModel(plain))).toThrow(/policy/);
    expect(() => createAdaptation(bundle, compileModel(bundle), { rate: 2 })).toThrow(/rate/);
    expect(() => createAdaptation(bundle, compileModel(bundle), { watchSamples: 0 })).toThrow(/watchSamples/);
    expect(() => createAdaptation(bundle, compileModel(bundle), { maxAddedAlarmShare: 0 })).toThrow(/maxAddedAlarmShare/);
  });
});
