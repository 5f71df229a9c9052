#!/usr/bin/env node
// The shipped early plan (both shipped models, trained on 30 s baselines) on evaluation containers whose cycles
// all have a shorter baseline, right after the previous recovery (or after idleS s of idle): what a rig that
// shortens its baseline after a clean recovery (SHORT_BASELINE_MS) would give with them. docs/early-decision.md,
// "A shorter baseline after a clean recovery".
// Run: npm run build && node research/short-baseline.mjs <baselineS> <containers> [evalSeed] [idleS]
// Prints one JSON line: detection, false alarms (and their Wilson 95 % upper bound), inconclusive, the clear
// containers' decision times (the plan's nominal seconds: 90 and 150), drug containers cleared early, and the
// inconclusive verdicts' reasons.
import { runEarlySet } from '../dist/shipped/earlySet.js';
import { SHIPPED_EARLY_PLAN } from '../dist/shipped/earlyPlan.js';
import { loadShippedModel, SHIPPED_SETS } from '../dist/shipped/recipes.js';

const [baselineS, containers, seed = SHIPPED_SETS.evaluation.seed, idleS = 0] = process.argv.slice(2).map(Number);
if (!(baselineS >= 3 && Number.isInteger(containers) && containers > 0)) {
  console.error('usage: node research/short-baseline.mjs <baselineS >= 3> <containers> [evalSeed] [idleS]');
  process.exit(2);
}
const redrawn = seed !== SHIPPED_SETS.evaluation.seed ? { seed, rigSeed: SHIPPED_SETS.evaluation.seed } : {};
const set = { ...SHIPPED_SETS.evaluation, containers, baselineS, idleS, ...redrawn };
const reasons = {};
const early = { plan: SHIPPED_EARLY_PLAN, models: [loadShippedModel(undefined, 'exposure')] };
const run = await runEarlySet(loadShippedModel(undefined, 'default'), early, set, 60, (v) => {
  if (v.verdict === 'inconclusive') for (const r of v.reasons) reasons[r] = (reasons[r] ?? 0) + 1;
});
const s = run.summary;
console.log(JSON.stringify({
  baselineS, idleS, containers, seed,
  detectionRate: s.detectionRate, falseAlarmRate: s.falseAlarmRate, falseAlarmUpper95: s.falseAlarmUpper95,
  inconclusive: s.inconclusive, clearTimesS: s.decisionTimesS.clear, drugsClearedEarly: s.drugsClearedEarly.total,
  inconclusiveReasons: reasons, missing: run.missing, seconds: Math.round(run.seconds),
}));
