/**
 * The early decision measured with the two shipped models (issue 22; docs/early-decision.md): the exposure
 * model's P(suspicious) at 90 s (the exposure's end), then the default model's verdict at 150 s (the recovery's
 * end). The thresholds were chosen by `chooseEarlyThresholds` on SHIPPED_SETS.thresholdSet (32,000 labelled
 * containers of training days 17-20, seed 2), `npm run eval:early`: no drug container the full cycle does not
 * clear may leave early as clear, false alarms within 1 % at 95 % confidence. The suspicious side sits at the
 * last double below 1 (only a saturated exposure model flags early). The model ids are those of
 * datasets/container-sim/exposure-model.json.gz and default-model.json.gz: the thresholds belong to them.
 */
import { EARLY_PLAN_KIND, EARLY_PLAN_VERSION, type EarlyPlanData } from '../engine/earlyPlanSchema.js';

export const SHIPPED_EARLY_PLAN: EarlyPlanData = {
  kind: EARLY_PLAN_KIND,
  version: EARLY_PLAN_VERSION,
  checkpoints: [{ atS: 90, modelId: '5011a917ff60be09', clearBelow: 0.004325859796135169, suspiciousAbove: 0.9999999999999999 }],
  finalAtS: 150,
  finalModelId: '450622994f2a8584',
};
