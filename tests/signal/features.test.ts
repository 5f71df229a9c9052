import { describe, expect, it } from 'vitest';
import { extractTrainingSet } from '../../src/engine/training.js';
import { CycleFeatures, DEFAULT_EXTRACTOR, defaultGateLimits, featureNames, type ExtractorConfig } from '../../src/signal/features.js';
import type { SourceEvent } from '../../src/types.js';
import { rigStream, TEST_RIG } from '../helpers/cycles.js';
import { gaussian, mulberry32 } from '../helpers/synthetic.js';

const CHANNELS = ['g1', 'g2', 'temp_c', 'rh_pct'];
const WINDOWED: ExtractorConfig = { ...DEFAULT_EXTRACTOR, response: 'log', windowS: 2, windowCount: 3, summaryFeatures: false };

/** One cycle through the extractor at 10 Hz; returns the features and the readings it was given. */
function runCycle(config: ExtractorConfig, exposureFrames: number, seed = 1) {
  const fx = new CycleFeatures(CHANNELS, 10, config, defaultGateLimits('ohm'));
  const normal = gaussian(mulberry32(seed));
  const b: Float64Array[] = [];
  const e: Float64Array[] = [];
  fx.reset();
  for (let k = 0; k < 30; k++) {
    const v = Float64Array.from([1000 * (1 + 0.001 * normal()), 2000 * (1 + 0.001 * normal()), 20 + 0.01 * normal(), 60 + 0.1 * normal()]);
    b.push(v);
    fx.baselineFrame(v);
  }
  fx.startExposure(3);
  for (let k = 0; k < exposureFrames; k++) {
    const t = k / 10;
    const v = Float64Array.from([1000 * Math.exp(-0.2 * (1 - Math.exp(-t / 1.5))), 2000 / (1 + 0.05 * t), 22 + 0.01 * normal(), 70 - 5 * Math.exp(-t) + 0.1 * normal()]);
    e.push(v);
    fx.exposureFrame(v, 3 + t);
  }
  const out = new Float64Array(fx.width);
  const gates = new Uint8Array(CHANNELS.length);
  fx.finish(out, 0, gates);
  return { fx, out, gates, b, e };
}

