import { describe, expect, it } from 'vitest';
import { evaluateModel } from '../../src/model/fitting/evaluation.js';
import { compilePolicy, decideVerdict } from '../../src/model/runtime/pipeline.js';
import { fitModel } from '../../src/model/fitting/fitModel.js';
import { allowedAlarms, chooseThreshold, normalQuantile, resolvePolicyRule, thresholdForTarget, wilsonUpper } from '../../src/model/runtime/policy.js';
import { makeClusters } from '../helpers/synthetic.js';

describe('verdict policy', () => {
  it('resolves the rule from --suspicious, --clear or a label named clear', () => {
    expect(resolvePolicyRule(['Clear', 'cocaine'], {})).toEqual({ rule: 'clear-listed', labels: ['Clear'] });
    expect(resolvePolicyRule(['1', '2', '3'], {})).toBeNull();
    expect(resolvePolicyRule(['1', '2', '3'], { suspicious: ['2'] })).toEqual({ rule: 'suspicious-listed', labels: ['2'] });
    expect(resolvePolicyRule(['1', '2', '3'], { clear: ['1', '3'] })).toEqual({ rule: 'clear-listed', labels: ['1', '3'] });
    expect(() => resolvePolicyRule(['1', '2'], { suspicious: ['7'] })).toThrow(/not in the training data: 7/);
  });

  it('chooses the lowest threshold that keeps false alarms within the target', () => {
    const clear = Float64Array.from({ length: 200 }, (_, i) => i / 200); // 0 .. 0.995
    const suspicious = Float64Array.from([0.2, 0.97, 0.99, 0.999]);
    const choice = chooseThreshold(clear, suspicious, 0.01);
    // 1% of 200 = 2 false alarms allowed: scores 0.995 and 0.99 are above the threshold, 0.985 is not.
    expect(choice.threshold).toBe(0.985);
    expect(choice.falseAlarmRate).toBe(0.01);
    expect(choice.detectionRate).toBe(0.5);
  });

  it('counts samples the novelty limit flags (+Infinity) as alarms at any threshold, and stops at 1 when they alone exceed the target', () => {
    const clear = Float64Array.from({ length: 200 }, (_, i) => (i === 17 ? Infinity : i / 200));
    const one = chooseThreshold(clear, Float64Array.from([0.2, Infinity]), 0.01);
    // 2 alarms allowed: the flagged sample and 0.995; 0.99 is the threshold.
    expect(one.threshold).toBe(0.99);
    expect(one.falseAlarmRate).toBe(0.01);
    expect(one.detectionRate).toBe(0.5);
    const three = Float64Array.from({ length: 200 }, (_, i) => (i < 3 ? Infinity : i / 200));
    const over = chooseThreshold(three, Float64Array.from([0.2]), 0.01);
    expect(over.threshold).toBe(1);
    expect(over.falseAlarmRate).toBe(3 / 200); // reported as it is, above the target
  });

  it('calibrates the threshold with the novelty limit\'s own false alarms counted', () => {
    const table = makeClusters({ seed: 5, classes: ['clear', 'cocaine', 'heroin'], perClass: 150, width: 8, separation: 0.6 });
    const input = { kind: 'features' as const, featureNames: [...table.featureNames] };
    const fit = (noveltyQuantile: number) => fitModel(table, input, { classifier: 'logreg', maxFalseAlarm: 0.05, noveltyQuantile });
    const without = fit(0);
    const withLimit = fit(0.98);
    // Both meet the target on the training folds; with the limit flagging some clear samples, the classifier
    // must give up some of its own alarms: a higher threshold.
    expect(without.policy!.calibration.falseAlarmRate!).toBeLessThanOrEqual(0.05);
    expect(withLimit.policy!.calibration.falseAlarmRate!).toBeLessThanOrEqual(0.05);
    expect(withLimit.policy!.threshold).toBeGreaterThan(without.policy!.threshold);
    expect(withLimit.policy!.calibration.note).toMatch(/novelty limit flags/);
    // A limit that alone flags more than the target (about 10 % of the training data against 5 %): the threshold
    // is the classifier's alone, as without a limit, and the reported rate is both, above the target.
    const loose = fit(0.9);
    expect(loose.policy!.threshold).toBe(without.policy!.threshold);
    expect(loose.policy!.calibration.falseAlarmRate!).toBeGreaterThan(0.05);
    expect(loose.policy!.calibration.note).toMatch(/more than the target allows/);
  });

  it('meets the false-alarm target in cross-validation and reports it in the model', () => {
    const table = makeClusters({ seed: 5, classes: ['clear', 'cocaine', 'heroin'], perClass: 150, width: 8, separation: 0.6 });
    const bundle = fitModel(table, { kind: 'features', featureNames: [...table.featureNames] }, { classifier: 'logreg', maxFalseAlarm: 0.05 });
    expect(bundle.policy).not.toBeNull();
    expect(bundle.policy!.calibration.falseAlarmRate!).toBeLessThanOrEqual(0.05);
    expect(bundle.policy!.calibration.clearSamples).toBe(150);
    const { report } = evaluateModel(bundle, table);
    expect(report.detectionRate).not.toBeNull();
    expect(report.falseAlarmRate).not.toBeNull();
  });

  it('never clears a sample whose most probable class is suspicious', () => {
    const policy = { suspicious: Uint8Array.from([0, 1]), threshold: 0.9 };
    expect(decideVerdict(policy, Float64Array.from([0.4, 0.6]), 1).verdict).toBe('inconclusive');
    expect(decideVerdict(policy, Float64Array.from([0.05, 0.95]), 1).verdict).toBe('suspicious');
    expect(decideVerdict(policy, Float64Array.from([0.7, 0.3]), 0).verdict).toBe('clear');
    expect(decideVerdict(null, Float64Array.from([0.7, 0.3]), 0).verdict).toBeNull();
  });

  it('never clears a sample whose suspicious classes together are as probable as clear', () => {
    // Classes: cannabis, clear, cocaine. Clear leads (0.40) but cannabis + cocaine = 0.60: not a clearance.
    const policy = { suspicious: Uint8Array.from([1, 0, 1]), threshold: 0.85 };
    const split = decideVerdict(policy, Float64Array.from([0.35, 0.4, 0.25]), 1);
    expect(split).toEqual({ verdict: 'inconclusive', score: 0.6, reason: 'suspicious-classes-outweigh-clear' });
    expect(decideVerdict(policy, Float64Array.from([0.2, 0.55, 0.25]), 1).verdict).toBe('clear');
    // Exactly half is not enough to clear either.
    expect(decideVerdict(policy, Float64Array.from([0.25, 0.5, 0.25]), 1).verdict).toBe('inconclusive');
  });

  it('evaluation counts detections, false alarms and inconclusive verdicts consistently', () => {
    const table = makeClusters({ seed: 9, classes: ['clear', 'mdma'], perClass: 100, width: 6, separation: 0.5 });
    const bundle = fitModel(table, { kind: 'features', featureNames: [...table.featureNames] }, { classifier: 'lda' });
    const { report, predictions } = evaluateModel(bundle, table);
    const policy = compilePolicy(bundle)!;
    expect(policy.suspicious[bundle.classes.indexOf('mdma')]).toBe(1);
    const susp = predictions.filter((p) => p.label === 'mdma');
    expect(report.detectionRate).toBe(susp.filter((p) => p.verdict === 'suspicious').length / susp.length);
    expect(report.inconclusive).toBe(predictions.filter((p) => p.verdict === 'inconclusive').length);
    expect(report.confusion.flat().reduce((s, v) => s + v, 0)).toBe(report.n);
  });
});

