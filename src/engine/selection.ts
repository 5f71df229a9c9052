/**
 * `enose train` choosing by itself: feature families x transforms x classifiers compared by cross-validation
 * grouped by recording (every cycle of a recording in one fold; each cycle its own group when there are fewer
 * recordings than folds), the best kept. With a verdict policy the score is the detection at the false-alarm
 * target (accuracy breaks ties); without one, the accuracy. Each family is extracted once through the engine's
 * own feature path (`extractTrainingSet`), so the chosen model sees live what it was chosen on.
 */
import { EnoseError } from '../errors.js';
import { groupedFolds } from '../model/folds.js';
import { compileModel, fitModel, predictCompiled, type ClassifierKind, type FeatureTransform, type FitOptions } from '../model/pipeline.js';
import { isSuspiciousLabel, resolvePolicyRule, thresholdForTarget, type PolicyOptions } from '../model/policy.js';
import type { ExtractorConfig } from '../signal/features.js';
import type { FeatureTable } from '../types.js';
import { extractTrainingSet, withRigLimits, type TrainingRecording, type TrainingSet, type TrainingSetOptions } from './training.js';

/** The feature families compared, by name (`enose train --features <name>` forces one). */
export const FEATURE_FAMILIES: Readonly<Record<string, Partial<ExtractorConfig>>> = {
  /** Responses against the baseline: ss, peak, area, slope, EMA transients (the engine's default since 0.1). */
  phase: {},
  /** Absolute levels and shape over the whole sample (src/signal/wholeSample.ts): rigs without a baseline. */
  whole: { summaryFeatures: false, wholeSample: true },
  'phase+whole': { wholeSample: true },
  /** The shipped default model's features: log response over six 10 s windows of the exposure. */
  windows: { response: 'log', windowS: 10, windowCount: 6, summaryFeatures: false },
};

/** A feature family to compare: its name and its extractor settings. */
export interface FamilyChoice {
  readonly name: string;
  readonly extractor: Partial<ExtractorConfig>;
}

export interface SelectionOptions extends PolicyOptions {
  readonly families: readonly FamilyChoice[];
  readonly transforms: readonly FeatureTransform[];
  readonly classifiers: readonly ClassifierKind[];
  /** @default 5 */
  readonly folds?: number;
  /** @default 1 */
  readonly seed?: number;
  /** @default 0.01 */
  readonly maxFalseAlarm?: number;
  /** Extractor settings shared by every family (baselineS). */
  readonly extractor?: Partial<ExtractorConfig>;
  readonly training: Omit<TrainingSetOptions, 'extractor'>;
  /** Fit settings every candidate shares (k, c, components, variance). */
  readonly fit?: Pick<FitOptions, 'k' | 'c' | 'components' | 'variance'>;
  /** Called as the work goes (a progress line). */
  readonly onProgress?: (done: number, total: number, what: string) => void;
}

export interface SelectionRow {
  readonly family: string;
  readonly transform: FeatureTransform;
  readonly classifier: ClassifierKind;
  /** Cycles the family kept (skipped ones are not scored). */
  readonly samples: number;
  readonly accuracy: number | null;
  /** With a policy: detection and false alarms at the threshold for the target, out of fold. */
  readonly detectionRate: number | null;
  readonly falseAlarmRate: number | null;
  /** Why the candidate could not be scored. */
  readonly error?: string;
}

export interface Selection {
  readonly rows: readonly SelectionRow[];
  readonly best: SelectionRow;
  readonly set: TrainingSet;
  readonly grouping: 'recording' | 'sample';
  readonly folds: number;
}

