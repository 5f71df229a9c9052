/**
 * Recalibration with a few labelled samples: after the scaler is re-estimated from unlabelled reference data,
 * the linear classifier's weights and intercepts are refitted on at most a handful of labelled rows per class,
 * with an L2 pull toward the trained values (regularised adaptation of a source classifier: Yang, Yan &
 * Hauptmann, "Cross-domain video concept detection using adaptive SVMs", ACM Multimedia 2007; the same
 * penalty as L2-SP, Li, Grandvalet & Davoine, ICML 2018). It uses labels: its figures are reported apart from
 * the unlabelled methods.
 */
import { createHash } from 'node:crypto';
import { EnoseError } from '../../errors.js';
import type { FeatureTable } from '../../types.js';
import type { ModelBundle } from '../runtime/bundle.js';
import { hashFeatureRows, modelInputRows, withLinearClassifier, type Lineage } from './correction.js';
import { minimiseLbfgs } from '../fitting/logreg.js';
import { mulberry32 } from '../numeric/rng.js';

/** Labelled rows per class the drift table allows (the "at most 10 labelled samples per class"). */
export const LABELLED_PER_CLASS = 10;

export interface FineTuneOptions {
  /** Strength of the pull toward the trained weights (chosen on UCI batch 2: 0.001). @default 0.001 */
  readonly lambda?: number;
  /** At most this many labelled rows per class are used, chosen at random with `seed`. @default 10 */
  readonly perClass?: number;
  /** @default 1 */
  readonly seed?: number;
  /** L-BFGS iterations. @default 500 */
  readonly maxIterations?: number;
}

/** What a fine-tune used: rows per class and the rows left out. */
export interface LabelledUse {
  /** Rows used per class (classes without a labelled row are absent). */
  readonly perClass: Readonly<Record<string, number>>;
  readonly used: number;
  /** Rows whose label is not one of the model's classes (empty labels included). */
  readonly unknownLabel: number;
  /** Rows over the per-class limit, left out. */
  readonly overLimit: number;
}

/**
 * Indices (ascending) of at most `perClass` rows of each of `classes`, chosen at random with `seed`; rows whose
 * label is not among `classes` are never chosen.
 */
export function selectLabelledRows(labels: readonly string[], classes: readonly string[], perClass: number, seed: number): Int32Array {
  if (!Number.isInteger(perClass) || perClass < 1) throw new EnoseError('bad-option', `--per-class must be a positive integer, got ${perClass}`);
  const random = mulberry32(seed);
  const chosen: number[] = [];
  for (const c of classes) {
    const rows: number[] = [];
    labels.forEach((l, i) => {
      if (l === c) rows.push(i);
    });
    // Partial Fisher-Yates: the first `perClass` places get a uniform choice without replacement.
    const take = Math.min(perClass, rows.length);
    for (let i = 0; i < take; i++) {
      const j = i + Math.floor(random() * (rows.length - i));
      const t = rows[i];
      rows[i] = rows[j];
      rows[j] = t;
    }
    for (let i = 0; i < take; i++) chosen.push(rows[i]);
  }
  return Int32Array.from(chosen.sort((a, b) => a - b));
}

/** SHA-256 of labelled rows: their feature values (as `hashFeatureRows`) and their labels, in order. */
export function hashLabelledRows(table: Pick<FeatureTable, 'x' | 'count' | 'width' | 'labels'>): string {
  const h = createHash('sha256');
  h.update(hashFeatureRows(table));
  for (let i = 0; i < table.count; i++) h.update(`\n${table.labels[i] ?? ''}`);
  return h.digest('hex');
}

/**
 * `model` with its linear classifier refitted on the labelled rows of `labelled` (at most `perClass` a class,
 * seeded choice): minimises the mean cross-entropy of those rows plus lambda times the squared distance of the
 * weights and intercepts from the model's. The scaler and projection are kept, so call it after the
 * unlabelled calibration. `lineage` is recorded as given. Throws EnoseError on misuse (kNN model, no usable
 * labelled row, bad options).
 */
