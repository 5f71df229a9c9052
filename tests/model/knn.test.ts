/**
 * The k-d tree (`NearestIndex`) and the kNN classifier against brute force: the same neighbours, the same squared
 * distances bit for bit, ties to the lower index, and a bounded search that finds exactly the points within its
 * radius. Seeded random data (Gaussian clusters with a few dominant dimensions, as PCA scores have; integer grids,
 * where equal distances abound) and the real drift data when it is present.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readDataset } from '../../src/io/datasets/index.js';
import { compileKnn, fitKnn, INDEX_MIN_POINTS, NearestIndex, predictKnnInto } from '../../src/model/runtime/knn.js';
import { compileModel, predictCompiled } from '../../src/model/runtime/pipeline.js';
import { fitModel } from '../../src/model/fitting/fitModel.js';
import { DRIFT_RAW, haveShared } from '../helpers/shared.js';
import { gaussian, mulberry32 } from '../helpers/synthetic.js';

/** Squared distance summed in dimension order, as the index and the brute-force scans sum it. */
function squared(points: ArrayLike<number>, i: number, query: ArrayLike<number>, dims: number): number {
  let d2 = 0;
  for (let j = 0; j < dims; j++) {
    const diff = points[i * dims + j]! - query[j]!;
    d2 += diff * diff;
  }
  return d2;
}

/** The k nearest by sorting every distance: (squared distance, index) ascending, those within maxD2. */
function bruteNearest(points: ArrayLike<number>, count: number, dims: number, query: ArrayLike<number>, k: number, maxD2 = Infinity) {
  const all = Array.from({ length: count }, (_, i) => ({ i, d2: squared(points, i, query, dims) }));
  const within = all.filter((p) => p.d2 <= maxD2).sort((a, b) => a.d2 - b.d2 || a.i - b.i);
  return within.slice(0, k);
}

function searchAll(index: NearestIndex, query: Float64Array, k: number, maxD2?: number) {
  const d2 = new Float64Array(k);
  const idx = new Int32Array(k);
  const found = maxD2 === undefined ? index.search(query, k, d2, idx) : index.search(query, k, d2, idx, maxD2);
  return Array.from({ length: found }, (_, j) => ({ i: idx[j]!, d2: d2[j]! }));
}

/** Points like PCA scores: class clusters spread over the first dimensions, noise of falling variance after. */
function pcaLike(seed: number, count: number, dims: number): Float64Array {
  const normal = gaussian(mulberry32(seed));
  const centres = Array.from({ length: 5 }, () => Array.from({ length: dims }, (_, j) => (j < 4 ? 6 * normal() / (j + 1) : 0)));
  const out = new Float64Array(count * dims);
  for (let i = 0; i < count; i++) {
    const c = centres[i % 5]!;
    for (let j = 0; j < dims; j++) out[i * dims + j] = c[j]! + normal() * (j < 4 ? 1.5 : 1 / Math.sqrt(1 + j / 4));
  }
  return out;
}

/** Queries: near training points, between clusters, and far from everything (the novel ones). */
function queriesFor(points: Float64Array, count: number, dims: number, seed: number, n: number): Float64Array[] {
  const rand = mulberry32(seed);
  const normal = gaussian(rand);
  return Array.from({ length: n }, (_, q) => {
    const base = Math.floor(rand() * count);
    const spread = [0, 0.3, 1, 3, 12][q % 5]!;
    return Float64Array.from({ length: dims }, (_, j) => (q % 17 === 0 ? points[base * dims + j]! : points[base * dims + j]! + spread * normal()));
  });
}

