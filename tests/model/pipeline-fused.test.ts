/**
 * The folded prediction paths of the compiled model: `predictFused` (scaler, PCA and a linear classifier as one
 * classes x features matrix) against `predictCompiled` (projection, then classifier), and `predictClassesBatch`
 * against `predictFused` row by row, on seeded synthetic data always and on the UCI drift data when present.
 */
import { describe, expect, it } from 'vitest';
import { EnoseError } from '../../src/errors.js';
import { readDataset } from '../../src/io/datasets/index.js';
import {
  compileModel,
  predictClassesBatch,
  predictCompiled,
  predictForVerdict,
  predictFused,
  noveltyOfLast,
  signedLog,
  type CompiledModel,
} from '../../src/model/runtime/pipeline.js';
import { fitModel, type ClassifierKind, type FitOptions } from '../../src/model/fitting/fitModel.js';
import type { FeatureTable } from '../../src/types.js';
import { DRIFT_RAW, haveShared } from '../helpers/shared.js';
import { gaussian, makeClusters, mulberry32 } from '../helpers/synthetic.js';

/** Probabilities of the fused path may differ from the unfused one in the last bits only. */
const PROB_TOLERANCE = 1e-12;

function fit(table: FeatureTable, options: FitOptions) {
  return fitModel(table, { kind: 'features', featureNames: [...table.featureNames] }, { cvFolds: 0, noveltyQuantile: 0, ...options });
}

interface Agreement {
  rows: number;
  worstProbability: number;
  /** Rows whose winning probability is below 0.99: the check is not only on easy rows. */
  uncertain: number;
}

/**
 * Checks, for every row of `x` (count x width): predictFused's class equals predictCompiled's and its
 * probabilities are within PROB_TOLERANCE; predictClassesBatch's class equals predictFused's.
 */
function expectAgreement(model: CompiledModel, x: Float64Array, count: number): Agreement {
  const width = model.width;
  const a = new Float64Array(model.classCount);
  const b = new Float64Array(model.classCount);
  const batch = new Int32Array(count);
  predictClassesBatch(model, x, count, batch);
  let worstProbability = 0;
  let uncertain = 0;
  for (let i = 0; i < count; i++) {
    const unfused = predictCompiled(model, x, i * width, a);
    const fused = predictFused(model, x, i * width, b);
    if (fused !== unfused || batch[i] !== fused) {
      expect({ row: i, fused, batch: batch[i] }).toEqual({ row: i, fused: unfused, batch: unfused });
    }
    let sum = 0;
    for (let c = 0; c < model.classCount; c++) {
      const d = Math.abs(a[c]! - b[c]!);
      if (!(d <= PROB_TOLERANCE)) expect({ row: i, class: c, fused: b[c], unfused: a[c] }).toBe('within 1e-12');
      if (d > worstProbability) worstProbability = d;
      sum += b[c]!;
    }
    expect(Math.abs(sum - 1)).toBeLessThan(1e-12);
    if (b[fused]! < 0.99) uncertain++;
  }
  return { rows: count, worstProbability, uncertain };
}

/** Seeded rows around the training data, some far outside it, for a test set the model did not see. */
function probeRows(table: FeatureTable, count: number, seed: number): Float64Array {
  const normal = gaussian(mulberry32(seed));
  const out = new Float64Array(count * table.width);
  for (let i = 0; i < count; i++) {
    const src = (i * 7919) % table.count;
    const spread = i % 5 === 0 ? 5 : 0.5;
    for (let j = 0; j < table.width; j++) {
      const v = table.x[src * table.width + j]!;
      out[i * table.width + j] = v + spread * normal() * (Math.abs(v) + 1);
    }
  }
  return out;
}

/** a * b as an unevaluated sum hi + lo (Dekker's TwoProduct, Veltkamp splitting). */
function twoProduct(a: number, b: number): [number, number] {
  const p = a * b;
  const sa = 134217729 * a;
  const ah = sa - (sa - a);
  const al = a - ah;
  const sb = 134217729 * b;
  const bh = sb - (sb - b);
  const bl = b - bh;
  return [p, ah * bh - p + ah * bl + al * bh + al * bl];
}

/** Dot product in about twice the working precision (Ogita, Rump & Oishi 2005, Dot2). */
function dot2(a: ArrayLike<number>, b: ArrayLike<number>, start = 0): number {
  let s = start;
  let c = 0;
  for (let i = 0; i < a.length; i++) {
    const [p, e] = twoProduct(a[i]!, b[i]!);
    const t = s + p;
    const z = t - s;
    c += s - (t - z) + (p - z) + e;
    s = t;
  }
  return s + c;
}

