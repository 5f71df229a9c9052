import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { EnoseError } from '../../src/errors.js';
import { BACKGROUND, REEFER_SHARE } from '../../src/sim/compounds.js';
import { iso6346CheckDigit } from '../../src/sim/container.js';
import { SENSOR_SPECS } from '../../src/sim/sensors.js';
import { NO_FAULTS, createSimulation, type Simulation, type SimulationOptions } from '../../src/sim/simulate.js';

/** SHA-256 of every frame of every cycle: seq, tMs, phase and the bytes of the values. */
function hashFrames(sim: Simulation, reuse = false): string {
  const h = createHash('sha256');
  for (const cycle of sim.cycles()) {
    for (const f of cycle.frames({ reuse })) {
      h.update(`${f.seq},${f.tMs},${f.phase};`);
      h.update(new Uint8Array(f.values.buffer, f.values.byteOffset, f.values.byteLength));
    }
  }
  return h.digest('hex');
}

const small: SimulationOptions = { seed: 7, containers: 6, days: 2 };

describe('simulator determinism', () => {
  it('gives identical frames for the same seed and options, and different frames for another seed', () => {
    const a = hashFrames(createSimulation(small));
    expect(hashFrames(createSimulation(small))).toBe(a);
    expect(hashFrames(createSimulation({ ...small, seed: 8 }))).not.toBe(a);
    // Reusing the frame buffer changes nothing in the numbers.
    expect(hashFrames(createSimulation(small), true)).toBe(a);
  });

  it('gives the same cycle by random access as in sequence', () => {
    const sim = createSimulation(small);
    const seq = [...sim.cycles()];
    const one = (i: number): number[][] => [...sim.cycleAt(i).frames()].map((f) => [f.seq, f.tMs, ...f.values]);
    for (const i of [0, 2, 5]) {
      expect(one(i)).toEqual([...seq[i].frames()].map((f) => [f.seq, f.tMs, ...f.values]));
      expect(sim.cycleAt(i).truth).toEqual(seq[i].truth);
    }
  });

  it('identifies a container by seed, day and position, whatever the run', () => {
    // Days 1-2 in one run; day 2 alone in another: day 2's containers and readings are the same.
    const both = createSimulation({ seed: 3, containers: 8, startDay: 1, days: 2, faults: NO_FAULTS });
    const day2 = createSimulation({ seed: 3, containers: 4, startDay: 2, days: 1, faults: NO_FAULTS });
    for (let k = 0; k < 4; k++) {
      const a = both.cycleAt(4 + k);
      const b = day2.cycleAt(k);
      expect(a.truth.day).toBe(2);
      expect(a.truth).toEqual(b.truth);
      expect([...a.frames()].map((f) => [...f.values])).toEqual([...b.frames()].map((f) => [...f.values]));
    }
  });

  it('keeps the containers and changes the sensors when the rig changes', () => {
    const rigA = createSimulation({ ...small, rigId: 'A', unitSpread: 0.5 });
    const rigB = createSimulation({ ...small, rigId: 'B', unitSpread: 1.5 });
    expect([...rigA.cycles()].map((c) => c.truth)).toEqual([...rigB.cycles()].map((c) => c.truth));
    expect(rigA.rig.units.map((u) => u.r0Ohm)).not.toEqual(rigB.rig.units.map((u) => u.r0Ohm));
    expect(hashFrames(rigA)).not.toBe(hashFrames(rigB));
    // Same rig id and seed: the same units.
    expect(createSimulation({ ...small, rigId: 'A', unitSpread: 0.5 }).rig.units).toEqual(rigA.rig.units);
  });

  it('spreads the units as asked: none at unitSpread 0, wider at 2 than at 0.5', () => {
    const flat = createSimulation({ ...small, unitSpread: 0 });
    const tgs2600 = flat.rig.units.filter((u) => u.model === 'tgs2600');
    const mid = Math.sqrt(SENSOR_SPECS.tgs2600.r0MinOhm * SENSOR_SPECS.tgs2600.r0MaxOhm);
    for (const u of tgs2600) expect(u.r0Ohm).toBeCloseTo(mid, 6);
    expect(new Set(tgs2600.map((u) => u.classK[0])).size).toBe(1);
    // Sum of squared deviations of ln k from each model's mean, over models and classes.
    const spreadOf = (spread: number): number => {
      const units = createSimulation({ ...small, unitSpread: spread, rigSeed: 99 }).rig.units;
      let ss = 0;
      for (const model of ['tgs2600', 'tgs2602', 'tgs2610', 'tgs2620']) {
        const mine = units.filter((u) => u.model === model);
        for (let c = 0; c < mine[0].classK.length; c++) {
          const ln = mine.map((u) => Math.log(u.classK[c]));
          const mean = ln.reduce((a, b) => a + b, 0) / ln.length;
          ss += ln.reduce((a, b) => a + (b - mean) ** 2, 0);
        }
      }
      return ss;
    };
    expect(spreadOf(2)).toBeGreaterThan(spreadOf(0.5));
  });
});

