/**
 * The fault suite's third configuration (issue 22): the default model with the shipped early plan (`watch
 * --early`). What it checks beside faultLink.ts's rules: every early verdict at a checkpoint of the plan, no cut
 * cycle decided early, every early cycle ended on the rig (the emulator takes END), and no frame of a cycle a
 * fault left alone lost (the frames after an END belong to the next cycle). Under the plan the rig ends cycles
 * where the END reaches it, so the rows of a run follow the clean early run's layout, not the full-cycle one.
 */
import { SHIPPED_EARLY_PLAN } from '../../src/shipped/earlyPlan.js';
import type { FaultOutcome, LinkRun, Reference } from './faultLink.js';

const EVENT_KINDS = ['reboot-at', 'disconnect-at', 'clock-jump', 'stall'];
const PHASE_START = { B: 0, E: 300, R: 900 } as const;

/**
 * Moves a row of the full-cycle layout (1 s idle, then 30 + 60 + 60 s at 10 Hz per cycle) to the same cycle,
 * phase and offset in the clean early run (its cycles decided early have a shorter R; an offset past the end of
 * the phase lands on its last frame).
 */
export function earlyRow(ref: Reference, row: number): number {
  const r = row - 10;
  const cycle = Math.floor(r / 1510);
  const within = r - 1510 * cycle;
  const phase = within < 300 ? 'B' : within < 900 ? 'E' : 'R';
  const offset = within - PHASE_START[phase];
  let first = -1;
  let last = -1;
  for (let i = 0; i < ref.cycleOfRow.length; i++) {
    if (ref.cycleOfRow[i] !== cycle || ref.run.frames[i]!.phase !== phase) continue;
    if (first < 0) first = i;
    last = i;
  }
  if (first < 0) throw new Error(`the clean early run has no ${phase} frames in cycle ${cycle}`);
  return Math.min(first + offset, last);
}

/** `faults` and `eventRows` with every event fault's row moved by `earlyRow`. */
export function placeEarly(ref: Reference, faults: readonly string[], eventRows: readonly number[]): { faults: string[]; eventRows: number[] } {
  return {
    faults: faults.map((f) => {
      const [kind, at, ...rest] = f.split(':');
      return EVENT_KINDS.includes(kind!) ? [kind, String(earlyRow(ref, Number(at))), ...rest].join(':') : f;
    }),
    eventRows: eventRows.map((r) => earlyRow(ref, r)),
  };
}

/** What a run under the early plan did with its early decisions. */
export interface EarlyOutcome {
  /** Engine cycles (verdicts) and those decided early, by verdict. */
  readonly verdicts: number;
  readonly early: number;
  readonly earlyClear: number;
  readonly earlySuspicious: number;
  /** Drug containers (by the simulator's label) decided early as clear: must be 0. */
  readonly drugClearedEarly: number;
  /** Drug containers cleared at all, and as many in the clean run (the default model's own misses). */
  readonly drugCleared: number;
  readonly drugClearedClean: number;
  /** Early verdicts not at a checkpoint of the plan (wrong checkpoint name, or decidedAtS not a checkpoint's atS). */
  readonly notAtCheckpoint: number;
  /** Early verdicts with a cut reason, or for a clean cycle already cut (a cut verdict of it came first). */
  readonly cutDecidedEarly: number;
  /** Early verdicts of cycles no fault touched with no `cycle-end` that the rig took. */
  readonly untouchedNotEnded: number;
  /** Early verdicts of touched cycles the rig did not end (a reboot or disconnect took the END): reported. */
  readonly touchedNotEnded: number;
  /** Cycle-end events with `ended` (the rig took END) and the emulator's count of cycles ended by END. */
  readonly rigEnded: number;
  readonly emulatorEnded: number;
  /** B/E/R frames of clean cycles no fault touched that the run did not take (R only up to the clean run's END). */
  readonly untouchedFramesLost: number;
  /** Of those, frames of a cycle that followed a cycle decided early. */
  readonly framesLostAfterEarly: number;
  readonly details: readonly string[];
}

const CUT_REASONS = new Set(['cut-disconnect', 'cut-reboot', 'cut-stopped']);
const EARLY_CHECKPOINTS = new Set(['baseline-end', 'exposure-end', 'in-recovery']);

