/** Small dense linear algebra for fitting (not on the per-sample path). */
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';

export { symmetricEigen, type SymmetricEigen } from './symmetricEigen.js';

/**
 * Upper triangle of `d^T d` for `count` rows of `width` values stored row-major in `d`: `out[a * width + b]`
 * for b >= a; the lower triangle is left at zero. Four rows and three columns per pass keep twelve products in
 * flight, yet every entry is the sum over the rows in row order, so the result is bit-identical to the plain
 * row-by-row loop.
 */
export function crossProductUpper(d: Float64Array, count: number, width: number, out = new Float64Array(width * width)): Float64Array {
  out.fill(0);
  let i = 0;
  for (; i + 3 < count; i += 4) {
    const r0 = i * width;
    const r1 = r0 + width;
    const r2 = r1 + width;
    const r3 = r2 + width;
    let a = 0;
    for (; a + 2 < width; a += 3) {
      const v0 = d[r0 + a];
      const v1 = d[r1 + a];
      const v2 = d[r2 + a];
      const v3 = d[r3 + a];
      const u0 = d[r0 + a + 1];
      const u1 = d[r1 + a + 1];
      const u2 = d[r2 + a + 1];
      const u3 = d[r3 + a + 1];
      const t0 = d[r0 + a + 2];
      const t1 = d[r1 + a + 2];
      const t2 = d[r2 + a + 2];
      const t3 = d[r3 + a + 2];
      const row = a * width;
      const row1 = row + width;
      const row2 = row1 + width;
      // (a, a), (a, a + 1) and (a + 1, a + 1); the loop below covers columns a + 2 onwards for all three.
      let s = out[row + a];
      s += v0 * v0;
      s += v1 * v1;
      s += v2 * v2;
      s += v3 * v3;
      out[row + a] = s;
      s = out[row + a + 1];
      s += v0 * u0;
      s += v1 * u1;
      s += v2 * u2;
      s += v3 * u3;
      out[row + a + 1] = s;
      s = out[row1 + a + 1];
      s += u0 * u0;
      s += u1 * u1;
      s += u2 * u2;
      s += u3 * u3;
      out[row1 + a + 1] = s;
      for (let b = a + 2; b < width; b++) {
        const y0 = d[r0 + b];
        const y1 = d[r1 + b];
        const y2 = d[r2 + b];
        const y3 = d[r3 + b];
        let p = out[row + b];
        p += v0 * y0;
        p += v1 * y1;
        p += v2 * y2;
        p += v3 * y3;
        out[row + b] = p;
        let q = out[row1 + b];
        q += u0 * y0;
        q += u1 * y1;
        q += u2 * y2;
        q += u3 * y3;
        out[row1 + b] = q;
        let r = out[row2 + b];
        r += t0 * y0;
        r += t1 * y1;
        r += t2 * y2;
        r += t3 * y3;
        out[row2 + b] = r;
      }
    }
    for (; a < width; a++) {
      const v0 = d[r0 + a];
      const v1 = d[r1 + a];
      const v2 = d[r2 + a];
      const v3 = d[r3 + a];
      const row = a * width;
      for (let b = a; b < width; b++) {
        let p = out[row + b];
        p += v0 * d[r0 + b];
        p += v1 * d[r1 + b];
        p += v2 * d[r2 + b];
        p += v3 * d[r3 + b];
        out[row + b] = p;
      }
    }
  }
  for (; i < count; i++) {
    const base = i * width;
    for (let a = 0; a < width; a++) {
      const va = d[base + a];
      const row = a * width;
      for (let b = a; b < width; b++) out[row + b] += va * d[base + b];
    }
  }
  return out;
}

/** Divides the upper triangle of a square row-major matrix by `denominator` and mirrors it into the lower. */
export function symmetrizeScaled(m: Float64Array, n: number, denominator: number): Float64Array {
  for (let a = 0; a < n; a++) {
    for (let b = a; b < n; b++) {
      const v = m[a * n + b] / denominator;
      m[a * n + b] = v;
      m[b * n + a] = v;
    }
  }
  return m;
}

