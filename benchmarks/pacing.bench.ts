/**
 * How closely a paced replay keeps its schedule, and how fast `max` goes: the timing figures that
 * tests/io/replay.test.ts held as wall-clock ceilings until they moved here (a test on a busy machine must not
 * fail what works; the test keeps the lower bounds, which load cannot break).
 * - pacing: a frames CSV of frames 50 ms apart, replayed at speed 10 and at realtime (20 ms steps there); each
 *   frame's lateness = its `atMs` minus its due time (the first frame's `atMs` + t_s / speed): p50, p99, max,
 *   and how late the last frame came (the run's overrun: the test's old bound was 1.8 s over 0.2 s of schedule).
 * - an event recorded after a frame: emitted right after that frame, not after the wait for the next one
 *   (the old bound: under 100 ms).
 * - abort during a wait: from `abort()` to `run()` resolving, in a wait of a day (the old bound: 1 s).
 * - max: a 41-frame file as the test replayed it (the old bound: 150 ms), and frames a second over 100,000.
 * Checked before timing: every frame of the file comes out once, in order, with its value, none more than
 * 2 ms before it is due (timers round to the ms).
 *
 * Run alone: npx tsc -p benchmarks/tsconfig.json && node node_modules/.cache/enose-bench/benchmarks/pacing.bench.js [--quick]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRecorder } from '../src/io/recording.js';
import { createReplaySource, type ReplaySpeed } from '../src/io/replay.js';
import type { SourceEvent } from '../src/types.js';
import { announce, check, main, QUICK, quantileSorted, report, type Row } from './harness.js';

const GROUP = 'replay pacing (createReplaySource)';
const dir = mkdtempSync(join(tmpdir(), 'enose-pacing-'));

type Frame = Extract<SourceEvent, { type: 'frame' }>;

function framesCsv(name: string, count: number, stepS: number): string {
  const rows = ['sample,label,t_s,phase,s1'];
  for (let i = 0; i < count; i++) rows.push(`c,,${(i * stepS).toFixed(3)},B,${i}`);
  const file = join(dir, name);
  writeFileSync(file, `${rows.join('\n')}\n`);
  return file;
}

async function replay(path: string, speed: ReplaySpeed, signal = new AbortController().signal): Promise<SourceEvent[]> {
  const opened = await createReplaySource(path, { speed });
  if (!opened.ok) throw new Error(`replay of ${path}: ${JSON.stringify(opened.error)}`);
  const out: SourceEvent[] = [];
  await opened.value.run((e) => out.push(e), signal);
  return out;
}

const framesOf = (events: readonly SourceEvent[]): Frame[] => events.filter((e): e is Frame => e.type === 'frame');

/** Lateness of each frame against its due time, in ms, after the pre-timing checks. */
function lateness(frames: readonly Frame[], count: number, stepS: number, speed: number, what: string): Float64Array {
  check(frames.length === count, `${what}: ${frames.length} frames where the file has ${count}`);
  const late = new Float64Array(count);
  for (let k = 0; k < count; k++) {
    const f = frames[k]!;
    check(f.values[0] === k && f.seq === k, `${what}: frame ${k} is out of order or changed`);
    late[k] = f.atMs - frames[0]!.atMs - (k * stepS * 1000) / speed;
    check(late[k]! >= -2, `${what}: frame ${k} came ${(-late[k]!).toFixed(2)} ms before it was due`);
  }
  return late;
}

function pacingRows(name: string, late: Float64Array, scheduleMs: number): Row[] {
  const sorted = Float64Array.from(late).sort();
  const note = `${late.length} frames over ${scheduleMs.toFixed(0)} ms of schedule`;
  return [
    { group: GROUP, name, metric: 'lateness p50', value: quantileSorted(sorted, 0.5), unit: 'ms', n: late.length, note },
    { group: GROUP, name, metric: 'lateness p99', value: quantileSorted(sorted, 0.99), unit: 'ms', n: late.length },
    { group: GROUP, name, metric: 'lateness max', value: sorted[sorted.length - 1]!, unit: 'ms', n: late.length },
    { group: GROUP, name, metric: 'last frame late by', value: late[late.length - 1]!, unit: 'ms', n: 1 },
  ];
}

