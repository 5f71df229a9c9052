#!/usr/bin/env node
// A model's false alarms and detection at its own threshold on labelled containers of its own training days that
// it never saw: positions in the day at and after `skip` (a model trained on N containers of 20 days saw positions
// 0 to N/20 - 1 of each day), drawn by the same simulator seed; then the same on the first evaluation containers.
// What the held-out fold promised is in the model (policy.calibration).
//   node research/fresh-positions.mjs <model> <skip (N/20)> [per day, default 2000] [days back from day 20, default 4] [evaluation containers, default 20000]
import { readModelFile, runSimulatedSet, SHIPPED_SETS } from '../dist/index.js';

const [file, skipText, perDayText, daysText, evalText] = process.argv.slice(2);
const loaded = file ? readModelFile(file) : null;
if (!loaded?.ok || skipText === undefined) {
  console.error('usage: fresh-positions.mjs <model> <skip> [per day] [days] [evaluation containers]');
  process.exit(2);
}
const model = loaded.value;
const skip = Number(skipText);
const perDay = Number(perDayText ?? 2000);
const days = Number(daysText ?? 4);
const evaluation = Number(evalText ?? 20000);
const rate = (verdicts, wantClear) => {
  const set = verdicts.filter((v) => (v.label === 'clear') === wantClear);
  const alarms = set.filter((v) => v.verdict === 'suspicious').length;
  return `${((100 * alarms) / set.length).toFixed(2)}% (${alarms} of ${set.length})`;
};
const fresh = [];
await runSimulatedSet(model, 'fresh positions', { seed: 1, containers: (skip + perDay) * days, startDay: 21 - days, days }, (v) => {
  if (Number(v.sample.split('-')[1]) >= skip) fresh.push(v);
});
const c = model.policy.calibration;
console.log(`model ${model.id}, threshold ${model.policy.threshold.toFixed(4)}; its held-out fold: false alarms ${(100 * c.falseAlarmRate).toFixed(2)}% of ${c.clearSamples}, detection ${(100 * c.detectionRate).toFixed(2)}%`);
console.log(`days ${21 - days}-20, positions ${skip}-${skip + perDay - 1} of each day: false alarms ${rate(fresh, true)}, detection ${rate(fresh, false)}`);
if (evaluation > 0) {
  const rows = [];
  await runSimulatedSet(model, 'evaluation', { ...SHIPPED_SETS.evaluation, containers: evaluation }, (v) => rows.push(v));
  console.log(`evaluation days 21-30, ${evaluation} containers: false alarms ${rate(rows, true)}, detection ${rate(rows, false)}`);
}
