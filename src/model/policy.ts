/**
 * The verdict policy: which labels are suspicious, and the threshold on P(suspicious) that meets a target
 * false-alarm rate on out-of-fold training scores.
 */
import { EnoseError } from '../errors.js';
import type { ModelPolicy } from './bundle.js';

export interface PolicyOptions {
  /** Labels that are suspicious; every other label is clear. */
  readonly suspicious?: readonly string[];
  /** Labels that are clear; every other label is suspicious. */
  readonly clear?: readonly string[];
}

export type PolicyRule = Pick<ModelPolicy, 'rule' | 'labels'>;

/**
 * Resolves the rule from the options: `--suspicious` or `--clear`, or else a label named `clear` (any case)
 * is clear and all others suspicious; with no such label there is no policy (null).
 */
export function resolvePolicyRule(classes: readonly string[], options: PolicyOptions): PolicyRule | null {
  if (options.suspicious && options.clear) throw new EnoseError('bad-option', 'give --suspicious or --clear, not both');
  const named = options.suspicious ?? options.clear;
  if (named) {
    if (named.length === 0) throw new EnoseError('bad-option', `--${options.suspicious ? 'suspicious' : 'clear'} needs at least one label`);
    const unknown = named.filter((l) => !classes.includes(l));
    if (unknown.length > 0) throw new EnoseError('bad-option', `label(s) not in the training data: ${unknown.join(', ')} (labels: ${classes.join(', ')})`);
    return { rule: options.suspicious ? 'suspicious-listed' : 'clear-listed', labels: [...named] };
  }
  const clear = classes.filter((c) => c.toLowerCase() === 'clear');
  return clear.length > 0 ? { rule: 'clear-listed', labels: clear } : null;
}

export function isSuspiciousLabel(rule: PolicyRule, label: string): boolean {
  const listed = rule.labels.includes(label);
  return rule.rule === 'suspicious-listed' ? listed : !listed;
}

export interface ThresholdChoice {
  readonly threshold: number;
  readonly falseAlarmRate: number | null;
  readonly detectionRate: number | null;
}

/**
 * The lowest threshold t such that the share of clear samples with score > t is at most `maxFalseAlarm`
 * (so detection is as high as the false-alarm target allows). Scores are P(suspicious) out of fold; a sample
 * the novelty limit flags (suspicious whatever its score) comes as +Infinity, an alarm at any threshold. When
 * those alone exceed the target, t is 1: no score above it, so the classifier adds no alarm of its own.
 */
export function chooseThreshold(clearScores: Float64Array, suspiciousScores: Float64Array, maxFalseAlarm: number): ThresholdChoice {
  let threshold = 0.5;
  if (clearScores.length > 0) {
    const sorted = Float64Array.from(clearScores).sort().reverse();
    const allowed = Math.floor(maxFalseAlarm * sorted.length + 1e-9);
    // Every clear score above the threshold is a false alarm: put it at the (allowed+1)-th highest.
    threshold = allowed >= sorted.length ? 0 : Math.min(1, sorted[allowed]!);
  }
  const rate = (scores: Float64Array) => {
    if (scores.length === 0) return null;
    let n = 0;
    for (const s of scores) if (s > threshold) n++;
    return n / scores.length;
  };
  return { threshold, falseAlarmRate: rate(clearScores), detectionRate: rate(suspiciousScores) };
}

/** What `thresholdForTarget` chose, and the samples it chose it on. */
export interface TargetThreshold {
  readonly threshold: number;
  /** Share of clear samples that are alarms at the threshold (novelty alarms included), or null with none. */
  readonly falseAlarmRate: number | null;
  /** Share of suspicious samples that are alarms at the threshold (novelty alarms included), or null with none. */
  readonly detectionRate: number | null;
  readonly clearSamples: number;
  readonly suspiciousSamples: number;
  /** Clear samples the novelty limit flags (alarms at any threshold). */
  readonly clearNovel: number;
  /** False when the novelty limit alone flags more clear samples than the target allows: the threshold is then set for the classifier alone. */
  readonly joint: boolean;
}

/**
 * The verdict threshold for a false-alarm target from scored samples: `scores[i]` is P(suspicious) of sample
 * i, `suspicious[i]` whether its label is suspicious, `novel[i]` (or null: none) whether the novelty limit flags
 * it (an alarm at any threshold). The target is for the classifier and the novelty limit together when the
 * limit leaves room for it; a limit that alone flags more clear samples than the target allows would leave
 * the classifier no alarm at all, so the threshold is then set as if the classifier were alone and the rates
 * are those of both. Training calibrates on its held-out scores with it, `enose calibrate --method threshold`
 * on labelled samples measured later.
 */
export function thresholdForTarget(scores: ArrayLike<number>, suspicious: ArrayLike<boolean>, novel: ArrayLike<number> | null, maxFalseAlarm: number): TargetThreshold {
  const clearScores: number[] = [];
  const suspiciousScores: number[] = [];
  const clearMarked: number[] = [];
  const suspiciousMarked: number[] = [];
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i]!;
    const marked = novel && novel[i] ? Infinity : s;
    if (suspicious[i]) {
      suspiciousScores.push(s);
      suspiciousMarked.push(marked);
    } else {
      clearScores.push(s);
      clearMarked.push(marked);
    }
  }
  const clearNovel = clearMarked.filter((x) => x === Infinity).length;
  const joint = clearNovel <= Math.floor(maxFalseAlarm * clearScores.length + 1e-9);
  const { threshold } = chooseThreshold(Float64Array.from(joint ? clearMarked : clearScores), Float64Array.from(suspiciousScores), maxFalseAlarm);
  return {
    threshold,
    falseAlarmRate: shareAbove(clearMarked, threshold),
    detectionRate: shareAbove(suspiciousMarked, threshold),
    clearSamples: clearScores.length,
    suspiciousSamples: suspiciousScores.length,
    clearNovel,
    joint,
  };
}

/** Share of `scores` above `threshold` (null when empty). */
function shareAbove(scores: readonly number[], threshold: number): number | null {
  if (scores.length === 0) return null;
  let n = 0;
  for (const x of scores) if (x > threshold) n++;
  return n / scores.length;
}
