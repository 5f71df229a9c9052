#!/usr/bin/env node
// A recipe variant trained and evaluated in one go: the linear recovery recipe (or, with --mlp, the shipped
// recovery model's) with extractor and fit settings overridden, trained on N containers of the training days
// (simulated and extracted on two worker threads), then the evaluation containers through the engine: its
// detection and false alarms at its own threshold, and at thresholds an oracle sets on the evaluation's clear
// containers for 0.5 to 1.25 % false alarms (not deployable: to compare variants at equal false alarms).
//   node research/recipe-variant.mjs <training containers> <evaluation containers> '<extractor JSON>' ['<fit JSON>'] [--mlp] [--out model.json.gz]
// e.g. the baseline windows: node research/recipe-variant.mjs 6000 5000 '{"baselineWindowS":10,"baselineWindowCount":3}'
import { Worker } from 'node:worker_threads';
import { fitModel, LINEAR_RECOVERY_RECIPE, RECOVERY_MODEL_RECIPE, runSimulatedSet, SHIPPED_SETS, writeModelFile } from '../dist/index.js';
import { assembleTrainingSet } from '../dist/engine/training.js'; // not in the public API

const args = process.argv.slice(2);
const flag = (name) => {
  const i = args.indexOf(name);
  if (i >= 0) args.splice(i, 1);
  return i >= 0;
};
const outAt = args.indexOf('--out');
const out = outAt >= 0 ? args.splice(outAt, 2)[1] : undefined;
const base = flag('--mlp') ? RECOVERY_MODEL_RECIPE : LINEAR_RECOVERY_RECIPE;
const [containersText, evalText, extractorJson, fitJson] = args;
const containers = Number(containersText);
const evaluation = Number(evalText);
if (!(Number.isInteger(containers) && containers >= 100 && containers % 2 === 0) || !(Number.isInteger(evaluation) && evaluation >= 100)) {
  console.error('usage: recipe-variant.mjs <training containers (even)> <evaluation containers> [extractor JSON] [fit JSON] [--mlp] [--out file]');
  process.exit(2);
}
const extractor = { ...base.extractor, ...JSON.parse(extractorJson || '{}') };
const fit = { ...base.fit, ...JSON.parse(fitJson || '{}') };
const started = performance.now();
// Days 1-10 and 11-20 on a worker each (the same cycles as one thread: each day is drawn on its own).
const halves = [1, 11].map((startDay) => ({ seed: 1, containers: containers / 2, startDay, days: 10 }));
const parts = await Promise.all(halves.map((simulation) => new Promise((resolve, reject) => {
  const worker = new Worker(new URL('../scripts/extract-worker.mjs', import.meta.url), { workerData: { simulation, group: 'sim-train', extractor } });
  worker.once('message', resolve);
  worker.once('error', reject);
})));
const set = assembleTrainingSet(parts, { extractor });
const extracted = performance.now();
const model = fitModel(set.table, set.input, { ...fit, ...(fit.mlp && { mlp: { ...fit.mlp, threads: 2 } }), limits: set.limits });
const fitted = performance.now();
if (out) writeModelFile(out, model);
const verdicts = [];
const s = await runSimulatedSet(model, 'evaluation', { ...SHIPPED_SETS.evaluation, containers: evaluation }, (v) => verdicts.push(v));
const own = model.policy.threshold;
// A score per verdict for the oracle: inconclusive only because below the threshold keeps its score; other
// inconclusive verdicts never alarm; suspicious for a reason other than the score (the novelty limit) always does.
const effective = (v) =>
  v.verdict === 'inconclusive'
    ? v.reasons.every((r) => r === 'suspicious-class-below-threshold') && v.score !== null ? v.score : -1
    : v.verdict === 'suspicious' && !(v.score > own) ? Infinity : v.score;
const clear = verdicts.filter((v) => v.label === 'clear').map(effective).sort((a, b) => b - a);
const drugs = verdicts.filter((v) => v.label !== 'clear').map(effective);
const mdma = verdicts.filter((v) => v.label === 'mdma').map(effective);
const share = (xs, t) => `${((100 * xs.filter((x) => x > t).length) / xs.length).toFixed(1)}%`;
const oracle = [0.005, 0.0075, 0.01, 0.0125].map((fa) => {
  const t = clear[Math.floor(fa * clear.length)];
  return `at ${(100 * fa).toFixed(2)}%: ${share(drugs, t)} (MDMA ${share(mdma, t)})`;
});
const per = Object.entries(s.perLabel).map(([k, v]) => `${k} ${v.suspicious}/${v.n}`).join(', ');
console.log(`model ${model.id}, ${set.table.width} features; ${((extracted - started) / 1000).toFixed(0)} s to simulate and extract, ${((fitted - extracted) / 1000).toFixed(0)} s to fit`);
console.log(`evaluation ${evaluation}: detection ${(100 * s.detectionRate).toFixed(2)}%, false alarms ${(100 * s.falseAlarmRate).toFixed(2)}%, inconclusive ${s.inconclusive} (${per})`);
console.log(`oracle thresholds: ${oracle.join(', ')}`);
