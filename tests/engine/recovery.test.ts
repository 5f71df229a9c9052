/**
 * Models that decide after the recovery phase (recovery-window features, `enose train --recovery-window-s`):
 * what the recovery adds, when their verdict comes, and what makes such a cycle inconclusive.
 */
import { describe, expect, it } from 'vitest';
import { EngineCore } from '../../src/engine/core.js';
import { SampleBook } from '../../src/service/samples.js';
import { extractTrainingSet } from '../../src/engine/training.js';
import { fitModel } from '../../src/model/fitting/fitModel.js';
import type { ModelBundle } from '../../src/model/runtime/bundle.js';
import { CycleFeatures, DEFAULT_EXTRACTOR, defaultGateLimits, featureNames, type ExtractorConfig } from '../../src/signal/features.js';
import type { EngineEvent, SourceEvent, VerdictEvent } from '../../src/types.js';
import { rigStream, STICKY_TWIN, TEST_RIG, type CycleSpec } from '../helpers/cycles.js';

const RECOVERY = { recoveryWindowS: 1, recoveryWindowCount: 4 } as const; // 40 frames at 10 Hz
const LABELS = ['clear', 'cocaine', STICKY_TWIN];

function train(extractor: Partial<ExtractorConfig>, seed: number): ModelBundle {
  const cycles: CycleSpec[] = [];
  for (let i = 0; i < 30; i++) for (const label of LABELS) cycles.push({ label, recovery: 40 });
  const set = extractTrainingSet([{ group: 'train', events: rigStream(cycles, { seed, withHints: true }) }], { extractor });
  expect(set.skipped).toEqual([]);
  return fitModel(set.table, set.input, { classifier: 'lda', limits: set.limits });
}

const exposureModel = train({}, 1);
const recoveryModel = train(RECOVERY, 1);

function run(model: ModelBundle, events: readonly SourceEvent[]): { events: EngineEvent[]; verdicts: VerdictEvent[] } {
  const out: EngineEvent[] = [];
  let clock = 0;
  const core = new EngineCore(model, { now: () => clock }, (e) => out.push(e));
  for (const e of events) {
    clock += 0.001;
    core.push({ ...e, atMs: clock } as typeof e);
  }
  core.end();
  return { events: out, verdicts: out.filter((e): e is VerdictEvent => e.type === 'verdict') };
}

describe('recovery-window features', () => {
  it('are named after the exposure windows, rwin per gas channel and drwin per environment channel', () => {
    const config: ExtractorConfig = { ...DEFAULT_EXTRACTOR, response: 'log', windowS: 2, windowCount: 2, summaryFeatures: false, ...RECOVERY };
    const names = featureNames(['g1', 'rh_pct'], config);
    expect(names).toEqual(['g1:win1', 'g1:win2', 'g1:rwin1', 'g1:rwin2', 'g1:rwin3', 'g1:rwin4', 'rh_pct:mean', 'rh_pct:delta', 'rh_pct:dwin1', 'rh_pct:dwin2', 'rh_pct:drwin1', 'rh_pct:drwin2', 'rh_pct:drwin3', 'rh_pct:drwin4']);
    expect(new CycleFeatures(['g1', 'rh_pct'], 10, config, defaultGateLimits('ohm')).width).toBe(names.length);
  });

  it('equal the mean response of each recovery window against the baseline R0, and NaN for a window never reached', () => {
    const config: ExtractorConfig = { ...DEFAULT_EXTRACTOR, response: 'log', windowS: 1, windowCount: 1, summaryFeatures: false, ...RECOVERY };
    const fx = new CycleFeatures(['g1', 'rh_pct'], 10, config, defaultGateLimits('ohm'));
    const names = featureNames(['g1', 'rh_pct'], config);
    const r0 = 1000;
    for (let k = 0; k < 20; k++) fx.baselineFrame(Float64Array.from([r0, 50]));
    fx.startExposure(2);
    for (let k = 0; k < 10; k++) fx.exposureFrame(Float64Array.from([500, 60]), 2 + k / 10);
    const rec = (k: number) => Float64Array.from([r0 * (0.5 + 0.5 * (1 - Math.exp(-k / 8))), 50 + 10 * Math.exp(-k / 8)]);
    for (let k = 0; k < 35; k++) fx.recoveryFrame(rec(k)); // 3.5 of the 4 windows
    expect(fx.recoveryFrames).toBe(35);
    expect(fx.recoveryFramesNeeded).toBe(40);
    const out = new Float64Array(fx.width);
    const gates = new Uint8Array(2);
    fx.finish(out, 0, gates);
    expect([...gates]).toEqual([0, 0]);
    for (let j = 0; j < 4; j++) {
      const ks = Array.from({ length: 10 }, (_, i) => 10 * j + i).filter((k) => k < 35);
      const gas = ks.reduce((s, k) => s + Math.log(rec(k)[0]! / r0), 0) / ks.length;
      const rh = ks.reduce((s, k) => s + rec(k)[1]!, 0) / ks.length - 50;
      expect(out[names.indexOf(`g1:rwin${j + 1}`)]).toBeCloseTo(gas, 12);
      expect(out[names.indexOf(`rh_pct:drwin${j + 1}`)]).toBeCloseTo(rh, 10);
    }
    // The decay is visible: each window is nearer the baseline than the one before.
    expect(out[names.indexOf('g1:rwin1')]!).toBeLessThan(out[names.indexOf('g1:rwin2')]!);
    expect(out[names.indexOf('g1:rwin2')]!).toBeLessThan(out[names.indexOf('g1:rwin3')]!);
    // The R frames did not touch the exposure or its environment features.
    expect(out[names.indexOf('g1:win1')]).toBeCloseTo(Math.log(0.5), 12);
    expect(out[names.indexOf('rh_pct:mean')]).toBe(60);
    fx.reset();
    expect(fx.recoveryFrames).toBe(0);
  });
});

