#!/usr/bin/env node
// What a sorbent pre-concentrator would buy: for each pre-concentration factor (the simulator's
// `preconcentrationFactor`, which multiplies the compounds a Tenax-type trap retains: every marker except
// acetic acid, and toluene, benzene, fruit esters, diesel), train the linear recipe (LINEAR_MODEL_RECIPE: the
// shipped MLPs take about 4 minutes a model on 2 cores, this seconds) on the shipped training days measured through that factor, then run the evaluation
// days (seed 1, days 21-30) through the engine with it. Factor 1 is the shipped default model's setting.
// Run: npm run eval:sim-preconc [-- --containers 1000 --factors 1,3,10,30] [-- --after-recovery]
// (--after-recovery: LINEAR_RECOVERY_RECIPE, the linear recipe with recovery windows, verdict when the recovery ends)
import { createSimulation, extractTrainingSet, fitModel, LINEAR_MODEL_RECIPE, LINEAR_RECOVERY_RECIPE, runSimulatedSet, SHIPPED_SETS, simulationEvents } from '../dist/index.js';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const containers = Number(arg('containers', '1000'));
const factors = arg('factors', '1,3,10,30').split(',').map(Number);
const afterRecovery = process.argv.includes('--after-recovery');
const recipe = afterRecovery ? LINEAR_RECOVERY_RECIPE : LINEAR_MODEL_RECIPE;
const pct = (a, b) => (b ? `${((100 * a) / b).toFixed(1)}%` : '-');
console.log(`training: ${SHIPPED_SETS.training.containers} containers, days 1-20; evaluation: ${containers} containers, days 21-30; recipe ${afterRecovery ? 'LINEAR_RECOVERY_RECIPE' : 'LINEAR_MODEL_RECIPE'}`);
console.log('| pre-concentration | detected | false alarms | inconclusive | cocaine | cannabis | heroin | MDMA | training threshold (CV false alarms) |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const factor of factors) {
  const train = createSimulation({ ...SHIPPED_SETS.training, preconcentrationFactor: factor });
  const set = extractTrainingSet([{ group: 'sim-train', events: simulationEvents(train) }], { extractor: recipe.extractor });
  const model = fitModel(set.table, set.input, { ...recipe.fit, limits: set.limits });
  const s = await runSimulatedSet(model, `x${factor}`, { ...SHIPPED_SETS.evaluation, containers, preconcentrationFactor: factor });
  const per = (label) => {
    const r = s.perLabel[label];
    return r ? pct(r.suspicious, r.n) : '-';
  };
  const c = s.perLabel['clear'];
  const cal = model.policy?.calibration;
  console.log(
    `| x${factor} | ${pct(s.detectionRate ?? 0, 1)} | ${pct(c.suspicious, c.n)} (${c.suspicious} of ${c.n}) | ${s.inconclusive} | ${per('cocaine')} | ${per('cannabis')} | ${per('heroin')} | ${per('mdma')} | ${model.policy?.threshold.toFixed(3)} (${pct(cal?.falseAlarmRate ?? 0, 1)}) |`,
  );
}
