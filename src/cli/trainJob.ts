/**
 * The work of `enose train` after its options are checked: read the data (within its bounds), extract or choose,
 * fit. A job is plain data (structured-cloneable), so it runs on a worker thread (trainRunner.ts) that the command
 * can stop at once on SIGINT or SIGTERM; the model file is written by the command, after the job, atomically.
 */
import { withModelRig, type ModelBundle } from '../model/runtime/bundle.js';
import type { ModelRig } from '../model/runtime/rigFingerprint.js';
import { EnoseError } from '../errors.js';
import { fitViewsModel, type FeatureView } from '../model/drift/views.js';
import { type FeatureTransform } from '../model/runtime/pipeline.js';
import { fitModel, type ClassifierKind, type FitOptions } from '../model/fitting/fitModel.js';
import { loadData } from './data.js';
import type { Delimiter } from '../io/datasets/delimited.js';
import type { DataLimits } from '../io/datasets/limits.js';
import { extractTrainingSet, type GateReason, type TrainingSet } from '../engine/training.js';
import { cvGroupsOf, DEFAULT_CLASSIFIERS, FEATURE_FAMILIES, selectModel, type Selection, type SelectionRow, type UserFit } from '../engine/selection.js';
import { checkSuspiciousClass, cycleLabels } from '../engine/trainingClasses.js';
import { DEFAULT_EXTRACTOR, type ExtractorConfig } from '../signal/features.js';
import { sampleFeatureNames } from '../signal/extractor.js';
import { TRANSFORMS } from '../model/runtime/pipeline.js';
import { trainingProblems } from './trainReport.js';

/** Everything `enose train` decided from its options (see train.ts for each). */
export interface TrainJob {
  readonly paths: readonly string[];
  readonly baselineS: number;
  readonly delimiter: Delimiter;
  readonly limits: DataLimits;
  readonly classifier: ClassifierKind;
  readonly transform: FeatureTransform;
  /** Whether --classifier / --transform were given (the selection then compares only that one). */
  readonly classifierGiven: boolean;
  readonly transformGiven: boolean;
  readonly family?: string;
  /** Feature options given (they fix the features). */
  readonly explicit: Partial<ExtractorConfig>;
  readonly featuresFixed: boolean;
  readonly training: { readonly ignoreGates: readonly GateReason[]; readonly learnGates: boolean };
  readonly views?: readonly FeatureView[];
  readonly cvFolds: number;
  readonly seed?: number;
  readonly maxFalseAlarm?: number;
  readonly suspicious?: readonly string[];
  readonly clear?: readonly string[];
  readonly allowNoSuspiciousClass: boolean;
  readonly userFit: UserFit;
  readonly components?: number;
  readonly minClassSamples: number;
  readonly strict: boolean;
  readonly noveltyWhiten: boolean;
  readonly mlp?: { readonly hidden?: readonly number[]; readonly alpha?: number; readonly networks?: number; readonly maxEpochs?: number; readonly threads: number };
  /** Progress lines (each candidate, each MLP epoch, each stage); `tty`: rewritten in place. */
  readonly progress: 'off' | 'lines' | 'tty';
}

/** What the command prints and writes: the model, and the facts of the summary. */
export interface TrainOutcome {
  readonly bundle: ModelBundle;
  readonly width: number;
  readonly count: number;
  readonly selection: Pick<Selection, 'rows' | 'best' | 'folds' | 'grouping'> | null;
  readonly skipped: number | null;
  readonly problems: readonly string[];
  readonly notes: readonly string[];
  /** Milliseconds the final fit took. */
  readonly fitMs: number;
}

/**
 * The features a cycle gives with `extractor` from `channels`: past --max-columns, the reason to refuse (the PCA
 * of that width costs width^2 doubles and width^3 steps, as a feature file of that width would), else null.
 */
