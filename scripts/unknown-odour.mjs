#!/usr/bin/env node
// Unknown odours on the simulator: train the linear recipe (LINEAR_MODEL_RECIPE; the shipped MLPs take about 10
// minutes a model, four are needed) on the shipped training
// days without one substance, run the evaluation days (seed 1, days 21-30, 400 containers) through the engine, and count how many of the
// held-out substance and of the known labels are flagged unknown-odour. Run: npm run eval:sim-unknown
// [-- --preconcentration F] (train and evaluate through a pre-concentrator of gain F, as eval:sim-preconc)
// [-- --novelty-quantile Q] (the novelty limit's quantile instead of the default model's 0.995)
// [-- --whiten] (the distance in whitened PCA space, every component, instead of the first 20 as they are)
// [-- --after-recovery] (LINEAR_RECOVERY_RECIPE: recovery windows too, the verdict when the recovery ends)
// [-- --mlp] (the shipped models' recipes instead, EXPOSURE_MODEL_RECIPE or with --after-recovery
//            RECOVERY_MODEL_RECIPE, on their 60,000 training containers: about 35 minutes here)
import { createSimulation, EXPOSURE_MODEL_RECIPE, extractTrainingSet, fitModel, judgeRecordings, LINEAR_MODEL_RECIPE, LINEAR_RECOVERY_RECIPE, RECOVERY_MODEL_RECIPE, SHIPPED_SETS, simulationEvents } from '../dist/index.js';
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const afterRecovery = process.argv.includes('--after-recovery');
const mlp = process.argv.includes('--mlp');
const recipe = mlp ? (afterRecovery ? RECOVERY_MODEL_RECIPE : EXPOSURE_MODEL_RECIPE) : afterRecovery ? LINEAR_RECOVERY_RECIPE : LINEAR_MODEL_RECIPE;
const trainingSet = mlp ? SHIPPED_SETS.mlpTraining : SHIPPED_SETS.training;
const preconcentrationFactor = arg('preconcentration', 1);
const noveltyQuantile = arg('novelty-quantile', recipe.fit.noveltyQuantile);
const whiten = process.argv.includes('--whiten');
const { noveltyComponents, ...recipeFit } = recipe.fit;
const fit = whiten ? { ...recipeFit, noveltyWhiten: true } : { ...recipeFit, noveltyComponents };
console.log(`${afterRecovery ? 'recovery windows (verdict when the recovery ends), ' : ''}pre-concentration x${preconcentrationFactor}, novelty limit at the ${noveltyQuantile} quantile, ${whiten ? 'whitened, every component' : `first ${noveltyComponents} components`}, ${trainingSet.containers} training containers, ${recipe.fit.classifier}`);
const trainSim = createSimulation({ ...trainingSet, preconcentrationFactor });
const set = extractTrainingSet([{ group: 't', events: simulationEvents(trainSim) }], { extractor: recipe.extractor });
const evalEvents = [...simulationEvents(createSimulation({ seed: 1, containers: 400, startDay: 21, days: 10, preconcentrationFactor }))];
console.log('| held out | held-out flagged unknown-odour | known labels flagged unknown-odour | held-out verdict suspicious (any reason) | clear containers suspicious |');
console.log('|---|---|---|---|---|');
for (const held of ['cocaine', 'cannabis', 'heroin', 'mdma']) {
  const keep = []; for (let i = 0; i < set.table.count; i++) if (set.table.labels[i] !== held) keep.push(i);
  const t = set.table; const x = new Float64Array(keep.length * t.width); keep.forEach((r, i) => x.set(t.x.subarray(r * t.width, (r + 1) * t.width), i * t.width));
  const sub = { ...t, x, count: keep.length, labels: keep.map(i => t.labels[i]), samples: keep.map(i => t.samples[i]), groups: keep.map(i => t.groups[i]) };
  const m = fitModel(sub, set.input, { ...fit, noveltyQuantile, limits: set.limits });
  const j = judgeRecordings(m, [{ group: 'e', events: evalEvents }]);
  let u = 0, uf = 0, us = 0, k = 0, kf = 0, c = 0, cs = 0;
  for (const s of j.samples) {
    const f = s.reasons.includes('unknown-odour');
    if (s.label === held) { u++; if (f) uf++; if (s.verdict === 'suspicious') us++; }
    else { k++; if (f) kf++; if (s.label === 'clear') { c++; if (s.verdict === 'suspicious') cs++; } }
  }
  const pc = (a, b) => `${(100 * a / b).toFixed(1)}%`;
  // The operational question too: is the held-out substance sent to inspection at all (any reason)?
  console.log(`| ${held} | ${pc(uf, u)} of ${u} | ${pc(kf, k)} of ${k} | ${pc(us, u)} | ${pc(cs, c)} of ${c} |`);
}
