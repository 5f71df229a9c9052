/**
 * Calibration folded into the bundle: the folds are exact, the methods do what they claim on drift made to
 * order, labels are never read, and the lineage names parent, method and reference data.
 */
import { describe, expect, it } from 'vitest';
import { EnoseError } from '../../src/errors.js';
import { parseBundle, serializeBundle, type ModelBundle } from '../../src/model/runtime/bundle.js';
import { calibrateModel, CALIBRATION_METHODS, DEFAULT_CALIBRATION_METHOD } from '../../src/model/drift/calibration.js';
import { foldInputMap, hashFeatureRows } from '../../src/model/drift/correction.js';
import { compileModel, noveltyOfLast, predictCompiled } from '../../src/model/runtime/pipeline.js';
import { fitModel, type ClassifierKind, type FitOptions } from '../../src/model/fitting/fitModel.js';
import type { FeatureTable } from '../../src/types.js';
import { gaussian, makeClusters, mulberry32 } from '../helpers/synthetic.js';

const WIDTH = 8;
const table = makeClusters({ seed: 5, classes: ['clear', 'cocaine', 'heroin'], perClass: 40, width: WIDTH, separation: 1.2, scale: 50, offset: 1e3 });
const input = { kind: 'features' as const, featureNames: [...table.featureNames] };

function withRows(base: FeatureTable, x: Float64Array, labels: readonly string[] = base.labels): FeatureTable {
  return { ...base, x, labels };
}

/** Every row mapped feature by feature: x_j -> a_j x_j + b_j (a_j > 0). */
function affineDrift(base: FeatureTable, seed: number): FeatureTable {
  const rand = mulberry32(seed);
  const a = Array.from({ length: base.width }, () => 0.5 + rand() * 1.5);
  const b = Array.from({ length: base.width }, () => (rand() - 0.5) * 500);
  return withRows(base, base.x.map((v, i) => a[i % base.width]! * v + b[i % base.width]!));
}

function probabilities(model: ModelBundle, rows: FeatureTable): Float64Array[] {
  const compiled = compileModel(model);
  return Array.from({ length: rows.count }, (_, i) => {
    const p = new Float64Array(model.classes.length);
    predictCompiled(compiled, rows.x, i * rows.width, p);
    return p;
  });
}

function accuracy(model: ModelBundle, rows: FeatureTable): number {
  const probs = probabilities(model, rows);
  let right = 0;
  probs.forEach((p, i) => {
    let best = 0;
    for (let c = 1; c < p.length; c++) if (p[c]! > p[best]!) best = c;
    if (model.classes[best] === rows.labels[i]) right++;
  });
  return right / rows.count;
}

const fits: [ClassifierKind, FitOptions][] = [
  ['lda', { classifier: 'lda', components: 5 }],
  ['logreg', { classifier: 'logreg', components: WIDTH }],
  ['knn', { classifier: 'knn', k: 3, components: 4 }],
];

describe('calibration: standardise', () => {
  for (const [name, options] of fits) {
    it(`${name}: undoes a per-feature affine drift exactly (same probabilities as the parent on undrifted data)`, () => {
      const parent = fitModel(table, input, { ...options, cvFolds: 0 });
      const drifted = affineDrift(table, 17);
      const calibrated = calibrateModel(parent, drifted, { method: 'standardise' });
      const before = probabilities(parent, table);
      const after = probabilities(calibrated, drifted);
      for (let i = 0; i < table.count; i++) for (let c = 0; c < 3; c++) expect(after[i]![c]!).toBeCloseTo(before[i]![c]!, 9);
      // The drift does hurt the parent, so the test could fail.
      expect(accuracy(parent, drifted)).toBeLessThan(accuracy(parent, table) - 0.2);
    });
  }

  it('is the default method', () => {
    expect(DEFAULT_CALIBRATION_METHOD).toBe('standardise');
    const parent = fitModel(table, input, { classifier: 'lda', cvFolds: 0 });
    expect(calibrateModel(parent, affineDrift(table, 3)).lineage?.method).toBe('standardise');
  });
});

