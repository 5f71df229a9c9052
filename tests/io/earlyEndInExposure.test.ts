/**
 * The rig follows a decision inside the exposure (issue 22) over the real link: a socat pty pair, the rig emulator
 * as its own process, the serial source (real serialport), the engine with a three-checkpoint plan (a small
 * three-window model at 60 s, inside the exposure; the shipped exposure model at 90 s; the shipped default model
 * at 150 s). A verdict at 60 s ends the cycle on the rig during its exposure (END in E), the recording holds where,
 * and its replay gives the same verdicts at the same checkpoints. Without socat the test skips, loudly.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EarlyPlanData } from '../../src/engine/earlyPlanSchema.js';
import { createEngine } from '../../src/engine/engine.js';
import { writeModelFile } from '../../src/io/modelFile.js';
import { createRecorder } from '../../src/io/recording.js';
import { createReplaySource } from '../../src/io/replay.js';
import { createSerialSource } from '../../src/io/serial.js';
import type { ModelBundle } from '../../src/model/runtime/bundle.js';
import type { EngineEvent } from '../../src/types.js';
import { medianClearScore, shippedPair, threeCheckpointPlan, trainInExposureModel, verdictsAlone } from '../helpers/inExposureModel.js';
import { runEnose } from '../helpers/cli.js';
import { SHIPPED_MODELS } from '../helpers/models.js';
import { ensureBuilt, haveSocat, startEmulator, startPty, waitFor } from '../helpers/pty.js';
import { phaseRunLengths } from '../helpers/phaseRuns.js';
import { runCyclesOneByOne } from '../helpers/earlyCycles.js';

const socat = haveSocat();
if (!socat) console.info('SKIPPED: socat is not installed (apt-get install socat): the in-exposure end test needs a pty pair');
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!().catch(() => undefined);
});

const CYCLES = 6;
/** The emulator's containers (`--sim-start-day 21 --containers 6`, seed 1). */
const EMULATED = { seed: 1, containers: CYCLES, startDay: 21 };

let w3: ModelBundle;
let final: ModelBundle;
let exposure: ModelBundle;
let plan: EarlyPlanData;
beforeAll(async () => {
  ensureBuilt();
  w3 = trainInExposureModel();
  [final, exposure] = shippedPair();
  // A clear threshold at 60 s that clears about half of the model's clean clears on these containers: some cycles
  // decide inside the exposure, some wait for 90 s or 150 s.
  plan = threeCheckpointPlan(w3, medianClearScore(await verdictsAlone(w3, EMULATED)));
}, 180_000);

type Verdict = Extract<EngineEvent, { type: 'verdict' }>;
type CycleEnd = Extract<EngineEvent, { type: 'cycle-end' }>;
const verdictsOf = (es: readonly EngineEvent[]) => es.filter((e): e is Verdict => e.type === 'verdict');
const endsOf = (es: readonly EngineEvent[]) => es.filter((e): e is CycleEnd => e.type === 'cycle-end');
const framesOf = (es: readonly EngineEvent[]) => es.filter((e): e is Extract<EngineEvent, { type: 'frame' }> => e.type === 'frame');
const decision = (v: Verdict) => ({ sample: v.sample, verdict: v.verdict, early: v.early, checkpoint: v.checkpoint, decidedAtS: v.decidedAtS, modelId: v.modelId, score: v.score, reasons: v.reasons });

const exposureLengths = (events: readonly EngineEvent[]): number[] => phaseRunLengths(events, 'E', 'R');

