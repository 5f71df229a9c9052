/**
 * The verdict event as the fast verdict path builds it (issue 23, item 3): one literal per shape (verdictEvent.ts,
 * `cycleQuality`), probabilities copied from a per-class-list shape, the leading scores copied from the prediction's
 * own, the rig check skipping the logarithm of an R0 inside its range. Each must give what the plain code gave:
 * the documented fields in their documented order in every shape, and the same doubles (Object.is), on both
 * shipped models over a few hundred simulated containers.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EngineCore, extractorOf, type CycleFeaturesRecord } from '../../src/engine/core.js';
import { RigCheck, type ChannelLevels } from '../../src/engine/rigCheck.js';
import { probabilitiesOf } from '../../src/engine/verdictSteps.js';
import type { ModelBundle } from '../../src/model/runtime/bundle.js';
import { leadingScoresInto } from '../../src/model/runtime/leadingScores.js';
import { compileModel, predictForVerdict } from '../../src/model/runtime/pipeline.js';
import type { ModelRig } from '../../src/model/runtime/rigFingerprint.js';
import { simulationEvents } from '../../src/sim/events.js';
import { createSimulation } from '../../src/sim/simulate.js';
import { isEnvironmentChannel, type SourceEvent, type VerdictEvent } from '../../src/types.js';
import { loadModel, SHIPPED_MODELS } from '../helpers/models.js';

/** types.ts `VerdictEvent`'s fields in order; `label` and `adaptation` only where they apply. */
function expectedKeys(label: boolean, adaptation: boolean): string[] {
  const head = ['type', 'atMs', 'wallTime', 'station', 'sample', 'verdict', 'class', 'probabilities', 'score', 'reasons', 'quality', 'modelId', 'latencyMs', 'frames'];
  return [...head, ...(label ? ['label'] : []), ...(adaptation ? ['adaptation'] : []), 'pcaScores', 'decidedAtS', 'checkpoint', 'early'];
}

function qualityKeys(recovery: boolean): string[] {
  return ['framesB', 'framesE', ...(recovery ? ['framesR'] : []), 'lostFrames', 'lostShare', 'maxGapS', 'cut', 'channels', 'novelty'];
}

function verdictsOf(bundle: ModelBundle, events: Iterable<SourceEvent>, adaptation = false): VerdictEvent[] {
  const out: VerdictEvent[] = [];
  const core = new EngineCore(bundle, { emitFrames: false, adaptation }, (e) => e.type === 'verdict' && out.push(e));
  for (const e of events) core.push(e);
  core.end();
  return out;
}

/** The feature rows of a feature-only core with the model's extractor, by sample. */
function rowsOf(bundle: ModelBundle, events: Iterable<SourceEvent>): Map<string, Float64Array> {
  const rows = new Map<string, Float64Array>();
  const options = { extractor: extractorOf(bundle), emitFrames: false, ignoreGates: bundle.limits?.ignoreGates ?? [], ...(bundle.limits?.cycle ? { cycle: bundle.limits.cycle } : {}) };
  const core = new EngineCore(null, options, () => undefined, (r: CycleFeaturesRecord) => rows.set(r.sample, r.features));
  for (const e of events) core.push(e);
  core.end();
  return rows;
}

describe.each(SHIPPED_MODELS)('verdict events of the shipped $name model', ({ path, decidesAfter }) => {
  const bundle = loadModel(path);
  const events = [...simulationEvents(createSimulation({ seed: 1, containers: 200, startDay: 21, days: 10 }))];

  it('carry the documented fields in order, in every shape (label or none, adaptation or none)', () => {
    const shapes = [
      { label: true, adaptation: false, events },
      { label: false, adaptation: false, events: [...simulationEvents(createSimulation({ seed: 1, containers: 8, startDay: 21 }), { hints: false })] },
      { label: true, adaptation: true, events: events.slice(0, 20_000) },
      { label: false, adaptation: true, events: [...simulationEvents(createSimulation({ seed: 1, containers: 8, startDay: 21 }), { hints: false })] },
    ];
    for (const shape of shapes) {
      const verdicts = verdictsOf(bundle, shape.events, shape.adaptation);
      expect(verdicts.length).toBeGreaterThan(5);
      for (const v of verdicts) {
        expect(Object.keys(v)).toEqual(expectedKeys(shape.label, shape.adaptation));
        expect(Object.keys(v.quality)).toEqual(qualityKeys(decidesAfter === 'R'));
        expect(Object.keys(v.frames)).toEqual(['first', 'last', 'count']);
        expect(Array.isArray(v.pcaScores) || v.pcaScores === null).toBe(true);
      }
    }
  });

  it('probabilities and leading scores are the model\'s on the cycle\'s features, double for double', () => {
    const verdicts = verdictsOf(bundle, events);
    const rows = rowsOf(bundle, events);
    const model = compileModel(bundle);
    const probs = new Float64Array(bundle.classes.length);
    const scores = new Float64Array(3);
    const scratch = new Float64Array(model.width);
    let predicted = 0;
    expect(verdicts).toHaveLength(200);
    for (const v of verdicts) {
      if (v.class === null) {
        expect(v.pcaScores).toBeNull();
        expect(v.probabilities).toEqual({});
        continue;
      }
      const row = rows.get(v.sample)!;
      predictForVerdict(model, row, 0, probs);
      leadingScoresInto(model, row, 0, scores, scratch);
      expect(Object.keys(v.probabilities)).toEqual(bundle.classes);
      bundle.classes.forEach((c, i) => expect(Object.is(v.probabilities[c], probs[i]), `${v.sample} ${c}`).toBe(true));
      expect(v.pcaScores).toHaveLength(3);
      v.pcaScores!.forEach((s, i) => expect(Object.is(s, scores[i]), `${v.sample} score ${i}: ${s} against ${scores[i]}`).toBe(true));
      predicted++;
    }
    expect(predicted).toBeGreaterThan(180);
  });
});

