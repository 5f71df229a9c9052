/**
 * Checkpoints inside the exposure (issue 22): a model that covers only the first W windows of the exposure
 * (`decideInExposure`) is judged the moment its last window completes, with checkpoint `in-exposure`; a plan
 * takes it before the shipped exposure model (90 s) and the default model (150 s); a cycle cut before its
 * checkpoint never decides early there; the plan's times must be the models' own. A small three-window model
 * trained here (tests/helpers/inExposureModel.ts), both shipped models beside it.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveEarlyPlan } from '../../src/engine/earlyPlanSchema.js';
import { createEngine } from '../../src/engine/engine.js';
import { modelCheckpoint } from '../../src/engine/modelCheckpoint.js';
import { extractTrainingSet } from '../../src/engine/training.js';
import { EnoseError } from '../../src/errors.js';
import { fitModel } from '../../src/model/fitting/fitModel.js';
import { verdictText } from '../../src/cli/replay.js';
import { eventToJson, parseEventJson } from '../../src/io/eventJson.js';
import { createMemorySource } from '../../src/io/memory.js';
import type { ModelBundle } from '../../src/model/runtime/bundle.js';
import { SHIPPED_EARLY_PLAN } from '../../src/shipped/earlyPlan.js';
import { pageModelWithEarly } from '../../src/service/pageModel.js';
import { LINEAR_MODEL_RECIPE } from '../../src/shipped/recipes.js';
import { simulationEvents } from '../../src/sim/events.js';
import { createSimulation, type SimulationOptions } from '../../src/sim/simulate.js';
import type { EngineEvent, SourceEvent, VerdictEvent } from '../../src/types.js';
import { medianClearScore, shippedPair, threeCheckpointPlan, trainInExposureModel, verdictsAlone } from '../helpers/inExposureModel.js';
import { join } from 'node:path';
import { loadModel, RECOVERY_START_MODEL_PATH } from '../helpers/models.js';
import { REPO_ROOT } from '../helpers/shared.js';

const SET: SimulationOptions = { seed: 3, containers: 60, startDay: 21, days: 10 };

let w3: ModelBundle;
let final: ModelBundle;
let exposure: ModelBundle;
beforeAll(() => {
  w3 = trainInExposureModel();
  [final, exposure] = shippedPair();
}, 120_000);

async function runPlan(events: Iterable<SourceEvent>, clearBelow60: number): Promise<EngineEvent[]> {
  const out: EngineEvent[] = [];
  const engine = createEngine({
    model: final,
    source: createMemorySource(events),
    early: { plan: threeCheckpointPlan(w3, clearBelow60), models: [exposure, w3] },
    queue: false,
    emitFrames: false,
    onEvent: (e) => out.push(e),
  });
  await engine.done;
  return out;
}
const verdictsOf = (es: readonly EngineEvent[]) => es.filter((e): e is VerdictEvent => e.type === 'verdict');

describe('a model of the first windows of the exposure', () => {
  it('is judged when its last window completes: 60 s into the cycle, inside the exposure', async () => {
    expect(modelCheckpoint(w3)).toEqual({ checkpoint: 'in-exposure', atS: 60, exposureS: 30, recoveryS: 0 });
    expect(modelCheckpoint(exposure)).toEqual({ checkpoint: 'exposure-end', atS: 90, exposureS: null, recoveryS: 0 });
    expect(modelCheckpoint(final)).toEqual({ checkpoint: 'recovery-end', atS: 150, exposureS: null, recoveryS: 60 });
    const verdicts = await verdictsAlone(w3, SET);
    expect(verdicts).toHaveLength(SET.containers);
    const judged = verdicts.filter((v) => v.checkpoint === 'in-exposure');
    expect(judged.length).toBeGreaterThan(SET.containers * 0.9); // the rest: cycles the simulator's faults cut or shortened
    for (const v of judged) {
      expect(v.decidedAtS).toBe(60);
      // 30 s of baseline and 30 s of exposure at 10 Hz: the verdict's last frame is the exposure's 300th.
      expect(v.frames.count).toBeLessThanOrEqual(600);
      expect(v.frames.last - v.frames.first).toBeLessThan(600);
    }
    // The rest of the exposure and the recovery belong to the judged cycle: one verdict a container, none of them
    // for a cycle started mid-exposure.
    expect(new Set(verdicts.map((v) => v.sample)).size).toBe(SET.containers);
  });

  it('a normal model is unchanged: the shipped exposure model still decides when the exposure ends', async () => {
    const verdicts = await verdictsAlone(exposure, { ...SET, containers: 10 });
    expect(verdicts.map((v) => v.checkpoint)).not.toContain('in-exposure');
    expect(verdicts.filter((v) => v.checkpoint === 'exposure-end').every((v) => v.decidedAtS === 90)).toBe(true);
  });

  it('settings that need more than the windows cannot decide inside the exposure (refused, not judged on less)', () => {
    const events = simulationEvents(createSimulation({ seed: 1, containers: 2, startDay: 1 }));
    const withSummary = { ...LINEAR_MODEL_RECIPE.extractor, windowCount: 3, decideInExposure: true, summaryFeatures: true };
    expect(() => extractTrainingSet([{ group: 'g', events }], { extractor: withSummary })).toThrow(/summaryFeatures/);
    const withRecovery = { ...LINEAR_MODEL_RECIPE.extractor, windowCount: 3, decideInExposure: true, recoveryWindowS: 10 };
    expect(() => extractTrainingSet([{ group: 'g', events }], { extractor: withRecovery })).toThrow(EnoseError);
  });
});

describe('an early plan with a checkpoint inside the exposure', () => {
  it('decides some cycles at 60 s, some at 90 s, the rest at 150 s: one verdict a container', async () => {
    const alone = await verdictsAlone(w3, SET);
    const clearBelow = medianClearScore(alone);
    const verdicts = verdictsOf(await runPlan(simulationEvents(createSimulation(SET)), clearBelow));
    expect(verdicts.map((v) => v.sample)).toEqual(alone.map((v) => v.sample));
    const at60 = verdicts.filter((v) => v.early && v.checkpoint === 'in-exposure');
    const at90 = verdicts.filter((v) => v.early && v.checkpoint === 'exposure-end');
    const full = verdicts.filter((v) => !v.early);
    expect(at60.length).toBeGreaterThan(0);
    expect(at90.length).toBeGreaterThan(0);
    expect(full.length).toBeGreaterThan(0);
    expect(at60.length + at90.length + full.length).toBe(verdicts.length);
    for (const v of at60) expect([v.modelId, v.decidedAtS, v.verdict]).toEqual([w3.id, 60, 'clear']);
    for (const v of at90) expect([v.modelId, v.decidedAtS]).toEqual([exposure.id, 90]);
    for (const v of full) expect(v.modelId).toBe(final.id);
    // The 60 s decisions are the in-exposure model's own clean clears below the threshold, and no other.
    const byId = new Map(alone.map((v) => [v.sample, v]));
    const expected = alone.filter((v) => v.checkpoint === 'in-exposure' && v.verdict === 'clear' && v.score !== null && v.score < clearBelow && !v.reasons.some((r) => r !== 'clear-class'));
    expect(at60.map((v) => v.sample)).toEqual(expected.map((v) => v.sample));
    for (const v of at60) expect(v.score).toBe(byId.get(v.sample)!.score);
    // The readable line and the JSON of an in-exposure verdict (a recording's events.jsonl reads it back).
    expect(verdictText(at60[0]!)).toMatch(/; early, at 60 s \(in-exposure\)/);
    expect(parseEventJson(eventToJson(at60[0]!))).toMatchObject({ ok: true, value: { checkpoint: 'in-exposure', decidedAtS: 60, early: true } });
    console.info(`in-exposure plan: ${at60.length} at 60 s, ${at90.length} at 90 s, ${full.length} at 150 s of ${verdicts.length} (clearBelow ${clearBelow.toFixed(4)} at 60 s)`);
  }, 120_000);

  it('a cycle cut before the checkpoint never decides there: exposure shorter than the windows, a disconnect, the end of the data', async () => {
    // Every cycle clears at 60 s when it gets there (clearBelow 0.49), so any 60 s verdict below would be a wrong one.
    const short = verdictsOf(await runPlan(simulationEvents(createSimulation({ ...SET, containers: 10, exposureS: 20 })), 0.49));
    expect(short).toHaveLength(10);
    expect(short.filter((v) => v.checkpoint === 'in-exposure' || v.modelId === w3.id)).toEqual([]);

    // Two cycles the plan would decide at 60 s uncut (the in-exposure model's clean clears below 0.49): the first
    // cut 20 s into its exposure (a disconnect), the data ending 25 s into the second's.
    const set = { ...SET, containers: 12 };
    const alone = await verdictsAlone(w3, set);
    const clears = alone.flatMap((v, k) => (k > 0 && v.checkpoint === 'in-exposure' && v.verdict === 'clear' && v.score! < 0.49 && v.reasons.every((r) => r === 'clear-class') ? [k] : []));
    expect(clears.length).toBeGreaterThanOrEqual(2);
    const [cutK, endK] = clears as [number, number];
    const events = [...simulationEvents(createSimulation(set))];
    const frames = events.flatMap((e, i) => (e.type === 'frame' ? [{ e, i }] : []));
    const exposureStarts = frames.filter(({ e }, k) => e.phase === 'E' && (k === 0 || frames[k - 1]!.e.phase !== 'E'));
    const cutAt = exposureStarts[cutK]!.i + 200;
    const endAt = exposureStarts[endK]!.i + 250;
    const atMs = (events[cutAt] as { atMs: number }).atMs;
    const cutEvents: SourceEvent[] = [...events.slice(0, cutAt), { type: 'state', atMs, state: 'disconnected', detail: 'test' }, { type: 'state', atMs, state: 'connected', detail: 'test' }, ...events.slice(cutAt, endAt)];
    const verdicts = verdictsOf(await runPlan(cutEvents, 0.49));
    const of = (k: number) => verdicts.filter((v) => v.sample === alone[k]!.sample);
    // Uncut cycles before them decide at 60 s as the model alone says.
    expect(verdicts.filter((v) => v.early && v.checkpoint === 'in-exposure').map((v) => v.sample)).toEqual(clears.filter((k) => k < cutK).map((k) => alone[k]!.sample));
    // The cut cycle: the final model's cut verdict (the rest of its frames, after the reconnect, are a cycle seen
    // without its baseline, as without a plan); the last ends with the data 25 s into its exposure.
    expect(of(cutK)[0]).toMatchObject({ checkpoint: 'cut', early: false, modelId: final.id });
    expect(of(endK)).toHaveLength(1);
    expect(of(endK)[0]).toMatchObject({ checkpoint: 'exposure-end', early: false, modelId: final.id, decidedAtS: 55 });
    for (const v of [...of(cutK), ...of(endK)]) expect([v.early, v.modelId === w3.id, v.checkpoint === 'in-exposure']).toEqual([false, false, false]);
  }, 120_000);

  it("the plan's times are the models' own: a checkpoint at another time, or a final at another, is refused", async () => {
    const plan = threeCheckpointPlan(w3, 0.1);
    const models = [exposure, w3];
    expect(resolveEarlyPlan({ plan, models }, final).checkpointKinds.map((k) => k.checkpoint)).toEqual(['in-exposure', 'exposure-end']);
    const at = (atS: number, i: number) => ({ ...plan, checkpoints: plan.checkpoints.map((c, k) => (k === i ? { ...c, atS } : c)) });
    expect(() => resolveEarlyPlan({ plan: at(50, 0), models }, final)).toThrow(/decides at 60 s \(in-exposure\), the early plan's checkpoint is at 50 s/);
    expect(() => resolveEarlyPlan({ plan: at(80, 1), models }, final)).toThrow(/decides at 90 s \(exposure-end\)/);
    // The exposure model at 60 s (swap the models): refused, it cannot judge before its exposure has ended.
    const swapped = { ...plan, checkpoints: [{ ...plan.checkpoints[0]!, modelId: exposure.id }, { ...plan.checkpoints[1]!, modelId: w3.id }] };
    expect(() => resolveEarlyPlan({ plan: swapped, models }, final)).toThrow(EnoseError);
    expect(() => resolveEarlyPlan({ plan: { ...plan, finalAtS: 140 }, models }, final)).toThrow(/final model .* decides at 150 s/);
    // The shipped plan still resolves as it did.
    expect(resolveEarlyPlan({ plan: SHIPPED_EARLY_PLAN, models: [exposure, loadModel(join(REPO_ROOT, RECOVERY_START_MODEL_PATH))] }, final).checkpointKinds).toEqual([
      { checkpoint: 'exposure-end', atS: 90, exposureS: null, recoveryS: 0 },
      { checkpoint: 'in-recovery', atS: 100, exposureS: null, recoveryS: 10 },
    ]);
    // The same three windows without decideInExposure decide when the exposure ends (90 s here), not at 60 s.
    const sim = { seed: 1, containers: 200, startDay: 1, days: 4 };
    const set = extractTrainingSet([{ group: 'g', events: simulationEvents(createSimulation(sim)) }], { extractor: { ...LINEAR_MODEL_RECIPE.extractor, windowCount: 3 } });
    const atEnd = fitModel(set.table, set.input, { ...LINEAR_MODEL_RECIPE.fit, limits: set.limits });
    const unflagged = { ...plan, checkpoints: [{ ...plan.checkpoints[0]!, modelId: atEnd.id }, plan.checkpoints[1]!] };
    expect(() => resolveEarlyPlan({ plan: unflagged, models: [exposure, atEnd] }, final)).toThrow(/decides at 90 s \(exposure-end\), the early plan's checkpoint is at 60 s/);
  });
});

describe("the page's checkpoints", () => {
  it('one inside the exposure says how far into it; one at a phase end says which phase', () => {
    expect(pageModelWithEarly(final, [w3, exposure]).earlyCheckpoints).toEqual([
      { phase: 'exposure', inPhaseS: 30 },
      { phase: 'exposure', inPhaseS: null },
    ]);
    expect(pageModelWithEarly(final, [exposure]).earlyCheckpoints).toEqual([{ phase: 'exposure', inPhaseS: null }]);
    expect(pageModelWithEarly(final, []).earlyCheckpoints).toEqual([]);
  });
});
