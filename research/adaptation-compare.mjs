#!/usr/bin/env node
// Adaptation during operation against no adaptation, container by container, on the evaluation set (the same
// simulated containers as `enose demo`): alarms adaptation added and removed, drug containers it cleared where
// the unadapted model flagged them, verdicts made inconclusive by `adaptation-disagrees`, and the watchdog's stop.
//   node research/adaptation-compare.mjs <model> [--containers 5000] [--no-watchdog]
// --no-watchdog: adaptation as it was before the watchdog (maxAddedAlarmShare 1: it never stops; the rule that a
// parent alarm is never cleared still holds).
import { readModelFile, runSimulatedSet, SHIPPED_SETS } from '../dist/index.js';

const args = process.argv.slice(2);
const noWatchdog = args.includes('--no-watchdog');
if (noWatchdog) args.splice(args.indexOf('--no-watchdog'), 1);
const at = args.indexOf('--containers');
const containers = at < 0 ? 5000 : Number(args.splice(at, 2)[1]);
const loaded = args[0] ? readModelFile(args[0]) : null;
if (!loaded?.ok || !(containers >= 1)) {
  console.error('usage: adaptation-compare.mjs <model> [--containers N]');
  process.exit(2);
}
async function run(adaptation) {
  const verdicts = [];
  const summary = await runSimulatedSet(loaded.value, 'evaluation', { ...SHIPPED_SETS.evaluation, containers }, (v) => verdicts.push(v), adaptation);
  return { verdicts, stop: summary.adaptation?.stoppedAfter == null ? null : summary.adaptation };
}
const adapted = await run(noWatchdog ? { maxAddedAlarmShare: 1 } : true);
const parent = await run(false);
let added = 0;
let removed = 0;
let clearedDrugs = 0;
let disagrees = 0;
const rates = (vs) => {
  const clear = vs.filter((v) => v.label === 'clear');
  const drugs = vs.filter((v) => v.label !== 'clear');
  const share = (set) => (100 * set.filter((v) => v.verdict === 'suspicious').length) / set.length;
  return `detection ${share(drugs).toFixed(1)}%, false alarms ${share(clear).toFixed(2)}%`;
};
adapted.verdicts.forEach((v, i) => {
  const p = parent.verdicts[i];
  if (v.verdict === 'suspicious' && p.verdict !== 'suspicious') added++;
  if (v.verdict !== 'suspicious' && p.verdict === 'suspicious') removed++;
  if (v.label !== 'clear' && v.verdict === 'clear' && p.verdict === 'suspicious') clearedDrugs++;
  if (v.reasons.includes('adaptation-disagrees')) disagrees++;
});
console.log(`model ${loaded.value.id}, ${containers} evaluation containers`);
console.log(`without adaptation: ${rates(parent.verdicts)}`);
console.log(`with adaptation${noWatchdog ? ' (no watchdog)' : ''}: ${rates(adapted.verdicts)}`);
console.log(`adaptation added ${added} alarms and removed ${removed}; drug containers it cleared where the unadapted model flagged them: ${clearedDrugs}; inconclusive for adaptation-disagrees: ${disagrees}`);
console.log(adapted.stop ? `watchdog stopped adaptation after container ${adapted.stop.stoppedAfter} (${adapted.stop.addedAlarms} added alarms in its window; ${adapted.stop.accepted} clear samples accepted)` : 'watchdog did not stop adaptation');
