/** Verdict events compared across runs: the clock fields masked, numbers by their exact text (NaN and -0 kept apart). */
import type { VerdictEvent } from '../../src/types.js';

export function comparableVerdict(v: VerdictEvent): string {
  return JSON.stringify({ ...v, atMs: 0, latencyMs: 0, wallTime: '' }, (_k, x: unknown) => (typeof x === 'number' ? (Object.is(x, -0) ? '-0' : String(x)) : x));
}