describe('--early-plan and --early-model on the command line', () => {
  it('refuses a missing plan file, an --early-model without a plan, and a plan whose times are not its models\'', () => {
    const dir = mkdtempSync(join(tmpdir(), 'enose-early-plan-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const csv = join(dir, 'none.csv');
    const model = ['--model', SHIPPED_MODELS[0]!.path];
    const missing = runEnose(['replay', csv, ...model, '--early-plan', join(dir, 'nope.json')]);
    expect([missing.code, missing.stderr]).toEqual([expect.any(Number), expect.stringMatching(/--early-plan: .*nope\.json/)]);
    expect(missing.code).not.toBe(0);
    const modelFile = join(dir, 'in-exposure.json.gz');
    writeModelFile(modelFile, w3);
    const alone = runEnose(['replay', csv, ...model, '--early-model', modelFile]);
    expect(alone.code).not.toBe(0);
    expect(alone.stderr).toMatch(/--early-model: only with --early-plan/);
    const planFile = join(dir, 'plan.json');
    writeFileSync(planFile, JSON.stringify({ ...plan, checkpoints: [{ ...plan.checkpoints[0]!, atS: 45 }, plan.checkpoints[1]] }));
    const late = runEnose(['replay', csv, ...model, '--early-plan', planFile, '--early-model', modelFile]);
    expect(late.code).not.toBe(0);
    expect(late.stderr).toMatch(/decides at 60 s \(in-exposure\), the early plan's checkpoint is at 45 s/);
  }, 120_000);
});

describe.skipIf(!socat)('the rig follows a decision inside the exposure (pty pair, emulator, real serialport)', () => {
  it('a verdict at 60 s ends the exposure on the rig; the recording replays to the same verdicts at the same checkpoints', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'enose-in-exposure-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const rec = join(dir, 'rec');
    const option = { plan, models: [exposure, w3] };

    const pty = await startPty();
    cleanups.push(() => pty.close());
    const source = createSerialSource({ path: pty.host, reconnect: { initialDelayMs: 20, maxDelayMs: 200 } });
    const recorder = createRecorder(rec, { modelId: final.id, source: source.description, startedAt: new Date() });
    const events: EngineEvent[] = [];
    const engine = createEngine({
      model: final,
      source,
      early: option,
      queue: false,
      emitFrames: true,
      onEvent: (e) => {
        events.push(e);
        recorder.write(e);
        // What `enose watch --record` does with the rig's answer (src/cli/earlyOption.ts).
        if (e.type === 'cycle-end' && e.ended !== null) recorder.cycleEnd(e.ended);
      },
    });
    cleanups.push(() => engine.close());
    await waitFor(() => events.some((e) => e.type === 'state' && e.state === 'connected'), 'the host end to open');
    const emu = startEmulator(['--link', pty.rig, '--speed', '50', '--sim-start-day', '21', '--containers', String(CYCLES)]);
    cleanups.push(() => emu.stop());
    await waitFor(() => events.some((e) => e.type === 'info') && events.some((e) => e.type === 'frame'), 'info and idle frames');
    await runCyclesOneByOne(engine, events, CYCLES);
    await engine.close();
    await recorder.close();

    const verdicts = verdictsOf(events);
    expect(verdicts.map((v) => v.sample)).toEqual(Array.from({ length: CYCLES }, (_, k) => `C-${k}`)); // one verdict a cycle
    const at60 = verdicts.filter((v) => v.early && v.checkpoint === 'in-exposure');
    const rest = verdicts.filter((v) => !(v.early && v.checkpoint === 'in-exposure'));
    expect(at60.length).toBeGreaterThan(0);
    expect(rest.length).toBeGreaterThan(0);
    for (const v of at60) expect([v.modelId, v.decidedAtS]).toEqual([w3.id, 60]);
    for (const v of rest) expect([v.checkpoint, v.modelId, v.decidedAtS]).toEqual(v.early ? ['exposure-end', exposure.id, 90] : ['recovery-end', final.id, 150]);

    // END after each early verdict: taken in E after a verdict at 60 s (the exposure cut short), in R after one at 90 s.
    const early = verdicts.filter((v) => v.early);
    expect(endsOf(events).map((e) => [e.sample, e.reason, e.issue, e.ended?.phase])).toEqual(early.map((v) => [v.sample, v.verdict, null, v.checkpoint === 'in-exposure' ? 'E' : 'R']));
    const lengths = exposureLengths(events);
    expect(lengths).toHaveLength(CYCLES);
    verdicts.forEach((v, k) => (v.checkpoint === 'in-exposure' ? expect(lengths[k]).toBeLessThan(600) : expect(lengths[k]).toBe(600)));
    for (const [k, v] of verdicts.entries()) if (v.checkpoint === 'in-exposure') expect(lengths[k]).toBeGreaterThanOrEqual(300);

    // The recording holds where and why each ended cycle was ended.
    const lines = readFileSync(join(rec, 'events.jsonl'), 'utf8').split('\n').filter((l) => l.includes('"cycle-end"'));
    expect(lines.map((l) => JSON.parse(l) as { reason: string; phase: string }).map((c) => [c.reason, c.phase])).toEqual(early.map((v) => [v.verdict, v.checkpoint === 'in-exposure' ? 'E' : 'R']));

    // The replay, through the same engine and plan: the same decisions, and the same cycle ends (from the recording).
    const replay = await createReplaySource(rec);
    if (!replay.ok) throw new Error(JSON.stringify(replay.error));
    const again: EngineEvent[] = [];
    const replayed = createEngine({ model: final, source: replay.value, early: option, queue: false, emitFrames: false, onEvent: (e) => again.push(e) });
    await replayed.done;
    await new Promise((r) => setTimeout(r, 50)); // the replay's answers to endCycle resolve after the frames
    expect(verdictsOf(again).map(decision)).toEqual(verdicts.map(decision));
    expect(endsOf(again).map((e) => [e.sample, e.reason, e.ended?.phase ?? e.issue?.kind])).toEqual(early.map((v) => [v.sample, v.verdict, v.checkpoint === 'in-exposure' ? 'E' : 'R']));

    // The same through the CLI: enose replay with the plan and the in-exposure model from files.
    const planFile = join(dir, 'plan.json');
    const modelFile = join(dir, 'in-exposure.json.gz');
    writeFileSync(planFile, JSON.stringify(plan));
    writeModelFile(modelFile, w3);
    const cli = runEnose(['replay', rec, '--model', SHIPPED_MODELS[0]!.path, '--early-plan', planFile, '--early-model', modelFile]);
    expect(cli.stderr).toBe('');
    expect(cli.code).toBe(0);
    for (const v of at60) expect(cli.stdout).toMatch(new RegExp(`${v.sample}: clear, .*; early, at 60 s \\(in-exposure\\)`));
    expect(cli.stdout.match(/\(in-exposure\)/g) ?? []).toHaveLength(at60.length);
    console.info(`in-exposure end: ${at60.length} of ${CYCLES} cycles decided at 60 s and their exposures ended on the rig (exposures ${lengths.join(', ')} frames)`);
  }, 300_000);
});
