import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { describe, expect, it } from 'vitest';
import { fitLda } from '../../src/model/runtime/lda.js';
import { gaussian, mulberry32 } from '../helpers/synthetic.js';

/** fitLda as it was written before the flat kernels (ml-matrix get/set throughout): the reference. */
function referenceLda(scores: Float64Array, count: number, dimensions: number, labels: Int32Array, classCount: number) {
  const means = new Float64Array(classCount * dimensions);
  const counts = new Float64Array(classCount);
  for (let i = 0; i < count; i++) {
    counts[labels[i]!]!++;
    for (let j = 0; j < dimensions; j++) means[labels[i]! * dimensions + j]! += scores[i * dimensions + j]!;
  }
  for (let c = 0; c < classCount; c++) for (let j = 0; j < dimensions; j++) means[c * dimensions + j]! /= Math.max(1, counts[c]!);
  const within = new Matrix(dimensions, dimensions);
  const diff = new Float64Array(dimensions);
  for (let i = 0; i < count; i++) {
    for (let j = 0; j < dimensions; j++) diff[j] = scores[i * dimensions + j]! - means[labels[i]! * dimensions + j]!;
    for (let a = 0; a < dimensions; a++) for (let b = a; b < dimensions; b++) within.set(a, b, within.get(a, b) + diff[a]! * diff[b]!);
  }
  for (let a = 0; a < dimensions; a++) {
    for (let b = a; b < dimensions; b++) {
      const v = within.get(a, b) / Math.max(1, count - classCount);
      within.set(a, b, v);
      within.set(b, a, v);
    }
  }
  const evd = new EigenvalueDecomposition(within, { assumeSymmetric: true });
  const values = evd.realEigenvalues;
  const largest = Math.max(...values.map(Math.abs));
  const precision = new Matrix(dimensions, dimensions);
  for (let c = 0; c < dimensions; c++) {
    if (!(values[c]! > largest * 1e-10)) continue;
    const inv = 1 / values[c]!;
    for (let a = 0; a < dimensions; a++) {
      const va = evd.eigenvectorMatrix.get(a, c) * inv;
      if (va === 0) continue;
      for (let b = 0; b < dimensions; b++) precision.set(a, b, precision.get(a, b) + va * evd.eigenvectorMatrix.get(b, c));
    }
  }
  const coef: number[] = [];
  const intercept: number[] = [];
  for (let c = 0; c < classCount; c++) {
    let quad = 0;
    for (let a = 0; a < dimensions; a++) {
      let s = 0;
      for (let b = 0; b < dimensions; b++) s += precision.get(a, b) * means[c * dimensions + b]!;
      coef.push(s);
      quad += s * means[c * dimensions + a]!;
    }
    intercept.push(-0.5 * quad + Math.log(counts[c]! / count));
  }
  return { coef, intercept };
}

describe('fitLda', () => {
  it('gives the coefficients of the get/set reference bit for bit (full rank and rank-deficient scores)', () => {
    for (const [seed, count, dimensions, classCount, deficient] of [
      [1, 7, 3, 2, false],
      [2, 101, 5, 3, false],
      [3, 250, 25, 6, false],
      [4, 64, 9, 4, true],
    ] as const) {
      const normal = gaussian(mulberry32(seed));
      const labels = Int32Array.from({ length: count }, (_, i) => i % classCount);
      const scores = Float64Array.from({ length: count * dimensions }, (_, i) => normal() * 5 + labels[Math.floor(i / dimensions)]!);
      // A copied column makes the within-class covariance singular: the pseudo-inverse path.
      if (deficient) for (let i = 0; i < count; i++) scores[i * dimensions + dimensions - 1] = scores[i * dimensions]!;
      const ours = fitLda(scores, count, dimensions, labels, classCount);
      const reference = referenceLda(scores, count, dimensions, labels, classCount);
      expect(Array.from(ours.coef), `case ${seed}`).toEqual(reference.coef);
      expect(Array.from(ours.intercept), `case ${seed}`).toEqual(reference.intercept);
    }
  });
});