/** A square row-major Float64Array as an ml-matrix Matrix. */
export function toMatrix(m: Float64Array, n: number): Matrix {
  return Matrix.from1DArray(n, n, m);
}

/**
 * Moore-Penrose pseudo-inverse of a symmetric positive semi-definite n x n matrix (row-major) through its
 * eigen-decomposition; eigenvalues below `relativeTolerance` times the largest are treated as zero. Returns
 * a new row-major array.
 */
export function pseudoInverseSymmetricFlat(m: Float64Array, n: number, relativeTolerance = 1e-10): Float64Array {
  const evd = new EigenvalueDecomposition(toMatrix(m, n), { assumeSymmetric: true });
  const values = evd.realEigenvalues;
  const vectors = evd.eigenvectorMatrix;
  // Eigenvectors as rows (vector c at c * n), read once from the matrix.
  const v = new Float64Array(n * n);
  for (let a = 0; a < n; a++) for (let c = 0; c < n; c++) v[c * n + a] = vectors.get(a, c);
  let largest = 0;
  for (const value of values) largest = Math.max(largest, Math.abs(value));
  const out = new Float64Array(n * n);
  for (let c = 0; c < n; c++) {
    const value = values[c];
    if (!(value > largest * relativeTolerance)) continue;
    const inv = 1 / value;
    const vc = c * n;
    for (let a = 0; a < n; a++) {
      const va = v[vc + a] * inv;
      if (va === 0) continue;
      const row = a * n;
      for (let b = 0; b < n; b++) out[row + b] += va * v[vc + b];
    }
  }
  return out;
}

/**
 * Moore-Penrose pseudo-inverse of a symmetric positive semi-definite matrix through its eigen-decomposition;
 * eigenvalues below `relativeTolerance` times the largest are treated as zero.
 */
export function pseudoInverseSymmetric(m: Matrix, relativeTolerance = 1e-10): Matrix {
  const n = m.rows;
  const flat = new Float64Array(n * n);
  for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) flat[a * n + b] = m.get(a, b);
  return toMatrix(pseudoInverseSymmetricFlat(flat, n, relativeTolerance), n);
}

/**
 * out[c] = bias[c] + sum_j w[c * width + j] x[xo + j] for c < count (`w`: count x width, row-major): rows four
 * (then two, then one) at a time, each one accumulator started at its bias and summed over j in order, so each
 * output is the same to the bit as a plain loop's. The folded linear models' logits and the MLPs' layers.
 * Allocation-free.
 */
export function affineRowsInto(w: Float64Array, bias: Float64Array, count: number, width: number, x: Float64Array, xo: number, out: Float64Array): void {
  let c = 0;
  for (; c + 4 <= count; c += 4) {
    const w0 = c * width;
    const w1 = w0 + width;
    const w2 = w1 + width;
    const w3 = w2 + width;
    let a0 = bias[c];
    let a1 = bias[c + 1];
    let a2 = bias[c + 2];
    let a3 = bias[c + 3];
    for (let j = 0; j < width; j++) {
      const v = x[xo + j];
      a0 += w[w0 + j] * v;
      a1 += w[w1 + j] * v;
      a2 += w[w2 + j] * v;
      a3 += w[w3 + j] * v;
    }
    out[c] = a0;
    out[c + 1] = a1;
    out[c + 2] = a2;
    out[c + 3] = a3;
  }
  if (c + 2 <= count) {
    const w0 = c * width;
    const w1 = w0 + width;
    let a0 = bias[c];
    let a1 = bias[c + 1];
    for (let j = 0; j < width; j++) {
      const v = x[xo + j];
      a0 += w[w0 + j] * v;
      a1 += w[w1 + j] * v;
    }
    out[c] = a0;
    out[c + 1] = a1;
    c += 2;
  }
  if (c < count) {
    const w0 = c * width;
    let a0 = bias[c];
    for (let j = 0; j < width; j++) a0 += w[w0 + j] * x[xo + j];
    out[c] = a0;
  }
}