function median(xs: number[]): number {
  const s = [...xs].sort((p, q) => p - q);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

describe('exposure-window features', () => {
  it('name every feature they write, windows only when summaryFeatures is false', () => {
    const names = featureNames(CHANNELS, WINDOWED);
    expect(names).toEqual([
      'g1:win1', 'g1:win2', 'g1:win3', 'g2:win1', 'g2:win2', 'g2:win3',
      'temp_c:mean', 'temp_c:delta', 'temp_c:dwin1', 'temp_c:dwin2', 'temp_c:dwin3',
      'rh_pct:mean', 'rh_pct:delta', 'rh_pct:dwin1', 'rh_pct:dwin2', 'rh_pct:dwin3',
    ]);
    expect(new CycleFeatures(CHANNELS, 10, WINDOWED, defaultGateLimits('ohm')).width).toBe(names.length);
    // The default extractor has no windows and keeps its 7 summary features per gas channel.
    const classic = featureNames(CHANNELS, DEFAULT_EXTRACTOR);
    expect(classic.some((n) => n.includes('win'))).toBe(false);
    expect(classic.length).toBe(2 * 7 + 2 * 2);
    const both = featureNames(CHANNELS, { ...WINDOWED, summaryFeatures: true });
    expect(both.length).toBe(2 * (7 + 3) + 2 * (2 + 3));
  });

  it('equal the mean log response of each window, and each window mean of RH/T minus the baseline mean', () => {
    const { out, gates, b, e } = runCycle(WINDOWED, 60);
    expect([...gates]).toEqual([0, 0, 0, 0]);
    const names = featureNames(CHANNELS, WINDOWED);
    const at = (n: string) => out[names.indexOf(n)]!;
    for (const [c, ch] of [[0, 'g1'], [1, 'g2']] as const) {
      const r0 = median(b.map((v) => v[c]!));
      for (let j = 0; j < 3; j++) {
        const slice = e.slice(j * 20, (j + 1) * 20).map((v) => Math.log(v[c]! / r0));
        expect(at(`${ch}:win${j + 1}`)).toBeCloseTo(slice.reduce((s, x) => s + x, 0) / slice.length, 12);
      }
    }
    for (const [c, ch] of [[2, 'temp_c'], [3, 'rh_pct']] as const) {
      const meanB = b.reduce((s, v) => s + v[c]!, 0) / b.length;
      for (let j = 0; j < 3; j++) {
        const slice = e.slice(j * 20, (j + 1) * 20).map((v) => v[c]!);
        expect(at(`${ch}:dwin${j + 1}`)).toBeCloseTo(slice.reduce((s, x) => s + x, 0) / slice.length - meanB, 10);
      }
    }
    // The rise is visible as a shape: g1 keeps falling from window to window.
    expect(at('g1:win1')).toBeGreaterThan(at('g1:win2'));
    expect(at('g1:win2')).toBeGreaterThan(at('g1:win3'));
  });

  it('leave a window the exposure never reached as NaN (the engine then refuses to judge), and ignore frames past the last window', () => {
    const short = runCycle(WINDOWED, 45);
    const names = featureNames(CHANNELS, WINDOWED);
    expect(Number.isNaN(short.out[names.indexOf('g1:win3')]!)).toBe(false); // 5 frames of window 3
    const shorter = runCycle(WINDOWED, 39);
    expect(Number.isNaN(shorter.out[names.indexOf('g1:win3')]!)).toBe(true);
    expect(Number.isNaN(shorter.out[names.indexOf('rh_pct:dwin3')]!)).toBe(true);
    const longer = runCycle(WINDOWED, 90);
    const exact = runCycle(WINDOWED, 60);
    for (const n of ['g1:win1', 'g1:win3', 'rh_pct:dwin3']) expect(longer.out[names.indexOf(n)]).toBe(exact.out[names.indexOf(n)]);
  });
});

describe('baseline-window features', () => {
  const BASELINE: ExtractorConfig = { ...WINDOWED, baselineWindowS: 1, baselineWindowCount: 2 };

  /** 30 baseline frames of a channel still recovering from an earlier cycle (g1 rising back, g2 flat), then 60 exposure frames. */
  function decayingBaseline(config: ExtractorConfig, baselineFrames = 30) {
    const fx = new CycleFeatures(CHANNELS, 10, config, defaultGateLimits('ohm'));
    const b: Float64Array[] = [];
    fx.reset();
    for (let k = 0; k < baselineFrames; k++) {
      const v = Float64Array.from([1000 * Math.exp(-0.02 * Math.exp(-k / 20)), 2000, 20, 60]);
      b.push(v);
      fx.baselineFrame(v);
    }
    fx.startExposure(3);
    for (let k = 0; k < 60; k++) fx.exposureFrame(Float64Array.from([900, 1900, 21, 70]), 3 + k / 10);
    const out = new Float64Array(fx.width);
    fx.finish(out, 0, new Uint8Array(CHANNELS.length));
    return { out, b, names: featureNames(CHANNELS, config) };
  }

  it('are named first per gas channel, and leave the other features as they were', () => {
    const names = featureNames(CHANNELS, BASELINE);
    expect(names.slice(0, 5)).toEqual(['g1:bwin1', 'g1:bwin2', 'g1:win1', 'g1:win2', 'g1:win3']);
    expect(names.filter((n) => n.includes('bwin'))).toEqual(['g1:bwin1', 'g1:bwin2', 'g2:bwin1', 'g2:bwin2']);
    expect(new CycleFeatures(CHANNELS, 10, BASELINE, defaultGateLimits('ohm')).width).toBe(names.length);
    const without = featureNames(CHANNELS, WINDOWED);
    expect(names.filter((n) => !n.includes('bwin'))).toEqual(without);
    const a = runCycle(BASELINE, 60);
    const b = runCycle(WINDOWED, 60);
    for (const n of without) expect(a.out[names.indexOf(n)]).toBe(b.out[without.indexOf(n)]);
  });

  it('equal the mean log response of the last windows before the exposure, oldest first, against the same R0', () => {
    const { out, b, names } = decayingBaseline(BASELINE);
    for (const [c, ch] of [[0, 'g1'], [1, 'g2']] as const) {
      const r0 = median(b.map((v) => v[c]!));
      for (let j = 0; j < 2; j++) {
        const slice = b.slice(10 + j * 10, 20 + j * 10).map((v) => Math.log(v[c]! / r0));
        expect(out[names.indexOf(`${ch}:bwin${j + 1}`)]).toBeCloseTo(slice.reduce((s, x) => s + x, 0) / slice.length, 12);
      }
    }
    // What an earlier cycle left is still leaving g1: its baseline rises from window to window; g2 is flat.
    expect(out[names.indexOf('g1:bwin2')]!).toBeGreaterThan(out[names.indexOf('g1:bwin1')]! + 0.002);
    expect(out[names.indexOf('g2:bwin1')]).toBe(0);
  });

  it('leave a window the baseline did not reach as NaN', () => {
    const { out, names } = decayingBaseline({ ...BASELINE, baselineWindowCount: 4 }, 30);
    expect(Number.isNaN(out[names.indexOf('g1:bwin1')]!)).toBe(true);
    expect(Number.isNaN(out[names.indexOf('g1:bwin2')]!)).toBe(false);
  });
});

describe('the baseline-unstable limit fitted in training', () => {
  /** Cycles whose baselines drift by a spread of amounts: carry-over in the B phase, as the simulator makes. */
  function drifting(count: number, maxDrift: number, seed: number): SourceEvent[] {
    const base = rigStream(Array.from({ length: count }, (_, i) => ({ label: i % 2 ? 'cocaine' : 'clear' })), { seed, withHints: true });
    let cycle = -1;
    let bIndex = 0;
    return base.map((ev) => {
      if (ev.type !== 'frame') return ev;
      if (ev.phase === 'I') {
        bIndex = 0;
        return ev;
      }
      if (ev.phase === 'B') {
        if (bIndex === 0) cycle++;
        const drift = (maxDrift * (cycle % 10)) / 9; // 0 .. maxDrift over the B phase
        const scale = 1 - drift * (1 - bIndex / 49);
        bIndex++;
        const values = Float64Array.from(ev.values, (v, i) => (TEST_RIG.channels[i]!.startsWith('g') ? v * scale : v));
        return { ...ev, values };
      }
      return ev;
    });
  }

  it('is the 0.99 quantile of the training baselines when they move more than 5 %, and skips only what lies beyond it', () => {
    const set = extractTrainingSet([{ group: 'd', events: drifting(60, 0.09, 3) }]);
    const limit = set.limits.gates!.maxBaselineDrift;
    // The measure compares the last third of B with the first: a ramp of 9 % over B measures about 6 %.
    expect(limit).toBeGreaterThan(0.055);
    expect(limit).toBeLessThan(0.09);
    expect(set.table.count + set.skipped.length).toBe(60);
    expect(set.skipped.every((s) => s.reasons.includes('baseline-unstable'))).toBe(true);
    expect(set.skipped.length).toBeLessThanOrEqual(1);
  });

  it('stays at the default 5 % when the training baselines are steady, and the gate can be left as it was', () => {
    const steady = extractTrainingSet([{ group: 's', events: drifting(20, 0, 4) }]);
    expect(steady.limits.gates!.maxBaselineDrift).toBe(0.05);
    const fixed = extractTrainingSet([{ group: 'd', events: drifting(60, 0.09, 3) }], { baselineDriftQuantile: 0 });
    expect(fixed.limits.gates!.maxBaselineDrift).toBe(0.05);
    expect(fixed.skipped.filter((s) => s.reasons.includes('baseline-unstable')).length).toBeGreaterThan(10);
  });
});
