/**
 * The early decision in the live engine (createEngine with `early`): the plan validated as data, one verdict a
 * container (early or final, never both), every verdict saying when it was decided, the same decisions as the
 * rule on each model alone (what `npm run eval:early` measures), and a drug container leaving early only as
 * suspicious. Both shipped models, on simulated evaluation-day containers (faults on, the simulator's default).
 */
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { EngineCore } from '../../src/engine/core.js';
import { decideEarly, type CheckpointScore } from '../../src/engine/earlyDecision.js';
import { EarlyEngineCore } from '../../src/engine/earlyCore.js';
import { measureEarly } from '../../src/engine/earlyMeasure.js';
import { parseEarlyPlan, resolveEarlyPlan, type EarlyPlanData } from '../../src/engine/earlyPlanSchema.js';
import { createEngine } from '../../src/engine/engine.js';
import { EnoseError } from '../../src/errors.js';
import { createMemorySource } from '../../src/io/memory.js';
import type { ModelBundle } from '../../src/model/runtime/bundle.js';
import { readModelFile } from '../../src/io/modelFile.js';
import { SHIPPED_EARLY_PLAN } from '../../src/shipped/earlyPlan.js';
import { runEarlySet } from '../../src/shipped/earlySet.js';
import { simulationEvents } from '../../src/sim/events.js';
import { createSimulation, type SimulationOptions } from '../../src/sim/simulate.js';
import type { EngineEvent, VerdictEvent } from '../../src/types.js';
import { REPO_ROOT } from '../helpers/shared.js';
import { RECOVERY_START_MODEL_PATH, SHIPPED_MODELS } from '../helpers/models.js';

const CONTAINERS = 300;
const SET: SimulationOptions = { seed: 1, containers: CONTAINERS, startDay: 21, days: 10 };

let models: Record<'default' | 'exposure' | 'recoveryStart', ModelBundle>;
beforeAll(() => {
  const read = (path: string) => {
    const r = readModelFile(resolve(REPO_ROOT, path));
    if (!r.ok) throw new Error(`${path}: ${r.error.reason}`);
    return r.value;
  };
  models = { ...Object.fromEntries(SHIPPED_MODELS.map((m) => [m.name, read(m.path)])), recoveryStart: read(RECOVERY_START_MODEL_PATH) } as typeof models;
});

const early = (plan: EarlyPlanData = SHIPPED_EARLY_PLAN) => ({ plan, models: [models.exposure, models.recoveryStart] });

async function run(options: { model: ModelBundle; early?: ReturnType<typeof early>; set?: SimulationOptions }): Promise<VerdictEvent[]> {
  const verdicts: VerdictEvent[] = [];
  const engine = createEngine({
    model: options.model,
    source: createMemorySource(simulationEvents(createSimulation(options.set ?? SET))),
    queue: false,
    emitFrames: false,
    ...(options.early && { early: options.early }),
    onEvent: (e: EngineEvent) => {
      if (e.type === 'verdict') verdicts.push(e);
    },
  });
  await engine.done;
  return verdicts;
}

describe('the early plan as data', () => {
  it('the shipped plan validates and names the shipped models', () => {
    const parsed = parseEarlyPlan(JSON.parse(JSON.stringify(SHIPPED_EARLY_PLAN)));
    expect(parsed.ok).toBe(true);
    expect(SHIPPED_EARLY_PLAN.checkpoints[0]!.modelId).toBe(models.exposure.id);
    expect(SHIPPED_EARLY_PLAN.finalModelId).toBe(models.default.id);
  });

  it('a bad plan is a value with a reason; misuse of the engine option throws bad-option', () => {
    const bad = (change: Record<string, unknown>) => parseEarlyPlan({ ...SHIPPED_EARLY_PLAN, ...change });
    const cp = SHIPPED_EARLY_PLAN.checkpoints[0]!;
    expect(bad({ kind: 'enose-model' })).toMatchObject({ ok: false, error: { reason: expect.stringContaining('kind') } });
    expect(bad({ version: 2 })).toMatchObject({ ok: false });
    expect(bad({ checkpoints: [] })).toMatchObject({ ok: false, error: { reason: expect.stringContaining('checkpoints') } });
    expect(bad({ checkpoints: [{ ...cp, clearBelow: 1.5 }] })).toMatchObject({ ok: false });
    // clear above CLEAR_MAX_SCORE, clear above suspicious, a checkpoint after the final one: checkPlan's rules
    expect(bad({ checkpoints: [{ ...cp, clearBelow: 0.6 }] })).toMatchObject({ ok: false, error: { reason: expect.stringContaining('clearBelow') } });
    expect(bad({ checkpoints: [{ ...cp, clearBelow: 0.3, suspiciousAbove: 0.2 }] })).toMatchObject({ ok: false });
    expect(bad({ finalAtS: 60 })).toMatchObject({ ok: false, error: { reason: expect.stringContaining('final') } });
    expect(bad({ extra: 1 })).toMatchObject({ ok: false });

    const code = (f: () => unknown) => {
      try {
        f();
      } catch (error) {
        return error instanceof EnoseError ? error.code : String(error);
      }
      return 'no error';
    };
    expect(code(() => resolveEarlyPlan(early(), models.exposure))).toBe('bad-option'); // the final model is not the engine's
    expect(code(() => resolveEarlyPlan({ plan: SHIPPED_EARLY_PLAN, models: [] }, models.default))).toBe('bad-option'); // missing model
    const recoveryAsCheckpoint = { ...SHIPPED_EARLY_PLAN, checkpoints: [{ ...cp, modelId: models.default.id }] };
    expect(code(() => resolveEarlyPlan({ plan: recoveryAsCheckpoint, models: [models.default] }, models.default))).toBe('bad-option');
    expect(code(() => new EarlyEngineCore(models.default, early(), { adaptation: true }, () => undefined))).toBe('bad-option');
    expect(resolveEarlyPlan(early(), models.default).checkpointModels.map((m) => m.id)).toEqual([models.exposure.id, models.recoveryStart.id]);
  });
});

