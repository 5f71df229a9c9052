/**
 * A model knows its rig (issue 19 item 5): the shipped models carry their training rig's identity and data
 * fingerprint; the engine core flags cycles far outside it (`rig-mismatch`, never clear) and warns once. Both
 * shipped models, on their own rig's evaluation days and on another simulated rig.
 */
import { describe, expect, it } from 'vitest';
import { EngineCore } from '../../src/engine/core.js';
import { RIG_WARN_COUNT } from '../../src/engine/rigCheck.js';
import { parseBundle, signBundle, type ModelBundle, type UnsignedBundle } from '../../src/model/runtime/bundle.js';
import { simulationEvents } from '../../src/sim/events.js';
import { createSimulation, type SimulationOptions } from '../../src/sim/simulate.js';
import type { EngineEvent, SourceEvent, VerdictEvent } from '../../src/types.js';
import { loadModel } from '../helpers/models.js';

const MODELS = [
  ['default', 'datasets/container-sim/default-model.json.gz'],
  ['exposure', 'datasets/container-sim/exposure-model.json.gz'],
] as const;

function run(model: ModelBundle, events: Iterable<SourceEvent>): { verdicts: VerdictEvent[]; warnings: Extract<EngineEvent, { type: 'rig-mismatch' }>[]; order: string[] } {
  const verdicts: VerdictEvent[] = [];
  const warnings: Extract<EngineEvent, { type: 'rig-mismatch' }>[] = [];
  const order: string[] = [];
  const core = new EngineCore(model, { emitFrames: false }, (e) => {
    if (e.type === 'verdict') verdicts.push(e);
    if (e.type === 'rig-mismatch') warnings.push(e);
    if (e.type === 'verdict' || e.type === 'rig-mismatch' || e.type === 'info') order.push(e.type);
  });
  for (const e of events) core.push(e);
  core.end();
  return { verdicts, warnings, order };
}

/** The simulator's events with the info line's rig name replaced (another rig that calls itself SIM1). */
function* renamed(events: Iterable<SourceEvent>, rig: string): Generator<SourceEvent> {
  for (const e of events) yield e.type === 'info' ? { ...e, rig } : e;
}

const OWN: SimulationOptions = { seed: 1, containers: 100, startDay: 21, days: 10 };
const OTHER: SimulationOptions = { seed: 7, rigSeed: 7, containers: 40 };

