import { Matrix, SVD } from 'ml-matrix';
import { PCA } from 'ml-pca';
import { describe, expect, it } from 'vitest';
import { readDataset } from '../../src/io/datasets/index.js';
import { covarianceOfCentred, fitPca, projectCentred, type PcaModel } from '../../src/model/fitting/pca.js';
import { applyScaler, fitScaler } from '../../src/model/runtime/scaler.js';
import { compileModel, predictCompiled } from '../../src/model/runtime/pipeline.js';
import { fitModel } from '../../src/model/fitting/fitModel.js';
import type { FeatureTable } from '../../src/types.js';
import { DRIFT_RAW, haveShared } from '../helpers/shared.js';
import { makeClusters } from '../helpers/synthetic.js';

/** Reference scores: an SVD of the centred, scaled data with ml-matrix (independent of the covariance route). */
function svdScores(table: FeatureTable, k: number): Matrix {
  const scaler = fitScaler(table.x, table.count, table.width);
  const z = applyScaler(scaler, table.x, table.count, table.width);
  const m = new Matrix(table.count, table.width);
  for (let i = 0; i < table.count; i++) for (let j = 0; j < table.width; j++) m.set(i, j, z[i * table.width + j]!);
  const svd = new SVD(m, { computeLeftSingularVectors: false, computeRightSingularVectors: true, autoTranspose: true });
  return m.mmul(svd.rightSingularVectors.subMatrix(0, table.width - 1, 0, k - 1));
}

function expectScoresEqualUpToSign(table: FeatureTable, k: number, tolerance: number): number {
  const reference = svdScores(table, k);
  const bundle = fitModel(table, { kind: 'features', featureNames: [...table.featureNames] }, { classifier: 'lda', components: k, cvFolds: 0 });
  const model = compileModel(bundle);
  const probs = new Float64Array(bundle.classes.length);
  const ours = new Float64Array(table.count * k);
  for (let i = 0; i < table.count; i++) {
    predictCompiled(model, table.x, i * table.width, probs);
    ours.set(model.scores, i * k);
  }
  let worst = 0;
  for (let c = 0; c < k; c++) {
    // Fix the sign of the reference column by its largest entry against ours.
    let dot = 0;
    for (let i = 0; i < table.count; i++) dot += ours[i * k + c]! * reference.get(i, c);
    const sign = dot < 0 ? -1 : 1;
    for (let i = 0; i < table.count; i++) {
      const diff = Math.abs(ours[i * k + c]! - sign * reference.get(i, c));
      worst = Math.max(worst, diff);
    }
  }
  expect(worst).toBeLessThan(tolerance);
  return worst;
}

describe('PCA through the covariance matrix', () => {
  it('gives the scores of an SVD of the centred, scaled data (synthetic, badly scaled features)', () => {
    const table = makeClusters({ seed: 7, classes: ['a', 'b', 'c'], perClass: 60, width: 12, separation: 3, scale: 1000, offset: 5e4 });
    expectScoresEqualUpToSign(table, 6, 1e-9);
  });

  it.skipIf(!haveShared('datasets', 'uci-gas-drift', 'raw'))('gives the scores of an SVD on the real drift data (batch 1, 20 components) to 1e-9', async () => {
    const read = await readDataset(`${DRIFT_RAW}/batch1.dat`);
    if (!read.ok || read.value.kind !== 'features') throw new Error('could not read batch1');
    const worst = expectScoresEqualUpToSign(read.value.table, 20, 1e-9);
    console.info(`PCA vs SVD on drift batch 1: largest score difference ${worst.toExponential(2)}`);
  });

  it('chooses the fewest components that explain the requested variance', () => {
    const table = makeClusters({ seed: 3, classes: ['a', 'b'], perClass: 50, width: 8, separation: 2 });
    const scaler = fitScaler(table.x, table.count, table.width);
    const z = applyScaler(scaler, table.x, table.count, table.width);
    const all = fitPca(z, table.count, table.width, { components: 8 });
    const cumulative = all.varianceRatio.map((_, i) => all.varianceRatio.slice(0, i + 1).reduce((s, v) => s + v, 0));
    const chosen = fitPca(z, table.count, table.width, { variance: 0.9 });
    expect(cumulative[chosen.components - 1]).toBeGreaterThanOrEqual(0.9 - 1e-12);
    if (chosen.components > 1) expect(cumulative[chosen.components - 2]).toBeLessThan(0.9);
    expect(all.variance[0]).toBeGreaterThanOrEqual(all.variance[1]!);
  });

  it('projects rows on the axes as the plain loop does, bit for bit, for every remainder of rows (2) and axes (4)', () => {
    const table = makeClusters({ seed: 5, classes: ['a', 'b', 'c'], perClass: 7, width: 11, separation: 2 });
    const scaler = fitScaler(table.x, table.count, table.width);
    const z = applyScaler(scaler, table.x, table.count, table.width);
    for (const components of [1, 2, 3, 4, 5, 6, 7, 8, 9, 11]) {
      const pca = fitPca(z, table.count, table.width, { components });
      for (const count of [table.count, table.count - 1, 1]) {
        const ours = projectCentred(z, count, pca);
        const plain = new Float64Array(count * components);
        for (let i = 0; i < count; i++) {
          for (let c = 0; c < components; c++) {
            let s = 0;
            for (let j = 0; j < table.width; j++) s += z[i * table.width + j]! * pca.axes[j * components + c]!;
            plain[i * components + c] = s;
          }
        }
        expect(Array.from(ours), `${count} rows, ${components} axes`).toEqual(Array.from(plain));
      }
    }
  });

  it('uses the population standard deviation and leaves constant features unscaled', () => {
    const x = Float64Array.from([1, 5, 3, 5, 5, 5]); // 3 rows x 2 features; the second is constant
    const s = fitScaler(x, 3, 2);
    expect(s.mean[0]).toBeCloseTo(3, 15);
    expect(s.scale[0]).toBeCloseTo(Math.sqrt(8 / 3), 15);
    expect(s.scale[1]).toBe(1);
  });
});

