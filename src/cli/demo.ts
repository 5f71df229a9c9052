/**
 * `enose demo` (what `npm start` runs): simulates the shipped evaluation set (later days of the same rig as
 * the default model's training set), streams it through the full streaming engine with the default model,
 * and prints each container's verdict and a summary next to the same model on its training days.
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createEngine } from '../engine/engine.js';
import { EnoseError, formatIssue } from '../errors.js';
import { createMemorySource } from '../io/memory.js';
import { readModelFile } from '../io/modelFile.js';
import type { AdaptationOptions } from '../model/adaptation.js';
import type { ModelBundle } from '../model/bundle.js';
import type { FitOptions } from '../model/pipeline.js';
import { sortedQuantile } from '../model/quantile.js';
import { extractorOf } from '../engine/core.js';
import { decidesAfterRecovery, type ExtractorConfig } from '../signal/features.js';
import { simulationEvents } from '../sim/events.js';
import { createSimulation, type SimulationOptions } from '../sim/simulate.js';
import type { VerdictEvent } from '../types.js';
import { numberOption, parseCommand, stringOption, type Command, type CommandContext } from './args.js';
import { createProgress } from './progress.js';
import { warmUp } from '../service/warmup.js';

/** The shipped data sets: the seed and days that regenerate them bit for bit (see datasets/container-sim/README.md). */
export const SHIPPED_SETS = {
  training: { seed: 1, containers: 6000, startDay: 1, days: 20 },
  /** The exposure model's training set: the same rig and days, ten times the containers (the first 300 of each day are the training set's). */
  mlpTraining: { seed: 1, containers: 60000, startDay: 1, days: 20 },
  /** The default model's training set (the recovery recipe): the same rig and days, 240,000 containers (the first 3,000 of each day are mlpTraining's). */
  recoveryTraining: { seed: 1, containers: 240000, startDay: 1, days: 20 },
  /**
   * Labelled containers that set the default model's threshold: the last four training days of the same rig
   * (rigSeed 1: its units and their drift), drawn anew (seed 2: other containers, weather and noise), as an
   * operator would re-set it on containers verified since training (`enose calibrate --method threshold`).
   * 32,000 (31,577 through the gates, 15,733 of them clear) rather than 8,000: the 95 % bound on the
   * false-alarm rate is tighter, so the threshold can sit nearer the 1 % (measured: see RECOVERY_MODEL_RECIPE).
   */
  thresholdSet: { seed: 2, rigSeed: 1, containers: 32000, startDay: 17, days: 4 },
  evaluation: { seed: 1, containers: 200, startDay: 21, days: 10 },
} as const satisfies Record<string, SimulationOptions>;

/**
 * The linear recipe: the default model until 2026-11-26, and what the scripts that retrain a recipe many times
 * use (eval:sim-preconc, eval:sim-unknown: an MLP takes minutes per model, this seconds). Why each setting
 * (measured on the simulator, README "The main job"):
 * - log response ln(R/R0): humidity and temperature act on ln R additively (the sensors' exp(aH RH + aT T)),
 *   so a linear model can take the measured RH/T steps out;
 * - the exposure sampled in six 10 s windows instead of steady state, peak, area, slope and EMAs: the markers
 *   share their sensitivity pattern with background compounds (formaldehyde, diesel) and differ mostly in how
 *   fast they come, which the windows keep;
 * - every principal component: the markers live in low-variance directions that PCA at 99 % variance drops;
 * - logistic regression, weakly regularised (C = 100): 70 % detection at 1.4 % false alarms on 1,000 evaluation
 *   containers (2,000 training containers), where LDA with the same features gives 55 % at 1.0 %;
 * - 6,000 training containers (300 a day): 72.6 % at 0.8 % on the same 1,000; twelve 5 s windows instead of six
 *   gave 72.2 % at 1.0 % with twice the features, so six stay;
 * - novelty limit at the 0.995 quantile: the 0.95 default alone flags about 5 % of clear containers; measured
 *   in the first 20 components (the spread of the data; the trailing ones are noise-level), which also keeps the
 *   model file small.
 * (The figures above were measured with the policy's threshold set for the classifier alone. Since the novelty
 * limit's own training alarms count in the 1 % target, the model gives 69.1 % at 0.8 % on the 1,000.)
 */
export const LINEAR_MODEL_RECIPE = {
  extractor: { response: 'log', windowS: 10, windowCount: 6, summaryFeatures: false },
  fit: { classifier: 'logreg', c: 100, variance: 1, noveltyQuantile: 0.995, noveltyComponents: 20 },
} as const satisfies { extractor: Partial<ExtractorConfig>; fit: FitOptions };

