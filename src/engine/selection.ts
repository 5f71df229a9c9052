/**
 * `enose train` choosing by itself: feature families x transforms x classifiers compared by cross-validation
 * grouped by recording (every cycle of a recording in one fold; each cycle its own group when there are fewer
 * recordings than folds), the best kept (the simplest within one standard error of the top score). Each candidate is scored as the final model will decide: with a
 * verdict policy, every held-out fold is judged at the threshold the other folds give for the false-alarm
 * target, the unknown-odour limit's alarms counted (`heldOutAlarmRates`), and the score is the detection there
 * (accuracy breaks ties; the target bounds the expected rate on unseen containers, FalseAlarmBasis 'unseen');
 * without a policy, the accuracy. Each family is extracted once through the engine's
 * own feature path (`extractTrainingSet`), so the chosen model sees live what it was chosen on.
 */
import { EnoseError } from '../errors.js';
import { groupedFolds } from '../model/fitting/folds.js';
import { compileModel, noveltyOfLast, predictCompiled, type FeatureTransform } from '../model/runtime/pipeline.js';
import { fitModel, type ClassifierKind, type FitOptions } from '../model/fitting/fitModel.js';
import { heldOutAlarmRates, isSuspiciousLabel, resolvePolicyRule, type PolicyOptions } from '../model/runtime/policy.js';
import type { ExtractorConfig } from '../signal/features.js';
import type { FeatureTable } from '../types.js';
import { extractTrainingSet, withRigLimits, type TrainingRecording, type TrainingSet, type TrainingSetOptions } from './training.js';

/** Fit settings a family brings with it (the user's options override them). */
export type FamilyFit = Pick<FitOptions, 'c' | 'variance' | 'noveltyComponents'>;

/** A feature family: how the extractor reads a cycle, and the fit settings that suit those features. */
export interface FeatureFamily {
  readonly extractor: Partial<ExtractorConfig>;
  readonly fit?: FamilyFit;
  /** Compared only when the recordings have a recovery (R) phase. */
  readonly needsRecovery?: boolean;
}

/**
 * The shipped models' fit (src/cli/demo.ts LINEAR_MODEL_RECIPE): every principal component (the drug markers
 * live in low-variance directions that PCA at 99 % drops), weak regularisation, the unknown-odour distance in
 * the 20 leading components.
 */
const WINDOWS_FIT: FamilyFit = { variance: 1, c: 100, noveltyComponents: 20 };

/** The feature families compared, by name (`enose train --features <name>` forces one). */
export const FEATURE_FAMILIES: Readonly<Record<string, FeatureFamily>> = {
  /** Responses against the baseline: ss, peak, area, slope, EMA transients (the engine's default since 0.1). */
  phase: { extractor: {} },
  /** Absolute levels and shape over the whole sample (src/signal/wholeSample.ts): rigs without a baseline. */
  whole: { extractor: { summaryFeatures: false, wholeSample: true } },
  'phase+whole': { extractor: { wholeSample: true } },
  /** The shipped exposure model's features: log response over six 10 s windows of the exposure. */
  windows: { extractor: { response: 'log', windowS: 10, windowCount: 6, summaryFeatures: false }, fit: WINDOWS_FIT },
  /** The shipped default model's: the exposure windows and six 10 s windows of the recovery. */
  'windows+recovery': {
    extractor: { response: 'log', windowS: 10, windowCount: 6, summaryFeatures: false, recoveryWindowS: 10, recoveryWindowCount: 6 },
    fit: WINDOWS_FIT,
    needsRecovery: true,
  },
};

/** The classifiers `enose train` compares when none is given. */
export const DEFAULT_CLASSIFIERS: readonly ClassifierKind[] = ['lda', 'logreg', 'knn'];

/**
 * The unknown-odour quantile of a model with a verdict policy when the user gives none: the limit may spend
 * half the false-alarm budget (0.995 at 1 %, the shipped models' value); the 0.95 default alone would flag
 * about 5 % of clear containers.
 */
export function policyNoveltyQuantile(maxFalseAlarm: number): number {
  return 1 - maxFalseAlarm / 2;
}

/** A feature family to compare: its name, its extractor settings and the fit settings that suit it. */
export interface FamilyChoice extends FeatureFamily {
  readonly name: string;
}

