/**
 * The verdict policy: which labels are suspicious, and the threshold on P(suspicious) that meets a target
 * false-alarm rate on out-of-fold training scores.
 */
import { EnoseError } from '../../errors.js';
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
export function chooseThreshold(
  clearScores: Float64Array,
  suspiciousScores: Float64Array,
  maxFalseAlarm: number,
  allowed = Math.floor(maxFalseAlarm * clearScores.length + 1e-9),
): ThresholdChoice {
  let threshold = 0.5;
  if (clearScores.length > 0) {
    const sorted = Float64Array.from(clearScores).sort().reverse();
    // Every clear score above the threshold is a false alarm: put it at the (allowed+1)-th highest.
    threshold = allowed >= sorted.length ? 0 : Math.min(1, sorted[allowed]);
  }
  const rate = (scores: Float64Array) => {
    if (scores.length === 0) return null;
    let n = 0;
    for (const s of scores) if (s > threshold) n++;
    return n / scores.length;
  };
  return { threshold, falseAlarmRate: rate(clearScores), detectionRate: rate(suspiciousScores) };
}

/**
 * What a false-alarm target bounds. `training`: the share of the scored clear samples above the threshold (the
 * target's share of them may be alarms). `unseen`: the expected share of new clear samples: with the threshold
 * at the (k+1)-th highest of n exchangeable clear scores, a new one lies above it with probability (k+1)/(n+1),
 * so k = floor(target (n+1)) - 1 (at least 0). On 200 clear samples at 1 %, `training` allows 2 alarms and
 * gives about 1.5 % on new samples, `unseen` allows 1 (1.0 %).
 */
export type FalseAlarmBasis = 'training' | 'unseen';

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
export function thresholdForTarget(
  scores: ArrayLike<number>,
  suspicious: ArrayLike<boolean>,
  novel: ArrayLike<number> | null,
  maxFalseAlarm: number,
  confidence?: number,
  basis: FalseAlarmBasis = 'training',
): TargetThreshold {
  const clearScores: number[] = [];
  const suspiciousScores: number[] = [];
  // The clear scores with the novel samples as +Infinity: alarms at any threshold.
  const clearMarked: number[] = [];
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i];
    if (suspicious[i]) {
      suspiciousScores.push(s);
    } else {
      clearScores.push(s);
      clearMarked.push(novel && novel[i] ? Infinity : s);
    }
  }
  const clearNovel = clearMarked.filter((x) => x === Infinity).length;
  const allowed = allowedAlarms(clearScores.length, maxFalseAlarm, confidence, basis);
  if (allowed < 0) {
    throw new EnoseError(
      'too-few-samples',
      `${clearScores.length} clear samples cannot show at most ${100 * maxFalseAlarm} % false alarms at ${100 * confidence!} % confidence even with none: more are needed`,
    );
  }
  const joint = clearNovel <= allowed;
  const { threshold } = chooseThreshold(Float64Array.from(joint ? clearMarked : clearScores), Float64Array.from(suspiciousScores), maxFalseAlarm, allowed);
  return {
    threshold,
    ...alarmRates(scores, suspicious, novel, threshold),
    clearSamples: clearScores.length,
    suspiciousSamples: suspiciousScores.length,
    clearNovel,
    joint,
  };
}

/**
 * How many of `n` clear samples may be alarms. Without `confidence`: the target's share of them, rounded down
 * (`basis` unseen: the most for which the expected share of new clear samples meets the target, FalseAlarmBasis).
 * With it (e.g. 0.95): the most alarms k for which the one-sided upper confidence bound of the false-alarm
 * rate (Wilson score interval) is still within the target, so that "at most maxFalseAlarm" holds at that
 * confidence for the containers the samples stand for, not only for the samples; -1 when even no alarm
 * cannot show it (too few samples).
 */
export function allowedAlarms(n: number, maxFalseAlarm: number, confidence?: number, basis: FalseAlarmBasis = 'training'): number {
  const plain = basis === 'unseen' ? Math.max(0, Math.floor(maxFalseAlarm * (n + 1) + 1e-9) - 1) : Math.floor(maxFalseAlarm * n + 1e-9);
  if (confidence === undefined) return plain;
  if (!(confidence > 0.5 && confidence < 1)) throw new EnoseError('bad-option', `--confidence must be in (0.5, 1), got ${confidence}`);
  const z = normalQuantile(confidence);
  for (let k = plain; k >= 0; k--) if (wilsonUpper(k, n, z) <= maxFalseAlarm) return k;
  return -1;
}

/** Upper end of the Wilson score interval of k successes in n trials at normal quantile z. */
export function wilsonUpper(k: number, n: number, z: number): number {
  if (n === 0) return 1;
  const p = k / n;
  const z2 = z * z;
  return (p + z2 / (2 * n) + z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / (1 + z2 / n);
}

/** The standard normal quantile (P. J. Acklam's rational approximation, relative error below 1.2e-9). */
export function normalQuantile(p: number): number {
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - low) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/**
 * Shares of the clear and of the suspicious samples that are alarms at `threshold` (score above it, or flagged
 * by the novelty limit), null for a kind with no sample; the arguments as for `thresholdForTarget`.
 */
export function alarmRates(
  scores: ArrayLike<number>,
  suspicious: ArrayLike<boolean>,
  novel: ArrayLike<number> | null,
  threshold: number,
): { falseAlarmRate: number | null; detectionRate: number | null } {
  const n = [0, 0];
  const alarms = [0, 0];
  for (let i = 0; i < scores.length; i++) {
    const kind = suspicious[i] ? 1 : 0;
    n[kind]++;
    if ((novel && novel[i]) || scores[i] > threshold) alarms[kind]++;
  }
  return { falseAlarmRate: n[0] > 0 ? alarms[0] / n[0] : null, detectionRate: n[1] > 0 ? alarms[1] / n[1] : null };
}

/**
 * Detection and false alarms of a cross-validated model as its policy decides, every fold judged with a
 * threshold it had no part in: for each fold, `thresholdForTarget` on the scored samples of the other folds
 * (their novelty alarms counted as fitModel counts them), then the fold's own alarms at that threshold. The
 * arguments as for `thresholdForTarget`, with `foldOf[i]` the fold sample i was held out in (scores and novelty
 * flags are out of fold). Rates over all folds together; null for a kind with no sample.
 */
export function heldOutAlarmRates(
  scores: ArrayLike<number>,
  suspicious: ArrayLike<boolean>,
  novel: ArrayLike<number> | null,
  foldOf: Int32Array,
  folds: number,
  maxFalseAlarm: number,
  basis: FalseAlarmBasis = 'training',
): { falseAlarmRate: number | null; detectionRate: number | null } {
  const n = [0, 0];
  const alarms = [0, 0];
  for (let f = 0; f < folds; f++) {
    const rest: number[] = [];
    const held: number[] = [];
    for (let i = 0; i < foldOf.length; i++) (foldOf[i] === f ? held : rest).push(i);
    if (held.length === 0) continue;
    const pick = <T>(a: ArrayLike<T>, rows: number[]) => rows.map((i) => a[i]!);
    const { threshold } = thresholdForTarget(pick(scores, rest), pick(suspicious, rest), novel && pick(novel, rest), maxFalseAlarm, undefined, basis);
    for (const i of held) {
      const kind = suspicious[i] ? 1 : 0;
      n[kind]++;
      if ((novel && novel[i]) || scores[i] > threshold) alarms[kind]++;
    }
  }
  return { falseAlarmRate: n[0] > 0 ? alarms[0] / n[0] : null, detectionRate: n[1] > 0 ? alarms[1] / n[1] : null };
}