/**
 * The linear recipe with six 10 s windows of the recovery added (rwin1-6: how fast each sensor returns to its
 * baseline, where the sticky drug markers differ from most confounders): verdict when the recovery ends.
 */
export const LINEAR_RECOVERY_RECIPE = {
  extractor: { ...LINEAR_MODEL_RECIPE.extractor, recoveryWindowS: 10, recoveryWindowCount: 6 },
  fit: LINEAR_MODEL_RECIPE.fit,
} as const satisfies { extractor: Partial<ExtractorConfig>; fit: FitOptions };

/** The MLP the shipped models use: two networks of 128 and 64 ReLU units, probabilities averaged. */
const MLP_FIT = { classifier: 'mlp', variance: 1, noveltyQuantile: 0.995, noveltyComponents: 20, mlp: { hidden: [128, 64], networks: 2 } } as const satisfies FitOptions;

/**
 * The exposure model (`enose demo --at-exposure-end`; the default model until 2026-11-27): the linear recipe's
 * features (six 10 s windows of the exposure), an MLP instead of logistic regression, trained on
 * SHIPPED_SETS.mlpTraining (60,000 containers: an MLP needs far more data than a linear model and beats it only
 * then; on the recovery features at 6,000 containers one network gave 76.4 % at 0.8 % where logistic regression
 * gives 84.3 %). One held-out fold of five calibrates its threshold. Verdict when the exposure ends. On 1,000
 * evaluation containers: 83.3 % at 0.6 %, where the linear recipe gives 69.1 % at 0.8 %.
 */
export const EXPOSURE_MODEL_RECIPE = {
  extractor: LINEAR_MODEL_RECIPE.extractor,
  fit: MLP_FIT,
} as const satisfies { extractor: Partial<ExtractorConfig>; fit: FitOptions };

/**
 * The default model (`npm start`), which decides after the recovery phase: the exposure model with six 10 s
 * windows of the recovery added. Its verdict comes when the recovery ends, 60 s after the exposure at the
 * default cycle, still inside the container's 150 s cycle. Trained on 60,000 containers (shipped until
 * 2026-11-27), on 1,000 evaluation containers: 93.9 % at 0.8 % (the linear recovery recipe: 84.3 % at 1.0 %;
 * one network instead of two: 93.1 % at 1.2 %); on 20,000: 93.9 % at 0.91 %. Trained on
 * SHIPPED_SETS.recoveryTraining (240,000) with its threshold re-set (SHIPPED_MODELS.default.threshold) on
 * 32,000 containers: on 20,000 evaluation containers 95.5 % at 0.86 %, on 20,000 of each of two other draws of
 * the same days 95.2 % at 0.86 % and 95.2 % at 0.88 % (re-set on 8,000: 95.1 % at 0.72 % and 94.7 % at 0.59 %).
 * On 480,000 containers, the same threshold step: 96.3 % at 1.09 %, 95.8 % at 0.93 %, 96.2 % at 1.02 %: over
 * the 1 % on two of three draws, so not shipped.
 */
export const RECOVERY_MODEL_RECIPE = {
  extractor: LINEAR_RECOVERY_RECIPE.extractor,
  fit: MLP_FIT,
} as const satisfies { extractor: Partial<ExtractorConfig>; fit: FitOptions };

/**
 * How a shipped model's threshold is re-set after training, or null: on the labelled containers of `set`, for
 * the model's 1 % target at `confidence` (the Wilson upper bound of the false-alarm rate on them within 1 %).
 * The default model's threshold from its held-out fold promised 1.0 % and gave 1.22 % on 20,000 evaluation
 * containers (96.05 % detection); set this way on 32,000 containers, 0.86 % (95.5 %). Why a confidence bound: a
 * threshold met exactly on a few thousand samples misses the target on new containers about half the time.
 */
export interface ShippedThreshold {
  readonly set: SimulationOptions;
  readonly confidence: number;
}

/** The shipped models: file, recipe, training set and threshold step of each (`npm run model:default` builds them). */
export const SHIPPED_MODELS: Record<'default' | 'exposure', { file: string; recipe: { extractor: Partial<ExtractorConfig>; fit: FitOptions }; training: SimulationOptions; threshold: ShippedThreshold | null }> = {
  default: {
    file: 'default-model.json.gz',
    recipe: RECOVERY_MODEL_RECIPE,
    training: SHIPPED_SETS.recoveryTraining,
    threshold: { set: SHIPPED_SETS.thresholdSet, confidence: 0.95 },
  },
  exposure: { file: 'exposure-model.json.gz', recipe: EXPOSURE_MODEL_RECIPE, training: SHIPPED_SETS.mlpTraining, threshold: null },
};
export type ShippedModel = keyof typeof SHIPPED_MODELS;




