#!/usr/bin/env node
// Rough cost of a third checkpoint: the same 300 evaluation containers through the live engine with the shipped plan
// and with the three-checkpoint plan (a three-window in-exposure model at 60 s); CPU seconds of this process.
// NOT a model or thresholds to use: the 60 s model is the tests' fixture (400 training containers) and its clear
// threshold (0.1) is arbitrary, so detection falls (drug containers cleared at 60 s). Run after a build:
// node scripts/early-checkpoints-cost.mjs [containers, default 300]
import { extractTrainingSet } from '../dist/engine/training.js';
import { fitModel } from '../dist/model/fitting/fitModel.js';
import { runEarlySet } from '../dist/shipped/earlySet.js';
import { LINEAR_MODEL_RECIPE, SHIPPED_EARLY_PLAN, loadShippedModel, simulationEvents, createSimulation } from '../dist/index.js';
const extractor = { ...LINEAR_MODEL_RECIPE.extractor, windowCount: 3, decideInExposure: true };
const set = extractTrainingSet([{ group: 'g', events: simulationEvents(createSimulation({ seed: 1, containers: 400, startDay: 1, days: 4 })) }], { extractor });
const w3 = fitModel(set.table, set.input, { ...LINEAR_MODEL_RECIPE.fit, limits: set.limits });
const final = loadShippedModel(undefined, 'default');
const exposure = loadShippedModel(undefined, 'exposure');
const three = { ...SHIPPED_EARLY_PLAN, checkpoints: [{ atS: 60, modelId: w3.id, clearBelow: 0.1, suspiciousAbove: 1 }, SHIPPED_EARLY_PLAN.checkpoints[0]] };
const sim = { seed: 1, containers: Number(process.argv[2] ?? 300), startDay: 21, days: 10 };
for (const [name, early] of [['shipped plan', { plan: SHIPPED_EARLY_PLAN, models: [exposure] }], ['three checkpoints', { plan: three, models: [exposure, w3] }], ['shipped plan again', { plan: SHIPPED_EARLY_PLAN, models: [exposure] }]]) {
  const cpu = process.cpuUsage();
  const run = await runEarlySet(final, early, sim);
  const used = process.cpuUsage(cpu);
  console.log(`${name}: ${((used.user + used.system) / 1e6).toFixed(2)} s CPU, ${run.seconds.toFixed(2)} s wall; decisionTimesS ${JSON.stringify(run.summary.decisionTimesS)}; meanDecisionClearS ${run.summary.meanDecisionClearS}; detection ${run.summary.detectionRate}, false alarms ${run.summary.falseAlarmRate}`);
}