describe('calibration: folds are exact', () => {
  for (const [name, options] of fits) {
    it(`${name}: a full affine map before the model folds into scaler, axes, classifier and novelty`, () => {
      const parent = fitModel(table, input, { ...options, cvFolds: 0 });
      const rand = mulberry32(99);
      const normal = gaussian(rand);
      // u = B x + c, so x = L u + t with L = B^-1; build B as identity plus a small random part.
      const linear = new Float64Array(WIDTH * WIDTH);
      for (let j = 0; j < WIDTH; j++) for (let i = 0; i < WIDTH; i++) linear[j * WIDTH + i] = (i === j ? 1 : 0) + 0.2 * normal();
      const offset = Float64Array.from({ length: WIDTH }, () => 100 * normal());
      // Generate u freely and the parent's input from it: x = L u + t.
      const u = new Float64Array(table.count * WIDTH);
      const x = new Float64Array(table.count * WIDTH);
      for (let r = 0; r < table.count; r++) {
        for (let i = 0; i < WIDTH; i++) u[r * WIDTH + i] = table.x[r * WIDTH + i]! * 0.7 + 30 * normal();
        for (let j = 0; j < WIDTH; j++) {
          let s = offset[j]!;
          for (let i = 0; i < WIDTH; i++) s += linear[j * WIDTH + i]! * u[r * WIDTH + i]!;
          x[r * WIDTH + j] = s;
        }
      }
      const inputScaler = { mean: Array.from({ length: WIDTH }, (_, j) => 7 * j), scale: Array.from({ length: WIDTH }, (_, j) => 1 + j) };
      const folded = foldInputMap(parent, { kind: 'full', linear, offset }, inputScaler, { parent: parent.hash, method: 'test', reference: null });
      const a = compileModel(parent);
      const b = compileModel(folded);
      const pa = new Float64Array(3);
      const pb = new Float64Array(3);
      for (let r = 0; r < table.count; r++) {
        predictCompiled(a, x, r * WIDTH, pa);
        predictCompiled(b, u, r * WIDTH, pb);
        // (The scores themselves differ by a constant that the classifier and the novelty points absorb.)
        for (let c = 0; c < 3; c++) expect(pb[c]!).toBeCloseTo(pa[c]!, 7);
        expect(noveltyOfLast(b)).toBeCloseTo(noveltyOfLast(a), 7);
      }
    });
  }
});

describe('calibration: component correction', () => {
  it('removes a drift along one direction that the parent cannot ignore', () => {
    const parent = fitModel(table, input, { classifier: 'lda', components: WIDTH, cvFolds: 0 });
    const rand = mulberry32(4);
    const normal = gaussian(rand);
    // A drift along one fixed direction (in the parent's z-units), of a different size for every sample.
    const direction = Array.from({ length: WIDTH }, () => normal());
    const norm = Math.hypot(...direction);
    const drifted = withRows(
      table,
      table.x.map((v, i) => {
        const row = Math.floor(i / WIDTH);
        const j = i % WIDTH;
        const size = 6 + 3 * Math.sin(row);
        return v + (size * direction[j]! * parent.scaler.scale[j]!) / norm;
      }),
    );
    const corrected = calibrateModel(parent, drifted, { method: 'component-correction' });
    expect(corrected.lineage?.method).toBe('component-correction(directions=1)');
    const hurt = accuracy(parent, drifted);
    const fixed = accuracy(corrected, drifted);
    expect(hurt).toBeLessThan(0.7);
    expect(fixed).toBeGreaterThan(hurt + 0.15);
  });

  it('refuses a direction count out of range', () => {
    const parent = fitModel(table, input, { classifier: 'lda', cvFolds: 0 });
    expect(() => calibrateModel(parent, table, { method: 'component-correction', directions: WIDTH })).toThrow(/directions/);
  });
});

