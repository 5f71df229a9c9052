import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnoseError } from '../../src/errors.js';
import { parseEventJson } from '../../src/io/eventJson.js';
import { createRecorder, parseRecordingMeta, type RecorderOptions } from '../../src/io/recording.js';
import type { EngineEvent, Phase } from '../../src/types.js';
import { DEFAULT_CHANNELS, engineStream, sameBits } from '../helpers/engineEvents.js';
import { REPO_ROOT } from '../helpers/shared.js';
import { waitFor } from '../helpers/pty.js';
import { collect, expectSameSourceEvents, openReplay, record, sourceEventsOf, tempDir } from './recordingRoundTrip.js';

const base: RecorderOptions = { modelId: 'm1', source: 'memory', startedAt: new Date('2026-03-04T05:06:07.089Z') };
const info: EngineEvent = { type: 'info', atMs: 0, reboot: false, proto: 'ENL/1', rig: 'rig-A', fw: '1', rateHz: 10, unit: 'ohm', channels: ['a', 'b'] };
const frame = (seq: number, sample = '', phase: Phase = 'I'): EngineEvent => ({
  type: 'frame',
  atMs: seq * 100,
  seq,
  tMs: seq * 100,
  phase,
  values: Float64Array.of(seq, -seq),
  sample,
});

function lines(path: string): string[] {
  return readFileSync(path, 'utf8').split('\n').filter((line) => line !== '');
}