describe('a model that decides after the recovery', () => {
  it('tells apart two classes whose exposures are alike and whose recoveries differ; the exposure-end model cannot', () => {
    const test: CycleSpec[] = [];
    for (let i = 0; i < 20; i++) for (const label of ['cocaine', STICKY_TWIN]) test.push({ label, recovery: 40 });
    const stream = rigStream(test, { seed: 99 });
    const accuracy = (m: ModelBundle) => {
      const { verdicts } = run(m, stream);
      expect(verdicts).toHaveLength(test.length);
      return verdicts.filter((v, i) => v.class === test[i]!.label).length / test.length;
    };
    const exposureOnly = accuracy(exposureModel);
    const withRecovery = accuracy(recoveryModel);
    console.log(`cocaine against its sticky twin, 40 test cycles: ${(100 * exposureOnly).toFixed(1)}% right deciding at the end of the exposure, ${(100 * withRecovery).toFixed(1)}% after the recovery`);
    expect(withRecovery).toBeGreaterThanOrEqual(0.95);
    expect(exposureOnly).toBeLessThan(0.75);
    expect(recoveryModel.input.featureNames).toContain('g1:rwin4');
  });

  it('gives its verdict at the first frame after the recovery, with the recovery frames counted', () => {
    const stream = rigStream([{ label: 'cocaine', recovery: 40 }, { label: 'clear', recovery: 40 }], { seed: 5 });
    const frames = stream.filter((e): e is Extract<SourceEvent, { type: 'frame' }> => e.type === 'frame');
    const lastOf = (phase: string, cycle: number) => {
      const seqs = frames.filter((f) => f.phase === phase).map((f) => f.seq);
      const per = seqs.length / 2;
      return seqs[(cycle + 1) * per - 1]!;
    };
    const early = run(exposureModel, stream);
    const late = run(recoveryModel, stream);
    expect(early.verdicts.map((v) => v.frames.last)).toEqual([lastOf('E', 0), lastOf('E', 1)]);
    expect(late.verdicts.map((v) => v.frames.last)).toEqual([lastOf('R', 0), lastOf('R', 1)]);
    expect(late.verdicts.map((v) => v.quality.framesR)).toEqual([40, 40]);
    expect(early.verdicts[0]!.quality.framesR).toBeUndefined();
    expect(late.verdicts.map((v) => v.verdict)).toEqual(['suspicious', 'clear']);
    // The verdict event comes right after the frame that ended the recovery (the idle frame of the next cycle).
    const idx = late.events.findIndex((e) => e.type === 'verdict');
    const before = late.events.slice(0, idx).filter((e) => e.type === 'frame');
    expect((before.at(-1) as { phase: string }).phase).toBe('R');
  });

  it('after its verdict, the phase events follow the rig back to idle (what frees the service for the next container)', () => {
    const cycles = rigStream([{ label: 'cocaine', recovery: 40 }, { label: 'clear', recovery: 40 }], { seed: 5 });
    const last = cycles.filter((e): e is Extract<SourceEvent, { type: 'frame' }> => e.type === 'frame').at(-1)!;
    const stream = [...cycles, { ...last, seq: last.seq + 1, tMs: last.tMs + 100, phase: 'I' as const }];
    for (const model of [exposureModel, recoveryModel]) {
      const { events } = run(model, stream);
      const book = new SampleBook();
      const phases: string[] = [];
      for (const e of events) {
        book.onEvent(e);
        if (e.type === 'phase') phases.push(e.phase);
        if (e.type === 'verdict') phases.push('verdict');
      }
      // Every phase change of the frames is reported, the R to I after a recovery-end verdict included.
      expect(phases).toEqual(model === recoveryModel ? ['B', 'E', 'R', 'verdict', 'I', 'B', 'E', 'R', 'verdict', 'I'] : ['B', 'E', 'verdict', 'R', 'I', 'B', 'E', 'verdict', 'R', 'I']);
      expect(book.busy()).toBeNull();
    }
  });

  it('a recovery cut short is inconclusive (too-short), never clear', () => {
    const { verdicts } = run(recoveryModel, rigStream([{ label: 'clear', recovery: 25 }], { seed: 7 }));
    expect(verdicts).toHaveLength(1);
    expect(verdicts[0]!.verdict).toBe('inconclusive');
    expect(verdicts[0]!.reasons).toContain('too-short');
    expect(verdicts[0]!.quality.framesR).toBe(25);
  });

  it('a disconnect during the recovery cuts the cycle: inconclusive for this model, already judged for the exposure-end one', () => {
    const stream = rigStream([{ label: 'clear', recovery: 40, fault: 'disconnect-r' }], { seed: 8 });
    const late = run(recoveryModel, stream).verdicts;
    expect(late).toHaveLength(1);
    expect(late[0]!.verdict).toBe('inconclusive');
    expect(late[0]!.reasons).toContain('cut-disconnect');
    const early = run(exposureModel, stream).verdicts;
    expect(early).toHaveLength(1);
    expect(early[0]!.reasons).not.toContain('cut-disconnect');
  });

  it('a few frames lost in the recovery do not make it short; the loss limit judges them', () => {
    const stream = rigStream([{ label: 'clear', recovery: 40 }], { seed: 3 });
    const dropped: SourceEvent[] = [];
    let r = 0;
    for (const e of stream) {
      if (e.type === 'frame' && e.phase === 'R' && (r++ === 12 || r === 31)) {
        dropped.push({ type: 'gap', atMs: 0, fromSeq: e.seq, toSeq: e.seq, lost: 1 });
        continue;
      }
      dropped.push(e);
    }
    const v = run(recoveryModel, dropped).verdicts[0]!;
    expect(v.quality.framesR).toBe(38);
    expect(v.quality.lostFrames).toBe(2);
    for (const limit of ['too-short', 'lost-frames', 'gap-too-long']) expect(v.reasons).not.toContain(limit);
    expect(v.class).not.toBeNull();
    // The last window less than half full is short.
    expect(run(recoveryModel, rigStream([{ label: 'clear', recovery: 34 }], { seed: 3 })).verdicts[0]!.reasons).toContain('too-short');
    expect(run(recoveryModel, rigStream([{ label: 'clear', recovery: 35 }], { seed: 3 })).verdicts[0]!.reasons).not.toContain('too-short');
  });

  it('counts frames lost in the recovery against the cycle', () => {
    const stream = rigStream([{ label: 'clear', recovery: 40 }], { seed: 3 });
    const withGap: SourceEvent[] = [];
    let r = 0;
    for (const e of stream) {
      if (e.type === 'frame' && e.phase === 'R' && r++ === 10) withGap.push({ type: 'gap', atMs: 0, fromSeq: 0, toSeq: 9, lost: 10 });
      withGap.push(e);
    }
    const late = run(recoveryModel, withGap).verdicts[0]!;
    expect(late.verdict).toBe('inconclusive');
    expect(late.reasons).toContain('lost-frames');
    expect(late.quality.lostFrames).toBe(10);
    // The same loss after the exposure-end model's verdict does not touch it.
    expect(run(exposureModel, withGap).verdicts[0]!.reasons).not.toContain('lost-frames');
  });

  it('refuses a model whose extractor settings do not make the features it was fitted on', () => {
    const input = recoveryModel.input as Extract<ModelBundle['input'], { kind: 'frames' }>;
    const stripped = { ...recoveryModel, input: { ...input, extractor: { ...input.extractor, recoveryWindowS: 0 } } } as ModelBundle;
    expect(() => new EngineCore(stripped, {}, () => undefined)).toThrow(/extractor settings make \d+ features, it was fitted on \d+/);
    const negative = { ...recoveryModel, input: { ...input, extractor: { ...input.extractor, recoveryWindowS: -1 } } } as ModelBundle;
    expect(() => new EngineCore(negative, {}, () => undefined)).toThrow(/recoveryWindowS is -1/);
    expect(TEST_RIG.channels).toEqual(input.channels);
  });
});
