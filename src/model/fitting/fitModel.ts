/** The training half of the pipeline: `fitModel` fits scaler, PCA, classifier, novelty limit and policy, and signs the bundle. */
import { EnoseError } from '../../errors.js';
import type { FeatureTable } from '../../types.js';
import { signBundle, type ModelBundle, type ModelInput, type ModelLimits, type UnsignedBundle } from '../runtime/bundle.js';
import { assignFolds } from './folds.js';
import { fitKnn } from '../runtime/knn.js';
import { fitLda } from '../runtime/lda.js';
import { fitLogreg } from './logreg.js';
import { fitMlp, mlpSettings, type MlpOptions } from './mlp.js';
import { fitNovelty, trainingNoveltyFlags } from '../runtime/novelty.js';
import { type ComponentChoice } from './pca.js';
import { coreScores } from './coreScores.js';
import { isSuspiciousLabel, thresholdForTarget, resolvePolicyRule, type FalseAlarmBasis, type PolicyOptions } from '../runtime/policy.js';
import { transformTable, type FeatureTransform } from '../runtime/featureTransform.js';
import { argmax, compileCore, noveltyOfLast, predictCompiled, type CorePieces } from '../runtime/compiledModel.js';

export type ClassifierKind = 'knn' | 'lda' | 'logreg' | 'mlp';
export const CLASSIFIERS: readonly ClassifierKind[] = ['knn', 'lda', 'logreg', 'mlp'];

export interface FitOptions extends PolicyOptions {
  /** @default 'lda' */
  readonly classifier?: ClassifierKind;
  /** Neighbours for kNN. @default 5 */
  readonly k?: number;
  /** Inverse L2 regularisation strength of logistic regression (scikit-learn's C). @default 1 */
  readonly c?: number;
  /** MLP settings (hidden layers, alpha, networks, epochs; see src/model/fitting/mlp.ts). */
  readonly mlp?: MlpOptions;
  /** A fixed number of principal components; otherwise `variance` decides. */
  readonly components?: number;
  /** Smallest share of variance the kept components explain. @default 0.99 */
  readonly variance?: number;
  /** Largest false-alarm rate the threshold may allow on cross-validated training scores. @default 0.01 */
  readonly maxFalseAlarm?: number;
  /** Whether that rate is the training samples' or the expected one on unseen samples (FalseAlarmBasis). @default 'training' */
  readonly falseAlarmBasis?: FalseAlarmBasis;
  /**
   * Folds of the cross-validation that picks the threshold and reports accuracy (0: none). For an MLP, whose
   * training is too slow to repeat per fold, one stratified fold of these is held out instead: the networks
   * are trained on the others, and the threshold and the accuracy come from the held-out fold. @default 5
   */
  readonly cvFolds?: number;
  /** Seed of the fold assignment. @default 1 */
  readonly seed?: number;
  /** Group of each row (a recording): rows of one group share a fold. @default each row its own group */
  readonly cvGroups?: readonly string[];
  /** Quantile of leave-one-out nearest-sample distances that sets the novelty limit; 0 disables it. @default 0.95 */
  readonly noveltyQuantile?: number;
  /** Measure the novelty distance in the first n principal components only. @default all the model keeps */
  readonly noveltyComponents?: number;
  /** Measure the novelty distance in whitened PCA space (each component over its training sd). @default false */
  readonly noveltyWhiten?: boolean;
  /** Per-feature transform before the scaler. @default 'none' */
  readonly transform?: FeatureTransform;
  /** Quality limits for the streaming engine (frames models), fitted by the caller. */
  readonly limits?: ModelLimits | null;
}

function componentChoice(options: FitOptions): ComponentChoice {
  if (options.components !== undefined) return { components: options.components };
  return { variance: options.variance ?? 0.99 };
}

/** Fits scaler, PCA and classifier on the rows listed in `rows` (all rows when omitted). */
function fitCore(table: FeatureTable, classes: readonly string[], labelIndex: Int32Array, options: FitOptions, rows?: Int32Array): CorePieces {
  const kind = options.classifier ?? 'lda';
  // The MLP's scores in shared memory, which its worker threads read as they are (coreScores.ts).
  const { scaler, pca, scores, labels, count } = coreScores(table, labelIndex, componentChoice(options), kind === 'mlp', rows);
  const k = pca.components;
  let classifier: UnsignedBundle['classifier'];
  if (kind === 'knn') classifier = fitKnn(scores, count, k, labels, options.k ?? 5);
  else if (kind === 'lda') classifier = fitLda(scores, count, k, labels, classes.length);
  else if (kind === 'mlp') classifier = fitMlp(scores, count, k, labels, classes.length, { seed: options.seed ?? 1, ...options.mlp });
  else classifier = fitLogreg(scores, count, k, labels, classes.length, options.c !== undefined ? { c: options.c } : {});
  return { classes, scores, scaler, pca, classifier };
}

