/**
 * The real link: a socat pty pair, the rig emulator as its own process on one end (node dist/cli/main.js
 * emulate-rig --link ...), and the serial source in this process on the other, through the real serialport
 * package. Time is compressed (--speed 50 and up, or max). Without socat these tests skip, loudly.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/engine.js';
import { EnoseError } from '../../src/errors.js';
import { lineHash, parseFaultSpecs, type EmulatorReport } from '../../src/io/emulator.js';
import { readModelFile } from '../../src/io/modelFile.js';
import { encodeFrame } from '../../src/io/protocol.js';
import { createSerialSource } from '../../src/io/serial.js';
import { createSimulation } from '../../src/sim/simulate.js';
import type { EngineEvent, SourceEvent, VerdictEvent } from '../../src/types.js';
import { REPO_ROOT } from '../helpers/shared.js';
import { ensureBuilt, haveSocat, startEmulator, startPty, waitFor, type EmulatorProcess, type TestPty } from '../helpers/pty.js';

describe('emulator fault options', () => {
  it('parses every fault kind, several per option, and rejects bad ones with one line', () => {
    expect(parseFaultSpecs(['bitflip:1e-4,drop-byte:0.001', 'reboot-at:300', 'clock-jump:10:-500', 'stall:5:200'])).toEqual([
      { kind: 'bitflip', rate: 1e-4 },
      { kind: 'drop-byte', rate: 0.001 },
      { kind: 'reboot-at', frame: 300 },
      { kind: 'clock-jump', frame: 10, ms: -500 },
      { kind: 'stall', frame: 5, ms: 200 },
    ]);
    for (const bad of ['bitflip:2', 'bitflip', 'reboot-at:1.5', 'stall:5:0', 'melt:1', 'truncate:x']) {
      expect(() => parseFaultSpecs([bad])).toThrow(EnoseError);
    }
    expect(() => parseFaultSpecs(['melt:1'])).toThrow(/^--fault melt:1: unknown fault/);
  });

  it('fingerprints lines with 32-bit FNV-1a (published check values)', () => {
    // FNV-1a 32: "" -> 811c9dc5, "a" -> e40c292c, "foobar" -> bf9cf968 (Fowler, Noll, Vo test vectors).
    expect(lineHash('')).toBe('811c9dc5');
    expect(lineHash('a')).toBe('e40c292c');
    expect(lineHash('foobar')).toBe('bf9cf968');
  });
});

describe('a port that does not exist, through the real serialport', () => {
  it('run() rejects with one port-error line', async () => {
    const source = createSerialSource({ path: '/dev/enose-no-such-port' });
    const error = (await source.run(() => undefined, new AbortController().signal).catch((e: unknown) => e)) as EnoseError;
    expect(error).toBeInstanceOf(EnoseError);
    expect(error.code).toBe('port-error');
    expect(error.message).toBe('cannot open /dev/enose-no-such-port: no such device');
  });
});

const socat = haveSocat();

interface Link {
  readonly pty: TestPty;
  readonly events: SourceEvent[];
  readonly source: ReturnType<typeof createSerialSource>;
  emu: EmulatorProcess;
  readonly dir: string;
  /** Stops everything; returns the emulator's report. */
  stop(): Promise<EmulatorReport | null>;
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!().catch(() => undefined);
});

/** A pty pair, the serial source on its host end (connected first), and the emulator on its rig end. */
async function openLink(args: readonly string[] | ((dir: string) => readonly string[]), onEvent?: (e: SourceEvent) => void): Promise<Link> {
  const pty = await startPty();
  const dir = mkdtempSync(join(tmpdir(), 'enose-emu-'));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  const events: SourceEvent[] = [];
  const source = createSerialSource({ path: pty.host, reconnect: { initialDelayMs: 20, maxDelayMs: 200 } });
  const controller = new AbortController();
  const running = source.run((e) => {
    events.push(e);
    onEvent?.(e);
  }, controller.signal);
  await waitFor(() => events.some((e) => e.type === 'state' && e.state === 'connected'), 'the host end to open');
  const link: Link = {
    pty,
    events,
    source,
    dir,
    emu: startEmulator(['--link', pty.rig, ...(typeof args === 'function' ? args(dir) : args)]),
    async stop() {
      const report = await link.emu.stop();
      controller.abort();
      await running;
      await pty.close();
      return report;
    },
  };
  cleanups.push(() => link.stop());
  return link;
}

