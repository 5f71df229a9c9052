import { describe, expect, it } from 'vitest';
import { checkPlan, decideAtCheckpoint, decideEarly, type CheckpointScore, type EarlyPlan } from '../../src/engine/earlyDecision.js';
import { chooseEarlyThresholds, earlyRates, type EarlyRow } from '../../src/engine/earlyThresholds.js';
import { EnoseError } from '../../src/errors.js';
import { wilsonUpper, normalQuantile } from '../../src/model/runtime/policy.js';

const at90 = { atS: 90, clearBelow: 0.1, suspiciousAbove: 0.9 };
const clean = (score: number): CheckpointScore => ({ score, verdict: score < 0.5 ? 'clear' : 'suspicious' });

describe('decideAtCheckpoint', () => {
  it('clears below the clear threshold, flags above the suspicious one, waits between', () => {
    expect(decideAtCheckpoint(clean(0.05), at90)).toBe('clear');
    expect(decideAtCheckpoint(clean(0.95), at90)).toBe('suspicious');
    expect(decideAtCheckpoint(clean(0.5), at90)).toBe('wait');
    // strict on both sides: a score at a threshold waits
    expect(decideAtCheckpoint(clean(0.1), at90)).toBe('wait');
    expect(decideAtCheckpoint(clean(0.9), at90)).toBe('wait');
  });

  it('never clears early what the checkpoint itself did not call a clean clear (unknown odour, quality, no prediction)', () => {
    expect(decideAtCheckpoint({ score: 0.01, verdict: 'suspicious' }, at90)).toBe('wait');
    expect(decideAtCheckpoint({ score: 0.01, verdict: 'inconclusive' }, at90)).toBe('wait');
    expect(decideAtCheckpoint({ score: 0.01, verdict: null }, at90)).toBe('wait');
    expect(decideAtCheckpoint({ score: null, verdict: 'clear' }, at90)).toBe('wait');
    expect(decideAtCheckpoint({ score: Number.NaN, verdict: 'clear' }, at90)).toBe('wait');
  });

  it('reads suspiciousAbove 1 and clearBelow 0 as never, even for a score rounded past 1', () => {
    const never = { atS: 90, clearBelow: 0, suspiciousAbove: 1 };
    expect(decideAtCheckpoint({ score: 1 + 1e-12, verdict: 'suspicious' }, never)).toBe('wait');
    expect(decideAtCheckpoint({ score: 0, verdict: 'clear' }, never)).toBe('wait');
  });
});

describe('decideEarly', () => {
  const plan: EarlyPlan = checkPlan({ checkpoints: [{ atS: 60, clearBelow: 0.01, suspiciousAbove: 0.99 }, at90], finalAtS: 150 });

  it('takes the first checkpoint that does not wait, else the final verdict at the final time', () => {
    expect(decideEarly(plan, [clean(0.005), clean(0.5)], clean(0.9))).toEqual({ verdict: 'clear', atS: 60, checkpoint: 0, early: true });
    expect(decideEarly(plan, [clean(0.05), clean(0.05)], clean(0.9))).toEqual({ verdict: 'clear', atS: 90, checkpoint: 1, early: true });
    expect(decideEarly(plan, [clean(0.5), clean(0.95)], clean(0.1))).toEqual({ verdict: 'suspicious', atS: 90, checkpoint: 1, early: true });
    expect(decideEarly(plan, [clean(0.5), clean(0.5)], { score: 0.6, verdict: 'inconclusive' })).toEqual({ verdict: 'inconclusive', atS: 150, checkpoint: 2, early: false });
  });

  it('refuses a score list that does not match the plan', () => {
    expect(() => decideEarly(plan, [clean(0.5)], clean(0.5))).toThrow(EnoseError);
  });
});

describe('checkPlan', () => {
  const bad: [string, EarlyPlan][] = [
    ['clear threshold above 0.5', { checkpoints: [{ atS: 90, clearBelow: 0.6, suspiciousAbove: 0.9 }], finalAtS: 150 }],
    ['clear above suspicious', { checkpoints: [{ atS: 90, clearBelow: 0.3, suspiciousAbove: 0.2 }], finalAtS: 150 }],
    ['threshold outside [0, 1]', { checkpoints: [{ atS: 90, clearBelow: -0.1, suspiciousAbove: 0.9 }], finalAtS: 150 }],
    ['checkpoints out of order', { checkpoints: [at90, { atS: 60, clearBelow: 0.1, suspiciousAbove: 0.9 }], finalAtS: 150 }],
    ['final before an early checkpoint', { checkpoints: [at90], finalAtS: 80 }],
  ];
  it.each(bad)('refuses %s with bad-option', (_name, plan) => {
    try {
      checkPlan(plan);
      expect.unreachable('checkPlan accepted a bad plan');
    } catch (e) {
      expect(e).toBeInstanceOf(EnoseError);
      expect((e as EnoseError).code).toBe('bad-option');
    }
  });
});

