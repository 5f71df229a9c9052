/**
 * The MLP classifier (src/model/fitting/mlp.ts): it learns what a linear model cannot, it is deterministic, its compiled
 * prediction equals a plain forward pass, it survives the model file, and its verdict policy is calibrated on
 * one held-out fold.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readDataset } from '../../src/io/datasets/index.js';
import { parseBundle, serializeBundle, type ModelBundle } from '../../src/model/runtime/bundle.js';
import { foldZMap } from '../../src/model/drift/correction.js';
import { fitMlp } from '../../src/model/fitting/mlp.js';
import {
  compileModel,
  predictClassesBatch,
  predictCompiled,
  predictForVerdict,
  predictFused,
} from '../../src/model/runtime/pipeline.js';
import { fitModel, type FitOptions } from '../../src/model/fitting/fitModel.js';
import type { FeatureTable } from '../../src/types.js';
import { DRIFT_RAW, haveShared, REPO_ROOT } from '../helpers/shared.js';
import { gaussian, mulberry32 } from '../helpers/synthetic.js';

/**
 * Rings: class by the distance from the origin in the first two of `width` features (the rest noise), three
 * classes named clear, cocaine, heroin. No linear boundary separates a ring from the disc it surrounds.
 */
function rings(count: number, seed: number, width = 6): FeatureTable {
  const rand = mulberry32(seed);
  const normal = gaussian(rand);
  const classes = ['clear', 'cocaine', 'heroin'];
  const x = new Float64Array(count * width);
  const labels: string[] = [];
  for (let i = 0; i < count; i++) {
    const c = i % 3;
    const radius = [0.5, 1.5, 2.5][c]! + 0.15 * normal();
    const angle = 2 * Math.PI * rand();
    x[i * width] = radius * Math.cos(angle);
    x[i * width + 1] = radius * Math.sin(angle);
    for (let j = 2; j < width; j++) x[i * width + j] = 0.3 * normal();
    labels.push(classes[c]!);
  }
  return { x, count, width, labels, samples: labels.map((_, i) => `s${i}`), groups: labels.map(() => 'g'), featureNames: Array.from({ length: width }, (_, j) => `f${j}`), source: 'rings' };
}

const input = (t: FeatureTable) => ({ kind: 'features' as const, featureNames: [...t.featureNames] });
const MLP: FitOptions = { classifier: 'mlp', variance: 1, noveltyQuantile: 0.99, mlp: { hidden: [16, 8], maxEpochs: 150, networks: 2, seed: 3 } };

function accuracy(bundle: ModelBundle, t: FeatureTable): number {
  const m = compileModel(bundle);
  const probs = new Float64Array(bundle.classes.length);
  let right = 0;
  for (let i = 0; i < t.count; i++) if (bundle.classes[predictCompiled(m, t.x, i * t.width, probs)] === t.labels[i]) right++;
  return right / t.count;
}

/** A plain forward pass (ReLU hidden layers, softmax, probabilities averaged over networks) on PCA scores. */
function referenceForward(bundle: ModelBundle, row: Float64Array): number[] {
  const cl = bundle.classifier;
  if (cl.type !== 'mlp') throw new Error('not an mlp');
  const k = bundle.pca.components;
  const width = bundle.scaler.mean.length;
  const z = Array.from(row, (v, j) => (v - bundle.scaler.mean[j]!) / bundle.scaler.scale[j]!);
  let s = Array.from({ length: k }, (_, c) => z.reduce((acc, v, j) => acc + v * bundle.pca.axes[j * k + c]!, 0));
  expect(z.length).toBe(width);
  const avg = new Array<number>(bundle.classes.length).fill(0);
  const scores = s;
  for (const net of cl.networks) {
    s = scores;
    net.layers.forEach((layer, l) => {
      const out = Array.from({ length: layer.outputs }, (_, o) => layer.bias[o]! + s.reduce((acc, v, i) => acc + v * layer.weights[i * layer.outputs + o]!, 0));
      s = l < net.layers.length - 1 ? out.map((v) => Math.max(0, v)) : out;
    });
    const max = Math.max(...s);
    const e = s.map((v) => Math.exp(v - max));
    const sum = e.reduce((a, b) => a + b, 0);
    e.forEach((v, c) => (avg[c]! += v / sum / cl.networks.length));
  }
  return avg;
}