describe('simulator frames', () => {
  it('names 16 gas channels by model and unit, then temp_c and rh_pct', () => {
    const sim = createSimulation(small);
    expect(sim.channels).toHaveLength(18);
    expect(sim.channels.slice(0, 5)).toEqual(['tgs2600_1', 'tgs2600_2', 'tgs2600_3', 'tgs2600_4', 'tgs2602_1']);
    expect(sim.channels.slice(-2)).toEqual(['temp_c', 'rh_pct']);
    expect(createSimulation({ ...small, unitsPerModel: 2 }).channels).toHaveLength(10);
  });

  it('runs 30 s of B, 60 s of E and 60 s of R at 10 Hz, with rising seq and a 100 ms clock', () => {
    const sim = createSimulation(small);
    const cycles = [...sim.cycles()];
    let expectedSeq = 0;
    for (const cycle of cycles) {
      const frames = [...cycle.frames()];
      expect(frames).toHaveLength(1500);
      expect(cycle.frameCount).toBe(1500);
      const phases = frames.map((f) => f.phase).join('');
      expect(phases).toBe('B'.repeat(300) + 'E'.repeat(600) + 'R'.repeat(600));
      for (const f of frames) {
        expect(f.seq).toBe(expectedSeq);
        expect(f.tMs).toBe(expectedSeq * 100);
        expect(f.values).toHaveLength(18);
        expectedSeq++;
      }
    }
  });

  it('honours other durations, idle time, rates and wraps seq and the clock at 2^32', () => {
    const sim = createSimulation({ seed: 1, containers: 2, rateHz: 5, baselineS: 10, exposureS: 20, recoveryS: 4, idleS: 2, firstSeq: 2 ** 32 - 3, startTMs: 2 ** 32 - 450 });
    const frames = [...sim.stream()].map((x) => x.frame);
    expect(frames).toHaveLength(2 * (50 + 100 + 20 + 10));
    expect(frames.slice(0, 180).map((f) => f.phase).join('')).toBe('B'.repeat(50) + 'E'.repeat(100) + 'R'.repeat(20) + 'I'.repeat(10));
    expect(frames.slice(0, 4).map((f) => f.seq)).toEqual([2 ** 32 - 3, 2 ** 32 - 2, 2 ** 32 - 1, 0]);
    expect(frames.slice(0, 4).map((f) => f.tMs)).toEqual([2 ** 32 - 450, 2 ** 32 - 250, 2 ** 32 - 50, 150]);
  });

  it('streams frames one at a time with their cycle, reusing one object when asked', () => {
    const sim = createSimulation({ ...small, containers: 2 });
    const items = [...sim.stream()];
    expect(items).toHaveLength(3000);
    expect(items[1500].cycle.index).toBe(1);
    expect(items[1500].frameIndex).toBe(0);
    expect(items[10].frame).not.toBe(items[11].frame);
    // With reuse, a cycle's frames are one object rewritten in place.
    let first: unknown;
    let count = 0;
    for (const item of sim.stream({ reuse: true })) {
      if (item.frameIndex === 0) first = item.frame;
      else expect(item.frame).toBe(first);
      count++;
    }
    expect(count).toBe(3000);
  });

  it('reads resistances in ohm within a sensible range and the environment in degC and %RH', () => {
    const sim = createSimulation({ ...small, faults: NO_FAULTS });
    const lo = new Float64Array(18).fill(Infinity);
    const hi = new Float64Array(18).fill(-Infinity);
    for (const cycle of sim.cycles()) {
      for (const f of cycle.frames({ reuse: true })) {
        for (let c = 0; c < 18; c++) {
          lo[c] = Math.min(lo[c], f.values[c]);
          hi[c] = Math.max(hi[c], f.values[c]);
        }
      }
    }
    for (let g = 0; g < 16; g++) {
      expect(lo[g]).toBeGreaterThan(100);
      expect(hi[g]).toBeLessThan(2e6);
    }
    expect(lo[16]).toBeGreaterThan(-30);
    expect(hi[16]).toBeLessThan(50);
    expect(lo[17]).toBeGreaterThanOrEqual(0);
    expect(hi[17]).toBeLessThanOrEqual(100);
  });

  it('rejects bad options with EnoseError bad-option', () => {
    const bad: SimulationOptions[] = [
      { seed: 1.5, containers: 1 },
      { seed: 1, containers: -1 },
      { seed: 1, containers: 1, baselineS: 0.05 },
      { seed: 1, containers: 1, rateHz: 0 },
      { seed: 1, containers: 1, days: 0 },
      { seed: 1, containers: 1, rigId: 'has space' },
      { seed: 1, containers: 1, composition: { clear: 0 } },
      { seed: 1, containers: 1, composition: { opium: 1 } as never },
      { seed: 1, containers: 1, faults: { deadChannelPerCycle: 2 } },
      { seed: 1, containers: 1, preconcentrationFactor: 0 },
    ];
    for (const o of bad) {
      try {
        createSimulation(o);
        expect.unreachable(`accepted ${JSON.stringify(o)}`);
      } catch (err) {
        expect(err).toBeInstanceOf(EnoseError);
        expect((err as EnoseError).code).toBe('bad-option');
      }
    }
    expect(() => createSimulation(small).cycleAt(6)).toThrow(EnoseError);
  });
});