/** Fit settings the user gave: they override the families' own. */
export type UserFit = Pick<FitOptions, 'k' | 'c' | 'components' | 'variance' | 'noveltyQuantile' | 'noveltyComponents' | 'noveltyWhiten' | 'falseAlarmBasis'>;

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
  /** Fit settings every candidate shares (k, c, components, variance, the novelty limit's). */
  readonly fit?: UserFit;
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
  /**
   * With a policy: detection and false alarms out of fold, each fold at the threshold the other folds chose
   * for the target, the unknown-odour limit's alarms included.
   */
  readonly detectionRate: number | null;
  readonly falseAlarmRate: number | null;
  /** Binomial standard error of the score (the detection with a policy, else the accuracy); 0 unscored. */
  readonly standardError: number;
  /** Why the candidate could not be scored. */
  readonly error?: string;
}

export interface Selection {
  readonly rows: readonly SelectionRow[];
  readonly best: SelectionRow;
  readonly set: TrainingSet;
  readonly grouping: 'recording' | 'sample';
  readonly folds: number;
  /** The group of each row of `set.table` the folds kept whole: the final model's cross-validation uses them. */
  readonly cvGroups: readonly string[];
  /** The fit settings the best candidate was scored with (its family's, the user's, the novelty quantile). */
  readonly fit: UserFit;
}

/** Rows grouped by recording when there are at least `folds` recordings, else each cycle its own group. */
export function cvGroupsOf(table: FeatureTable, folds: number): { grouping: Selection['grouping']; groups: readonly string[] } {
  if (new Set(table.groups).size >= folds) return { grouping: 'recording', groups: table.groups };
  return { grouping: 'sample', groups: table.samples.map((s, i) => `${table.groups[i]}\u0000${s}`) };
}

/** True when some frame of the first recording within its first `limit` events is in the recovery (R) phase. */
function hasRecovery(recordings: readonly TrainingRecording[], limit = 50_000): boolean {
  let seen = 0;
  for (const e of recordings[0]?.events ?? []) {
    if (e.type === 'frame' && e.phase === 'R') return true;
    if (++seen >= limit) break;
  }
  return false;
}

/** Compares the candidates and returns the table, the best row and its family's training set. */
export function selectModel(recordings: readonly TrainingRecording[], options: SelectionOptions): Selection {
  const folds = options.folds ?? 5;
  const seed = options.seed ?? 1;
  const training = withRigLimits(recordings, options.training);
  const families = options.families.filter((f) => !f.needsRecovery || options.families.length === 1 || hasRecovery(recordings));
  const total = families.length * options.transforms.length * options.classifiers.length;
  let done = 0;
  const rows: SelectionRow[] = [];
  const sets = new Map<string, { set: TrainingSet; groups: readonly string[]; fit: UserFit; grouping: Selection['grouping'] }>();
  for (const { name: family, extractor, fit: familyFit } of families) {
    options.onProgress?.(done, total, `extracting the ${family} features`);
    let set: TrainingSet;
    try {
      set = extractTrainingSet(recordings, { ...training, extractor: { ...options.extractor, ...extractor } });
    } catch (error) {
      if (!(error instanceof EnoseError)) throw error;
      for (const transform of options.transforms) {
        for (const classifier of options.classifiers) {
          rows.push({ family, transform, classifier, samples: 0, accuracy: null, detectionRate: null, falseAlarmRate: null, standardError: 0, error: error.message });
          done++;
        }
      }
      continue;
    }
    const table = set.table;
    const classes = [...new Set(table.labels)].sort();
    const labelIndex = Int32Array.from(table.labels, (l) => classes.indexOf(l));
    const { grouping, groups } = cvGroupsOf(table, folds);
    const foldOf = groupedFolds(groups, labelIndex, folds, seed);
    const rule = resolvePolicyRule(classes, options);
    const fit: UserFit = {
      ...familyFit,
      ...options.fit,
      noveltyQuantile: options.fit?.noveltyQuantile ?? (rule ? policyNoveltyQuantile(options.maxFalseAlarm ?? 0.01) : 0.95),
      // The target bounds the false alarms on containers the model has not seen (a few hundred clear training
      // samples would otherwise give about half as many again on new ones).
      ...(rule && { falseAlarmBasis: 'unseen' as const }),
    };
    sets.set(family, { set, groups, fit, grouping });
    for (const transform of options.transforms) {
      for (const classifier of options.classifiers) {
        options.onProgress?.(done, total, `${family}, ${transform}, ${classifier}`);
        rows.push(scoreCandidate(set, foldOf, folds, fit, { family, transform, classifier }, options));
        done++;
      }
    }
  }
  options.onProgress?.(done, total, 'done');
  const scored = rows.filter((r) => r.accuracy !== null);
  if (scored.length === 0) throw new EnoseError('empty-data', `no candidate could be trained: ${rows[0]?.error ?? 'no candidates'}`);
  // The one-standard-error rule (Breiman et al., Classification and Regression Trees, 1984, 3.4.3): the first
  // (simplest) candidate whose score is within one standard error of the best's, so that a difference of a few
  // samples between near-equal candidates does not decide.
  const score = (r: SelectionRow) => r.detectionRate ?? r.accuracy!;
  let top = scored[0];
  for (const r of scored) if (score(r) > score(top) + 1e-12 || (Math.abs(score(r) - score(top)) <= 1e-12 && r.accuracy! > top.accuracy! + 1e-12)) top = r;
  const best = scored.find((r) => score(r) >= score(top) - top.standardError - 1e-12)!;
  const chosen = sets.get(best.family)!;
  return { rows, best, set: chosen.set, grouping: chosen.grouping, folds, cvGroups: chosen.groups, fit: chosen.fit };
}

