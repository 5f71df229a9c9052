/**
 * A small seeded generator for shuffles and subsamples (fold assignment, novelty points) and the rig emulator's fault
 * draws. The simulator keeps its own (sim/random.ts: sfc32 with named sub-streams); merging the two would change
 * every simulated container and so the shipped models' ids.
 */

/** mulberry32 (Tommy Ettinger's 32-bit generator): uniform in [0, 1), well mixed, enough for shuffling. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