describe('every verdict says when it was decided', () => {
  for (const shipped of SHIPPED_MODELS) {
    it(`${shipped.name} model alone: at the ${shipped.decidesAfter === 'E' ? 'exposure' : 'recovery'}'s end, never early`, async () => {
      const verdicts = await run({ model: models[shipped.name], set: { ...SET, containers: 20 } });
      expect(verdicts).toHaveLength(20);
      const atS = shipped.decidesAfter === 'E' ? 90 : 150;
      const checkpoint = shipped.decidesAfter === 'E' ? 'exposure-end' : 'recovery-end';
      // The set's last cycle ends with the data: decided one frame period after its last frame, as live.
      for (const v of verdicts) expect([v.decidedAtS, v.checkpoint, v.early]).toEqual([atS, checkpoint, false]);
    });
  }
});

describe(`the shipped plan in the engine, ${CONTAINERS} evaluation-day containers`, () => {
  it('one verdict a container; the decisions are the rule applied to each model alone (what eval:early measures)', async () => {
    // Each shipped model alone, as scripts/early-decision.mjs scores them.
    const alone = { default: new Map<string, VerdictEvent>(), exposure: new Map<string, VerdictEvent>(), recoveryStart: new Map<string, VerdictEvent>() };
    const cores = (['default', 'exposure', 'recoveryStart'] as const).map((name) => new EngineCore(models[name], { emitFrames: false }, (e) => {
      if (e.type === 'verdict') alone[name].set(e.sample, e);
    }));
    for (const e of simulationEvents(createSimulation(SET))) for (const c of cores) c.push(e);
    for (const c of cores) c.end();

    const verdicts = await run({ model: models.default, early: early() });
    expect(new Set(verdicts.map((v) => v.sample)).size).toBe(verdicts.length);
    expect([...verdicts.map((v) => v.sample)].sort()).toEqual([...alone.default.keys()].sort());
    let earlyN = 0;
    const rows = [];
    for (const v of verdicts) {
      const final = alone.default.get(v.sample)!;
      const atExposureEnd = alone.exposure.get(v.sample)!;
      const atRecoveryStart = alone.recoveryStart.get(v.sample)!;
      const o = decideEarly(SHIPPED_EARLY_PLAN, [atExposureEnd as CheckpointScore, atRecoveryStart as CheckpointScore], final);
      expect({ sample: v.sample, verdict: v.verdict, early: v.early }).toEqual({ sample: v.sample, verdict: o.verdict, early: o.early });
      if (v.early) {
        earlyN++;
        if (v.checkpoint === 'exposure-end') expect([v.decidedAtS, v.modelId, v.score]).toEqual([90, models.exposure.id, atExposureEnd.score]);
        else expect([v.decidedAtS, v.checkpoint, v.modelId, v.score]).toEqual([100, 'in-recovery', models.recoveryStart.id, atRecoveryStart.score]);
      } else {
        const timeless = ({ atMs: _a, latencyMs: _l, wallTime: _w, ...rest }: VerdictEvent) => rest;
        expect(timeless(v)).toEqual(timeless(final)); // the final model's own verdict, unchanged
      }
      rows.push({ suspicious: v.label !== 'clear', verdict: o.verdict, atS: o.atS, early: o.early, fullVerdict: final.verdict });
    }
    expect(earlyN).toBeGreaterThan(0);
    // `enose demo --early`'s run (runEarlySet) measures the same as the rule on the models alone.
    const demo = await runEarlySet(models.default, early(), SET);
    const script = measureEarly(rows);
    expect(demo.missing).toBe(0);
    expect({ ...demo.summary, drugsClearedEarly: null }).toEqual({ ...script, drugsClearedEarly: null });
    expect(demo.summary.drugsClearedEarly.total).toBe(script.drugsClearedEarly.total);
    console.info(`early plan on ${CONTAINERS}: ${earlyN} early verdicts; detection ${script.detectionRate}, false alarms ${script.falseAlarmRate}, clear containers ${script.meanDecisionClearS} s`);
  });

  it('a drug container leaves early only as suspicious: a lenient clear threshold still clears only clean clear verdicts', async () => {
    // clearBelow 0.45: far above the shipped one, so the checkpoint model's own verdict is what holds containers back.
    const lenient: EarlyPlanData = { ...SHIPPED_EARLY_PLAN, checkpoints: [{ ...SHIPPED_EARLY_PLAN.checkpoints[0]!, clearBelow: 0.45 }] };
    const alone = new Map<string, VerdictEvent>();
    const core = new EngineCore(models.exposure, { emitFrames: false }, (e) => {
      if (e.type === 'verdict') alone.set(e.sample, e);
    });
    for (const e of simulationEvents(createSimulation(SET))) core.push(e);
    core.end();
    const verdicts = await run({ model: models.default, early: early(lenient) });
    let heldBack = 0;
    for (const v of verdicts) {
      const checkpoint = alone.get(v.sample)!;
      if (v.early && v.verdict === 'clear') {
        // Only where the exposure model itself said a clean clear.
        expect(checkpoint.verdict).toBe('clear');
        expect(v.reasons).toEqual(checkpoint.reasons);
      }
      if (checkpoint.score !== null && checkpoint.score < 0.45 && checkpoint.verdict !== 'clear') {
        heldBack++;
        expect(v.early && v.verdict === 'clear').toBe(false);
      }
      // A drug container whose exposure model did not say clear never leaves early as clear.
      if (v.label !== 'clear' && v.early) expect(v.verdict === 'suspicious' || checkpoint.verdict === 'clear').toBe(true);
    }
    expect(heldBack).toBeGreaterThan(0);
    console.info(`lenient plan: ${verdicts.filter((v) => v.early).length} early verdicts, ${heldBack} low scores held back (not a clean clear)`);
  });
});

