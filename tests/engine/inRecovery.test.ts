/**
 * Checkpoints inside the recovery (issue 22): a model of the exposure and the first recovery windows
 * (`decideInRecovery`) is judged the moment its last recovery window completes, with checkpoint `in-recovery`
 * (100 s into the default cycle for one 10 s window), on the same features it would have at the recovery's end;
 * a plan takes it after the shipped exposure model (90 s) and before the default model (150 s); a cycle whose
 * recovery stops before the window is complete never decides there. A small linear model trained here.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { verdictText } from '../../src/cli/replay.js';
import { EARLY_PLAN_KIND, EARLY_PLAN_VERSION, resolveEarlyPlan, type EarlyPlanData } from '../../src/engine/earlyPlanSchema.js';
import { createEngine } from '../../src/engine/engine.js';
import { modelCheckpoint } from '../../src/engine/modelCheckpoint.js';
import { extractTrainingSet } from '../../src/engine/training.js';
import { EnoseError } from '../../src/errors.js';
import { eventToJson, parseEventJson } from '../../src/io/eventJson.js';
import { createMemorySource } from '../../src/io/memory.js';
import { fitModel } from '../../src/model/fitting/fitModel.js';
import type { ModelBundle } from '../../src/model/runtime/bundle.js';
import { pageModelWithEarly } from '../../src/service/pageModel.js';
import { SHIPPED_EARLY_PLAN } from '../../src/shipped/earlyPlan.js';
import { LINEAR_RECOVERY_RECIPE } from '../../src/shipped/recipes.js';
import { simulationEvents } from '../../src/sim/events.js';
import { createSimulation, type SimulationOptions } from '../../src/sim/simulate.js';
import type { EngineEvent, SourceEvent, VerdictEvent } from '../../src/types.js';
import { shippedPair, verdictsAlone } from '../helpers/inExposureModel.js';

const SET: SimulationOptions = { seed: 3, containers: 60, startDay: 21, days: 10 };
const EXTRACTOR = { ...LINEAR_RECOVERY_RECIPE.extractor, recoveryWindowCount: 1, decideInRecovery: true } as const;

let r1: ModelBundle;
/** The same model judged when the recovery ends (its extractor without `decideInRecovery`): the same features. */
let r1AtEnd: ModelBundle;
let final: ModelBundle;
let exposure: ModelBundle;
beforeAll(() => {
  const sim: SimulationOptions = { seed: 1, containers: 400, startDay: 1, days: 4 };
  const set = extractTrainingSet([{ group: 'sim-train', events: simulationEvents(createSimulation(sim)) }], { extractor: EXTRACTOR });
  r1 = fitModel(set.table, set.input, { ...LINEAR_RECOVERY_RECIPE.fit, limits: set.limits });
  if (r1.input.kind !== 'frames') throw new Error('a frames model was expected');
  r1AtEnd = { ...r1, input: { ...r1.input, extractor: { ...r1.input.extractor, decideInRecovery: false } } } as ModelBundle;
  [final, exposure] = shippedPair();
}, 120_000);

function plan(clearBelow100: number, atS100 = 100): EarlyPlanData {
  return {
    kind: EARLY_PLAN_KIND,
    version: EARLY_PLAN_VERSION,
    checkpoints: [SHIPPED_EARLY_PLAN.checkpoints[0]!, { atS: atS100, modelId: r1.id, clearBelow: clearBelow100, suspiciousAbove: 1 }],
    finalAtS: SHIPPED_EARLY_PLAN.finalAtS,
    finalModelId: SHIPPED_EARLY_PLAN.finalModelId,
  };
}

async function runPlan(events: Iterable<SourceEvent>, clearBelow100: number): Promise<VerdictEvent[]> {
  const out: EngineEvent[] = [];
  const engine = createEngine({ model: final, source: createMemorySource(events), early: { plan: plan(clearBelow100), models: [exposure, r1] }, queue: false, emitFrames: false, onEvent: (e) => out.push(e) });
  await engine.done;
  return out.filter((e): e is VerdictEvent => e.type === 'verdict');
}

