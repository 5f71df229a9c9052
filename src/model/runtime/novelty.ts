/**
 * Novelty limit: a sample far from every training sample in PCA space smells of nothing the model knows, and
 * must lead to an inspection (`unknown-odour`), not to a clearance. The distance to the nearest training
 * sample is compared with a quantile of the same distance for training samples (leave-one-out); this
 * nearest-neighbour rule is the "distance to the nearest training sample" data description of Tax & Duin
 * (Pattern Recognition Letters 20, 1999; see Tax, "One-class classification", PhD thesis, TU Delft 2001, 3.4).
 */
import { EnoseError } from '../../errors.js';
import { INDEX_MIN_POINTS, NearestIndex } from './knn.js';
import { sortedQuantile } from '../numeric/quantile.js';
import { fitScaler } from './scaler.js';
import { mulberry32 } from '../numeric/rng.js';

export interface NoveltyModel {
  readonly method: 'nearest-sample';
  /** Training samples in PCA space (row-major, `components` each), at most `maxPoints`. */
  readonly points: readonly number[];
  /** Distance above which a sample is novel. */
  readonly threshold: number;
  /** The quantile of leave-one-out distances the threshold was set at. */
  readonly quantile: number;
  /**
   * The leading principal components the distance is measured in, when fewer than the model keeps (absent:
   * all of them). The leading ones hold the spread of the training data; a model that keeps every component
   * for its classifier need not measure novelty in the trailing, noise-level ones (and stores less).
   */
  readonly components?: number;
  /**
   * Factor applied to each of those components before the distance is taken (absent: 1). Whitening stores
   * 1 / (the component's standard deviation in training): a step along a low-variance direction, where a
   * small marker can show, then counts as much as one along the leading ones. The points stay in PCA units.
   */
  readonly scale?: readonly number[];
}

export interface NoveltyOptions {
  /** @default 0.99 */
  readonly quantile?: number;
  /** Cap on stored points (a seeded subsample beyond it). @default 5000 */
  readonly maxPoints?: number;
  /** Cap on the training samples used to estimate the threshold. @default 2000 */
  readonly maxQueries?: number;
  readonly seed?: number;
  /** Measure the distance in the first `components` of the `k` scores only. @default k */
  readonly components?: number;
  /** Whiten: divide each component by its standard deviation over the training scores. @default false */
  readonly whiten?: boolean;
}

/** Smallest standard deviation a whitened component is divided by, relative to the largest. */
const WHITEN_FLOOR = 1e-6;

/** 1 / standard deviation of each of the first `k` score columns (floored at WHITEN_FLOOR of the largest). */
function whiteningScale(scores: Float64Array, count: number, stride: number, k: number): Float64Array {
  const sd = fitScaler(scores, count, stride).scale;
  let top = 0;
  for (let j = 0; j < k; j++) if (sd[j] > top) top = sd[j];
  const scale = new Float64Array(k);
  for (let j = 0; j < k; j++) scale[j] = 1 / Math.max(sd[j], WHITEN_FLOOR * top, Number.MIN_VALUE);
  return scale;
}

/** `points` (count x k) multiplied column by column by `scale`: the space the distance is taken in. */
export function scaledPoints(points: ArrayLike<number>, k: number, scale: ArrayLike<number>): Float64Array {
  const out = new Float64Array(points.length);
  for (let i = 0; i < points.length; i++) out[i] = points[i] * scale[i % k];
  return out;
}

function sampleIndices(count: number, cap: number, next: () => number): Int32Array {
  const idx = Int32Array.from({ length: count }, (_, i) => i);
  if (count <= cap) return idx;
  for (let i = 0; i < cap; i++) {
    const j = i + Math.floor(next() * (count - i));
    const t = idx[i];
    idx[i] = idx[j];
    idx[j] = t;
  }
  return idx.slice(0, cap).sort();
}