main(async () => {
  announce('replay pacing');
  try {
    // Speed 10: frames 50 ms apart, due every 5 ms.
    const n10 = QUICK ? 41 : 401;
    const file10 = framesCsv('speed10.csv', n10, 0.05);
    await replay(framesCsv('warm.csv', 21, 0.05), 10); // warm-up
    const late10 = lateness(framesOf(await replay(file10, 10)), n10, 0.05, 10, 'speed 10');
    report(pacingRows(`speed 10, frames due every 5 ms`, late10, ((n10 - 1) * 50) / 10));

    // Realtime: frames 20 ms apart.
    const nRt = QUICK ? 26 : 101;
    const fileRt = framesCsv('realtime.csv', nRt, 0.02);
    const lateRt = lateness(framesOf(await replay(fileRt, 'realtime')), nRt, 0.02, 1, 'realtime');
    report(pacingRows('realtime, frames due every 20 ms', lateRt, (nRt - 1) * 20));

    // An event recorded between two frames 300 ms apart: its delay after the frame it followed.
    const rec = join(dir, 'events');
    const recorder = createRecorder(rec, { modelId: 'bench', source: 'bench', startedAt: new Date('2026-01-02T03:04:05Z') });
    const values = Float64Array.of(1);
    recorder.write({ type: 'info', atMs: 0, reboot: false, proto: 'ENL/1', rig: 'r', fw: '1', rateHz: 5, unit: 'ohm', channels: ['s1'] });
    const tries = QUICK ? 3 : 10;
    for (let i = 0; i < tries; i++) {
      recorder.write({ type: 'frame', atMs: i * 300, seq: 2 * i, tMs: i * 300, phase: 'I', values, sample: '' });
      recorder.write({ type: 'state', atMs: i * 300 + 1, state: 'disconnected', detail: 'unplugged' });
      recorder.write({ type: 'frame', atMs: i * 300 + 150, seq: 2 * i + 1, tMs: i * 300 + 150, phase: 'I', values, sample: '' });
    }
    await recorder.close();
    const events = await replay(rec, 'realtime');
    const delays: number[] = [];
    for (let i = 1; i < events.length; i++) if (events[i]!.type === 'state') delays.push(events[i]!.atMs - events[i - 1]!.atMs);
    check(delays.length === tries, `events after frames: ${delays.length} of ${tries} state events came right after a frame`);
    const sortedDelays = Float64Array.from(delays).sort();
    report([{ group: GROUP, name: 'event recorded after a frame, next frame 150 ms later', metric: 'delay after its frame, max', value: sortedDelays[sortedDelays.length - 1]!, unit: 'ms', n: tries }]);

    // Abort during a wait of a day.
    const dayFile = join(dir, 'day.csv');
    writeFileSync(dayFile, 'sample,label,t_s,phase,s1\na,,0,B,1\na,,86400,B,2\n');
    const abortMs: number[] = [];
    for (let i = 0; i < (QUICK ? 5 : 50); i++) {
      const opened = await createReplaySource(dayFile, { speed: 'realtime' });
      if (!opened.ok) throw new Error('day.csv');
      const controller = new AbortController();
      let abortedAt = 0;
      const done = opened.value.run((e) => {
        if (e.type === 'frame')
          setTimeout(() => {
            abortedAt = performance.now();
            controller.abort();
          }, 5);
      }, controller.signal);
      await done;
      abortMs.push(performance.now() - abortedAt);
    }
    const sortedAbort = Float64Array.from(abortMs).sort();
    report([
      { group: GROUP, name: 'abort() during a wait of a day, to run() resolving', metric: 'p50', value: quantileSorted(sortedAbort, 0.5), unit: 'ms', n: abortMs.length },
      { group: GROUP, name: 'abort() during a wait of a day, to run() resolving', metric: 'max', value: sortedAbort[sortedAbort.length - 1]!, unit: 'ms', n: abortMs.length },
    ]);

    // max: the test's 41 frames, then 100,000.
    const file41 = framesCsv('max41.csv', 41, 0.05);
    const times41: number[] = [];
    for (let i = 0; i < (QUICK ? 5 : 50); i++) {
      const t0 = performance.now();
      const got = framesOf(await replay(file41, 'max'));
      times41.push(performance.now() - t0);
      check(got.length === 41, 'max: 41 frames');
    }
    const sorted41 = Float64Array.from(times41).sort();
    const nBig = QUICK ? 10_000 : 100_000;
    const big = framesCsv('max-big.csv', nBig, 0.1);
    const t0 = performance.now();
    const bigFrames = framesOf(await replay(big, 'max'));
    const bigMs = performance.now() - t0;
    check(bigFrames.length === nBig && bigFrames[nBig - 1]!.values[0] === nBig - 1, 'max: every frame of the large file, the last one intact');
    report([
      { group: GROUP, name: 'max, 41 frames (open + read + emit), as the test replayed them', metric: 'p50', value: quantileSorted(sorted41, 0.5), unit: 'ms', n: times41.length },
      { group: GROUP, name: 'max, 41 frames (open + read + emit), as the test replayed them', metric: 'max', value: sorted41[sorted41.length - 1]!, unit: 'ms', n: times41.length },
      { group: GROUP, name: `max, ${nBig.toLocaleString('en-US')} frames (open + read + emit)`, metric: 'frames/s', value: nBig / (bigMs / 1000), unit: '/s', n: nBig, note: `${bigMs.toFixed(0)} ms` },
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
