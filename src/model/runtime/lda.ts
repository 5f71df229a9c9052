/**
 * Linear discriminant analysis (Fisher 1936; Hastie, Tibshirani, Friedman, ESL 2nd ed. section 4.3): class means,
 * one pooled within-class covariance (n - classes denominator, as scikit-learn), priors from the class shares.
 */
import { crossProductUpper, pseudoInverseSymmetricFlat, symmetrizeScaled } from '../numeric/linalg.js';

/** Linear scores `coef . x + intercept` per class, turned into probabilities by a softmax. */
export interface LinearModel<T extends 'lda' | 'logreg' = 'lda' | 'logreg'> {
  readonly type: T;
  /** classes x dimensions, row-major. */
  readonly coef: readonly number[];
  readonly intercept: readonly number[];
}

export function fitLda(scores: Float64Array, count: number, dimensions: number, labels: Int32Array, classCount: number): LinearModel<'lda'> {
  const means = new Float64Array(classCount * dimensions);
  const counts = new Float64Array(classCount);
  for (let i = 0; i < count; i++) {
    const c = labels[i];
    counts[c]++;
    for (let j = 0; j < dimensions; j++) means[c * dimensions + j] += scores[i * dimensions + j];
  }
  for (let c = 0; c < classCount; c++) {
    for (let j = 0; j < dimensions; j++) means[c * dimensions + j] /= Math.max(1, counts[c]);
  }
  // Pooled within-class scatter: the cross product of the rows centred on their class means.
  const centred = new Float64Array(count * dimensions);
  for (let i = 0; i < count; i++) {
    const base = i * dimensions;
    const mean = labels[i] * dimensions;
    for (let j = 0; j < dimensions; j++) centred[base + j] = scores[base + j] - means[mean + j];
  }
  const within = symmetrizeScaled(crossProductUpper(centred, count, dimensions), dimensions, Math.max(1, count - classCount));
  const precision = pseudoInverseSymmetricFlat(within, dimensions);
  const coef = new Array<number>(classCount * dimensions).fill(0);
  const intercept = new Array<number>(classCount).fill(0);
  for (let c = 0; c < classCount; c++) {
    let quad = 0;
    for (let a = 0; a < dimensions; a++) {
      let s = 0;
      for (let b = 0; b < dimensions; b++) s += precision[a * dimensions + b] * means[c * dimensions + b];
      coef[c * dimensions + a] = s;
      quad += s * means[c * dimensions + a];
    }
    intercept[c] = -0.5 * quad + Math.log(counts[c] / count);
  }
  return Object.freeze({ type: 'lda' as const, coef: Object.freeze(coef), intercept: Object.freeze(intercept) });
}

/** Writes softmax(coef . x + intercept) into `out`; allocation-free. */
export function predictLinearInto(
  coef: Float64Array,
  intercept: Float64Array,
  dimensions: number,
  x: Float64Array,
  out: Float64Array,
): void {
  const classCount = intercept.length;
  let max = -Infinity;
  for (let c = 0; c < classCount; c++) {
    let s = intercept[c];
    const base = c * dimensions;
    for (let j = 0; j < dimensions; j++) s += coef[base + j] * x[j];
    out[c] = s;
    if (s > max) max = s;
  }
  let sum = 0;
  for (let c = 0; c < classCount; c++) {
    const e = Math.exp(out[c] - max);
    out[c] = e;
    sum += e;
  }
  for (let c = 0; c < classCount; c++) out[c] /= sum;
}
