import { describe, expect, it } from 'vitest';
import { COMPOUNDS, type CompoundId } from '../../src/sim/compounds.js';
import { RESPONSE_CLASSES, classResponse } from '../../src/sim/sensors.js';
import { NO_FAULTS, createSimulation, type SimCycle, type SimulationOptions } from '../../src/sim/simulate.js';

/** A quiet rig: no noise, no drift, no faults, no ADC, no background, air of the same state inside and out. */
function quiet(extra: Partial<SimulationOptions> & { fixed?: SimulationOptions['fixed'] } = {}): SimulationOptions {
  return {
    seed: 5,
    containers: 1,
    noiseScale: 0,
    driftScale: 0,
    faults: NO_FAULTS,
    adcBits: 0,
    ...extra,
    fixed: {
      label: 'clear',
      background: 'none',
      ambientTempC: 20,
      ambientRhPct: 65,
      containerTempC: 20,
      containerRhPct: 65,
      ...(extra.fixed ?? {}),
    },
  };
}

function framesOf(cycle: SimCycle): Float64Array[] {
  return [...cycle.frames()].map((f) => f.values);
}

/** Conductance increment y = R_B / R - 1 of gas channel g at frame n (R_B: last baseline frame). */
function responseAt(values: Float64Array[], nB: number, g: number, n: number): number {
  return values[nB - 1][g] / values[n][g] - 1;
}

describe('sensor response', () => {
  it('grows monotonically with concentration on every gas channel', () => {
    const levels = [10, 30, 100, 300, 1000];
    const steady = levels.map((ppb) => {
      const sim = createSimulation(quiet({ fixed: { label: 'cocaine', concentrationsPpb: { methyl_benzoate: ppb } } }));
      const v = framesOf(sim.cycleAt(0));
      return Array.from({ length: 16 }, (_, g) => responseAt(v, 300, g, 899));
    });
    for (let g = 0; g < 16; g++) {
      for (let i = 1; i < levels.length; i++) expect(steady[i][g]).toBeGreaterThan(steady[i - 1][g]);
      expect(steady[0][g]).toBeGreaterThan(0);
    }
  });

  it('follows Rs/R0 = 1 / (1 + k C^beta) at steady state', () => {
    const ppb = 250;
    const sim = createSimulation(quiet({ exposureS: 600, fixed: { concentrationsPpb: { toluene: ppb } } }));
    const cycle = sim.cycleAt(0);
    const v = framesOf(cycle);
    const toluene = COMPOUNDS.find((c) => c.id === 'toluene');
    const cls = RESPONSE_CLASSES.indexOf(toluene?.responseClass ?? 'aromatic');
    sim.rig.units.forEach((unit, g) => {
      const expected = classResponse(unit, cls, ppb / 1000);
      const ratio = v[300 + 6000 - 1][g] / v[299][g];
      expect(ratio).toBeCloseTo(1 / (1 + expected), 9);
    });
  });

  it('rises and decays with the stated first-order time constants (63 % at tau)', () => {
    const cases: { compound: CompoundId; dyn: number }[] = [
      { compound: 'toluene', dyn: 0 }, // fast
      { compound: 'methyl_benzoate', dyn: 1 }, // medium
      { compound: 'beta_caryophyllene', dyn: 2 }, // sticky
    ];
    for (const { compound, dyn } of cases) {
      const sim = createSimulation(quiet({ exposureS: 600, recoveryS: 600, fixed: { concentrationsPpb: { [compound]: 200 } } }));
      const cycle = sim.cycleAt(0);
      const v = framesOf(cycle);
      const nB = 300;
      const nE = 6000;
      for (let g = 0; g < 16; g++) {
        const final = responseAt(v, nB, g, nB + nE - 1);
        // Rise: first frame of E at or above 63.2 % of the final response; time is counted to the frame's end.
        let j = 0;
        while (responseAt(v, nB, g, nB + j) < (1 - Math.exp(-1)) * final) j++;
        const tRise = (j + 1) * 0.1;
        expect(Math.abs(tRise - cycle.tauRiseS[g][dyn])).toBeLessThanOrEqual(0.1 + 1e-9);
        // Decay: first frame of R at or below 36.8 % of the response at the end of E.
        let r = 0;
        while (responseAt(v, nB, g, nB + nE + r) > Math.exp(-1) * final) r++;
        const tDecay = (r + 1) * 0.1;
        expect(Math.abs(tDecay - cycle.tauDecayS[g][dyn])).toBeLessThanOrEqual(0.1 + 1e-9);
      }
      // Sticky compounds are slower.
      if (dyn > 0) expect(cycle.tauRiseS[0][dyn]).toBeGreaterThan(cycle.tauRiseS[0][0]);
    }
  });

  it('multiplies trapped compounds by the pre-concentration factor and leaves the others alone', () => {
    const respond = (compound: CompoundId, factor: number): number => {
      const sim = createSimulation(quiet({ preconcentrationFactor: factor, fixed: { concentrationsPpb: { [compound]: 20 } } }));
      return responseAt(framesOf(sim.cycleAt(0)), 300, 0, 899);
    };
    expect(respond('methyl_benzoate', 100)).toBeGreaterThan(5 * respond('methyl_benzoate', 1));
    expect(respond('formaldehyde', 100)).toBeCloseTo(respond('formaldehyde', 1), 12);
  });

  it('carries sticky compounds over into the next cycle of the same day, not into the next day', () => {
    const sim = createSimulation(quiet({ containers: 4, days: 2, fixed: { concentrationsPpb: { acetic_acid: 2000 } } }));
    const first = (i: number): Float64Array => [...sim.cycleAt(i).frames()][0].values;
    // Cycle 1 starts with acid left from cycle 0: lower resistance than cycle 0, which started clean.
    for (let g = 0; g < 16; g++) expect(first(1)[g]).toBeLessThan(first(0)[g]);
    // Cycle 2 is the first of day 2: clean again (drift is off, so equal to cycle 0).
    for (let g = 0; g < 16; g++) expect(first(2)[g]).toBeCloseTo(first(0)[g], 6);
  });
});

