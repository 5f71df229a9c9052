/**
 * Novelty limit: a sample far from every training sample in PCA space smells of nothing the model knows, and
 * must lead to an inspection (`unknown-odour`), not to a clearance. The distance to the nearest training
 * sample is compared with a quantile of the same distance for training samples (leave-one-out); this
 * nearest-neighbour rule is the "distance to the nearest training sample" data description of Tax & Duin
 * (Pattern Recognition Letters 20, 1999; see Tax, "One-class classification", PhD thesis, TU Delft 2001, 3.4).
 */
import { INDEX_MIN_POINTS, NearestIndex } from './knn.js';
import { mulberry32 } from './rng.js';

export interface NoveltyModel {
  readonly method: 'nearest-sample';
  /** Training samples in PCA space (row-major, `components` each), at most `maxPoints`. */
  readonly points: readonly number[];
  /** Distance above which a sample is novel. */
  readonly threshold: number;
  /** The quantile of leave-one-out distances the threshold was set at. */
  readonly quantile: number;
}

export interface NoveltyOptions {
  /** @default 0.99 */
  readonly quantile?: number;
  /** Cap on stored points (a seeded subsample beyond it). @default 5000 */
  readonly maxPoints?: number;
  /** Cap on the training samples used to estimate the threshold. @default 2000 */
  readonly maxQueries?: number;
  readonly seed?: number;
}

function sampleIndices(count: number, cap: number, next: () => number): Int32Array {
  const idx = Int32Array.from({ length: count }, (_, i) => i);
  if (count <= cap) return idx;
  for (let i = 0; i < cap; i++) {
    const j = i + Math.floor(next() * (count - i));
    const t = idx[i]!;
    idx[i] = idx[j]!;
    idx[j] = t;
  }
  return idx.slice(0, cap).sort();
}

export function fitNovelty(scores: Float64Array, count: number, k: number, options: NoveltyOptions = {}): NoveltyModel | null {
  if (count < 3) return null;
  const quantile = options.quantile ?? 0.99;
  const next = mulberry32(options.seed ?? 1);
  const keep = sampleIndices(count, options.maxPoints ?? 5000, next);
  const points = new Float64Array(keep.length * k);
  keep.forEach((row, i) => points.set(scores.subarray(row * k, (row + 1) * k), i * k));
  // Leave-one-out among the stored points: a query never matches itself.
  const queries = sampleIndices(keep.length, options.maxQueries ?? 2000, next);
  const distances = new Float64Array(queries.length);
  const index = keep.length >= INDEX_MIN_POINTS ? NearestIndex.build(points, keep.length, k) : null;
  if (index !== null && index.usable) {
    // The nearest other point is the second nearest overall: the query itself is first at distance 0.
    const bestD2 = new Float64Array(2);
    const bestIndex = new Int32Array(2);
    for (let q = 0; q < queries.length; q++) {
      const self = queries[q]!;
      index.search(points.subarray(self * k, (self + 1) * k), 2, bestD2, bestIndex);
      distances[q] = Math.sqrt(bestD2[1]!);
    }
  } else {
    for (let q = 0; q < queries.length; q++) {
      const self = queries[q]!;
      let best = Infinity;
      for (let i = 0; i < keep.length; i++) {
        if (i === self) continue;
        let d2 = 0;
        for (let j = 0; j < k; j++) {
          const diff = points[i * k + j]! - points[self * k + j]!;
          d2 += diff * diff;
          if (d2 >= best) break;
        }
        if (d2 < best) best = d2;
      }
      distances[q] = Math.sqrt(best);
    }
  }
  distances.sort();
  const pos = Math.min(distances.length - 1, Math.ceil(quantile * distances.length) - 1);
  const threshold = distances[Math.max(0, pos)]!;
  return Object.freeze({ method: 'nearest-sample' as const, points: Object.freeze(Array.from(points)), threshold, quantile });
}

/** k-d trees prepared for point arrays (see `prepareNearest`). */
const indexes = new WeakMap<Float64Array, NearestIndex>();
const scratchD2 = new Float64Array(1);
const scratchIndex = new Int32Array(1);

/**
 * Distance from `query` to the nearest of `count` points (row-major, `k` each). When `prepareNearest` was
 * called for these points, through the k-d tree it built (knn.ts `NearestIndex`: the same answer as the scan,
 * bit for bit, computing about a tenth of the distances on 5,000 points); otherwise, or for a non-finite
 * query, a brute-force scan with early exit. The tree is never built here: building it takes milliseconds,
 * which belong to model compilation, not to a verdict.
 */
export function nearestDistance(points: Float64Array, count: number, k: number, query: Float64Array): number {
  const index = indexes.get(points);
  if (index !== undefined && index.count === count && index.dimensions === k && index.usable && finiteVector(query, k)) {
    index.search(query, 1, scratchD2, scratchIndex);
    return Math.sqrt(scratchD2[0]!);
  }
  let best = Infinity;
  for (let i = 0; i < count; i++) {
    const base = i * k;
    let d2 = 0;
    for (let j = 0; j < k; j++) {
      const diff = points[base + j]! - query[j]!;
      d2 += diff * diff;
      if (d2 >= best) break;
    }
    if (d2 < best) best = d2;
  }
  return Math.sqrt(best);
}

/**
 * Builds, once per array, the k-d tree that `nearestDistance` then uses for `points` (from 256 points on;
 * fewer are scanned as fast). Call it when a model is compiled; the array must not be written afterwards (a
 * compiled model's arrays never are). Returns the tree, or null for fewer points.
 */
export function prepareNearest(points: Float64Array, count: number, k: number): NearestIndex | null {
  if (count < INDEX_MIN_POINTS) return null;
  let index = indexes.get(points);
  if (index === undefined || index.count !== count || index.dimensions !== k) {
    index = NearestIndex.build(points, count, k);
    indexes.set(points, index);
  }
  return index;
}

function finiteVector(v: Float64Array, length: number): boolean {
  for (let j = 0; j < length; j++) if (!Number.isFinite(v[j]!)) return false;
  return true;
}