describe('simulated containers', () => {
  const sim = createSimulation({ seed: 11, containers: 4000, days: 20 });
  const truths = Array.from({ length: 4000 }, (_, i) => sim.cycleAt(i).truth);

  it('draws labels in the configured composition', () => {
    const share = (label: string): number => truths.filter((t) => t.label === label).length / truths.length;
    expect(Math.abs(share('clear') - 0.5)).toBeLessThan(0.03);
    for (const s of ['cocaine', 'cannabis', 'heroin', 'mdma']) expect(Math.abs(share(s) - 0.125)).toBeLessThan(0.02);
    const onlyCocaine = createSimulation({ seed: 11, containers: 50, composition: { cocaine: 1 } });
    expect([...onlyCocaine.cycles()].every((c) => c.truth.label === 'cocaine' && c.truth.markers[0] === 'methyl_benzoate')).toBe(true);
  });

  it('puts background compounds and confounders into containers at their stated frequencies', () => {
    const reefers = truths.filter((t) => t.reefer).length;
    expect(Math.abs(reefers / truths.length - REEFER_SHARE)).toBeLessThan(0.015);
    for (const b of BACKGROUND) {
      const pool = b.among === 'reefer' ? truths.filter((t) => t.reefer) : truths;
      const p = pool.filter((t) => (t.concentrationsPpb[b.compound] ?? 0) > 0).length / pool.length;
      const sd = Math.sqrt((b.probability * (1 - b.probability)) / pool.length);
      expect(Math.abs(p - b.probability)).toBeLessThan(4 * sd + 1e-3);
      if (b.maxPpb !== undefined) {
        for (const t of pool) expect(t.concentrationsPpb[b.compound] ?? 0).toBeLessThanOrEqual(b.maxPpb);
      }
    }
    // Confounders are independent of the label: toluene as often with drugs as without.
    const tol = (drug: boolean): number => {
      const pool = truths.filter((t) => (t.label !== 'clear') === drug);
      return pool.filter((t) => t.confounders.includes('toluene')).length / pool.length;
    };
    expect(Math.abs(tol(true) - tol(false))).toBeLessThan(0.05);
  });

  it('draws marker concentrations around the stated medians, scaled by concentrationScale', () => {
    const mb = truths.filter((t) => t.label === 'cocaine').map((t) => t.concentrationsPpb.methyl_benzoate ?? 0).sort((a, b) => a - b);
    const median = mb[Math.floor(mb.length / 2)];
    expect(median).toBeGreaterThan(20 / 1.4);
    expect(median).toBeLessThan(20 * 1.4);
    const scaled = createSimulation({ seed: 11, containers: 4000, days: 20, concentrationScale: 10 });
    const i = truths.findIndex((t) => t.label === 'cocaine');
    expect(scaled.cycleAt(i).truth.concentrationsPpb.methyl_benzoate).toBeCloseTo(10 * (truths[i].concentrationsPpb.methyl_benzoate ?? 0), 9);
  });

  it('gives ISO 6346 container numbers with a valid check digit', () => {
    expect(iso6346CheckDigit('CSQU305438')).toBe(3);
    for (const t of truths.slice(0, 50)) {
      expect(t.containerId).toMatch(/^[A-Z]{3}U\d{7}$/);
      expect(Number(t.containerId[10])).toBe(iso6346CheckDigit(t.containerId.slice(0, 10)));
    }
    expect(new Set(truths.map((t) => t.sample)).size).toBe(truths.length);
  });

  it('keeps the ground truth and faults as plain data, so JSON gives the manifest unchanged', () => {
    const cycle = createSimulation({ seed: 4, containers: 30, faults: { spikesPerChannelHour: 20 } }).cycleAt(7);
    expect(cycle.faults.length).toBeGreaterThan(0);
    expect(JSON.parse(JSON.stringify(cycle.truth))).toEqual(cycle.truth);
    expect(JSON.parse(JSON.stringify(cycle.faults))).toEqual(cycle.faults);
  });
});
