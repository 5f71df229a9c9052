/**
 * Benchmark of the container simulator: 10,000 container cycles (1,500 frames x 18 channels each) in
 * memory, nothing written. It checks before it times: the same seed must give the same frame hash twice.
 *
 * Run (until the benchmark harness lands), from the repository root:
 *   npx tsc --outDir node_modules/.cache/enose-bench --rootDir . --module nodenext --moduleResolution nodenext \
 *     --target es2022 --strict --skipLibCheck --types node benchmarks/sim.bench.ts \
 *   && node node_modules/.cache/enose-bench/benchmarks/sim.bench.js [containers]
 */

import { createHash } from 'node:crypto';
import os from 'node:os';
import { createSimulation, type SimulationOptions } from '../src/sim/simulate.js';

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

const containers = Number(process.argv[2] ?? 10_000);
const check: SimulationOptions = { seed: 99, containers: 20 };
if (hashOf(check) !== hashOf(check)) {
  console.error('simulator is not deterministic: two runs of the same seed differ');
  process.exit(1);
}
run(200, true); // warm-up
console.log(`host: ${os.cpus()[0]?.model ?? 'unknown'} x${os.cpus().length}, node ${process.version}`);
for (const reuse of [true, false]) {
  const r = run(containers, reuse);
  console.log(
    `${containers} cycles, ${r.frames} frames x 18 channels, ${reuse ? 'reused buffer' : 'one array per frame'}: ` +
      `${r.seconds.toFixed(2)} s, ${(r.frames / r.seconds / 1e6).toFixed(2)} M frames/s, ` +
      `${((r.seconds / r.frames) * 1e6).toFixed(2)} us/frame (checksum ${r.checksum.toExponential(6)})`,
  );
}