describe('calibration: entropy', () => {
  it('lowers the mean entropy of the class probabilities on the reference data, below plain standardisation', () => {
    const parent = fitModel(table, input, { classifier: 'logreg', components: WIDTH, cvFolds: 0 });
    const drifted = affineDrift(withRows(table, table.x.map((v, i) => v + (i % WIDTH === 2 ? 40 * Math.cos(i) : 0))), 8);
    const meanEntropy = (model: ModelBundle) => {
      const probs = probabilities(model, drifted);
      return probs.reduce((s, p) => s - p.reduce((h, q) => h + (q > 0 ? q * Math.log(q) : 0), 0), 0) / probs.length;
    };
    const standardised = calibrateModel(parent, drifted, { method: 'standardise' });
    const tent = calibrateModel(parent, drifted, { method: 'entropy', penalty: 0.01 });
    expect(tent.lineage?.method).toBe('entropy(penalty=0.01)');
    expect(meanEntropy(tent)).toBeLessThan(meanEntropy(standardised) * 0.9);
  });

  it('refuses a kNN model with a clear reason', () => {
    const parent = fitModel(table, input, { classifier: 'knn', cvFolds: 0 });
    try {
      calibrateModel(parent, table, { method: 'entropy' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(EnoseError);
      expect((error as EnoseError).code).toBe('bad-option');
      expect((error as EnoseError).message).toMatch(/linear classifier/);
    }
  });
});

describe('calibration: lineage, labels and misuse', () => {
  const parent = fitModel(table, input, { classifier: 'lda', cvFolds: 0 });
  const drifted = affineDrift(table, 23);

  for (const method of CALIBRATION_METHODS) {
    it(`${method}: a signed, valid bundle naming its parent, method and reference data; labels are not read`, () => {
      const calibrated = calibrateModel(parent, drifted, { method });
      expect(calibrated.lineage?.parent).toBe(parent.hash);
      expect(calibrated.lineage?.method.startsWith(method)).toBe(true);
      expect(calibrated.lineage?.reference).toBe(hashFeatureRows(drifted));
      expect(calibrated.id).not.toBe(parent.id);
      const reparsed = parseBundle(JSON.parse(serializeBundle(calibrated)), 'calibrated.json');
      expect(reparsed.ok).toBe(true);
      // Other labels (or none) give the very same model.
      const unlabelled = withRows(drifted, drifted.x, drifted.labels.map(() => ''));
      expect(calibrateModel(parent, unlabelled, { method }).hash).toBe(calibrated.hash);
    });
  }

  it('chains: a model calibrated twice names the first calibration as its parent', () => {
    const once = calibrateModel(parent, drifted);
    const twice = calibrateModel(once, affineDrift(drifted, 2));
    expect(twice.lineage?.parent).toBe(once.hash);
    expect(twice.training).toEqual(parent.training);
  });

  it('the reference hash changes with any feature value and not with labels or ids', () => {
    const changed = drifted.x.slice();
    changed[5] = changed[5]! + 1e-9;
    expect(hashFeatureRows(withRows(drifted, changed))).not.toBe(hashFeatureRows(drifted));
    const renamed: FeatureTable = { ...drifted, samples: drifted.samples.map((s) => `${s}x`), labels: drifted.labels.map(() => 'other') };
    expect(hashFeatureRows(renamed)).toBe(hashFeatureRows(drifted));
  });

  it('refuses too few samples, another feature layout and an unknown method', () => {
    const few = { ...drifted, count: 2, x: drifted.x.subarray(0, 2 * WIDTH) };
    expect(() => calibrateModel(parent, few)).toThrow(expect.objectContaining({ code: 'too-few-samples' }));
    const narrow = makeClusters({ seed: 1, classes: ['a'], perClass: 10, width: WIDTH - 1, separation: 1 });
    expect(() => calibrateModel(parent, narrow)).toThrow(expect.objectContaining({ code: 'model-mismatch' }));
    expect(() => calibrateModel(parent, drifted, { method: 'magic' as never })).toThrow(expect.objectContaining({ code: 'bad-option' }));
  });
});