const ofType = <T extends SourceEvent['type']>(events: readonly SourceEvent[], type: T) => events.filter((e): e is Extract<SourceEvent, { type: T }> => e.type === type);

/**
 * Waits until the source has read every byte the emulator (exited) wrote, and every issue the codec counted has
 * come out (an issue can wait up to a second for copies of itself, src/io/issueRuns.ts): events, not a quiet
 * spell, so that a busy machine that delivers late is waited for.
 */
async function settled(link: Link): Promise<void> {
  const report = link.emu.report();
  if (report === null) throw new Error(`settled() needs the emulator's report (has it exited?); stderr: ${link.emu.stderr()}`);
  await waitFor(() => link.source.stats().bytesIn >= report.bytesWritten, `the ${report.bytesWritten} bytes the emulator wrote`, 60_000);
  const counted = (): number => Object.values(link.source.stats().decoder?.issues ?? {}).reduce((a, b) => a + b, 0);
  const out = (): number => ofType(link.events, 'issue').reduce((a, i) => a + (i.count ?? 1), 0);
  await waitFor(() => out() >= counted(), 'the issues the codec counted', 60_000);
}

/** The emulator's frames log: seq -> { hash of the clean line, faults }. */
function readFramesLog(path: string): Map<number, { hash: string; faults: string }> {
  const map = new Map<number, { hash: string; faults: string }>();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line === '') continue;
    const [seq, hash, faults] = line.split(',');
    map.set(Number(seq), { hash: hash!, faults: faults ?? '' });
  }
  return map;
}

/** Accepted frames whose line differs from the clean line the emulator made for that seq. */
function corruptedAccepted(events: readonly SourceEvent[], log: Map<number, { hash: string }>): number {
  let n = 0;
  for (const f of ofType(events, 'frame')) {
    const clean = log.get(f.seq);
    if (clean === undefined || clean.hash !== lineHash(encodeFrame(f))) n++;
  }
  return n;
}

const SHORT_CYCLES = ['--baseline-s', '2', '--exposure-s', '3', '--recovery-s', '2', '--idle-s', '1'];