describe('a model of the exposure and the first recovery window', () => {
  it('is judged when its recovery window completes: 100 s into the cycle, on the features it has at the recovery end', async () => {
    expect(modelCheckpoint(r1)).toEqual({ checkpoint: 'in-recovery', atS: 100, exposureS: null, recoveryS: 10 });
    expect(modelCheckpoint(r1AtEnd)).toEqual({ checkpoint: 'recovery-end', atS: 100, exposureS: null, recoveryS: 10 });
    const verdicts = await verdictsAlone(r1, SET);
    const atEnd = await verdictsAlone(r1AtEnd, SET);
    // One verdict a container: the rest of the recovery belongs to the judged cycle.
    expect(verdicts.map((v) => v.sample)).toEqual(atEnd.map((v) => v.sample));
    expect(new Set(verdicts.map((v) => v.sample)).size).toBe(SET.containers);
    const judged = verdicts.filter((v) => v.checkpoint === 'in-recovery');
    expect(judged.length).toBeGreaterThan(SET.containers * 0.9); // the rest: cycles the simulator's faults cut or shortened
    for (const v of judged) {
      expect(v.decidedAtS).toBe(100);
      // 30 s of baseline, 60 s of exposure and 10 s of recovery at 10 Hz.
      expect(v.frames.count).toBeLessThanOrEqual(1000);
    }
    expect(atEnd.filter((v) => v.checkpoint === 'recovery-end').every((v) => v.decidedAtS === 150)).toBe(true);
    // The same row: class and probabilities equal where neither judgement has a quality reason of the later recovery.
    let same = 0;
    for (let i = 0; i < verdicts.length; i++) {
      const a = verdicts[i]!;
      const b = atEnd[i]!;
      if (a.checkpoint !== 'in-recovery' || b.reasons.length !== a.reasons.length) continue;
      expect([a.class, a.probabilities, a.score]).toEqual([b.class, b.probabilities, b.score]);
      same++;
    }
    expect(same).toBeGreaterThan(SET.containers * 0.8);
    expect(parseEventJson(eventToJson(judged[0]!))).toMatchObject({ ok: true, value: { checkpoint: 'in-recovery', decidedAtS: 100 } });
  }, 120_000);

  it('settings that cannot decide inside the recovery are refused', () => {
    const events = simulationEvents(createSimulation({ seed: 1, containers: 2, startDay: 1 }));
    const noWindows = { ...LINEAR_RECOVERY_RECIPE.extractor, recoveryWindowS: 0, decideInRecovery: true };
    expect(() => extractTrainingSet([{ group: 'g', events }], { extractor: noWindows })).toThrow(/decideInRecovery needs recovery windows/);
    const whole = { ...EXTRACTOR, wholeSample: true };
    expect(() => extractTrainingSet([{ group: 'g', events }], { extractor: whole })).toThrow(EnoseError);
  });
});

describe('an early plan with a checkpoint inside the recovery', () => {
  it('decides some cycles at 90 s, some at 100 s, the rest at 150 s: one verdict a container', async () => {
    const alone = await verdictsAlone(r1, SET);
    const scores = alone.filter((v) => v.verdict === 'clear' && v.score !== null).map((v) => v.score!).sort((a, b) => a - b);
    const clearBelow = scores[Math.floor(scores.length / 2)]!;
    const verdicts = await runPlan(simulationEvents(createSimulation(SET)), clearBelow);
    expect(new Set(verdicts.map((v) => v.sample)).size).toBe(verdicts.length);
    expect(verdicts.map((v) => v.sample)).toEqual(alone.map((v) => v.sample));
    const at90 = verdicts.filter((v) => v.early && v.checkpoint === 'exposure-end');
    const at100 = verdicts.filter((v) => v.early && v.checkpoint === 'in-recovery');
    const full = verdicts.filter((v) => !v.early);
    expect(at100.length).toBeGreaterThan(0);
    expect(full.length).toBeGreaterThan(0);
    for (const v of at100) expect([v.modelId, v.decidedAtS, v.verdict]).toEqual([r1.id, 100, 'clear']);
    for (const v of full) expect(v.modelId).toBe(final.id);
    // The 100 s decisions are the recovery-window model's own clean clears below the threshold, among the cycles
    // the 90 s checkpoint left, and no other.
    const left = new Set(verdicts.filter((v) => !(v.early && v.checkpoint === 'exposure-end')).map((v) => v.sample));
    const expected = alone.filter((v) => left.has(v.sample) && v.checkpoint === 'in-recovery' && v.verdict === 'clear' && v.score! < clearBelow && v.reasons.every((r) => r === 'clear-class'));
    expect(at100.map((v) => v.sample)).toEqual(expected.map((v) => v.sample));
    expect(verdictText(at100[0]!)).toMatch(/; early, at 100 s \(in-recovery\)/);
    console.info(`in-recovery plan: ${at90.length} at 90 s, ${at100.length} at 100 s, ${full.length} at 150 s of ${verdicts.length}`);
  }, 120_000);

  it('a recovery that stops before its window is complete never decides there', async () => {
    // Every cycle clears at 100 s when it gets there (clearBelow 0.49); the recoveries here last 5 s.
    const verdicts = await runPlan(simulationEvents(createSimulation({ ...SET, containers: 10, recoveryS: 5 })), 0.49);
    expect(verdicts).toHaveLength(10);
    expect(verdicts.filter((v) => v.checkpoint === 'in-recovery' || v.modelId === r1.id)).toEqual([]);
  }, 120_000);

  it('the plan must name the model at its own time: 100 s for one 10 s recovery window after a 90 s exposure end', () => {
    expect(() => resolveEarlyPlan({ plan: plan(0.1, 110), models: [exposure, r1] }, final)).toThrow(/decides at 100 s \(in-recovery\), the early plan's checkpoint is at 110 s/);
    expect(resolveEarlyPlan({ plan: plan(0.1), models: [exposure, r1] }, final).checkpointKinds.map((k) => k.checkpoint)).toEqual(['exposure-end', 'in-recovery']);
    // The page counts down to it 10 s into the recovery.
    expect(pageModelWithEarly(final, [exposure, r1]).earlyCheckpoints).toEqual([{ phase: 'exposure', inPhaseS: null }, { phase: 'recovery', inPhaseS: 10 }]);
  });
});