export function fitNovelty(scores: Float64Array, count: number, stride: number, options: NoveltyOptions = {}): NoveltyModel | null {
  if (count < 3) return null;
  const quantile = options.quantile ?? 0.99;
  const next = mulberry32(options.seed ?? 1);
  const keep = sampleIndices(count, options.maxPoints ?? 5000, next);
  const m = options.components;
  if (m !== undefined && !(Number.isInteger(m) && m >= 1)) throw new EnoseError('bad-option', `novelty components must be a positive integer, got ${String(m)}`);
  const k = m !== undefined && m < stride ? m : stride;
  const stored = new Float64Array(keep.length * k);
  keep.forEach((row, i) => stored.set(scores.subarray(row * stride, row * stride + k), i * k));
  const scale = options.whiten ? whiteningScale(scores, count, stride, k) : null;
  // The limit is set in the space the distance is taken in (whitened or not); the stored points stay in PCA units.
  const points = scale ? scaledPoints(stored, k, scale) : stored;
  // Leave-one-out among the stored points: a query never matches itself.
  const queries = sampleIndices(keep.length, options.maxQueries ?? 2000, next);
  const distances = new Float64Array(queries.length);
  const index = keep.length >= INDEX_MIN_POINTS ? NearestIndex.build(points, keep.length, k) : null;
  if (index !== null && index.usable) {
    // The nearest other point is the second nearest overall: the query itself is first at distance 0.
    const bestD2 = new Float64Array(2);
    const bestIndex = new Int32Array(2);
    for (let q = 0; q < queries.length; q++) {
      const self = queries[q];
      index.search(points.subarray(self * k, (self + 1) * k), 2, bestD2, bestIndex);
      distances[q] = Math.sqrt(bestD2[1]);
    }
  } else {
    for (let q = 0; q < queries.length; q++) {
      const self = queries[q];
      let best = Infinity;
      for (let i = 0; i < keep.length; i++) {
        if (i === self) continue;
        let d2 = 0;
        for (let j = 0; j < k; j++) {
          const diff = points[i * k + j] - points[self * k + j];
          d2 += diff * diff;
          if (d2 >= best) break;
        }
        if (d2 < best) best = d2;
      }
      distances[q] = Math.sqrt(best);
    }
  }
  distances.sort();
  const threshold = sortedQuantile(distances, quantile);
  return Object.freeze({
    method: 'nearest-sample' as const,
    points: Object.freeze(Array.from(stored)),
    threshold,
    quantile,
    ...(k < stride && { components: k }),
    ...(scale && { scale: Object.freeze(Array.from(scale)) }),
  });
}

/**
 * For each of the `count` training rows of `scores` (row-major, `stride` each) that `fitNovelty` was given with
 * the same `options`, whether its limit flags the row, leave-one-out: the row's distance to the nearest stored
 * point other than its own, over the threshold. What the limit adds to the false alarms on the training data,
 * which the verdict policy's calibration counts (fitModel): without it, a policy tuned for 1 % false alarms
 * gives 1 % plus the novelty limit's own share.
 */
export function trainingNoveltyFlags(scores: Float64Array, count: number, stride: number, novelty: NoveltyModel, options: NoveltyOptions = {}): Uint8Array {
  const flags = new Uint8Array(count);
  const k = novelty.components ?? stride;
  const stored = Float64Array.from(novelty.points);
  const n = stored.length / k;
  // The stored rows, drawn exactly as fitNovelty drew them (its first use of the same seeded generator).
  const keep = sampleIndices(count, options.maxPoints ?? 5000, mulberry32(options.seed ?? 1));
  const slot = new Int32Array(count).fill(-1);
  keep.forEach((row, i) => (slot[row] = i));
  const points = novelty.scale ? scaledPoints(stored, k, novelty.scale) : stored;
  const query = new Float64Array(k);
  const index = n >= INDEX_MIN_POINTS ? NearestIndex.build(points, n, k) : null;
  const bestD2 = new Float64Array(2);
  const bestIndex = new Int32Array(2);
  const limit2 = novelty.threshold * novelty.threshold;
  for (let row = 0; row < count; row++) {
    for (let j = 0; j < k; j++) query[j] = scores[row * stride + j] * (novelty.scale ? novelty.scale[j] : 1);
    const self = slot[row];
    let d2 = Infinity;
    if (index !== null && index.usable) {
      const found = index.search(query, 2, bestD2, bestIndex);
      for (let f = 0; f < found; f++) {
        if (bestIndex[f] !== self) {
          d2 = bestD2[f];
          break;
        }
      }
    } else {
      for (let i = 0; i < n; i++) {
        if (i === self) continue;
        let s = 0;
        for (let j = 0; j < k; j++) {
          const diff = points[i * k + j] - query[j];
          s += diff * diff;
        }
        if (s < d2) d2 = s;
      }
    }
    if (d2 > limit2) flags[row] = 1;
  }
  return flags;
}

