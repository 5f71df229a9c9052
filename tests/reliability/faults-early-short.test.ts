/**
 * The short fault suite under the shipped early plan (issue 22: `watch --early` with the default model; the
 * exposure model decides at 90 s, the rig is told to END). Three faults chosen for the early path: the rate
 * faults at once, a reboot mid-exposure of a cycle the clean run decides early (cut before its checkpoint), and
 * a disconnect just after that cycle's 90 s checkpoint (between the early verdict and the rig's END answer). The
 * long variant is `ENOSE_FAULTS_EARLY=1 npm run test:faults`.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { checkEarly, earlyRow, type EarlyOutcome } from '../helpers/faultEarly.js';
import { compareRun, DEFAULT_MODEL, makeReference, runOverLink, type FaultConfig, type FaultOutcome, type Reference, type SimPlan } from '../helpers/faultLink.js';
import { ensureBuilt, haveSocat } from '../helpers/pty.js';

// Seed 1, day 21 (the default model's rig, as faults-short.test.ts): of the first 14 cycles the clean run decides
// two early (cycles 7 and 12, clear at 90 s); six cycles, as the other short suite, hold none.
const PLAN: SimPlan = { seed: 1, containers: 14, startDay: 21 };
const EARLY: FaultConfig = { model: DEFAULT_MODEL, early: true };
const have = haveSocat();
let ref: Reference | null = null;
const lines: string[] = [];
afterAll(() => {
  for (const l of lines) console.log(l);
});

async function reference(): Promise<Reference> {
  if (ref) return ref;
  ensureBuilt();
  ref = makeReference(PLAN, await runOverLink(PLAN, [], { config: EARLY }));
  return ref;
}

/** The first (or last) cycle the clean run decided early (clear or suspicious). */
function earlyCycle(r: Reference, which: 'first' | 'last'): number {
  const early = r.verdicts.flatMap((v, i) => (v?.early === true ? [i] : []));
  const c = (which === 'first' ? early[0] : early.at(-1)) ?? -1;
  if (c < 0) throw new Error('the clean early run decided no cycle early');
  return c;
}

function log(o: FaultOutcome, e: EarlyOutcome): void {
  lines.push(
    `early plan, ${o.name}: ${e.verdicts} verdicts, ${e.early} early (${e.earlyClear} clear, ${e.earlySuspicious} suspicious), rig ended ${e.rigEnded} (emulator ${e.emulatorEnded}), touched ${o.cyclesTouched} (inconclusive ${o.touchedInconclusive}, as clean ${o.touchedAsClean}, other ${o.touchedOther}), wrongly cleared ${o.wronglyCleared}, drug cleared early ${e.drugClearedEarly} (at all ${e.drugCleared}, clean ${e.drugClearedClean}), not ended on the rig ${e.untouchedNotEnded} untouched / ${e.touchedNotEnded} touched, untouched frames lost ${e.untouchedFramesLost}, ${o.wallS.toFixed(1)} s`,
  );
}

function expectSafe(o: FaultOutcome, e: EarlyOutcome): void {
  const why = [...o.details, ...e.details].join('\n');
  expect(o.watchExit, why).toBe(0);
  expect(o.wronglyCleared, why).toBe(0);
  expect(o.beyondLimitsNotInconclusive, why).toBe(0);
  expect(o.untouchedMismatches, why).toBe(0);
  expect(e.drugClearedEarly, why).toBe(0);
  expect(e.drugCleared, why).toBeLessThanOrEqual(e.drugClearedClean);
  expect(e.notAtCheckpoint, why).toBe(0);
  expect(e.cutDecidedEarly, why).toBe(0);
  expect(e.untouchedNotEnded, why).toBe(0);
  expect(e.untouchedFramesLost, why).toBe(0);
  // A disconnect can take the rig's OK after the rig took END (the host reports not-connected for a cycle the rig ended).
  expect(e.rigEnded, why).toBeLessThanOrEqual(e.emulatorEnded);
  expect(e.rigEnded + e.touchedNotEnded, why).toBeGreaterThanOrEqual(e.emulatorEnded);
}

describe.skipIf(!have)('fault injection over the pty link under the early plan (short)', () => {
  it('the clean run decides some cycles early at 90 s, ends each on the rig and takes every frame', async () => {
    const r = await reference();
    const o = compareRun('clean', r, r.run, [], false);
    const e = checkEarly(r, r.run, o);
    log(o, e);
    expect(r.run.report.framesUnsent).toBe(0);
    expect(e.early).toBeGreaterThan(0);
    expect(e.early).toBeLessThan(PLAN.containers);
    expect(e.rigEnded).toBe(e.early);
    expect(r.run.report.cyclesEnded).toBe(e.early);
    expect(r.clearAirCleared * 2).toBeGreaterThanOrEqual(r.clearAir);
    expectSafe(o, e);
  });

  it('rate faults at once (bitflip, garbage, truncate, drop-byte, repeat-seq, skip-seq)', async () => {
    const r = await reference();
    // About one fault in three cycles: some early cycles stay untouched (and must still leave early), others not.
    const faults = ['bitflip:0.0000002', 'drop-byte:0.0000001', 'truncate:0.00005', 'garbage:0.00005', 'repeat-seq:0.00005', 'skip-seq:0.00003'];
    // Frame keys hold seqs, which an END at another frame shifts: corruption is checked by the other configurations.
    const run = await runOverLink(PLAN, faults, { config: EARLY });
    const o = compareRun('rates at once', r, run, [], false);
    const e = checkEarly(r, run, o);
    log(o, e);
    expectSafe(o, e);
    expect(o.faultsInjected).toBeGreaterThan(0);
    expect(o.cyclesTouched).toBeGreaterThan(0);
    expect(o.untouchedCycles).toBeGreaterThan(0);
  });

  // Full-cycle layout: 1 s idle, then 30 + 60 + 60 s at 10 Hz; earlyRow moves a row to the clean early run's layout.
  it.each([
    ['a reboot mid-exposure of an early cycle', 'first', (c: number) => 10 + 1510 * c + 300 + 300, (row: number) => [`reboot-at:${row}`]],
    ['a disconnect just after the 90 s checkpoint of an early cycle (before the END answer)', 'last', (c: number) => 10 + 1510 * c + 900 + 1, (row: number) => [`disconnect-at:${row}`]],
  ] as const)('%s', async (name, which, at, faults) => {
    const r = await reference();
    const c = earlyCycle(r, which);
    const row = earlyRow(r, at(c));
    const run = await runOverLink(PLAN, faults(row), { config: EARLY });
    const o = compareRun(name, r, run, [row], false);
    const e = checkEarly(r, run, o);
    log(o, e);
    expectSafe(o, e);
    expect(o.touched.has(c)).toBe(true);
    if (name.includes('reboot')) {
      // Cut before its checkpoint: inconclusive, never early.
      const vs = run.verdicts.filter((v) => o.cycleOf(v.sample) === c);
      expect(vs.some((v) => v.verdict === 'inconclusive')).toBe(true);
      expect(vs.filter((v) => v.early)).toHaveLength(0);
    }
  });
});
