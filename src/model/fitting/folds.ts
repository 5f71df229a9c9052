/** Deterministic stratified fold assignment for cross-validation. */
import { mulberry32 } from '../numeric/rng.js';
import { EnoseError } from '../../errors.js';

/** Returns the fold (0..folds-1) of each sample: each class is shuffled with `seed`, then dealt round-robin. */
export function stratifiedFolds(labels: Int32Array, folds: number, seed: number): Int32Array {
  const out = new Int32Array(labels.length);
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const list = byClass.get(labels[i]) ?? [];
    list.push(i);
    byClass.set(labels[i], list);
  }
  const next = mulberry32(seed);
  let dealt = 0;
  for (const key of [...byClass.keys()].sort((a, b) => a - b)) {
    const list = byClass.get(key)!;
    for (let i = list.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [list[i], list[j]] = [list[j], list[i]];
    }
    // Continue the round-robin across classes so small classes do not all land in fold 0.
    for (const idx of list) out[idx] = dealt++ % folds;
  }
  return out;
}

/**
 * Folds that keep every group (a recording) whole: each group goes to one fold, stratified by the group's first
 * label (groups of a class shuffled with `seed`, then dealt round-robin, continuing across classes).
 */
export function groupedFolds(groups: readonly string[], labels: Int32Array, folds: number, seed: number): Int32Array {
  const ids = new Map<string, number>();
  const groupLabel: number[] = [];
  const groupOf = Int32Array.from(groups, (g, i) => {
    let id = ids.get(g);
    if (id === undefined) {
      id = ids.size;
      ids.set(g, id);
      groupLabel.push(labels[i]);
    }
    return id;
  });
  const groupFold = stratifiedFolds(Int32Array.from(groupLabel), folds, seed);
  return Int32Array.from(groupOf, (g) => groupFold[g]);
}

/** `groupedFolds` when the rows have groups, else `stratifiedFolds` (every row its own group: the same folds). */
export function assignFolds(labels: Int32Array, folds: number, seed: number, groups?: readonly string[]): Int32Array {
  if (!groups) return stratifiedFolds(labels, folds, seed);
  if (groups.length !== labels.length) throw new EnoseError('bad-usage', `cvGroups: ${groups.length} groups for ${labels.length} rows`);
  return groupedFolds(groups, labels, folds, seed);
}