function checkTable(table: FeatureTable, options: FitOptions): void {
  if (table.count < 2) throw new EnoseError('too-few-samples', `${table.source}: at least 2 samples are needed to train, got ${table.count}`);
  for (let i = 0; i < table.x.length; i++) {
    if (!Number.isFinite(table.x[i])) {
      const row = Math.floor(i / table.width);
      throw new EnoseError('bad-data', `${table.samples[row] ?? table.source}: feature ${table.featureNames[i % table.width]} is not a finite number (${table.x[i]})`);
    }
  }
  const k = options.k ?? 5;
  if (!Number.isInteger(k) || k < 1) throw new EnoseError('bad-option', `--k must be a positive integer, got ${k}`);
  const r = options.maxFalseAlarm ?? 0.01;
  if (!(r >= 0 && r <= 1)) throw new EnoseError('bad-option', `--max-false-alarm must be in [0, 1], got ${r}`);
  const kind = options.classifier ?? 'lda';
  if (!CLASSIFIERS.includes(kind)) throw new EnoseError('bad-option', `--classifier must be one of ${CLASSIFIERS.join(', ')}, got ${kind}`);
}

/** Trains the whole pipeline on a feature table. `input` says how raw data becomes these features. */
export function fitModel(rawTable: FeatureTable, input: ModelInput, options: FitOptions = {}): ModelBundle {
  checkTable(rawTable, options);
  const transform = options.transform ?? 'none';
  const table = transformTable(rawTable, transform);
  const classes = [...new Set(table.labels)].sort(compareLabels);
  const labelIndex = Int32Array.from(table.labels, (l) => classes.indexOf(l));
  const rule = resolvePolicyRule(classes, options);
  // Stratified folds; a class with fewer samples than folds is simply absent from some test folds.
  const folds = Math.min(options.cvFolds ?? 5, table.count);
  // An MLP holds one fold out (see FitOptions.cvFolds): trained on the other rows, calibrated on that fold.
  const holdout = (options.classifier ?? 'lda') === 'mlp' && folds >= 2;
  const foldOf = holdout ? assignFolds(labelIndex, folds, options.seed ?? 1, options.cvGroups) : null;
  const fitRows = foldOf ? Int32Array.from(Array.from(foldOf.keys()).filter((i) => foldOf[i] !== 0)) : undefined;
  const core = fitCore(table, classes, labelIndex, options, fitRows);
  const fitted = fitRows ? Array.from(fitRows, (i) => table.labels[i]) : table.labels;
  const perClass: Record<string, number> = {};
  for (const l of fitted) perClass[l] = (perClass[l] ?? 0) + 1;

  const noveltyQuantile = options.noveltyQuantile ?? 0.95;
  const noveltyOptions = {
    quantile: noveltyQuantile,
    seed: options.seed ?? 1,
    ...(options.noveltyComponents !== undefined && { components: options.noveltyComponents }),
    ...(options.noveltyWhiten === true && { whiten: true }),
  };
  const fitCount = fitRows ? fitRows.length : table.count;
  const novelty = noveltyQuantile > 0 ? fitNovelty(core.scores, fitCount, core.pca.components, noveltyOptions) : null;

  let cvAccuracy: number | null = null;
  let outOfFold: Float64Array | null = null;
  /** The rows whose out-of-fold probabilities the policy is calibrated on. */
  let scored: Int32Array = Int32Array.from({ length: table.count }, (_, i) => i);
  // Training samples the novelty limit flags (leave-one-out): suspicious whatever the classifier says, so the
  // policy counts them among its false alarms (a clear one) or detections (a suspicious one).
  let novel: Uint8Array | null = null;
  if (foldOf) {
    // The held-out fold through the model as the engine runs it: probabilities, and the novelty limit (its rows
    // are not among the limit's points, so they are flagged as the engine would flag them).
    scored = Int32Array.from(Array.from(foldOf.keys()).filter((i) => foldOf[i] === 0));
    outOfFold = new Float64Array(table.count * classes.length);
    if (novelty) novel = new Uint8Array(table.count);
    const compiled = compileCore(core, table.width, novelty as ModelBundle['novelty']);
    const probs = new Float64Array(classes.length);
    for (const i of scored) {
      predictCompiled(compiled, table.x, i * table.width, probs);
      outOfFold.set(probs, i * classes.length);
      if (novel && noveltyOfLast(compiled) > 1) novel[i] = 1;
    }
  } else {
    if (folds >= 2) outOfFold = crossValidate(table, classes, labelIndex, options, folds);
    if (novelty) novel = trainingNoveltyFlags(core.scores, table.count, core.pca.components, novelty, noveltyOptions);
  }
  if (outOfFold) {
    let correct = 0;
    for (const i of scored) if (argmax(outOfFold, i * classes.length, classes.length) === labelIndex[i]) correct++;
    cvAccuracy = correct / scored.length;
  }

  let policy: UnsignedBundle['policy'] = null;
  if (rule) {
    const maxFalseAlarm = options.maxFalseAlarm ?? 0.01;
    const mask = classes.map((c) => isSuspiciousLabel(rule, c));
    if (outOfFold) {
      const scores = new Float64Array(scored.length);
      const suspicious = new Array<boolean>(scored.length);
      const novelScored = novel ? new Uint8Array(scored.length) : null;
      scored.forEach((i, r) => {
        let s = 0;
        for (let c = 0; c < classes.length; c++) if (mask[c]) s += outOfFold[i * classes.length + c];
        scores[r] = s;
        suspicious[r] = mask[labelIndex[i]];
        if (novelScored) novelScored[r] = novel![i];
      });
      const choice = thresholdForTarget(scores, suspicious, novelScored, maxFalseAlarm, undefined, options.falseAlarmBasis);
      policy = {
        ...rule,
        threshold: choice.threshold,
        maxFalseAlarm,
        calibration: {
          folds,
          clearSamples: choice.clearSamples,
          suspiciousSamples: choice.suspiciousSamples,
          falseAlarmRate: choice.falseAlarmRate,
          detectionRate: choice.detectionRate,
          note:
            (foldOf
              ? `threshold on P(suspicious) of one held-out fold of ${folds} (${options.cvGroups ? 'grouped' : 'stratified'}; the MLP trained on the others)`
              : `threshold on out-of-fold P(suspicious) of a ${folds}-fold ${options.cvGroups ? 'grouped' : 'stratified'} cross-validation`) +
            (novel === null
              ? ''
              : choice.joint
                ? ', the samples the novelty limit flags (leave-one-out) counted as alarms'
                : `; the novelty limit alone flags ${choice.clearNovel} of ${choice.clearSamples} clear samples (leave-one-out), more than the target allows: threshold set for the classifier alone, rates for both`),
        },
      };
    } else {
      const note = 'too few samples per class to cross-validate: threshold left at 0.5, false-alarm target not checked';
      policy = { ...rule, threshold: 0.5, maxFalseAlarm, calibration: { folds: 0, clearSamples: 0, suspiciousSamples: 0, falseAlarmRate: null, detectionRate: null, note } };
    }
  }
  const unsigned: UnsignedBundle = {
    kind: 'enose-model',
    version: 1,
    input,
    classes: core.classes,
    transform,
    scaler: core.scaler,
    pca: core.pca,
    classifier: core.classifier,
    policy,
    novelty,
    limits: options.limits ?? null,
    training: {
      count: fitCount,
      perClass,
      sources: [...new Set(table.groups)],
      options: trainingOptions(options),
      cvAccuracy,
      cvFolds: folds >= 2 ? folds : 0,
    },
  } as UnsignedBundle;
  return signBundle(unsigned);
}

