/**
 * Corrections folded into a model bundle. A calibration or a rig transfer is an affine map placed before the
 * model's pipeline, in the model's input space (after its feature transform); it is folded into the bundle's
 * scaler, PCA axes and score-space parameters, so the corrected model predicts through the same
 * allocation-free path (`compileModel`, `predictCompiled`) as any other.
 *
 * Invariant kept by every correction here: `bundle.scaler` holds the mean and standard deviation the model
 * expects of its input, so that a later re-standardisation composes with an earlier transfer.
 */
import { createHash } from 'node:crypto';
import { EnoseError } from '../../errors.js';
import type { FeatureTable } from '../../types.js';
import { signBundle, type ModelBundle, type UnsignedBundle } from '../runtime/bundle.js';
import { signedLog } from '../runtime/pipeline.js';
import type { Scaler } from '../runtime/scaler.js';

/** What a corrected model records of its origin (the bundle's `lineage`). */
export interface Lineage {
  /** SHA-256 of the parent model. */
  readonly parent: string;
  /** The method and its settings, e.g. `component-correction(directions=1)`. */
  readonly method: string;
  /** SHA-256 of the reference data (feature values only; labels are never read), or null. */
  readonly reference: string | null;
}

/**
 * SHA-256 of feature rows: their shape and the bytes of their values, nothing else (labels, sample ids and
 * file names do not change it). Tables are hashed in the order given.
 */
export function hashFeatureRows(...tables: readonly Pick<FeatureTable, 'x' | 'count' | 'width'>[]): string {
  const h = createHash('sha256');
  for (const t of tables) {
    h.update(`${t.count}x${t.width};`);
    const x = t.x.subarray(0, t.count * t.width);
    h.update(new Uint8Array(x.buffer, x.byteOffset, x.byteLength));
  }
  return h.digest('hex');
}

/** The rows of a table in the model's input space (its feature transform applied), as a new array. */
export function modelInputRows(bundle: ModelBundle, table: Pick<FeatureTable, 'x' | 'count' | 'width' | 'source'>): Float64Array {
  const width = bundle.input.featureNames.length;
  if (table.width !== width) {
    throw new EnoseError('model-mismatch', `${table.source}: the model expects ${width} features, the data has ${table.width}`);
  }
  const n = table.count * width;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = table.x[i];
    if (!Number.isFinite(v)) {
      throw new EnoseError('bad-data', `${table.source}: row ${Math.floor(i / width) + 1}, feature ${bundle.input.featureNames[i % width]} is not a finite number`);
    }
    out[i] = bundle.transform === 'signed-log' ? signedLog(v) : v;
  }
  return out;
}

/**
 * An affine map u -> x placed before the model: x = L u + t, with L given either as a full matrix
 * (`linear`, width x width, row-major: x_j = sum_i L[j * width + i] u_i) or as a diagonal (`diagonal`).
 */
export type InputMap =
  | { readonly kind: 'full'; readonly linear: Float64Array; readonly offset: Float64Array }
  | { readonly kind: 'diagonal'; readonly diagonal: Float64Array; readonly offset: Float64Array };

/**
 * A correction in the parent's z-space (after its scaler): the new z is M z + v, with M given as a full
 * matrix (width x width, row-major) or a diagonal, before the PCA projection.
 */
export type ZMap =
  | { readonly kind: 'full'; readonly linear: Float64Array; readonly offset: Float64Array | null }
  | { readonly kind: 'diagonal'; readonly diagonal: Float64Array; readonly offset: Float64Array | null };

function checkFinite(values: ArrayLike<number>, what: string): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) throw new EnoseError('bad-data', `the correction gave a non-finite ${what}: the reference data is degenerate`);
  }
}

/**
 * Folds z' = M z + v (z = (x - mean) / scale under `scaler`) into a new bundle using `scaler` as its input
 * statistics: axes' = M^T axes, and the constant score shift axes^T v is absorbed by the classifier (linear:
 * intercepts; kNN: its points) and the novelty points.
 */
export function foldZMap(parent: ModelBundle, scaler: Scaler, map: ZMap, lineage: Lineage): ModelBundle {
  const width = parent.input.featureNames.length;
  const k = parent.pca.components;
  const axes = parent.pca.axes;
  const newAxes = new Float64Array(width * k);
  if (map.kind === 'diagonal') {
    for (let j = 0; j < width; j++) for (let c = 0; c < k; c++) newAxes[j * k + c] = map.diagonal[j] * axes[j * k + c];
  } else {
    // axes'[i][c] = sum_j M[j][i] axes[j][c]
    for (let j = 0; j < width; j++) {
      for (let i = 0; i < width; i++) {
        const m = map.linear[j * width + i];
        if (m === 0) continue;
        for (let c = 0; c < k; c++) newAxes[i * k + c] += m * axes[j * k + c];
      }
    }
  }
  const shift = new Float64Array(k);
  if (map.offset) {
    for (let j = 0; j < width; j++) {
      const v = map.offset[j];
      if (v === 0) continue;
      for (let c = 0; c < k; c++) shift[c] += v * axes[j * k + c];
    }
  }
  return rebuild(parent, scaler, newAxes, shift, lineage);
}

/**
 * Folds an input map x = L u + t into a new bundle whose input is u. `inputScaler` becomes the bundle's scaler
 * (the statistics of u the model expects, e.g. those of the reference data); the fold is exact whatever it is.
 */
