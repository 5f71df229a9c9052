/** Small dense linear algebra for fitting (not on the per-sample path). */
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';

/**
 * Moore-Penrose pseudo-inverse of a symmetric positive semi-definite matrix through its eigen-decomposition;
 * eigenvalues below `relativeTolerance` times the largest are treated as zero.
 */
export function pseudoInverseSymmetric(m: Matrix, relativeTolerance = 1e-10): Matrix {
  const evd = new EigenvalueDecomposition(m, { assumeSymmetric: true });
  const values = evd.realEigenvalues;
  const vectors = evd.eigenvectorMatrix;
  const n = m.rows;
  const largest = Math.max(...values.map(Math.abs));
  const out = new Matrix(n, n);
  for (let c = 0; c < n; c++) {
    const v = values[c]!;
    if (!(v > largest * relativeTolerance)) continue;
    const inv = 1 / v;
    for (let a = 0; a < n; a++) {
      const va = vectors.get(a, c) * inv;
      if (va === 0) continue;
      for (let b = 0; b < n; b++) out.set(a, b, out.get(a, b) + va * vectors.get(b, c));
    }
  }
  return out;
}
