import { readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createReplaySource } from '../../src/io/replay.js';
import type { SourceEvent } from '../../src/types.js';
import { engineStream } from '../helpers/engineEvents.js';
import { BEVERAGE, haveShared } from '../helpers/shared.js';
import { collect, expectSameSourceEvents, openReplay, record, sourceEventsOf, tempDir } from './recordingRoundTrip.js';

const haveBeverage = haveShared('datasets', 'beverage-enose-2016-05', 'frames.csv');

type FrameOut = Extract<SourceEvent, { type: 'frame' }>;
const framesOf = (events: readonly SourceEvent[]): FrameOut[] => events.filter((e): e is FrameOut => e.type === 'frame');

function writeCsv(lines: readonly string[]): string {
  const file = join(tempDir('csv'), 'run7.csv');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

describe('createReplaySource on a plain frames CSV', () => {
  it.skipIf(!haveBeverage)('replays the beverage recording: 33 samples with their ids, labels and phases', async () => {
    const text = readFileSync(BEVERAGE, 'utf8');
    const rows = text.split('\n').filter((line) => line !== '' && !line.startsWith('#')).slice(1);
    const replay = await openReplay(BEVERAGE);
    expect(replay.info).toMatchObject({ proto: 'file', rig: 'frames', fw: 'file', unit: 'ohm', rateHz: 1 });
    expect(replay.info.channels.length).toBe(32);
    expect(replay.warnings).toEqual([]);
    const events = await collect(replay);
    expect(events[0].type).toBe('info');
    const frames = framesOf(events);
    expect(frames.length).toBe(rows.length);
    expect(replay.frameCount).toBe(rows.length);
    const samples = new Map<string, string>();
    for (const frame of frames) samples.set(frame.sample ?? '?', frame.label ?? '?');
    expect(samples.size).toBe(33);
    expect(new Set(samples.values())).toEqual(new Set(rows.map((row) => row.split(',')[1])));
    // Every row in order: seq is the row counter, tMs the file's t_s in ms, phase and first value from the row.
    frames.forEach((frame, i) => {
      const cells = rows[i].split(',');
      expect([frame.seq, frame.sample, frame.label, frame.tMs, frame.phase, frame.values[0]]).toEqual([i, cells[0], cells[1], Math.round(Number(cells[2]) * 1000), cells[3], Number(cells[4])]);
    });
  });

  it('times phases on the host without a phase column: baselineS of B from each sample start, then E; I outside samples', async () => {
    const file = writeCsv([
      'sample,label,t_s,s1,s2',
      ',,0.0,1,2',
      's1,beer,0.5,1,2',
      's1,beer,1.0,1,2',
      's1,beer,1.5,1,2',
      's1,beer,2.0,1,nan',
      ',,2.5,1,2',
      's2,,0.1,1,2',
      's2,,0.6,1,2',
      's2,,1.6,1,2',
    ]);
    const replay = await openReplay(file, { baselineS: 1 });
    expect(replay.hostTimed).toBe(true);
    expect(replay.info).toEqual({ proto: 'file', rig: 'run7', fw: 'file', rateHz: 2, unit: 'ohm', channels: ['s1', 's2'] });
    const frames = framesOf(await collect(replay));
    expect(frames.map((f) => `${f.sample}:${f.phase}`)).toEqual([':I', 's1:B', 's1:B', 's1:E', 's1:E', ':I', 's2:B', 's2:B', 's2:E']);
    expect(frames.map((f) => f.seq)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(frames.map((f) => f.tMs)).toEqual([0, 500, 1000, 1500, 2000, 2500, 100, 600, 1600]);
    expect(Number.isNaN(frames[4].values[1])).toBe(true);
    // The default baseline is 30 s: these short samples are all B.
    const long = framesOf(await collect(await openReplay(file)));
    expect(long.filter((f) => f.sample !== '').every((f) => f.phase === 'B')).toBe(true);
  });

  it('wraps a file time into the rig clock range (uint32 ms) and tolerates a cut last line with a warning', async () => {
    const dir = tempDir('cutcsv');
    const file = join(dir, 'frames.csv');
    writeFileSync(file, 'sample,label,t_s,phase,s1\ns,,-1.5,B,1\ns,,-1,B,2\ns,,0,E,3\ns,,0.5,E,4\ns,,1,E,');
    const replay = await openReplay(dir); // a folder with frames.csv and no meta.json
    expect(replay.warnings.map((w) => w.reason)).toEqual([
      expect.stringMatching(/no meta\.json/),
      expect.stringMatching(/last line cut short/),
    ]);
    const frames = framesOf(await collect(replay));
    expect(frames.map((f) => f.tMs)).toEqual([4294965796, 4294966296, 0, 500]);
    expect(frames.map((f) => f.values[0])).toEqual([1, 2, 3, 4]);
  });

  it('gives a typed error, never a throw, for missing, empty and corrupt files', async () => {
    const missing = await createReplaySource(join(tempDir('none'), 'nothing.csv'));
    expect(missing).toMatchObject({ ok: false, error: { line: 0, reason: 'no such file or directory' } });
    const bad = await createReplaySource(writeCsv(['sample,label,t_s,s1', 'a,,0,1', 'a,,1,x', 'a,,2,3']));
    expect(bad).toMatchObject({ ok: false, error: { line: 3 } });
    const empty = await createReplaySource(writeCsv([]));
    expect(empty.ok).toBe(false);
    const dir = tempDir('badmeta');
    writeFileSync(join(dir, 'meta.json'), '{"format":"something-else"}');
    const meta = await createReplaySource(dir);
    expect(meta).toMatchObject({ ok: false, error: { file: join(dir, 'meta.json'), line: 0 } });
  });

  it('rejects commands and bad options with EnoseError', async () => {
    const file = writeCsv(['sample,label,t_s,s1', 'a,,0,1']);
    const replay = await openReplay(file);
    await expect(replay.send({ command: 'START', sampleId: 'x' })).rejects.toMatchObject({ code: 'bad-usage', message: expect.stringContaining('a replay cannot send commands to a rig') });
    await expect(createReplaySource(file, { speed: 0 })).rejects.toMatchObject({ code: 'bad-option' });
    await expect(createReplaySource(file, { speed: 'fast' as 'max' })).rejects.toMatchObject({ code: 'bad-option' });
    await expect(createReplaySource(file, { speed: Infinity })).rejects.toMatchObject({ code: 'bad-option' });
    await expect(createReplaySource(file, { baselineS: -1 })).rejects.toMatchObject({ code: 'bad-option' });
  });
});

describe('createReplaySource pacing', () => {
  // No upper bound on wall time here: a busy machine only makes a paced replay later, never earlier, so the
  // tests hold the lower bounds the schedule sets (frame k is not emitted before its due time) and what must
  // come before what. How close to the schedule the frames come, and how fast `max` is, are measured in
  // benchmarks/pacing.bench.ts.
  const SLACK_MS = 2;
  // 41 frames 50 ms apart: 2 s of recording.
  const lines = ['sample,label,t_s,phase,s1', ...Array.from({ length: 41 }, (_, i) => `c,,${(i * 0.05).toFixed(2)},B,${i}`)];

  it('paces a speed factor by the t_s steps: no frame before its due time', async () => {
    const file = writeCsv(lines);
    const frames = framesOf(await collect(await openReplay(file, { speed: 10 })));
    expect(frames.length).toBe(41);
    // Frame k is due 5k ms after the first (50 ms steps at 10x). SLACK_MS: a wait under 1 ms is skipped, Node's
    // timers round to the ms, and the first frame is stamped a little after the schedule starts.
    frames.forEach((f, k) => expect(f.atMs - frames[0].atMs, `frame ${k}`).toBeGreaterThanOrEqual(5 * k - SLACK_MS));
    // The frames are spread over the run, not emitted in one burst at the end.
    expect(frames[40].atMs - frames[0].atMs).toBeGreaterThanOrEqual(200 - SLACK_MS);
  });

  it('emits at full speed with max: a recording that spans a day replays at once', async () => {
    const day = ['sample,label,t_s,phase,s1', ...Array.from({ length: 25 }, (_, i) => `c,,${i * 3600},B,${i}`)];
    const file = writeCsv(day);
    // Paced at all, this would take a day: the test's deadline is the check.
    const frames = framesOf(await collect(await openReplay(file, { speed: 'max' })));
    expect(frames.map((f) => f.tMs)).toEqual(Array.from({ length: 25 }, (_, i) => i * 3_600_000));
  });

  it('paces realtime by the recorded t_s, using the nominal step across a reset of t_s between samples', async () => {
    const file = writeCsv(['sample,label,t_s,phase,s1', 'a,,0,B,1', 'a,,0.1,B,1', 'a,,0.2,E,1', 'b,,0,B,1', 'b,,0.1,E,1']);
    const frames = framesOf(await collect(await openReplay(file, { speed: 'realtime' })));
    expect(frames.length).toBe(5);
    // 100 ms steps, and the nominal 100 ms step where t_s goes back to 0 for sample b (not 0, not negative):
    // frame 3 is due 300 ms after frame 0. Measured from the first frame, as the schedule is (drift-free: a
    // frame that came late is followed by one that comes sooner, so the gap between two frames proves nothing).
    frames.forEach((f, k) => expect(f.atMs - frames[0].atMs, `frame ${k}`).toBeGreaterThanOrEqual(100 * k - SLACK_MS));
  });

  it('emits a recorded event right after the frame it followed, not after the wait for the next frame', async () => {
    const dir = tempDir('eventtiming');
    const values = Float64Array.of(1);
    await record(dir, [
      { type: 'info', atMs: 0, reboot: false, proto: 'ENL/1', rig: 'r', fw: '1', rateHz: 5, unit: 'ohm', channels: ['s1'] },
      { type: 'frame', atMs: 0, seq: 0, tMs: 0, phase: 'I', values, sample: '' },
      { type: 'state', atMs: 1, state: 'disconnected', detail: 'unplugged' },
      { type: 'frame', atMs: 300, seq: 1, tMs: 300, phase: 'I', values, sample: '' },
    ]);
    const got = await collect(await openReplay(dir, { speed: 'realtime' }));
    expect(got.map((e) => e.type)).toEqual(['info', 'frame', 'state', 'frame']);
    expect(got[3].atMs - got[1].atMs).toBeGreaterThanOrEqual(300 - SLACK_MS);
    // The state event comes before the 300 ms wait, not after it: aborted as the state event arrives, the
    // replay ends in that wait, and the next frame never comes (after the wait it would come at once).
    const replay = await openReplay(dir, { speed: 'realtime' });
    const controller = new AbortController();
    const cut: SourceEvent[] = [];
    await replay.run((e) => {
      cut.push(e);
      if (e.type === 'state') controller.abort();
    }, controller.signal);
    expect(cut.map((e) => e.type)).toEqual(['info', 'frame', 'state']);
  });

  it('stops when the signal aborts during a wait', async () => {
    // The next frame is due in a day: the run ends only because the abort cuts the wait.
    const file = writeCsv(['sample,label,t_s,phase,s1', 'a,,0,B,1', 'a,,86400,B,2']);
    const replay = await openReplay(file, { speed: 'realtime' });
    const controller = new AbortController();
    const got: SourceEvent[] = [];
    const running = replay.run((e) => {
      got.push(e);
      if (e.type === 'frame') setTimeout(() => controller.abort(), 20);
    }, controller.signal);
    await running;
    expect(controller.signal.aborted).toBe(true);
    expect(framesOf(got).map((f) => f.seq)).toEqual([0]);
  });
});

describe('createReplaySource on a recording cut by a crash', () => {
  it('replays a frames.csv truncated mid-line up to the cut, with a warning, and the events up to there in place', async () => {
    const live = engineStream({ seed: 5, cycles: 6 });
    const dir = tempDir('crash');
    await record(dir, live);
    const file = join(dir, 'frames.csv');
    const size = statSync(file).size;
    const text = readFileSync(file, 'utf8');
    // Cut inside a row, in its sample/phase part, where no cut can still parse.
    const cutAt = text.lastIndexOf('\n', Math.floor(size * 0.6)) + 4;
    truncateSync(file, cutAt);
    const kept = text.slice(0, cutAt).split('\n').length - 2; // complete rows after the header
    const replay = await openReplay(dir);
    expect(replay.warnings).toEqual([{ file, line: kept + 2, reason: expect.stringMatching(/^last line cut short/) }]);
    const got = await collect(replay);
    const want = sourceEventsOf(live);
    const frames = framesOf(got);
    expect(frames.length).toBe(kept);
    // Up to the last kept frame, the stream is the live one event for event; the rest are the recorded events.
    let lastKept = -1;
    let n = 0;
    for (let i = 0; i < want.length && n <= kept; i++) if (want[i].type === 'frame' && ++n === kept) lastKept = i;
    const tail = want.slice(lastKept + 1).filter((e) => e.type !== 'frame');
    expectSameSourceEvents(got, [...want.slice(0, lastKept + 1), ...tail]);
  });

  it('drops a cut last line of events.jsonl with a warning and fails on a corrupt line elsewhere', async () => {
    const live = engineStream({ seed: 9, cycles: 3 });
    const dir = tempDir('cutevents');
    await record(dir, live);
    const eventsFile = join(dir, 'events.jsonl');
    const text = readFileSync(eventsFile, 'utf8');
    const count = text.split('\n').length - 1;
    writeFileSync(eventsFile, text.slice(0, text.length - 9));
    const replay = await openReplay(dir);
    expect(replay.warnings).toEqual([{ file: eventsFile, line: count, reason: expect.stringMatching(/^last line cut short/) }]);
    const got = await collect(replay);
    const recordedEvents = sourceEventsOf(live).filter((e) => e.type !== 'frame');
    expect(got.filter((e) => e.type !== 'frame').length).toBe(recordedEvents.length - 1);

    writeFileSync(eventsFile, `{"afterFrame":0,"type":"gap","atMs":1}\n${text}`);
    const corrupt = await createReplaySource(dir);
    expect(corrupt).toMatchObject({ ok: false, error: { file: eventsFile, line: 1 } });
    rmSync(eventsFile);
    const noEvents = await openReplay(dir);
    expect(noEvents.warnings.map((w) => w.reason)).toEqual([expect.stringMatching(/^absent/)]);
    expect((await collect(noEvents))[0]).toMatchObject({ type: 'info', rig: 'rig-A' });
  });

  it('fails when a frames file disagrees with the channels meta.json lists', async () => {
    const dir = tempDir('mismatch');
    await record(dir, engineStream({ seed: 1, cycles: 1 }));
    const file = join(dir, 'frames.csv');
    writeFileSync(file, readFileSync(file, 'utf8').replace('tgs2600', 'tgs9999'));
    expect(await createReplaySource(dir)).toMatchObject({ ok: false, error: { file, line: 0, reason: expect.stringContaining('differ') } });
  });
});
