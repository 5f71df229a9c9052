/**
 * Views models: the expansion of base features, the merge of one linear pipeline per view into one bundle whose
 * probabilities are the normalised geometric mean of the views' (the mean of their logits), and calibration of
 * a views model as calibration of each view.
 */
import { describe, expect, it } from 'vitest';
import { calibrateModel } from '../../src/model/drift/calibration.js';
import { compileModel, predictCompiled, signedLog } from '../../src/model/runtime/pipeline.js';
import { fitModel, type FitOptions } from '../../src/model/fitting/fitModel.js';
import { expandForModel, expandViews, fitViewsModel, logAbs, modelViews, viewName, type FeatureView } from '../../src/model/drift/views.js';
import type { FeatureTable } from '../../src/types.js';
import { makeClusters } from '../helpers/synthetic.js';

const train = makeClusters({ seed: 11, classes: ['a', 'b', 'c'], perClass: 40, width: 6, separation: 1.5, scale: 4, offset: 3 });
const VIEWS: readonly FeatureView[] = ['none', 'signed-log', 'log-abs'];
const FIT: FitOptions = { classifier: 'logreg', components: 6, cvFolds: 0, noveltyQuantile: 0 };

/** A copy of `table` with every value moved by a per-feature gain and offset (a drifted batch). */
function drifted(table: FeatureTable): FeatureTable {
  const x = table.x.map((v, i) => 1.4 * v * (1 + 0.1 * (i % table.width)) + 2 + (i % table.width));
  return { ...table, x };
}

function probabilities(bundle: Parameters<typeof compileModel>[0], table: FeatureTable): Float64Array[] {
  const m = compileModel(bundle);
  const out: Float64Array[] = [];
  for (let i = 0; i < table.count; i++) {
    const p = new Float64Array(bundle.classes.length);
    predictCompiled(m, table.x, i * table.width, p);
    out.push(p);
  }
  return out;
}

/** Normalised geometric mean of the rows of several probability lists. */
function geometricMean(lists: Float64Array[][]): Float64Array[] {
  return lists[0]!.map((_, i) => {
    const logs = lists[0]![i]!.map((_, c) => lists.reduce((s, l) => s + Math.log(l[i]![c]!), 0) / lists.length);
    const max = Math.max(...logs);
    const e = logs.map((v) => Math.exp(v - max));
    const sum = e.reduce((s, v) => s + v, 0);
    return e.map((v) => v / sum);
  });
}