/**
 * fitPca as it was before symmetricEigen: ml-pca's covariance route (`isCovarianceMatrix`, ml-matrix
 * EigenvalueDecomposition, eigenvalues reversed and vector columns flipped), then the same clamp and signs.
 */
function mlPcaAxes(z: Float64Array, count: number, width: number, components: number): { axes: number[]; variance: number[]; total: number } {
  const pca = new PCA(covarianceOfCentred(z, count, width), { isCovarianceMatrix: true });
  const vectors = pca.getEigenvectors();
  const eigenvalues = pca.getEigenvalues().map((v) => Math.max(0, v));
  const axes = new Array<number>(width * components);
  for (let c = 0; c < components; c++) {
    let largest = 0;
    for (let j = 0; j < width; j++) if (Math.abs(vectors.get(j, c)) > Math.abs(largest)) largest = vectors.get(j, c);
    const sign = largest < 0 ? -1 : 1;
    for (let j = 0; j < width; j++) axes[j * components + c] = sign * vectors.get(j, c);
  }
  return { axes, variance: eigenvalues.slice(0, components), total: eigenvalues.reduce((s, v) => s + v, 0) };
}

function expectSameAsMlPca(model: PcaModel, z: Float64Array, count: number): void {
  const reference = mlPcaAxes(z, count, model.width, model.components);
  const differing = (a: readonly number[], b: readonly number[]): number => a.reduce((n, v, i) => n + (Object.is(v, b[i]) ? 0 : 1), 0);
  expect(model.axes.length).toBe(reference.axes.length);
  expect(differing(model.axes, reference.axes), 'axes differing from ml-pca').toBe(0);
  expect(differing(model.variance, reference.variance), 'variances differing from ml-pca').toBe(0);
  const ratios = reference.variance.map((v) => (reference.total > 0 ? v / reference.total : 0));
  expect(differing(model.varianceRatio, ratios), 'variance ratios differing from ml-pca').toBe(0);
}

describe('fitPca equals the ml-pca covariance route bit for bit', () => {
  it('on synthetic data, badly scaled, for several component counts and a variance share', () => {
    const table = makeClusters({ seed: 17, classes: ['a', 'b', 'c'], perClass: 40, width: 23, separation: 2, scale: 1000, offset: 5e4 });
    const scaler = fitScaler(table.x, table.count, table.width);
    const z = applyScaler(scaler, table.x, table.count, table.width);
    for (const components of [1, 5, 23]) expectSameAsMlPca(fitPca(z, table.count, table.width, { components }), z, table.count);
    const byVariance = fitPca(z, table.count, table.width, { variance: 0.95 });
    expect(byVariance.components).toBeGreaterThan(1);
    expectSameAsMlPca(byVariance, z, table.count);
  });

  it.skipIf(!haveShared('datasets', 'uci-gas-drift', 'raw'))('on the real drift data (batch 1 and batch 2, PCA 0.99 and 20 components)', async () => {
    for (const b of [1, 2]) {
      const read = await readDataset(`${DRIFT_RAW}/batch${b}.dat`);
      if (!read.ok || read.value.kind !== 'features') throw new Error(`could not read batch${b}`);
      const table = read.value.table;
      const scaler = fitScaler(table.x, table.count, table.width);
      const z = applyScaler(scaler, table.x, table.count, table.width);
      expectSameAsMlPca(fitPca(z, table.count, table.width, { variance: 0.99 }), z, table.count);
      expectSameAsMlPca(fitPca(z, table.count, table.width, { components: 20 }), z, table.count);
    }
  });
});
