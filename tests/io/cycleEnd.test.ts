/**
 * Ending a cycle early over the real link: a socat pty pair, the rig emulator as its own process on the rig end,
 * the serial source (real serialport) on the host end. END during E and during R, a rig that predates END, a rig
 * that never answers, and a recording of ended cycles replayed to the same frames, acks and verdicts (both
 * shipped models). Without socat these tests skip, loudly.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/engine.js';
import { EnoseError } from '../../src/errors.js';
import type { CycleEndResult } from '../../src/io/cycleEnd.js';
import { readModelFile } from '../../src/io/modelFile.js';
import { createRecorder } from '../../src/io/recording.js';
import { END_RULE } from '../../src/io/rigRecovery.js';
import { createReplaySource } from '../../src/io/replay.js';
import { openReplayRig } from '../../src/io/replayRig.js';
import { createSerialSource, type SerialSource } from '../../src/io/serial.js';
import { isEnvironmentChannel, type EngineEvent, type SourceEvent } from '../../src/types.js';
import { SHIPPED_MODELS } from '../helpers/models.js';
import { ensureBuilt, haveSocat, startEmulator, startPty, waitFor, type EmulatorProcess } from '../helpers/pty.js';
import { REPO_ROOT } from '../helpers/shared.js';

const socat = haveSocat();
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!().catch(() => undefined);
});

type FrameEvent = Extract<SourceEvent, { type: 'frame' }>;
const frames = (events: readonly SourceEvent[]): FrameEvent[] => events.filter((e): e is FrameEvent => e.type === 'frame');
const acks = (events: readonly SourceEvent[]) => events.filter((e): e is Extract<SourceEvent, { type: 'ack' }> => e.type === 'ack');

/** Rate 10 Hz at 20x: a 1.5 s baseline, a 30 s exposure and a 30 s recovery, in about 3 s a cycle. */
const RIG = ['--speed', '20', '--baseline-s', '15', '--exposure-s', '30', '--recovery-s', '30', '--containers', '20'];

interface Link {
  readonly source: SerialSource;
  readonly events: SourceEvent[];
  /** The emulator; null for a link with nothing on the rig end. */
  readonly emu: EmulatorProcess | null;
}

/** The serial source on a fresh pty's host end (connected), the emulator on its rig end, everything stopped after the test. */
async function openLink(emulatorArgs: readonly string[], options: { endTimeoutMs?: number; rig?: boolean } = {}): Promise<Link> {
  const pty = await startPty();
  cleanups.push(() => pty.close());
  const events: SourceEvent[] = [];
  const source = createSerialSource({ path: pty.host, reconnect: { initialDelayMs: 20, maxDelayMs: 200 }, ...(options.endTimeoutMs !== undefined && { endTimeoutMs: options.endTimeoutMs }) });
  const controller = new AbortController();
  const running = source.run((e) => events.push(e), controller.signal);
  cleanups.push(async () => {
    controller.abort();
    await running;
  });
  await waitFor(() => events.some((e) => e.type === 'state' && e.state === 'connected'), 'the host end to open');
  const emu = options.rig === false ? null : startEmulator(['--link', pty.rig, ...emulatorArgs]);
  if (emu !== null) {
    cleanups.push(() => emu.stop());
    await waitFor(() => events.some((e) => e.type === 'info') && frames(events).length > 2, 'info and idle frames');
  }
  return { source, events, emu };
}

/** Sends START and waits for its ack and the first frame of `phase`; returns the index of the START ack. */
async function startAndReach(link: Link, sampleId: string, phase: 'E' | 'R'): Promise<number> {
  const mark = link.events.length;
  await link.source.send({ command: 'START', sampleId });
  await waitFor(() => acks(link.events.slice(mark)).some((a) => a.command === 'START'), 'the START ack');
  const ackAt = link.events.findIndex((e, i) => i >= mark && e.type === 'ack' && e.command === 'START');
  expect(link.events[ackAt]).toMatchObject({ ok: true });
  await waitFor(() => frames(link.events.slice(ackAt)).some((f) => f.phase === phase), `the first ${phase} frame`);
  return ackAt;
}

