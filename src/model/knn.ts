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
}

export function compileKnn(model: KnnModel, dimensions: number): KnnRuntime {
  const count = model.labels.length;
  return {
    k: model.k,
    dimensions,
    count,
    points: Float64Array.from(model.points),
    labels: Int32Array.from(model.labels),
    bestDistance: new Float64Array(model.k),
    bestLabel: new Int32Array(model.k),
  };
}

/**
 * Writes the vote share of each class into `out` (length = class count). Brute force over flat arrays with an
 * insertion-sorted list of the k best: ties at equal distance keep the earlier training point.
 */
export function predictKnnInto(rt: KnnRuntime, query: Float64Array, out: Float64Array): void {
  const { k, dimensions, count, points, labels, bestDistance, bestLabel } = rt;
  let filled = 0;
  for (let i = 0; i < count; i++) {
    const base = i * dimensions;
    let d2 = 0;
    const limit = filled === k ? bestDistance[k - 1]! : Infinity;
    for (let j = 0; j < dimensions; j++) {
      const diff = points[base + j]! - query[j]!;
      d2 += diff * diff;
      if (d2 >= limit) break;
    }
    if (d2 >= limit) continue;
    let pos = filled < k ? filled++ : k - 1;
    while (pos > 0 && bestDistance[pos - 1]! > d2) {
      bestDistance[pos] = bestDistance[pos - 1]!;
      bestLabel[pos] = bestLabel[pos - 1]!;
      pos--;
    }
    bestDistance[pos] = d2;
    bestLabel[pos] = labels[i]!;
  }
  out.fill(0);
  const share = 1 / filled;
  for (let i = 0; i < filled; i++) out[bestLabel[i]!]! += share;
}
