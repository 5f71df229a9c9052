/** k-nearest-neighbours in PCA space: Euclidean distance, uniform votes (scikit-learn's defaults). */

export interface KnnModel {
  readonly type: 'knn';
  readonly k: number;
  /** Training points, row-major, `dimensions` numbers each. */
  readonly points: readonly number[];
  /** Class index of each training point. */
  readonly labels: readonly number[];
}

export function fitKnn(scores: Float64Array, count: number, dimensions: number, labels: Int32Array, k: number): KnnModel {
  return Object.freeze({
    type: 'knn' as const,
    k: Math.min(k, count),
    points: Object.freeze(Array.from(scores.subarray(0, count * dimensions))),
    labels: Object.freeze(Array.from(labels.subarray(0, count))),
  });
}

/** Preallocated state for allocation-free kNN queries. */
export interface KnnRuntime {
  readonly k: number;
  readonly dimensions: number;
  readonly count: number;
  readonly points: Float64Array;
  readonly labels: Int32Array;
  readonly bestDistance: Float64Array;
  readonly bestLabel: Int32Array;
  /** Original index of each of the k best (scratch). */
  readonly bestIndex: Int32Array;
  /** A k-d tree over `points`, or null when brute force is as fast (few points) or a point is not finite. */
  readonly index: NearestIndex | null;
}

export function compileKnn(model: KnnModel, dimensions: number): KnnRuntime {
  const count = model.labels.length;
  const points = Float64Array.from(model.points);
  return {
    k: model.k,
    dimensions,
    count,
    points,
    labels: Int32Array.from(model.labels),
    bestDistance: new Float64Array(model.k),
    bestLabel: new Int32Array(model.k),
    bestIndex: new Int32Array(model.k),
    index: count >= INDEX_MIN_POINTS ? NearestIndex.build(points, count, dimensions) : null,
  };
}

/**
 * Writes the vote share of each class into `out` (length = class count). The k nearest training points with
 * ties at equal distance going to the earlier training point: from the k-d tree when there is one (the same
 * neighbours and the same numbers as the brute-force scan, see NearestIndex), else by brute force over flat
 * arrays with an insertion-sorted list of the k best.
 */
export function predictKnnInto(rt: KnnRuntime, query: Float64Array, out: Float64Array): void {
  const { k, bestLabel } = rt;
  let filled: number;
  if (rt.index !== null && rt.index.usable && isFiniteVector(query, rt.dimensions)) {
    filled = rt.index.search(query, k, rt.bestDistance, rt.bestIndex);
    for (let i = 0; i < filled; i++) bestLabel[i] = rt.labels[rt.bestIndex[i]];
  } else {
    filled = bruteKnn(rt, query);
  }
  out.fill(0);
  const share = 1 / filled;
  for (let i = 0; i < filled; i++) out[bestLabel[i]] += share;
}

function bruteKnn(rt: KnnRuntime, query: Float64Array): number {
  const { k, dimensions, count, points, labels, bestDistance, bestLabel } = rt;
  let filled = 0;
  for (let i = 0; i < count; i++) {
    const base = i * dimensions;
    let d2 = 0;
    const limit = filled === k ? bestDistance[k - 1] : Infinity;
    for (let j = 0; j < dimensions; j++) {
      const diff = points[base + j] - query[j];
      d2 += diff * diff;
      if (d2 >= limit) break;
    }
    if (d2 >= limit) continue;
    let pos = filled < k ? filled++ : k - 1;
    while (pos > 0 && bestDistance[pos - 1] > d2) {
      bestDistance[pos] = bestDistance[pos - 1];
      bestLabel[pos] = bestLabel[pos - 1];
      pos--;
    }
    bestDistance[pos] = d2;
    bestLabel[pos] = labels[i];
  }
  return filled;
}

function isFiniteVector(v: Float64Array, length: number): boolean {
  for (let j = 0; j < length; j++) if (!Number.isFinite(v[j])) return false;
  return true;
}