describe('a false-alarm target held at a confidence', () => {
  it('uses the normal quantile and the Wilson upper bound as published', () => {
    expect(normalQuantile(0.5)).toBeCloseTo(0, 9);
    expect(normalQuantile(0.95)).toBeCloseTo(1.6448536270, 8);
    expect(normalQuantile(0.975)).toBeCloseTo(1.9599639845, 8);
    expect(normalQuantile(0.01)).toBeCloseTo(-2.3263478740, 8);
    expect(normalQuantile(0.999)).toBeCloseTo(3.0902323062, 7);
    // 0 of 100 at z = 1.96: the textbook Wilson upper bound 0.0370; 5 of 100: 0.1118.
    expect(wilsonUpper(0, 100, 1.96)).toBeCloseTo(0.037, 4);
    expect(wilsonUpper(5, 100, 1.96)).toBeCloseTo(0.1118, 4);
  });

  it('allows the most alarms whose upper bound is within the target, fewer than the plain share, and none when the samples cannot show it', () => {
    const z = normalQuantile(0.95);
    expect(allowedAlarms(4000, 0.01)).toBe(40);
    const k = allowedAlarms(4000, 0.01, 0.95);
    expect(k).toBeGreaterThan(20);
    expect(k).toBeLessThan(40);
    expect(wilsonUpper(k, 4000, z)).toBeLessThanOrEqual(0.01);
    expect(wilsonUpper(k + 1, 4000, z)).toBeGreaterThan(0.01);
    expect(allowedAlarms(100, 0.01, 0.95)).toBe(-1);
    expect(() => allowedAlarms(4000, 0.01, 1.5)).toThrow(/--confidence must be in \(0.5, 1\)/);
  });

  it('sets the threshold at the allowed count, and says so when there are too few clear samples', () => {
    const n = 1000;
    const scores = Array.from({ length: n }, (_, i) => i / n);
    const suspicious = scores.map(() => false);
    const plain = thresholdForTarget(scores, suspicious, null, 0.05);
    const held = thresholdForTarget(scores, suspicious, null, 0.05, 0.95);
    expect(plain.falseAlarmRate).toBeCloseTo(0.05, 12);
    const allowed = allowedAlarms(n, 0.05, 0.95);
    expect(held.falseAlarmRate).toBeCloseTo(allowed / n, 12);
    expect(held.threshold).toBeGreaterThan(plain.threshold);
    expect(() => thresholdForTarget(scores.slice(0, 50), suspicious.slice(0, 50), null, 0.01, 0.95)).toThrow(/50 clear samples cannot show at most 1 % false alarms at 95 % confidence/);
  });
});