describe.skipIf(!socat)('the rig emulator over a socat pty pair', () => {
  beforeAll(() => ensureBuilt());

  it('frames arrive with the right values, in order, nothing lost or flagged', async () => {
    const link = await openLink((dir) => ['--auto-cycle', '--speed', '100', '--sim-seed', '7', '--containers', '2', ...SHORT_CYCLES, '--frames-log', join(dir, 'frames.log')]);
    const { code } = await link.emu.exited;
    expect(code).toBe(0);
    const report = link.emu.report()!;
    expect(report.ended).toBe('end-of-data');
    await settled(link);
    const run = ofType(link.events, 'frame');
    expect(run).toHaveLength(report.framesWritten);
    expect(report.framesWritten).toBe(report.frames);
    expect(run.map((f) => f.seq)).toEqual(run.map((_, i) => i));
    expect(corruptedAccepted(run, readFramesLog(join(link.dir, 'frames.log')))).toBe(0);
    // Independent of the log: the cycle frames are the simulator's, bit for bit.
    const sim = createSimulation({ seed: 7, containers: 2, rateHz: 10, baselineS: 2, exposureS: 3, recoveryS: 2 });
    const expected = [...sim.cycles()].flatMap((c) => [...c.frames()]);
    const got = run.filter((f) => f.phase !== 'I');
    expect(got).toHaveLength(expected.length);
    got.forEach((f, i) => {
      expect(f.phase).toBe(expected[i]!.phase);
      expect(Array.from(f.values)).toEqual(Array.from(expected[i]!.values));
    });
    expect(ofType(link.events, 'issue')).toHaveLength(0);
    expect(ofType(link.events, 'gap')).toHaveLength(0);
    expect(ofType(link.events, 'info')[0]).toMatchObject({ proto: 'ENL/1', rig: 'SIM1', rateHz: 10, channels: sim.channels });
  });

  it('START is acknowledged and runs one B, E, R cycle; START during it is busy; STOP aborts', async () => {
    // 100 frames a second and a 1 s baseline: the STOP below is sent on the second baseline's first frame and
    // lands in it even on a busy machine. (At 500 frames/s a busy host read the link over a second behind the
    // emulator, and the STOP came during the exposure.)
    const link = await openLink(['--speed', '10', '--baseline-s', '10', '--exposure-s', '1', '--recovery-s', '1', '--containers', '5']);
    await waitFor(() => ofType(link.events, 'info').length > 0 && ofType(link.events, 'frame').length > 3, 'info and idle frames');
    await link.source.send({ command: 'START', sampleId: 'S1' });
    await waitFor(() => ofType(link.events, 'ack').length === 1, 'the START ack');
    await link.source.send({ command: 'START', sampleId: 'S2' });
    await waitFor(() => ofType(link.events, 'ack').length === 2, 'the busy ack');
    const ackAt = link.events.findIndex((e) => e.type === 'ack');
    await waitFor(() => {
      const after = ofType(link.events.slice(ackAt), 'frame').map((f) => f.phase);
      return after.includes('R') && after.at(-1) === 'I';
    }, 'the cycle to end');
    const acks = ofType(link.events, 'ack');
    expect(acks.map((a) => [a.command, a.ok, a.detail])).toEqual([
      ['START', true, ''],
      ['START', false, 'busy'],
    ]);
    const phases = ofType(link.events.slice(ackAt), 'frame').map((f) => f.phase);
    const runs = phases.filter((p, i) => i === 0 || p !== phases[i - 1]);
    expect(runs.slice(0, 5).join('')).toMatch(/^I?BERI$/);
    expect(phases.filter((p) => p === 'B')).toHaveLength(100);
    expect(phases.filter((p) => p === 'E')).toHaveLength(10);
    expect(phases.filter((p) => p === 'R')).toHaveLength(10);
    // STOP during a second cycle's baseline: OK, back to idle, no exposure.
    const mark = link.events.length;
    await link.source.send({ command: 'START', sampleId: 'S3' });
    await waitFor(() => ofType(link.events.slice(mark), 'frame').some((f) => f.phase === 'B'), 'the second baseline');
    await link.source.send({ command: 'STOP' });
    await waitFor(() => ofType(link.events.slice(mark), 'ack').some((a) => a.command === 'STOP'), 'the STOP ack');
    const stopAt = link.events.findIndex((e, i) => i >= mark && e.type === 'ack' && e.command === 'STOP');
    await waitFor(() => ofType(link.events.slice(stopAt), 'frame').length >= 5, 'frames after STOP');
    const afterStop = ofType(link.events.slice(stopAt), 'frame').slice(1);
    expect(afterStop.every((f) => f.phase === 'I')).toBe(true);
    // Cut: no recovery after the STOP, and no exposure where the STOP landed in the baseline (almost always).
    const second = ofType(link.events.slice(mark), 'frame').map((f) => f.phase);
    expect(second.includes('R')).toBe(false);
    const stopAck = link.events[stopAt]!;
    const lateStop = ofType(link.events.slice(mark, stopAt), 'frame').some((f) => f.phase === 'E');
    if (lateStop) console.warn(`emulator START/STOP: the STOP reached the rig in the exposure (the host read the link late, at ${stopAck.atMs.toFixed(0)} ms)`);
    else expect(second.includes('E')).toBe(false);
    const report = (await link.stop())!;
    expect(report.commands).toMatchObject({ START: 3, STOP: 1 });
    expect(report.cyclesStarted).toBe(2);
  });

  it('single-bit flips over a long run: no corrupted frame accepted, issues equal the lines the emulator hit', async () => {
    const t0 = performance.now();
    const link = await openLink((dir) => ['--auto-cycle', '--speed', 'max', '--frames', '20000', '--containers', '1000', ...SHORT_CYCLES, '--fault', 'bitflip:2e-4', '--fault-seed', '11', '--frames-log', join(dir, 'frames.log')]);
    expect((await link.emu.exited).code).toBe(0);
    await settled(link);
    const seconds = (performance.now() - t0) / 1000;
    const report = link.emu.report()!;
    const frames = readFramesLog(join(link.dir, 'frames.log'));
    const mine = link.events;
    const issues = ofType(mine, 'issue');
    const accepted = ofType(mine, 'frame');
    expect(report.frames).toBe(20_000);
    expect(report.injected.bitflip).toBeGreaterThan(500); // the run exercised the check
    expect(report.bitsFlipped).toBeGreaterThanOrEqual(report.injected.bitflip);
    expect(corruptedAccepted(accepted, frames)).toBe(0);
    expect(issues.every((i) => i.kind === 'bad-checksum' || i.kind === 'malformed')).toBe(true);
    expect(issues).toHaveLength(report.injected.bitflip);
    expect(accepted).toHaveLength(report.framesWritten - report.injected.bitflip);
    // Every hit frame before the last accepted one is reported lost in a gap.
    const lastAccepted = accepted.at(-1)!.seq;
    const hitBefore = [...frames].filter(([seq, f]) => seq < lastAccepted && f.faults.includes('bitflip')).length;
    expect(ofType(mine, 'gap').reduce((s, g) => s + g.lost, 0)).toBe(hitBefore);
    console.log(
      `bitflip 2e-4/byte: ${report.frames} frames, ${report.injected.bitflip} lines hit (${report.bitsFlipped} bits), ${issues.length} issues, 0 corrupted frames accepted, ${(report.frames / seconds).toFixed(0)} frames/s over the pty`,
    );
  });

  it('dropped bytes and garbage: the share of corrupted lines that pass, next to 1 in 65,536', async () => {
    const link = await openLink((dir) => ['--auto-cycle', '--speed', 'max', '--frames', '20000', '--containers', '1000', ...SHORT_CYCLES, '--fault', 'drop-byte:1e-4,garbage:5e-3,truncate:2e-3', '--fault-seed', '5', '--frames-log', join(dir, 'frames.log')]);
    expect((await link.emu.exited).code).toBe(0);
    await settled(link);
    const report = link.emu.report()!;
    const frames = readFramesLog(join(link.dir, 'frames.log'));
    const events = link.events;
    const accepted = ofType(events, 'frame');
    const passed = corruptedAccepted(accepted, frames);
    const share = passed / report.corruptedLines;
    expect(report.corruptedLines).toBeGreaterThan(300);
    expect(report.injected['drop-byte'] + report.injected.garbage + report.injected.truncate).toBeGreaterThanOrEqual(report.corruptedLines);
    expect(ofType(events, 'issue').length).toBeGreaterThan(0);
    expect(share).toBeLessThan(1e-3); // 1/65,536 is 1.5e-5: zero or one pass is expected here
    console.log(
      `drop-byte 1e-4 + garbage 5e-3 + truncate 2e-3: ${report.corruptedLines} corrupted lines, ${passed} passed (${share.toExponential(2)}; a 16-bit check allows 1/65536 = ${(1 / 65536).toExponential(2)})`,
    );
  });

  it('repeated and skipped seq: each repeat is a repeated-seq issue, each skip a one-frame gap', async () => {
    const link = await openLink(['--auto-cycle', '--speed', 'max', '--frames', '5000', '--containers', '1000', ...SHORT_CYCLES, '--fault', 'repeat-seq:4e-3,skip-seq:3e-3', '--fault-seed', '2']);
    expect((await link.emu.exited).code).toBe(0);
    await settled(link);
    const report = link.emu.report()!;
    const events = link.events;
    expect(report.injected['repeat-seq']).toBeGreaterThan(5);
    expect(report.injected['skip-seq']).toBeGreaterThan(5);
    expect(ofType(events, 'issue').filter((i) => i.kind === 'repeated-seq')).toHaveLength(report.injected['repeat-seq']);
    const gaps = ofType(events, 'gap');
    expect(gaps.every((g) => g.lost === 1)).toBe(true);
    expect(gaps.length).toBeLessThanOrEqual(report.injected['skip-seq']);
    expect(gaps.length).toBeGreaterThanOrEqual(report.injected['skip-seq'] - 1); // a skip on the very last frame shows no gap
    expect(ofType(events, 'frame')).toHaveLength(report.framesWritten);
  });

  it('a reboot mid-stream: a reboot event, the info again, seq from 0, t_ms from 0', async () => {
    const link = await openLink(['--auto-cycle', '--speed', '100', ...SHORT_CYCLES, '--fault', 'reboot-at:120', '--frames', '200']);
    expect((await link.emu.exited).code).toBe(0);
    await settled(link);
    const i = link.events.findIndex((e) => e.type === 'reboot');
    expect(i).toBeGreaterThan(0);
    expect(link.events[i + 1]).toMatchObject({ type: 'info', rig: 'SIM1' });
    const before = ofType(link.events.slice(0, i), 'frame').at(-1)!;
    const after = ofType(link.events.slice(i), 'frame')[0]!;
    expect(before.seq).toBe(119);
    expect([after.seq, after.tMs]).toEqual([0, 0]);
    expect(ofType(link.events, 'gap')).toHaveLength(0);
    expect(link.emu.report()!.injected['reboot-at']).toBe(1);
  });

  it('a stall holds the bytes back; a clock jump moves t_ms; both counted', async () => {
    const link = await openLink((dir) => ['--auto-cycle', '--speed', '50', ...SHORT_CYCLES, '--fault', 'stall:60:400,clock-jump:80:5000', '--frames', '120', '--timing', join(dir, 'timing.csv')]);
    expect((await link.emu.exited).code).toBe(0);
    await settled(link);
    const frames = ofType(link.events, 'frame');
    expect(frames.map((f) => f.seq)).toEqual(frames.map((_, i) => i));
    const at = (seq: number) => frames[seq]!;
    // When the emulator wrote each frame (ms since the epoch, its clock). Frame k is due 2k ms after the
    // schedule starts (500 frames/s), and the stall moves every due time from frame 60 on by 400 ms: frame 60
    // went 520 ms or more after the schedule started, and the host read it no sooner (arrival on the same
    // epoch clock). Frame 0 is written as the schedule starts, a few ms in, or later if the machine paused the
    // emulator just then: 400 leaves 120 ms for that. Lower bounds from frame 0 only (a frame written late makes
    // the next gap short: the schedule is drift-free), which a busy machine cannot break; without the stall,
    // frame 60 goes about 120 ms after frame 0.
    const written = new Map<number, number>();
    for (const line of readFileSync(join(link.dir, 'timing.csv'), 'utf8').split('\n')) {
      const [seq, abs] = line.split(',').map(Number);
      if (Number.isInteger(seq) && Number.isFinite(abs)) written.set(seq!, abs!);
    }
    expect(written.get(60)! - written.get(0)!).toBeGreaterThanOrEqual(400);
    expect(performance.timeOrigin + at(60).atMs - written.get(0)!).toBeGreaterThanOrEqual(400);
    expect(at(60).tMs - at(59).tMs).toBe(100); // a stalled link, not a stalled rig clock
    expect(at(80).tMs - at(79).tMs).toBe(5100);
    expect(at(81).tMs - at(80).tMs).toBe(100);
    expect(ofType(link.events, 'issue')).toHaveLength(0);
    expect(link.emu.report()!.injected).toMatchObject({ stall: 1, 'clock-jump': 1 });
  });

  it('--from a frames CSV plays its samples as cycles, values intact', async () => {
    const link = await openLink((dir) => {
      const rows = ['sample,label,t_s,phase,s1,s2,temp_c'];
      for (const [k, sample] of ['A1', 'A2'].entries()) {
        for (let t = 0; t < 12; t++) rows.push(`${sample},${k ? 'clear' : 'cocaine'},${t * 0.5},${t < 4 ? 'B' : t < 10 ? 'E' : 'R'},${1000 + t * 1.25 + k},${2000.5 - t},nan`);
      }
      writeFileSync(join(dir, 'frames.csv'), `${rows.join('\n')}\n`);
      return ['--from', join(dir, 'frames.csv'), '--auto-cycle', '--speed', 'max', '--idle-s', '1'];
    });
    expect((await link.emu.exited).code).toBe(0);
    await settled(link);
    const info = ofType(link.events, 'info')[0]!;
    expect(info).toMatchObject({ rig: 'frames', rateHz: 2, channels: ['s1', 's2', 'temp_c'] });
    const cycle = ofType(link.events, 'frame').filter((f) => f.phase !== 'I');
    expect(cycle).toHaveLength(24);
    expect(cycle.map((f) => f.phase).join('')).toBe('BBBBEEEEEERR'.repeat(2));
    cycle.forEach((f, i) => {
      const t = i % 12;
      const k = Math.floor(i / 12);
      expect(Array.from(f.values)).toEqual([1000 + t * 1.25 + k, 2000.5 - t, NaN]);
    });
    expect(link.emu.report()).toMatchObject({ ended: 'end-of-data', cyclesCompleted: 2 });
  });

  it('unplug and replug (socat killed and restarted, the rig kept powered): the source reconnects, reports the gap, the engine marks the cut cycle', async () => {
    const model = readModelFile(join(REPO_ROOT, 'datasets', 'container-sim', 'exposure-model.json.gz'));
    expect(model.ok).toBe(true);
    if (!model.ok) return;
    const pty = await startPty();
    cleanups.push(() => pty.close());
    const engineEvents: EngineEvent[] = [];
    const source = createSerialSource({ path: pty.host, reconnect: { initialDelayMs: 20, maxDelayMs: 200 } });
    const engine = createEngine({ model: model.value, source, queue: false, emitFrames: true, onEvent: (e) => engineEvents.push(e) });
    cleanups.push(() => engine.close());
    await waitFor(() => engineEvents.some((e) => e.type === 'state' && e.state === 'connected'), 'connected');
    // A 60 s exposure (1.2 s at 50x): the unplug below lands in it however late a busy machine reacts.
    const emu = startEmulator(['--link', pty.rig, '--auto-cycle', '--speed', '50', '--baseline-s', '5', '--exposure-s', '60', '--recovery-s', '3', '--idle-s', '1', '--on-disconnect', 'wait']);
    cleanups.push(() => emu.stop());
    // Unplug in the middle of an exposure.
    await waitFor(() => engineEvents.some((e) => e.type === 'phase' && e.phase === 'E'), 'an exposure', 60_000);
    await new Promise((r) => setTimeout(r, 30));
    const lastBefore = (engineEvents.filter((e) => e.type === 'frame') as Extract<EngineEvent, { type: 'frame' }>[]).at(-1)!.seq;
    await pty.unplug();
    await waitFor(() => engineEvents.some((e) => e.type === 'state' && e.state === 'disconnected'), 'disconnected');
    await new Promise((r) => setTimeout(r, 300));
    await pty.replug();
    await emu.waitForLine(/^link-back/, 30_000);
    await waitFor(() => engineEvents.filter((e) => e.type === 'state' && e.state === 'connected').length === 2, 'reconnected');
    await waitFor(() => engineEvents.some((e) => e.type === 'gap'), 'the gap across the outage');
    const states = engineEvents.filter((e) => e.type === 'state').map((e) => (e as Extract<EngineEvent, { type: 'state' }>).state);
    expect(states[0]).toBe('connected');
    expect(states[1]).toBe('disconnected');
    expect(states.slice(2, -1).every((s) => s === 'reconnecting')).toBe(true);
    expect(states.length).toBeGreaterThanOrEqual(4);
    expect(states.at(-1)).toBe('connected');
    const gap = engineEvents.find((e) => e.type === 'gap') as Extract<EngineEvent, { type: 'gap' }>;
    expect(gap.fromSeq).toBeGreaterThan(lastBefore);
    expect(gap.lost).toBeGreaterThan(50); // 300 ms and more at 500 frames/s
    const cut = engineEvents.find((e) => e.type === 'verdict') as VerdictEvent | undefined;
    expect(cut).toBeDefined();
    expect(cut!.verdict).toBe('inconclusive');
    expect(cut!.reasons).toContain('cut-disconnect');
    expect(cut!.quality.cut).toBe('disconnect');
    // Frames flow again after the replug.
    const n = engineEvents.length;
    await waitFor(() => engineEvents.slice(n).some((e) => e.type === 'frame'), 'frames after the replug');
  });

  it('unplug with a USB-powered rig: the emulator exits, socat and the emulator are restarted, the source reconnects', async () => {
    const link = await openLink(['--auto-cycle', '--speed', '50', ...SHORT_CYCLES]);
    await waitFor(() => ofType(link.events, 'frame').length > 50, 'frames');
    await link.pty.unplug();
    const { code } = await link.emu.exited;
    expect(code).toBe(0);
    const first = link.emu.report()!;
    expect(first.ended).toBe('link-lost');
    await link.pty.replug();
    // A rig that kept its count (as with --first-seq) shows the frames missed meanwhile as one gap.
    const firstSeq = first.lastSeq! + 100;
    link.emu = startEmulator(['--link', link.pty.rig, '--auto-cycle', '--speed', '50', ...SHORT_CYCLES, '--first-seq', String(firstSeq)]);
    await waitFor(() => ofType(link.events, 'state').filter((s) => s.state === 'connected').length === 2, 'reconnected');
    await waitFor(() => ofType(link.events, 'frame').some((f) => f.seq >= firstSeq), 'frames of the restarted rig', 30_000);
    const beforeCut = ofType(link.events.slice(0, link.events.findIndex((e) => e.type === 'state' && e.state === 'disconnected')), 'frame').at(-1)!;
    const gap = ofType(link.events, 'gap')[0]!;
    const firstAfter = ofType(link.events, 'frame').find((f) => f.seq >= firstSeq)!;
    expect(gap).toMatchObject({ fromSeq: beforeCut.seq + 1, toSeq: firstAfter.seq - 1 });
    expect(gap.lost).toBe(firstAfter.seq - beforeCut.seq - 1);
  });
});