function trainingOptions(options: FitOptions): Record<string, unknown> {
  const out: Record<string, unknown> = {
    classifier: options.classifier ?? 'lda',
    maxFalseAlarm: options.maxFalseAlarm ?? 0.01,
    cvFolds: options.cvFolds ?? 5,
    seed: options.seed ?? 1,
  };
  if ((options.classifier ?? 'lda') === 'knn') out['k'] = options.k ?? 5;
  if (options.classifier === 'logreg') out['c'] = options.c ?? 1;
  if (options.classifier === 'mlp') {
    const { seed: _seed, ...settings } = mlpSettings(options.mlp ?? {});
    Object.assign(out, { mlp: { ...settings, hidden: [...settings.hidden] }, calibration: 'one held-out fold' });
  }
  if (options.components !== undefined) out['components'] = options.components;
  else out['variance'] = options.variance ?? 0.99;
  out['noveltyQuantile'] = options.noveltyQuantile ?? 0.95;
  if (options.noveltyComponents !== undefined) out['noveltyComponents'] = options.noveltyComponents;
  if (options.noveltyWhiten === true) out['noveltyWhiten'] = true;
  out['transform'] = options.transform ?? 'none';
  if (options.falseAlarmBasis === 'unseen') out['falseAlarmBasis'] = 'unseen';
  if (options.suspicious) out['suspicious'] = [...options.suspicious];
  if (options.clear) out['clear'] = [...options.clear];
  return out;
}

/** Labels sorted numerically when all are numbers (UCI classes 1..6), else by code point. */
function compareLabels(a: string, b: string): number {
  const na = Number(a);
  const nb = Number(b);
  if (a.trim() !== '' && b.trim() !== '' && Number.isFinite(na) && Number.isFinite(nb) && na !== nb) return na - nb;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Out-of-fold class probabilities (count x classes, row-major) of a stratified k-fold cross-validation. */
function crossValidate(table: FeatureTable, classes: readonly string[], labelIndex: Int32Array, options: FitOptions, folds: number): Float64Array {
  const fold = assignFolds(labelIndex, folds, options.seed ?? 1, options.cvGroups);
  const out = new Float64Array(table.count * classes.length);
  for (let f = 0; f < folds; f++) {
    const train: number[] = [];
    const test: number[] = [];
    for (let i = 0; i < table.count; i++) (fold[i] === f ? test : train).push(i);
    const core = fitCore(table, classes, labelIndex, options, Int32Array.from(train));
    const compiled = compileCore(core, table.width);
    const probs = new Float64Array(classes.length);
    for (const i of test) {
      predictCompiled(compiled, table.x, i * table.width, probs);
      out.set(probs, i * classes.length);
    }
  }
  return out;
}