export function packageRoot(): string {
  // dist/cli/demo.js -> the package root
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
}


const usage = `Usage: enose demo [--at-exposure-end | --shipped default|exposure | --model model.json] [--containers N] [--eval-seed S] [--adapt] [--json]

The main job on the shipped data: simulates the evaluation set (simulator seed 1, days 21 to 30 of the rig
whose days 1 to 20 trained the shipped models), streams every frame through the streaming engine with the
default model (datasets/container-sim/default-model.json.gz: verdict when the recovery ends, inside the
container's 150 s cycle), prints each container's verdict and a summary: detection rate per substance,
false-alarm rate, inconclusive count, latency p50/p99, samples per second; and the same summary for 400
containers of the training days (in-sample).

Options:
  --model <file>      another model (trained on the simulator's channels)
  --at-exposure-end   the shipped model that decides when the exposure ends (60 s earlier, fewer
                      detections; datasets/container-sim/exposure-model.json.gz)
  --shipped <name>    a shipped model by name: default or exposure (--at-exposure-end)
  --containers <n>    evaluation containers                      [default: 200]
  --eval-seed <s>     another draw of the evaluation days on the same rig: other containers, weather
                      and noise, the rig's units and drift kept (a check on containers no model choice
                      was made on)                                [default: 1, the shipped set]
  --adapt             adaptation during operation on the evaluation set (as watch --adapt, watchdog
                      included); the summary says whether the watchdog stopped it
  --json              print the two summaries as one JSON object
  -h, --help          this help
`;

export interface RunSummary {
  readonly set: string;
  readonly containers: number;
  readonly perLabel: Record<string, { n: number; suspicious: number; inconclusive: number; clear: number }>;
  readonly detectionRate: number | null;
  readonly falseAlarmRate: number | null;
  readonly inconclusive: number;
  readonly latencyMsP50: number;
  readonly latencyMsP99: number;
  readonly samplesPerS: number;
  readonly frames: number;
  /** With adaptation (--adapt): clear samples it accepted, and the watchdog's stop (after which container), if any. */
  readonly adaptation?: {
    readonly accepted: number;
    readonly stoppedAfter: number | null;
    readonly addedAlarms: number | null;
    /** Verdicts made inconclusive because the unadapted model flagged what the adapted one cleared. */
    readonly disagreements: number;
  };
}


/** Streams a simulated set through the engine and summarises the verdicts. */
export async function runSimulatedSet(
  model: ModelBundle,
  set: string,
  options: SimulationOptions,
  onVerdict?: (v: VerdictEvent, done: number) => void,
  adaptation: boolean | AdaptationOptions = false,
): Promise<RunSummary> {
  const sim = createSimulation(options);
  const source = createMemorySource(simulationEvents(sim), { description: `sim:${set}` });
  const verdicts: VerdictEvent[] = [];
  /** The watchdog's stop, if any (at most one). */
  const stops: { after: number; addedAlarms: number }[] = [];
  const engine = createEngine({
    model,
    source,
    queue: false,
    emitFrames: false,
    adaptation,
    onEvent: (e) => {
      if (e.type === 'verdict') {
        verdicts.push(e);
        onVerdict?.(e, verdicts.length);
      } else if (e.type === 'adaptation-stopped') {
        stops.push({ after: verdicts.length, addedAlarms: e.addedAlarms });
      }
    },
  });
  const started = performance.now();
  await engine.done;
  const elapsedS = (performance.now() - started) / 1000;
  let frames = 0;
  for (let i = 0; i < sim.options.containers; i++) frames += sim.cycleAt(i).frameCount;
  const perLabel: RunSummary['perLabel'] = {};
  let suspiciousN = 0;
  let detected = 0;
  let clearN = 0;
  let alarms = 0;
  let inconclusive = 0;
  for (const v of verdicts) {
    const label = v.label ?? '?';
    const row = (perLabel[label] ??= { n: 0, suspicious: 0, inconclusive: 0, clear: 0 });
    row.n++;
    if (v.verdict === 'suspicious') row.suspicious++;
    else if (v.verdict === 'inconclusive') row.inconclusive++;
    else if (v.verdict === 'clear') row.clear++;
    if (v.verdict === 'inconclusive') inconclusive++;
    if (label === 'clear') {
      clearN++;
      if (v.verdict === 'suspicious') alarms++;
    } else {
      suspiciousN++;
      if (v.verdict === 'suspicious') detected++;
    }
  }
  const latencies = Float64Array.from(verdicts, (v) => v.latencyMs).sort();
  return {
    set,
    containers: verdicts.length,
    perLabel,
    detectionRate: suspiciousN > 0 ? detected / suspiciousN : null,
    falseAlarmRate: clearN > 0 ? alarms / clearN : null,
    inconclusive,
    latencyMsP50: sortedQuantile(latencies, 0.5),
    latencyMsP99: sortedQuantile(latencies, 0.99),
    samplesPerS: verdicts.length / elapsedS,
    frames,
    ...(adaptation !== false && {
      adaptation: {
        accepted: verdicts.at(-1)?.adaptation?.accepted ?? 0,
        stoppedAfter: stops[0]?.after ?? null,
        addedAlarms: stops[0]?.addedAlarms ?? null,
        disagreements: verdicts.filter((v) => v.reasons.includes('adaptation-disagrees')).length,
      },
    }),
  };
}