/** Below this many points a brute-force scan is as fast as the tree. */
export const INDEX_MIN_POINTS = 256;
/**
 * Points per leaf. Measured on 5,000 points in 22 PCA dimensions (benchmarks/verdict-latency.bench.ts data):
 * 8 to 16 point leaves prune more points but cost more in traversal than they save; 24 to 48 are about equal.
 */
const LEAF_SIZE = 32;
/**
 * Leading coordinates kept in their own array (`head`): most candidates are rejected on these alone (the PCA
 * scores come in decreasing variance), so the rejection reads 4 packed numbers instead of a whole row.
 */
const HEAD = 4;
/** A subtree is skipped only when its distance bound exceeds the limit by this factor: far above rounding. */
const PRUNE_SLACK = 1 + 1e-9;

/**
 * An exact nearest-neighbour index: a k-d tree (Friedman, Bentley & Finkel, ACM TOMS 3(3), 1977) split at the
 * median of the dimension of largest variance, searched depth-first (nearer child first, iteratively, on a
 * preallocated stack) with the incremental cell-distance bound of Arya & Mount (SODA 1993). It returns what a
 * brute-force scan returns, bit for bit: every candidate's squared distance is summed in the same order (dimension
 * 0 first) from the same numbers, ties at equal distance go to the lower original index, and a subtree is skipped
 * only when its lower bound exceeds the current limit by a relative 1e-9, so rounding of the bound can never drop
 * a point that belongs in the answer. A candidate is abandoned as soon as its partial sum (after the first 4
 * dimensions, then every 4) exceeds the limit: partial sums only grow, so this drops nothing either.
 *
 * An optional radius bounds the search (`maxD2`): points farther than it are not wanted, and whole subtrees
 * beyond it are skipped from the start. A novelty check needs only that (is a training sample within a few
 * limits?), and for a sample far from everything it turns the slowest search into the fastest. Search allocates
 * nothing.
 */
export class NearestIndex {
  readonly count: number;
  readonly dimensions: number;
  /** False when a point is not finite: callers then scan by brute force. */
  readonly usable: boolean;
  /** Leading `HEAD` coordinates of each point (fewer when there are fewer dimensions), in tree order. */
  private readonly head: Float64Array;
  /** The remaining coordinates of each point, in tree order. */
  private readonly tail: Float64Array;
  private readonly headWidth: number;
  /** Original index of the point at each tree position. */
  private readonly order: Int32Array;
  private readonly splitDim: Int32Array;
  private readonly splitValue: Float64Array;
  private readonly left: Int32Array;
  private readonly right: Int32Array;
  private readonly start: Int32Array;
  private readonly end: Int32Array;
  // Search scratch: the cell offsets of Arya & Mount, and the stack of far children still to visit.
  private readonly offsets: Float64Array;
  private readonly stackNode: Int32Array;
  private readonly stackBound: Float64Array;
  private readonly stackDim: Int32Array;
  private readonly stackOld: Float64Array;
  private readonly stackDiff: Float64Array;

