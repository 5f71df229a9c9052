/**
 * The model run on the frame that completes the deciding phase's last window (EngineCore's `predictAhead`: the
 * recovery's for the default model, the exposure's for the exposure model), so that the frame ending the cycle
 * finds the model's part done, and uses it only when the verdict's own row is the same bit for bit. It must change
 * nothing: every verdict event equal, double for double, to a core that runs the model at the verdict, on both
 * shipped models, with adaptation on, with phases longer than the windows (the exposure model's row then moves:
 * the model runs again at the verdict), cycles cut after the windows completed, and another rig's data (the rig
 * check measured ahead). An extractor that took no frame since the run ahead is not finished again at the verdict.
 */
import { describe, expect, it } from 'vitest';
import { EngineCore } from '../../src/engine/core.js';
import type { ModelBundle } from '../../src/model/runtime/bundle.js';
import { simulationEvents } from '../../src/sim/events.js';
import { createSimulation } from '../../src/sim/simulate.js';
import type { EngineEvent, SourceEvent, VerdictEvent } from '../../src/types.js';
import { loadModel, SHIPPED_MODELS } from '../helpers/models.js';
import { comparableVerdict } from '../helpers/verdictText.js';

interface Run {
  verdicts: VerdictEvent[];
  /** Per verdict: the model ran in the push that brought it (true) or in an earlier one (false); null: did not run. */
  ranInVerdictPush: (boolean | null)[];
  /** The model's runs in all, ahead or at a verdict. */
  modelRuns: number;
  /** With adaptation: the parent model's judgements in pushes that brought a verdict, and in all. */
  parentInVerdictPush: number;
  parentJudgements: number;
  /** The extractor's `finish` calls in pushes that brought a verdict. */
  finishInVerdictPush: number;
}

/** The extractor's `finish` calls of a core, counted (a spy on its own method, put in place at each rig session). */
function countFinishes(core: EngineCore): () => number {
  let finishes = 0;
  const internals = core as unknown as { features: { finish: (...args: unknown[]) => void; spied?: boolean } | null };
  return () => {
    const f = internals.features;
    if (f && !f.spied) {
      const finish = f.finish.bind(f);
      f.finish = (...args: unknown[]) => {
        finishes++;
        finish(...args);
      };
      f.spied = true;
    }
    return finishes;
  };
}

function run(bundle: ModelBundle, events: readonly SourceEvent[], predictAhead: boolean, adaptation = false): Run {
  const verdicts: VerdictEvent[] = [];
  const core = new EngineCore(bundle, { emitFrames: false, predictAhead, adaptation, now: () => 0, wallClock: () => 0 }, (e: EngineEvent) => {
    if (e.type === 'verdict') verdicts.push(e);
  });
  // Count the model's runs per push (a spy on the core's own method; the engine's results are untouched).
  const internals = core as unknown as { runModel: (...args: unknown[]) => void };
  const runModel = internals.runModel.bind(core);
  let runsThisPush = 0;
  let runsBefore = 0;
  let modelRuns = 0;
  internals.runModel = (...args: unknown[]) => {
    runsThisPush++;
    modelRuns++;
    runModel(...args);
  };
  // The same spy on adaptation's parent model, when adaptation is on.
  const parent = (core as unknown as { adaptation: { parentJudges: (...args: unknown[]) => unknown } | null }).adaptation;
  let parentThisPush = 0;
  let parentInVerdictPush = 0;
  let parentJudgements = 0;
  if (parent) {
    const judges = parent.parentJudges.bind(parent);
    parent.parentJudges = (...args: unknown[]) => {
      parentThisPush++;
      parentJudgements++;
      return judges(...args);
    };
  }
  const finishes = countFinishes(core);
  let finishesBefore = 0;
  let finishInVerdictPush = 0;
  const ranInVerdictPush: Run['ranInVerdictPush'] = [];
  const settle = (): void => {
    const f = finishes();
    if (verdicts.length > ranInVerdictPush.length) finishInVerdictPush += f - finishesBefore;
    finishesBefore = f;
    if (ranInVerdictPush.length < verdicts.length) parentInVerdictPush += parentThisPush;
    parentThisPush = 0;
    while (ranInVerdictPush.length < verdicts.length) {
      const v = verdicts[ranInVerdictPush.length]!;
      ranInVerdictPush.push(v.class === null ? null : runsThisPush > 0 ? true : runsBefore > 0 ? false : null);
      runsBefore = 0;
    }
    runsBefore += runsThisPush;
    runsThisPush = 0;
  };
  for (const e of events) {
    core.push(e);
    settle();
  }
  core.end();
  settle();
  return { verdicts, ranInVerdictPush, modelRuns, parentInVerdictPush, parentJudgements, finishInVerdictPush };
}

