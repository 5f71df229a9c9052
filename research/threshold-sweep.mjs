#!/usr/bin/env node
// Detection and false alarms of a model on the 5,000 evaluation containers at other thresholds on P(suspicious)
// than its own: what an oracle that sets the threshold on the evaluation data itself could reach (not a
// deployable result). Verdicts the policy makes suspicious for another reason (the unknown-odour limit, the
// suspicious classes outweighing clear) stay suspicious at every threshold; inconclusive ones count as neither.
//   node research/threshold-sweep.mjs <model> [threshold ...]
import { readModelFile, runSimulatedSet, SHIPPED_SETS } from '../dist/index.js';

const [file, ...given] = process.argv.slice(2);
const loaded = file ? readModelFile(file) : null;
if (!loaded?.ok) {
  console.error('usage: threshold-sweep.mjs <model> [threshold ...]');
  process.exit(2);
}
const model = loaded.value;
const own = model.policy.threshold;
const thresholds = given.length > 0 ? given.map(Number) : [own, 0.6, 0.65, 0.7, 0.75, 0.8, 0.9];
const rows = [];
await runSimulatedSet(model, 'evaluation', { ...SHIPPED_SETS.evaluation, containers: 5000 }, (v) => rows.push(v));
const effective = (v) => (v.verdict === 'inconclusive' ? null : v.verdict === 'suspicious' && !(v.score > own) ? Infinity : v.score);
const clear = rows.filter((v) => v.label === 'clear');
const drugs = rows.filter((v) => v.label !== 'clear');
const flagged = (set, t) => set.filter((v) => { const e = effective(v); return e !== null && e > t; }).length;
console.log(`model ${model.id}, own threshold ${own.toFixed(3)}; ${clear.length} clear and ${drugs.length} drug containers`);
for (const t of thresholds) {
  console.log(`threshold ${t.toFixed(3)}: detection ${(100 * flagged(drugs, t) / drugs.length).toFixed(2)}%, false alarms ${(100 * flagged(clear, t) / clear.length).toFixed(2)}%`);
}
