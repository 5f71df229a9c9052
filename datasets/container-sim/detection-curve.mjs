#!/usr/bin/env node
// Detection against concentration: for each substance and each concentration scale (a multiple of the
// simulator's default marker concentrations), simulate containers of that substance on the evaluation days
// (seed 1, days 21-30, random background and weather), stream them through the engine with the default
// model, and count verdicts. Clear containers at the same conditions give the false-alarm rate.
// Run after a build: npm run eval:sim-curve [-- --per 40]
import { runSimulatedSet, loadDefaultModel, SHIPPED_SETS } from '../../dist/cli/demo.js';

const perArg = process.argv.indexOf('--per');
const per = perArg > 0 ? Number(process.argv[perArg + 1]) : 40;
const scales = [1, 3, 10, 30, 100, 300, 1000];
const model = await loadDefaultModel();
const rows = [];
for (const label of ['clear', 'cocaine', 'cannabis', 'heroin', 'mdma']) {
  const cells = [];
  for (const scale of label === 'clear' ? [1] : scales) {
    const s = await runSimulatedSet(model, `${label} x${scale}`, {
      ...SHIPPED_SETS.evaluation,
      containers: per,
      concentrationScale: scale,
      fixed: { label },
    });
    const r = s.perLabel[label] ?? { n: 0, suspicious: 0, inconclusive: 0 };
    cells.push({ scale, n: r.n, suspicious: r.suspicious / r.n, inconclusive: r.inconclusive / r.n });
  }
  rows.push({ label, cells });
}
console.log(`model ${model.id}; ${per} containers per cell; shares of verdicts suspicious / inconclusive / clear`);
console.log(`| substance | ${scales.map((s) => `x${s}`).join(' | ')} |`);
console.log(`|---|${scales.map(() => '---').join('|')}|`);
for (const { label, cells } of rows) {
  const text = scales.map((s) => {
    const c = cells.find((x) => x.scale === s);
    return c ? `${(100 * c.suspicious).toFixed(0)} / ${(100 * c.inconclusive).toFixed(0)} / ${(100 * (1 - c.suspicious - c.inconclusive)).toFixed(0)}` : '';
  });
  console.log(`| ${label}${label === 'clear' ? ' (false alarms)' : ''} | ${text.join(' | ')} |`);
}
