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
