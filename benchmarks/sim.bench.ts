/**
 * Benchmark of the container simulator: container cycles (1,500 frames x 18 channels each) rendered in memory,
 * nothing written, with a reused frame buffer and with one array per frame. It checks before it times: the
 * same seed must give the same frame hash twice.
 *
 * Run alone: npx tsc -p benchmarks/tsconfig.json && node node_modules/.cache/enose-bench/benchmarks/sim.bench.js [--quick]
 */

import { createHash } from 'node:crypto';
import { createSimulation, type SimulationOptions } from '../src/sim/simulate.js';
import { announce, check, main, QUICK, report } from './harness.js';

function hashOf(options: SimulationOptions): string {
  const h = createHash('sha256');
  for (const cycle of createSimulation(options).cycles()) {
    for (const f of cycle.frames({ reuse: true })) {
      h.update(new Uint8Array(f.values.buffer, f.values.byteOffset, f.values.byteLength));
    }
  }
  return h.digest('hex');
}

function run(containers: number, reuse: boolean): { seconds: number; frames: number; checksum: number } {
  const sim = createSimulation({ seed: 2024, containers, days: 20 });
  const t0 = process.hrtime.bigint();
  let frames = 0;
  let checksum = 0;
  for (const cycle of sim.cycles()) {
    for (const f of cycle.frames({ reuse })) {
      frames++;
      const v = f.values[0];
      if (v === v) checksum += v; // skip nan from dead channels
    }
  }
  return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, frames, checksum };
}

main(() => {
  announce('container simulator');
  const containers = QUICK ? 300 : 10_000;
  const seeded: SimulationOptions = { seed: 99, containers: 20 };
  check(hashOf(seeded) === hashOf(seeded), 'simulator is not deterministic: two runs of the same seed differ');
  run(200, true); // warm-up
  for (const reuse of [true, false]) {
    const r = run(containers, reuse);
    report([
      {
        group: 'container simulator (18 channels, 1,500 frames a cycle)',
        name: `${containers.toLocaleString('en-US')} cycles, ${reuse ? 'reused buffer' : 'one array per frame'}`,
        metric: 'frames/s',
        value: r.frames / r.seconds,
        unit: '/s',
        n: r.frames,
        note: `${r.seconds.toFixed(2)} s, ${((r.seconds / r.frames) * 1e6).toFixed(2)} us a frame (checksum ${r.checksum.toExponential(6)})`,
      },
    ]);
  }
});
