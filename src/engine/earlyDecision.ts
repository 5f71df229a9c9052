/**
 * A verdict as soon as the evidence suffices (issue 22, first slice): a sequential decision over fixed
 * checkpoints of a cycle. At each early checkpoint a model gives P(suspicious) from what the cycle has shown so
 * far; the container leaves early as `clear` when that score is below the checkpoint's clear threshold (and the
 * checkpoint's own verdict is a clean `clear`), as `suspicious` when it is above the suspicious threshold, and
 * otherwise waits. The last checkpoint's verdict is final, whatever it is. Wald's sequential test in its simplest
 * form (two thresholds per look, a fixed number of looks), with thresholds set on labelled containers
 * (`chooseEarlyThresholds`), not derived from likelihood ratios.
 *
 * Fail-safe: clearing early needs the stricter side. A clear threshold must lie below CLEAR_MAX_SCORE and below
 * the suspicious threshold, and a checkpoint whose verdict is not a clean `clear` (an unknown odour, a quality
 * problem, a suspicious class on top) never clears early: a drug container may leave early only as suspicious.
 * Pure: no clock, no I/O.
 */
import { EnoseError } from '../errors.js';
import { CLEAR_MAX_SCORE } from '../model/runtime/pipeline.js';
import type { VerdictKind } from '../types.js';

/** What one checkpoint's model said about the cycle. */
export interface CheckpointScore {
  /** P(suspicious classes) at the checkpoint, or null when no prediction was made (a cut cycle). */
  readonly score: number | null;
  /** The checkpoint model's own verdict (its policy, novelty limit and quality gates), or null without a policy. */
  readonly verdict: VerdictKind | null;
}

/** The thresholds of one early checkpoint. */
export interface CheckpointThresholds {
  /** Seconds into the cycle at which the checkpoint's score is known (e.g. 90: the exposure's end). */
  readonly atS: number;
  /** Clear early when the score is strictly below this (and the checkpoint's verdict is `clear`). 0: never. */
  readonly clearBelow: number;
  /** Suspicious early when the score is strictly above this. 1: never. */
  readonly suspiciousAbove: number;
}

/** The plan of a sequential decision: the early checkpoints in time order, then the final one. */
export interface EarlyPlan {
  readonly checkpoints: readonly CheckpointThresholds[];
  /** Seconds into the cycle of the final verdict (e.g. 150: the recovery's end). */
  readonly finalAtS: number;
}

export type EarlyAction = 'clear' | 'suspicious' | 'wait';

/** A sequential decision's outcome: the verdict, when, and at which checkpoint (the final one is `checkpoints.length`). */
export interface EarlyOutcome {
  readonly verdict: VerdictKind | null;
  readonly atS: number;
  readonly checkpoint: number;
  readonly early: boolean;
}

/** Throws EnoseError('bad-option') unless the thresholds are in [0, 1], clear below suspicious, and clear below CLEAR_MAX_SCORE. */
export function checkThresholds(t: CheckpointThresholds): void {
  const { atS, clearBelow, suspiciousAbove } = t;
  if (!(Number.isFinite(atS) && atS >= 0)) throw new EnoseError('bad-option', `a checkpoint's atS must be a number >= 0, got ${atS}`);
  if (!(clearBelow >= 0 && clearBelow <= 1) || !(suspiciousAbove >= 0 && suspiciousAbove <= 1)) {
    throw new EnoseError('bad-option', `early thresholds must be in [0, 1], got clearBelow ${clearBelow}, suspiciousAbove ${suspiciousAbove}`);
  }
  if (clearBelow > CLEAR_MAX_SCORE) {
    throw new EnoseError('bad-option', `clearBelow ${clearBelow} is above ${CLEAR_MAX_SCORE}: an early clearance needs the clear classes to outweigh the suspicious ones`);
  }
  if (clearBelow > suspiciousAbove) {
    throw new EnoseError('bad-option', `clearBelow ${clearBelow} is above suspiciousAbove ${suspiciousAbove}: a score cannot be both`);
  }
}

/** One checkpoint's action: clear, suspicious or wait for the next one. */
export function decideAtCheckpoint(score: CheckpointScore, t: CheckpointThresholds): EarlyAction {
  const s = score.score;
  if (s === null || !Number.isFinite(s)) return 'wait';
  // suspiciousAbove 1 means never (a sum of class probabilities can round to just above 1).
  if (t.suspiciousAbove < 1 && s > t.suspiciousAbove) return 'suspicious';
  // Only a clean clear verdict may leave early as clear: an unknown odour or a quality problem waits.
  if (s < t.clearBelow && score.verdict === 'clear') return 'clear';
  return 'wait';
}

/**
 * The sequential decision of one cycle: `early[i]` is checkpoint i's score (in plan order), `final` the last
 * checkpoint's. The first checkpoint that does not wait decides; otherwise the final verdict stands.
 */
export function decideEarly(plan: EarlyPlan, early: readonly CheckpointScore[], final: CheckpointScore): EarlyOutcome {
  if (early.length !== plan.checkpoints.length) {
    throw new EnoseError('bad-usage', `the plan has ${plan.checkpoints.length} early checkpoints, ${early.length} scores were given`);
  }
  for (let i = 0; i < early.length; i++) {
    const t = plan.checkpoints[i];
    const action = decideAtCheckpoint(early[i], t);
    if (action !== 'wait') return { verdict: action, atS: t.atS, checkpoint: i, early: true };
  }
  return { verdict: final.verdict, atS: plan.finalAtS, checkpoint: plan.checkpoints.length, early: false };
}

/** Checks a plan once (thresholds, checkpoints in time order before the final one); returns it. */
export function checkPlan(plan: EarlyPlan): EarlyPlan {
  let last = -Infinity;
  for (const t of plan.checkpoints) {
    checkThresholds(t);
    if (!(t.atS > last)) throw new EnoseError('bad-option', `early checkpoints must be in time order, got ${t.atS} s after ${last} s`);
    last = t.atS;
  }
  if (!(plan.finalAtS > last)) throw new EnoseError('bad-option', `the final checkpoint (${plan.finalAtS} s) must come after the early ones`);
  return plan;
}
