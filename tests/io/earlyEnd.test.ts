/**
 * The rig follows the engine's early decision (issue 22) over the real link: a socat pty pair, the rig emulator as
 * its own process, the serial source (real serialport), the engine with an early plan (the exposure model at the
 * exposure's end, the default model at the recovery's end). An early verdict ends the cycle on the rig (END in R),
 * the recording holds where, and its replay gives the same verdicts at the same checkpoints. A rig without END
 * keeps full cycles: one `cycle-end` event with `unsupported`, then none. Without socat these tests skip, loudly.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EarlyPlanData } from '../../src/engine/earlyPlanSchema.js';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import { readModelFile } from '../../src/io/modelFile.js';
import { createRecorder } from '../../src/io/recording.js';
import { createReplaySource } from '../../src/io/replay.js';
import { createSerialSource } from '../../src/io/serial.js';
import type { ModelBundle } from '../../src/model/runtime/bundle.js';
import { SHIPPED_EARLY_PLAN } from '../../src/shipped/earlyPlan.js';
import type { EngineEvent } from '../../src/types.js';
import { SHIPPED_MODELS } from '../helpers/models.js';
import { ensureBuilt, haveSocat, startEmulator, startPty, waitFor } from '../helpers/pty.js';
import { REPO_ROOT } from '../helpers/shared.js';
import { phaseRunLengths } from '../helpers/phaseRuns.js';
import { runCyclesOneByOne } from '../helpers/earlyCycles.js';

const socat = haveSocat();
if (!socat) console.info('SKIPPED: socat is not installed (apt-get install socat): the early-end tests need a pty pair');
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!().catch(() => undefined);
});

/**
 * The shipped plan with a lenient clear threshold (0.45): most clear containers then leave at the exposure's end,
 * so a handful of cycles holds early and full ones. The wiring is what is tested; the shipped thresholds are
 * tested in tests/engine/earlyEngine.test.ts.
 */
const LENIENT: EarlyPlanData = { ...SHIPPED_EARLY_PLAN, checkpoints: [{ ...SHIPPED_EARLY_PLAN.checkpoints[0]!, clearBelow: 0.45 }] };
const CYCLES = 6;

let models: Record<'default' | 'exposure', ModelBundle>;
beforeAll(() => {
  ensureBuilt();
  models = Object.fromEntries(SHIPPED_MODELS.map((m) => {
    const r = readModelFile(join(REPO_ROOT, m.path));
    if (!r.ok) throw new Error(`${m.path}: ${r.error.reason}`);
    return [m.name, r.value];
  })) as typeof models;
}, 180_000);

type Verdict = Extract<EngineEvent, { type: 'verdict' }>;
const verdictsOf = (es: readonly EngineEvent[]) => es.filter((e): e is Verdict => e.type === 'verdict');
const framesOf = (es: readonly EngineEvent[]) => es.filter((e): e is Extract<EngineEvent, { type: 'frame' }> => e.type === 'frame');
const decision = (v: Verdict) => ({ sample: v.sample, verdict: v.verdict, early: v.early, checkpoint: v.checkpoint, decidedAtS: v.decidedAtS, modelId: v.modelId, score: v.score, reasons: v.reasons });

/** The engine with the plan on a serial source at a fresh pty, the emulator on the rig end; runs CYCLES cycles one by one. */
async function runLive(emulatorArgs: readonly string[], record: string | null): Promise<{ events: EngineEvent[]; engine: Engine }> {
  const pty = await startPty();
  cleanups.push(() => pty.close());
  const source = createSerialSource({ path: pty.host, reconnect: { initialDelayMs: 20, maxDelayMs: 200 } });
  const recorder = record === null ? null : createRecorder(record, { modelId: models.default.id, source: source.description, startedAt: new Date() });
  const events: EngineEvent[] = [];
  const engine = createEngine({
    model: models.default,
    source,
    early: { plan: LENIENT, models: [models.exposure] },
    queue: false,
    emitFrames: true,
    onEvent: (e) => {
      events.push(e);
      recorder?.write(e);
      // What `enose watch --record` does with the rig's answer (src/cli/earlyOption.ts).
      if (e.type === 'cycle-end' && e.ended !== null) recorder?.cycleEnd(e.ended);
    },
  });
  cleanups.push(() => engine.close());
  await waitFor(() => events.some((e) => e.type === 'state' && e.state === 'connected'), 'the host end to open');
  const emu = startEmulator(['--link', pty.rig, '--speed', '50', '--sim-start-day', '21', '--containers', String(CYCLES), ...emulatorArgs]);
  cleanups.push(() => emu.stop());
  await waitFor(() => events.some((e) => e.type === 'info') && events.some((e) => e.type === 'frame'), 'info and idle frames');
  await runCyclesOneByOne(engine, events, CYCLES, !emulatorArgs.includes('--no-end-command'));
  await engine.close();
  await recorder?.close();
  return { events, engine };
}