const pct = (v: number | null) => (v === null ? 'n/a' : `${(100 * v).toFixed(1)}%`);

export function formatSummary(s: RunSummary): string {
  const lines = [`${s.set}: ${s.containers} containers, ${s.frames} frames`];
  for (const [label, r] of Object.entries(s.perLabel).sort()) {
    const share = label === 'clear' ? `false alarms ${pct(r.suspicious / r.n)}` : `detected ${pct(r.suspicious / r.n)}`;
    lines.push(`  ${label.padEnd(9)} ${String(r.n).padStart(4)}  suspicious ${String(r.suspicious).padStart(4)}  inconclusive ${String(r.inconclusive).padStart(4)}  clear ${String(r.clear).padStart(4)}   ${share}`);
  }
  lines.push(
    `  detection rate ${pct(s.detectionRate)}, false-alarm rate ${pct(s.falseAlarmRate)}, inconclusive ${s.inconclusive}`,
    `  verdict latency p50 ${s.latencyMsP50.toFixed(3)} ms, p99 ${s.latencyMsP99.toFixed(3)} ms; ${s.samplesPerS.toFixed(0)} samples/s (simulation included)`,
  );
  if (s.adaptation) {
    lines.push(
      s.adaptation.stoppedAfter === null
        ? `  adaptation: ${s.adaptation.accepted} clear samples accepted, not stopped`
        : `  adaptation: stopped by its watchdog after container ${s.adaptation.stoppedAfter} (${s.adaptation.addedAlarms} added alarms in its window; ${s.adaptation.accepted} clear samples accepted); the parent model judged the rest`,
      `  adaptation-disagrees (cleared by the adapted model, flagged by the parent: inconclusive): ${s.adaptation.disagreements}`,
    );
  }
  return lines.join('\n');
}

function verdictLine(v: VerdictEvent): string {
  const top = v.class === null ? '-' : `${v.class} ${(v.probabilities[v.class] ?? 0).toFixed(2)}`;
  return `${v.sample.padEnd(8)} ${(v.label ?? '').padEnd(9)} -> ${(v.verdict ?? 'class only').padEnd(12)} ${top.padEnd(16)} ${v.reasons.join(',')}`;
}

export async function loadDefaultModel(path?: string, shipped: ShippedModel = 'default'): Promise<ModelBundle> {
  const file = path ?? resolve(packageRoot(), 'datasets', 'container-sim', SHIPPED_MODELS[shipped].file);
  if (!path && !existsSync(file)) throw new EnoseError('file-not-found', `${file}: the shipped ${shipped} model is missing (npm run model:default rebuilds it)`);
  const model = readModelFile(file);
  if (!model.ok) throw new EnoseError('bad-model', formatIssue(model.error));
  return model.value;
}

