/**
 * The pieces `enose train`'s selection scores with: the false-alarm target on unseen samples, each held-out fold
 * judged at the other folds' threshold, and cross-validation that keeps a group's rows in one fold.
 */
import { describe, expect, it } from 'vitest';
import { fitModel } from '../../src/model/fitting/fitModel.js';
import { allowedAlarms, heldOutAlarmRates } from '../../src/model/runtime/policy.js';
import { mulberry32 } from '../../src/model/numeric/rng.js';
import type { FeatureTable } from '../../src/types.js';

describe('false-alarm target on unseen samples', () => {
  it('allows k alarms of n when (k+1)/(n+1) is within the target', () => {
    expect(allowedAlarms(200, 0.01)).toBe(2);
    expect(allowedAlarms(200, 0.01, undefined, 'unseen')).toBe(1);
    expect(allowedAlarms(198, 0.01, undefined, 'unseen')).toBe(0);
    expect(allowedAlarms(50, 0.01, undefined, 'unseen')).toBe(0);
    expect(allowedAlarms(1999, 0.01, undefined, 'unseen')).toBe(19);
  });

  it('held out, exchangeable clear scores meet the target within sampling error; novelty alarms always count', () => {
    const next = mulberry32(7);
    const n = 4000;
    const scores = Float64Array.from({ length: n }, () => next());
    const suspicious = Array.from({ length: n }, (_, i) => i % 2 === 1);
    const foldOf = Int32Array.from({ length: n }, (_, i) => Math.floor(i / 2) % 10);
    const clearN = n / 2;
    const se = Math.sqrt((0.01 * 0.99) / clearN);
    const unseen = heldOutAlarmRates(scores, suspicious, null, foldOf, 10, 0.01, 'unseen');
    expect(Math.abs(unseen.falseAlarmRate! - 0.01)).toBeLessThanOrEqual(3 * se);
    // Suspicious scores drawn like the clear ones: detected as often as clear ones alarm.
    expect(Math.abs(unseen.detectionRate! - unseen.falseAlarmRate!)).toBeLessThanOrEqual(3 * Math.sqrt(2) * se);
    // Flag 1 % of the clear samples as novel: each is an alarm, on top of what the threshold lets through.
    const novel = Uint8Array.from({ length: n }, (_, i) => (i % 200 === 0 ? 1 : 0));
    const both = heldOutAlarmRates(scores, suspicious, novel, foldOf, 10, 0.01, 'unseen');
    expect(both.falseAlarmRate!).toBeGreaterThanOrEqual(0.01 - 3 * se);
    expect(both.falseAlarmRate!).toBeGreaterThan(unseen.falseAlarmRate! - 1e-12);
  });
});

describe('cross-validation grouped by recording', () => {
  it('keeps each group in one fold: duplicated rows no longer vouch for each other', () => {
    // 60 groups of 2 identical rows of pure noise, labels at random: nothing to learn but the twin.
    const next = mulberry32(3);
    const groups: string[] = [];
    const labels: string[] = [];
    const x: number[] = [];
    for (let g = 0; g < 60; g++) {
      const label = next() < 0.5 ? 'a' : 'b';
      const row = [next(), next(), next()];
      for (let t = 0; t < 2; t++) {
        groups.push(`g${g}`);
        labels.push(label);
        x.push(...row);
      }
    }
    const table: FeatureTable = {
      source: 'twins',
      featureNames: ['f1', 'f2', 'f3'],
      width: 3,
      count: labels.length,
      x: Float64Array.from(x),
      labels,
      samples: labels.map((_, i) => `s${i}`),
      groups,
    };
    const input = { kind: 'features' as const, featureNames: ['f1', 'f2', 'f3'] };
    const plain = fitModel(table, input, { classifier: 'knn', k: 1, noveltyQuantile: 0 });
    const grouped = fitModel(table, input, { classifier: 'knn', k: 1, noveltyQuantile: 0, cvGroups: groups });
    // Ungrouped, a row's twin is in another fold 4 times in 5: its label is found.
    expect(plain.training.cvAccuracy!).toBeGreaterThan(0.7);
    // Grouped, the twin is held out with it: chance (0.5, standard error 0.046 on 120 rows).
    expect(Math.abs(grouped.training.cvAccuracy! - 0.5)).toBeLessThanOrEqual(3 * 0.046);
    expect(() => fitModel(table, input, { cvGroups: groups.slice(1) })).toThrow(/119 groups for 120 rows/);
  });
});
