/**
 * The early decision measured with the two shipped models (issue 22, first slice; docs/early-decision.md): the
 * exposure model's P(suspicious) at 90 s (the exposure's end), then the default model's verdict at 150 s (the
 * recovery's end). The thresholds were chosen by `chooseEarlyThresholds` on SHIPPED_SETS.thresholdSet (32,000
 * labelled containers of training days 17-20, seed 2), `npm run eval:early`: no drug container the full cycle
 * does not clear may leave early as clear, false alarms within 1 % at 95 % confidence. The suspicious side sits
 * at the last double below 1 (only a saturated exposure model flags early). Data, not yet used by the engine.
 */
import type { EarlyPlan } from '../engine/earlyDecision.js';

export const SHIPPED_EARLY_PLAN: EarlyPlan = {
  checkpoints: [{ atS: 90, clearBelow: 0.004325859796135169, suspiciousAbove: 0.9999999999999999 }],
  finalAtS: 150,
};