export function foldInputMap(parent: ModelBundle, map: InputMap, inputScaler: Scaler, lineage: Lineage): ModelBundle {
  const width = parent.input.featureNames.length;
  const { mean, scale } = parent.scaler;
  // In z-space: z_parent = (L u + t - mean) / scale = M z_new + v, z_new = (u - mean') / scale'.
  // M = diag(1/scale) L diag(scale'), v = (L mean' + t - mean) / scale.
  const lm = new Float64Array(width);
  if (map.kind === 'diagonal') {
    const diagonal = new Float64Array(width);
    for (let j = 0; j < width; j++) {
      diagonal[j] = (map.diagonal[j] * inputScaler.scale[j]) / scale[j];
      lm[j] = map.diagonal[j] * inputScaler.mean[j];
    }
    const offset = new Float64Array(width);
    for (let j = 0; j < width; j++) offset[j] = (lm[j] + map.offset[j] - mean[j]) / scale[j];
    return foldZMap(parent, inputScaler, { kind: 'diagonal', diagonal, offset }, lineage);
  }
  const linear = new Float64Array(width * width);
  for (let j = 0; j < width; j++) {
    let s = 0;
    for (let i = 0; i < width; i++) {
      const l = map.linear[j * width + i];
      linear[j * width + i] = (l * inputScaler.scale[i]) / scale[j];
      s += l * inputScaler.mean[i];
    }
    lm[j] = s;
  }
  const offset = new Float64Array(width);
  for (let j = 0; j < width; j++) offset[j] = (lm[j] + map.offset[j] - mean[j]) / scale[j];
  return foldZMap(parent, inputScaler, { kind: 'full', linear, offset }, lineage);
}

/** Replaces the scaler only (the PCA axes and the classifier stay the parent's). */
export function withScaler(parent: ModelBundle, scaler: Scaler, lineage: Lineage): ModelBundle {
  return rebuild(parent, scaler, Float64Array.from(parent.pca.axes), new Float64Array(parent.pca.components), lineage);
}

/**
 * Replaces a linear classifier's weights (classes x components, row-major) and intercepts; the scaler and the
 * projection stay the parent's. Throws EnoseError for a kNN model or arrays of the wrong length.
 */
export function withLinearClassifier(parent: ModelBundle, coef: ArrayLike<number>, intercept: ArrayLike<number>, lineage: Lineage): ModelBundle {
  const cl = parent.classifier;
  if (cl.type === 'knn' || cl.type === 'mlp') throw new EnoseError('bad-option', `the model uses ${cl.type}: only a linear classifier (lda or logreg) can be refitted`);
  if (coef.length !== cl.coef.length || intercept.length !== cl.intercept.length) {
    throw new EnoseError('bad-usage', `withLinearClassifier: ${coef.length} weights and ${intercept.length} intercepts for a model of ${cl.coef.length} and ${cl.intercept.length}`);
  }
  checkFinite(coef, 'class weight');
  checkFinite(intercept, 'intercept');
  const k = parent.pca.components;
  const rebuilt = rebuild(parent, { mean: parent.scaler.mean, scale: parent.scaler.scale }, Float64Array.from(parent.pca.axes), new Float64Array(k), lineage);
  const { id: _id, hash: _hash, ...rest } = rebuilt;
  return signBundle({ ...rest, classifier: { type: cl.type, coef: Array.from(coef), intercept: Array.from(intercept) } });
}

/** A new signed bundle: new scaler and axes, and a constant score shift absorbed downstream. */
function rebuild(parent: ModelBundle, scaler: Scaler, axes: Float64Array, shift: Float64Array, lineage: Lineage): ModelBundle {
  const k = parent.pca.components;
  checkFinite(scaler.mean, 'scaler mean');
  checkFinite(scaler.scale, 'scaler scale');
  checkFinite(axes, 'projection');
  checkFinite(shift, 'score shift');
  for (const s of scaler.scale) if (!(s > 0)) throw new EnoseError('bad-data', 'the correction gave a scale that is not positive: the reference data is degenerate');
  const moved = (points: readonly number[], dims = k): number[] => points.map((p, i) => p - shift[i % dims]);
  const cl = parent.classifier;
  let classifier: UnsignedBundle['classifier'];
  if (cl.type === 'knn') {
    classifier = { ...cl, points: moved(cl.points) };
  } else if (cl.type === 'mlp') {
    // The first layer reads the scores: h = W^T (s - shift) + b' with b' = b + W^T shift gives what it gave.
    classifier = {
      ...cl,
      networks: cl.networks.map((net) => ({
        ...net,
        layers: net.layers.map((layer, l) =>
          l > 0
            ? layer
            : {
                ...layer,
                bias: layer.bias.map((b, o) => {
                  let s = b;
                  for (let j = 0; j < k; j++) s += layer.weights[j * layer.outputs + o] * shift[j];
                  return s;
                }),
              },
        ),
      })),
    };
  } else {
    const classCount = parent.classes.length;
    const intercept = cl.intercept.map((b, c) => {
      let s = b;
      for (let j = 0; j < k; j++) s += cl.coef[c * k + j] * shift[j];
      return s;
    });
    classifier = { ...cl, intercept: intercept.slice(0, classCount) };
  }
  // A corrected or transferred model reads other data than its training rig's, so it keeps no rig fingerprint;
  // adaptation during operation stays on the same rig and keeps it.
  const { id: _id, hash: _hash, rig, ...rest } = parent;
  const unsigned: UnsignedBundle = {
    ...rest,
    ...(rig && lineage.method.startsWith('online-adaptation') && { rig }),
    scaler: { mean: Array.from(scaler.mean), scale: Array.from(scaler.scale) },
    pca: { ...parent.pca, axes: Array.from(axes) },
    classifier,
    novelty: parent.novelty ? { ...parent.novelty, points: moved(parent.novelty.points, parent.novelty.components ?? k) } : null,
    lineage: { parent: lineage.parent, method: lineage.method, reference: lineage.reference },
  };
  return signBundle(unsigned);
}
