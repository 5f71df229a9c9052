#!/usr/bin/env node
// An EXPERIMENT for issue 22, not a shipped model: the exposure model's recipe (EXPOSURE_MODEL_RECIPE: windows of
// the exposure, the MLP) with only its first W 10 s windows, so that it can score a cycle W x 10 s into the
// exposure (the shipped exposure model's later windows are not defined on a partial exposure: its features there
// are NaN and the engine's gates make every verdict inconclusive). Trained on the first N containers of the
// exposure model's training days (SHIPPED_SETS.mlpTraining: seed 1, days 1-20), its threshold from its held-out
// fold; no rig fingerprint (it is scored on the simulated rig it was trained on).
// Run after a build: node scripts/early-model.mjs --windows 3 --containers 20000 --out /tmp/exposure-30s.json.gz
// then: npm run eval:early -- --early-model /tmp/exposure-30s.json.gz --early-at 60
import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { EXPOSURE_MODEL_RECIPE, fitModel, SHIPPED_SETS, writeModelFile } from '../dist/index.js';
import { assembleTrainingSet } from '../dist/engine/training.js'; // not in the public API

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : process.argv[i + 1];
};
const windows = Number(arg('windows', 3));
const containers = Number(arg('containers', 20000));
const workers = Number(arg('workers', 2));
const out = resolve(arg('out', `/tmp/exposure-${windows * 10}s.json.gz`));
if (!(Number.isInteger(windows) && windows >= 1 && windows <= 6)) throw new Error(`--windows must be 1..6, got ${windows}`);
const training = { ...SHIPPED_SETS.mlpTraining, containers };
if (containers % training.days !== 0) throw new Error(`--containers must split evenly over ${training.days} days`);
const extractor = { ...EXPOSURE_MODEL_RECIPE.extractor, windowCount: windows };
const started = performance.now();
const perDay = containers / training.days;
const ranges = [];
for (let w = 0; w < workers; w++) {
  const first = Math.floor((w * training.days) / workers);
  const end = Math.floor(((w + 1) * training.days) / workers);
  ranges.push({ ...training, startDay: training.startDay + first, days: end - first, containers: perDay * (end - first) });
}
const parts = await Promise.all(ranges.map((simulation) => new Promise((done, reject) => {
  const worker = new Worker(new URL('./extract-worker.mjs', import.meta.url), { workerData: { simulation, group: 'sim-train', extractor } });
  worker.once('message', done);
  worker.once('error', reject);
})));
const set = assembleTrainingSet(parts, { extractor });
const fit = { ...EXPOSURE_MODEL_RECIPE.fit, mlp: { ...EXPOSURE_MODEL_RECIPE.fit.mlp, threads: workers } };
const model = fitModel(set.table, set.input, { ...fit, limits: set.limits });
writeModelFile(out, model);
console.log(`model ${model.id}: ${windows} windows (${windows * 10} s of exposure), ${model.training.count} cycles, held-out accuracy ${(100 * model.training.cvAccuracy).toFixed(1)}%, threshold ${model.policy.threshold.toFixed(4)}; ${((performance.now() - started) / 1000).toFixed(0)} s -> ${out}`);
