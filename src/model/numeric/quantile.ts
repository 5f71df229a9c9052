/**
 * The q-quantile of an ascending array as the smallest value with at least a share q of the values at or below
 * it (no interpolation): `sorted[ceil(q n) - 1]`, clamped to the array. NaN for an empty array.
 */
export function sortedQuantile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  return sorted[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))];
}
