/**
 * Latency of the serial link: from the rig emulator writing a frame to the serial source delivering it, over
 * a socat pty pair and the real serialport package, at 100 Hz in real time (`--rate-hz 100 --speed 1`).
 * - "write": the emulator's --timing log, `seq,abs_ms` with abs_ms = performance.timeOrigin + now taken just
 *   before its port.write (src/io/emulator.ts), in its own process;
 * - "delivered": performance.timeOrigin + atMs of the frame event, atMs being stamped when the chunk arrived
 *   in this process (src/io/serial.ts). Both are absolute clocks of the same machine.
 * It checks before it reports: every frame arrived exactly once, with the right seq, in order, and no line
 * was flagged; then p50 and p99 over the frames after a warm-up, with the host beside the figures.
 *
 * Run after a build, from the repository root (about 105 s: 500 warm-up frames and 10,000 measured ones):
 *   npm run build && npx tsc -p benchmarks/tsconfig.json && node node_modules/.cache/enose-bench/benchmarks/link-latency.js [frames] [--quick]
 * (`npm run bench` runs it with the others; --quick measures 1,000 frames.) It needs socat.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createPtyPair } from '../src/io/emulator.js';
import { createSerialSource } from '../src/io/serial.js';
import type { SourceEvent } from '../src/types.js';
import { announce, check, main, QUICK, quantileSorted, repoRoot, report } from './harness.js';

const RATE_HZ = 100;
const WARMUP = QUICK ? 200 : 500;
const MEASURED = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? (QUICK ? 1000 : 10_000));

main(async () => {
  announce(`link latency: emulator write -> serial source delivery, ${MEASURED} frames at ${RATE_HZ} Hz over a socat pty`);
  const cli = resolve(repoRoot(), 'dist', 'cli', 'main.js');
  check(existsSync(cli), `${cli} is missing: run npm run build first`);
  check(spawnSync('socat', ['-V'], { stdio: 'ignore' }).status === 0, 'socat is not installed (apt-get install socat)');
  const total = WARMUP + MEASURED;
  const dir = mkdtempSync(join(tmpdir(), 'enose-link-'));
  const pty = await createPtyPair(dir);
  const arrivals = new Float64Array(total).fill(NaN);
  const order: number[] = [];
  const flagged: SourceEvent[] = [];
  let infos = 0;
  const source = createSerialSource({ path: pty.host });
  const controller = new AbortController();
  let connected = false;
  const running = source.run((e) => {
    if (e.type === 'frame') {
      order.push(e.seq);
      if (e.seq < total) arrivals[e.seq] = performance.timeOrigin + e.atMs;
    } else if (e.type === 'issue' || e.type === 'gap' || e.type === 'reboot') flagged.push(e);
    else if (e.type === 'info') infos++;
    else if (e.type === 'state' && e.state === 'connected') connected = true;
  }, controller.signal);
  while (!connected) await new Promise((r) => setTimeout(r, 10));

  const timingPath = join(dir, 'timing.csv');
  const args = [cli, 'emulate-rig', '--link', pty.rig, '--rate-hz', String(RATE_HZ), '--speed', '1', '--auto-cycle', '--containers', '1000', '--frames', String(total), '--timing', timingPath];
  console.log(`# emulator: node ${args.slice(1).join(' ')}`);
  const emulator = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  emulator.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((r) => emulator.once('exit', (c) => r(c)));
  // Let the last bytes through the pty.
  const t0 = performance.now();
  while (order.length < total && performance.now() - t0 < 2000) await new Promise((r) => setTimeout(r, 10));
  controller.abort();
  await running;
  await pty.close();

  check(code === 0, `the emulator exited with ${code}: ${stderr.trim()}`);
  const written = readFileSync(timingPath, 'utf8').trim().split('\n');
  rmSync(dir, { recursive: true, force: true });
  check(written.length === total, `the emulator logged ${written.length} written frames, expected ${total}`);
  check(infos === 1, `${infos} info lines arrived, expected 1`);
  check(flagged.length === 0, `the link flagged ${flagged.length} events, first: ${JSON.stringify(flagged[0])}`);
  check(order.length === total, `${order.length} frames arrived, expected ${total}`);
  for (let i = 0; i < total; i++) check(order[i] === i, `frame ${i} arrived as seq ${order[i]}: not every frame arrived once and in order`);

  const latencies = new Float64Array(MEASURED);
  for (let i = 0; i < total; i++) {
    const [seqText, absText] = written[i]!.split(',');
    const seq = Number(seqText);
    check(seq === i, `timing log line ${i + 1} is seq ${seq}`);
    if (seq >= WARMUP) latencies[seq - WARMUP] = arrivals[seq]! - Number(absText);
  }
  const sorted = latencies.slice().sort();
  const mean = sorted.reduce((s, x) => s + x, 0) / sorted.length;
  check(sorted[0]! > -0.5, `a frame arrived ${sorted[0]} ms before it was written: the clocks disagree`);
  const name = `${MEASURED} frames at ${RATE_HZ} Hz, 18 channels (~330-byte lines), socat pty, serialport 13`;
  report([
    { group: 'link latency', name, metric: 'p50', value: quantileSorted(sorted, 0.5), unit: 'ms', n: MEASURED },
    { group: 'link latency', name, metric: 'p99', value: quantileSorted(sorted, 0.99), unit: 'ms', n: MEASURED },
    { group: 'link latency', name, metric: 'p99.9', value: quantileSorted(sorted, 0.999), unit: 'ms', n: MEASURED },
    { group: 'link latency', name, metric: 'max', value: sorted[sorted.length - 1]!, unit: 'ms', n: MEASURED },
    { group: 'link latency', name, metric: 'mean', value: mean, unit: 'ms', n: MEASURED },
  ]);
});
