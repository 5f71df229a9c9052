/**
 * The early decision measured with the three shipped models (issue 22; docs/early-decision.md): the exposure
 * model's P(suspicious) at 90 s (the exposure's end), the recovery-start model's at 100 s (the recovery's first
 * 10 s window, `in-recovery`), then the default model's verdict at 150 s (the recovery's end). The thresholds were
 * chosen in that order by `chooseEarlyThresholds` on SHIPPED_SETS.thresholdSet (32,000 labelled containers of
 * training days 17-20, seed 2; the 100 s one on the containers the 90 s one left), `npm run eval:early`: no drug
 * container the full cycle does not clear may leave early as clear, false alarms within 1 % at 95 % confidence.
 * The suspicious side sits at the last double below 1 at 90 s (only a saturated exposure model flags early) and
 * at 1 (never) at 100 s. The model ids are those of datasets/container-sim/exposure-model.json.gz,
 * recovery-start-model.json.gz and default-model.json.gz: the thresholds belong to them.
 */
import { EARLY_PLAN_KIND, EARLY_PLAN_VERSION, type EarlyPlanData, type EngineEarlyOption } from '../engine/earlyPlanSchema.js';
import { loadShippedModel } from './recipes.js';

export const SHIPPED_EARLY_PLAN: EarlyPlanData = {
  kind: EARLY_PLAN_KIND,
  version: EARLY_PLAN_VERSION,
  checkpoints: [
    { atS: 90, modelId: '5011a917ff60be09', clearBelow: 0.004325859796135169, suspiciousAbove: 0.9999999999999999 },
    { atS: 100, modelId: '5d571ed7be483e48', clearBelow: 0.003906653515028804, suspiciousAbove: 1 },
  ],
  finalAtS: 150,
  finalModelId: '450622994f2a8584',
};

/** The shipped plan with the models its checkpoints name (the exposure and recovery-start models of the package). */
export function shippedEarlyOption(): EngineEarlyOption {
  return { plan: SHIPPED_EARLY_PLAN, models: [loadShippedModel(undefined, 'exposure'), loadShippedModel(undefined, 'recovery-start')] };
}