function featureWidthReason(channels: readonly string[], extractor: Partial<ExtractorConfig>, what: string, limits: DataLimits): string | null {
  const width = sampleFeatureNames(channels, { ...DEFAULT_EXTRACTOR, ...extractor }).length;
  if (width <= limits.maxColumns) return null;
  return `${width.toLocaleString('en-US')} features a cycle (${what}, ${channels.length} channels), more than the ${limits.maxColumns.toLocaleString('en-US')} columns a training table may have (--max-columns raises the bound)`;
}

/** Runs the job; `say` takes stderr text (warnings, progress). Throws EnoseError for bad data or options. */
export async function runTrainJob(job: TrainJob, say: (text: string) => void): Promise<TrainOutcome> {
  const tty = job.progress === 'tty';
  const stage = (text: string) => {
    if (job.progress !== 'off') say(`enose train: ${text}\n`);
  };
  stage(`reading ${job.paths.join(', ')}`);
  const data = await loadData(job.paths, job.baselineS, job.delimiter, { limits: job.limits, requireLabels: true });
  for (const w of data.warnings) say(`enose train: warning: ${w}\n`);
  const policyOptions = { ...(job.suspicious && { suspicious: job.suspicious }), ...(job.clear && { clear: job.clear }) };
  const where = job.paths.join(', ');
  checkSuspiciousClass(data.kind === 'features' ? data.table.labels : cycleLabels(data.recordings), policyOptions, job.allowNoSuspiciousClass, where);
  let classifier = job.classifier;
  let transform = job.transform;
  let table;
  let input;
  let limits = null;
  let modelRig: ModelRig | null = null;
  let selection: Selection | null = null;
  let frameSet: TrainingSet | null = null;
  let chosenFit: UserFit = job.userFit;
  if (data.kind === 'features') {
    table = data.table;
    input = { kind: 'features' as const, featureNames: [...table.featureNames] };
  } else {
    const { family, explicit } = job;
    const training = { ignoreGates: job.training.ignoreGates, learnGates: job.training.learnGates };
    // Features and classifier given: the user has chosen (transform none unless given), as before the selection.
    const choose = !(job.featuresFixed && job.classifierGiven) && !job.views;
    let set: TrainingSet;
    if (choose) {
      const started = performance.now();
      const candidates = job.featuresFixed
        ? [{ ...(family !== undefined && FEATURE_FAMILIES[family]), name: family ?? 'given', extractor: { ...(family !== undefined && FEATURE_FAMILIES[family].extractor), ...explicit } }]
        : Object.entries(FEATURE_FAMILIES).map(([name, f]) => ({ ...f, name }));
      const tooWide = candidates.map((f) => featureWidthReason(data.channels, { baselineS: job.baselineS, ...f.extractor }, f.name, job.limits));
      const families = candidates.filter((_, i) => tooWide[i] === null);
      if (families.length === 0) throw new EnoseError('bad-data', `${where}: ${tooWide[0]}`);
      tooWide.forEach((why, i) => why !== null && say(`enose train: warning: feature family ${candidates[i].name} left out: ${why}\n`));
      selection = selectModel(data.recordings, {
        families,
        transforms: job.transformGiven ? [transform] : TRANSFORMS,
        classifiers: job.classifierGiven ? [classifier] : DEFAULT_CLASSIFIERS,
        folds: job.cvFolds >= 2 ? job.cvFolds : 5,
        ...(job.seed !== undefined && { seed: job.seed }),
        ...(job.maxFalseAlarm !== undefined && { maxFalseAlarm: job.maxFalseAlarm }),
        ...policyOptions,
        extractor: { baselineS: job.baselineS },
        training,
        fit: job.userFit,
        onProgress: (done, total, what) => {
          const secs = ((performance.now() - started) / 1000).toFixed(0);
          say(`${tty ? '\r\x1b[2K' : ''}enose train: choosing a model: ${done}/${total} candidates scored, ${secs} s (${what})${tty ? '' : '\n'}`);
        },
      });
      if (tty) say('\r\x1b[2K');
      set = selection.set;
      chosenFit = selection.fit;
      classifier = selection.best.classifier;
      transform = selection.best.transform;
    } else {
      stage('extracting the features');
      const extractor = { baselineS: job.baselineS, ...(family !== undefined && FEATURE_FAMILIES[family].extractor), ...explicit };
      const tooWide = featureWidthReason(data.channels, extractor, family ?? 'the features given', job.limits);
      if (tooWide !== null) throw new EnoseError('bad-data', `${where}: ${tooWide}`);
      set = extractTrainingSet(data.recordings, { extractor, ...training });
      chosenFit = { ...(family !== undefined && FEATURE_FAMILIES[family].fit), ...job.userFit };
    }
    const shown = 20;
    for (const s of set.skipped.slice(0, shown)) say(`enose train: warning: ${s.group}: cycle ${s.sample} skipped: ${s.reasons.join(', ')}\n`);
    if (set.skipped.length > shown) say(`enose train: warning: ... and ${set.skipped.length - shown} more cycles skipped (see the summary)\n`);
    frameSet = set;
    table = set.table;
    input = set.input;
    limits = set.limits;
    modelRig = set.modelRig;
  }
  // The quality gates may have taken every suspicious cycle: the set trained on is checked again.
  checkSuspiciousClass(table.labels, policyOptions, job.allowNoSuspiciousClass, `${where} (after the quality gates)`);
  const problems = frameSet ? trainingProblems(frameSet, job.minClassSamples) : { problems: [], notes: [] };
  if (job.strict && problems.problems.length > 0) throw new EnoseError('bad-data', `--strict: ${problems.problems.join('; ')}`);
  if (job.components !== undefined && job.components > table.width) {
    throw new EnoseError('bad-option', `--components ${job.components} is more than the ${table.width} features of the data`);
  }
  const options: FitOptions = {
    classifier,
    cvFolds: job.cvFolds,
    ...chosenFit,
    // Frames: the folds the selection used (by recording, or by cycle), so cvAccuracy and the policy's figures are the table's.
    ...(frameSet && { cvGroups: selection?.cvGroups ?? cvGroupsOf(frameSet.table, job.cvFolds).groups }),
    ...(classifier === 'mlp' && job.mlp && {
      mlp: {
        ...(job.mlp.hidden && { hidden: job.mlp.hidden }),
        ...(job.mlp.alpha !== undefined && { alpha: job.mlp.alpha }),
        ...(job.mlp.networks !== undefined && { networks: job.mlp.networks }),
        ...(job.mlp.maxEpochs !== undefined && { maxEpochs: job.mlp.maxEpochs }),
        threads: job.mlp.threads,
        // An MLP on tens of thousands of cycles trains for minutes: say how it goes.
        ...(job.progress !== 'off' && {
          onEpoch: (n: number, epoch: number, loss: number, accuracy: number) =>
            say(`enose train: network ${n + 1}, epoch ${epoch}: loss ${loss.toFixed(4)}, validation accuracy ${(100 * accuracy).toFixed(2)}%\n`),
        }),
      },
    }),
    ...policyOptions,
    ...(job.maxFalseAlarm !== undefined && { maxFalseAlarm: job.maxFalseAlarm }),
    ...(job.seed !== undefined && { seed: job.seed }),
    ...(job.noveltyWhiten && { noveltyWhiten: true }),
    transform,
    limits,
  };
  if (job.views && data.kind !== 'features') throw new EnoseError('bad-option', '--views is for feature files, not frames');
  stage(`fitting ${classifier} on ${table.count} samples x ${table.width} features`);
  const fitStarted = performance.now();
  const fitted = job.views ? fitViewsModel(table, [...job.views], options) : fitModel(table, input, options);
  const bundle = modelRig ? withModelRig(fitted, modelRig) : fitted; // the rig check's reference (src/engine/rigCheck.ts)
  const chosen = selection && { rows: selection.rows as SelectionRow[], best: selection.best, folds: selection.folds, grouping: selection.grouping };
  const fitMs = performance.now() - fitStarted;
  return { bundle, width: table.width, count: table.count, selection: chosen, skipped: frameSet ? frameSet.skipped.length : null, ...problems, fitMs };
}
