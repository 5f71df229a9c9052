/**
 * Recalibration of a trained model from unlabelled reference data measured now (recent containers, or cycles
 * of a reference gas): three methods, each folded into a new signed bundle whose `lineage` names the parent,
 * the method and the reference data. Labels in the reference data are never read.
 *
 * Measured on the UCI drift data (train on batch 1, calibrate on each later batch, unlabelled): see
 * datasets/README.md, "Drift calibration"; `standardise` did best there and is the default, best of all on a
 * views model (views.ts: 76.3% mean against 73.1% on the single-view model). `calibrateWithLabels` adds a
 * fine-tune on a few labelled rows (finetune.ts); its figures are reported apart, as using labels.
 */
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { EnoseError } from '../../errors.js';
import type { FeatureTable } from '../../types.js';
import type { ModelBundle } from '../runtime/bundle.js';
import { foldZMap, hashFeatureRows, modelInputRows, withScaler, type Lineage } from './correction.js';
import { fineTuneModel, hashLabelledRows, LABELLED_PER_CLASS, type FineTuneOptions, type LabelledUse } from './finetune.js';
import { minimiseLbfgs } from '../fitting/logreg.js';
import { fitScaler, type Scaler } from '../runtime/scaler.js';

export type CalibrationMethod = 'standardise' | 'component-correction' | 'entropy';
export const CALIBRATION_METHODS: readonly CalibrationMethod[] = ['standardise', 'component-correction', 'entropy'];
/** The method that did best on the real drift data (datasets/README.md, "Drift calibration"). */
export const DEFAULT_CALIBRATION_METHOD: CalibrationMethod = 'standardise';

export interface CalibrationOptions {
  /** @default DEFAULT_CALIBRATION_METHOD */
  readonly method?: CalibrationMethod;
  /** component-correction: drift directions removed (chosen on UCI batch 2: 1). @default 1 */
  readonly directions?: number;
  /** entropy: L2 penalty on the log-scales and shifts (chosen on UCI batch 2: 0.1). @default 0.1 */
  readonly penalty?: number;
  /** entropy: L-BFGS iterations. @default 200 */
  readonly maxIterations?: number;
}

/** The fewest reference samples a calibration accepts (the statistics of fewer are noise). */
export const MIN_REFERENCE_SAMPLES = 3;

/**
 * A recalibrated copy of `parent`, fitted on `reference` (its labels are ignored). Throws EnoseError on misuse
 * (unknown method, too few samples, a feature layout that is not the model's, kNN with `entropy`).
 */
export function calibrateModel(parent: ModelBundle, reference: FeatureTable, options: CalibrationOptions = {}): ModelBundle {
  const method = options.method ?? DEFAULT_CALIBRATION_METHOD;
  if (!CALIBRATION_METHODS.includes(method)) {
    throw new EnoseError('bad-option', `--method must be one of ${CALIBRATION_METHODS.join(', ')}, got "${String(method)}"`);
  }
  if (reference.count < MIN_REFERENCE_SAMPLES) {
    throw new EnoseError('too-few-samples', `${reference.source}: at least ${MIN_REFERENCE_SAMPLES} reference samples are needed, got ${reference.count}`);
  }
  const u = modelInputRows(parent, reference);
  const width = reference.width;
  const referenceHash = hashFeatureRows(reference);
  if (method === 'standardise') {
    return withScaler(parent, fitScaler(u, reference.count, width), { parent: parent.hash, method, reference: referenceHash });
  }
  if (method === 'component-correction') {
    const directions = options.directions ?? 1;
    if (!Number.isInteger(directions) || directions < 1 || directions >= width) {
      throw new EnoseError('bad-option', `--directions must be an integer from 1 to ${width - 1}, got ${directions}`);
    }
    const lineage: Lineage = { parent: parent.hash, method: `component-correction(directions=${directions})`, reference: referenceHash };
    return componentCorrection(parent, u, reference.count, directions, lineage);
  }
  const penalty = options.penalty ?? 0.1;
  if (!(penalty >= 0 && Number.isFinite(penalty))) throw new EnoseError('bad-option', `--penalty must be a non-negative number, got ${penalty}`);
  const lineage: Lineage = { parent: parent.hash, method: `entropy(penalty=${penalty})`, reference: referenceHash };
  return entropyCalibration(parent, u, reference.count, penalty, options.maxIterations ?? 200, lineage);
}

