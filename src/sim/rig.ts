/** The simulated rig: its sensor units, their baseline walks, the compounds' response table, and a cycle's shape. */
import { COMPOUNDS } from './compounds.js';
import { concentrationVector, type ContainerTruth } from './container.js';
import type { ResolvedSimulationOptions } from './options.js';
import { createRng } from './random.js';
import { RESPONSE_CLASSES, SENSOR_DEFAULTS, SENSOR_MODELS, STICKINESS_TAU_MULTIPLIER, drawSensorUnit, type SensorUnit } from './sensors.js';

export const DYN = STICKINESS_TAU_MULTIPLIER.length; // dynamic classes per channel

/** Drift of one unit's ln R0 up to `maxDay`: per-unit trend plus a random walk with one step per day. */
function baselineWalk(rigSeed: number, rigId: string, unit: SensorUnit, maxDay: number): Float64Array {
  const walk = new Float64Array(maxDay + 1);
  const rng = createRng(rigSeed, 'rig', rigId, 'walk', unit.channel);
  let w = 0;
  for (let d = 1; d <= maxDay; d++) {
    w += SENSOR_DEFAULTS.baselineWalkLnPerSqrtDay * rng.normal();
    walk[d] = w;
  }
  return walk;
}

/** Per-rig constants shared by all cycles. */
export interface RigModel {
  readonly units: readonly SensorUnit[];
  readonly walks: readonly Float64Array[];
  /** Per compound: class index, dynamic class, relative response, trapped. */
  readonly compoundClass: Int32Array;
  readonly compoundDyn: Int32Array;
  readonly compoundFactor: Float64Array;
  readonly compoundTrapped: Uint8Array;
}

export function buildRig(opts: ResolvedSimulationOptions): RigModel {
  const units: SensorUnit[] = [];
  for (const model of SENSOR_MODELS) {
    for (let u = 1; u <= opts.unitsPerModel; u++) {
      units.push(drawSensorUnit(model, u, opts.unitSpread, createRng(opts.rigSeed, 'rig', opts.rigId, 'unit', model, u)));
    }
  }
  const maxDay = opts.startDay + opts.days;
  const walks = units.map((u) => baselineWalk(opts.rigSeed, opts.rigId, u, maxDay));
  const n = COMPOUNDS.length;
  const compoundClass = new Int32Array(n);
  const compoundDyn = new Int32Array(n);
  const compoundFactor = new Float64Array(n);
  const compoundTrapped = new Uint8Array(n);
  COMPOUNDS.forEach((c, i) => {
    compoundClass[i] = RESPONSE_CLASSES.indexOf(c.responseClass);
    compoundDyn[i] = c.stickiness;
    compoundFactor[i] = c.relativeResponse;
    compoundTrapped[i] = c.trapped ? 1 : 0;
  });
  return { units, walks, compoundClass, compoundDyn, compoundFactor, compoundTrapped };
}

/**
 * Steady-state conductance increments of one container per gas channel and dynamic class:
 * out[g * DYN + d] = sum over compounds of dynamic class d of k C^beta (sensitivity loss of the day included).
 */
export function classTargets(rig: RigModel, opts: ResolvedSimulationOptions, truth: ContainerTruth, out: Float64Array): void {
  out.fill(0);
  const conc = concentrationVector(truth);
  for (let g = 0; g < rig.units.length; g++) {
    const unit = rig.units[g];
    const loss = Math.exp(-opts.driftScale * unit.sensitivityLossPerDay * truth.day);
    for (let i = 0; i < conc.length; i++) {
      if (conc[i] <= 0) continue;
      const ppm = (conc[i] * 1e-3) * (rig.compoundTrapped[i] ? opts.preconcentrationFactor : 1);
      const cls = rig.compoundClass[i];
      const gInc = rig.compoundFactor[i] * unit.classK[cls] * Math.pow(ppm, unit.classBeta[cls]) * loss;
      out[g * DYN + rig.compoundDyn[i]] += gInc;
    }
  }
}

export interface CycleShape {
  readonly nB: number;
  readonly nE: number;
  readonly nR: number;
  readonly nI: number;
  readonly total: number;
}

export function cycleShape(o: ResolvedSimulationOptions): CycleShape {
  const nB = Math.round(o.baselineS * o.rateHz);
  const nE = Math.round(o.exposureS * o.rateHz);
  const nR = Math.round(o.recoveryS * o.rateHz);
  const nI = Math.round(o.idleS * o.rateHz);
  return { nB, nE, nR, nI, total: nB + nE + nR + nI };
}