function scoreCandidate(
  set: TrainingSet,
  foldOf: Int32Array,
  folds: number,
  fit: UserFit,
  which: { family: string; transform: FeatureTransform; classifier: ClassifierKind },
  options: SelectionOptions,
): SelectionRow {
  const table = set.table;
  const base = { ...which, samples: table.count };
  const classes = [...new Set(table.labels)].sort();
  const rule = resolvePolicyRule(classes, options);
  const probs = new Float64Array(table.count * classes.length);
  // Whether the fold's model's unknown-odour limit flags the held-out sample: an alarm whatever its score.
  const novel = rule ? new Uint8Array(table.count) : null;
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
        seed: options.seed ?? 1,
        ...fit,
        noveltyQuantile: rule ? fit.noveltyQuantile! : 0,
      });
      const compiled = compileModel(model);
      const out = new Float64Array(model.classes.length);
      // A class absent from this fold's training rows has probability 0 for its test rows.
      const at = model.classes.map((c) => classes.indexOf(c));
      for (const i of test) {
        predictCompiled(compiled, table.x, i * table.width, out);
        for (let c = 0; c < at.length; c++) probs[i * classes.length + at[c]] = out[c];
        if (novel && noveltyOfLast(compiled) > 1) novel[i] = 1;
      }
    }
  } catch (error) {
    if (!(error instanceof EnoseError)) throw error;
    return { ...base, accuracy: null, detectionRate: null, falseAlarmRate: null, standardError: 0, error: error.message };
  }
  let correct = 0;
  for (let i = 0; i < table.count; i++) {
    let best = 0;
    for (let c = 1; c < classes.length; c++) if (probs[i * classes.length + c] > probs[i * classes.length + best]) best = c;
    if (classes[best] === table.labels[i]) correct++;
  }
  const accuracy = correct / table.count;
  const se = (p: number, n: number) => (n > 0 ? Math.sqrt((p * (1 - p)) / n) : 0);
  if (!rule) return { ...base, accuracy, detectionRate: null, falseAlarmRate: null, standardError: se(accuracy, table.count) };
  const mask = classes.map((c) => isSuspiciousLabel(rule, c));
  const scores = new Float64Array(table.count);
  const suspicious = table.labels.map((l) => mask[classes.indexOf(l)]);
  for (let i = 0; i < table.count; i++) for (let c = 0; c < classes.length; c++) if (mask[c]) scores[i] += probs[i * classes.length + c];
  const rates = heldOutAlarmRates(scores, suspicious, novel, foldOf, folds, options.maxFalseAlarm ?? 0.01, fit.falseAlarmBasis);
  return { ...base, accuracy, ...rates, standardError: se(rates.detectionRate ?? 0, suspicious.filter(Boolean).length) };
}
function subTable(table: FeatureTable, rows: readonly number[]): FeatureTable {
  const w = table.width;
  const x = new Float64Array(rows.length * w);
  rows.forEach((r, i) => x.set(table.x.subarray(r * w, (r + 1) * w), i * w));
  return {
    ...table,
    count: rows.length,
    x,
    labels: rows.map((r) => table.labels[r]),
    samples: rows.map((r) => table.samples[r]),
    groups: rows.map((r) => table.groups[r]),
  };
}
