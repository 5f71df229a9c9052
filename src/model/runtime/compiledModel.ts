/**
 * The runtime half of the pipeline: `compileModel` folds the scaler into the projection and lays every parameter
 * out in flat Float64Arrays, so that a prediction is a few loops with no allocation (see src/model/runtime/pipeline.ts).
 */
import { EnoseError } from '../../errors.js';
import type { ModelBundle, UnsignedBundle } from './bundle.js';
import { compileKnn, predictKnnInto, type KnnRuntime } from './knn.js';
import { predictLinearInto } from './lda.js';
import { affineRowsInto } from '../numeric/linalg.js';
import { compileMlp, foldMlpInput, leadingInKernel, predictMlpFoldedInto, predictMlpInto, refreshFoldedBias, type CompiledMlp, type FoldedMlp } from './mlpPredict.js';
import { noveltyOfDistance, noveltyScore, prepareNearest, scaledPoints } from './novelty.js';
import { signedLogInto, type FeatureTransform } from './featureTransform.js';

/** What a fit produces before it is signed: classes, training scores, scaler, PCA, classifier. */
export interface CorePieces {
  readonly classes: readonly string[];
  /** PCA scores of the training rows (count x components). */
  readonly scores: Float64Array;
  readonly scaler: UnsignedBundle['scaler'];
  readonly pca: UnsignedBundle['pca'];
  readonly classifier: UnsignedBundle['classifier'];
}

export function argmax(values: ArrayLike<number>, offset: number, length: number): number {
  let best = 0;
  for (let c = 1; c < length; c++) if (values[offset + c] > values[offset + best]) best = c;
  return best;
}

/** A model laid out for prediction: every parameter in a flat typed array, plus scratch space. */
export interface CompiledModel {
  readonly width: number;
  readonly components: number;
  readonly classCount: number;
  /** Scaler folded into the projection: components x width, row-major. */
  readonly projection: Float64Array;
  readonly offset: Float64Array;
  /** PCA scores of the last prediction (scratch, overwritten by each call). */
  readonly scores: Float64Array;
  /** Transformed input row (scratch), or null without a transform. */
  readonly transformed: Float64Array | null;
  readonly knn: KnnRuntime | null;
  /** The MLP's networks, or null for the other classifiers. */
  readonly mlp: CompiledMlp | null;
  /** The MLP's first layers with scaler and projection folded in (see `foldMlpInput`), or null. */
  readonly mlpFolded: FoldedMlp | null;
  /** An MLP's novelty scores: a view of `scores`' first `noveltyDimensions`, which its kernel projects (or null). */
  readonly leadingScores: Float64Array | null;
  readonly coef: Float64Array;
  readonly intercept: Float64Array;
  /** Novelty points (count x noveltyDimensions, scaled when the model whitens) and limit; empty without one. */
  readonly noveltyPoints: Float64Array;
  /** Per-component factor of a whitened novelty distance, or null. */
  readonly noveltyScale: Float64Array | null;
  /** Scratch: the last scores scaled by `noveltyScale`. */
  readonly noveltyQuery: Float64Array;
  /** Leading PCA components the novelty distance is measured in. */
  readonly noveltyDimensions: number;
  readonly noveltyCount: number;
  readonly noveltyThreshold: number;
  /** True when the novelty points are the kNN points: the kNN search already found the nearest one. */
  readonly noveltyFromKnn: boolean;
  /**
   * Scaler, projection and linear classifier (LDA, logistic regression) folded into one affine map on the
   * (transformed) feature row: classes x width, row-major. Empty for kNN. See `predictFused`.
   */
  readonly fused: Float64Array;
  /** Bias of the folded map per class: intercept + coef . offset. */
  readonly fusedBias: Float64Array;
  /** The `offset` the bias was computed from: adaptation moves `offset`, and the fused paths follow it. */
  readonly fusedOffset: Float64Array;
  /** Scratch of the batch path: transformed rows (BATCH_ROWS x width) or kNN probabilities. */
  readonly batchRows: Float64Array;
  readonly batchProbs: Float64Array;
}

/** Rows that share each weight load in `predictClassesBatch`. */
const BATCH_ROWS = 4;

