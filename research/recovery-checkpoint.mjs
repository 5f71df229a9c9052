#!/usr/bin/env node
// Issue 22 research: checkpoints inside the recovery with the engine's own default recipe trained on the first k
// recovery windows (npm run model:default -- default --recovery-windows k --out ...), after the shipped plan's
// 90 s checkpoint: [90 s exposure model, 90 + 10 k s recovery-window models ...] -> the shipped default model at
// 150 s. Each checkpoint's thresholds by the shipped rule (src/engine/earlyThresholds.ts: clearBelow the lowest
// score of a drug container that the full cycle does not clear and that would leave there as a clean clear;
// suspiciousAbove for the false-alarm bound), chosen in time order on the threshold set's containers that reach
// it; then measured on the evaluation set (measureEarly, as `enose demo --early`).
// Reads the per-container score caches `npm run eval:early -- --early-model <model k> --early-at <s>` writes
// (node_modules/.cache/enose-early/<exposure>-<default>-r<recovery-start>-<model k>-<set>.json: rows
// [sample, label, e, eV, f, fV, r, rV, x, xV]; before the recovery-start checkpoint <exposure>-<default>-<x>-...
// without r), one per recovery-window model x.
// Run: node research/recovery-checkpoint.mjs <cacheId>:<atS> [<cacheId>:<atS> ...] [--eval-n 20000]
//   e.g. node research/recovery-checkpoint.mjs a7fdbf8f724d:100
import { readFileSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { decideEarly, measureEarly } from '../dist/index.js';
import { chooseEarlyThresholds } from '../dist/engine/earlyThresholds.js';

const args = process.argv.slice(2);
const evalN = args.includes('--eval-n') ? Number(args[args.indexOf('--eval-n') + 1]) : 20000;
const specs = args.filter((a) => a.includes(':')).map((a) => ({ id: a.split(':')[0], atS: Number(a.split(':')[1]) }));
const dir = resolve('node_modules/.cache/enose-early');
const files = readdirSync(dir);
function rowsOf(id, set) {
  // Caches written before the recovery-start checkpoint have no r column: <exposure>-<default>-<x>-<set>.json.
  const f = files.find((n) => (n.split('-')[2].startsWith('r') ? n.split('-')[3] : n.split('-')[2]) === id && n.includes(set));
  if (!f) throw new Error(`no cache for ${id} ${set} in ${dir}`);
  const x = f.split('-')[2].startsWith('r') ? 8 : 6;
  return new Map(JSON.parse(readFileSync(resolve(dir, f), 'utf8')).filter((r) => r[1] !== '').map((r) => [r[0], [...r.slice(0, 6), r[x], r[x + 1]]]));
}
function table(set) {
  const parts = specs.map((s) => rowsOf(s.id, set));
  return [...parts[0].values()].map((r) => ({
    sample: r[0],
    suspicious: r[1] !== 'clear',
    early: [{ score: r[2], verdict: r[3] }, ...parts.map((p) => ({ score: p.get(r[0])[6], verdict: p.get(r[0])[7] }))],
    final: { score: r[4], verdict: r[5] },
  }));
}
const selection = table('selection-s2');
const evaluation = table(`evaluation-s1-r1-d21x10-n${evalN}`);
const targets = { minDetection: 0.95, maxFalseAlarm: 0.01, confidence: 0.95, maxDrugClearedEarly: 0 };
const atS = [90, ...specs.map((s) => s.atS)];
const chosen = [];
for (let c = 0; c < atS.length; c++) {
  // The containers that reach checkpoint c (not decided at an earlier one), judged by it, the final model after.
  const plan = { checkpoints: chosen, finalAtS: 150 };
  const reach = selection.filter((r) => !decideEarly(plan, r.early.slice(0, chosen.length), r.final).early);
  const choice = chooseEarlyThresholds(reach.map((r) => ({ suspicious: r.suspicious, early: r.early[c], final: r.final })), { atS: atS[c], ...targets });
  chosen.push(choice.thresholds);
}
const plan = { checkpoints: chosen, finalAtS: 150 };
const measured = (rows, p) => measureEarly(rows.map((r) => {
  const o = decideEarly(p, r.early.slice(0, p.checkpoints.length), r.final);
  return { suspicious: r.suspicious, verdict: o.verdict, atS: o.atS, early: o.early, fullVerdict: r.final.verdict };
}));
const m = measured(evaluation, plan);
const only90 = measured(evaluation, { checkpoints: chosen.slice(0, 1), finalAtS: 150 });
const pick = (s) => ({ detectionRate: s.detectionRate, falseAlarmRate: s.falseAlarmRate, falseAlarmUpper95: s.falseAlarmUpper95, drugsClearedEarly: s.drugsClearedEarly, meanDecisionClearS: s.meanDecisionClearS, meanDecisionS: s.meanDecisionS, clear: s.decisionTimesS.clear, suspicious: s.decisionTimesS.suspicious });
console.log(JSON.stringify({ plan, evaluation: pick(m), evaluationOnly90: pick(only90) }, null, 1));
