import { describe, expect, it } from 'vitest';
import { DEFAULT_FAULT_RATES, NO_FAULTS, createSimulation } from '../../src/sim/simulate.js';

describe('injected faults', () => {
  const rates = { deadChannelPerCycle: 0.05, spikesPerChannelHour: 5, dropoutsPerChannelHour: 5 };
  const cycles = 400;
  const sim = createSimulation({ seed: 21, containers: cycles, days: 4, faults: rates });
  const all = [...sim.cycles()];
  const channelHours = 16 * cycles * (150 / 3600);

  it('occur at the configured rates (within 4 sd of a Poisson count)', () => {
    const count = (kind: string): number => all.reduce((s, c) => s + c.faults.filter((f) => f.kind === kind).length, 0);
    const dead = count('dead-nan') + count('stuck');
    const expectedDead = 16 * cycles * rates.deadChannelPerCycle;
    expect(Math.abs(dead - expectedDead)).toBeLessThan(4 * Math.sqrt(expectedDead));
    for (const [kind, rate] of [['spike', rates.spikesPerChannelHour], ['dropout', rates.dropoutsPerChannelHour]] as const) {
      const expected = channelHours * rate;
      expect(Math.abs(count(kind) - expected)).toBeLessThan(4 * Math.sqrt(expected));
    }
    // Dead channels split between nan and stuck.
    expect(count('dead-nan')).toBeGreaterThan(0.3 * dead);
    expect(count('stuck')).toBeGreaterThan(0.3 * dead);
  });

  it('show in the frames exactly where the ground truth says', () => {
    const cleanSim = createSimulation({ seed: 21, containers: cycles, days: 4, faults: NO_FAULTS });
    let mismatches = 0;
    let checkedFaults = 0;
    for (const cycle of all.slice(0, 120)) {
      const frames = [...cycle.frames()].map((f) => f.values);
      const clean = [...cleanSim.cycleAt(cycle.index).frames()].map((f) => f.values);
      checkedFaults += cycle.faults.length;
      const zeroExpected = new Set<string>();
      const spikeAt = new Map<string, number>();
      for (const f of cycle.faults) {
        if (f.kind === 'dead-nan') {
          for (const v of frames) if (!Number.isNaN(v[f.channel])) mismatches++;
        } else if (f.kind === 'stuck') {
          for (const v of frames) if (v[f.channel] !== frames[0][f.channel]) mismatches++;
        } else if (f.kind === 'dropout') {
          for (let n = f.frame; n < f.frame + f.frames; n++) zeroExpected.add(`${n}:${f.channel}`);
        } else {
          spikeAt.set(`${f.frame}:${f.channel}`, (spikeAt.get(`${f.frame}:${f.channel}`) ?? 1) * (f.factor ?? 1));
        }
      }
      const deadChannels = new Set(cycle.faults.filter((f) => f.kind === 'dead-nan' || f.kind === 'stuck').map((f) => f.channel));
      frames.forEach((v, n) => {
        for (let g = 0; g < 16; g++) {
          if (deadChannels.has(g)) continue;
          const key = `${n}:${g}`;
          if (zeroExpected.has(key)) {
            if (v[g] !== 0) mismatches++;
          } else if (spikeAt.has(key)) {
            if (Math.abs(v[g] - clean[n][g] * (spikeAt.get(key) ?? 1)) > 1e-6 * v[g]) mismatches++;
          } else if (v[g] !== clean[n][g]) mismatches++;
        }
      });
    }
    expect(checkedFaults).toBeGreaterThan(50);
    expect(mismatches).toBe(0);
  });

  it('leave a few percent of cycles faulty at the default rates, and none with NO_FAULTS', () => {
    const n = 3000;
    const def = createSimulation({ seed: 22, containers: n, days: 10 });
    expect(def.options.faults).toEqual(DEFAULT_FAULT_RATES);
    let faulty = 0;
    for (let i = 0; i < n; i++) if (def.cycleAt(i).faults.length > 0) faulty++;
    // Per cycle: 1 - exp(-16 * (0.05 + 0.05) * 150/3600) * (1 - 2e-4)^16, about 6.8 %.
    const p = 1 - Math.exp(-16 * 0.1 * (150 / 3600)) * (1 - 2e-4) ** 16;
    expect(Math.abs(faulty / n - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / n));
    const none = createSimulation({ seed: 22, containers: 200, faults: NO_FAULTS });
    for (const c of none.cycles()) expect(c.faults).toHaveLength(0);
  });
});