export const demoCommand: Command = {
  name: 'demo',
  summary: 'the main job: stream the shipped evaluation set through the engine with the default model',
  usage,
  async run(argv, ctx: CommandContext) {
    const parsed = parseCommand('demo', argv, {
      model: { type: 'string' },
      'at-exposure-end': { type: 'boolean' },
      'after-recovery': { type: 'boolean' },
      shipped: { type: 'string' },
      containers: { type: 'string' },
      json: { type: 'boolean' },
      adapt: { type: 'boolean' },
      'eval-seed': { type: 'string' },
    });
    if (parsed.values['after-recovery'] === true) {
      throw new EnoseError('bad-option', '--after-recovery is gone: the default model decides when the recovery ends since 2026-11-27 (drop the option; --at-exposure-end for the other)');
    }
    const atExposureEnd = parsed.values['at-exposure-end'] === true;
    const shippedText = stringOption(parsed, 'shipped');
    const modelPath = stringOption(parsed, 'model');
    if (shippedText !== undefined && !(shippedText in SHIPPED_MODELS)) {
      throw new EnoseError('bad-option', `--shipped must be one of ${Object.keys(SHIPPED_MODELS).join(', ')}, got "${shippedText}"`);
    }
    if ([atExposureEnd, shippedText !== undefined, modelPath !== undefined].filter(Boolean).length > 1) {
      throw new EnoseError('bad-option', 'choose the model once: --shipped, --at-exposure-end or --model');
    }
    const shipped: ShippedModel = atExposureEnd ? 'exposure' : ((shippedText as ShippedModel | undefined) ?? 'default');
    const model = await loadDefaultModel(modelPath, shipped);
    const decides = decidesAfterRecovery(extractorOf(model)) ? 'when the recovery ends' : 'when the exposure ends';
    const containers = numberOption('demo', parsed, 'containers', { integer: true, min: 1, max: 100000 }) ?? SHIPPED_SETS.evaluation.containers;
    const json = parsed.values['json'] === true;
    const adapt = parsed.values['adapt'] === true;
    // Another draw of the evaluation days on the same rig (its units and drift stay those of seed 1): a check on
    // containers no model choice was ever made on.
    const evalSeed = numberOption('demo', parsed, 'eval-seed', { integer: true, min: 0 });
    const redrawn = evalSeed !== undefined && evalSeed !== SHIPPED_SETS.evaluation.seed;
    const evalSet: SimulationOptions = { ...SHIPPED_SETS.evaluation, containers, ...(redrawn && { seed: evalSeed, rigSeed: SHIPPED_SETS.evaluation.seed }) };
    if (!json) {
      ctx.stdout(`model ${model.id} (${model.classifier.type}, ${model.training.count} training cycles, verdict ${decides}); evaluation set: simulator seed ${evalSet.seed}${redrawn ? ` (rig of seed ${evalSet.rigSeed})` : ''}, days ${SHIPPED_SETS.evaluation.startDay}-${SHIPPED_SETS.evaluation.startDay + SHIPPED_SETS.evaluation.days - 1}, ${containers} containers\n`);
      ctx.stdout(`${'sample'.padEnd(8)} ${'truth'.padEnd(9)}    ${'verdict'.padEnd(12)} ${'class'.padEnd(16)} reasons\n`);
    }
    // Warm the verdict path as `enose serve` does before it takes requests (a few made-up cycles), so that the
    // latency figures are the engine's, not the JIT compiler's first pass over an MLP.
    warmUp(model);
    const progress = createProgress('evaluation', containers, ctx.stderr, ctx.isTty && !json);
    const evaluation = await runSimulatedSet(model, `evaluation (days 21-30${redrawn ? `, seed ${evalSet.seed}` : ''})`, evalSet, (v, done) => {
      if (!json) ctx.stdout(`${verdictLine(v)}\n`);
      progress.update(done);
    }, adapt);
    progress.finish();
    // The first 20 containers of each training day (containers are drawn per day and position, so they are the
    // same ones as in the training set), enough to set the evaluation beside in-sample figures.
    // (The shipped models held one fold of five out of their training, so about a fifth of them are not in-sample.)
    const inSample = { ...SHIPPED_SETS.training, containers: 20 * SHIPPED_SETS.training.days };
    const trainedOn = modelPath === undefined ? SHIPPED_MODELS[shipped].training.containers : null;
    const training = await runSimulatedSet(
      model,
      `training days (1-20, ${inSample.containers} containers${trainedOn === null ? '' : `, in-sample: drawn from the ${trainedOn.toLocaleString('en-US')} training containers`})`,
      inSample,
    );
    if (json) {
      ctx.stdout(`${JSON.stringify({ modelId: model.id, evaluation, training })}\n`);
    } else {
      ctx.stdout(`\n${formatSummary(evaluation)}\n\n${formatSummary(training)}\n`);
      if (modelPath === undefined && shipped === 'default') {
        ctx.stdout(`\nDeciding when the exposure ends instead (60 s earlier, fewer detections): enose demo --at-exposure-end\n`);
      }
    }
    return 0;
  },
};