describe('the early engine allocates nothing per frame of its own', () => {
  it('100,000 exposure frames: the early engine grows the heap no more than its three cores do alone', async () => {
    const { spawnSync } = await import('node:child_process');
    const { ensureBuilt } = await import('../helpers/pty.js');
    ensureBuilt();
    const heapDelta = (which: 'early' | 'default' | 'exposure' | 'recoveryStart'): number => {
      const script = `
        import { EarlyEngineCore } from './dist/engine/earlyCore.js';
        import { EngineCore } from './dist/engine/core.js';
        import { SHIPPED_EARLY_PLAN } from './dist/shipped/earlyPlan.js';
        import { simulationEvents } from './dist/sim/events.js';
        import { createSimulation } from './dist/sim/simulate.js';
        import { readModelFile } from './dist/io/modelFile.js';
        const [final, exposure, recoveryStart] = ${JSON.stringify([...SHIPPED_MODELS.map((m) => m.path), RECOVERY_START_MODEL_PATH].map((p) => resolve(REPO_ROOT, p)))}.map((p) => readModelFile(p).value);
        let verdicts = 0;
        const sink = (e) => { if (e.type === 'verdict') verdicts++; };
        const core = '${which}' === 'early' ? new EarlyEngineCore(final, { plan: SHIPPED_EARLY_PLAN, models: [exposure, recoveryStart] }, { emitFrames: false }, sink)
          : new EngineCore('${which}' === 'exposure' ? exposure : '${which}' === 'recoveryStart' ? recoveryStart : final, { emitFrames: false }, sink);
        // Into the exposure of the first container, then the same exposure frame again and again (one object).
        let frame = null;
        for (const e of simulationEvents(createSimulation({ seed: 7, containers: 1 }))) {
          if (e.type === 'frame' && e.phase === 'E' && e.tMs > 40000) { frame = { ...e, values: Float64Array.from(e.values) }; break; }
          core.push(e);
        }
        for (let i = 0; i < 100000; i++) { frame.seq++; core.push(frame); }
        globalThis.gc();
        const before = process.memoryUsage().heapUsed;
        for (let i = 0; i < 100000; i++) { frame.seq++; core.push(frame); }
        const delta = process.memoryUsage().heapUsed - before;
        console.log(JSON.stringify({ verdicts, delta }));`;
      const r = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { cwd: REPO_ROOT, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const { verdicts, delta } = JSON.parse(r.stdout) as { verdicts: number; delta: number };
      expect(verdicts).toBe(0); // still in the exposure: no checkpoint reached
      return delta;
    };
    const alone = heapDelta('default') + heapDelta('exposure') + heapDelta('recoveryStart');
    const early = heapDelta('early');
    console.info(`heap growth over 100,000 frames: each model's core alone ${alone} B together, the early engine ${early} B`);
    // The wrapper forwards each event to each core: anything of its own per frame (an object: 1.6 MB or more) shows.
    expect(early).toBeLessThan(alone + 400_000);
  });
});