describe('environment', () => {
  it('lowers the baseline resistance as humidity rises, as the datasheets show, by exp(aH dRH)', () => {
    const baseline = (rh: number): { v: Float64Array; aH: number[] } => {
      const sim = createSimulation(quiet({ fixed: { ambientRhPct: rh, containerRhPct: rh } }));
      return { v: framesOf(sim.cycleAt(0))[299], aH: sim.rig.units.map((u) => u.humidityLnPerPct) };
    };
    const dry = baseline(40);
    const wet = baseline(85);
    for (let g = 0; g < 16; g++) {
      expect(wet.v[g]).toBeLessThan(dry.v[g]);
      expect(Math.log(wet.v[g] / dry.v[g])).toBeCloseTo(dry.aH[g] * 45, 9);
    }
    expect(dry.v[17]).toBeCloseTo(40, 6);
    expect(wet.v[17]).toBeCloseTo(85, 6);
  });

  it('lowers the baseline resistance as the temperature rises', () => {
    const at = (t: number): Float64Array => {
      const sim = createSimulation(quiet({ fixed: { ambientTempC: t, containerTempC: t } }));
      return framesOf(sim.cycleAt(0))[299];
    };
    const cold = at(5);
    const warm = at(30);
    for (let g = 0; g < 16; g++) expect(warm[g]).toBeLessThan(cold[g]);
    expect(warm[16]).toBeCloseTo(30, 6);
  });

  it('moves humidity and temperature with the valve: container air in E, ambient air in B and R', () => {
    const sim = createSimulation(quiet({ fixed: { ambientRhPct: 50, containerRhPct: 90, ambientTempC: 10, containerTempC: 25 } }));
    const v = framesOf(sim.cycleAt(0));
    expect(v[299][17]).toBeCloseTo(50, 6);
    expect(v[899][17]).toBeCloseTo(90, 1); // 60 s is 7.5 tau: 0.02 %RH short of 90
    expect(v[899][16]).toBeCloseTo(25, 4);
    expect(v[1499][17]).toBeCloseTo(50, 1);
    // RH sensor tau63 of 8 s: after 80 frames of E the reading is 63 % of the way (within one frame).
    expect(v[300 + 79][17]).toBeGreaterThan(50 + 0.6 * 40);
    expect(v[300 + 79][17]).toBeLessThan(50 + 0.66 * 40);
    // A wetter container lowers the resistances during E even with no gas at all, by exactly
    // exp(aH dRH + aT dT) along the first-order paths of RH (tau 8 s) and temperature (tau 5 s).
    for (let g = 0; g < 16; g++) expect(v[899][g]).toBeLessThan(v[299][g]);
    const aRh = Math.exp(-0.1 / 8);
    const aT = Math.exp(-0.1 / 5);
    sim.rig.units.forEach((u, g) => {
      for (const n of [300, 301, 350, 500, 899]) {
        const k = n - 299;
        const rh = 90 - 40 * aRh ** k;
        const t = 25 - 15 * aT ** k;
        const expected = v[299][g] * Math.exp(u.humidityLnPerPct * (rh - 50) + u.temperatureLnPerC * (t - 10));
        expect(Math.abs(v[n][g] / expected - 1)).toBeLessThan(1e-9);
      }
    });
  });
});

describe('drift', () => {
  const meanAbsLogDrift = (day: number): number => {
    const at = (d: number): Float64Array => {
      const sim = createSimulation({ ...quiet({ startDay: d }), driftScale: 1 });
      return framesOf(sim.cycleAt(0))[299];
    };
    const day0 = at(0);
    const later = at(day);
    let s = 0;
    for (let g = 0; g < 16; g++) s += Math.abs(Math.log(later[g] / day0[g]));
    return s / 16;
  };

  it('moves the clean-air baseline further as days pass', () => {
    const d = [10, 60, 300].map(meanAbsLogDrift);
    expect(d[0]).toBeGreaterThan(0);
    expect(d[1]).toBeGreaterThan(d[0]);
    expect(d[2]).toBeGreaterThan(d[1]);
  });

  it('loses sensitivity with the days: the same gas gives a smaller response later', () => {
    const response = (day: number): number[] => {
      const sim = createSimulation({ ...quiet({ startDay: day, fixed: { concentrationsPpb: { toluene: 300 } } }), driftScale: 1 });
      const v = framesOf(sim.cycleAt(0));
      return Array.from({ length: 16 }, (_, g) => responseAt(v, 300, g, 899));
    };
    const early = response(1);
    const late = response(200);
    for (let g = 0; g < 16; g++) {
      expect(late[g]).toBeLessThan(early[g]);
      // About 0.13 %/day (UCI fit) with a per-unit spread: between 5 % and 60 % lost over 199 days.
      expect(late[g] / early[g]).toBeGreaterThan(0.4);
      expect(late[g] / early[g]).toBeLessThan(0.95);
    }
  });
});
