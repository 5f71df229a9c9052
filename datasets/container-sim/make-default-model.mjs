#!/usr/bin/env node
// Trains datasets/container-sim/default-model.json on the shipped training set (simulator seed 1, days 1-20,
// 6,000 containers) with DEFAULT_MODEL_RECIPE (src/cli/demo.ts, where each setting is explained), through the same feature path as `enose train` on frames. Run: npm run model:default
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_MODEL_RECIPE, SHIPPED_SETS } from '../../dist/cli/demo.js';
import { extractTrainingSet } from '../../dist/engine/training.js';
import { writeModelFile } from '../../dist/io/modelFile.js';
import { fitModel } from '../../dist/model/pipeline.js';
import { simulationEvents } from '../../dist/sim/events.js';
import { createSimulation } from '../../dist/sim/simulate.js';

const out = resolve(fileURLToPath(new URL('.', import.meta.url)), 'default-model.json');
const set = extractTrainingSet([{ group: 'sim-train', events: simulationEvents(createSimulation(SHIPPED_SETS.training)) }], { extractor: DEFAULT_MODEL_RECIPE.extractor });
const model = fitModel(set.table, set.input, { ...DEFAULT_MODEL_RECIPE.fit, limits: set.limits });
writeModelFile(out, model);
console.log(`default model ${model.id}: ${model.training.count} cycles (${set.skipped.length} skipped for quality), ` +
  `${model.pca.components} components, cross-validated accuracy ${(100 * model.training.cvAccuracy).toFixed(1)}%, written to ${out}`);