/** Phase runs of the frames from `from` on: "BERI", ... and the frame count of each. */
function runsOf(fs: readonly FrameEvent[]): [string, number][] {
  const runs: [string, number][] = [];
  for (const f of fs) {
    const last = runs[runs.length - 1];
    if (last !== undefined && last[0] === f.phase) last[1]++;
    else runs.push([f.phase, 1]);
  }
  return runs;
}

/**
 * The frame (index into `rs`, the R frames of one cycle) before which the protocol's rule ends a recovery after
 * END, computed from the frames the host received and the cycle's B frames: clean (every gas channel within 5 %
 * of its B mean) for 3 s, R at least 10 s old; `rs.length` when it never does.
 */
function ruleEnd(bs: readonly FrameEvent[], rs: readonly FrameEvent[], channels: readonly string[], rateHz: number): number {
  const r0 = channels.map((_, k) => bs.reduce((s, f) => s + f.values[k]!, 0) / bs.length);
  let since = -1;
  for (let i = 0; i < rs.length; i++) {
    const t = i / rateHz;
    if (since >= 0 && t - since >= END_RULE.cleanHoldS && t >= END_RULE.minRecoveryS) return i;
    const clean = channels.every((c, k) => isEnvironmentChannel(c) || Math.abs(rs[i]!.values[k]! - r0[k]!) <= END_RULE.cleanTolerance * r0[k]!);
    if (!clean) since = -1;
    else if (since < 0) since = t;
  }
  return rs.length;
}

