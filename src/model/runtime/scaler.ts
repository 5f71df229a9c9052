/** z-score scaler with the population standard deviation, as scikit-learn's StandardScaler. */

export interface Scaler {
  readonly mean: readonly number[];
  /** Population standard deviation per feature; 1 where a feature is constant (as scikit-learn does). */
  readonly scale: readonly number[];
}

/** Fits the scaler on `count` rows of `width` features stored row-major in `x`. */
export function fitScaler(x: Float64Array, count: number, width: number): Scaler {
  // Four rows per pass, each column still summed in row order (the same sums as a row-by-row loop).
  const mean = new Float64Array(width);
  let i = 0;
  for (; i + 3 < count; i += 4) {
    const r0 = i * width;
    const r1 = r0 + width;
    const r2 = r1 + width;
    const r3 = r2 + width;
    for (let j = 0; j < width; j++) {
      let m = mean[j];
      m += x[r0 + j];
      m += x[r1 + j];
      m += x[r2 + j];
      m += x[r3 + j];
      mean[j] = m;
    }
  }
  for (; i < count; i++) {
    const base = i * width;
    for (let j = 0; j < width; j++) mean[j] += x[base + j];
  }
  for (let j = 0; j < width; j++) mean[j] /= count;
  // Two-pass variance: accurate for features of large magnitude (raw resistances of 1e4..1e5).
  const variance = new Float64Array(width);
  for (i = 0; i + 3 < count; i += 4) {
    const r0 = i * width;
    const r1 = r0 + width;
    const r2 = r1 + width;
    const r3 = r2 + width;
    for (let j = 0; j < width; j++) {
      const mj = mean[j];
      let v = variance[j];
      let d = x[r0 + j] - mj;
      v += d * d;
      d = x[r1 + j] - mj;
      v += d * d;
      d = x[r2 + j] - mj;
      v += d * d;
      d = x[r3 + j] - mj;
      v += d * d;
      variance[j] = v;
    }
  }
  for (; i < count; i++) {
    const base = i * width;
    for (let j = 0; j < width; j++) {
      const d = x[base + j] - mean[j];
      variance[j] += d * d;
    }
  }
  const scale = new Array<number>(width);
  for (let j = 0; j < width; j++) {
    const sd = Math.sqrt(variance[j] / count);
    scale[j] = sd > 0 && Number.isFinite(sd) ? sd : 1;
  }
  return Object.freeze({ mean: Object.freeze(Array.from(mean)), scale: Object.freeze(scale) });
}

/**
 * The z-scores of `x`, row-major, in `out` (a new array by default). `out` may be `x` itself: each element is
 * read once, before it is written, so the fit scales its own copy of the training rows in place.
 */
export function applyScaler(scaler: Scaler, x: Float64Array, count: number, width: number, out: Float64Array = new Float64Array(count * width)): Float64Array {
  // Typed copies of the frozen arrays: the loop below runs count x width times.
  const mean = Float64Array.from(scaler.mean);
  const scale = Float64Array.from(scaler.scale);
  for (let i = 0; i < count; i++) {
    const base = i * width;
    for (let j = 0; j < width; j++) out[base + j] = (x[base + j] - mean[j]) / scale[j];
  }
  return out;
}