const recoveryLengths = (events: readonly EngineEvent[]): number[] => phaseRunLengths(events, 'R', 'I');

describe.skipIf(!socat)('the rig follows the early decision (pty pair, emulator, real serialport)', () => {
  it('an early verdict ends the cycle on the rig; the recording replays to the same verdicts at the same checkpoints', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'enose-early-end-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const rec = join(dir, 'rec');
    const { events } = await runLive([], rec);
    const verdicts = verdictsOf(events);
    expect(verdicts.map((v) => v.sample)).toEqual(Array.from({ length: CYCLES }, (_, k) => `C-${k}`)); // one verdict a cycle
    const early = verdicts.filter((v) => v.early);
    const full = verdicts.filter((v) => !v.early);
    expect(early.length).toBeGreaterThan(0);
    expect(full.length).toBeGreaterThan(0);
    for (const v of early) expect([v.checkpoint, v.modelId, v.decidedAtS]).toEqual(['exposure-end', models.exposure.id, 90]);
    for (const v of full) expect([v.checkpoint, v.modelId, v.decidedAtS]).toEqual(['recovery-end', models.default.id, 150]);

    // Each early verdict was followed by END, taken by the rig in R; no END after a full-cycle verdict.
    const ends = events.filter((e): e is Extract<EngineEvent, { type: 'cycle-end' }> => e.type === 'cycle-end');
    expect(ends.map((e) => [e.sample, e.reason, e.issue, e.ended?.phase])).toEqual(early.map((v) => [v.sample, v.verdict, null, 'R']));
    // The ended cycles' recoveries stop once the sensors are clean (at most the full 60 s: 600 frames).
    const lengths = recoveryLengths(events);
    expect(lengths).toHaveLength(CYCLES);
    verdicts.forEach((v, k) => (v.early ? expect(lengths[k]).toBeLessThanOrEqual(600) : expect(lengths[k]).toBe(600)));

    // The recording holds where and why each ended cycle was ended.
    const lines = readFileSync(join(rec, 'events.jsonl'), 'utf8').split('\n').filter((l) => l.includes('"cycle-end"'));
    expect(lines.map((l) => (JSON.parse(l) as { reason: string; phase: string }).reason)).toEqual(early.map((v) => v.verdict));

    // The replay, through the same engine and plan: the same decisions, and the same cycle ends (from the recording).
    const replay = await createReplaySource(rec);
    if (!replay.ok) throw new Error(JSON.stringify(replay.error));
    expect(replay.value.cycleEnds.map((c) => [c.reason, c.phase])).toEqual(early.map((v) => [v.verdict, 'R']));
    const again: EngineEvent[] = [];
    const replayed = createEngine({ model: models.default, source: replay.value, early: { plan: LENIENT, models: [models.exposure] }, queue: false, emitFrames: false, onEvent: (e) => again.push(e) });
    await replayed.done;
    await new Promise((r) => setTimeout(r, 50)); // the replay's answers to endCycle resolve after the frames
    expect(verdictsOf(again).map(decision)).toEqual(verdicts.map(decision));
    const replayEnds = again.filter((e): e is Extract<EngineEvent, { type: 'cycle-end' }> => e.type === 'cycle-end');
    expect(replayEnds.map((e) => [e.sample, e.reason, e.ended?.phase ?? e.issue?.kind])).toEqual(early.map((v) => [v.sample, v.verdict, 'R']));
    console.info(`early end: ${early.length} of ${CYCLES} cycles decided at 90 s and ended on the rig (recoveries ${lengths.join(', ')} frames)`);
  }, 300_000);

  it('a rig without END keeps full cycles: one unsupported cycle-end, no error, the verdicts unchanged', async () => {
    const { events } = await runLive(['--no-end-command'], null);
    const verdicts = verdictsOf(events);
    expect(verdicts).toHaveLength(CYCLES);
    const early = verdicts.filter((v) => v.early);
    expect(early.length).toBeGreaterThan(0);
    const ends = events.filter((e): e is Extract<EngineEvent, { type: 'cycle-end' }> => e.type === 'cycle-end');
    // Asked once (the first early verdict); the rig said it does not know END, so it is not asked again.
    expect(ends.map((e) => [e.sample, e.ended, e.issue?.kind])).toEqual([[early[0]!.sample, null, 'unsupported']]);
    expect(recoveryLengths(events)).toEqual(Array.from({ length: CYCLES }, () => 600));
  }, 300_000);
});
