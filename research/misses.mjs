#!/usr/bin/env node
// Where a model misses: its verdicts on the evaluation containers, by substance and by the label of the container
// before (carry-over: a sticky marker of the previous container is still leaving the sensors), and for MDMA by
// piperonal concentration. The ground truth comes from the simulator, so nothing but the engine's verdicts is read.
//   node research/misses.mjs <model> [containers, default 5000]
import { createSimulation, readModelFile, runSimulatedSet, SHIPPED_SETS } from '../dist/index.js';

const [file, countText] = process.argv.slice(2);
const loaded = file ? readModelFile(file) : null;
if (!loaded?.ok) {
  console.error('usage: misses.mjs <model> [containers]');
  process.exit(2);
}
const containers = Number(countText ?? 5000);
const set = { ...SHIPPED_SETS.evaluation, containers };
const verdicts = [];
await runSimulatedSet(loaded.value, 'evaluation', set, (v) => verdicts.push(v));
const sim = createSimulation(set);
const stats = new Map();
const add = (key, verdict) => {
  const s = stats.get(key) ?? { n: 0, suspicious: 0, inconclusive: 0 };
  s.n++;
  if (verdict === 'suspicious') s.suspicious++;
  else if (verdict === 'inconclusive') s.inconclusive++;
  stats.set(key, s);
};
let previous = null;
verdicts.forEach((v, i) => {
  const truth = sim.cycleAt(i).truth;
  if (truth.sample !== v.sample) throw new Error(`verdict ${i} is for ${v.sample}, the simulator's container ${i} is ${truth.sample}`);
  const before = previous && previous.day === truth.day ? previous.label : 'none';
  add(`${truth.label}, after ${before === 'none' || before === 'clear' ? 'a clear container (or none that day)' : 'a drug container'}`, v.verdict);
  if (truth.label === 'mdma' && before !== 'none') add(`mdma, after ${before}`, v.verdict);
  if (truth.label === 'mdma') {
    const c = truth.concentrationsPpb.piperonal;
    add(`mdma, piperonal ${c < 0.5 ? 'below 0.5' : c < 1 ? '0.5-1' : c < 2 ? '1-2' : c < 4 ? '2-4' : '4 or more'} ppb`, v.verdict);
  }
  previous = truth;
});
console.log(`model ${loaded.value.id}, ${containers} evaluation containers: share suspicious / inconclusive`);
for (const [key, s] of [...stats].sort(([a], [b]) => a.localeCompare(b))) {
  console.log(`${key}: ${s.n} containers, ${(100 * s.suspicious / s.n).toFixed(1)}% / ${(100 * s.inconclusive / s.n).toFixed(1)}%`);
}
