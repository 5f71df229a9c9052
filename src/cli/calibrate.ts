/**
 * `enose calibrate`: corrects a model for sensor drift from unlabelled reference data measured now, or
 * transfers it to another rig from transfer samples measured on both; writes a new signed model whose lineage
 * names its parent, the method and the reference data.
 */
import { EnoseError } from '../errors.js';
import { extractorOf, EngineCore } from '../engine/core.js';
import { writeModelFile } from '../io/modelFile.js';
import type { ModelBundle } from '../model/runtime/bundle.js';
import { calibrateModel, calibrateWithLabels, CALIBRATION_METHODS, DEFAULT_CALIBRATION_METHOD, type CalibrationMethod } from '../model/drift/calibration.js';
import { LABELLED_PER_CLASS, type LabelledUse } from '../model/drift/finetune.js';
import { compileModel, predictCompiled } from '../model/runtime/pipeline.js';
import { rethresholdModel, type RethresholdOptions, type RethresholdResult } from '../model/drift/rethreshold.js';
import { pairTransferSamples, transferModel, TRANSFER_METHODS, type TransferMethod } from '../model/drift/transfer.js';
import { expandForModel, modelViews } from '../model/drift/views.js';
import type { FeatureTable } from '../types.js';
import { defineCommand, numberOption, parseCommand, requireString, stringOption, type CommandContext, type Command } from './args.js';
import { OPTIONS_GROUP, type HelpGroup, type OptionTable } from './options.js';
import { loadData, matchModel } from './data.js';
import { loadModel, MODEL_TRUST_OPTIONS } from './modelOption.js';
import { throwIfStopped } from './stopSignal.js';

const METHODS_GROUP: HelpGroup = {
  title: 'Methods (measured on the UCI drift data: datasets/README.md, "Drift calibration")',
  items: [
    [
      'standardise',
      're-estimate the scaler from the reference data (per-batch standardisation); the reference data should hold the same mix of odours as the training data (the default)',
    ],
    [
      'component-correction',
      'remove the drift direction(s) found by PCA of the reference data around the training mean (Artursson et al. 2000); suits repeated cycles of one reference gas',
    ],
    [
      'entropy',
      "standardise, then fit a per-feature scale and shift that make the model's class probabilities on the reference data confident (Tent, Wang et al. 2021); lda/logreg",
    ],
    ['pds | ds', 'rig transfer: (piecewise) direct standardisation from paired transfer samples'],
    [
      'threshold',
      "USES LABELS: re-set only the verdict threshold, so that at most the false-alarm target of the clear-labelled samples in <reference data> are alarms (the novelty limit's included), as training sets it on its held-out fold. For containers verified clear since training (at least 1 / target of them: 100 at 1%); samples labelled suspicious give the detection rate at the new threshold",
    ],
  ],
};

/** `enose calibrate`'s options, declared once (options.ts): the parser's and the help's. */
export const CALIBRATE_OPTIONS = {
  model: { type: 'string', value: 'file', description: 'model to correct', required: true },
  out: { type: 'string', value: 'file', description: 'corrected model to write (written atomically)', required: true },
  method: { type: 'string', value: 'm', description: 'one of the methods above', default: DEFAULT_CALIBRATION_METHOD },
  directions: { type: 'string', value: 'n', description: 'component-correction: drift directions removed', default: '1' },
  penalty: { type: 'string', value: 'p', description: 'entropy: L2 penalty on the fitted scales and shifts', default: '0.1' },
  master: { type: 'string', value: 'path', multiple: true, description: "pds/ds: the transfer samples measured on the model's rig (repeatable)" },
  ridge: { type: 'string', value: 'r', description: 'pds/ds: ridge penalty of the regressions', default: '0.01' },
  'max-false-alarm': { type: 'string', value: 'r', description: 'threshold: the false-alarm target', default: "the model's own" },
  confidence: {
    type: 'string',
    value: 'c',
    description: 'threshold: meet the target at this one-sided confidence (e.g. 0.95), not only on the samples: fewer alarms allowed on them, as their number warrants',
    default: 'none',
  },
  labelled: {
    type: 'string',
    value: 'path',
    multiple: true,
    description: 'labelled samples measured now, for the fine-tune (repeatable); they may also be among the reference data',
  },
  'per-class': { type: 'string', value: 'n', description: '--labelled: labelled samples used per class, at most', default: String(LABELLED_PER_CLASS) },
  lambda: { type: 'string', value: 'l', description: '--labelled: pull toward the trained weights', default: '0.001' },
  seed: { type: 'string', value: 'n', description: '--labelled: seed of the choice of samples', default: '1' },
  json: { type: 'boolean', description: 'print the summary as one JSON object' },
  ...MODEL_TRUST_OPTIONS,
} as const satisfies OptionTable;