  private constructor(source: ArrayLike<number>, count: number, dimensions: number) {
    this.count = count;
    this.dimensions = dimensions;
    let finite = true;
    for (let i = 0; i < count * dimensions; i++) if (!Number.isFinite(source[i])) finite = false;
    this.usable = finite;
    const order = Int32Array.from({ length: count }, (_, i) => i);
    // Every leaf holds at least LEAF_SIZE / 2 points: at most 2 count / LEAF_SIZE leaves, twice that many nodes.
    const capacity = 4 * Math.ceil(count / LEAF_SIZE) + 3;
    const splitDim = new Int32Array(capacity).fill(-1);
    const splitValue = new Float64Array(capacity);
    const left = new Int32Array(capacity).fill(-1);
    const right = new Int32Array(capacity).fill(-1);
    const start = new Int32Array(capacity);
    const end = new Int32Array(capacity);
    let nodes = 0;
    let depth = 0;
    const build = (s: number, e: number, level: number): number => {
      const node = nodes++;
      start[node] = s;
      end[node] = e;
      if (level > depth) depth = level;
      if (e - s <= LEAF_SIZE || !finite) return node;
      const dim = varianceDimension(source, order, s, e, dimensions);
      const mid = (s + e) >> 1;
      selectByCoordinate(order, s, e - 1, mid, source, dimensions, dim);
      splitDim[node] = dim;
      splitValue[node] = source[order[mid] * dimensions + dim];
      left[node] = build(s, mid, level + 1);
      right[node] = build(mid, e, level + 1);
      return node;
    };
    if (count > 0) build(0, count, 0);
    this.splitDim = splitDim.subarray(0, nodes);
    this.splitValue = splitValue.subarray(0, nodes);
    this.left = left.subarray(0, nodes);
    this.right = right.subarray(0, nodes);
    this.start = start.subarray(0, nodes);
    this.end = end.subarray(0, nodes);
    this.order = order;
    // Points laid out in tree order, so that a leaf's points are contiguous in memory.
    const h = Math.min(HEAD, dimensions);
    const r = dimensions - h;
    this.headWidth = h;
    this.head = new Float64Array(count * h);
    this.tail = new Float64Array(count * r);
    for (let t = 0; t < count; t++) {
      const from = order[t] * dimensions;
      for (let j = 0; j < h; j++) this.head[t * h + j] = source[from + j];
      for (let j = 0; j < r; j++) this.tail[t * r + j] = source[from + h + j];
    }
    this.offsets = new Float64Array(dimensions);
    // One entry per level on the path from the root to a leaf.
    this.stackNode = new Int32Array(depth + 1);
    this.stackBound = new Float64Array(depth + 1);
    this.stackDim = new Int32Array(depth + 1);
    this.stackOld = new Float64Array(depth + 1);
    this.stackDiff = new Float64Array(depth + 1);
  }

  /** Builds the index over `count` points of `dimensions` numbers each (row-major); the points are copied. */
  static build(points: ArrayLike<number>, count: number, dimensions: number): NearestIndex {
    return new NearestIndex(points, count, dimensions);
  }