describe('NearestIndex: exact k nearest', () => {
  for (const [dims, count] of [[1, 300], [3, 700], [4, 1000], [5, 1000], [7, 1500], [22, 3000]] as const) {
    it(`${count} points in ${dims} dimensions: the brute-force neighbours and distances, for k = 1, 2, 5, 9`, () => {
      const points = pcaLike(dims * 100 + count, count, dims);
      const index = NearestIndex.build(points, count, dims);
      expect(index.usable).toBe(true);
      for (const query of queriesFor(points, count, dims, dims, 150)) {
        for (const k of [1, 2, 5, 9]) expect(searchAll(index, query, k)).toEqual(bruteNearest(points, count, dims, query, k));
      }
    });
  }

  it('integer grids (many equal distances): ties go to the lower index, as in the scan', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 400 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.integer({ min: 1, max: 8 }),
        (dims, count, seed, k) => {
          const rand = mulberry32(seed);
          // Coordinates in 0..3: duplicates and equal distances everywhere.
          const points = Float64Array.from({ length: count * dims }, () => Math.floor(rand() * 4));
          const index = NearestIndex.build(points, count, dims);
          for (let q = 0; q < 10; q++) {
            const query = Float64Array.from({ length: dims }, () => Math.floor(rand() * 5) - 0.5 * (q % 2));
            expect(searchAll(index, query, k)).toEqual(bruteNearest(points, count, dims, query, k));
          }
        },
      ),
      { numRuns: 60, seed: 4 },
    );
  });

  it('a bounded search finds exactly the points within the radius (inclusive), and none when there are none', () => {
    const dims = 22;
    const count = 3000;
    const points = pcaLike(7, count, dims);
    const index = NearestIndex.build(points, count, dims);
    const rand = mulberry32(8);
    let empty = 0;
    let partial = 0;
    for (const query of queriesFor(points, count, dims, 9, 200)) {
      const nearest = bruteNearest(points, count, dims, query, 6);
      // Radii: below the nearest, exactly at the 1st and 3rd (inclusive), between, and beyond everything.
      const radii = [nearest[0]!.d2 * 0.5, nearest[0]!.d2, nearest[2]!.d2, (nearest[3]!.d2 + nearest[5]!.d2) / 2, nearest[0]!.d2 * (1 + rand()), Infinity];
      for (const maxD2 of radii) {
        for (const k of [1, 5]) {
          const got = searchAll(index, query, k, maxD2);
          expect(got).toEqual(bruteNearest(points, count, dims, query, k, maxD2));
          if (got.length === 0) empty++;
          else if (got.length < k) partial++;
        }
      }
    }
    // The cases above did occur.
    expect(empty).toBeGreaterThan(100);
    expect(partial).toBeGreaterThan(50);
  });

  it('a point that is not finite makes the index unusable (callers scan instead)', () => {
    const points = pcaLike(3, 400, 4);
    points[17] = NaN;
    expect(NearestIndex.build(points, 400, 4).usable).toBe(false);
  });
});

/** kNN vote shares by brute force: the k nearest by sorting, uniform votes. */
function bruteVotes(points: ArrayLike<number>, labels: ArrayLike<number>, count: number, dims: number, k: number, query: ArrayLike<number>, classes: number): number[] {
  const votes = new Array<number>(classes).fill(0);
  const nearest = bruteNearest(points, count, dims, query, k);
  for (const n of nearest) votes[labels[n.i]!]! += 1 / nearest.length;
  return votes;
}

describe('kNN classifier: the brute-force classes', () => {
  it('5,000 points in 22 dimensions, k = 5: vote shares equal the brute-force ones on every query', () => {
    const dims = 22;
    const count = 5000;
    const points = pcaLike(11, count, dims);
    const labels = Int32Array.from({ length: count }, (_, i) => i % 5);
    const rt = compileKnn(fitKnn(points, count, dims, labels, 5), dims);
    expect(rt.index).not.toBeNull();
    const out = new Float64Array(5);
    for (const query of queriesFor(points, count, dims, 12, 300)) {
      predictKnnInto(rt, query, out);
      expect(Array.from(out)).toEqual(bruteVotes(points, labels, count, dims, 5, query, 5));
    }
  });

  it('the tree and the index-free scan give the same votes and neighbour distances', () => {
    const dims = 6;
    const count = INDEX_MIN_POINTS * 3;
    const points = pcaLike(13, count, dims);
    const labels = Int32Array.from({ length: count }, (_, i) => (i * 7) % 3);
    const model = fitKnn(points, count, dims, labels, 7);
    const tree = compileKnn(model, dims);
    const scan = { ...compileKnn(model, dims), index: null };
    const a = new Float64Array(3);
    const b = new Float64Array(3);
    for (const query of queriesFor(points, count, dims, 14, 300)) {
      predictKnnInto(tree, query, a);
      predictKnnInto(scan, query, b);
      expect(Array.from(a)).toEqual(Array.from(b));
      expect(tree.bestDistance[0]).toBe(scan.bestDistance[0]);
    }
  });

  it.skipIf(!haveShared('datasets', 'uci-gas-drift', 'raw'))('drift batch 2 (raw, signed-log): kNN classes and probabilities equal brute force on every row', async () => {
    const read = await readDataset(`${DRIFT_RAW}/batch2.dat`);
    if (!read.ok || read.value.kind !== 'features') throw new Error('cannot read batch2');
    const t = read.value.table;
    const bundle = fitModel(t, { kind: 'features', featureNames: [...t.featureNames] }, { classifier: 'knn', transform: 'signed-log', cvFolds: 0, noveltyQuantile: 0 });
    if (bundle.classifier.type !== 'knn') throw new Error('not knn');
    const model = compileModel(bundle);
    expect(model.knn!.index).not.toBeNull();
    const { points, labels, k } = bundle.classifier;
    const dims = bundle.pca.components;
    const count = labels.length;
    const probs = new Float64Array(bundle.classes.length);
    for (let i = 0; i < t.count; i++) {
      // Training rows (distance-0 neighbours) and shifted rows (between points).
      const row = Float64Array.from(t.x.subarray(i * t.width, (i + 1) * t.width), (v, j) => (i % 2 ? v : v * (1 + 0.02 * Math.sin(i + j))));
      predictCompiled(model, row, 0, probs);
      expect(Array.from(probs)).toEqual(bruteVotes(points, labels, count, dims, k, model.scores, bundle.classes.length));
    }
  });
});