const TRANSFER = TRANSFER_METHODS as readonly string[];

export const calibrateCommand: Command = defineCommand({
  name: 'calibrate',
  summary: 'correct a model for drift from unlabelled reference data, or transfer it to another rig',
  usage: 'enose calibrate --model model.json <reference data...> --out model2.json [options]',
  about: `Corrects a model for sensor drift from reference data measured now: recent containers, or cycles of clean air
or a reference gas. Labels in the data are ignored: unlabelled recordings are fine (not so with --method
threshold, which re-sets only the verdict threshold from labelled samples). With --method pds or ds,
transfers the model to another rig instead: <reference data> are transfer samples measured on the new rig and
--master gives the same samples (same sample ids) measured on the model's own rig.
With --labelled, a few labelled samples measured now are used as well (this USES LABELS, unlike the methods
above): after the unlabelled method, the classifier is refitted on at most --per-class labelled samples per
class (a seeded random choice), pulled toward its trained weights. Needs an lda or logreg model.
The new model records its parent's hash, the method and the reference data's hash (its "lineage"); with
--labelled, the method also names the fine-tune and the labelled data's hash (labels included).
A views model (trained on x, signed-log x and ln|x| side by side) is given the base features: they are expanded.`,
  options: CALIBRATE_OPTIONS,
  groups: [METHODS_GROUP, OPTIONS_GROUP],
  async run(argv, ctx) {
    const parsed = parseCommand('calibrate', argv, CALIBRATE_OPTIONS);
    const modelPath = requireString('calibrate', parsed, 'model');
    const out = requireString('calibrate', parsed, 'out');
    const method = stringOption(parsed, 'method') ?? DEFAULT_CALIBRATION_METHOD;
    if (!CALIBRATION_METHODS.includes(method as CalibrationMethod) && !TRANSFER.includes(method) && method !== 'threshold') {
      throw new EnoseError('bad-option', `--method must be one of ${[...CALIBRATION_METHODS, ...TRANSFER, 'threshold'].join(', ')}, got "${method}"`);
    }
    const maxFalseAlarm = numberOption('calibrate', parsed, 'max-false-alarm', { above: 0, max: 0.5 });
    if (maxFalseAlarm !== undefined && method !== 'threshold') throw new EnoseError('bad-usage', '--max-false-alarm is an option of --method threshold');
    const confidence = numberOption('calibrate', parsed, 'confidence', { above: 0.5, max: 0.9999 });
    if (confidence !== undefined && method !== 'threshold') throw new EnoseError('bad-usage', '--confidence is an option of --method threshold');
    const directions = numberOption('calibrate', parsed, 'directions', { integer: true, min: 1 });
    const penalty = numberOption('calibrate', parsed, 'penalty', { min: 0 });
    const ridge = numberOption('calibrate', parsed, 'ridge', { above: 0 });
    const masterPaths = (parsed.values['master'] as string[] | undefined) ?? [];
    const transfer = TRANSFER.includes(method);
    if (transfer && masterPaths.length === 0) throw new EnoseError('bad-usage', `--method ${method} needs --master <the transfer samples measured on the model's rig>`);
    if (!transfer && masterPaths.length > 0) throw new EnoseError('bad-usage', '--master is for rig transfer (--method pds or ds)');
    if (directions !== undefined && method !== 'component-correction') throw new EnoseError('bad-usage', '--directions is an option of --method component-correction');
    if (penalty !== undefined && method !== 'entropy') throw new EnoseError('bad-usage', '--penalty is an option of --method entropy');
    if (ridge !== undefined && !transfer) throw new EnoseError('bad-usage', '--ridge is an option of --method pds or ds');
    const labelledPaths = (parsed.values['labelled'] as string[] | undefined) ?? [];
    const perClass = numberOption('calibrate', parsed, 'per-class', { integer: true, min: 1 });
    const lambda = numberOption('calibrate', parsed, 'lambda', { above: 0 });
    const seed = numberOption('calibrate', parsed, 'seed', { integer: true, min: 0 });
    if (transfer && labelledPaths.length > 0) throw new EnoseError('bad-usage', '--labelled is for drift calibration, not rig transfer (--method pds or ds)');
    if (method === 'threshold' && labelledPaths.length > 0) throw new EnoseError('bad-usage', '--method threshold reads the labels of <reference data> itself; --labelled is for the fine-tune');
    if (labelledPaths.length === 0 && (perClass !== undefined || lambda !== undefined || seed !== undefined)) {
      throw new EnoseError('bad-usage', '--per-class, --lambda and --seed are options of --labelled');
    }

    // With --trusted-keys, only a model a trusted key signed is corrected (the output is a new model: sign it anew).
    const parent = loadModel(parsed, modelPath);
    // The threshold is for the model as it runs: its cycles are gated as the model gates them (its fitted limits).
    const reference = await referenceFeatures(parent, parsed.positionals, ctx, 'reference', method === 'threshold');
    if (method === 'threshold') {
      const options = { ...(maxFalseAlarm !== undefined && { maxFalseAlarm }), ...(confidence !== undefined && { confidence }) };
      return rethreshold(parent, reference, out, options, parsed.values['json'] === true, ctx);
    }
    let bundle: ModelBundle;
    let samples = reference.count;
    let use: LabelledUse | null = null;
    if (transfer) {
      const master = await referenceFeatures(parent, masterPaths, ctx, 'master');
      const pairs = pairTransferSamples(master, reference);
      if (pairs.unpaired.length > 0) {
        const shown = pairs.unpaired.slice(0, 5).join(', ');
        ctx.stderr(`enose calibrate: warning: ${pairs.unpaired.length} transfer sample(s) measured on one rig only were left out: ${shown}${pairs.unpaired.length > 5 ? ', ...' : ''}\n`);
      }
      samples = pairs.master.count;
      bundle = transferModel(parent, pairs.master, pairs.slave, { method: method as TransferMethod, ...(ridge !== undefined && { ridge }) });
    } else {
      if (method === 'standardise' && reference.count < 2 * Math.min(reference.width, 30)) {
        ctx.stderr(`enose calibrate: warning: ${reference.count} reference samples give noisy per-feature statistics; a few dozen are better\n`);
      }
      const options = {
        method: method as CalibrationMethod,
        ...(directions !== undefined && { directions }),
        ...(penalty !== undefined && { penalty }),
      };
      if (labelledPaths.length > 0) {
        const labelled = await referenceFeatures(parent, labelledPaths, ctx, 'labelled');
        const tuned = calibrateWithLabels(parent, reference, labelled, {
          ...options,
          ...(perClass !== undefined && { perClass }),
          ...(lambda !== undefined && { lambda }),
          ...(seed !== undefined && { seed }),
        });
        bundle = tuned.bundle;
        use = tuned.use;
        if (use.unknownLabel > 0) ctx.stderr(`enose calibrate: warning: ${use.unknownLabel} labelled sample(s) without one of the model's classes were left out\n`);
        if (use.overLimit > 0) ctx.stderr(`enose calibrate: warning: ${use.overLimit} labelled sample(s) over ${perClass ?? LABELLED_PER_CLASS} a class were left out (seeded choice)\n`);
      } else {
        bundle = calibrateModel(parent, reference, options);
      }
    }
    throwIfStopped(ctx.signal, 'no model written');
    writeModelFile(out, bundle);

    const changed = transfer ? null : changedPredictions(parent, bundle, reference);
    const summary = {
      model: out,
      id: bundle.id,
      parent: parent.id,
      lineage: bundle.lineage!,
      samples,
      labelled: use,
      changedPredictions: changed,
    };
    if (parsed.values['json']) {
      ctx.stdout(`${JSON.stringify(summary)}\n`);
      return 0;
    }
    const lines = [
      `${transfer ? 'transferred' : 'calibrated'} model ${parent.id} with ${bundle.lineage!.method} on ${samples} ${transfer ? 'paired transfer' : 'reference'} samples`,
      `reference data sha256 ${bundle.lineage!.reference ?? 'none'}`,
      ...(use === null
        ? []
        : [
            `USES LABELS: classifier refitted on ${use.used} labelled samples (${Object.entries(use.perClass)
              .map(([c, n]) => `${c} ${n}`)
              .join(', ')})`,
          ]),
      ...(changed === null ? [] : [`the most probable class changed on ${changed} of ${reference.count} reference samples`]),
      `model ${bundle.id} (parent ${parent.id}) written to ${out}`,
    ];
    ctx.stdout(`${lines.join('\n')}\n`);
    return 0;
  },
});

