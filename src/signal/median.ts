/** Median by quickselect, in place on a typed array: the baseline R0 of `CycleFeatures`. */
/** Median of the first `n` entries of `a`, by quickselect in place (reorders them). */
export function median(a: Float64Array, n: number): number {
  if (n === 0) return NaN;
  const mid = n >> 1;
  const hi = select(a, 0, n - 1, mid);
  if (n % 2 === 1) return hi;
  // The lower middle is the largest entry left of mid after selection.
  let lo = -Infinity;
  for (let i = 0; i < mid; i++) if (a[i] > lo) lo = a[i];
  return (lo + hi) / 2;
}

function select(a: Float64Array, left: number, right: number, k: number): number {
  while (right > left) {
    const pivot = a[(left + right) >> 1];
    let i = left;
    let j = right;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) right = j;
    else if (k >= i) left = i;
    else return a[k];
  }
  return a[left];
}