/** Every `every`-th cycle cut by a disconnect `afterS` seconds into its recovery (the link comes back at once). */
function cutInRecovery(events: readonly SourceEvent[], every: number, afterS: number): SourceEvent[] {
  const out: SourceEvent[] = [];
  let cycle = 0;
  let recoveryFrom = -1;
  let cutDone = false;
  for (const e of events) {
    if (e.type === 'frame') {
      if (e.phase === 'B' && recoveryFrom >= 0) {
        cycle++;
        recoveryFrom = -1;
        cutDone = false;
      }
      if (e.phase === 'R' && recoveryFrom < 0) recoveryFrom = e.tMs;
      if (e.phase === 'R' && !cutDone && cycle % every === 0 && e.tMs - recoveryFrom >= afterS * 1000) {
        out.push({ type: 'state', atMs: e.atMs, state: 'disconnected' } as SourceEvent);
        out.push({ type: 'state', atMs: e.atMs, state: 'connected' } as SourceEvent);
        cutDone = true;
      }
    }
    out.push(e);
  }
  return out;
}

describe.each(SHIPPED_MODELS)('predictAhead with the shipped $name model', ({ path, decidesAfter }) => {
  const bundle = loadModel(path);
  const events = [...simulationEvents(createSimulation({ seed: 1, containers: 120, startDay: 21, days: 10 }))];

  it("gives the same verdicts, and every predicted verdict finds the model's part done", () => {
    const on = run(bundle, events, true);
    const off = run(bundle, events, false);
    expect(on.verdicts.length).toBe(120);
    expect(on.verdicts.map(comparableVerdict)).toEqual(off.verdicts.map(comparableVerdict));
    const predicted = on.ranInVerdictPush.filter((r) => r !== null).length;
    expect(predicted).toBeGreaterThan(100);
    expect(off.ranInVerdictPush.filter((r) => r === false)).toEqual([]);
    // Every predicted verdict found the model's part done (the simulated phases are as long as the windows).
    expect(on.ranInVerdictPush.filter((r) => r === false).length).toBe(predicted);
    // Nor were its features finished again at the verdict: the extractor took no frame since the run ahead.
    expect(on.finishInVerdictPush).toBe(0);
    expect(off.finishInVerdictPush).toBe(120);
  });

  it("gives the same verdicts with adaptation on, the parent model's judgement run ahead too", () => {
    const on = run(bundle, events, true, true);
    const off = run(bundle, events, false, true);
    expect(on.verdicts.map(comparableVerdict)).toEqual(off.verdicts.map(comparableVerdict));
    // Adaptation moves the model after about 80 containers; from then on the parent judges each predicted sample.
    const moved = on.verdicts.filter((v) => (v.adaptation?.accepted ?? 0) > 0).length;
    expect(moved).toBeGreaterThan(20);
    expect(on.parentJudgements).toBeGreaterThanOrEqual(moved - 2);
    expect(on.parentInVerdictPush).toBe(0);
    expect(off.parentInVerdictPush).toBe(off.parentJudgements);
  });

  it("gives the same verdicts on another rig's data, the rig check measured ahead", () => {
    const other = [...simulationEvents(createSimulation({ seed: 7, rigSeed: 7, containers: 40, startDay: 21, days: 2 }))];
    const on = run(bundle, other, true);
    const off = run(bundle, other, false);
    expect(on.verdicts.map(comparableVerdict)).toEqual(off.verdicts.map(comparableVerdict));
    const mismatched = on.verdicts.filter((v) => v.reasons.includes('rig-mismatch'));
    expect(mismatched.length).toBeGreaterThan(30);
    for (const v of mismatched) expect(v.verdict).not.toBe('clear');
    expect(on.finishInVerdictPush).toBe(0);
  });

  it('gives the same verdicts when the phases outlast the windows and when a cycle is cut after its windows completed', () => {
    const long = [...simulationEvents(createSimulation({ seed: 4, containers: 30, startDay: 22, days: 1, exposureS: 70, recoveryS: 90 }))];
    const cut = cutInRecovery(long, 3, 75);
    expect(cut.length).toBe(long.length + 20);
    const on = run(bundle, cut, true);
    const off = run(bundle, cut, false);
    expect(on.verdicts.map(comparableVerdict)).toEqual(off.verdicts.map(comparableVerdict));
    // The cut cycles keep their reason (the default model's: cut after its row was final, which the cut makes inconclusive).
    const cutVerdicts = on.verdicts.filter((v) => v.reasons.includes('cut-disconnect'));
    expect(cutVerdicts.length).toBe(decidesAfter === 'R' ? 10 : 0);
    for (const v of cutVerdicts) expect(v.verdict).toBe('inconclusive');
    const predicted = on.ranInVerdictPush.filter((r) => r !== null).length;
    expect(predicted).toBeGreaterThan(15);
    // The default model's row is final once its recovery windows are complete: its run ahead serves every verdict.
    // The exposure model's moves with the 10 s of exposure after its windows (the RH and T exposure means): the
    // comparison finds it changed and the model runs again at every verdict; after three such verdicts in a row
    // the core stops running it ahead (three runs wasted in all).
    expect(on.ranInVerdictPush.filter((r) => r === false).length).toBe(decidesAfter === 'R' ? predicted : 0);
    expect(on.modelRuns).toBe(decidesAfter === 'R' ? predicted : predicted + 3);
    // Frames came after the windows (longer phases): every verdict finishes its row again, as without running ahead.
    expect(on.finishInVerdictPush).toBe(30);
    expect(off.finishInVerdictPush).toBe(30);
    expect(off.modelRuns).toBe(predicted);
  });
});
