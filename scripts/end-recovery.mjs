#!/usr/bin/env node
/**
 * How long a recovery lasts under the END rule (hardware/PROTOCOL.md, "Ending a cycle") when the host ends the
 * cycle at the exposure's end (the 90 s checkpoint), on simulated containers: the rig's rule
 * (src/io/rigRecovery.ts) applied to each cycle's own recovery frames. Run after `npm run build`:
 *
 *   node scripts/end-recovery.mjs [--containers 1000] [--seed 1] [--start-day 21]
 *
 * Prints one JSON line: recovery seconds (mean, quantiles), the share that ends before the full 60 s, and the
 * cycle length (30 s baseline + 60 s exposure + recovery) it gives a container cleared at 90 s.
 */
import { parseArgs } from 'node:util';
import { createSimulation } from '../dist/sim/simulate.js';
import { END_RULE, RecoveryRule } from '../dist/io/rigRecovery.js';

const { values } = parseArgs({ options: { containers: { type: 'string', default: '1000' }, seed: { type: 'string', default: '1' }, 'start-day': { type: 'string', default: '21' } } });
const sim = createSimulation({ seed: Number(values.seed), containers: Number(values.containers), startDay: Number(values['start-day']) });
const rateHz = 1 / sim.dtS;
const rule = new RecoveryRule(sim.channels, rateHz);
const lengths = [];
const byTruth = {};
for (const cycle of sim.cycles()) {
  rule.startCycle();
  let r = 0;
  for (const f of cycle.frames()) {
    if (f.phase === 'R' && !rule.endTaken) rule.end('R');
    if (f.phase === 'R' && rule.done()) break;
    rule.observe(f.phase, f.values);
    if (f.phase === 'R') r++;
  }
  const s = r / rateHz;
  lengths.push(s);
  const key = cycle.truth.label ?? 'unknown';
  (byTruth[key] ??= []).push(s);
}
const sorted = [...lengths].sort((a, b) => a - b);
const q = (p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const fullS = sim.options.recoveryS ?? 60;
console.log(JSON.stringify({
  containers: lengths.length,
  rule: { ...END_RULE },
  recoveryS: { mean: +mean(lengths).toFixed(2), p10: q(0.1), p50: q(0.5), p90: q(0.9) },
  endedBeforeFullShare: +(lengths.filter((s) => s < fullS - 1e-9).length / lengths.length).toFixed(4),
  meanRecoveryByTruthS: Object.fromEntries(Object.entries(byTruth).map(([k, xs]) => [k, +mean(xs).toFixed(2)])),
  cycleSClearedAt90: +(90 + mean(lengths)).toFixed(2),
}));
