/**
 * Choosing one early checkpoint's thresholds on labelled containers (USES LABELS), as the default model's own
 * threshold is re-set on other labelled containers of its training days (`rethresholdModel`): never on the
 * containers the figures are then measured on.
 *
 * - clearBelow: a drug container may leave early only as suspicious. So the clear threshold is the lowest
 *   early score of the drug containers that would leave early as clear and that the final verdict does not
 *   clear itself (`maxDrugClearedEarly` of them may be passed, default none), and lower still if the whole
 *   decision's detection would fall below `minDetection` (below the final verdict's own, where that misses it).
 * - suspiciousAbove: the lowest threshold at which the alarms it adds (clear containers flagged early that the
 *   final verdict would not flag) keep the whole decision's false alarms within `maxFalseAlarm` at `confidence`
 *   (Wilson upper bound, `allowedAlarms`), and never below CLEAR_MAX_SCORE; 1 (never) when no alarm may be added.
 */
import { EnoseError } from '../errors.js';
import { CLEAR_MAX_SCORE } from '../model/runtime/pipeline.js';
import { allowedAlarms, normalQuantile, wilsonUpper } from '../model/runtime/policy.js';
import { decideAtCheckpoint, type CheckpointScore, type CheckpointThresholds } from './earlyDecision.js';

/** One labelled container: its truth, the early checkpoint's score and the final verdict. */
export interface EarlyRow {
  readonly suspicious: boolean;
  readonly early: CheckpointScore;
  readonly final: CheckpointScore;
}

export interface EarlyTargetOptions {
  /** Seconds into the cycle of the early checkpoint. */
  readonly atS: number;
  /** @default 0.95 */
  readonly minDetection?: number;
  /** @default 0.01 */
  readonly maxFalseAlarm?: number;
  /** One-sided confidence of the false-alarm bound. @default 0.95 */
  readonly confidence?: number;
  /** Drug containers (not cleared by the final verdict) that may be cleared early, as a share of the drug containers. @default 0 */
  readonly maxDrugClearedEarly?: number;
}

/** What a set of thresholds gives on labelled rows, the early checkpoint followed by the final verdict. */
export interface EarlyRates {
  readonly clearN: number;
  readonly suspiciousN: number;
  readonly detectionRate: number;
  readonly falseAlarmRate: number;
  /** Wilson upper bound of the false-alarm rate at the options' confidence. */
  readonly falseAlarmUpper: number;
  readonly clearedEarly: { readonly clear: number; readonly suspicious: number };
  readonly flaggedEarly: { readonly clear: number; readonly suspicious: number };
}

export interface EarlyChoice {
  readonly thresholds: CheckpointThresholds;
  /** The final verdict alone on the same rows. */
  readonly finalOnly: EarlyRates;
  /** The sequential decision on the rows. */
  readonly withEarly: EarlyRates;
}

/** The whole decision's rates on labelled rows under one checkpoint's thresholds. */
export function earlyRates(rows: readonly EarlyRow[], t: CheckpointThresholds, confidence = 0.95): EarlyRates {
  let clearN = 0;
  let suspiciousN = 0;
  let detected = 0;
  let alarms = 0;
  const clearedEarly = { clear: 0, suspicious: 0 };
  const flaggedEarly = { clear: 0, suspicious: 0 };
  for (const r of rows) {
    const action = decideAtCheckpoint(r.early, t);
    const verdict = action === 'wait' ? r.final.verdict : action;
    const key = r.suspicious ? 'suspicious' : 'clear';
    if (action === 'clear') clearedEarly[key]++;
    if (action === 'suspicious') flaggedEarly[key]++;
    if (r.suspicious) {
      suspiciousN++;
      if (verdict === 'suspicious') detected++;
    } else {
      clearN++;
      if (verdict === 'suspicious') alarms++;
    }
  }
  return {
    clearN,
    suspiciousN,
    detectionRate: suspiciousN > 0 ? detected / suspiciousN : NaN,
    falseAlarmRate: clearN > 0 ? alarms / clearN : NaN,
    falseAlarmUpper: wilsonUpper(alarms, clearN, normalQuantile(confidence)),
    clearedEarly,
    flaggedEarly,
  };
}

/** The early checkpoint's thresholds for the targets, chosen on `rows` (see the file's comment). */
export function chooseEarlyThresholds(rows: readonly EarlyRow[], options: EarlyTargetOptions): EarlyChoice {
  const { atS, minDetection = 0.95, maxFalseAlarm = 0.01, confidence = 0.95, maxDrugClearedEarly = 0 } = options;
  const none: CheckpointThresholds = { atS, clearBelow: 0, suspiciousAbove: 1 };
  const finalOnly = earlyRates(rows, none, confidence);
  if (finalOnly.suspiciousN === 0 || finalOnly.clearN === 0) {
    throw new EnoseError('too-few-samples', `choosing early thresholds needs clear and suspicious containers, got ${finalOnly.clearN} clear and ${finalOnly.suspiciousN} suspicious`);
  }
  // Clear side: the drug containers an early clearance could take from the final verdict, lowest score first.
  const drugScores = rows
    .filter((r) => r.suspicious && r.final.verdict !== 'clear' && r.early.verdict === 'clear' && r.early.score !== null && Number.isFinite(r.early.score))
    .map((r) => r.early.score!)
    .sort((a, b) => a - b);
  // Where the final verdict alone misses the detection target, the early clearance may not lower it at all.
  const needed = Math.min(minDetection, finalOnly.detectionRate);
  let passed = Math.floor(maxDrugClearedEarly * finalOnly.suspiciousN + 1e-9);
  let clearBelow = 0;
  for (; passed >= 0; passed--) {
    clearBelow = Math.min(drugScores[passed] ?? CLEAR_MAX_SCORE, CLEAR_MAX_SCORE);
    if (earlyRates(rows, { atS, clearBelow, suspiciousAbove: 1 }, confidence).detectionRate >= needed) break;
  }
  if (passed < 0) clearBelow = 0;
  // Suspicious side: the alarms the early flag may add to those of the decision so far.
  const sofar = { atS, clearBelow, suspiciousAbove: 1 };
  const base = earlyRates(rows, sofar, confidence);
  const baseAlarms = Math.round(base.falseAlarmRate * base.clearN);
  const spare = allowedAlarms(base.clearN, maxFalseAlarm, confidence) - baseAlarms;
  const added = rows
    .filter((r) => !r.suspicious && r.final.verdict !== 'suspicious' && decideAtCheckpoint(r.early, sofar) === 'wait' && r.early.score !== null)
    .map((r) => r.early.score!)
    .sort((a, b) => b - a);
  let suspiciousAbove = 1;
  if (spare >= 0) suspiciousAbove = Math.max(added[spare] ?? CLEAR_MAX_SCORE, CLEAR_MAX_SCORE, clearBelow);
  const thresholds = { atS, clearBelow, suspiciousAbove };
  return { thresholds, finalOnly, withEarly: earlyRates(rows, thresholds, confidence) };
}
