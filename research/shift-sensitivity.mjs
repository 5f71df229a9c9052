#!/usr/bin/env node
// How far a model's verdicts move when its PCA scores are shifted a little (what adaptation during operation
// does to a model: it moves the scaler's mean). Features of 1,500 evaluation-day containers (simulator seed 1,
// days 21-30), verdicts through predictForVerdict + the policy, with every score, the leading 20, or the rest
// shifted by a random multiple (seeded normal) of `a` training standard deviations of its component.
//   node research/shift-sensitivity.mjs <model>
// On the recovery model (2026-11-27): 0.9% false alarms unshifted; 0.05 / 0.2 sd on the leading 20: 2.5% / 21.3%;
// 0.1 sd on every component: detection 95.2% -> 84.5%.
import { compileModel, compilePolicy, createSimulation, decideVerdict, extractorOf, extractTrainingSet, noveltyOfLast, predictForVerdict, readModelFile, simulationEvents } from '../dist/index.js';

const loaded = process.argv[2] ? readModelFile(process.argv[2]) : null;
if (!loaded?.ok) {
  console.error('usage: shift-sensitivity.mjs <model>');
  process.exit(2);
}
const model = loaded.value;
const compiled = compileModel(model);
const policy = compilePolicy(model);
const k = model.pca.components;
const width = compiled.width;
const sd = model.pca.variance.map(Math.sqrt);
const set = extractTrainingSet([{ group: 'evaluation', events: simulationEvents(createSimulation({ seed: 1, containers: 1500, startDay: 21, days: 10 })) }], { extractor: extractorOf(model) });
const t = set.table;
const base = Float64Array.from(compiled.offset);
const probs = new Float64Array(model.classes.length);
function rates() {
  let alarms = 0, clear = 0, detected = 0, drugs = 0;
  for (let i = 0; i < t.count; i++) {
    const best = predictForVerdict(compiled, t.x, i * width, probs);
    const v = decideVerdict(policy, probs, best, noveltyOfLast(compiled)).verdict;
    if (t.labels[i] === 'clear') { clear++; if (v === 'suspicious') alarms++; } else { drugs++; if (v === 'suspicious') detected++; }
  }
  return `false alarms ${((100 * alarms) / clear).toFixed(1)}%, detection ${((100 * detected) / drugs).toFixed(1)}%`;
}
let seed = 7;
const uniform = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
const normal = () => Math.sqrt(-2 * Math.log(uniform() + 1e-12)) * Math.cos(2 * Math.PI * uniform());
console.log(`model ${model.id}, ${t.count} evaluation containers; unshifted: ${rates()}`);
for (const a of [0.02, 0.05, 0.1, 0.2]) {
  for (const [name, moved] of [['every component', () => true], ['the leading 20', (c) => c < 20], ['components 21 and on', (c) => c >= 20]]) {
    for (let c = 0; c < k; c++) compiled.offset[c] = base[c] - (moved(c) ? a * sd[c] * normal() : 0);
    console.log(`${a} sd on ${name}: ${rates()}`);
  }
}
