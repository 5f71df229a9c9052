// Whether the shipped models' slow verdict pushes (over 50 us) come with a page fault or a context switch (issue
// 23): the same stream as benchmarks/shipped-models.bench.ts (seed 1, days 21-30), each push wrapped in
// process.resourceUsage() (minor page faults, voluntary and involuntary context switches), second pass of each model.
// Run from the repository root after `npm run build`: node research/verdict-path-rusage.mjs [containers]
import { resolve } from 'node:path';
const d = resolve('dist');
const { EngineCore } = await import(`${d}/engine/core.js`);
const { readModelFile } = await import(`${d}/io/modelFile.js`);
const { simulationEvents } = await import(`${d}/sim/events.js`);
const { createSimulation } = await import(`${d}/sim/simulate.js`);
const stream = [...simulationEvents(createSimulation({ seed: 1, containers: Number(process.argv[2] ?? 2000), startDay: 21, days: 10 }))];
for (const file of ['exposure-model.json.gz', 'default-model.json.gz']) {
  const bundle = readModelFile(resolve('datasets/container-sim', file)).value;
  for (let pass = 0; pass < 2; pass++) {
    let v = null;
    const core = new EngineCore(bundle, { emitFrames: false }, (e) => { if (e.type === 'verdict') v = e; });
    const rows = [];
    for (const e of stream) {
      const st = e.type === 'frame' ? { ...e, atMs: performance.now() } : e;
      v = null;
      const r0 = process.resourceUsage();
      const t0 = process.hrtime.bigint();
      core.push(st);
      const t1 = process.hrtime.bigint();
      const r1 = process.resourceUsage();
      if (v !== null) rows.push([Number(t1 - t0) / 1e3, r1.minorPageFault - r0.minorPageFault, r1.involuntaryContextSwitches - r0.involuntaryContextSwitches, r1.voluntaryContextSwitches - r0.voluntaryContextSwitches]);
    }
    if (pass === 0) continue;
    const t = rows.slice(100);
    const slow = t.filter((r) => r[0] > 50), fast = t.filter((r) => r[0] <= 50);
    const sum = (a, k) => a.reduce((s, r) => s + (r[k] > 0 ? 1 : 0), 0);
    console.log(`${file}: ${t.length} verdicts, ${slow.length} over 50 us; with page faults: slow ${sum(slow, 1)}, fast ${sum(fast, 1)}; involuntary switches: slow ${sum(slow, 2)}, fast ${sum(fast, 2)}; voluntary: slow ${sum(slow, 3)}, fast ${sum(fast, 3)}`);
    console.log('  slow:', slow.slice(0, 12).map((r) => `${r[0].toFixed(0)}us/${r[1]}pf/${r[2]}iv`).join(' '));
  }
}