/** The bundle's class probabilities for one row, scaler and projection unfolded, every sum in Dot2. */
function accurateProbabilities(bundle: ReturnType<typeof fit>, row: ArrayLike<number>): number[] {
  const cl = bundle.classifier;
  if (cl.type === 'knn' || cl.type === 'mlp') throw new Error('linear models only');
  const width = bundle.scaler.mean.length;
  const k = bundle.pca.components;
  const z = Array.from({ length: width }, (_, j) => {
    const v = bundle.transform === 'signed-log' ? signedLog(row[j]!) : row[j]!;
    return (v - bundle.scaler.mean[j]!) / bundle.scaler.scale[j]!;
  });
  const scores = Array.from({ length: k }, (_, c) => dot2(z, Array.from({ length: width }, (_, j) => bundle.pca.axes[j * k + c]!)));
  const logits = bundle.classes.map((_, c) => dot2(cl.coef.slice(c * k, (c + 1) * k), scores, cl.intercept[c]!));
  const max = Math.max(...logits);
  const e = logits.map((l) => Math.exp(l - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

describe('predictFused and predictClassesBatch on seeded synthetic data', () => {
  // Class counts 2, 3, 5, 6 and 7 cover every blocking of the classes (4 + 2 + 1, pairs plus a lone class);
  // odd widths and row counts that are not multiples of 4 cover the batch's tails.
  const cases: { classes: number; width: number; perClass: number; components?: number }[] = [
    { classes: 2, width: 9, perClass: 41 },
    { classes: 3, width: 16, perClass: 33, components: 6 },
    { classes: 5, width: 31, perClass: 27 },
    { classes: 6, width: 128, perClass: 100 },
    { classes: 7, width: 13, perClass: 19, components: 13 },
  ];
  for (const kind of ['lda', 'logreg'] as const) {
    for (const transform of ['none', 'signed-log'] as const) {
      for (const c of cases) {
        it(`${kind}, ${transform}, ${c.classes} classes x ${c.width} features: fused == unfused, batch == single`, () => {
          const classes = Array.from({ length: c.classes }, (_, i) => `class${i}`);
          const table = makeClusters({ seed: 100 + c.classes * 7 + c.width, classes, perClass: c.perClass, width: c.width, separation: 1.2, scale: 30, offset: 500 });
          const bundle = fit(table, { classifier: kind, transform, ...(c.components !== undefined ? { components: c.components } : { variance: 0.99 }) });
          const model = compileModel(bundle);
          expect(model.fused.length).toBe(c.classes * c.width);
          const train = expectAgreement(model, table.x, table.count);
          const probes = 203; // 50 blocks of 4 and a tail of 3
          const probe = expectAgreement(model, probeRows(table, probes, c.classes), probes);
          expect(train.uncertain + probe.uncertain).toBeGreaterThan(0);
        });
      }
    }
  }

  it('an ill-conditioned model (110 components on 240 rows): fused and unfused are both close to an accurate sum', () => {
    // Here the two paths differ by about 2e-12, more than PROB_TOLERANCE: each sums large terms that cancel, so
    // each rounds by about that much, and the accurate sum shows neither is the worse as a rule.
    const classes = Array.from({ length: 6 }, (_, i) => `class${i}`);
    const table = makeClusters({ seed: 270, classes, perClass: 40, width: 128, separation: 1.2, scale: 30, offset: 500 });
    const bundle = fit(table, { classifier: 'lda', transform: 'signed-log', variance: 0.99 });
    expect(bundle.pca.components).toBeGreaterThan(100);
    const model = compileModel(bundle);
    const probes = probeRows(table, 203, 6);
    const a = new Float64Array(6);
    const b = new Float64Array(6);
    const batch = new Int32Array(203);
    predictClassesBatch(model, probes, 203, batch);
    let unfusedError = 0;
    let fusedError = 0;
    for (let i = 0; i < 203; i++) {
      const best = predictCompiled(model, probes, i * 128, a);
      expect(predictFused(model, probes, i * 128, b)).toBe(best);
      expect(batch[i]).toBe(best);
      const truth = accurateProbabilities(bundle, probes.subarray(i * 128, (i + 1) * 128));
      for (let c = 0; c < 6; c++) {
        unfusedError = Math.max(unfusedError, Math.abs(a[c]! - truth[c]!));
        fusedError = Math.max(fusedError, Math.abs(b[c]! - truth[c]!));
      }
    }
    console.info(`ill-conditioned LDA: worst probability error, unfused ${unfusedError.toExponential(2)}, fused ${fusedError.toExponential(2)}`);
    expect(unfusedError).toBeLessThan(1e-11);
    expect(fusedError).toBeLessThan(1e-11);
    expect(fusedError).toBeLessThanOrEqual(Math.max(10 * unfusedError, 1e-13));
  });

  const table = makeClusters({ seed: 5, classes: ['a', 'b', 'c', 'd', 'e'], perClass: 30, width: 12, separation: 1.5, scale: 10, offset: 100 });

  it('kNN: predictFused is predictCompiled, and the batch is predictCompiled row by row', () => {
    const model = compileModel(fit(table, { classifier: 'knn', k: 5, components: 5 }));
    expect(model.fused.length).toBe(0);
    const probes = probeRows(table, 61, 3);
    const a = new Float64Array(5);
    const b = new Float64Array(5);
    const batch = new Int32Array(61);
    predictClassesBatch(model, probes, 61, batch);
    const seen = new Set<number>();
    for (let i = 0; i < 61; i++) {
      const best = predictCompiled(model, probes, i * 12, a);
      expect(predictFused(model, probes, i * 12, b)).toBe(best);
      expect(Array.from(b)).toEqual(Array.from(a));
      expect(batch[i]).toBe(best);
      seen.add(best);
    }
    expect(seen.size).toBeGreaterThan(1);
  });

  it('the batch writes only out[0 .. count), reads rows at their offsets, and handles 0 to 9 rows', () => {
    const model = compileModel(fit(table, { classifier: 'lda' }));
    const probs = new Float64Array(5);
    const single = Array.from({ length: table.count }, (_, i) => predictFused(model, table.x, i * table.width, probs));
    expect(new Set(single).size).toBe(5);
    for (let count = 0; count <= 9; count++) {
      for (const start of [0, 1, 6]) {
        const out = new Int32Array(count + 3).fill(-7);
        predictClassesBatch(model, table.x.subarray(start * table.width), count, out);
        expect(Array.from(out.subarray(0, count))).toEqual(single.slice(start, start + count));
        expect(Array.from(out.subarray(count))).toEqual([-7, -7, -7]);
      }
    }
  });

  it('a row with a NaN gets the same class from every path', () => {
    const model = compileModel(fit(table, { classifier: 'logreg' }));
    const rows = Float64Array.from(table.x.subarray(0, 6 * table.width));
    rows[2 * table.width + 3] = NaN;
    const probs = new Float64Array(5);
    const out = new Int32Array(6);
    predictClassesBatch(model, rows, 6, out);
    for (let i = 0; i < 6; i++) {
      const unfused = predictCompiled(model, rows, i * table.width, probs);
      expect(predictFused(model, rows, i * table.width, probs)).toBe(unfused);
      expect(out[i]).toBe(unfused);
    }
  });

  it('follows the offset when drift adaptation moves it, and comes back when it is reset', () => {
    const model = compileModel(fit(table, { classifier: 'lda' }));
    const before = Float64Array.from(model.offset);
    // What applyAdaptation does: the scaler mean moves, so the offset of each component moves.
    for (let c = 0; c < model.components; c++) model.offset[c]! += 0.8 * (c % 2 === 0 ? 1 : -1);
    const moved = expectAgreement(model, table.x, table.count);
    expect(moved.rows).toBe(table.count);
    const fresh = compileModel(fit(table, { classifier: 'lda' }));
    const out = new Int32Array(table.count);
    const freshOut = new Int32Array(table.count);
    predictClassesBatch(model, table.x, table.count, out);
    predictClassesBatch(fresh, table.x, table.count, freshOut);
    expect(Array.from(out)).not.toEqual(Array.from(freshOut));
    model.offset.set(before);
    predictClassesBatch(model, table.x, table.count, out);
    expect(Array.from(out)).toEqual(Array.from(freshOut));
    expectAgreement(model, table.x, table.count);
  });

  it('misuse throws EnoseError bad-usage', () => {
    const model = compileModel(fit(table, { classifier: 'lda' }));
    const attempts: (() => void)[] = [
      () => predictClassesBatch(model, table.x, table.count + 1, new Int32Array(table.count + 1)),
      () => predictClassesBatch(model, table.x, 10, new Int32Array(9)),
      () => predictClassesBatch(model, table.x, -1, new Int32Array(1)),
      () => predictClassesBatch(model, table.x, 1.5, new Int32Array(2)),
    ];
    for (const attempt of attempts) {
      let caught: unknown = null;
      try {
        attempt();
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(EnoseError);
      expect((caught as EnoseError).code).toBe('bad-usage');
    }
  });
});

const haveDrift = haveShared('datasets', 'uci-gas-drift', 'raw');

async function driftBatch(b: number): Promise<FeatureTable> {
  const read = await readDataset(`${DRIFT_RAW}/batch${b}.dat`);
  if (!read.ok || read.value.kind !== 'features') throw new Error(`cannot read batch${b}`);
  return read.value.table;
}

describe('predictFused and predictClassesBatch on the raw drift data (train batch 1, test batches 2 and 3)', () => {
  const pipelines: [string, ClassifierKind, FitOptions][] = [
    ['PCA 0.99 + LDA', 'lda', { variance: 0.99 }],
    ['PCA 0.99 + logistic regression', 'logreg', { variance: 0.99 }],
    ['full rotation + logistic regression', 'logreg', { components: 128 }],
    ['signed-log, PCA 0.99 + LDA', 'lda', { variance: 0.99, transform: 'signed-log' }],
  ];
  for (const [name, classifier, options] of pipelines) {
    it.skipIf(!haveDrift)(`${name}: the same class on every row, probabilities within 1e-12`, async () => {
      const train = await driftBatch(1);
      const model = compileModel(fit(train, { classifier, ...options }));
      expect(model.width).toBe(128);
      for (const b of [2, 3]) {
        const test = await driftBatch(b);
        const agreement = expectAgreement(model, test.x, test.count);
        console.info(`${name}, batch ${b}: ${agreement.rows} rows, worst probability difference ${agreement.worstProbability.toExponential(2)}`);
        expect(agreement.uncertain).toBeGreaterThan(0);
      }
    });
  }
});

describe('predictForVerdict (the engine judge path)', () => {
  const table = makeClusters({ seed: 21, classes: ['clear', 'cocaine', 'heroin'], perClass: 120, width: 30, separation: 0.8 });
  const x = probeRows(table, 300, 5);

  it('gives predictCompiled\'s class and probabilities to 1e-12, and the same leading scores and novelty, with fewer components projected', () => {
    for (const classifier of ['lda', 'logreg'] as ClassifierKind[]) {
      const bundle = fit(table, { classifier, variance: 1, noveltyQuantile: 0.95, noveltyComponents: 4 });
      expect(bundle.pca.components).toBeGreaterThan(10);
      const a = compileModel(bundle);
      const b = compileModel(bundle);
      const pa = new Float64Array(a.classCount);
      const pb = new Float64Array(b.classCount);
      for (let i = 0; i < 300; i++) {
        b.scores.fill(NaN);
        const full = predictCompiled(a, x, i * table.width, pa);
        const fast = predictForVerdict(b, x, i * table.width, pb, 2);
        expect(fast).toBe(full);
        for (let c = 0; c < a.classCount; c++) expect(Math.abs(pa[c]! - pb[c]!)).toBeLessThanOrEqual(PROB_TOLERANCE);
        // The novelty limit's 4 leading scores are computed exactly as predictCompiled computes them; the rest not.
        expect(Array.from(b.scores.subarray(0, 4))).toEqual(Array.from(a.scores.subarray(0, 4)));
        expect(Number.isNaN(b.scores[4]!)).toBe(true);
        expect(noveltyOfLast(b)).toBe(noveltyOfLast(a));
      }
      // Asking for more leading scores (the report's plot) computes them too.
      b.scores.fill(NaN);
      predictForVerdict(b, x, 0, pb, 6);
      predictCompiled(a, x, 0, pa);
      expect(Array.from(b.scores.subarray(0, 6))).toEqual(Array.from(a.scores.subarray(0, 6)));
    }
  });

  it('is predictCompiled for kNN, and for a novelty limit on every component', () => {
    for (const options of [{ classifier: 'knn' as const, noveltyQuantile: 0.95 }, { classifier: 'lda' as const, noveltyQuantile: 0.95 }]) {
      const bundle = fit(table, options);
      const a = compileModel(bundle);
      const b = compileModel(bundle);
      const pa = new Float64Array(a.classCount);
      const pb = new Float64Array(b.classCount);
      for (let i = 0; i < 50; i++) {
        expect(predictForVerdict(b, x, i * table.width, pb)).toBe(predictCompiled(a, x, i * table.width, pa));
        expect(Array.from(pb)).toEqual(Array.from(pa));
        expect(Array.from(b.scores)).toEqual(Array.from(a.scores));
      }
    }
  });
});
