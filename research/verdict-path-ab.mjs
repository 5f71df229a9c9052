// Paired A/B of the verdict path: the same simulated stream (seed 1, days 21-30) pushed frame by frame into an
// engine core of build A and one of build B in lockstep (which goes first alternates by verdict), the push of each
// frame that brings a verdict timed; per shipped model the percentiles of each and of the paired difference B - A.
// Both builds see the same moments of a shared, loaded machine, so the difference holds where the raw figures do not.
// Run from the repository root: node research/verdict-path-ab.mjs <dist of A> <dist of B> [containers]
// (a build outside the repository needs node_modules beside its dist to resolve zod).
import { resolve } from 'node:path';
const [da, db] = [resolve(process.argv[2]), resolve(process.argv[3])];
const N = Number(process.argv[4] ?? 2000);
const load = async (d) => ({ EngineCore: (await import(`${d}/engine/core.js`)).EngineCore, readModelFile: (await import(`${d}/io/modelFile.js`)).readModelFile });
const A = await load(da), B = await load(db);
const { simulationEvents } = await import(`${da}/sim/events.js`);
const { createSimulation } = await import(`${da}/sim/simulate.js`);
const stream = [...simulationEvents(createSimulation({ seed: 1, containers: N, startDay: 21, days: 10 }))];
const q = (a, p) => { const s = Float64Array.from(a).sort(); return s[Math.min(s.length - 1, Math.floor(p * (s.length - 1) + 0.5))]; };
for (const file of ['exposure-model.json.gz', 'default-model.json.gz']) {
  const path = resolve('datasets/container-sim', file);
  const mk = (M) => {
    const s = { v: null, times: [], lat: [] };
    s.core = new M.EngineCore(M.readModelFile(path).value, { emitFrames: false }, (e) => { if (e.type === 'verdict') s.v = e; });
    return s;
  };
  const sa = mk(A), sb = mk(B);
  let k = 0;
  const push = (s, e) => {
    s.v = null;
    const t0 = process.hrtime.bigint();
    s.core.push(e);
    const t1 = process.hrtime.bigint();
    if (s.v !== null) { s.times.push(Number(t1 - t0) / 1e3); s.lat.push(s.v.latencyMs * 1e3); return true; }
    return false;
  };
  for (const e of stream) {
    const st = e.type === 'frame' ? { ...e, atMs: performance.now() } : e;
    const st2 = e.type === 'frame' ? { ...e, atMs: performance.now() } : e;
    if (k & 1) { push(sb, st2); if (push(sa, st)) k++; } else { push(sa, st); if (push(sb, st2)) k++; }
  }
  const W = 100;
  const ta = sa.times.slice(W), tb = sb.times.slice(W);
  const d = ta.map((x, i) => tb[i] - x);
  const f = (a) => `p25 ${q(a, .25).toFixed(1)} p50 ${q(a, .5).toFixed(1)} p90 ${q(a, .9).toFixed(1)} p99 ${q(a, .99).toFixed(1)}`;
  console.log(`${file} n ${ta.length}\n  A ${f(ta)} | latencyMs ${f(sa.lat.slice(W))}\n  B ${f(tb)} | latencyMs ${f(sb.lat.slice(W))}\n  B-A paired: p25 ${q(d, .25).toFixed(2)} median ${q(d, .5).toFixed(2)} p75 ${q(d, .75).toFixed(2)}`);
}