describe.skipIf(!socat)('END over a socat pty pair, with the rig emulator', () => {
  beforeAll(() => ensureBuilt(), 180_000);

  it('END during E: OK, the exposure stops at once, the recovery ends when the sensors are clean', async () => {
    const link = await openLink(RIG);
    const startAt = await startAndReach(link, 'C-1', 'E');
    expect(link.source.endSupported).toBeNull();
    const result = await link.source.endCycle('clear');
    if (!result.ok) throw new Error(`END refused: ${JSON.stringify(result.error)}`);
    expect(result.value).toMatchObject({ reason: 'clear', phase: 'E' });
    expect(link.source.endSupported).toBe(true);
    const ackAt = link.events.findIndex((e) => e.type === 'ack' && e.command === 'END');
    await waitFor(() => frames(link.events.slice(ackAt)).some((f) => f.phase === 'I'), 'idle after the ended cycle');
    const cycle = frames(link.events.slice(startAt));
    const upToIdle = cycle.slice(0, cycle.findIndex((f, i) => f.phase === 'I' && i > 0 && cycle[i - 1]!.phase === 'R') + 1);
    expect(runsOf(upToIdle).map((r) => r[0]).join('')).toMatch(/^I*BERI$/);
    // The last frame before the ack is the one the result names; no E frame after it.
    const before = frames(link.events.slice(0, ackAt)).at(-1)!;
    expect(result.value.seq).toBe(before.seq);
    const es = upToIdle.filter((f) => f.phase === 'E');
    expect(es.length).toBeLessThan(300); // cut: a full exposure is 300 frames
    expect(es.at(-1)!.seq).toBeGreaterThanOrEqual(before.seq);
    const info = link.events.find((e): e is Extract<SourceEvent, { type: 'info' }> => e.type === 'info')!;
    const rs = upToIdle.filter((f) => f.phase === 'R');
    const bs = upToIdle.filter((f) => f.phase === 'B');
    expect(rs.length).toBe(ruleEnd(bs, rs, info.channels, info.rateHz));
    expect(rs.length).toBeGreaterThanOrEqual(END_RULE.minRecoveryS * info.rateHz);
    expect(rs.length).toBeLessThanOrEqual(END_RULE.maxRecoveryS * info.rateHz);
    console.info(`END during E: exposure cut after ${es.length} of 300 frames, recovery of ${rs.length} frames`);
    // A second END in the same cycle is OK again; in I it is refused as idle, a typed value.
    const idle = await link.source.endCycle('clear');
    expect(idle).toEqual({ ok: false, error: { kind: 'refused', detail: 'the rig answered END,ERR,idle' } });
    expect(() => link.source.endCycle('a,b')).toThrow(EnoseError);
    const report = (await link.emu!.stop())!;
    expect(report.cyclesEnded).toBe(1);
    expect(report.commands).toMatchObject({ START: 1, END: 2 });
  });

  it('END during R: OK, the recorded recovery plays until the sensors are clean, at most its full length', async () => {
    const link = await openLink(RIG);
    const startAt = await startAndReach(link, 'C-2', 'R');
    const result = await link.source.endCycle('suspicious');
    if (!result.ok) throw new Error(`END refused: ${JSON.stringify(result.error)}`);
    expect(result.value).toMatchObject({ reason: 'suspicious', phase: 'R' });
    const ackAt = link.events.findIndex((e) => e.type === 'ack' && e.command === 'END');
    await waitFor(() => frames(link.events.slice(ackAt)).some((f) => f.phase === 'I'), 'idle after the ended cycle');
    const cycle = frames(link.events.slice(startAt));
    const end = cycle.findIndex((f, i) => f.phase === 'I' && i > 0 && cycle[i - 1]!.phase === 'R');
    const upToIdle = cycle.slice(0, end + 1);
    expect(runsOf(upToIdle).map((r) => r[0]).join('')).toMatch(/^I*BERI$/);
    expect(upToIdle.filter((f) => f.phase === 'E')).toHaveLength(300); // the exposure was not touched
    const info = link.events.find((e): e is Extract<SourceEvent, { type: 'info' }> => e.type === 'info')!;
    const rs = upToIdle.filter((f) => f.phase === 'R');
    const expected = Math.min(ruleEnd(upToIdle.filter((f) => f.phase === 'B'), rs, info.channels, info.rateHz), 300);
    expect(rs.length).toBe(expected);
    console.info(`END during R: recovery of ${rs.length} frames of 300 (${rs.length < 300 ? 'clean early' : 'never clean: full'})`);
  });

  it('a rig without END (--no-end-command) answers unknown-command: a typed unsupported, remembered, and the cycle runs full', async () => {
    const link = await openLink([...RIG, '--no-end-command']);
    const startAt = await startAndReach(link, 'C-3', 'E');
    const first = await link.source.endCycle('clear');
    expect(first).toEqual({ ok: false, error: { kind: 'unsupported', detail: 'the rig answered END,ERR,unknown-command: it runs full cycles' } });
    expect(link.source.endSupported).toBe(false);
    const second = await link.source.endCycle('clear');
    expect(second.ok === false && second.error.kind).toBe('unsupported');
    await waitFor(() => {
      const fs = frames(link.events.slice(startAt));
      return fs.some((f, i) => f.phase === 'I' && i > 0 && fs[i - 1]!.phase === 'R');
    }, 'the cycle to run to its end');
    const fs = frames(link.events.slice(startAt));
    expect(fs.filter((f) => f.phase === 'E')).toHaveLength(300);
    expect(fs.filter((f) => f.phase === 'R')).toHaveLength(300);
    const report = (await link.emu!.stop())!;
    expect(report.commands.END).toBe(1); // the second call did not write
    expect(report.cyclesEnded).toBe(0);
  });

  it('a rig that never answers: a typed timeout; a closed port: not-connected', async () => {
    const link = await openLink([], { rig: false, endTimeoutMs: 300 });
    expect(await link.source.endCycle('clear')).toEqual({ ok: false, error: { kind: 'timeout', detail: 'no answer to END within 300 ms' } });
    const csv = createSerialSource({ path: '/dev/null-enose', protocol: 'csv' });
    expect((await csv.endCycle('clear')).ok).toBe(false);
    const closed = createSerialSource({ path: '/dev/null-enose' });
    expect(await closed.endCycle('clear')).toEqual({ ok: false, error: { kind: 'not-connected', detail: '/dev/null-enose is not connected: END not sent' } });
  });

  for (const shipped of SHIPPED_MODELS) {
    it(`a recording of ended cycles replays to the same frames, END acks and verdicts (${shipped.name} model)`, async () => {
      const model = readModelFile(join(REPO_ROOT, shipped.path));
      if (!model.ok) throw new Error(`${shipped.path}: ${JSON.stringify(model.error)}`);
      const dir = mkdtempSync(join(tmpdir(), 'enose-ended-'));
      cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
      // The engine reads the serial source itself, as `enose watch --record` does; the recorder gets its events.
      const pty = await startPty();
      cleanups.push(() => pty.close());
      const source = createSerialSource({ path: pty.host, reconnect: { initialDelayMs: 20, maxDelayMs: 200 } });
      const recorder = createRecorder(join(dir, 'rec'), { modelId: model.value.id, source: source.description, startedAt: new Date() });
      const live: EngineEvent[] = [];
      const engine = createEngine({
        model: model.value,
        source,
        queue: false,
        emitFrames: true,
        onEvent: (e) => {
          live.push(e);
          recorder.write(e);
        },
      });
      cleanups.push(() => engine.close());
      await waitFor(() => live.some((e) => e.type === 'state' && e.state === 'connected'), 'the host end to open');
      const emu = startEmulator(['--link', pty.rig, '--speed', '50', '--sim-start-day', '21', '--containers', '10']);
      cleanups.push(() => emu.stop());
      await waitFor(() => live.some((e) => e.type === 'info') && live.some((e) => e.type === 'frame'), 'info and idle frames');
      const liveFrames = () => live.filter((e): e is Extract<EngineEvent, { type: 'frame' }> => e.type === 'frame');
      const ends: CycleEndResult[] = [];
      // Cycle 1 full; cycle 2 ended in E; cycle 3 ended in R.
      for (const [id, endAt] of [['C-1', null], ['C-2', 'E'], ['C-3', 'R']] as const) {
        const mark = liveFrames().length;
        await engine.startSample(id);
        // After an exposure-end verdict the engine's R frames carry no cycle id: phases are read from the mark on.
        await waitFor(() => liveFrames().slice(mark).some((f) => f.phase === (endAt ?? 'R')), `${id} in ${endAt ?? 'R'}`);
        if (endAt !== null) {
          const r = await source.endCycle(endAt === 'E' ? 'clear' : 'suspicious');
          ends.push(r);
          if (r.ok) recorder.cycleEnd(r.value);
        }
        await waitFor(() => live.some((e) => e.type === 'verdict' && e.sample === id), `the verdict on ${id}`, 60_000);
        await waitFor(() => liveFrames().slice(mark).some((f, i, fs) => f.phase === 'I' && i > 0 && fs[i - 1]!.phase === 'R'), `idle after ${id}`);
      }
      await engine.close();
      await recorder.close();
      expect(ends.map((r) => r.ok && r.value.phase)).toEqual(['E', 'R']);

      const lines = readFileSync(join(dir, 'rec', 'events.jsonl'), 'utf8').split('\n').filter((l) => l.includes('"cycle-end"'));
      expect(lines.map((l) => JSON.parse(l) as { sample: string; reason: string; phase: string })).toMatchObject([
        { sample: 'C-2', reason: 'clear', phase: 'E' },
        { sample: 'C-3', reason: 'suspicious', phase: 'R' },
      ]);

      // The replay source: the END acks come right after the frames the live results named.
      const replay = await createReplaySource(join(dir, 'rec'));
      if (!replay.ok) throw new Error(JSON.stringify(replay.error));
      expect(replay.value.warnings).toEqual([]);
      expect(replay.value.cycleEnds.map((c) => [c.sample, c.reason, c.phase])).toEqual([
        ['C-2', 'clear', 'E'],
        ['C-3', 'suspicious', 'R'],
      ]);
      const played: SourceEvent[] = [];
      await replay.value.run((e) => played.push(e), new AbortController().signal);
      const endAcks = played.flatMap((e, i) => (e.type === 'ack' && e.command === 'END' ? [i] : []));
      expect(endAcks.map((i) => frames(played.slice(0, i)).at(-1)!.seq)).toEqual(ends.map((r) => (r.ok ? r.value.seq : -1)));

      // The same engine on the replay: the same frames (seq, phase, cycle) and the same verdicts.
      const again: EngineEvent[] = [];
      const replay2 = await createReplaySource(join(dir, 'rec'));
      if (!replay2.ok) throw new Error(JSON.stringify(replay2.error));
      const replayed = createEngine({ model: model.value, source: replay2.value, queue: false, emitFrames: true, onEvent: (e) => again.push(e) });
      await replayed.done;
      const shape = (es: readonly EngineEvent[]) => es.flatMap((e) => (e.type === 'frame' ? [`${e.seq} ${e.phase} ${e.sample}`] : []));
      expect(shape(again)).toEqual(shape(live));
      const verdicts = (es: readonly EngineEvent[]) =>
        es.flatMap((e) => (e.type === 'verdict' ? [{ sample: e.sample, verdict: e.verdict, class: e.class, score: e.score, reasons: e.reasons, probabilities: e.probabilities, frames: e.frames, quality: e.quality }] : []));
      expect(verdicts(again)).toEqual(verdicts(live));
      expect(verdicts(live).map((v) => v.sample)).toEqual(['C-1', 'C-2', 'C-3']);
      // The ended cycles are short: their exposure (C-2) or recovery (C-3) stopped early.
      const quality = (id: string) => verdicts(live).find((v) => v.sample === id)!.quality;
      expect(quality('C-2').framesE).toBeLessThan(quality('C-1').framesE);
      console.info(`${shipped.name}: verdicts ${verdicts(live).map((v) => `${v.sample} ${v.verdict} (${v.reasons.join('+')}, E ${v.quality.framesE} frames)`).join(', ')}`);

      // The replay rig plays the ended cycles as recorded and answers endCycle from the recording.
      const rigReplay = await openReplayRig(join(dir, 'rec'), { speed: 'max' });
      if (!rigReplay.ok) throw new Error(JSON.stringify(rigReplay.error));
      expect(rigReplay.value.rig.endSupported).toBe(true);
      const rigEvents: SourceEvent[] = [];
      const rc = new AbortController();
      const rigRun = rigReplay.value.rig.run((e) => rigEvents.push(e), rc.signal);
      const answers: CycleEndResult[] = [];
      for (let k = 0; k < 3; k++) {
        const mark = rigEvents.length;
        await rigReplay.value.rig.send({ command: 'START', sampleId: `P-${k}` });
        answers.push(await rigReplay.value.rig.endCycle('clear'));
        await waitFor(() => acks(rigEvents.slice(mark)).some((a) => a.command === 'START') && frames(rigEvents.slice(mark)).some((f, i, fs) => f.phase === 'I' && i > 0 && fs[i - 1]!.phase !== 'I'), `replayed cycle ${k}`);
      }
      rc.abort();
      await rigRun;
      expect(answers.map((a) => (a.ok ? a.value.phase : a.error.kind))).toEqual(['unsupported', 'E', 'R']);
      expect(acks(rigEvents).filter((a) => a.command === 'END')).toHaveLength(2);
    }, 120_000);
  }
});

