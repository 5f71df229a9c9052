import { describe, expect, it } from 'vitest';
import { EngineCore } from '../../src/engine/core.js';
import { extractTrainingSet } from '../../src/engine/training.js';
import { fitModel } from '../../src/model/fitting/fitModel.js';
import type { ModelBundle } from '../../src/model/runtime/bundle.js';
import type { EngineEvent, VerdictEvent } from '../../src/types.js';
import { rigStream, trainingStream, type CycleSpec } from '../helpers/cycles.js';

function trainModel(): ModelBundle {
  const set = extractTrainingSet([{ group: 'train', events: trainingStream(30, 1) }]);
  expect(set.skipped).toEqual([]);
  return fitModel(set.table, set.input, { classifier: 'lda', limits: set.limits });
}

const model = trainModel();

function run(cycles: CycleSpec[], seed: number): { events: EngineEvent[]; verdicts: VerdictEvent[] } {
  const events: EngineEvent[] = [];
  let clock = 0;
  const core = new EngineCore(model, { now: () => clock }, (e) => events.push(e));
  for (const e of rigStream(cycles, { seed })) {
    clock += 0.001;
    core.push({ ...e, atMs: clock } as typeof e);
  }
  core.end();
  return { events, verdicts: events.filter((e): e is VerdictEvent => e.type === 'verdict') };
}

describe('engine core on synthetic rig streams', () => {
  it('trains through the live feature path and names its features', () => {
    expect(model.input.kind).toBe('frames');
    expect(model.input.featureNames).toContain('g1:ss');
    expect(model.input.featureNames).toContain('rh_pct:mean');
    expect(model.training.count).toBe(90);
    expect(model.training.cvAccuracy!).toBeGreaterThan(0.95);
  });

  it('gives one verdict per cycle with class, probabilities, reasons and frame span', () => {
    const { verdicts, events } = run([{ label: 'clear' }, { label: 'cocaine' }, { label: 'cannabis' }, { label: 'clear' }], 7);
    expect(verdicts.map((v) => v.class)).toEqual(['clear', 'cocaine', 'cannabis', 'clear']);
    expect(verdicts.map((v) => v.verdict)).toEqual(['clear', 'suspicious', 'suspicious', 'clear']);
    for (const v of verdicts) {
      expect(Object.values(v.probabilities).reduce((s, p) => s + p, 0)).toBeCloseTo(1, 12);
      expect(v.frames.count).toBeGreaterThan(100);
      expect(v.modelId).toBe(model.id);
    }
    // Cycles the rig ran on its own get the rig id and the seq of their first B frame.
    expect(verdicts[0]!.sample).toBe('T1-5');
    expect(events.filter((e) => e.type === 'sample-started')).toHaveLength(4);
    expect(events.filter((e) => e.type === 'phase').map((e) => (e as { phase: string }).phase).slice(0, 4)).toEqual(['B', 'E', 'R', 'I']);
  });

  const faults: [NonNullable<CycleSpec['fault']>, string][] = [
    ['nan', 'channel-dead'],
    ['stuck', 'channel-dead'],
    ['drift', 'baseline-unstable'],
    ['disconnect', 'cut-disconnect'],
    ['humid', 'humidity-out-of-range'],
  ];
  for (const [fault, reason] of faults) {
    it(`a ${fault} cycle is inconclusive with reason ${reason}, never clear`, () => {
      const { verdicts } = run([{ label: 'clear', fault }], 11);
      expect(verdicts).toHaveLength(1);
      expect(verdicts[0]!.verdict).toBe('inconclusive');
      expect(verdicts[0]!.reasons).toContain(reason);
    });
  }

  it('a cycle with lost frames beyond the limit is inconclusive', () => {
    const events: EngineEvent[] = [];
    const core = new EngineCore(model, {}, (e) => events.push(e));
    const stream = rigStream([{ label: 'clear' }], { seed: 3 });
    let n = 0;
    for (const e of stream) {
      if (e.type === 'frame' && e.phase === 'E' && n++ === 10) core.push({ type: 'gap', atMs: 0, fromSeq: 0, toSeq: 9, lost: 10 });
      core.push(e);
    }
    const v = events.find((e): e is VerdictEvent => e.type === 'verdict')!;
    expect(v.verdict).toBe('inconclusive');
    expect(v.reasons).toContain('lost-frames');
  });

  it('a cycle requested by id carries that id; a too-short exposure is inconclusive', () => {
    const events: EngineEvent[] = [];
    const core = new EngineCore(model, {}, (e) => events.push(e));
    core.requestSample('MSCU1234567');
    for (const e of rigStream([{ label: 'cocaine' }, { label: 'clear', exposure: 20 }], { seed: 5 })) core.push(e);
    const verdicts = events.filter((e): e is VerdictEvent => e.type === 'verdict');
    expect(verdicts[0]!.sample).toBe('MSCU1234567');
    expect(verdicts[1]!.reasons).toContain('too-short');
    expect(verdicts[1]!.verdict).toBe('inconclusive');
  });

  it('measures latency from the arrival of the frame that ended the exposure and reports over-budget', () => {
    for (const [stepMs, over] of [[3, false], [6, true]] as const) {
      const events: EngineEvent[] = [];
      let clock = 1000;
      // Each read of the engine's clock advances it by stepMs: the verdict is one read after the trigger.
      const core = new EngineCore(model, { now: () => (clock += stepMs), latencyBudgetMs: 5 }, (e) => events.push(e));
      for (const e of rigStream([{ label: 'clear' }], { seed: 9 })) core.push({ ...e, atMs: clock } as typeof e);
      const v = events.find((e): e is VerdictEvent => e.type === 'verdict')!;
      expect(v.latencyMs).toBe(stepMs);
      expect(events.some((e) => e.type === 'over-budget')).toBe(over);
    }
  });

  it('does not judge a rig whose channels differ from the model, and says why (never a throw)', () => {
    const events: EngineEvent[] = [];
    const core = new EngineCore(model, {}, (e) => events.push(e));
    core.push({ type: 'info', atMs: 0, proto: 'ENL/1', rig: 'X', fw: '1', rateHz: 10, unit: 'ohm', channels: ['a', 'b'] });
    expect(events.find((e) => e.type === 'rig-changed')).toMatchObject({ judging: false, reason: expect.stringMatching(/model is for 6 channels/) });
    expect(core.notJudging).toMatch(/model is for 6 channels/);
  });
});
