/**
 * `enose demo` (what `npm start` runs): simulates the shipped evaluation set (later days of the same rig as
 * the default model's training set), streams it through the full streaming engine with the default model,
 * and prints each container's verdict and a summary next to the same model on its training days.
 */
import { modelCheckpoint } from '../engine/modelCheckpoint.js';
import { EnoseError } from '../errors.js';
import { warmUp } from '../service/warmup.js';
import { loadShippedModel, SHIPPED_MODELS, SHIPPED_SETS, type ShippedModel } from '../shipped/recipes.js';
import { formatSummary, runSimulatedSet } from '../shipped/simulatedSet.js';
import type { SimulationOptions } from '../sim/simulate.js';
import type { VerdictEvent } from '../types.js';
import { defineCommand, numberOption, parseCommand, stringOption, type Command, type CommandContext } from './args.js';
import type { OptionTable } from './options.js';
import { createProgress } from './progress.js';
import { checkEarlyOnly, DEMO_EARLY_OPTIONS, runDemoEarly } from './demoEarly.js';

/** `enose demo`'s options, declared once (options.ts): the parser's and the help's. */
export const DEMO_OPTIONS = {
  model: { type: 'string', value: 'file', description: "another model (trained on the simulator's channels)" },
  'at-exposure-end': {
    type: 'boolean',
    description: 'the shipped model that decides when the exposure ends (60 s earlier, fewer detections; datasets/container-sim/exposure-model.json.gz)',
  },
  shipped: { type: 'string', value: 'name', description: 'a shipped model by name: default, exposure (--at-exposure-end) or recovery-start (the early plan\'s 100 s checkpoint)' },
  containers: { type: 'string', value: 'n', description: 'evaluation containers', default: '200' },
  'eval-seed': {
    type: 'string',
    value: 's',
    description:
      "another draw of the evaluation days on the same rig: other containers, weather and noise, the rig's units and drift kept (a check on containers no model choice was made on)",
    default: '1, the shipped set',
  },
  adapt: {
    type: 'boolean',
    description: 'adaptation during operation on the evaluation set (as watch --adapt, watchdog included); the summary says whether the watchdog stopped it',
  },
  json: { type: 'boolean', description: 'print the two summaries as one JSON object' },
  'after-recovery': { type: 'boolean', description: 'gone: the default model decides when the recovery ends (refused with a line that says so)' },
  ...DEMO_EARLY_OPTIONS,
} as const satisfies OptionTable;

function verdictLine(v: VerdictEvent): string {
  const top = v.class === null ? '-' : `${v.class} ${(v.probabilities[v.class] ?? 0).toFixed(2)}`;
  return `${v.sample.padEnd(8)} ${(v.label ?? '').padEnd(9)} -> ${(v.verdict ?? 'class only').padEnd(12)} ${top.padEnd(16)} ${v.reasons.join(',')}`;
}

export const demoCommand: Command = defineCommand({
  name: 'demo',
  summary: 'the main job: stream the shipped evaluation set through the engine with the default model',
  usage: 'enose demo [--at-exposure-end | --shipped default|exposure|recovery-start | --model model.json] [--containers N] [--eval-seed S] [--adapt] [--json]',
  about: `The main job on the shipped data: simulates the evaluation set (simulator seed 1, days 21 to 30 of the rig
whose days 1 to 20 trained the shipped models), streams every frame through the streaming engine with the
default model (datasets/container-sim/default-model.json.gz: verdict when the recovery ends, inside the
container's 150 s cycle), prints each container's verdict and a summary: detection rate per substance,
false-alarm rate, inconclusive count, latency p50/p99, samples per second; and the same summary for 400
containers of the training days (in-sample).`,
  options: DEMO_OPTIONS,
  async run(argv, ctx: CommandContext) {
    const parsed = parseCommand('demo', argv, DEMO_OPTIONS);
    checkEarlyOnly(parsed);
    if (parsed.values['early'] === true) return runDemoEarly(parsed, ctx);
    if (parsed.values['after-recovery'] === true) {
      throw new EnoseError('bad-option', '--after-recovery is gone: the default model decides when the recovery ends (drop the option; --at-exposure-end for the other)');
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
    const model = loadShippedModel(modelPath, shipped);
    const at = modelCheckpoint(model);
    const decides = at.checkpoint === 'in-recovery' ? `${at.recoveryS} s into the recovery` : at.checkpoint === 'recovery-end' ? 'when the recovery ends' : 'when the exposure ends';
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
});
