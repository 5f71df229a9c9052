#!/usr/bin/env node
// Trains the two shipped models on the shipped training set (simulator seed 1, days 1-20, 6,000 containers),
// through the same feature path as `enose train` on frames (recipes in src/cli/demo.ts, where each setting is
// explained):
//   datasets/container-sim/default-model.json   DEFAULT_MODEL_RECIPE, verdict when the exposure ends
//   datasets/container-sim/recovery-model.json  RECOVERY_MODEL_RECIPE, verdict when the recovery ends
// Run: npm run model:default   (both; `-- default` or `-- recovery` for one)
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_MODEL_RECIPE, RECOVERY_MODEL_RECIPE, SHIPPED_SETS } from '../../dist/cli/demo.js';
import { extractTrainingSet } from '../../dist/engine/training.js';
import { writeModelFile } from '../../dist/io/modelFile.js';
import { fitModel } from '../../dist/model/pipeline.js';
import { simulationEvents } from '../../dist/sim/events.js';
import { createSimulation } from '../../dist/sim/simulate.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const models = { default: ['default-model.json', DEFAULT_MODEL_RECIPE], recovery: ['recovery-model.json', RECOVERY_MODEL_RECIPE] };
const wanted = process.argv.slice(2);
for (const name of wanted) if (!(name in models)) throw new Error(`unknown model "${name}": default or recovery`);
for (const [name, [file, recipe]] of Object.entries(models)) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  const out = resolve(here, file);
  const set = extractTrainingSet([{ group: 'sim-train', events: simulationEvents(createSimulation(SHIPPED_SETS.training)) }], { extractor: recipe.extractor });
  const model = fitModel(set.table, set.input, { ...recipe.fit, limits: set.limits });
  writeModelFile(out, model);
  console.log(`${name} model ${model.id}: ${model.training.count} cycles (${set.skipped.length} skipped for quality), ` +
    `${model.pca.components} components, cross-validated accuracy ${(100 * model.training.cvAccuracy).toFixed(1)}%, written to ${out}`);
}