describe('probabilitiesOf', () => {
  /** The plain construction it replaced: the names added one by one to an empty object. */
  function plain(classes: readonly string[], probs: Float64Array): Record<string, number> {
    const out: Record<string, number> = {};
    for (let c = 0; c < classes.length; c++) out[classes[c]!] = probs[c]!;
    return out;
  }

  it('gives the plain object: the same names in the same order, the same doubles, for any class names (fast-check)', () => {
    const name = fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('__proto__', 'constructor', 'toString', '0', '7', '-1', '1.5', 'clear', 'mdma'));
    fc.assert(
      fc.property(fc.array(name, { minLength: 1, maxLength: 8 }), fc.array(fc.double(), { minLength: 8, maxLength: 8 }), (classes, values) => {
        const probs = Float64Array.from(values);
        // Twice: the first call makes the shape, the second copies it.
        for (let pass = 0; pass < 2; pass++) {
          const got = probabilitiesOf(classes, probs);
          const want = plain(classes, probs);
          expect(Object.keys(got)).toEqual(Object.keys(want));
          for (const k of Object.keys(want)) expect(Object.is(got[k], want[k])).toBe(true);
          expect(Object.getPrototypeOf(got)).toBe(Object.prototype);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('the rig check without a logarithm inside the R0 range', () => {
  const bundle = loadModel(SHIPPED_MODELS[0]!.path);
  const rig = bundle.rig as ModelRig;
  const channels = bundle.input.kind === 'frames' ? bundle.input.channels : [];
  const gas = rig.fingerprint.channels.filter((c) => channels.includes(c.channel) && !isEnvironmentChannel(c.channel));

  /** The distance as the plain rule computes it: ln R0 of every channel (rigCheck.ts before the range test). */
  function plainDistance(r0: readonly number[], peak: readonly number[]): number {
    const median = (baseline: boolean): number => {
      const e: number[] = [];
      gas.forEach((c, k) => {
        const range = baseline ? c.lnBaseline : c.response;
        if (!range) return;
        const x = baseline ? (r0[k]! > 0 ? Math.log(r0[k]!) : NaN) : peak[k]!;
        if (!Number.isFinite(x)) return;
        const width = Math.max(0.02, range.high - range.low);
        e.push(x < range.low ? (range.low - x) / width : x > range.high ? (x - range.high) / width : 0);
      });
      e.sort((a, b) => a - b);
      const m = e.length;
      if (!(m > 0 && 2 * m >= gas.length)) return NaN;
      return m % 2 === 1 ? e[m >> 1]! : 0.5 * (e[(m >> 1) - 1]! + e[m >> 1]!);
    };
    const b = median(true);
    const r = median(false);
    return b === b && r === r ? Math.max(b, r) : b === b ? b : r;
  }

  it('gives the plain distance for R0 at, beside and across the range bounds (fast-check)', () => {
    expect(gas.length).toBeGreaterThan(8);
    const check = new RigCheck(rig, channels);
    const index = gas.map((c) => channels.indexOf(c.channel));
    // Per channel: which bound, and how far from its exp() (relative), including the last few ulps.
    const offset = fc.oneof(fc.constantFrom(0, 1e-16, -1e-16, 2.3e-16, -2.3e-16, 1e-12, -1e-12, 1e-9, -1e-9, 1.1e-9, -1.1e-9, 0.2, -0.2), fc.double({ min: -0.5, max: 0.5, noNaN: true }));
    const channel = fc.record({ bound: fc.constantFrom('low', 'high', 'mid', 'nan', 'zero'), d: offset, peak: fc.double({ min: -1, max: 3, noNaN: true }) });
    fc.assert(
      fc.property(fc.array(channel, { minLength: gas.length, maxLength: gas.length }), (drawn) => {
        const r0 = drawn.map(({ bound, d }, k) => {
          const range = gas[k]!.lnBaseline;
          if (!range || bound === 'nan') return NaN;
          if (bound === 'zero') return 0;
          const ln = bound === 'low' ? range.low : bound === 'high' ? range.high : 0.5 * (range.low + range.high);
          return Math.exp(ln) * (1 + d);
        });
        const peak = drawn.map((c) => c.peak);
        const levels: ChannelLevels = {
          baselineOf: (i) => r0[index.indexOf(i)] ?? NaN,
          peakOf: (i) => peak[index.indexOf(i)] ?? NaN,
        };
        const got = check.distance(levels);
        const want = plainDistance(r0, peak);
        expect(Object.is(got, want), `${got} against ${want}`).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });
});
