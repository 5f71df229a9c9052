import { readdirSync } from 'node:fs';
import { EigenvalueDecomposition, Matrix, QrDecomposition } from 'ml-matrix';
import { describe, expect, it } from 'vitest';
import { EnoseError } from '../../src/errors.js';
import { readDataset } from '../../src/io/datasets/index.js';
import {
  crossProductUpper,
  pseudoInverseSymmetric,
  pseudoInverseSymmetricFlat,
  symmetricEigen,
  symmetrizeScaled,
} from '../../src/model/numeric/linalg.js';
import { applyScaler, fitScaler } from '../../src/model/runtime/scaler.js';
import { DRIFT_RAW, haveShared } from '../helpers/shared.js';
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

/** A seeded random symmetric n x n matrix, row-major, with entries of mixed magnitude and some exact zeros. */
function randomSymmetric(seed: number, n: number): Float64Array {
  const normal = gaussian(mulberry32(seed));
  const m = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      const v = (i * 7 + j) % 13 === 0 && i !== j ? 0 : normal() * 10 ** (((i + j) % 5) - 2);
      m[i * n + j] = v;
      m[j * n + i] = v;
    }
  }
  return m;
}

/** Q diag(values) Q^T for a seeded random orthogonal Q (from a QR decomposition): exactly the given spectrum, up to rounding. */
function withSpectrum(seed: number, values: readonly number[]): Float64Array {
  const n = values.length;
  const normal = gaussian(mulberry32(seed));
  const q = new QrDecomposition(Matrix.from1DArray(n, n, Float64Array.from({ length: n * n }, () => normal()))).orthogonalMatrix;
  const a = q.mmul(Matrix.diag([...values])).mmul(q.transpose());
  const m = new Float64Array(n * n);
  // Average the two triangles so that the matrix is exactly symmetric.
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) m[i * n + j] = (a.get(i, j) + a.get(j, i)) / 2;
  return m;
}

/** Counts the values of ours that differ from ml-matrix's EigenvalueDecomposition (assumeSymmetric) by Object.is. */
function differencesFromMlMatrix(m: Float64Array, n: number): { values: number; vectors: number; reference: EigenvalueDecomposition } {
  const reference = new EigenvalueDecomposition(Matrix.from1DArray(n, n, m), { assumeSymmetric: true });
  const ours = symmetricEigen(m, n);
  const refValues = reference.realEigenvalues;
  const refVectors = reference.eigenvectorMatrix;
  expect(ours.values.length).toBe(n);
  expect(ours.vectors.length).toBe(n * n);
  expect(refVectors.rows).toBe(n);
  expect(refVectors.columns).toBe(n);
  let values = 0;
  let vectors = 0;
  for (let c = 0; c < n; c++) if (!Object.is(ours.values[c], refValues[c])) values++;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (!Object.is(ours.vectors[i * n + j], refVectors.get(i, j))) vectors++;
  return { values, vectors, reference };
}

function expectBitIdentical(m: Float64Array, n: number, label: string): EigenvalueDecomposition {
  const before = Float64Array.from(m);
  const { values, vectors, reference } = differencesFromMlMatrix(m, n);
  expect(values, `${label}: eigenvalues differing from ml-matrix`).toBe(0);
  expect(vectors, `${label}: eigenvector entries differing from ml-matrix`).toBe(0);
  expect(Array.from(m), `${label}: input left untouched`).toEqual(Array.from(before));
  return reference;
}

