// Where the shipped models' verdict-path tail comes from (issue 23). The same simulated stream (seed 1, days
// 21-30) is pushed frame by frame into an EngineCore, the push of each frame that brings a verdict timed (as
// benchmarks/shipped-models.bench.ts does), in three variants:
//   real    the build as it is;
//   zero    a copy of the build whose prediction is stubbed out (predictForVerdict writes fixed probabilities,
//           noveltyOfLast returns 0.1): the rest of the engine's path with a model that costs nothing;
//   plain   a copy whose one-row WebAssembly kernel is missing (the plain loops run instead).
// For each: p50/p90/p99 and the share of pushes over 50 us; for `real`, whether the slow pushes are the same
// containers in a second pass (correlation of the per-verdict times), and how many overlap a GC (perf_hooks).
// The first pass's verdicts by 250 show the process settling. Then a control: a tight loop of plain arithmetic as long as the real path's p50, timed the same way.
// Findings and the runs behind them: benchmarks/README.md, "Shipped models' verdict path". The host here runs the
// kernel's DAMON monitor on physical memory (/sys/kernel/mm/damon/admin/kdamonds/0: a sample every 0.5 s clears
// pages' accessed bits), a suspect for slow pushes that a loop on a small array does not see; not switched off here.
// Run from the repository root after `npm run build`: node research/verdict-path-tail.mjs [containers]
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';

const N = Number(process.argv[2] ?? 2000);
const WARMUP = 100;
const dist = resolve('dist');
const q = (a, p) => { const s = Float64Array.from(a).sort(); return s[Math.min(s.length - 1, Math.floor(p * (s.length - 1) + 0.5))]; };

function patchedCopy(file, from, to) {
  const dir = mkdtempSync(join(tmpdir(), 'enose-tail-'));
  cpSync(dist, join(dir, 'dist'), { recursive: true });
  symlinkSync(resolve('node_modules'), join(dir, 'node_modules'));
  const path = join(dir, 'dist', file);
  const text = readFileSync(path, 'utf8');
  for (let i = 0; i < from.length; i++) {
    if (!text.includes(from[i])) throw new Error(`${file}: ${from[i]} not found`);
  }
  writeFileSync(path, from.reduce((t, f, i) => t.replace(f, to[i]), text));
  return dir;
}

const zeroDir = patchedCopy(
  'model/runtime/compiledModel.js',
  ['export function predictForVerdict(model, input, inputOffset, out, leading = 0) {', 'export function noveltyOfLast(model) {'],
  ['export function predictForVerdict(model, input, inputOffset, out, leading = 0) { out.fill(0); out[0] = 1; return 0;', 'export function noveltyOfLast(model) { return 0.1;'],
);
const plainDir = patchedCopy('model/runtime/gemvWasm.js', ['export function createGemv(doubles) {'], ['export function createGemv(doubles) { return null;']);

const gcs = [];
new PerformanceObserver((list) => { for (const e of list.getEntries()) gcs.push([e.startTime, e.startTime + e.duration]); }).observe({ entryTypes: ['gc'] });

const { simulationEvents } = await import(`${dist}/sim/events.js`);
const { createSimulation } = await import(`${dist}/sim/simulate.js`);
const stream = [...simulationEvents(createSimulation({ seed: 1, containers: N, startDay: 21, days: 10 }))];

async function run(d, file) {
  const { EngineCore } = await import(`${d}/engine/core.js`);
  const { readModelFile } = await import(`${d}/io/modelFile.js`);
  let v = null;
  const core = new EngineCore(readModelFile(resolve('datasets/container-sim', file)).value, { emitFrames: false }, (e) => { if (e.type === 'verdict') v = e; });
  const times = [];
  const slow = [];
  for (const e of stream) {
    if (e.type === 'frame') e.atMs = performance.now();
    v = null;
    const p0 = performance.now();
    const t0 = process.hrtime.bigint();
    core.push(e);
    const us = Number(process.hrtime.bigint() - t0) / 1e3;
    if (v === null) continue;
    times.push(us);
    if (us > 50 && times.length > WARMUP) slow.push([p0, p0 + us / 1e3]);
  }
  await new Promise((r) => setTimeout(r, 20));
  return { all: times, times: times.slice(WARMUP), slowWithGc: slow.filter(([a, b]) => gcs.some(([s, t]) => s < b && t > a)).length, slow: slow.length };
}

const fmt = (t) => `p50 ${q(t, 0.5).toFixed(1)} p90 ${q(t, 0.9).toFixed(1)} p99 ${q(t, 0.99).toFixed(1)} us, over 50 us ${((100 * t.filter((x) => x > 50).length) / t.length).toFixed(2)} %`;
function corr(x, y) {
  const n = Math.min(x.length, y.length);
  const mx = x.slice(0, n).reduce((a, b) => a + b) / n;
  const my = y.slice(0, n).reduce((a, b) => a + b) / n;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < n; i++) { sxy += (x[i] - mx) * (y[i] - my); sxx += (x[i] - mx) ** 2; syy += (y[i] - my) ** 2; }
  return sxy / Math.sqrt(sxx * syy);
}

console.log(`${N} containers, ${stream.length} events; ${new Date().toISOString()}, load ${(await import('node:os')).loadavg()[0].toFixed(2)}`);
const p50s = [];
for (const file of ['exposure-model.json.gz', 'default-model.json.gz']) {
  const a = await run(dist, file);
  const b = await run(dist, file);
  p50s.push(q(a.times, 0.5));
  console.log(`${file}\n  real   ${fmt(a.times)}; slow pushes overlapping a GC: ${a.slowWithGc} of ${a.slow}; the same containers slow again? correlation of the two passes' times ${corr(a.times, b.times).toFixed(3)}`);
  const seg = [];
  for (let i = 0; i < a.all.length; i += 250) { const t = a.all.slice(i, i + 250); seg.push(`${q(t, 0.5).toFixed(0)}/${t.filter((x) => x > 50).length}`); }
  console.log(`  real, by 250 verdicts from the core's first (p50 us / pushes over 50 us): ${seg.join(' ')}`);
  console.log(`  zero   ${fmt((await run(zeroDir + '/dist', file)).times)}`);
  console.log(`  plain  ${fmt((await run(plainDir + '/dist', file)).times)}`);
}
// The control: plain arithmetic on 32 KiB, as long as each model's p50, timed 20,000 times.
const arr = new Float64Array(4096).map((_, i) => Math.sin(i));
const work = (reps) => { let s = 0; for (let r = 0; r < reps; r++) for (let i = 0; i < 4096; i++) s += arr[i] * arr[(i + r) & 4095]; return s; };
let sink = 0;
let t0 = process.hrtime.bigint();
for (let r = 0; r < 2000; r++) sink += work(1);
const perRepUs = Number(process.hrtime.bigint() - t0) / 1e3 / 2000;
for (const p50 of p50s) {
  const reps = Math.max(1, Math.round(p50 / perRepUs));
  const t = [];
  for (let k = 0; k < 20000; k++) { t0 = process.hrtime.bigint(); sink += work(reps); t.push(Number(process.hrtime.bigint() - t0) / 1e3); }
  console.log(`control: arithmetic loop of ${reps} x 4096 multiply-adds, ${fmt(t)}`);
}
rmSync(zeroDir, { recursive: true, force: true });
rmSync(plainDir, { recursive: true, force: true });
if (sink === 42) console.log('');
