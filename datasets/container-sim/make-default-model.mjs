#!/usr/bin/env node
// Trains the shipped models on the shipped training sets (simulator seed 1, days 1-20) through the same feature
// path as `enose train` on frames (recipes and training sets: SHIPPED_MODELS in src/cli/demo.ts, where each
// setting is explained):
//   datasets/container-sim/default-model.json.gz   DEFAULT_MODEL_RECIPE, 60,000 containers, verdict when the exposure ends
//   datasets/container-sim/recovery-model.json.gz  RECOVERY_MODEL_RECIPE, 60,000 containers, verdict when the recovery ends
// 8 to 11 minutes each here (simulating and extracting 60,000 containers, then two MLPs).
// Run: npm run model:default   (both; `-- default` or `-- recovery` for one). Bit-identical on a rerun.
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SHIPPED_MODELS } from '../../dist/cli/demo.js';
import { extractTrainingSet } from '../../dist/engine/training.js';
import { writeModelFile } from '../../dist/io/modelFile.js';
import { fitModel } from '../../dist/model/pipeline.js';
import { simulationEvents } from '../../dist/sim/events.js';
import { createSimulation } from '../../dist/sim/simulate.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const wanted = process.argv.slice(2);
for (const name of wanted) if (!(name in SHIPPED_MODELS)) throw new Error(`unknown model "${name}": ${Object.keys(SHIPPED_MODELS).join(', ')}`);
for (const [name, { file, recipe, training }] of Object.entries(SHIPPED_MODELS)) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  const out = resolve(here, file);
  const started = performance.now();
  const set = extractTrainingSet([{ group: 'sim-train', events: simulationEvents(createSimulation(training)) }], { extractor: recipe.extractor });
  const extracted = performance.now();
  const fit = recipe.fit.classifier === 'mlp'
    ? { ...recipe.fit, mlp: { ...recipe.fit.mlp, onEpoch: (n, epoch, loss, accuracy) => process.stdout.write(`  ${name}: network ${n + 1} epoch ${epoch}: loss ${loss.toFixed(4)}, validation accuracy ${(100 * accuracy).toFixed(2)}%\n`) } }
    : recipe.fit;
  const model = fitModel(set.table, set.input, { ...fit, limits: set.limits });
  writeModelFile(out, model);
  const s = (a, b) => ((b - a) / 1000).toFixed(0);
  console.log(`${name} model ${model.id}: ${model.training.count} cycles (${set.skipped.length} skipped for quality), ` +
    `${model.pca.components} components, ${model.classifier.type}, ${model.classifier.type === 'mlp' ? 'held-out-fold' : 'cross-validated'} accuracy ${(100 * model.training.cvAccuracy).toFixed(1)}%, ` +
    `features ${s(started, extracted)} s, fit ${s(extracted, performance.now())} s; written to ${out}`);
}