/**
 * Recalibration that also uses a few labelled rows measured now (said plainly wherever its figures appear):
 * `calibrateModel` on the unlabelled `reference` rows, then the linear classifier refitted on at most
 * `perClass` labelled rows a class of `labelled` with an L2 pull toward the trained weights (finetune.ts). The
 * lineage names both steps and the SHA-256 of the labelled rows, labels included.
 */
export function calibrateWithLabels(
  parent: ModelBundle,
  reference: FeatureTable,
  labelled: FeatureTable,
  options: CalibrationOptions & FineTuneOptions = {},
): { bundle: ModelBundle; use: LabelledUse } {
  const calibrated = calibrateModel(parent, reference, options);
  const lambda = options.lambda ?? 0.001;
  const perClass = options.perClass ?? LABELLED_PER_CLASS;
  const seed = options.seed ?? 1;
  const lineage: Lineage = {
    parent: parent.hash,
    method: `${calibrated.lineage!.method}+fine-tune(lambda=${lambda},perClass=${perClass},seed=${seed},labelled=${hashLabelledRows(labelled)})`,
    reference: calibrated.lineage!.reference,
  };
  return fineTuneModel(calibrated, labelled, lineage, { ...options, lambda, perClass, seed });
}

/**
 * Component correction (Artursson et al., J. Chemometrics 14 (2000) 711-723): the drift directions are the
 * first principal components of the reference samples and are projected out of every sample before the
 * model's projection. Here the reference samples are centred on the model's training mean, not on their own,
 * so the shift of the whole cloud since training is part of what PCA finds.
 */
function componentCorrection(parent: ModelBundle, u: Float64Array, count: number, directions: number, lineage: Lineage): ModelBundle {
  const width = parent.input.featureNames.length;
  const { mean, scale } = parent.scaler;
  const second = new Float64Array(width * width);
  const z = new Float64Array(width);
  for (let i = 0; i < count; i++) {
    for (let j = 0; j < width; j++) z[j] = (u[i * width + j] - mean[j]) / scale[j];
    for (let a = 0; a < width; a++) {
      const za = z[a];
      if (za === 0) continue;
      for (let b = a; b < width; b++) second[a * width + b] += za * z[b];
    }
  }
  const m = new Matrix(width, width);
  for (let a = 0; a < width; a++) {
    for (let b = a; b < width; b++) {
      const v = second[a * width + b] / count;
      m.set(a, b, v);
      m.set(b, a, v);
    }
  }
  const evd = new EigenvalueDecomposition(m, { assumeSymmetric: true });
  const values = evd.realEigenvalues;
  const order = values.map((v, i) => [v, i] as const).sort((p, q) => q[0] - p[0]);
  const vectors = evd.eigenvectorMatrix;
  // M = I - sum over directions of d d^T (symmetric).
  const linear = new Float64Array(width * width);
  for (let j = 0; j < width; j++) linear[j * width + j] = 1;
  for (let r = 0; r < directions; r++) {
    const col = order[r][1];
    for (let a = 0; a < width; a++) {
      const da = vectors.get(a, col);
      for (let b = 0; b < width; b++) linear[a * width + b] -= da * vectors.get(b, col);
    }
  }
  return foldZMap(parent, parent.scaler, { kind: 'full', linear, offset: null }, lineage);
}

/**
 * Test-time entropy minimisation of the normalisation (Tent: Wang et al., ICLR 2021; entropy minimisation:
 * Grandvalet & Bengio, NIPS 2004): the scaler is re-estimated on the reference data (as AdaBN, Li et al.,
 * Pattern Recognition 80 (2018) 109-117), then a per-feature scale exp(alpha) and shift b after it are fitted
 * to minimise the mean entropy of the model's class probabilities on the reference data, with an L2 penalty
 * pulling them back to (1, 0). Needs a linear classifier (lda or logreg).
 */