export function checkEarly(ref: Reference, run: LinkRun, o: FaultOutcome): EarlyOutcome {
  const details: string[] = [];
  const atS = SHIPPED_EARLY_PLAN.checkpoints.map((c) => c.atS);
  let early = 0;
  let earlyClear = 0;
  let earlySuspicious = 0;
  let notAtCheckpoint = 0;
  let drugClearedEarly = 0;
  const drugCleared = new Set<number>();
  let cutDecidedEarly = 0;
  let untouchedNotEnded = 0;
  let touchedNotEnded = 0;
  const cut = new Set<number>();
  const earlyCycles = new Set<number>();
  for (const v of run.verdicts) {
    const c = o.cycleOf(v.sample);
    if (v.checkpoint === 'cut' || v.reasons.some((r) => CUT_REASONS.has(r))) {
      if (v.early) {
        cutDecidedEarly++;
        details.push(`${v.sample} (cycle ${c}): early ${v.verdict} with ${v.reasons.join('+')}`);
      }
      if (c >= 0) cut.add(c);
      continue;
    }
    if (c >= 0 && v.verdict === 'clear' && ref.labels[c] !== 'clear') drugCleared.add(c);
    if (!v.early) continue;
    early++;
    if (v.verdict === 'clear') earlyClear++;
    if (v.verdict === 'clear' && (c < 0 || ref.labels[c] !== 'clear')) {
      drugClearedEarly++;
      details.push(`${v.sample} (cycle ${c}, label ${ref.labels[c]}): cleared early`);
    }
    if (v.verdict === 'suspicious') earlySuspicious++;
    if (c >= 0) earlyCycles.add(c);
    if (c >= 0 && cut.has(c)) {
      cutDecidedEarly++;
      details.push(`${v.sample} (cycle ${c}): early ${v.verdict} after the cycle was cut`);
    }
    if (!EARLY_CHECKPOINTS.has(v.checkpoint ?? '') || !atS.some((s) => v.decidedAtS !== null && Math.abs(v.decidedAtS - s) < 0.05)) {
      notAtCheckpoint++;
      details.push(`${v.sample} (cycle ${c}): early at ${v.decidedAtS} s (${v.checkpoint})`);
    }
    const ended = run.cycleEnds.some((e) => e.sample === v.sample && e.ended);
    if (!ended) {
      const why = run.cycleEnds.filter((e) => e.sample === v.sample).map((e) => e.issue).join(',') || 'no cycle-end';
      if (c >= 0 && !o.touched.has(c)) {
        untouchedNotEnded++;
        details.push(`${v.sample} (cycle ${c}, untouched): decided early, not ended on the rig (${why})`);
      } else {
        touchedNotEnded++;
        details.push(`${v.sample} (cycle ${c}, touched): decided early, not ended on the rig (${why})`);
      }
    }
  }
  // Frames: every B/E frame, and every R frame the clean run took, of an untouched cycle must be in the run.
  const taken = new Set(run.frames.map((f) => f.content));
  const lostPer = new Map<number, number>();
  ref.run.frames.forEach((f, i) => {
    const c = ref.cycleOfRow[i]!;
    if (c < 0 || o.touched.has(c) || taken.has(f.content)) return;
    // A cycle the run ended earlier (or later) than the clean run legitimately differs in its R frames.
    if (f.phase === 'R' && (earlyCycles.has(c) || ref.verdicts[c]?.early === true)) return;
    lostPer.set(c, (lostPer.get(c) ?? 0) + 1);
  });
  let untouchedFramesLost = 0;
  let framesLostAfterEarly = 0;
  for (const [c, n] of lostPer) {
    untouchedFramesLost += n;
    if (earlyCycles.has(c - 1)) framesLostAfterEarly += n;
    details.push(`untouched cycle ${c}: ${n} frames of the clean run not taken${earlyCycles.has(c - 1) ? ' (after a cycle decided early)' : ''}`);
  }
  return {
    verdicts: run.verdicts.length,
    early,
    earlyClear,
    earlySuspicious,
    drugClearedEarly,
    drugCleared: drugCleared.size,
    drugClearedClean: ref.verdicts.filter((v, i) => v?.verdict === 'clear' && ref.labels[i] !== 'clear').length,
    notAtCheckpoint,
    cutDecidedEarly,
    untouchedNotEnded,
    touchedNotEnded,
    rigEnded: run.cycleEnds.filter((e) => e.ended).length,
    emulatorEnded: run.report.cyclesEnded,
    untouchedFramesLost,
    framesLostAfterEarly,
    details,
  };
}