/** Compares the candidates and returns the table, the best row and its family's training set. */
export function selectModel(recordings: readonly TrainingRecording[], options: SelectionOptions): Selection {
  const folds = options.folds ?? 5;
  const seed = options.seed ?? 1;
  const training = withRigLimits(recordings, options.training);
  const total = options.families.length * options.transforms.length * options.classifiers.length;
  let done = 0;
  const rows: SelectionRow[] = [];
  const sets = new Map<string, TrainingSet>();
  let grouping: Selection['grouping'] = 'recording';
  for (const { name: family, extractor } of options.families) {
    options.onProgress?.(done, total, `extracting the ${family} features`);
    let set: TrainingSet;
    try {
      set = extractTrainingSet(recordings, { ...training, extractor: { ...options.extractor, ...extractor } });
    } catch (error) {
      if (!(error instanceof EnoseError)) throw error;
      for (const transform of options.transforms) {
        for (const classifier of options.classifiers) {
          rows.push({ family, transform, classifier, samples: 0, accuracy: null, detectionRate: null, falseAlarmRate: null, error: error.message });
          done++;
        }
      }
      continue;
    }
    sets.set(family, set);
    const table = set.table;
    const classes = [...new Set(table.labels)].sort();
    const labelIndex = Int32Array.from(table.labels, (l) => classes.indexOf(l));
    const recordingsSeen = new Set(table.groups).size;
    grouping = recordingsSeen >= folds ? 'recording' : 'sample';
    const foldOf = groupedFolds(grouping === 'recording' ? table.groups : table.samples, labelIndex, folds, seed);
    for (const transform of options.transforms) {
      for (const classifier of options.classifiers) {
        options.onProgress?.(done, total, `${family}, ${transform}, ${classifier}`);
        rows.push(scoreCandidate(table, set, foldOf, folds, { family, transform, classifier }, options));
        done++;
      }
    }
  }
  options.onProgress?.(done, total, 'done');
  const scored = rows.filter((r) => r.accuracy !== null);
  if (scored.length === 0) throw new EnoseError('empty-data', `no candidate could be trained: ${rows[0]?.error ?? 'no candidates'}`);
  // Highest score; ties go to the earlier (simpler) candidate.
  const key = (r: SelectionRow) => [r.detectionRate ?? r.accuracy!, r.accuracy!];
  let best = scored[0]!;
  for (const r of scored) {
    const [a, b] = key(r);
    const [c, d] = key(best);
    if (a! > c! + 1e-12 || (Math.abs(a! - c!) <= 1e-12 && b! > d! + 1e-12)) best = r;
  }
  return { rows, best, set: sets.get(best.family)!, grouping, folds };
}

function scoreCandidate(
  table: FeatureTable,
  set: TrainingSet,
  foldOf: Int32Array,
  folds: number,
  which: { family: string; transform: FeatureTransform; classifier: ClassifierKind },
  options: SelectionOptions,
): SelectionRow {
  const base = { ...which, samples: table.count };
  const classes = [...new Set(table.labels)].sort();
  const probs = new Float64Array(table.count * classes.length);
  try {
    for (let f = 0; f < folds; f++) {
      const train: number[] = [];
      const test: number[] = [];
      for (let i = 0; i < table.count; i++) (foldOf[i] === f ? test : train).push(i);
      if (test.length === 0) continue;
      const model = fitModel(subTable(table, train), set.input, {
        classifier: which.classifier,
        transform: which.transform,
        cvFolds: 0,
        noveltyQuantile: 0,
        seed: options.seed ?? 1,
        ...options.fit,
      });
      const compiled = compileModel(model);
      const out = new Float64Array(model.classes.length);
      // A class absent from this fold's training rows has probability 0 for its test rows.
      const at = model.classes.map((c) => classes.indexOf(c));
      for (const i of test) {
        predictCompiled(compiled, table.x, i * table.width, out);
        for (let c = 0; c < at.length; c++) probs[i * classes.length + at[c]!] = out[c]!;
      }
    }
  } catch (error) {
    if (!(error instanceof EnoseError)) throw error;
    return { ...base, accuracy: null, detectionRate: null, falseAlarmRate: null, error: error.message };
  }
  let correct = 0;
  for (let i = 0; i < table.count; i++) {
    let best = 0;
    for (let c = 1; c < classes.length; c++) if (probs[i * classes.length + c]! > probs[i * classes.length + best]!) best = c;
    if (classes[best] === table.labels[i]) correct++;
  }
  const accuracy = correct / table.count;
  const rule = resolvePolicyRule(classes, options);
  if (!rule) return { ...base, accuracy, detectionRate: null, falseAlarmRate: null };
  const mask = classes.map((c) => isSuspiciousLabel(rule, c));
  const scores = new Float64Array(table.count);
  const suspicious = table.labels.map((l) => mask[classes.indexOf(l)]!);
  for (let i = 0; i < table.count; i++) for (let c = 0; c < classes.length; c++) if (mask[c]) scores[i]! += probs[i * classes.length + c]!;
  const choice = thresholdForTarget(scores, suspicious, null, options.maxFalseAlarm ?? 0.01);
  return { ...base, accuracy, detectionRate: choice.detectionRate, falseAlarmRate: choice.falseAlarmRate };
}

function subTable(table: FeatureTable, rows: readonly number[]): FeatureTable {
  const w = table.width;
  const x = new Float64Array(rows.length * w);
  rows.forEach((r, i) => x.set(table.x.subarray(r * w, (r + 1) * w), i * w));
  return {
    ...table,
    count: rows.length,
    x,
    labels: rows.map((r) => table.labels[r]!),
    samples: rows.map((r) => table.samples[r]!),
    groups: rows.map((r) => table.groups[r]!),
  };
}
