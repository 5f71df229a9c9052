/**
 * A small model that decides inside the exposure (issue 22's `in-exposure` checkpoint), for tests: the linear
 * recipe (log response, windows only, logistic regression) with the first three 10 s windows of the exposure and
 * `decideInExposure`, trained on a few hundred simulated containers of the training days (seconds to fit). It
 * decides 30 s into the exposure: 60 s into the default cycle. Not a model to ship (its figures are not measured).
 */
import { join } from 'node:path';
import { extractTrainingSet } from '../../src/engine/training.js';
import { createEngine } from '../../src/engine/engine.js';
import { EARLY_PLAN_KIND, EARLY_PLAN_VERSION, type EarlyPlanData } from '../../src/engine/earlyPlanSchema.js';
import { createMemorySource } from '../../src/io/memory.js';
import { fitModel } from '../../src/model/fitting/fitModel.js';
import type { ModelBundle } from '../../src/model/runtime/bundle.js';
import { SHIPPED_EARLY_PLAN } from '../../src/shipped/earlyPlan.js';
import { LINEAR_MODEL_RECIPE, loadShippedModel } from '../../src/shipped/recipes.js';
import { simulationEvents } from '../../src/sim/events.js';
import { createSimulation, type SimulationOptions } from '../../src/sim/simulate.js';
import type { VerdictEvent } from '../../src/types.js';
import { SHIPPED_MODELS } from './models.js';
import { REPO_ROOT } from './shared.js';

/** The in-exposure model's extractor: three 10 s windows, the verdict when the third completes. */
export const IN_EXPOSURE_EXTRACTOR = { ...LINEAR_MODEL_RECIPE.extractor, windowCount: 3, decideInExposure: true } as const;

/** Trains the three-window in-exposure model on `containers` simulated containers of days 1-4 (seed 1). */
export function trainInExposureModel(containers = 400): ModelBundle {
  const sim: SimulationOptions = { seed: 1, containers, startDay: 1, days: 4 };
  const set = extractTrainingSet([{ group: 'sim-train', events: simulationEvents(createSimulation(sim)) }], { extractor: IN_EXPOSURE_EXTRACTOR });
  return fitModel(set.table, set.input, { ...LINEAR_MODEL_RECIPE.fit, limits: set.limits });
}

/** The shipped models: [final (default), exposure]. */
export function shippedPair(): [ModelBundle, ModelBundle] {
  const [final, exposure] = SHIPPED_MODELS.map((m) => loadShippedModel(join(REPO_ROOT, m.path)));
  return [final!, exposure!];
}

/** The in-exposure model's own verdicts (alone, no plan) on a simulated set. */
export async function verdictsAlone(model: ModelBundle, sim: SimulationOptions): Promise<VerdictEvent[]> {
  const verdicts: VerdictEvent[] = [];
  const engine = createEngine({ model, source: createMemorySource(simulationEvents(createSimulation(sim))), queue: false, emitFrames: false, onEvent: (e) => e.type === 'verdict' && verdicts.push(e) });
  await engine.done;
  return verdicts;
}

/**
 * A three-checkpoint plan: the in-exposure model at 60 s (clear below `clearBelow60`), the shipped exposure model
 * at 90 s (clear below `clearBelow90`), the default model at 150 s. Thresholds for tests: chosen so that some
 * cycles decide at 60 s and some wait, not for the targets.
 */
export function threeCheckpointPlan(inExposure: ModelBundle, clearBelow60: number, clearBelow90 = 0.45): EarlyPlanData {
  const at90 = SHIPPED_EARLY_PLAN.checkpoints[0]!;
  return {
    kind: EARLY_PLAN_KIND,
    version: EARLY_PLAN_VERSION,
    checkpoints: [
      { atS: 60, modelId: inExposure.id, clearBelow: clearBelow60, suspiciousAbove: 1 },
      { ...at90, clearBelow: clearBelow90 },
    ],
    finalAtS: SHIPPED_EARLY_PLAN.finalAtS,
    finalModelId: SHIPPED_EARLY_PLAN.finalModelId,
  };
}

/** The median score of the clean `clear` verdicts: a clear threshold that clears about half of them. */
export function medianClearScore(verdicts: readonly VerdictEvent[]): number {
  const scores = verdicts.filter((v) => v.verdict === 'clear' && v.score !== null).map((v) => v.score!).sort((a, b) => a - b);
  if (scores.length < 2) throw new Error(`only ${scores.length} clear verdicts: no threshold to choose`);
  return Math.min(0.49, scores[Math.floor(scores.length / 2)]!);
}