/** `--method threshold`: writes the model with its threshold re-set on the labelled reference samples, and says what moved. */
function rethreshold(parent: ModelBundle, reference: FeatureTable, out: string, options: RethresholdOptions, json: boolean, ctx: CommandContext): number {
  const result: RethresholdResult = rethresholdModel(parent, reference, options);
  throwIfStopped(ctx.signal, 'no model written');
  if (result.unlabelled > 0) ctx.stderr(`enose calibrate: warning: ${result.unlabelled} sample(s) without a label were left out\n`);
  writeModelFile(out, result.bundle);
  const { bundle, choice } = result;
  if (json) {
    ctx.stdout(`${JSON.stringify({ model: out, id: bundle.id, parent: parent.id, lineage: bundle.lineage!, samples: choice.clearSamples + choice.suspiciousSamples, threshold: { ...choice }, parentThreshold: result.parent })}\n`);
    return 0;
  }
  const pct = (r: number | null) => (r === null ? 'n/a' : `${(100 * r).toFixed(2)} %`);
  ctx.stdout(
    [
      `USES LABELS: threshold of model ${parent.id} re-set on ${choice.clearSamples} clear- and ${choice.suspiciousSamples} suspicious-labelled samples (target ${pct(bundle.policy!.maxFalseAlarm)} false alarms${options.confidence === undefined ? '' : ` at ${100 * options.confidence} % confidence`})`,
      `parent threshold ${result.parent.threshold.toFixed(4)}: false alarms ${pct(result.parent.falseAlarmRate)}, detection ${pct(result.parent.detectionRate)} on these samples`,
      `new threshold ${choice.threshold.toFixed(4)}: false alarms ${pct(choice.falseAlarmRate)}, detection ${pct(choice.detectionRate)} on these samples`,
      `labelled data sha256 ${bundle.lineage!.reference}`,
      `model ${bundle.id} (parent ${parent.id}) written to ${out}`,
    ].join('\n') + '\n',
  );
  return 0;
}