describe('MLP classifier', () => {
  const train = rings(3000, 1);
  const test = rings(600, 2);
  const mlp = fitModel(train, input(train), MLP);

  it('learns rings that logistic regression cannot separate', () => {
    const linear = fitModel(train, input(train), { classifier: 'logreg', variance: 1, noveltyQuantile: 0 });
    const a = accuracy(mlp, test);
    const b = accuracy(linear, test);
    console.log(`rings, 600 test rows: MLP (16-8, 2 networks) ${(100 * a).toFixed(1)}%, logistic regression ${(100 * b).toFixed(1)}%`);
    expect(a).toBeGreaterThan(0.95);
    expect(b).toBeLessThan(0.6);
  });

  it('keeps the best epoch of each network, stopped early by its validation accuracy', () => {
    const cl = mlp.classifier;
    if (cl.type !== 'mlp') throw new Error('not an mlp');
    expect(cl.networks).toHaveLength(2);
    for (const net of cl.networks) {
      expect(net.epochs).toBeLessThan(150);
      expect(net.bestEpoch).toBeLessThanOrEqual(net.epochs);
      expect(net.epochs - net.bestEpoch).toBeGreaterThanOrEqual(10); // patience: 10 epochs without gain
      expect(net.validationAccuracy).toBeGreaterThan(0.9);
      expect(net.layers.map((l) => [l.inputs, l.outputs])).toEqual([[mlp.pca.components, 16], [16, 8], [8, 3]]);
    }
    // The two networks start from different seeds.
    expect(cl.networks[0]!.layers[0]!.weights[0]).not.toBe(cl.networks[1]!.layers[0]!.weights[0]);
  });

  it('is deterministic for a seed, and another seed gives another model', () => {
    const again = fitModel(train, input(train), MLP);
    expect(again.id).toBe(mlp.id);
    const other = fitModel(train, input(train), { ...MLP, mlp: { ...MLP.mlp, seed: 4 } });
    expect(other.id).not.toBe(mlp.id);
  });

  it('predicts what a plain forward pass gives, on every path, and the same after the model file', () => {
    const reloaded = parseBundle(JSON.parse(serializeBundle(mlp)), 'mlp.json');
    expect(reloaded.ok).toBe(true);
    if (!reloaded.ok) return;
    const a = compileModel(mlp);
    const b = compileModel(reloaded.value);
    const pa = new Float64Array(3);
    const pb = new Float64Array(3);
    const batch = new Int32Array(test.count);
    predictClassesBatch(a, test.x, test.count, batch);
    for (let i = 0; i < 100; i++) {
      const row = test.x.subarray(i * test.width, (i + 1) * test.width);
      const best = predictCompiled(a, test.x, i * test.width, pa);
      const ref = referenceForward(mlp, Float64Array.from(row));
      for (let c = 0; c < 3; c++) expect(Math.abs(pa[c]! - ref[c]!)).toBeLessThan(1e-12);
      expect(predictCompiled(b, test.x, i * test.width, pb)).toBe(best);
      expect(Array.from(pb)).toEqual(Array.from(pa));
      // The verdict path runs the networks with the projection folded into their first layers: the same
      // probabilities up to rounding, bit-identical between a model and its reloaded file.
      const fusedBest = predictFused(a, test.x, i * test.width, pa);
      for (let c = 0; c < 3; c++) expect(Math.abs(pa[c]! - ref[c]!)).toBeLessThan(1e-12);
      expect(predictFused(b, test.x, i * test.width, pb)).toBe(fusedBest);
      expect(Array.from(pb)).toEqual(Array.from(pa));
      b.scores.fill(Number.NaN);
      expect(predictForVerdict(b, test.x, i * test.width, pb)).toBe(fusedBest);
      expect(Array.from(pb)).toEqual(Array.from(pa));
      expect(batch[i]).toBe(fusedBest);
      // the leading PCA scores the novelty limit reads are still computed, as predictCompiled computes them
      predictCompiled(a, test.x, i * test.width, pa);
      expect(b.noveltyCount).toBeGreaterThan(0);
      expect(Array.from(b.scores.subarray(0, b.noveltyDimensions))).toEqual(Array.from(a.scores.subarray(0, b.noveltyDimensions)));
    }
  });

  it('the folded first layers follow a projection offset moved by drift adaptation', () => {
    const a = compileModel(mlp);
    const b = compileModel(mlp);
    const pa = new Float64Array(3);
    const pb = new Float64Array(3);
    for (let m = 0; m < a.offset.length; m++) {
      a.offset[m]! += 0.05 * (m + 1);
      b.offset[m]! += 0.05 * (m + 1);
    }
    let changed = 0;
    for (let i = 0; i < 100; i++) {
      predictCompiled(a, test.x, i * test.width, pa);
      predictForVerdict(b, test.x, i * test.width, pb);
      for (let c = 0; c < 3; c++) expect(Math.abs(pa[c]! - pb[c]!)).toBeLessThan(1e-12);
      const ref = referenceForward(mlp, Float64Array.from(test.x.subarray(i * test.width, (i + 1) * test.width)));
      if (Math.abs(ref[0]! - pb[0]!) > 1e-6) changed++;
    }
    expect(changed).toBeGreaterThan(0);
  });

  it('calibrates its policy on one held-out fold of five, and trains on the other four', () => {
    expect(mlp.training.count).toBe(2400);
    expect(mlp.policy!.calibration.clearSamples).toBe(200);
    expect(mlp.policy!.calibration.suspiciousSamples).toBe(400);
    expect(mlp.policy!.calibration.note).toMatch(/one held-out fold of 5/);
    expect(mlp.policy!.calibration.falseAlarmRate!).toBeLessThanOrEqual(0.01 + 1e-12);
    expect(mlp.training.cvAccuracy!).toBeGreaterThan(0.95);
    expect(mlp.training.options['mlp']).toMatchObject({ hidden: [16, 8], networks: 2, alpha: 0.001 });
  });

  it('a correction folded into the model (an offset in z-space) moves the first layer\'s biases: the same probabilities', () => {
    const width = train.width;
    const v = Float64Array.from({ length: width }, (_, j) => 0.3 * (j + 1) - 0.8);
    const moved = foldZMap(mlp, mlp.scaler, { kind: 'diagonal', diagonal: new Float64Array(width).fill(1), offset: v }, { parent: mlp.hash, method: 'test', reference: null });
    const a = compileModel(mlp);
    const b = compileModel(moved);
    const pa = new Float64Array(3);
    const pb = new Float64Array(3);
    const shifted = new Float64Array(width);
    for (let i = 0; i < 50; i++) {
      // The parent sees z + v where the moved model sees z: x + v * scale.
      for (let j = 0; j < width; j++) shifted[j] = test.x[i * width + j]! + v[j]! * mlp.scaler.scale[j]!;
      predictCompiled(a, shifted, 0, pa);
      predictCompiled(b, test.x, i * width, pb);
      for (let c = 0; c < 3; c++) expect(Math.abs(pa[c]! - pb[c]!)).toBeLessThan(1e-9);
    }
  });

  it('rejects a model file whose layers do not chain, in one line', () => {
    const doc = JSON.parse(serializeBundle(mlp));
    doc.classifier.networks[0].layers[1].inputs = 15;
    doc.classifier.networks[0].layers[1].weights = doc.classifier.networks[0].layers[1].weights.slice(8);
    const bad = parseBundle(doc, 'mlp.json');
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error.reason).toMatch(/^invalid model: mlp network 1 layer 2 takes 15 inputs, 16 expected$/);
  });

  it('refuses bad settings in one line', () => {
    const scores = new Float64Array(40);
    const labels = new Int32Array(20).map((_, i) => i % 2);
    expect(() => fitMlp(scores, 20, 2, labels, 2, { hidden: [] })).toThrow(/--hidden must list layer sizes/);
    expect(() => fitMlp(scores, 20, 2, labels, 2, { alpha: -1 })).toThrow(/--alpha/);
    expect(() => fitMlp(scores, 20, 2, labels, 2, { networks: 0 })).toThrow(/--networks/);
  });
});

