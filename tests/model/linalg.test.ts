import { Matrix } from 'ml-matrix';
import { describe, expect, it } from 'vitest';
import { crossProductUpper, pseudoInverseSymmetric, pseudoInverseSymmetricFlat, symmetrizeScaled } from '../../src/model/linalg.js';
import { gaussian, mulberry32 } from '../helpers/synthetic.js';

function randomRows(seed: number, count: number, width: number): Float64Array {
  const normal = gaussian(mulberry32(seed));
  // Some exact zeros and a wide range of magnitudes, as z-scores of real data have.
  return Float64Array.from({ length: count * width }, (_, i) => (i % 11 === 0 ? 0 : normal() * 10 ** ((i % 5) - 2)));
}

/** The plain row-by-row loop the blocked kernel replaces. */
function plainCrossProductUpper(d: Float64Array, count: number, width: number): Float64Array {
  const out = new Float64Array(width * width);
  for (let i = 0; i < count; i++) {
    for (let a = 0; a < width; a++) {
      for (let b = a; b < width; b++) out[a * width + b]! += d[i * width + a]! * d[i * width + b]!;
    }
  }
  return out;
}

describe('crossProductUpper', () => {
  it('equals the plain row-by-row loop bit for bit, for every remainder of rows (4) and columns (3)', () => {
    for (const count of [1, 2, 3, 4, 5, 6, 7, 8, 9, 37]) {
      for (const width of [1, 2, 3, 4, 5, 6, 7, 13]) {
        const d = randomRows(count * 100 + width, count, width);
        const ours = crossProductUpper(d, count, width);
        const plain = plainCrossProductUpper(d, count, width);
        expect(Array.from(ours), `${count} x ${width}`).toEqual(Array.from(plain));
      }
    }
  });

  it('equals the plain loop on 1,001 rows of 128 features, and overwrites a reused output', () => {
    const d = randomRows(5, 1001, 128);
    const reused = new Float64Array(128 * 128).fill(7);
    const ours = crossProductUpper(d, 1001, 128, reused);
    expect(ours).toBe(reused);
    const plain = plainCrossProductUpper(d, 1001, 128);
    let differing = 0;
    for (let i = 0; i < plain.length; i++) if (!Object.is(ours[i], plain[i])) differing++;
    expect(differing).toBe(0);
  });
});

describe('pseudoInverseSymmetric', () => {
  // A rank-deficient covariance: 6 variables, the last two copies of the first two.
  const rows = randomRows(9, 40, 4);
  const data = new Float64Array(40 * 6);
  for (let i = 0; i < 40; i++) {
    for (let j = 0; j < 4; j++) data[i * 6 + j] = rows[i * 4 + j]!;
    data[i * 6 + 4] = rows[i * 4]!;
    data[i * 6 + 5] = rows[i * 4 + 1]!;
  }
  const cov = symmetrizeScaled(crossProductUpper(data, 40, 6), 6, 39);

  it('satisfies A A+ A = A and A+ A A+ = A+ on a singular matrix (Moore-Penrose)', () => {
    const a = Matrix.from1DArray(6, 6, cov);
    const p = Matrix.from1DArray(6, 6, pseudoInverseSymmetricFlat(cov, 6));
    const apa = a.mmul(p).mmul(a);
    const pap = p.mmul(a).mmul(p);
    const scale = a.max();
    for (let i = 0; i < 6; i++) {
      for (let j = 0; j < 6; j++) {
        expect(Math.abs(apa.get(i, j) - a.get(i, j))).toBeLessThan(1e-9 * scale);
        expect(Math.abs(pap.get(i, j) - p.get(i, j))).toBeLessThan(1e-9 * p.max());
      }
    }
  });

  it('gives the same numbers through the Matrix and the flat interface', () => {
    const viaMatrix = pseudoInverseSymmetric(Matrix.from1DArray(6, 6, cov));
    expect(viaMatrix.to1DArray()).toEqual(Array.from(pseudoInverseSymmetricFlat(cov, 6)));
  });
});
