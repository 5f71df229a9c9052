/**
 * Recalibration with a few labelled rows: the seeded choice of at most n rows a class, the fine-tune of the
 * linear classifier with its pull toward the trained weights, and the lineage that says labels were used.
 */
import { describe, expect, it } from 'vitest';
import { calibrateModel, calibrateWithLabels } from '../../src/model/drift/calibration.js';
import { splitRows } from '../../src/model/drift/drift.js';
import { evaluateModel } from '../../src/model/fitting/evaluation.js';
import { fineTuneModel, hashLabelledRows, selectLabelledRows } from '../../src/model/drift/finetune.js';
import { fitModel } from '../../src/model/fitting/fitModel.js';
import type { FeatureTable } from '../../src/types.js';
import { makeClusters } from '../helpers/synthetic.js';

const CLASSES = ['a', 'b', 'c', 'd'];
const train = makeClusters({ seed: 5, classes: CLASSES, perClass: 40, width: 8, separation: 1.2 });
const input = { kind: 'features' as const, featureNames: [...train.featureNames] };
const parent = fitModel(train, input, { classifier: 'logreg', components: 8, cvFolds: 0, noveltyQuantile: 0 });

/**
 * A later batch: new draws of the same classes, where class `b` has moved by a class-specific offset (a drift
 * no per-feature re-standardisation can undo) and every feature has a gain and an offset.
 */
function laterBatch(): FeatureTable {
  const t = makeClusters({ seed: 5, classes: CLASSES, perClass: 60, width: 8, separation: 1.2 });
  const fresh = makeClusters({ seed: 99, classes: CLASSES, perClass: 60, width: 8, separation: 0 });
  const x = t.x.map((v, i) => {
    const row = Math.floor(i / t.width);
    const j = i % t.width;
    const noise = 0.5 * fresh.x[i]!;
    const classShift = t.labels[row] === 'b' ? (j < 4 ? 4 : -4) : 0;
    return 1.3 * (v + noise + classShift) + j;
  });
  return { ...t, x, source: 'later' };
}

const percent = (bundle: typeof parent, table: FeatureTable) => 100 * evaluateModel(bundle, table).report.accuracy;

describe('labelled recalibration', () => {
  it('chooses at most n rows a class, only of known classes, the same for a seed and different across seeds', () => {
    const labels = ['a', 'b', 'a', 'x', '', 'a', 'b', 'a', 'c', 'a'];
    const rows = selectLabelledRows(labels, ['a', 'b', 'c'], 2, 7);
    const chosen = Array.from(rows);
    expect(chosen).toEqual([...chosen].sort((p, q) => p - q));
    const per = (c: string) => chosen.filter((r) => labels[r] === c).length;
    expect([per('a'), per('b'), per('c')]).toEqual([2, 2, 1]);
    expect(chosen.some((r) => labels[r] === 'x' || labels[r] === '')).toBe(false);
    expect(Array.from(selectLabelledRows(labels, ['a', 'b', 'c'], 2, 7))).toEqual(chosen);
    const draws = new Set([1, 2, 3, 4, 5, 6].map((s) => Array.from(selectLabelledRows(labels, ['a'], 2, s)).join()));
    expect(draws.size).toBeGreaterThan(1);
    expect(() => selectLabelledRows(labels, ['a'], 0, 1)).toThrow(/--per-class/);
  });

  it('fixes a class-specific drift that re-standardisation leaves, from 10 labelled rows a class', () => {
    const batch = laterBatch();
    const { inside, outside } = splitRows(batch, selectLabelledRows(batch.labels, parent.classes, 10, 1));
    expect(inside.count).toBe(40);
    const restd = percent(calibrateModel(parent, batch, { method: 'standardise' }), outside);
    const tuned = calibrateWithLabels(parent, batch, inside, { method: 'standardise' });
    expect(tuned.use).toEqual({ perClass: { a: 10, b: 10, c: 10, d: 10 }, used: 40, unknownLabel: 0, overLimit: 0 });
    const after = percent(tuned.bundle, outside);
    console.info(`synthetic class-specific drift: standardise ${restd.toFixed(1)}%, + fine-tune ${after.toFixed(1)}%`);
    expect(after).toBeGreaterThan(restd + 10);
  });

  it('a strong pull keeps the trained classifier; the scaler and projection are never changed', () => {
    const batch = laterBatch();
    const calibrated = calibrateModel(parent, batch, { method: 'standardise' });
    const lineage = { parent: parent.hash, method: 'test', reference: null };
    const stiff = fineTuneModel(calibrated, batch, lineage, { lambda: 1e6 }).bundle;
    const loose = fineTuneModel(calibrated, batch, lineage, { lambda: 1e-3 }).bundle;
    if (stiff.classifier.type === 'knn' || loose.classifier.type === 'knn' || calibrated.classifier.type === 'knn' || stiff.classifier.type === 'mlp' || loose.classifier.type === 'mlp') throw new Error('linear expected');
    const distance = (coef: readonly number[]) => Math.sqrt(coef.reduce((s, v, i) => s + (v - (calibrated.classifier as { coef: readonly number[] }).coef[i]!) ** 2, 0));
    expect(distance(stiff.classifier.coef)).toBeLessThan(1e-3);
    expect(distance(loose.classifier.coef)).toBeGreaterThan(100 * distance(stiff.classifier.coef));
    expect(stiff.scaler).toEqual(calibrated.scaler);
    expect(loose.pca.axes).toEqual(calibrated.pca.axes);
  });

  it('records the fine-tune and the labelled rows (labels included) in the lineage', () => {
    const batch = laterBatch();
    const { inside } = splitRows(batch, selectLabelledRows(batch.labels, parent.classes, 10, 3));
    const tuned = calibrateWithLabels(parent, batch, inside, { method: 'standardise', seed: 3 }).bundle;
    expect(tuned.lineage?.parent).toBe(parent.hash);
    expect(tuned.lineage?.method).toBe(`standardise+fine-tune(lambda=0.001,perClass=10,seed=3,labelled=${hashLabelledRows(inside)})`);
    const relabelled = { ...inside, labels: inside.labels.map((l) => (l === 'a' ? 'b' : l)) };
    expect(hashLabelledRows(relabelled)).not.toBe(hashLabelledRows(inside));
  });

  it('says what it left out, and refuses kNN models and data without a known label', () => {
    const batch = laterBatch();
    const mixed = { ...batch, labels: batch.labels.map((l, i) => (i % 7 === 0 ? '' : l)) };
    const lineage = { parent: parent.hash, method: 'test', reference: null };
    const { use } = fineTuneModel(parent, mixed, lineage, { perClass: 5 });
    const unknown = mixed.labels.filter((l) => l === '').length;
    expect(use.used).toBe(20);
    expect(use.unknownLabel).toBe(unknown);
    expect(use.overLimit).toBe(batch.count - unknown - 20);
    const knn = fitModel(train, input, { classifier: 'knn', cvFolds: 0, noveltyQuantile: 0 });
    expect(() => fineTuneModel(knn, batch, lineage)).toThrow(/linear classifier/);
    expect(() => fineTuneModel(parent, { ...batch, labels: batch.labels.map(() => 'zz') }, lineage)).toThrow(/no labelled row/);
    expect(() => fineTuneModel(parent, batch, lineage, { lambda: 0 })).toThrow(/--lambda/);
  });
});