const haveDrift = haveShared('datasets', 'uci-gas-drift', 'raw', 'batch2.dat');
if (!haveDrift) console.warn('skipping the MLP peer test: ../shared/datasets/uci-gas-drift/raw/batch2.dat is absent');

describe('MLP against scikit-learn on real data (raw drift batch 2, 5-fold CV)', () => {
  it.skipIf(!haveDrift)('is as accurate as scikit-learn\'s MLPClassifier with the same setting, over five seeds', async () => {
    const golden = JSON.parse(readFileSync(join(REPO_ROOT, 'tests', 'model', 'golden', 'sklearn-mlp.json'), 'utf8')) as { accuracyPerSeed: number[]; meanAccuracy: number };
    const read = await readDataset(`${DRIFT_RAW}/batch2.dat`);
    if (!read.ok || read.value.kind !== 'features') throw new Error('cannot read batch2');
    const t = read.value.table;
    const rowsOf = (pick: (i: number) => boolean): FeatureTable => {
      const idx = Array.from({ length: t.count }, (_, i) => i).filter(pick);
      const x = new Float64Array(idx.length * t.width);
      idx.forEach((r, i) => x.set(t.x.subarray(r * t.width, (r + 1) * t.width), i * t.width));
      const take = <T>(a: readonly T[]) => idx.map((r) => a[r]!);
      return { ...t, x, count: idx.length, labels: take(t.labels), samples: take(t.samples), groups: take(t.groups) };
    };
    const perSeed: number[] = [];
    for (let seed = 1; seed <= 5; seed++) {
      let right = 0;
      for (let f = 0; f < 5; f++) {
        const train = rowsOf((i) => i % 5 !== f);
        const test = rowsOf((i) => i % 5 === f);
        const bundle = fitModel(train, input(train), { classifier: 'mlp', variance: 1, cvFolds: 0, noveltyQuantile: 0, mlp: { hidden: [64], alpha: 1e-3, seed } });
        right += accuracy(bundle, test) * test.count;
      }
      perSeed.push((100 * right) / t.count);
    }
    const mean = perSeed.reduce((s, v) => s + v, 0) / perSeed.length;
    console.log(`drift batch 2, 5-fold CV, MLP (64), five seeds: engine ${perSeed.map((v) => v.toFixed(2)).join(' / ')} (mean ${mean.toFixed(2)}%), scikit-learn ${golden.accuracyPerSeed.join(' / ')} (mean ${golden.meanAccuracy}%)`);
    expect(mean).toBeGreaterThan(golden.meanAccuracy - 2);
    expect(Math.min(...perSeed)).toBeGreaterThan(Math.min(...golden.accuracyPerSeed) - 3);
  });
});
