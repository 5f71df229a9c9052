/**
 * What an evaluation report shows, computed from a model and labelled data: each sample's class, verdict,
 * suspicious score and PCA scores, the evaluation summary, and the ROC curve of the score. Pure: data in,
 * numbers out (the HTML is `html.ts`'s job).
 */
import { EngineCore } from '../engine/core.js';
import type { TrainingRecording } from '../engine/training.js';
import type { ModelBundle } from '../model/runtime/bundle.js';
import { evaluateModel, reportOf, type EvaluationReport, type JudgedSample } from '../model/fitting/evaluation.js';
import { compileModel, predictCompiled } from '../model/runtime/pipeline.js';
import { isSuspiciousLabel } from '../model/runtime/policy.js';
import type { FeatureTable, VerdictKind } from '../types.js';

export interface ReportSample {
  readonly sample: string;
  readonly label: string;
  readonly group: string;
  readonly predicted: string | null;
  readonly verdict: VerdictKind | null;
  /** P(suspicious classes), or null without a policy or a prediction. */
  readonly score: number | null;
  readonly reasons: readonly string[];
  /** The first (up to three) PCA scores, or null when no prediction was made. */
  readonly pc: readonly number[] | null;
}

export interface ReportData {
  readonly title: string;
  /** ISO time the report was made. */
  readonly generatedAt: string;
  /** The data files or folders evaluated. */
  readonly sources: readonly string[];
  readonly bundle: ModelBundle;
  readonly evaluation: EvaluationReport;
  readonly samples: readonly ReportSample[];
  /** Cycles without a label, not scored. */
  readonly unlabelled: number;
}

export interface ReportMeta {
  readonly title?: string;
  readonly sources: readonly string[];
  /** @default now */
  readonly generatedAt?: Date;
}

function meta(m: ReportMeta): { title: string; generatedAt: string; sources: readonly string[] } {
  return { title: m.title ?? 'Model evaluation', generatedAt: (m.generatedAt ?? new Date()).toISOString(), sources: m.sources };
}

/** Report data of a feature table (the model must read features). */
export function reportDataFromTable(bundle: ModelBundle, table: FeatureTable, info: ReportMeta): ReportData {
  const { report, predictions } = evaluateModel(bundle, table);
  const model = compileModel(bundle);
  const probs = new Float64Array(bundle.classes.length);
  const keep = Math.min(3, bundle.pca.components);
  const samples = predictions.map((p, i): ReportSample => {
    predictCompiled(model, table.x, i * table.width, probs);
    return {
      sample: p.sample,
      label: p.label,
      group: p.group,
      predicted: p.predicted,
      verdict: p.verdict,
      score: p.score,
      reasons: p.reasons,
      pc: Array.from(model.scores.subarray(0, keep)),
    };
  });
  return { ...meta(info), bundle, evaluation: report, samples, unlabelled: 0 };
}

/**
 * Report data of recordings of frames, through the streaming engine (the verdicts `enose evaluate` scores), each
 * cycle with the PCA scores its verdict carries.
 */
export function reportDataFromRecordings(bundle: ModelBundle, recordings: readonly TrainingRecording[], info: ReportMeta): ReportData {
  const samples: ReportSample[] = [];
  let unlabelled = 0;
  for (const recording of recordings) {
    const core = new EngineCore(bundle, { emitFrames: false }, (v) => {
      if (v.type !== 'verdict') return;
      if (v.label === undefined) {
        unlabelled++;
        return;
      }
      samples.push({ sample: v.sample, label: v.label, group: recording.group, predicted: v.class, verdict: v.verdict, score: v.score, reasons: v.reasons, pc: v.pcaScores ?? null });
    });
    for (const event of recording.events) core.push(event);
    core.end();
  }
  const judged: JudgedSample[] = samples.map((s) => ({ sample: s.sample, label: s.label, group: s.group, predicted: s.predicted, verdict: s.verdict, reasons: s.reasons }));
  return { ...meta(info), bundle, evaluation: reportOf(bundle, judged), samples, unlabelled };
}

export interface RocPoint {
  readonly fpr: number;
  readonly tpr: number;
  /** The curve passes this point for thresholds in [threshold, previous threshold): score > threshold. */
  readonly threshold: number;
}

export interface RocCurve {
  readonly points: readonly RocPoint[];
  /** Area under the curve (trapezoids): the chance that a random positive scores above a random negative, ties half. */
  readonly auc: number;
  readonly positives: number;
  readonly negatives: number;
}

/**
 * ROC curve of a score for a binary truth (Fawcett, "An introduction to ROC analysis", Pattern Recognition
 * Letters 27, 2006, algorithm 2): one point per distinct score, from (0, 0) to (1, 1). Null without both a
 * positive and a negative.
 */
export function rocCurve(scores: readonly number[], positive: readonly boolean[]): RocCurve | null {
  const order = scores.map((_, i) => i).sort((a, b) => scores[b] - scores[a]);
  const positives = positive.filter(Boolean).length;
  const negatives = positive.length - positives;
  if (positives === 0 || negatives === 0) return null;
  const points: RocPoint[] = [{ fpr: 0, tpr: 0, threshold: Infinity }];
  let tp = 0;
  let fp = 0;
  let auc = 0;
  for (let k = 0; k < order.length; k++) {
    const i = order[k];
    if (positive[i]) tp++;
    else fp++;
    const next = order[k + 1];
    if (next !== undefined && scores[next] === scores[i]) continue;
    const prev = points[points.length - 1];
    const point = { fpr: fp / negatives, tpr: tp / positives, threshold: scores[i] };
    auc += ((point.fpr - prev.fpr) * (point.tpr + prev.tpr)) / 2;
    points.push(point);
  }
  return { points, auc, positives, negatives };
}

/** Rates of the rule `score > threshold`: the policy's operating point on the ROC curve. */
export function operatingPoint(scores: readonly number[], positive: readonly boolean[], threshold: number): { fpr: number; tpr: number } {
  let tp = 0;
  let fp = 0;
  let p = 0;
  let n = 0;
  scores.forEach((s, i) => {
    if (positive[i]) {
      p++;
      if (s > threshold) tp++;
    } else {
      n++;
      if (s > threshold) fp++;
    }
  });
  return { fpr: n > 0 ? fp / n : NaN, tpr: p > 0 ? tp / p : NaN };
}

/** The scored samples for the ROC curve: those with a score, positive when their label is suspicious. */
export function rocInput(data: ReportData): { scores: number[]; positive: boolean[]; unscored: number } | null {
  const policy = data.bundle.policy;
  if (!policy) return null;
  const scores: number[] = [];
  const positive: boolean[] = [];
  let unscored = 0;
  for (const s of data.samples) {
    if (s.score === null) {
      unscored++;
      continue;
    }
    scores.push(s.score);
    positive.push(isSuspiciousLabel(policy, s.label));
  }
  return { scores, positive, unscored };
}