describe('createRecorder then createReplaySource: replay sees what live saw', () => {
  it('gives back every frame bit for bit (NaN, -0, extremes), seq and rig time across wrap-around, and the link events in place', async () => {
    const live = engineStream({ seed: 7, cycles: 12, rebootAfterCycle: 4, newChannelsAfterCycle: 8, repeatIdAtCycle: 6 });
    const dir = tempDir('roundtrip');
    await record(dir, live, { flushEveryMs: 5 });
    const replay = await openReplay(dir);
    const got = await collect(replay);
    const want = sourceEventsOf(live);
    expect(want.filter((e) => e.type === 'frame').length).toBeGreaterThan(200);
    expect(want.some((e) => e.type === 'frame' && e.values.some((x) => Number.isNaN(x)))).toBe(true);
    expect(want.some((e) => e.type === 'reboot')).toBe(true);
    expectSameSourceEvents(got, want);
    expect(replay.warnings).toEqual([]);
    expect(replay.hostTimed).toBe(false);
    expect(replay.info.channels).toEqual(DEFAULT_CHANNELS);
    // The channel change and the repeated container id each started a frames file.
    expect(readdirSync(dir).filter((name) => name.startsWith('frames')).sort()).toEqual(['frames-2.csv', 'frames-3.csv', 'frames.csv']);
  });

  it('starts the next frames file at a sample boundary once a file holds maxFramesFileBytes, and replays them as one', async () => {
    const live = engineStream({ seed: 5, cycles: 10 });
    const dir = tempDir('size-split');
    await record(dir, live, { maxFramesFileBytes: 4_000 });
    const files = readdirSync(dir).filter((name) => name.startsWith('frames'));
    expect(files.length).toBeGreaterThan(2);
    // No sample's frames span two files.
    const owner = new Map<string, string>();
    for (const file of files) {
      for (const line of lines(join(dir, file)).slice(1)) {
        const sample = line.slice(0, line.indexOf(','));
        if (sample === '') continue;
        expect(owner.get(sample) ?? file).toBe(file);
        owner.set(sample, file);
      }
    }
    expectSameSourceEvents(await collect(await openReplay(dir)), sourceEventsOf(live));
    expect(() => createRecorder(join(dir, 'bad'), { ...base, maxFramesFileBytes: 0 })).toThrow(/maxFramesFileBytes/);
  });

  it('gives the same frames when the source is replayed twice and at a speed factor', async () => {
    const live = engineStream({ seed: 3, cycles: 2, rateHz: 200 });
    const dir = tempDir('twice');
    await record(dir, live);
    const replay = await openReplay(dir, { speed: 50 });
    const first = await collect(replay);
    const second = await collect(replay);
    expectSameSourceEvents(first, sourceEventsOf(live));
    expectSameSourceEvents(second, first);
  });

  it('writes meta.json with rig info, model id, start time, engine version and channels, completed on close', async () => {
    const dir = join(tempDir('meta'), 'nested', 'run1');
    const recorder = createRecorder(dir, base);
    const before = parseRecordingMeta(readFileSync(join(dir, 'meta.json'), 'utf8'));
    expect(before.ok && before.value.rig === null && before.value.endedAt === null).toBe(true);
    recorder.write(info);
    for (let i = 0; i < 5; i++) recorder.write(frame(i));
    const during = parseRecordingMeta(readFileSync(join(dir, 'meta.json'), 'utf8'));
    if (!during.ok) throw new Error(during.error);
    expect(during.value).toMatchObject({
      format: 'enose-recording',
      formatVersion: 1,
      engineVersion: '0.1.0',
      modelId: 'm1',
      source: 'memory',
      startedAt: '2026-03-04T05:06:07.089Z',
      endedAt: null,
      rig: { proto: 'ENL/1', rig: 'rig-A', fw: '1', rateHz: 10, unit: 'ohm', channels: ['a', 'b'] },
      channels: ['a', 'b'],
      frameFiles: [{ file: 'frames.csv', firstFrame: 0, channels: ['a', 'b'] }],
      frameCount: null,
    });
    await recorder.close();
    await recorder.close(); // idempotent
    const after = parseRecordingMeta(readFileSync(join(dir, 'meta.json'), 'utf8'));
    if (!after.ok) throw new Error(after.error);
    expect(after.value.frameCount).toBe(5);
    expect(Number.isNaN(Date.parse(after.value.endedAt ?? ''))).toBe(false);
    expect(readdirSync(dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('writes the frames CSV columns sample,label,t_s,phase,seq,t_rig_ms,<channels> with t_s from the host time, strictly rising', async () => {
    const dir = tempDir('columns');
    const recorder = createRecorder(dir, base);
    recorder.write(info);
    recorder.write({ ...(frame(1, 'c,1', 'B') as Extract<EngineEvent, { type: 'frame' }>), atMs: 5000.0004 });
    recorder.write({ ...(frame(2, 'c,1', 'E') as Extract<EngineEvent, { type: 'frame' }>), atMs: 5000.0004 });
    recorder.write({ ...(frame(3, '', 'I') as Extract<EngineEvent, { type: 'frame' }>), atMs: 5250.5 });
    await recorder.close();
    expect(lines(join(dir, 'frames.csv'))).toEqual([
      'sample,label,t_s,phase,seq,t_rig_ms,a,b',
      '"c,1",,0,B,1,100,1,-1',
      '"c,1",,0.000001,E,2,200,2,-2',
      ',,0.2505,I,3,300,3,-3',
    ]);
  });

  it('records issues, gaps, link states and infos in events.jsonl after the frame they followed, and verdicts at once', async () => {
    const dir = tempDir('events');
    const recorder = createRecorder(dir, { ...base, flushEveryMs: 60_000 });
    const live = engineStream({ seed: 11, cycles: 3 });
    const verdicts: EngineEvent[] = [];
    let frames = 0;
    const expected: { afterFrame: number; type: string }[] = [];
    for (const event of live) {
      recorder.write(event);
      if (event.type === 'frame') frames++;
      if (event.type === 'info' || event.type === 'issue' || event.type === 'gap' || event.type === 'state') expected.push({ afterFrame: frames - 1, type: event.type });
      if (event.type === 'verdict') {
        verdicts.push(event);
        // Written at once, not at the next flush: readable before close.
        const written = lines(join(dir, 'verdicts.jsonl'));
        expect(written.length).toBe(verdicts.length);
        const back = parseEventJson(written[written.length - 1]);
        expect(back).toEqual({ ok: true, value: event });
      }
    }
    expect(verdicts.length).toBe(3);
    await recorder.close();
    const recorded = lines(join(dir, 'events.jsonl')).map((line) => JSON.parse(line) as { afterFrame: number; type: string });
    expect(expected.length).toBeGreaterThan(3);
    expect(recorded.map(({ afterFrame, type }) => ({ afterFrame, type }))).toEqual(expected);
  });

  it('buffers frames and writes them within flushEveryMs without any further write', async () => {
    const dir = tempDir('flush');
    const recorder = createRecorder(dir, { ...base, flushEveryMs: 200 });
    recorder.write(info);
    for (let i = 0; i < 10; i++) recorder.write(frame(i));
    expect(lines(join(dir, 'frames.csv')).length).toBe(1); // the header only: the frames wait in memory
    // The timer writes them (no further write comes); when is the timer's business, and a busy machine's.
    await waitFor(() => lines(join(dir, 'frames.csv')).length === 11, 'the frames written by the timer');
    await recorder.close();
  });

  it('throws EnoseError on misuse', async () => {
    const dir = tempDir('misuse');
    const recorder = createRecorder(dir, base);
    const code = (f: () => void): string | null => {
      try {
        f();
        return null;
      } catch (error) {
        return error instanceof EnoseError ? error.code : 'not an EnoseError';
      }
    };
    expect(code(() => recorder.write(frame(0)))).toBe('bad-usage'); // frame before info
    recorder.write(info);
    expect(code(() => recorder.write({ ...(frame(0) as Extract<EngineEvent, { type: 'frame' }>), values: new Float64Array(3) }))).toBe('bad-usage');
    expect(code(() => recorder.write({ ...(frame(0) as Extract<EngineEvent, { type: 'frame' }>), seq: -1 }))).toBe('bad-usage');
    expect(code(() => recorder.write({ ...(frame(0) as Extract<EngineEvent, { type: 'frame' }>), tMs: 1.5 }))).toBe('bad-usage');
    expect(code(() => recorder.write(frame(0, 'two\nlines')))).toBe('bad-usage');
    recorder.write(frame(0));
    await recorder.close();
    expect(code(() => recorder.write(frame(1)))).toBe('bad-usage');
    expect(code(() => createRecorder(dir, base))).toBe('bad-usage'); // never overwrite a recording
    expect(code(() => createRecorder(tempDir('bad'), { ...base, flushEveryMs: 0 }))).toBe('bad-option');
    const file = join(tempDir('notdir'), 'file');
    writeFileSync(file, 'x');
    expect(code(() => createRecorder(join(file, 'sub'), base))).toBe('file-unreadable');
  });

  it('reports a write failure once through onError, keeps accepting events, and rejects on close', async () => {
    const dir = tempDir('failure');
    const errors: EnoseError[] = [];
    const recorder = createRecorder(dir, { ...base, onError: (error) => errors.push(error) });
    writeFileSync(join(dir, 'frames.csv'), 'in the way\n'); // the recorder's exclusive create of frames.csv fails
    recorder.write(info);
    recorder.write(frame(0));
    recorder.write(frame(1));
    expect(errors.map((error) => error.code)).toEqual(['file-unreadable']);
    expect(recorder.frameCount).toBe(0); // dropped, not piling up in memory
    expect(errors[0].message).toContain('frames.csv');
    await expect(recorder.close()).rejects.toMatchObject({ code: 'file-unreadable' });
    expect(readFileSync(join(dir, 'frames.csv'), 'utf8')).toBe('in the way\n');
  });
});

// ---------------------------------------------------------------------------------------------------------
// Crash safety: a recorder in a child process killed with SIGKILL (issue 7, item 3)

const CHILD_FLUSH_MS = 200;
const CHILD_CHANNELS = ['a', 'b', 'c', 'temp_c'];

/** Frame i of the child's deterministic stream (the child script below computes the same). */
function childFrame(i: number): { seq: number; phase: Phase; sample: string; values: Float64Array } {
  const cycle = Math.floor(i / 100);
  const k = i % 100;
  const phase: Phase = k < 10 ? 'I' : k < 40 ? 'B' : k < 80 ? 'E' : 'R';
  const values = new Float64Array(4);
  for (let c = 0; c < 4; c++) values[c] = c === 1 && i % 7 === 0 ? NaN : c === 2 && i % 5 === 0 ? -0 : (i * 1.1 + c) / 3;
  return { seq: i, phase, sample: phase === 'I' ? '' : `cycle-${cycle}`, values };
}

const CHILD_SCRIPT = `
import { createRecorder } from './io/recording.js';
const [dir, flushMs] = process.argv.slice(2);
const channels = ${JSON.stringify(CHILD_CHANNELS)};
const recorder = createRecorder(dir, { modelId: 'm', source: 'child', startedAt: new Date(), flushEveryMs: Number(flushMs) });
recorder.write({ type: 'info', atMs: performance.now(), reboot: false, proto: 'ENL/1', rig: 'rig-K', fw: '1', rateHz: 1000, unit: 'ohm', channels });
function frameOf(i) {
  const cycle = Math.floor(i / 100);
  const k = i % 100;
  const phase = k < 10 ? 'I' : k < 40 ? 'B' : k < 80 ? 'E' : 'R';
  const values = new Float64Array(4);
  for (let c = 0; c < 4; c++) values[c] = c === 1 && i % 7 === 0 ? NaN : c === 2 && i % 5 === 0 ? -0 : (i * 1.1 + c) / 3;
  return { type: 'frame', atMs: performance.now(), seq: i, tMs: i, phase, values, sample: phase === 'I' ? '' : 'cycle-' + cycle };
}
let i = 0;
setInterval(() => {
  for (let n = 0; n < 3; n++) {
    recorder.write(frameOf(i));
    if (i % 97 === 50) recorder.write({ type: 'gap', atMs: performance.now(), fromSeq: i, toSeq: i, lost: 1 });
    process.stdout.write(i + ' ' + Date.now() + '\\n');
    i++;
  }
}, 2);
`;

describe('a recorder killed with SIGKILL', () => {
  // The child runs the recorder compiled from src into a scratch folder under node_modules/.cache (so that
  // zod resolves), leaving dist/ and the rest of the tree alone.
  const buildDir = join(REPO_ROOT, 'node_modules', '.cache', `enose-recorder-test-${process.pid}`);
  let built = '';

  beforeAll(() => {
    rmSync(buildDir, { recursive: true, force: true });
    mkdirSync(buildDir, { recursive: true });
    const tsc = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    // --noCheck: type errors elsewhere in the tree (checked by `npm run typecheck`) must not stop this test.
    const args = ['--noCheck', '--outDir', buildDir, '--rootDir', join(REPO_ROOT, 'src'), '--module', 'nodenext', '--moduleResolution', 'nodenext'];
    args.push('--target', 'es2022', '--skipLibCheck', '--types', 'node', join(REPO_ROOT, 'src', 'io', 'recording.ts'));
    const result = spawnSync(process.execPath, [tsc, ...args], { cwd: REPO_ROOT, encoding: 'utf8' });
    built = existsSync(join(buildDir, 'io', 'recording.js')) ? buildDir : `tsc failed (${String(result.status)}): ${result.stdout}${result.stderr}`;
    writeFileSync(join(buildDir, 'package.json'), '{ "type": "module" }\n');
    writeFileSync(join(buildDir, 'child.js'), CHILD_SCRIPT);
  });

  afterAll(() => rmSync(buildDir, { recursive: true, force: true }));

  it('keeps every frame written more than flushEveryMs before the kill, as a prefix of what was sent, and replays it', async () => {
    expect(built).toBe(buildDir);
    const dir = join(tempDir('sigkill'), 'rec');
    const child = spawn(process.execPath, [join(buildDir, 'child.js'), dir, String(CHILD_FLUSH_MS)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    // 'close', not 'exit': the child's last lines can still be in the pipe when it exits.
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('close', (_code, signal) => resolve(signal)));
    // Let it run for a while: many flushes, and the kill lands at an arbitrary point of a cycle.
    await waitFor(() => stdout.split('\n').length >= 1200, 'the child to send 1,200 frames', 60_000);
    await new Promise((resolve) => setTimeout(resolve, 37));
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    expect(stderr).toBe('');

    const sent = stdout
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => line.split(' ').map(Number) as [number, number]);
    expect(sent.length).toBeGreaterThan(1000);
    sent.forEach(([index], i) => expect(index).toBe(i));
    // The child's own clock, not this process's: every write flushes what is older than half the flush period,
    // so by the child's last line everything it sent CHILD_FLUSH_MS before that line was on disk. (Measured
    // from the kill instead, a child the scheduler had paused just before it looked as if it had lost frames.)
    const lastAt = sent.at(-1)![1];
    const mustHave = sent.filter(([, at]) => at < lastAt - CHILD_FLUSH_MS).length;

    const replay = await openReplay(dir);
    const frames = (await collect(replay)).filter((event) => event.type === 'frame');
    expect(frames.length).toBeGreaterThanOrEqual(mustHave);
    expect(frames.length).toBeLessThanOrEqual(sent.length);
    for (let i = 0; i < frames.length; i++) {
      const got = frames[i];
      const want = childFrame(i);
      if (got.type !== 'frame' || got.seq !== want.seq || got.phase !== want.phase || got.sample !== want.sample || !sameBits(got.values, want.values)) {
        throw new Error(`frame ${i} differs from what the child sent: ${JSON.stringify({ ...got, values: Array.from((got as { values: Float64Array }).values) })}`);
      }
    }
    // Whatever the kill cut, the replay reads it; a cut line (if any) is a warning, nothing else is.
    for (const warning of replay.warnings) expect(warning.reason).toMatch(/cut short/);
    console.info(`SIGKILL after ${sent.length} frames sent: ${frames.length} recorded, ${mustHave} required (sent more than ${CHILD_FLUSH_MS} ms before its last line)`);
    expect(existsSync(join(dir, 'meta.json'))).toBe(true);
  });
});