/** k-d trees prepared for point arrays (see `prepareNearest`). */
const indexes = new WeakMap<Float64Array, NearestIndex>();
const scratchD2 = new Float64Array(1);
const scratchIndex = new Int32Array(1);
/** A search radius is widened by this factor before squaring's rounding can matter: far above it. */
const RADIUS_SLACK = 1 + 1e-9;

/**
 * Novelty scores are reported up to this many novelty limits. A sample whose nearest training sample is farther
 * reads exactly this value ("twice the limit or farther"): the search stops at that radius instead of finding
 * how far beyond it the nearest one lies, which is the slowest search there is and changes no decision (the
 * verdict needs above 1 or not; drift adaptation a guard below 1).
 */
export const NOVELTY_CEILING = 2;

/**
 * Squared distance from `query` to the nearest of `count` points (row-major, `k` each) if one lies at squared
 * distance at most `maxD2`, else Infinity. Through the k-d tree of `prepareNearest` when there is one and the
 * query is finite, else a brute-force scan with early exit; both give the same number, bit for bit.
 */
function nearestSquared(points: Float64Array, count: number, k: number, query: Float64Array, maxD2: number): number {
  const index = indexes.get(points);
  if (index !== undefined && index.count === count && index.dimensions === k && index.usable && finiteVector(query, k)) {
    return index.search(query, 1, scratchD2, scratchIndex, maxD2) === 1 ? scratchD2[0] : Infinity;
  }
  let best = Infinity;
  for (let i = 0; i < count; i++) {
    const base = i * k;
    const limit = best < maxD2 ? best : maxD2;
    let d2 = 0;
    for (let j = 0; j < k; j++) {
      const diff = points[base + j] - query[j];
      d2 += diff * diff;
      if (d2 > limit) break;
    }
    if (d2 <= limit && d2 < best) best = d2;
  }
  return best;
}

/**
 * Distance from `query` to the nearest of `count` points (row-major, `k` each), or `within` when none is nearer
 * than that: min(distance, within), exactly as a full scan would compute it. A finite `within` bounds the search
 * (points beyond it are never examined); the default finds the distance however far. When `prepareNearest` was
 * called for these points, through the k-d tree it built (knn.ts `NearestIndex`: the same answer as the scan, bit
 * for bit); otherwise, or for a non-finite query, a brute-force scan with early exit (a NaN query gives
 * `within`, Infinity by default). The tree is never built here: building it takes milliseconds, which belong to
 * model compilation, not to a verdict.
 */
export function nearestDistance(points: Float64Array, count: number, k: number, query: Float64Array, within = Infinity): number {
  const maxD2 = within === Infinity ? Infinity : within * within * RADIUS_SLACK;
  const d2 = nearestSquared(points, count, k, query, maxD2);
  return d2 === Infinity ? within : Math.min(Math.sqrt(d2), within);
}

/**
 * The novelty score of a nearest-sample distance: distance over the limit `threshold` (1 = at the limit, above 1
 * = unlike anything in training), capped at `NOVELTY_CEILING`. With a zero limit (training samples all
 * duplicated), 0 at distance 0 and the ceiling otherwise.
 */
export function noveltyOfDistance(distance: number, threshold: number): number {
  if (threshold > 0) return Math.min(distance / threshold, NOVELTY_CEILING);
  return distance === 0 ? 0 : NOVELTY_CEILING;
}

/**
 * Novelty score of `query` (see `noveltyOfDistance`) against `count` points with limit `threshold`: the
 * nearest-sample search is bounded at `NOVELTY_CEILING` limits, so a sample far from everything costs the least.
 * Equal to `noveltyOfDistance(nearestDistance(points, count, k, query), threshold)`.
 */
export function noveltyScore(points: Float64Array, count: number, k: number, query: Float64Array, threshold: number): number {
  if (!(threshold > 0)) return nearestSquared(points, count, k, query, 0) === 0 ? 0 : NOVELTY_CEILING;
  const within = NOVELTY_CEILING * threshold;
  const d2 = nearestSquared(points, count, k, query, within * within * RADIUS_SLACK);
  return d2 === Infinity ? NOVELTY_CEILING : noveltyOfDistance(Math.sqrt(d2), threshold);
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
  for (let j = 0; j < length; j++) if (!Number.isFinite(v[j])) return false;
  return true;
}