describe('feature views', () => {
  it('expands each row into the views side by side, named after the base features', () => {
    const t = expandViews(train, VIEWS);
    expect(t.width).toBe(3 * train.width);
    expect(t.featureNames.slice(0, 2)).toEqual(['x1', 'x2']);
    expect(t.featureNames[train.width]).toBe('signed-log(x1)');
    expect(t.featureNames[2 * train.width + 1]).toBe('log-abs(x2)');
    for (const i of [0, 17, train.count - 1]) {
      for (let j = 0; j < train.width; j++) {
        const v = train.x[i * train.width + j]!;
        expect(t.x[i * t.width + j]).toBe(v);
        expect(t.x[i * t.width + train.width + j]).toBe(signedLog(v));
        expect(t.x[i * t.width + 2 * train.width + j]).toBe(logAbs(v));
      }
    }
    expect(logAbs(0)).toBeCloseTo(Math.log(1e-3), 12);
    expect(viewName('none', 'x1')).toBe('x1');
  });

  it('merges one pipeline per view into one bundle whose probabilities are the geometric mean of the views', () => {
    const merged = fitViewsModel(train, VIEWS, FIT);
    expect(merged.input.featureNames).toHaveLength(3 * train.width);
    expect(merged.pca.components).toBe(3 * 6);
    expect(modelViews(merged)).toEqual({ views: VIEWS, base: train.featureNames });
    const test = drifted(train);
    const perView = VIEWS.map((view) => {
      const t = expandViews(train, [view]);
      const b = fitModel(t, { kind: 'features', featureNames: [...t.featureNames] }, FIT);
      return probabilities(b, expandViews(test, [view]));
    });
    const expected = geometricMean(perView);
    const got = probabilities(merged, expandForModel(merged, test));
    for (let i = 0; i < test.count; i++) for (let c = 0; c < 3; c++) expect(got[i]![c]).toBeCloseTo(expected[i]![c]!, 9);
  });

  it('re-standardising a views model re-standardises each view', () => {
    const merged = fitViewsModel(train, VIEWS, FIT);
    const reference = drifted(train);
    const calibrated = calibrateModel(merged, expandForModel(merged, reference), { method: 'standardise' });
    const perView = VIEWS.map((view) => {
      const t = expandViews(train, [view]);
      const b = fitModel(t, { kind: 'features', featureNames: [...t.featureNames] }, FIT);
      const r = expandViews(reference, [view]);
      return probabilities(calibrateModel(b, r, { method: 'standardise' }), r);
    });
    const expected = geometricMean(perView);
    const got = probabilities(calibrated, expandForModel(calibrated, reference));
    let agree = 0;
    for (let i = 0; i < reference.count; i++) {
      for (let c = 0; c < 3; c++) expect(got[i]![c]).toBeCloseTo(expected[i]![c]!, 9);
      const best = got[i]!.indexOf(Math.max(...got[i]!));
      if (merged.classes[best] === reference.labels[i]) agree++;
    }
    // The drift is a per-feature affine map of the training rows: re-standardisation undoes the linear view.
    expect(agree / reference.count).toBeGreaterThan(0.8);
  });

  it('expands only what needs expanding: expanded tables pass, plain models and other layouts are left alone', () => {
    const merged = fitViewsModel(train, ['none', 'log-abs'], FIT);
    const expanded = expandViews(train, ['none', 'log-abs']);
    expect(expandForModel(merged, expanded)).toBe(expanded);
    const other = { ...train, featureNames: train.featureNames.map((n) => `${n}!`) };
    expect(expandForModel(merged, other)).toBe(other);
    const plain = fitModel(train, { kind: 'features', featureNames: [...train.featureNames] }, FIT);
    expect(modelViews(plain)).toBeNull();
    expect(expandForModel(plain, train)).toBe(train);
  });

  it('pads a narrower libsvm table before expanding it, as sparse files mean', () => {
    const names = Array.from({ length: 4 }, (_, j) => `f${j + 1}`);
    const wide: FeatureTable = { ...makeClusters({ seed: 3, classes: ['a', 'b'], perClass: 10, width: 4, separation: 2 }), featureNames: names };
    const merged = fitViewsModel(wide, ['none', 'signed-log'], { ...FIT, components: 4 });
    const narrow: FeatureTable = { ...wide, width: 3, featureNames: names.slice(0, 3), x: wide.x.filter((_, i) => i % 4 !== 3) };
    const t = expandForModel(merged, narrow);
    expect(t.width).toBe(8);
    expect(t.x[3]).toBe(0);
    expect(t.x[7]).toBe(0);
    expect(t.x[4]).toBe(signedLog(narrow.x[0]!));
  });

  it('refuses what a views model cannot be: knn, a verdict policy, a transform, repeated views', () => {
    expect(() => fitViewsModel(train, VIEWS, { ...FIT, classifier: 'knn' })).toThrow(/lda or logreg/);
    expect(() => fitViewsModel(train, VIEWS, { ...FIT, suspicious: ['a'] })).toThrow(/verdict policy/);
    expect(() => fitViewsModel(train, VIEWS, { ...FIT, transform: 'signed-log' })).toThrow(/through its views/);
    expect(() => fitViewsModel(train, ['none', 'none'], FIT)).toThrow(/distinct/);
  });
});