function sameValues(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function compileCore(
  core: Omit<CorePieces, 'scores'>,
  width: number,
  novelty: ModelBundle['novelty'] = null,
  transform: FeatureTransform = 'none',
): CompiledModel {
  const k = core.pca.components;
  const projection = new Float64Array(k * width);
  const offset = new Float64Array(k);
  for (let c = 0; c < k; c++) {
    let o = 0;
    for (let j = 0; j < width; j++) {
      const w = core.pca.axes[j * k + c] / core.scaler.scale[j];
      projection[c * width + j] = w;
      o -= core.scaler.mean[j] * w;
    }
    offset[c] = o;
  }
  const cl = core.classifier;
  const noveltyDimensions = novelty?.components ?? k;
  const noveltyScale = novelty?.scale ? Float64Array.from(novelty.scale) : null;
  const noveltyPoints = !novelty ? new Float64Array(0) : noveltyScale ? scaledPoints(novelty.points, noveltyDimensions, noveltyScale) : Float64Array.from(novelty.points);
  const noveltyCount = novelty ? novelty.points.length / noveltyDimensions : 0;
  const noveltyFromKnn =
    novelty !== null && noveltyScale === null && noveltyDimensions === k && cl.type === 'knn' && cl.k >= 1 && sameValues(novelty.points, cl.points);
  // The k-d tree of the novelty points, built once here: a nearest-sample search costs microseconds, not 65.
  if (novelty && !noveltyFromKnn) prepareNearest(noveltyPoints, noveltyCount, noveltyDimensions);
  const classCount = core.classes.length;
  const linear = cl.type === 'lda' || cl.type === 'logreg';
  const fused = new Float64Array(linear ? classCount * width : 0);
  if (linear) {
    // W = coef . projection (classes x components times components x width), summed in component order.
    for (let c = 0; c < classCount; c++) {
      for (let j = 0; j < width; j++) {
        let s = 0;
        for (let m = 0; m < k; m++) s += cl.coef[c * k + m] * projection[m * width + j];
        fused[c * width + j] = s;
      }
    }
  }
  const fusedBias = new Float64Array(linear ? classCount : 0);
  const fusedOffset = new Float64Array(linear ? k : 0);
  const mlp = cl.type === 'mlp' ? compileMlp(cl, classCount) : null;
  const leading = mlp && novelty && noveltyDimensions < k ? noveltyDimensions : 0;
  const scores = new Float64Array(k);
  return {
    width,
    components: k,
    classCount: core.classes.length,
    projection,
    offset,
    scores,
    transformed: transform === 'none' ? null : new Float64Array(width),
    knn: cl.type === 'knn' ? compileKnn(cl, k) : null,
    mlp,
    mlpFolded: mlp ? foldMlpInput(mlp, projection, offset, width, leading) : null,
    leadingScores: leading > 0 ? scores.subarray(0, leading) : null,
    coef: linear ? Float64Array.from(cl.coef) : new Float64Array(0),
    intercept: linear ? Float64Array.from(cl.intercept) : new Float64Array(0),
    noveltyPoints,
    noveltyScale,
    noveltyQuery: new Float64Array(noveltyScale ? noveltyDimensions : 0),
    noveltyCount,
    noveltyDimensions,
    noveltyThreshold: novelty ? novelty.threshold : Infinity,
    noveltyFromKnn,
    fused,
    fusedBias: linear ? foldBias(fusedBias, fusedOffset, cl.coef, cl.intercept, offset) : fusedBias,
    fusedOffset,
    batchRows: new Float64Array(transform === 'none' ? 0 : BATCH_ROWS * width),
    batchProbs: new Float64Array(classCount),
  };
}

/** bias[c] = intercept[c] + coef[c] . offset; records the offset it used. Allocation-free. */
function foldBias(
  bias: Float64Array,
  used: Float64Array,
  coef: ArrayLike<number>,
  intercept: ArrayLike<number>,
  offset: Float64Array,
): Float64Array {
  const k = offset.length;
  for (let c = 0; c < bias.length; c++) {
    let s = intercept[c];
    for (let m = 0; m < k; m++) s += coef[c * k + m] * offset[m];
    bias[c] = s;
  }
  used.set(offset);
  return bias;
}

/** Recomputes the fused bias when `offset` moved since it was folded (drift adaptation writes `offset`). */
function refreshFusedBias(model: CompiledModel): void {
  const { offset, fusedOffset } = model;
  for (let m = 0; m < offset.length; m++) {
    if (offset[m] !== fusedOffset[m]) {
      foldBias(model.fusedBias, fusedOffset, model.coef, model.intercept, offset);
      return;
    }
  }
}

/** Compiles a bundle for prediction; deterministic, so a saved and reloaded model predicts bit-identically. */
export function compileModel(bundle: ModelBundle): CompiledModel {
  return compileCore(bundle, bundle.input.featureNames.length, bundle.novelty, bundle.transform);
}

/**
 * Projects the feature row at `x[xOffset .. xOffset + width)` and writes class probabilities into `out`;
 * returns the index of the most probable class. Allocation-free. PCA scores are left in `model.scores`.
 */
export function predictCompiled(model: CompiledModel, input: Float64Array, inputOffset: number, out: Float64Array): number {
  const { width, components, scores, transformed } = model;
  if (transformed) signedLogInto(input, inputOffset, width, transformed);
  projectLeading(model, transformed ?? input, transformed ? 0 : inputOffset, components);
  if (model.knn) predictKnnInto(model.knn, scores, out);
  else if (model.mlp) predictMlpInto(model.mlp, scores, 0, out);
  else predictLinearInto(model.coef, model.intercept, components, scores, out);
  return argmax(out, 0, model.classCount);
}

/** The first `count` PCA scores of the (transformed) row `x` at `xOffset` into `model.scores`. Allocation-free. */
function projectLeading(model: CompiledModel, x: Float64Array, xOffset: number, count: number): void {
  const { width, projection, offset, scores } = model;
  for (let c = 0; c < count; c++) {
    let s = offset[c];
    const base = c * width;
    for (let j = 0; j < width; j++) s += projection[base + j] * x[xOffset + j];
    scores[c] = s;
  }
}

/**
 * What a verdict needs, as cheaply as the model allows: the class probabilities into `out` (returns the most
 * probable class) and the leading PCA scores: the ones the novelty limit reads, and at least `leading` of them.
 * For LDA and logistic regression the probabilities come from the folded affine map (`predictFused`), for an MLP
 * from its networks with the projection folded into their first layers (`foldMlpInput`), and only those leading
 * scores are projected (the linear recovery recipe: 20 of 218 components, 104 us down to about 10 here);
 * `model.scores` beyond them keep stale values. kNN models go through `predictCompiled` (they search in every
 * component). The engine's judge path and the report's score tap both call it, so their probabilities
 * agree bit for bit. Allocation-free.
 */
export function predictForVerdict(model: CompiledModel, input: Float64Array, inputOffset: number, out: Float64Array, leading = 0): number {
  const dims = Math.min(model.components, Math.max(leading, model.noveltyCount > 0 ? model.noveltyDimensions : 0));
  if (model.knn || (dims >= model.components && !model.mlp)) return predictCompiled(model, input, inputOffset, out);
  // An MLP's kernel projects the novelty limit's scores in the same pass as its networks, when those are all asked.
  const lead = model.mlpFolded !== null && model.leadingScores !== null && leadingInKernel(model.mlpFolded) === dims ? model.leadingScores : null;
  const best = predictFused(model, input, inputOffset, out, lead);
  if (lead !== null) return best;
  // predictFused has already written the transformed row, when the model transforms.
  const { transformed } = model;
  projectLeading(model, transformed ?? input, transformed ? 0 : inputOffset, dims);
  return best;
}

/**
 * Class probabilities of one feature row through the folded affine map of a linear model (LDA, logistic
 * regression): one pass over the row with one accumulator per class, then the softmax into `out`. Returns the
 * index of the largest logit. Allocation-free. The same model as `predictCompiled` up to rounding (summed in
 * another order: probabilities within 6e-14 of it on the drift data; both paths round by up to about 2e-12 on an
 * ill-conditioned model), but it computes no PCA scores (`model.scores` keeps the last `predictCompiled`'s),
 * so `noveltyOfLast` does not apply to it. An MLP runs its networks on the row through the folded first layers
 * (`predictMlpFoldedInto`); with `scores` (`model.leadingScores`, when `leadingInKernel` holds that many) its kernel
 * also writes those leading PCA scores. For kNN models it is `predictCompiled`.
 */
export function predictFused(model: CompiledModel, input: Float64Array, inputOffset: number, out: Float64Array, scores: Float64Array | null = null): number {
  if (model.knn) return predictCompiled(model, input, inputOffset, out);
  const { width, transformed } = model;
  if (transformed) signedLogInto(input, inputOffset, width, transformed);
  const x = transformed ?? input;
  const xOffset = transformed ? 0 : inputOffset;
  if (model.mlp) {
    const folded = model.mlpFolded!;
    refreshFoldedBias(model.mlp, folded, model.offset);
    predictMlpFoldedInto(model.mlp, folded, x, xOffset, out, model.offset, scores);
    return argmax(out, 0, model.classCount);
  }
  refreshFusedBias(model);
  const best = fusedLogitsRow(model.fused, model.fusedBias, model.classCount, width, x, xOffset, out);
  softmaxInPlace(out, model.classCount);
  return best;
}

/**
 * The class index of each of `count` feature rows (`rows`: count x width, row-major) into `out[0 .. count)`:
 * the argmax of the logits, as scikit-learn's `predict` (no softmax). Linear models run the folded affine map
 * four rows at a time, so that each weight load serves four rows; every row's logits are summed in the same
 * order as `predictFused`'s, so the classes equal `predictFused`'s bit for bit. kNN models go row by row through
 * `predictCompiled`. Allocation-free. Throws EnoseError('bad-usage') when the arrays are too short.
 */
export function predictClassesBatch(model: CompiledModel, rows: Float64Array, count: number, out: Int32Array): void {
  const { width, classCount } = model;
  if (!Number.isInteger(count) || count < 0) throw new EnoseError('bad-usage', `predictClassesBatch: count must be a non-negative integer, got ${count}`);
  if (rows.length < count * width) throw new EnoseError('bad-usage', `predictClassesBatch: ${count} rows of ${width} need ${count * width} values, got ${rows.length}`);
  if (out.length < count) throw new EnoseError('bad-usage', `predictClassesBatch: out holds ${out.length} classes, ${count} needed`);
  if (model.knn || model.mlp) {
    const probs = model.batchProbs;
    for (let i = 0; i < count; i++) out[i] = model.mlp ? predictFused(model, rows, i * width, probs) : predictCompiled(model, rows, i * width, probs);
    return;
  }
  refreshFusedBias(model);
  const { fused, fusedBias } = model;
  const logits = model.batchProbs;
  const scratch = model.batchRows;
  const transform = model.transformed !== null;
  let i = 0;
  for (; i + BATCH_ROWS <= count; i += BATCH_ROWS) {
    if (transform) {
      signedLogInto(rows, i * width, BATCH_ROWS * width, scratch);
      fusedClasses4(fused, fusedBias, classCount, width, scratch, 0, out, i);
    } else {
      fusedClasses4(fused, fusedBias, classCount, width, rows, i * width, out, i);
    }
  }
  for (; i < count; i++) {
    if (transform) {
      signedLogInto(rows, i * width, width, scratch);
      out[i] = fusedLogitsRow(fused, fusedBias, classCount, width, scratch, 0, logits);
    } else {
      out[i] = fusedLogitsRow(fused, fusedBias, classCount, width, rows, i * width, logits);
    }
  }
}

/**
 * Logits of one row into `out[0 .. classCount)` (`affineRowsInto`: each class one accumulator started at its
 * bias and summed over j in order); returns the first index of the largest logit.
 */
function fusedLogitsRow(w: Float64Array, bias: Float64Array, classCount: number, width: number, x: Float64Array, xo: number, out: Float64Array): number {
  affineRowsInto(w, bias, classCount, width, x, xo, out);
  return argmax(out, 0, classCount);
}

/**
 * Classes of four consecutive rows starting at `x[xo]` into `out[oi .. oi + 4)`: two classes at a time, eight
 * accumulators (rows x classes), each summed like `fusedLogitsRow`'s; ties go to the lower class index.
 */
function fusedClasses4(
  w: Float64Array,
  bias: Float64Array,
  classCount: number,
  width: number,
  x: Float64Array,
  xo: number,
  out: Int32Array,
  oi: number,
): void {
  const x0 = xo;
  const x1 = x0 + width;
  const x2 = x1 + width;
  const x3 = x2 + width;
  let m0 = -Infinity;
  let m1 = -Infinity;
  let m2 = -Infinity;
  let m3 = -Infinity;
  let b0 = 0;
  let b1 = 0;
  let b2 = 0;
  let b3 = 0;
  let c = 0;
  for (; c + 2 <= classCount; c += 2) {
    const wa = c * width;
    const wb = wa + width;
    const ia = bias[c];
    const ib = bias[c + 1];
    let a0 = ia;
    let a1 = ia;
    let a2 = ia;
    let a3 = ia;
    let d0 = ib;
    let d1 = ib;
    let d2 = ib;
    let d3 = ib;
    for (let j = 0; j < width; j++) {
      const u = w[wa + j];
      const v = w[wb + j];
      const r0 = x[x0 + j];
      const r1 = x[x1 + j];
      const r2 = x[x2 + j];
      const r3 = x[x3 + j];
      a0 += u * r0;
      d0 += v * r0;
      a1 += u * r1;
      d1 += v * r1;
      a2 += u * r2;
      d2 += v * r2;
      a3 += u * r3;
      d3 += v * r3;
    }
    if (a0 > m0 || c === 0) { m0 = a0; b0 = c; }
    if (d0 > m0) { m0 = d0; b0 = c + 1; }
    if (a1 > m1 || c === 0) { m1 = a1; b1 = c; }
    if (d1 > m1) { m1 = d1; b1 = c + 1; }
    if (a2 > m2 || c === 0) { m2 = a2; b2 = c; }
    if (d2 > m2) { m2 = d2; b2 = c + 1; }
    if (a3 > m3 || c === 0) { m3 = a3; b3 = c; }
    if (d3 > m3) { m3 = d3; b3 = c + 1; }
  }
  if (c < classCount) {
    const wa = c * width;
    const ia = bias[c];
    let a0 = ia;
    let a1 = ia;
    let a2 = ia;
    let a3 = ia;
    for (let j = 0; j < width; j++) {
      const u = w[wa + j];
      a0 += u * x[x0 + j];
      a1 += u * x[x1 + j];
      a2 += u * x[x2 + j];
      a3 += u * x[x3 + j];
    }
    if (a0 > m0 || c === 0) { m0 = a0; b0 = c; }
    if (a1 > m1 || c === 0) { m1 = a1; b1 = c; }
    if (a2 > m2 || c === 0) { m2 = a2; b2 = c; }
    if (a3 > m3 || c === 0) { m3 = a3; b3 = c; }
  }
  out[oi] = b0;
  out[oi + 1] = b1;
  out[oi + 2] = b2;
  out[oi + 3] = b3;
}

/** softmax in place over out[0 .. n), as `predictLinearInto` computes it. */
function softmaxInPlace(out: Float64Array, n: number): void {
  let max = -Infinity;
  for (let c = 0; c < n; c++) if (out[c] > max) max = out[c];
  let sum = 0;
  for (let c = 0; c < n; c++) {
    const e = Math.exp(out[c] - max);
    out[c] = e;
    sum += e;
  }
  for (let c = 0; c < n; c++) out[c] /= sum;
}

/**
 * Distance of the last prediction's PCA scores to the nearest training sample, over the novelty limit
 * (above 1: unlike anything in training), capped at `NOVELTY_CEILING` (2: twice the limit or farther, where
 * the search stops). NaN when the model has no novelty limit.
 */
export function noveltyOfLast(model: CompiledModel): number {
  if (model.noveltyCount === 0) return NaN;
  if (model.noveltyFromKnn && model.knn) return noveltyOfDistance(Math.sqrt(model.knn.bestDistance[0]), model.noveltyThreshold);
  const scale = model.noveltyScale;
  let query = model.scores;
  if (scale !== null) {
    query = model.noveltyQuery;
    for (let j = 0; j < query.length; j++) query[j] = model.scores[j] * scale[j];
  }
  return noveltyScore(model.noveltyPoints, model.noveltyCount, model.noveltyDimensions, query, model.noveltyThreshold);
}