function entropyCalibration(parent: ModelBundle, u: Float64Array, count: number, penalty: number, maxIterations: number, lineage: Lineage): ModelBundle {
  const cl = parent.classifier;
  if (cl.type === 'knn' || cl.type === 'mlp') throw new EnoseError('bad-option', `the entropy method needs a linear classifier (lda or logreg), this model uses ${cl.type}`);
  const width = parent.input.featureNames.length;
  const k = parent.pca.components;
  const classes = parent.classes.length;
  const scaler: Scaler = fitScaler(u, count, width);
  const z = new Float64Array(count * width);
  for (let i = 0; i < count; i++) {
    for (let j = 0; j < width; j++) z[i * width + j] = (u[i * width + j] - scaler.mean[j]) / scaler.scale[j];
  }
  // Class weights on z: W = coef (classes x k) times axes^T (k x width).
  const w = new Float64Array(classes * width);
  for (let c = 0; c < classes; c++) {
    for (let j = 0; j < width; j++) {
      let s = 0;
      for (let q = 0; q < k; q++) s += cl.coef[c * k + q] * parent.pca.axes[j * k + q];
      w[c * width + j] = s;
    }
  }
  const fit = minimiseEntropy(z, count, width, w, Float64Array.from(cl.intercept), penalty, maxIterations);
  return foldZMap(parent, scaler, { kind: 'diagonal', diagonal: fit.scale, offset: fit.shift }, lineage);
}

/** Minimises mean entropy of softmax(W (a * z + b) + c) + penalty (|ln a|^2 + |b|^2) over a > 0 and b. */
export function minimiseEntropy(
  z: Float64Array,
  count: number,
  width: number,
  w: Float64Array,
  intercept: Float64Array,
  penalty: number,
  maxIterations: number,
): { scale: Float64Array; shift: Float64Array } {
  const classes = intercept.length;
  const a = new Float64Array(width);
  const uRow = new Float64Array(width);
  const logits = new Float64Array(classes);
  const g = new Float64Array(classes);
  const gu = new Float64Array(width);
  const objective = (theta: Float64Array, grad: Float64Array): number => {
    grad.fill(0);
    for (let j = 0; j < width; j++) a[j] = Math.exp(theta[j]);
    let loss = 0;
    for (let i = 0; i < count; i++) {
      const base = i * width;
      for (let j = 0; j < width; j++) uRow[j] = a[j] * z[base + j] + theta[width + j];
      let max = -Infinity;
      for (let c = 0; c < classes; c++) {
        let s = intercept[c];
        for (let j = 0; j < width; j++) s += w[c * width + j] * uRow[j];
        logits[c] = s;
        if (s > max) max = s;
      }
      let sum = 0;
      for (let c = 0; c < classes; c++) sum += Math.exp(logits[c] - max);
      const logSum = max + Math.log(sum);
      let h = 0;
      for (let c = 0; c < classes; c++) {
        const lp = logits[c] - logSum;
        h -= Math.exp(lp) * lp;
      }
      loss += h / count;
      // dH/dlogit_c = -p_c (log p_c + H)
      for (let c = 0; c < classes; c++) {
        const lp = logits[c] - logSum;
        g[c] = (-Math.exp(lp) * (lp + h)) / count;
      }
      gu.fill(0);
      for (let c = 0; c < classes; c++) {
        const gc = g[c];
        for (let j = 0; j < width; j++) gu[j] += gc * w[c * width + j];
      }
      for (let j = 0; j < width; j++) {
        grad[j] += gu[j] * z[base + j];
        grad[width + j] += gu[j];
      }
    }
    for (let j = 0; j < width; j++) {
      grad[j] *= a[j];
      const al = theta[j];
      const b = theta[width + j];
      loss += penalty * (al * al + b * b);
      grad[j] += 2 * penalty * al;
      grad[width + j] += 2 * penalty * b;
    }
    return loss;
  };
  const theta = minimiseLbfgs(objective, new Float64Array(2 * width), { maxIterations, gradientTolerance: 1e-6 });
  const scale = new Float64Array(width);
  const shift = new Float64Array(width);
  for (let j = 0; j < width; j++) {
    scale[j] = Math.exp(theta[j]);
    shift[j] = theta[width + j];
  }
  return { scale, shift };
}
