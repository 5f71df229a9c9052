/**
 * The short fault-injection suite (part of npm test; the long one is `npm run test:faults`): a few simulated
 * cycles over the real pty link, clean and then with each kind of fault, compared cycle by cycle. No faulty
 * cycle may be cleared where the clean run did not clear it, no cycle a fault left alone may change verdict,
 * and no corrupted frame may be accepted.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { compareRun, makeReference, runOverLink, type FaultOutcome, type Reference, type SimPlan } from '../helpers/faultLink.js';
import { ensureBuilt, haveSocat } from '../helpers/pty.js';

// Seed 1 is the default model's own rig (the simulator draws the sensor units from the seed): a model trained
// on one rig misreads another's units (rig transfer is enose calibrate --method pds).
const PLAN: SimPlan = { seed: 1, containers: 6, startDay: 21 };
const have = haveSocat();
let ref: Reference | null = null;
const outcomes: FaultOutcome[] = [];
afterAll(() => {
  for (const o of outcomes) console.log(`${o.name}: ${o.frames} frames, touched ${o.cyclesTouched} (inconclusive ${o.touchedInconclusive}, as clean ${o.touchedAsClean}, other ${o.touchedOther}), untouched mismatches ${o.untouchedMismatches}, wrongly cleared ${o.wronglyCleared}, corrupted accepted ${o.corruptedAccepted}, ${o.wallS.toFixed(1)} s`);
});

async function reference(): Promise<Reference> {
  if (ref) return ref;
  ensureBuilt();
  ref = makeReference(PLAN, await runOverLink(PLAN, []));
  return ref;
}

function expectSafe(o: FaultOutcome): void {
  expect(o.watchExit, o.details.join('\n')).toBe(0);
  expect(o.wronglyCleared, o.details.join('\n')).toBe(0);
  expect(o.beyondLimitsNotInconclusive, o.details.join('\n')).toBe(0);
  expect(o.untouchedMismatches, o.details.join('\n')).toBe(0);
}

describe.skipIf(!have)('fault injection over the pty link (short)', () => {
  it('the clean run takes every frame and clears at least half of its clear-air cycles', async () => {
    const r = await reference();
    expect(r.run.report.framesUnsent).toBe(0);
    expect(r.clearAir).toBeGreaterThan(0);
    expect(r.clearAirCleared * 2).toBeGreaterThanOrEqual(r.clearAir);
  });

  it.each([
    ['bitflip 1e-4 per byte', ['bitflip:0.0001'], true],
    ['garbage + truncate + drop-byte', ['garbage:0.01', 'truncate:0.01', 'drop-byte:0.00005'], true],
    ['repeat-seq + skip-seq', ['repeat-seq:0.002', 'skip-seq:0.0005'], false],
  ] as const)('%s', async (name, faults, corruption) => {
    const r = await reference();
    const o = compareRun(name, r, await runOverLink(PLAN, faults), [], corruption);
    outcomes.push(o);
    expectSafe(o);
    expect(o.faultsInjected).toBeGreaterThan(0);
    expect(o.cyclesTouched).toBeGreaterThan(0);
    if (name.startsWith('bitflip')) expect(o.corruptedAccepted).toBe(0);
  });

  // Rows: 1 s idle, then 30 + 60 + 60 s at 10 Hz, so cycle c runs from row 10 + 1510 c; +600 is mid-exposure.
  it.each([
    ['a reboot mid-exposure', 10 + 1510 + 600, (row: number) => [`reboot-at:${row}`]],
    ['a clock jump back 5 s mid-baseline', 10 + 2 * 1510 + 100, (row: number) => [`clock-jump:${row}:-5000`]],
    ['a disconnect mid-exposure (socat killed, restarted 0.5 s later)', 10 + 1510 + 600, (row: number) => [`disconnect-at:${row}`]],
    ['a 1 s stall mid-exposure (under the 10 s watchdog)', 10 + 3 * 1510 + 450, (row: number) => [`stall:${row}:1000`]],
  ] as const)('%s', async (name, row, faults) => {
    const r = await reference();
    const o = compareRun(name, r, await runOverLink(PLAN, faults(row)), [row], false);
    outcomes.push(o);
    expectSafe(o);
    expect(o.cyclesTouched).toBe(1);
    // A cut cycle is inconclusive (after a disconnect the rest of it can come as a second, also inconclusive, verdict).
    if (name.includes('reboot') || name.includes('disconnect')) {
      expect(o.touchedInconclusive).toBeGreaterThanOrEqual(1);
      expect(o.touchedAsClean + o.touchedOther).toBe(0);
    }
  });
});
