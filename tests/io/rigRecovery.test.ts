/** The emulated rig's END rule (src/io/rigCycles.ts, rigRecovery.ts) on a scripted cycle, frame by frame, without a link. */
import { describe, expect, it } from 'vitest';
import { RigCycles, type CycleCounts } from '../../src/io/rigCycles.js';
import { END_RULE } from '../../src/io/rigRecovery.js';
import type { RigScript, ScriptFrame } from '../../src/io/rigScript.js';

const RATE_HZ = 10;

/** One cycle: 10 s of B at 100 ohm (and 21 degC), 30 s of E at 60, then R: 60 until `backAtS`, then 100. */
function script(backAtS: number, gas = 100): RigScript {
  let given = false;
  return {
    channels: ['s1', 's2', 'temp_c'],
    unit: 'ohm',
    idleValues: Float64Array.of(gas, gas, 21),
    nextCycle() {
      if (given) return null;
      given = true;
      return {
        sample: 'S',
        label: '',
        *frames(): Iterator<ScriptFrame> {
          for (let i = 0; i < 10 * RATE_HZ; i++) yield { phase: 'B', values: Float64Array.of(gas, gas, 21) };
          for (let i = 0; i < 30 * RATE_HZ; i++) yield { phase: 'E', values: Float64Array.of(60, 70, 25) };
          for (let i = 0; i < 60 * RATE_HZ; i++) yield { phase: 'R', values: i < backAtS * RATE_HZ ? Float64Array.of(60, 70, 25) : Float64Array.of(gas * 1.04, gas * 0.97, 30) };
        },
      };
    },
  };
}

/** Runs the rig: `at` maps a frame index to a call made before that frame; returns the phases played and the counts. */
function play(s: RigScript, at: Record<number, (c: RigCycles, slot: number) => void>, frames: number): { phases: string; counts: CycleCounts } {
  const counts: CycleCounts = { cyclesStarted: 0, cyclesCompleted: 0, cyclesEnded: 0 };
  const cycles = new RigCycles(s, 5, false, counts, undefined, RATE_HZ);
  let phases = '';
  for (let slot = 0; slot < frames; slot++) {
    at[slot]?.(cycles, slot);
    phases += cycles.next(slot)!.phase;
  }
  return { phases, counts };
}

const runs = (phases: string): [string, number][] => Array.from(phases.matchAll(/(.)\1*/g), (m) => [m[1]!, m[0].length]);

describe('the emulated rig on END', () => {
  it('in E: the exposure stops at once; the made-up recovery ends once clean for 3 s, at least 10 s in', () => {
    const s = script(5);
    const first = s.nextCycle()!;
    let ended: boolean | null = null;
    const { phases, counts } = play(s, { 2: (c, slot) => c.start(first, 'S', slot), [2 + 100 + 50]: (c, slot) => (ended = c.end('clear', slot)) }, 1200);
    expect(ended).toBe(true);
    const r = runs(phases);
    expect(r.slice(0, 3)).toEqual([['I', 2], ['B', 100], ['E', 50]]);
    // From 5 s of E at 60 vs 100 (40 % off), a first-order return with tau 20 s is within 5 % after tau ln(8) s.
    const cleanAt = Math.ceil(END_RULE.decayTauS * Math.log(0.4 / END_RULE.cleanTolerance) * RATE_HZ) - 1;
    expect(r[3]![0]).toBe('R');
    expect(r[3]![1]).toBe(cleanAt + END_RULE.cleanHoldS * RATE_HZ);
    expect(r[4]![0]).toBe('I');
    expect(counts).toEqual({ cyclesStarted: 1, cyclesCompleted: 1, cyclesEnded: 1 });
  });

  it('in R: the scripted recovery plays until clean (environment channels aside), never past its own end', () => {
    for (const [backAtS, expectR] of [
      [2, END_RULE.minRecoveryS * RATE_HZ], // clean long before 10 s: R ends at its minimum
      [20, (20 + END_RULE.cleanHoldS) * RATE_HZ], // clean at 20 s: R ends 3 s later
      [59, 600], // clean too late: the whole scripted recovery
    ] as const) {
      const s = script(backAtS);
      const first = s.nextCycle()!;
      const { phases } = play(s, { 0: (c, slot) => c.start(first, 'S', slot), 401: (c, slot) => c.end('suspicious', slot) }, 1200);
      expect(runs(phases).slice(0, 4)).toEqual([['B', 100], ['E', 300], ['R', expectR], ['I', 1200 - 400 - expectR]]);
    }
  });

  it('without END the recovery runs its full length even when clean; END when idle is refused; a second END is taken', () => {
    const s = script(2);
    const first = s.nextCycle()!;
    const calls: boolean[] = [];
    const { phases, counts } = play(
      s,
      {
        0: (c) => calls.push(c.end('clear', 0)),
        1: (c, slot) => c.start(first, 'S', slot),
        500: (c, slot) => calls.push(c.end('clear', slot), c.end('clear', slot)),
      },
      1100,
    );
    expect(calls).toEqual([false, true, true]);
    expect(counts.cyclesEnded).toBe(1);
    const s2 = script(2);
    const c2 = s2.nextCycle()!;
    expect(runs(play(s2, { 0: (c, slot) => c.start(c2, 'S', slot) }, 1100).phases).slice(0, 4)).toEqual([['B', 100], ['E', 300], ['R', 600], ['I', 100]]);
    expect(phases.length).toBe(1100);
  });
});
