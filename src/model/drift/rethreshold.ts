/**
 * Re-setting a model's verdict threshold from labelled samples measured after training (USES LABELS): the
 * threshold on P(suspicious) at which at most the false-alarm target of the clear-labelled samples are alarms,
 * the novelty limit's alarms counted, chosen as training chooses it on its held-out fold (`thresholdForTarget`).
 * Scaler, projection, classifier and novelty limit stay the parent's; the new signed bundle's lineage names
 * the parent, the target and the SHA-256 of the samples with their labels.
 *
 * Why: a threshold chosen on the training data promises a false-alarm rate that new containers need not keep.
 * The 120,000-container recovery model's held-out fold gave 1.0 %, fresh containers of its own training days
 * 1.33 % (datasets/README.md, "The main job"); verified-clear containers from operation are the data that
 * says what the threshold should be. Only clear-labelled samples set it; suspicious-labelled ones, when
 * given, report the detection rate at it.
 */
import { EnoseError } from '../../errors.js';
import type { FeatureTable } from '../../types.js';
import { signBundle, type ModelBundle, type UnsignedBundle } from '../runtime/bundle.js';
import { hashLabelledRows } from './finetune.js';
import { compileModel, noveltyOfLast, predictCompiled } from '../runtime/pipeline.js';
import { alarmRates, isSuspiciousLabel, thresholdForTarget, type TargetThreshold } from '../runtime/policy.js';

export interface RethresholdOptions {
  /** Largest share of the clear-labelled samples that may be alarms. @default the parent's target */
  readonly maxFalseAlarm?: number;
  /**
   * Set the threshold so that the false-alarm rate is within the target at this one-sided confidence (Wilson
   * upper bound on the clear-labelled samples, `allowedAlarms`), not only on the samples. @default none
   */
  readonly confidence?: number;
}

export interface RethresholdResult {
  readonly bundle: ModelBundle;
  readonly choice: TargetThreshold;
  /** Samples left out for having no label. */
  readonly unlabelled: number;
  /** The parent's false-alarm and detection rates on the same samples (its own threshold). */
  readonly parent: { readonly threshold: number; readonly falseAlarmRate: number | null; readonly detectionRate: number | null };
}

/**
 * `parent` with its threshold set on `labelled` (rows in the model's feature layout, labels in `labels`).
 * Throws EnoseError when the model has no verdict policy, when no row is labelled, or when there are too few
 * clear-labelled rows to resolve the target (fewer than 1 / maxFalseAlarm).
 */
export function rethresholdModel(parent: ModelBundle, labelled: FeatureTable, options: RethresholdOptions = {}): RethresholdResult {
  const policy = parent.policy;
  if (!policy) throw new EnoseError('bad-model', 'the model has no suspicious/clear policy: there is no threshold to set');
  const maxFalseAlarm = options.maxFalseAlarm ?? policy.maxFalseAlarm;
  if (!(maxFalseAlarm > 0 && maxFalseAlarm < 1)) throw new EnoseError('bad-option', `--max-false-alarm must be in (0, 1), got ${maxFalseAlarm}`);
  const compiled = compileModel(parent);
  const classCount = parent.classes.length;
  const mask = parent.classes.map((c) => isSuspiciousLabel(policy, c));
  const probs = new Float64Array(classCount);
  const scores: number[] = [];
  const suspicious: boolean[] = [];
  const novel: number[] = [];
  let unlabelled = 0;
  for (let i = 0; i < labelled.count; i++) {
    const label = labelled.labels[i] ?? '';
    if (label === '') {
      unlabelled++;
      continue;
    }
    predictCompiled(compiled, labelled.x, i * labelled.width, probs);
    let s = 0;
    for (let c = 0; c < classCount; c++) if (mask[c]) s += probs[c];
    scores.push(s);
    suspicious.push(isSuspiciousLabel(policy, label));
    novel.push(parent.novelty && noveltyOfLast(compiled) > 1 ? 1 : 0);
  }
  if (scores.length === 0) throw new EnoseError('empty-data', `${labelled.source}: no labelled sample: setting the threshold needs samples labelled clear (or suspicious)`);
  const clearCount = suspicious.filter((x) => !x).length;
  const needed = Math.ceil(1 / maxFalseAlarm - 1e-9);
  if (clearCount < needed) {
    throw new EnoseError(
      'too-few-samples',
      `${labelled.source}: ${clearCount} clear-labelled samples cannot resolve a false-alarm rate of ${100 * maxFalseAlarm} %: at least ${needed} are needed`,
    );
  }
  const confidence = options.confidence;
  const choice = thresholdForTarget(scores, suspicious, novel, maxFalseAlarm, confidence);
  const hash = hashLabelledRows(labelled);
  const { id: _id, hash: _hash, ...rest } = parent;
  const unsigned: UnsignedBundle = {
    ...rest,
    policy: {
      ...policy,
      threshold: choice.threshold,
      maxFalseAlarm,
      calibration: {
        folds: 0,
        clearSamples: choice.clearSamples,
        suspiciousSamples: choice.suspiciousSamples,
        falseAlarmRate: choice.falseAlarmRate,
        detectionRate: choice.detectionRate,
        note:
          `threshold re-set on P(suspicious) of ${scores.length} labelled samples measured after training (enose calibrate --method threshold, sha256 ${hash})` +
          (confidence === undefined ? '; ' : `, for at most ${100 * maxFalseAlarm} % false alarms at ${100 * confidence} % confidence (Wilson upper bound); `) +
          `the classifier is the parent's (${parent.id})` +
          (parent.novelty === null ? '' : choice.joint ? ', the samples the novelty limit flags counted as alarms' : `; the novelty limit alone flags ${choice.clearNovel} of ${choice.clearSamples} clear samples, more than the target allows: threshold set for the classifier alone, rates for both`),
      },
    },
    lineage: { parent: parent.hash, method: `threshold(maxFalseAlarm=${maxFalseAlarm}${confidence === undefined ? '' : `,confidence=${confidence}`})`, reference: hash },
  };
  return {
    bundle: signBundle(unsigned),
    choice,
    unlabelled,
    parent: { threshold: policy.threshold, ...alarmRates(scores, suspicious, novel, policy.threshold) },
  };
}
