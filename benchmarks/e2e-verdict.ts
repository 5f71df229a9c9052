/**
 * End-to-end verdict latency over a real serial link (issue 4 and issue 6 item 2): from the rig emulator
 * writing the frame that ends an exposure (the first frame after E) to the engine's verdict event, through a
 * socat pty pair, the real serialport package, the ENL/1 codec, the engine core and the exposure model (the
 * shipped model whose verdict comes when the exposure ends; the default model's work per verdict is the same
 * kind, measured in shipped-models.bench.ts).
 * - "write": the emulator's --timing log, `seq,abs_ms`, abs_ms = performance.timeOrigin + now just before
 *   its write, in its own process;
 * - "verdict": performance.timeOrigin + the verdict event's atMs, in this process.
 * Cycles are short and compressed in time (baseline 3 s, exposure 6 s, recovery 1 s at 10 Hz, played 100
 * times faster) so that 1,000 cycles take about two minutes; the work per verdict does not depend on it.
 * It checks before it reports: every cycle gave one verdict, no frame was lost or flagged, and the trigger
 * frame of each verdict is in the emulator's log; then p50/p99/max with the host beside them.
 *
 * Run after a build, from the repository root (about 2 minutes; --quick: 100 cycles):
 *   npm run build && npx tsc -p benchmarks/tsconfig.json && node node_modules/.cache/enose-bench/benchmarks/e2e-verdict.js [--quick]
 * It needs socat.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createEngine } from '../src/engine/engine.js';
import { createPtyPair } from '../src/io/emulator.js';
import { readModelFile } from '../src/io/modelFile.js';
import { createSerialSource } from '../src/io/serial.js';
import type { EngineEvent, VerdictEvent } from '../src/types.js';
import { announce, check, main, QUICK, quantileSorted, repoRoot, report } from './harness.js';

const CYCLES = QUICK ? 100 : 1000;
const WARMUP_CYCLES = 5;

main(async () => {
  announce(`end-to-end verdict latency: emulator write of the frame ending the exposure -> verdict event, ${CYCLES} cycles over a socat pty`);
  const root = repoRoot();
  const cli = resolve(root, 'dist', 'cli', 'main.js');
  check(existsSync(cli), `${cli} is missing: run npm run build first`);
  check(spawnSync('socat', ['-V'], { stdio: 'ignore' }).status === 0, 'socat is not installed (apt-get install socat)');
  const model = readModelFile(resolve(root, 'datasets', 'container-sim', 'exposure-model.json.gz'));
  check(model.ok, 'the exposure model does not load');
  if (!model.ok) return;

  const dir = mkdtempSync(join(tmpdir(), 'enose-e2e-'));
  const pty = await createPtyPair(dir);
  const verdicts: VerdictEvent[] = [];
  const flagged: EngineEvent[] = [];
  let connected = false;
  const engine = createEngine({
    model: model.value,
    source: createSerialSource({ path: pty.host }),
    queue: false,
    emitFrames: false,
    onEvent: (e) => {
      if (e.type === 'verdict') verdicts.push(e);
      else if (e.type === 'issue' || e.type === 'gap') flagged.push(e);
      else if (e.type === 'state' && e.state === 'connected') connected = true;
    },
  });
  while (!connected) await new Promise((r) => setTimeout(r, 10));

  const total = CYCLES + WARMUP_CYCLES;
  const timingPath = join(dir, 'timing.csv');
  const args = [
    // The exposure model's own rig (seed 1) and its full 60 s exposure (its window features need all of it: a
    // shorter one gives no prediction, and the verdict path would skip the model); B and R compressed.
    cli, 'emulate-rig', '--link', pty.rig, '--sim-seed', '1', '--sim-start-day', '21', '--containers', String(total),
    '--baseline-s', '3', '--exposure-s', '60', '--recovery-s', '1', '--idle-s', '0.5', '--rate-hz', '10', '--speed', '400',
    '--auto-cycle', '--timing', timingPath,
  ];
  console.log(`# emulator: node ${args.slice(1).join(' ')}`);
  const emulator = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  emulator.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((r) => emulator.once('exit', (c) => r(c)));
  const t0 = performance.now();
  while (verdicts.length < total && performance.now() - t0 < 3000) await new Promise((r) => setTimeout(r, 10));
  await engine.close();
  await pty.close();

  check(code === 0, `the emulator exited with ${code}: ${stderr.trim()}`);
  const written = new Map<number, number>();
  for (const line of readFileSync(timingPath, 'utf8').trim().split('\n')) {
    const [seq, abs] = line.split(',');
    written.set(Number(seq), Number(abs));
  }
  rmSync(dir, { recursive: true, force: true });
  check(flagged.length === 0, `the link flagged ${flagged.length} events, first: ${JSON.stringify(flagged[0])}`);
  check(verdicts.length === total, `${verdicts.length} verdicts, expected ${total}`);
  const latencies = new Float64Array(CYCLES);
  for (let i = 0; i < total; i++) {
    const v = verdicts[i]!;
    check(v.quality.lostFrames === 0, `cycle ${v.sample} lost frames`);

    // The verdict comes at the first frame after E, which is not counted in the cycle's frames.
    const trigger = v.frames.last + 1;
    const writtenAt = written.get(trigger);
    check(writtenAt !== undefined, `the trigger frame ${trigger} of ${v.sample} is not in the emulator's log`);
    if (i >= WARMUP_CYCLES) latencies[i - WARMUP_CYCLES] = performance.timeOrigin + v.atMs - writtenAt!;
  }
  // The simulator injects faults (a dead channel now and then): such a cycle's verdict is inconclusive without a
  // prediction. Nearly every cycle must have gone through the model, or the figure would not time it.
  let predicted = 0;
  for (let i = WARMUP_CYCLES; i < total; i++) if (verdicts[i]!.class !== null) predicted++;
  check(predicted >= 0.95 * CYCLES, `only ${predicted} of ${CYCLES} cycles got a prediction: the model was not timed`);
  const sorted = latencies.slice().sort();
  check(sorted[0]! > 0, `a verdict came ${sorted[0]} ms before its frame was written: the clocks disagree`);
  const name = `${CYCLES} cycles, exposure model (${model.value.classifier.type}, ${model.value.input.featureNames.length} features, 16 gas channels), socat pty, serialport 13`;
  report([
    { group: 'end-to-end verdict', name, metric: 'p50', value: quantileSorted(sorted, 0.5), unit: 'ms', n: CYCLES },
    { group: 'end-to-end verdict', name, metric: 'p99', value: quantileSorted(sorted, 0.99), unit: 'ms', n: CYCLES, note: `${predicted} of ${CYCLES} verdicts through the model; the rest inconclusive from injected faults` },
    { group: 'end-to-end verdict', name, metric: 'max', value: sorted[sorted.length - 1]!, unit: 'ms', n: CYCLES },
  ]);
});
