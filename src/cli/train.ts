/** `enose train`: fits scaler, PCA, classifier and verdict policy on data files and writes a model bundle. */
import { availableParallelism } from 'node:os';
import { EnoseError } from '../errors.js';
import { writeModelFile } from '../io/modelFile.js';
import { FEATURE_VIEWS, type FeatureView } from '../model/drift/views.js';
import { TRANSFORMS, type FeatureTransform } from '../model/runtime/pipeline.js';
import { CLASSIFIERS, type ClassifierKind } from '../model/fitting/fitModel.js';
import { defineCommand, listOption, numberOption, parseCommand, requireString, stringOption, type Command, type OptionName } from './args.js';
import { dataLimitsOf } from './dataLimitsOption.js';
import { delimiterOf } from './delimiterOption.js';
import { TRAIN_OPTIONS } from './trainOptions.js';
import { GATE_REASONS, type GateReason } from '../engine/training.js';
import { FEATURE_FAMILIES, type UserFit } from '../engine/selection.js';
import type { ExtractorConfig, ResponseKind } from '../signal/features.js';
import { selectionTable } from './trainReport.js';
import type { TrainJob } from './trainJob.js';
import { runTraining } from './trainRunner.js';

export const trainCommand: Command = defineCommand({
  name: 'train',
  summary: 'train a model (scaler, PCA, classifier, verdict policy) on labelled data',
  usage: 'enose train <data...> --out model.json [options]',
  about: `Trains a model on labelled data: z-score scaler, PCA, a classifier in PCA space, and the verdict policy.
<data> is a file or folder: libsvm feature files (.dat/.libsvm/.svm), feature CSV (label,<features...>) or
frames CSV (sample,label,t_s,[phase,]<channels...>), reduced to one feature vector per sample; also what rigs
write: recordings of one CSV each (a header row, a row per time step; a folder of label folders, or labels from
the file names) and Bosch BME AI-Studio .bmerawdata (one heater-profile pass a sample).

With no choice of features, transform or classifier on a frames file, it chooses by itself: it compares
the feature families (phase, whole, phase+whole, windows), the transforms (none, signed-log) and the
classifiers (lda, logreg, knn) by cross-validation grouped by recording, keeps the best and prints the
table it chose from. Any of --features, the feature options, --transform or --classifier fixes that choice.`,
  options: TRAIN_OPTIONS,
  main: {
    title: 'Options',
    after: `
Every label is checked as it is read: a feature row without one, a label over 128 characters, or more
classes than --max-classes is refused in one line naming the file and the line. SIGINT or SIGTERM stops
training at once (exit 130 or 143); no model file is written.`,
  },
  async run(argv, ctx) {
    const parsed = parseCommand('train', argv, TRAIN_OPTIONS);
    const given = (name: OptionName<typeof TRAIN_OPTIONS>) => parsed.values[name] !== undefined;
    const out = requireString('train', parsed, 'out');
    const classifier = stringOption(parsed, 'classifier') ?? 'lda';
    if (!CLASSIFIERS.includes(classifier as ClassifierKind)) {
      throw new EnoseError('bad-option', `--classifier must be one of ${CLASSIFIERS.join(', ')}, got "${classifier}"`);
    }
    const components = numberOption('train', parsed, 'components', { integer: true, min: 1 });
    const variance = numberOption('train', parsed, 'variance', { above: 0, max: 1 });
    if (components !== undefined && variance !== undefined) throw new EnoseError('bad-usage', 'give --components or --variance, not both');
    const suspicious = listOption(parsed, 'suspicious');
    const clear = listOption(parsed, 'clear');
    if (suspicious && clear) throw new EnoseError('bad-usage', 'give --suspicious or --clear, not both');
    const cvA = numberOption('train', parsed, 'cv-folds', { integer: true, min: 0, max: 20 });
    const cvB = numberOption('train', parsed, 'cv', { integer: true, min: 0, max: 20 });
    const cvFolds = cvA ?? cvB ?? 5;
    if (cvFolds === 1) throw new EnoseError('bad-option', '--cv-folds must be 0 or at least 2');
    const baselineS = numberOption('train', parsed, 'baseline-s', { above: 0 }) ?? 30;
    const k = numberOption('train', parsed, 'k', { integer: true, min: 1 });
    const maxFalseAlarm = numberOption('train', parsed, 'max-false-alarm', { min: 0, max: 1 });
    const seed = numberOption('train', parsed, 'seed', { integer: true, min: 0 });
    const noveltyQuantile = numberOption('train', parsed, 'novelty-quantile', { min: 0, max: 1 });
    const transform = stringOption(parsed, 'transform') ?? 'none';
    if (!TRANSFORMS.includes(transform as FeatureTransform)) {
      throw new EnoseError('bad-option', `--transform must be one of ${TRANSFORMS.join(', ')}, got "${transform}"`);
    }

    const response = stringOption(parsed, 'response') ?? 'fractional';
    if (!['fractional', 'relative', 'log'].includes(response)) throw new EnoseError('bad-option', `--response must be fractional, relative or log, got "${response}"`);
    const steadyStateS = numberOption('train', parsed, 'steady-state-s', { above: 0 }) ?? 0;
    const steadyStateShare = numberOption('train', parsed, 'steady-state-share', { above: 0, max: 1 }) ?? 1 / 3;
    const windowS = numberOption('train', parsed, 'window-s', { min: 0 }) ?? 0;
    const windowCount = numberOption('train', parsed, 'windows', { integer: true, min: 1, max: 1000 }) ?? 6;
    const windowsOnly = parsed.values['windows-only'] === true;
    if (windowsOnly && windowS === 0) throw new EnoseError('bad-option', '--windows-only needs --window-s');
    const recoveryWindowS = numberOption('train', parsed, 'recovery-window-s', { min: 0 }) ?? 0;
    const inExposure = parsed.values['decide-in-exposure'] === true;
    if (inExposure && !(windowsOnly && recoveryWindowS === 0)) throw new EnoseError('bad-option', '--decide-in-exposure needs --window-s and --windows-only, and no --recovery-window-s');
    const recoveryWindowCount = numberOption('train', parsed, 'recovery-windows', { integer: true, min: 1, max: 1000 }) ?? 6;
    const inRecovery = parsed.values['decide-in-recovery'] === true;
    if (inRecovery && recoveryWindowS === 0) throw new EnoseError('bad-option', '--decide-in-recovery needs --recovery-window-s');
    const baselineWindowS = numberOption('train', parsed, 'baseline-window-s', { min: 0 }) ?? 0;
    const baselineWindowCount = numberOption('train', parsed, 'baseline-windows', { integer: true, min: 1, max: 1000 }) ?? 3;
    const c = numberOption('train', parsed, 'c', { above: 0 });
    if (c !== undefined && classifier !== 'logreg') throw new EnoseError('bad-option', '--c is for --classifier logreg');
    const hiddenText = listOption(parsed, 'hidden');
    const hidden = hiddenText?.map((h) => (/^\d+$/.test(h) ? Number(h) : NaN));
    if (hidden && hidden.some((h) => !(h >= 1 && h <= 4096))) throw new EnoseError('bad-option', `--hidden must list layer sizes from 1 to 4096, got "${hiddenText!.join(',')}"`);
    const alpha = numberOption('train', parsed, 'alpha', { min: 0 });
    const networks = numberOption('train', parsed, 'networks', { integer: true, min: 1, max: 100 });
    const maxEpochs = numberOption('train', parsed, 'max-epochs', { integer: true, min: 1, max: 100000 });
    const threadsGiven = numberOption('train', parsed, 'threads', { integer: true, min: 1, max: 64 });
    const mlpGiven = [hidden, alpha, networks, maxEpochs, threadsGiven].some((v) => v !== undefined);
    if (mlpGiven && classifier !== 'mlp') throw new EnoseError('bad-option', '--hidden, --alpha, --networks, --max-epochs and --threads are for --classifier mlp');
    const threads = threadsGiven ?? Math.min(4, availableParallelism());
    const views = listOption(parsed, 'views');
    if (views && views.some((v) => !FEATURE_VIEWS.includes(v as FeatureView))) {
      throw new EnoseError('bad-option', `--views must list views from ${FEATURE_VIEWS.join(', ')}, got "${views.join(',')}"`);
    }
    const family = stringOption(parsed, 'features');
    if (family !== undefined && !(family in FEATURE_FAMILIES)) {
      throw new EnoseError('bad-option', `--features must be one of ${Object.keys(FEATURE_FAMILIES).join(', ')}, got "${family}"`);
    }
    const minClassSamples = numberOption('train', parsed, 'min-class-samples', { integer: true, min: 1 }) ?? 5;
    const ignoreGates = listOption(parsed, 'ignore-gates') ?? [];
    const badGate = ignoreGates.find((g) => !GATE_REASONS.includes(g as GateReason));
    if (badGate) throw new EnoseError('bad-option', `--ignore-gates: unknown gate "${badGate}" (gates: ${GATE_REASONS.join(', ')})`);

    // The user's fit settings override the chosen family's (the windows families fit every component).
    const userFit: UserFit = { ...(k !== undefined && { k }), ...(c !== undefined && { c }), ...(components !== undefined && { components }), ...(variance !== undefined && { variance }), ...(noveltyQuantile !== undefined && { noveltyQuantile }) };
    const featureOptions = ['response', 'steady-state-s', 'steady-state-share', 'window-s', 'windows', 'windows-only', 'recovery-window-s', 'recovery-windows', 'baseline-window-s', 'baseline-windows', 'decide-in-exposure', 'decide-in-recovery'] as const;
    const explicit: Partial<ExtractorConfig> = {
      ...(given('response') && { response: response as ResponseKind }),
      ...(given('steady-state-s') && { steadyStateS }),
      ...(given('steady-state-share') && { steadyStateShare }),
      ...(windowS > 0 && { windowS, windowCount, summaryFeatures: !windowsOnly, ...(inExposure && { decideInExposure: true }) }),
      ...(recoveryWindowS > 0 && { recoveryWindowS, recoveryWindowCount, ...(inRecovery && { decideInRecovery: true }) }),
      ...(baselineWindowS > 0 && { baselineWindowS, baselineWindowCount }),
    };
    const job: TrainJob = {
      paths: parsed.positionals,
      baselineS,
      delimiter: delimiterOf(parsed),
      limits: dataLimitsOf('train', parsed),
      classifier: classifier as ClassifierKind,
      transform: transform as FeatureTransform,
      classifierGiven: given('classifier'),
      transformGiven: given('transform'),
      ...(family !== undefined && { family }),
      explicit,
      featuresFixed: family !== undefined || featureOptions.some(given),
      training: { ignoreGates: ignoreGates as GateReason[], learnGates: parsed.values['fixed-gates'] !== true },
      ...(views && { views: views as FeatureView[] }),
      cvFolds,
      ...(seed !== undefined && { seed }),
      ...(maxFalseAlarm !== undefined && { maxFalseAlarm }),
      ...(suspicious && { suspicious }),
      ...(clear && { clear }),
      allowNoSuspiciousClass: parsed.values['allow-no-suspicious-class'] === true,
      userFit,
      ...(components !== undefined && { components }),
      minClassSamples,
      strict: parsed.values['strict'] === true,
      noveltyWhiten: parsed.values['novelty-whiten'] === true,
      ...(classifier === 'mlp' && { mlp: { ...(hidden && { hidden }), ...(alpha !== undefined && { alpha }), ...(networks !== undefined && { networks }), ...(maxEpochs !== undefined && { maxEpochs }), threads } }),
      progress: ctx.isTty ? 'tty' : parsed.values['progress'] === true ? 'lines' : 'off',
    };
    const run = await runTraining(job, ctx.stderr, ctx.signal);
    if (!run.ok) {
      ctx.stderr(`enose train: stopped by ${run.stoppedBy}: no model written\n`);
      return run.stoppedBy === 'SIGINT' ? 130 : 143;
    }
    const { bundle, selection, width, count, skipped, fitMs } = run.outcome;
    const problems = run.outcome;
    writeModelFile(out, bundle);

    const explained = bundle.pca.varianceRatio.reduce((s, v) => s + v, 0);
    const summary = {
      model: out,
      id: bundle.id,
      samples: bundle.training.count,
      features: width,
      classes: bundle.training.perClass,
      classifier: bundle.classifier.type,
      components: bundle.pca.components,
      explainedVariance: explained,
      cvFolds: bundle.training.cvFolds,
      cvAccuracy: bundle.training.cvAccuracy,
      policy: bundle.policy && {
        rule: bundle.policy.rule,
        labels: bundle.policy.labels,
        threshold: bundle.policy.threshold,
        cvFalseAlarmRate: bundle.policy.calibration.falseAlarmRate,
        cvDetectionRate: bundle.policy.calibration.detectionRate,
      },
      fitMs: Math.round(fitMs),
      ...(selection && {
        selection: {
          folds: selection.folds,
          groupedBy: selection.grouping,
          chosen: { features: selection.best.family, transform: selection.best.transform, classifier: selection.best.classifier },
          candidates: selection.rows,
        },
      }),
      ...(skipped !== null && { skipped, problems: problems.problems, notes: problems.notes }),
    };
    const cal = bundle.policy?.calibration;
    if (bundle.policy && cal && cal.falseAlarmRate !== null && cal.falseAlarmRate > bundle.policy.maxFalseAlarm) {
      ctx.stderr(
        `enose train: warning: cross-validated false alarms ${(100 * cal.falseAlarmRate).toFixed(1)}% are above the ${(100 * bundle.policy.maxFalseAlarm).toFixed(1)}% target` +
          (/more than the target allows/.test(cal.note) ? ' because the unknown-odour limit alone flags more (raise --novelty-quantile)' : '') +
          '\n',
      );
    }
    if (parsed.values['json']) {
      ctx.stdout(`${JSON.stringify(summary)}\n`);
      return 0;
    }
    const pct = (v: number | null | undefined) => (v === null || v === undefined ? 'n/a' : `${(100 * v).toFixed(1)}%`);
    const lines = [
      ...(selection ? [selectionTable(selection).trimEnd(), `chosen: features ${selection.best.family}, transform ${selection.best.transform}, classifier ${selection.best.classifier}`] : []),
      `trained ${bundle.classifier.type} on ${summary.samples} samples x ${summary.features} features, ${bundle.classes.length} classes (${Object.entries(summary.classes).map(([c, n]) => `${c}: ${n}`).join(', ')})`,
      `PCA: ${summary.components} components, ${pct(explained)} of the variance${bundle.transform !== 'none' ? ` (features ${bundle.transform})` : ''}`,
      bundle.novelty
        ? `unknown-odour limit: nearest training sample farther than ${bundle.novelty.threshold.toPrecision(4)} (the ${bundle.novelty.quantile} quantile of leave-one-out distances)`
        : 'unknown-odour limit: off',
      summary.cvFolds > 0
        ? bundle.classifier.type === 'mlp'
          ? `accuracy on the held-out fold (one of ${summary.cvFolds}): ${pct(summary.cvAccuracy)}`
          : `${summary.cvFolds}-fold cross-validated accuracy: ${pct(summary.cvAccuracy)}`
        : 'cross-validation: not run',
      bundle.policy
        ? `policy: ${bundle.policy.rule === 'clear-listed' ? 'clear' : 'suspicious'} = ${bundle.policy.labels.join(',')}; threshold P(suspicious) > ${bundle.policy.threshold.toPrecision(4)} (cross-validated false alarms ${pct(bundle.policy.calibration.falseAlarmRate)}, detection ${pct(bundle.policy.calibration.detectionRate)}, target <= ${pct(bundle.policy.maxFalseAlarm)})`
        : 'policy: none (no label named clear and no --suspicious/--clear): verdicts carry the class only',
      `model ${bundle.id} written to ${out} (${summary.fitMs} ms)`,
      ...(skipped !== null ? [`cycles: ${count} trained on, ${skipped} skipped`] : []),
      ...problems.notes.map((n) => `note: ${n}`),
      ...problems.problems.map((p) => `warning: ${p} (--strict refuses this)`),
    ];
    ctx.stdout(`${lines.join('\n')}\n`);
    return 0;
  },
});