/** Reference rows in the model's feature layout: feature files as read, frames through the engine's features. */
async function referenceFeatures(bundle: ModelBundle, paths: readonly string[], ctx: CommandContext, what: string, gateAsModel = false): Promise<FeatureTable> {
  const input = bundle.input;
  const data = matchModel(bundle, await loadData(paths, input.kind === 'frames' ? input.extractor.baselineS : 30, ',', { signal: ctx.signal }), paths.join(','));
  for (const w of data.warnings) ctx.stderr(`enose calibrate: warning: ${w}\n`);
  if (data.kind === 'features') return modelViews(bundle) ? expandForModel(bundle, data.table) : data.table;
  // Frames: every cycle through the engine's own feature path; no labels needed, quality problems skipped.
  const names = input.featureNames;
  const rows: Float64Array[] = [];
  const samples: string[] = [];
  const groups: string[] = [];
  const labels: string[] = [];
  let skipped = 0;
  for (const recording of data.recordings) {
    const core = new EngineCore(gateAsModel ? bundle : null, { extractor: extractorOf(bundle), emitFrames: false, ignoreGates: bundle.limits?.ignoreGates ?? [] }, () => undefined, (record) => {
      if (record.reasons.length > 0) {
        skipped++;
        return;
      }
      rows.push(record.features);
      samples.push(record.sample);
      groups.push(recording.group);
      labels.push(record.label ?? '');
    });
    for (const event of recording.events) core.push(event);
    core.end();
  }
  if (skipped > 0) ctx.stderr(`enose calibrate: warning: ${skipped} ${what} cycle(s) with quality problems were left out\n`);
  if (rows.length === 0) throw new EnoseError('empty-data', `${paths.join(', ')}: no usable ${what} cycle`);
  const width = names.length;
  if (rows[0].length !== width) throw new EnoseError('model-mismatch', `${paths.join(', ')}: ${rows[0].length} features per cycle, the model expects ${width}`);
  const x = new Float64Array(rows.length * width);
  rows.forEach((r, i) => x.set(r, i * width));
  // Labels are kept for --labelled; the unlabelled methods never read them.
  return { source: paths.join(','), featureNames: [...names], width, count: rows.length, x, labels, samples, groups };
}

/** Reference samples whose most probable class differs between the parent and the calibrated model. */
function changedPredictions(parent: ModelBundle, bundle: ModelBundle, table: FeatureTable): number {
  const a = compileModel(parent);
  const b = compileModel(bundle);
  const pa = new Float64Array(parent.classes.length);
  const pb = new Float64Array(bundle.classes.length);
  let changed = 0;
  for (let i = 0; i < table.count; i++) {
    if (predictCompiled(a, table.x, i * table.width, pa) !== predictCompiled(b, table.x, i * table.width, pb)) changed++;
  }
  return changed;
}
