/** Frames of each run of `phase` that `next` ends, in order: e.g. E frames of each cycle (ended by R), R frames (ended by I). */
import type { EngineEvent } from '../../src/types.js';

export function phaseRunLengths(events: readonly EngineEvent[], phase: string, next: string): number[] {
  const lengths: number[] = [];
  let n = 0;
  let prev = 'I';
  for (const f of events) {
    if (f.type !== 'frame') continue;
    if (f.phase === phase) n++;
    if (f.phase === next && prev === phase) {
      lengths.push(n);
      n = 0;
    }
    prev = f.phase;
  }
  return lengths;
}