describe('symmetricEigen (flat port of ml-matrix tred2 + tql2)', () => {
  it('equals ml-matrix EigenvalueDecomposition bit for bit on seeded random symmetric matrices of 1 to 128', () => {
    for (const n of [1, 2, 3, 7, 32, 128]) {
      for (const seed of [1, 2]) expectBitIdentical(randomSymmetric(seed * 1000 + n, n), n, `random ${n} x ${n}, seed ${seed}`);
    }
  });

  it('is a true eigen-decomposition (A V = V diag(values), V orthonormal, ascending), so the comparison is not vacuous', () => {
    const n = 32;
    const m = randomSymmetric(77, n);
    const { values, vectors } = symmetricEigen(m, n);
    const a = Matrix.from1DArray(n, n, m);
    const v = Matrix.from1DArray(n, n, vectors);
    const av = a.mmul(v);
    const vtv = v.transpose().mmul(v);
    const scale = Math.max(...Array.from(values, Math.abs));
    for (let c = 0; c < n; c++) {
      if (c > 0) expect(values[c]).toBeGreaterThanOrEqual(values[c - 1]!);
      for (let i = 0; i < n; i++) {
        expect(Math.abs(av.get(i, c) - v.get(i, c) * values[c]!)).toBeLessThan(1e-12 * scale);
        expect(Math.abs(vtv.get(i, c) - (i === c ? 1 : 0))).toBeLessThan(1e-12);
      }
    }
  });

  it('equals ml-matrix bit for bit with repeated eigenvalues', () => {
    const spectrum = [2, 2, 2, 5, 5, -1, 0, 0, 3, 2];
    const reference = expectBitIdentical(withSpectrum(11, spectrum), spectrum.length, 'Q diag(2,2,2,5,5,-1,0,0,3,2) Q^T');
    // The spectrum really is repeated (to rounding), so the degenerate paths were taken.
    const sorted = [...spectrum].sort((x, y) => x - y);
    reference.realEigenvalues.forEach((v, i) => expect(Math.abs(v - sorted[i]!)).toBeLessThan(1e-12));
    // All ones: eigenvalues 0 (five times) and 6.
    expectBitIdentical(new Float64Array(36).fill(1), 6, 'all ones 6 x 6');
    // A multiple of the identity, and the zero matrix (every Householder step skipped).
    expectBitIdentical(Float64Array.from({ length: 49 }, (_, i) => (i % 8 === 0 ? 3 : 0)), 7, '3 I');
    expectBitIdentical(new Float64Array(25), 5, 'zero 5 x 5');
  });

  it('equals ml-matrix bit for bit on a diagonal matrix (unsorted, repeated, zero and negative entries)', () => {
    const diagonal = [4, -2, 0, 7.5, 4, 1e-300, -1e300, 0.1];
    const n = diagonal.length;
    const m = new Float64Array(n * n);
    diagonal.forEach((v, i) => (m[i * n + i] = v));
    const reference = expectBitIdentical(m, n, 'diagonal');
    expect(reference.realEigenvalues).toEqual([...diagonal].sort((x, y) => x - y));
  });

  it('equals ml-matrix bit for bit on a block-diagonal matrix with an exactly zero coupling block', () => {
    const n = 9;
    const inner = randomSymmetric(5, n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if ((i < 4) !== (j < 4)) inner[i * n + j] = 0;
    expectBitIdentical(inner, n, 'block diagonal');
  });

  it('rejects a size it cannot decompose and non-finite entries (EnoseError)', () => {
    expect(() => symmetricEigen(new Float64Array(4), 0)).toThrow(/positive integer/);
    expect(() => symmetricEigen(new Float64Array(3), 2)).toThrow(/3 values for a 2 x 2/);
    expect(() => symmetricEigen(Float64Array.from([1, 0, 0, NaN]), 2)).toThrow(/entry \(1, 1\) is not a finite number/);
    expect(() => symmetricEigen(Float64Array.from([1, Infinity, Infinity, 1]), 2)).toThrow(/not a finite number/);
    const codes = [() => symmetricEigen(new Float64Array(4), 0), () => symmetricEigen(Float64Array.from([NaN]), 1)].map((f) => {
      try {
        f();
        return 'no error';
      } catch (error) {
        return error instanceof EnoseError ? error.code : String(error);
      }
    });
    expect(codes).toEqual(['bad-usage', 'bad-data']);
  });

  const haveDrift = haveShared('datasets', 'uci-gas-drift', 'raw');
  it.skipIf(!haveDrift)('equals ml-matrix bit for bit on the covariance of the real drift data (128 x 128)', async () => {
    const files = readdirSync(DRIFT_RAW).filter((f) => /^batch\d+\.dat$/.test(f)).sort();
    const tables = [];
    for (const f of files) {
      const read = await readDataset(`${DRIFT_RAW}/${f}`);
      if (!read.ok || read.value.kind !== 'features') throw new Error(`cannot read ${f}`);
      tables.push(read.value.table);
    }
    const width = tables[0]!.width;
    expect(width).toBe(128);
    const covariance = (x: Float64Array, count: number, scaled: boolean): Float64Array => {
      const scaler = fitScaler(x, count, width);
      const z = scaled ? applyScaler(scaler, x, count, width) : Float64Array.from(x, (v, i) => v - scaler.mean[i % width]!);
      return symmetrizeScaled(crossProductUpper(z, count, width), width, count - 1);
    };
    const batch1 = tables[0]!;
    const all = new Float64Array(tables.reduce((s, t) => s + t.count * width, 0));
    let offset = 0;
    for (const t of tables) {
      all.set(t.x.subarray(0, t.count * width), offset);
      offset += t.count * width;
    }
    const cases: [string, Float64Array][] = [
      [`z-scored ${files[0]} (${batch1.count} rows)`, covariance(batch1.x, batch1.count, true)],
      [`centred, unscaled ${files[0]}`, covariance(batch1.x, batch1.count, false)],
      [`z-scored, all ${files.length} batches (${offset / width} rows)`, covariance(all, offset / width, true)],
    ];
    for (const [label, m] of cases) {
      const reference = expectBitIdentical(m, width, label);
      console.info(`symmetricEigen = ml-matrix on drift covariance, ${label}: largest eigenvalue ${reference.realEigenvalues[width - 1]!.toExponential(3)}`);
    }
  });
});