describe.each(MODELS)('the rig check with the shipped %s model', (_name, path) => {
  const model = loadModel(path);

  it('carries its training rig: SIM1 (rig seed 1), fingerprinted on a sample of training days 1-20', () => {
    expect(model.rig?.identity).toEqual({ proto: 'ENL/1', rig: 'SIM1', fw: 'sim', rateHz: 10, unit: 'ohm' });
    expect(model.rig?.fingerprint.channels.map((c) => c.channel)).toEqual(model.input.kind === 'frames' ? model.input.channels.filter((c) => c !== 'temp_c' && c !== 'rh_pct') : []);
    expect(model.rig?.fingerprint.cycles).toBeGreaterThan(5000);
    for (const c of model.rig!.fingerprint.channels) expect(c.lnBaseline!.low).toBeLessThan(c.lnBaseline!.high);
  });

  it('on its own rig (evaluation days 21-30): at most 1 % of the verdicts carry rig-mismatch, and no warning', () => {
    const { verdicts, warnings } = run(model, simulationEvents(createSimulation(OWN)));
    expect(verdicts).toHaveLength(OWN.containers);
    expect(verdicts.filter((v) => v.reasons.includes('rig-mismatch')).length).toBeLessThanOrEqual(1);
    expect(warnings).toEqual([]);
  });

  it('on another rig (rig seed 7, named SIM7): over 90 % carry rig-mismatch, none is clear, one identity warning first', () => {
    const { verdicts, warnings, order } = run(model, simulationEvents(createSimulation(OTHER)));
    expect(verdicts).toHaveLength(OTHER.containers);
    expect(verdicts.filter((v) => v.reasons.includes('rig-mismatch')).length).toBeGreaterThanOrEqual(0.9 * OTHER.containers);
    expect(verdicts.filter((v) => v.verdict === 'clear')).toEqual([]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ basis: 'identity', sample: '' });
    expect(warnings[0]!.message).toMatch(/rig SIM7, the model was trained on rig SIM1/);
    expect(order.slice(0, 2)).toEqual(['info', 'rig-mismatch']);
  });

  it('another rig under the same name: the data warns once, after the verdict that makes three flagged', () => {
    const { verdicts, warnings, order } = run(model, renamed(simulationEvents(createSimulation(OTHER)), 'SIM1'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.basis).toBe('data');
    const at = order.indexOf('rig-mismatch');
    const before = order.slice(0, at).filter((t) => t === 'verdict').length;
    const flaggedBefore = verdicts.slice(0, before).filter((v) => v.reasons.includes('rig-mismatch')).length;
    expect(flaggedBefore).toBe(RIG_WARN_COUNT);
    expect(warnings[0]!.sample).toBe(verdicts[before - 1]!.sample);
    expect(verdicts.filter((v) => v.verdict === 'clear')).toEqual([]);
  });

  it('a suspicious verdict stays suspicious with the reason; the others of the model are unchanged without the fingerprint', () => {
    const { id: _i, hash: _h, rig: _r, ...rest } = model;
    const without = signBundle(rest as UnsignedBundle);
    const parsed = parseBundle(JSON.parse(JSON.stringify(without)), 'old-model.json');
    expect(parsed.ok).toBe(true);
    const plain = run(without, simulationEvents(createSimulation(OTHER)));
    const checked = run(model, simulationEvents(createSimulation(OTHER)));
    expect(plain.warnings).toEqual([]);
    expect(plain.verdicts.some((v) => v.reasons.includes('rig-mismatch'))).toBe(false);
    for (let i = 0; i < plain.verdicts.length; i++) {
      const p = plain.verdicts[i]!;
      const c = checked.verdicts[i]!;
      expect(c.probabilities).toEqual(p.probabilities);
      expect(c.verdict).toBe(p.verdict === 'clear' ? 'inconclusive' : p.verdict);
      expect(c.reasons.filter((r) => r !== 'rig-mismatch')).toEqual(p.reasons);
    }
    expect(plain.verdicts.some((v) => v.verdict === 'clear')).toBe(true);
    expect(checked.verdicts.some((v) => v.verdict === 'suspicious' && v.reasons.includes('rig-mismatch'))).toBe(true);
  });
});

describe('the rig check allocates nothing per cycle', () => {
  it('100,000 checks of a finished cycle leave the heap where it was (a boxed double each would be 1.6 MB)', async () => {
    const { spawnSync } = await import('node:child_process');
    const { ensureBuilt } = await import('../helpers/pty.js');
    ensureBuilt();
    const script = `
      import { EngineCore } from './dist/engine/core.js';
      import { simulationEvents } from './dist/sim/events.js';
      import { createSimulation } from './dist/sim/simulate.js';
      import { readModelFile } from './dist/io/modelFile.js';
      const model = readModelFile('${MODELS[0][1]}').value;
      const core = new EngineCore(model, { emitFrames: false }, () => {});
      for (const e of simulationEvents(createSimulation({ seed: 7, containers: 2 }))) core.push(e);
      const check = core.rigCheck, f = core.features.levels;
      let n = 0;
      for (let i = 0; i < 100000; i++) if (check.check(f)) n++;
      globalThis.gc();
      const before = process.memoryUsage().heapUsed;
      for (let i = 0; i < 100000; i++) if (check.check(f)) n++;
      console.log(JSON.stringify({ n, delta: process.memoryUsage().heapUsed - before }));`;
    const r = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { cwd: process.cwd(), encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const { n, delta } = JSON.parse(r.stdout) as { n: number; delta: number };
    expect(n).toBe(200000); // every check of the other rig's cycle flags it
    expect(delta).toBeLessThan(400_000);
  });
});