/** Seeded rows: clear containers score low at the checkpoint, drug containers high, with overlap; the final verdict is sharper. */
function rows(n: number, seed: number): EarlyRow[] {
  let s = seed >>> 0;
  const rand = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  const out: EarlyRow[] = [];
  for (let i = 0; i < n; i++) {
    const suspicious = rand() < 0.5;
    const e = suspicious ? Math.min(1, 0.05 + 0.95 * Math.sqrt(rand())) : 0.6 * rand() ** 3;
    const f = suspicious ? (rand() < 0.97 ? 0.8 + 0.2 * rand() : 0.3 * rand()) : rand() < 0.995 ? 0.2 * rand() : 0.9;
    out.push({
      suspicious,
      early: { score: e, verdict: e < 0.5 ? 'clear' : 'suspicious' },
      final: { score: f, verdict: f > 0.5 ? 'suspicious' : 'clear' },
    });
  }
  return out;
}

describe('chooseEarlyThresholds', () => {
  const selection = rows(6000, 7);
  const choice = chooseEarlyThresholds(selection, { atS: 90 });

  it('clears no drug container early that the full cycle would not clear, on the rows it chose on', () => {
    const t = choice.thresholds;
    const lost = selection.filter((r) => r.suspicious && r.final.verdict !== 'clear' && decideAtCheckpoint(r.early, t) === 'clear');
    expect(lost).toEqual([]);
    expect(choice.withEarly.clearedEarly.clear).toBeGreaterThan(0);
    expect(t.clearBelow).toBeLessThan(t.suspiciousAbove);
  });

  it('keeps the whole decision within the targets it was given', () => {
    expect(choice.withEarly.detectionRate).toBeGreaterThanOrEqual(0.95);
    expect(choice.withEarly.falseAlarmUpper).toBeLessThanOrEqual(0.01);
    // early clearance only removes alarms and early flags only add detections: never worse than the final alone
    expect(choice.withEarly.detectionRate).toBeGreaterThanOrEqual(choice.finalOnly.detectionRate);
  });

  it('reports rates that agree with a count by hand', () => {
    const t = choice.thresholds;
    const clear = selection.filter((r) => !r.suspicious);
    const alarms = clear.filter((r) => {
      const a = decideAtCheckpoint(r.early, t);
      return (a === 'wait' ? r.final.verdict : a) === 'suspicious';
    }).length;
    const rates = earlyRates(selection, t);
    expect(rates.falseAlarmRate).toBeCloseTo(alarms / clear.length, 12);
    expect(rates.falseAlarmUpper).toBeCloseTo(wilsonUpper(alarms, clear.length, normalQuantile(0.95)), 12);
  });

  it('adds no early flag when the final verdict alone already spends the false-alarm budget', () => {
    const noisy = rows(2000, 11).map((r) => (r.suspicious ? r : { ...r, final: { score: 0.9, verdict: 'suspicious' as const } }));
    expect(chooseEarlyThresholds(noisy, { atS: 90 }).thresholds.suspiciousAbove).toBe(1);
  });

  it('lowers the clear threshold when a detection target would otherwise be missed', () => {
    const loose = chooseEarlyThresholds(selection, { atS: 90, maxDrugClearedEarly: 0.2, minDetection: 0 });
    const tight = chooseEarlyThresholds(selection, { atS: 90, maxDrugClearedEarly: 0.2, minDetection: 0.95 });
    expect(loose.withEarly.detectionRate).toBeLessThan(0.95);
    expect(tight.withEarly.detectionRate).toBeGreaterThanOrEqual(0.95);
    expect(tight.thresholds.clearBelow).toBeLessThan(loose.thresholds.clearBelow);
  });

  it('refuses rows without both classes', () => {
    expect(() => chooseEarlyThresholds(selection.filter((r) => !r.suspicious), { atS: 90 })).toThrow(EnoseError);
  });
});

describe('chooseEarlyThresholds when the final verdict alone misses the detection target', () => {
  it('still clears early, without lowering detection', () => {
    // every drug container the final verdict flags becomes a miss for one in ten: detection about 87 %
    const weak = rows(4000, 5).map((r, i) => (r.suspicious && i % 10 === 0 ? { ...r, final: { score: 0.4, verdict: 'inconclusive' as const } } : r));
    const choice = chooseEarlyThresholds(weak, { atS: 90 });
    expect(choice.finalOnly.detectionRate).toBeLessThan(0.95);
    expect(choice.withEarly.clearedEarly.clear).toBeGreaterThan(0);
    expect(choice.withEarly.detectionRate).toBeGreaterThanOrEqual(choice.finalOnly.detectionRate);
  });
});
