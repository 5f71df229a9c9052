#!/usr/bin/env node
// Detection against concentration: for each substance and each concentration scale (a multiple of the
// simulator's default marker concentrations), simulate a port day sequence on the evaluation days (seed 1,
// days 21-30, random background and weather) in which 4 of 5 containers are clear and 1 of 5 holds the
// substance, stream it through the engine with the default model, and count the verdicts of the substance's
// containers. The clear containers of the same runs give the false-alarm rate beside them (they follow the
// strong containers too: carry-over). Drug containers are rare in a port; a run of containers that all hold
// the same drug at x100 would mostly measure the carry-over of the previous one.
// Run after a build: npm run eval:sim-curve [-- --per 200] [-- --shipped default|exposure] (a shipped model
// of datasets/container-sim/; --at-exposure-end is --shipped exposure)
import { loadShippedModel, runSimulatedSet, SHIPPED_SETS } from '../dist/index.js';

const perArg = process.argv.indexOf('--per');
const per = perArg > 0 ? Number(process.argv[perArg + 1]) : 200;
const scales = [1, 3, 10, 30, 100, 300, 1000];
const shippedAt = process.argv.indexOf('--shipped');
const shipped = shippedAt > 0 ? process.argv[shippedAt + 1] : process.argv.includes('--at-exposure-end') ? 'exposure' : 'default';
const model = await loadShippedModel(undefined, shipped);
const rows = [];
const clearCells = [];
for (const label of ['cocaine', 'cannabis', 'heroin', 'mdma']) {
  const cells = [];
  for (const scale of scales) {
    const s = await runSimulatedSet(model, `${label} x${scale}`, {
      ...SHIPPED_SETS.evaluation,
      containers: per,
      concentrationScale: scale,
      composition: { clear: 0.8, [label]: 0.2 },
    });
    const r = s.perLabel[label] ?? { n: 0, suspicious: 0, inconclusive: 0 };
    const c = s.perLabel['clear'] ?? { n: 0, suspicious: 0, inconclusive: 0 };
    cells.push({ scale, n: r.n, suspicious: r.suspicious / r.n, inconclusive: r.inconclusive / r.n });
    clearCells.push({ label, scale, n: c.n, suspicious: c.suspicious, inconclusive: c.inconclusive });
  }
  rows.push({ label, cells });
}
const pct = (x) => (100 * x).toFixed(0);
console.log(`model ${model.id}; ${per} containers per cell, a fifth of them holding the substance; shares of that substance's verdicts suspicious / inconclusive / clear`);
console.log(`| substance | ${scales.map((s) => `x${s}`).join(' | ')} |`);
console.log(`|---|${scales.map(() => '---').join('|')}|`);
for (const { label, cells } of rows) {
  const text = scales.map((s) => {
    const c = cells.find((x) => x.scale === s);
    return `${pct(c.suspicious)} / ${pct(c.inconclusive)} / ${pct(Math.max(0, 1 - c.suspicious - c.inconclusive))}`;
  });
  console.log(`| ${label} | ${text.join(' | ')} |`);
}
const fa = scales.map((s) => {
  const cs = clearCells.filter((c) => c.scale === s);
  const n = cs.reduce((a, c) => a + c.n, 0);
  return `${pct(cs.reduce((a, c) => a + c.suspicious, 0) / n)} / ${pct(cs.reduce((a, c) => a + c.inconclusive, 0) / n)}`;
});
console.log(`| clear containers of the same runs (false alarms / inconclusive) | ${fa.join(' | ')} |`);
