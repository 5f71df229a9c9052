/**
 * The cycle tracker with a verdict due inside the exposure (`inExposureS`, issue 22): due on the first frame at or
 * past exposure start + inExposureS on the rig's clock, then the rest of that cycle (E, R) is not a new cycle; the
 * next B starts one. Without `inExposureS` the exposure's end is due, as before.
 */
import { describe, expect, it } from 'vitest';
import { CycleTracker, STARTED } from '../../src/signal/cycle.js';
import type { Phase } from '../../src/types.js';

/** A cycle at 10 Hz: `b` s of B, `e` s of E, `r` s of R, then 2 s of I (phases of each frame, rig time in ms). */
function cycle(b: number, e: number, r: number, startMs = 0): { phase: Phase; tMs: number }[] {
  const phases: Phase[] = [...Array(b * 10).fill('B'), ...Array(e * 10).fill('E'), ...Array(r * 10).fill('R'), ...Array(20).fill('I')];
  return phases.map((phase, k) => ({ phase, tMs: startMs + k * 100 }));
}

/** Runs frames through a tracker; returns where a verdict was due: [frame index, seconds into the cycle, inside the exposure]. */
function due(inExposureS: number, frames: readonly { phase: Phase; tMs: number }[]): { at: [number, number, boolean][]; starts: number } {
  const t = new CycleTracker();
  t.inExposureS = inExposureS;
  const at: [number, number, boolean][] = [];
  let starts = 0;
  frames.forEach((f, k) => {
    if (t.endsCycle(f.phase, undefined, f.tMs)) {
      at.push([k, t.secondsAt(f.tMs), t.endsInExposure]);
      t.finish();
    }
    if (t.onFrame(k, f.tMs, f.phase, undefined) & STARTED) starts++;
  });
  return { at, starts };
}

describe('a verdict due inside the exposure', () => {
  it('is due on the frame 30 s into the exposure (60 s into the cycle), and the rest of the cycle is not a new one', () => {
    const frames = [...cycle(30, 60, 60), ...cycle(30, 60, 60, 152_000)];
    const { at, starts } = due(30, frames);
    expect(at).toEqual([[600, 60, true], [1520 + 600, 60, true]]);
    expect(starts).toBe(2);
  });

  it('without it, the exposure end is due (90 s), as before', () => {
    expect(due(0, cycle(30, 60, 60)).at).toEqual([[900, 90, false]]);
  });

  it('windows that fill the whole exposure: due as it ends, still inside', () => {
    expect(due(60, cycle(30, 60, 60)).at).toEqual([[900, 90, true]]);
  });

  it('an exposure that ends before the windows: the exposure end is due, not inside', () => {
    const { at, starts } = due(30, cycle(30, 20, 60));
    expect(at).toEqual([[500, 50, false]]);
    expect(starts).toBe(1);
  });

  it('lost frames: due on the first frame past the time, on the rig clock', () => {
    const frames = cycle(30, 60, 60).filter((_, k) => k < 595 || k > 603); // frames 59.5 s to 60.3 s lost
    const { at } = due(30, frames);
    expect(at).toEqual([[595, 60.4, true]]);
  });
});