export function fineTuneModel(
  model: ModelBundle,
  labelled: FeatureTable,
  lineage: Lineage,
  options: FineTuneOptions = {},
): { bundle: ModelBundle; use: LabelledUse } {
  const cl = model.classifier;
  if (cl.type === 'knn' || cl.type === 'mlp') throw new EnoseError('bad-option', `labelled recalibration refits a linear classifier (lda or logreg); this model uses ${cl.type}`);
  const lambda = options.lambda ?? 0.001;
  if (!(lambda > 0 && Number.isFinite(lambda))) throw new EnoseError('bad-option', `--lambda must be a positive number, got ${lambda}`);
  const perClass = options.perClass ?? LABELLED_PER_CLASS;
  const rows = selectLabelledRows(labelled.labels, model.classes, perClass, options.seed ?? 1);
  const known = labelled.labels.filter((l) => model.classes.includes(l)).length;
  const use: LabelledUse = {
    perClass: countPerClass(rows, labelled.labels, model.classes),
    used: rows.length,
    unknownLabel: labelled.count - known,
    overLimit: known - rows.length,
  };
  if (rows.length === 0) {
    throw new EnoseError('empty-data', `${labelled.source}: no labelled row carries one of the model's classes (${model.classes.join(', ')})`);
  }
  const width = model.input.featureNames.length;
  const x = new Float64Array(rows.length * width);
  rows.forEach((r, i) => x.set(labelled.x.subarray(r * width, (r + 1) * width), i * width));
  const u = modelInputRows(model, { x, count: rows.length, width: labelled.width, source: labelled.source });
  const scores = projectRows(model, u, rows.length);
  const target = Int32Array.from(rows, (r) => model.classes.indexOf(labelled.labels[r]));
  const k = model.pca.components;
  const classes = model.classes.length;
  const coef0 = Float64Array.from(cl.coef);
  const intercept0 = Float64Array.from(cl.intercept);
  const theta = minimiseLbfgs(
    pulledCrossEntropy(scores, rows.length, k, target, coef0, intercept0, lambda),
    new Float64Array(classes * (k + 1)),
    { maxIterations: options.maxIterations ?? 500, gradientTolerance: 1e-7, relativeTolerance: 1e7 * Number.EPSILON },
  );
  const coef = new Float64Array(classes * k);
  const intercept = new Float64Array(classes);
  for (let c = 0; c < classes; c++) {
    for (let q = 0; q < k; q++) coef[c * k + q] = coef0[c * k + q] + theta[c * k + q];
    intercept[c] = intercept0[c] + theta[classes * k + c];
  }
  return { bundle: withLinearClassifier(model, coef, intercept, lineage), use };
}

/** Rows per class, keyed in the model's class order. */
function countPerClass(rows: Int32Array, labels: readonly string[], classes: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of classes) {
    let n = 0;
    for (const r of rows) if (labels[r] === c) n++;
    if (n > 0) out[c] = n;
  }
  return out;
}

/** PCA scores (count x components) of rows in the model's input space. */
function projectRows(model: ModelBundle, u: Float64Array, count: number): Float64Array {
  const width = model.input.featureNames.length;
  const k = model.pca.components;
  const { mean, scale } = model.scaler;
  const axes = model.pca.axes;
  const out = new Float64Array(count * k);
  const z = new Float64Array(width);
  for (let i = 0; i < count; i++) {
    for (let j = 0; j < width; j++) z[j] = (u[i * width + j] - mean[j]) / scale[j];
    for (let q = 0; q < k; q++) {
      let s = 0;
      for (let j = 0; j < width; j++) s += z[j] * axes[j * k + q];
      out[i * k + q] = s;
    }
  }
  return out;
}

/**
 * Value and gradient of mean_i -log softmax((W0 + dW) s_i + b0 + db)[y_i] + lambda (|dW|^2 + |db|^2) in
 * theta = (dW row-major, then db).
 */
function pulledCrossEntropy(
  scores: Float64Array,
  count: number,
  k: number,
  target: Int32Array,
  coef0: Float64Array,
  intercept0: Float64Array,
  lambda: number,
): (theta: Float64Array, grad: Float64Array) => number {
  const classes = intercept0.length;
  const logits = new Float64Array(classes);
  return (theta, grad) => {
    grad.fill(0);
    let loss = 0;
    for (let i = 0; i < count; i++) {
      const base = i * k;
      let max = -Infinity;
      for (let c = 0; c < classes; c++) {
        let s = intercept0[c] + theta[classes * k + c];
        for (let q = 0; q < k; q++) s += (coef0[c * k + q] + theta[c * k + q]) * scores[base + q];
        logits[c] = s;
        if (s > max) max = s;
      }
      let sum = 0;
      for (let c = 0; c < classes; c++) sum += Math.exp(logits[c] - max);
      const logSum = max + Math.log(sum);
      loss += (logSum - logits[target[i]]) / count;
      for (let c = 0; c < classes; c++) {
        const r = (Math.exp(logits[c] - logSum) - (c === target[i] ? 1 : 0)) / count;
        for (let q = 0; q < k; q++) grad[c * k + q] += r * scores[base + q];
        grad[classes * k + c] += r;
      }
    }
    for (let t = 0; t < theta.length; t++) {
      loss += lambda * theta[t] * theta[t];
      grad[t] += 2 * lambda * theta[t];
    }
    return loss;
  };
}
