#!/usr/bin/env node
// Unlabelled drift correction of a model (`enose calibrate`'s methods) fitted on evaluation-day containers that
// are NOT in the evaluation set (position 500 and later in their day; the evaluation set's 5,000 are positions
// 0-499 of days 21-30), then the 5,000 evaluation containers through the streaming engine (as `enose demo`).
// Labels of the reference containers are not used.
//   node research/recalibrate.mjs <model> [--method standardise|component-correction|entropy]
//        [--start-day 21] [--days 10] [--per-day 1000]
// Measured 2026-11-27 on the 120,000-container recovery model (docs/EXPERIMENTS.md): all of them raise the
// false alarms well above its uncorrected 1.4%.
import { createSimulation, extractorOf, extractTrainingSet, readModelFile, runSimulatedSet, SHIPPED_SETS, simulationEvents } from '../dist/index.js';
import { calibrateModel } from '../dist/model/drift/calibration.js'; // not in the public API

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const [value] = args.splice(i, 2).slice(1);
  return value;
};
const method = option('method', 'standardise');
const startDay = Number(option('start-day', '21'));
const days = Number(option('days', '10'));
const perDay = Number(option('per-day', '1000'));
const [file] = args;
if (!file || !(perDay > 500) || !(days >= 1)) {
  console.error('usage: recalibrate.mjs <model> [--method m] [--start-day d] [--days n] [--per-day k > 500]');
  process.exit(2);
}
const loaded = readModelFile(file);
if (!loaded.ok) {
  console.error(`recalibrate: ${loaded.error.message ?? JSON.stringify(loaded.error)}`);
  process.exit(2);
}
const model = loaded.value;
const simulation = { seed: SHIPPED_SETS.evaluation.seed, containers: perDay * days, startDay, days };
const set = extractTrainingSet([{ group: 'reference', events: simulationEvents(createSimulation(simulation)) }], { extractor: extractorOf(model) });
const t = set.table;
const keep = [];
for (let i = 0; i < t.count; i++) if (Number(t.samples[i].split('-')[1]) >= 500) keep.push(i);
const x = new Float64Array(keep.length * t.width);
keep.forEach((row, i) => x.set(t.x.subarray(row * t.width, (row + 1) * t.width), i * t.width));
const reference = { ...t, count: keep.length, x, labels: keep.map((i) => t.labels[i]), samples: keep.map((i) => t.samples[i]), groups: keep.map((i) => t.groups[i]) };
const corrected = calibrateModel(model, reference, { method });
const pct = (v) => `${(100 * v).toFixed(2)}%`;
for (const [name, m] of [['uncorrected', model], [method, corrected]]) {
  const s = await runSimulatedSet(m, 'evaluation', { ...SHIPPED_SETS.evaluation, containers: 5000 });
  const per = Object.entries(s.perLabel).map(([label, r]) => `${label} ${r.suspicious}/${r.n}`).join(', ');
  console.log(`${name} (reference: ${reference.count} containers of days ${startDay}-${startDay + days - 1}): detection ${pct(s.detectionRate)}, false alarms ${pct(s.falseAlarmRate)} (${per})`);
}