  /**
   * Finds the `k` nearest points to `query` (a finite vector) among those at squared distance at most `maxD2`
   * (default: all): their squared distances, ascending, into `bestD2` and their original indices into
   * `bestIndex` (ties: lower index first). Returns how many were found: min(k, count) without a radius, possibly
   * fewer (0 when no point is within it) with one. Do not call when `usable` is false.
   */
  search(query: Float64Array, k: number, bestD2: Float64Array, bestIndex: Int32Array, maxD2 = Infinity): number {
    const want = Math.min(k, this.count);
    if (want === 0) return 0;
    const { splitDim, splitValue, left, right, start, end, order, head, tail, headWidth: h, offsets } = this;
    const { stackNode, stackBound, stackDim, stackOld, stackDiff } = this;
    const r = this.dimensions - h;
    // The head coordinates of the query, when there are HEAD of them (else unused).
    const q0 = h === HEAD ? query[0] : 0;
    const q1 = h === HEAD ? query[1] : 0;
    const q2 = h === HEAD ? query[2] : 0;
    const q3 = h === HEAD ? query[3] : 0;
    offsets.fill(0);
    let filled = 0;
    let limit = maxD2;
    let sp = 0;
    let node = 0;
    let bound = 0;
    for (;;) {
      if (bound <= limit * PRUNE_SLACK) {
        // Down to the leaf on the query's side, leaving each far child on the stack with its bound.
        let dim: number;
        while ((dim = splitDim[node]) >= 0) {
          const diff = query[dim] - splitValue[node];
          const old = offsets[dim];
          stackNode[sp] = diff < 0 ? right[node] : left[node];
          stackBound[sp] = bound - old * old + diff * diff;
          stackDim[sp] = dim;
          stackOld[sp] = old;
          stackDiff[sp] = diff;
          sp++;
          node = diff < 0 ? left[node] : right[node];
        }
        const stop = end[node];
        for (let t = start[node]; t < stop; t++) {
          let d2: number;
          if (h === HEAD) {
            const hb = t * HEAD;
            const a0 = head[hb] - q0;
            const a1 = head[hb + 1] - q1;
            const a2 = head[hb + 2] - q2;
            const a3 = head[hb + 3] - q3;
            d2 = a0 * a0;
            d2 += a1 * a1;
            d2 += a2 * a2;
            d2 += a3 * a3;
          } else {
            d2 = 0;
            for (let j = 0; j < h; j++) {
              const diff = head[t * h + j] - query[j];
              d2 += diff * diff;
            }
          }
          if (d2 > limit) continue;
          const tb = t * r;
          let j = 0;
          for (; j + 4 <= r; j += 4) {
            const a0 = tail[tb + j] - query[h + j];
            const a1 = tail[tb + j + 1] - query[h + j + 1];
            const a2 = tail[tb + j + 2] - query[h + j + 2];
            const a3 = tail[tb + j + 3] - query[h + j + 3];
            d2 += a0 * a0;
            d2 += a1 * a1;
            d2 += a2 * a2;
            d2 += a3 * a3;
            if (d2 > limit) break;
          }
          if (d2 > limit) continue;
          for (; j < r; j++) {
            const diff = tail[tb + j] - query[h + j];
            d2 += diff * diff;
          }
          if (d2 > limit) continue;
          const index = order[t];
          const full = filled === want;
          if (full && d2 === limit && index > bestIndex[want - 1]) continue;
          let pos = full ? want - 1 : filled++;
          while (pos > 0 && (bestD2[pos - 1] > d2 || (bestD2[pos - 1] === d2 && bestIndex[pos - 1] > index))) {
            bestD2[pos] = bestD2[pos - 1];
            bestIndex[pos] = bestIndex[pos - 1];
            pos--;
          }
          bestD2[pos] = d2;
          bestIndex[pos] = index;
          if (filled === want) limit = bestD2[want - 1];
        }
      }
      // Back up to the deepest far child not yet visited; restore the offsets of the cells left behind.
      for (;;) {
        if (sp === 0) return filled;
        sp--;
        const far = stackNode[sp];
        if (far < 0) {
          offsets[stackDim[sp]] = stackOld[sp];
          continue;
        }
        if (stackBound[sp] > limit * PRUNE_SLACK) continue;
        stackNode[sp] = -1;
        offsets[stackDim[sp]] = stackDiff[sp];
        sp++;
        node = far;
        bound = stackBound[sp - 1];
        break;
      }
    }
  }
}

/** The dimension along which the points `order[s..e)` vary the most (largest variance). */
function varianceDimension(points: ArrayLike<number>, order: Int32Array, s: number, e: number, dimensions: number): number {
  let dim = 0;
  let spread = -1;
  const n = e - s;
  for (let j = 0; j < dimensions; j++) {
    let mean = 0;
    for (let t = s; t < e; t++) mean += points[order[t] * dimensions + j];
    mean /= n;
    let variance = 0;
    for (let t = s; t < e; t++) {
      const d = points[order[t] * dimensions + j] - mean;
      variance += d * d;
    }
    if (variance > spread) {
      spread = variance;
      dim = j;
    }
  }
  return dim;
}

/**
 * Reorders `order[lo..hi]` so that position `k` holds the element that sorting by (coordinate `dim`, index)
 * would put there, smaller ones before it and larger ones after (Hoare's quickselect, deterministic pivot).
 */
function selectByCoordinate(order: Int32Array, lo: number, hi: number, k: number, points: ArrayLike<number>, dimensions: number, dim: number): void {
  const less = (a: number, b: number): boolean => {
    const va = points[a * dimensions + dim];
    const vb = points[b * dimensions + dim];
    return va < vb || (va === vb && a < b);
  };
  while (hi > lo) {
    const pivot = order[(lo + hi) >> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (less(order[i], pivot)) i++;
      while (less(pivot, order[j])) j--;
      if (i <= j) {
        const t = order[i];
        order[i] = order[j];
        order[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return;
  }
}
