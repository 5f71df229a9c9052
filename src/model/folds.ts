/** Deterministic stratified fold assignment for cross-validation. */

/** Returns the fold (0..folds-1) of each sample: each class is shuffled with `seed`, then dealt round-robin. */
export function stratifiedFolds(labels: Int32Array, folds: number, seed: number): Int32Array {
  const out = new Int32Array(labels.length);
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const list = byClass.get(labels[i]!) ?? [];
    list.push(i);
    byClass.set(labels[i]!, list);
  }
  let state = (seed >>> 0) || 1;
  const next = () => {
    // mulberry32: a small, well-mixed 32-bit generator; enough for shuffling.
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  let dealt = 0;
  for (const key of [...byClass.keys()].sort((a, b) => a - b)) {
    const list = byClass.get(key)!;
    for (let i = list.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [list[i], list[j]] = [list[j]!, list[i]!];
    }
    // Continue the round-robin across classes so small classes do not all land in fold 0.
    for (const idx of list) out[idx] = dealt++ % folds;
  }
  return out;
}
