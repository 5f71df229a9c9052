#!/usr/bin/env node
// Trains datasets/container-sim/default-model.json on the shipped training set (simulator seed 1, days 1-20,
// 400 containers), through the same feature path as `enose train` on frames. Run: npm run model:default
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SHIPPED_SETS } from '../../dist/cli/demo.js';
import { extractTrainingSet } from '../../dist/engine/training.js';
import { writeModelFile } from '../../dist/io/modelFile.js';
import { fitModel } from '../../dist/model/pipeline.js';
import { simulationEvents } from '../../dist/sim/events.js';
import { createSimulation } from '../../dist/sim/simulate.js';

const out = resolve(fileURLToPath(new URL('.', import.meta.url)), 'default-model.json');
const set = extractTrainingSet([{ group: 'sim-train', events: simulationEvents(createSimulation(SHIPPED_SETS.training)) }]);
const model = fitModel(set.table, set.input, { classifier: 'lda', limits: set.limits });
writeModelFile(out, model);
console.log(`default model ${model.id}: ${model.training.count} cycles (${set.skipped.length} skipped for quality), ` +
  `${model.pca.components} components, cross-validated accuracy ${(100 * model.training.cvAccuracy).toFixed(1)}%, written to ${out}`);
