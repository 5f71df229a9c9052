/** The simulator's options, their defaults (fault rates included) and their validation. */
import { EnoseError } from '../errors.js';
import { CONTAINER_LABELS, DEFAULT_COMPOSITION, type ContainerLabel } from './compounds.js';
import type { FixedConditions } from './container.js';

/** Fault rates (all assumptions: no field statistics were found; see the README). */
export interface FaultRates {
  /** Probability that a gas channel is dead for a whole cycle (half read nan, half stay stuck). */
  readonly deadChannelPerCycle: number;
  /** Single-frame spikes per gas channel per hour of frames. */
  readonly spikesPerChannelHour: number;
  /** Dropouts (1 to 3 frames reading 0) per gas channel per hour of frames. */
  readonly dropoutsPerChannelHour: number;
}

export const DEFAULT_FAULT_RATES: FaultRates = Object.freeze({
  deadChannelPerCycle: 2e-4,
  spikesPerChannelHour: 0.05,
  dropoutsPerChannelHour: 0.05,
});

export const NO_FAULTS: FaultRates = Object.freeze({ deadChannelPerCycle: 0, spikesPerChannelHour: 0, dropoutsPerChannelHour: 0 });

export interface SimulationOptions {
  /** Seed of everything drawn (containers, weather, noise, faults; the rig too unless rigSeed is given). */
  readonly seed: number;
  /** Number of container cycles. */
  readonly containers: number;
  /** First day (days since the sensors were installed). @default 1 */
  readonly startDay?: number;
  /** Containers are spread evenly over this many days. @default 1 */
  readonly days?: number;
  /** @default 10 */
  readonly rateHz?: number;
  /** @default 30 */
  readonly baselineS?: number;
  /** @default 60 */
  readonly exposureS?: number;
  /** @default 60 */
  readonly recoveryS?: number;
  /** Idle frames (phase I) after each cycle. @default 0 */
  readonly idleS?: number;
  /** Units of each sensor model. @default 4 */
  readonly unitsPerModel?: number;
  /** Rig id; a different id gives different sensor units. @default 'SIM1' */
  readonly rigId?: string;
  /** Seed of the rig's units and their drift. @default seed */
  readonly rigSeed?: number;
  /** Scales every unit-to-unit sd (0: all units nominal; 2: twice the default spread). @default 1 */
  readonly unitSpread?: number;
  /** Share of each label; missing labels get 0 when any is given. @default clear 0.5, each substance 0.125 */
  readonly composition?: Readonly<Partial<Record<ContainerLabel, number>>>;
  /** Multiplies the drawn marker concentrations. @default 1 */
  readonly concentrationScale?: number;
  /** Concentration gain of a sorbent pre-concentrator for the compounds it retains. @default 1 (none) */
  readonly preconcentrationFactor?: number;
  /** Scales all sensor noise (0: noise-free). @default 1 */
  readonly noiseScale?: number;
  /** Scales baseline drift and sensitivity loss (0: none). @default 1 */
  readonly driftScale?: number;
  /** Fault rates; give NO_FAULTS for none. @default DEFAULT_FAULT_RATES */
  readonly faults?: Partial<FaultRates>;
  /** Resolution of the rig's ADC reading the voltage dividers (0: no quantisation). @default 12 */
  readonly adcBits?: number;
  /** seq of the first frame (uint32). @default 0 */
  readonly firstSeq?: number;
  /** Rig clock of the first frame, ms (uint32). @default 0 */
  readonly startTMs?: number;
  /** Conditions forced on every container. */
  readonly fixed?: FixedConditions;
}

/** Options with every default filled in. */
export interface ResolvedSimulationOptions {
  readonly seed: number;
  readonly containers: number;
  readonly startDay: number;
  readonly days: number;
  readonly rateHz: number;
  readonly baselineS: number;
  readonly exposureS: number;
  readonly recoveryS: number;
  readonly idleS: number;
  readonly unitsPerModel: number;
  readonly rigId: string;
  readonly rigSeed: number;
  readonly unitSpread: number;
  readonly composition: Readonly<Record<ContainerLabel, number>>;
  readonly concentrationScale: number;
  readonly preconcentrationFactor: number;
  readonly noiseScale: number;
  readonly driftScale: number;
  readonly faults: FaultRates;
  readonly adcBits: number;
  readonly firstSeq: number;
  readonly startTMs: number;
  readonly fixed: FixedConditions;
}

const UINT32 = 4294967296;

function positive(name: string, v: number, allowZero = false): number {
  if (!Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) {
    throw new EnoseError('bad-option', `${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, got ${String(v)}`);
  }
  return v;
}

function integer(name: string, v: number, min: number): number {
  if (!Number.isInteger(v) || v < min) throw new EnoseError('bad-option', `${name} must be an integer >= ${min}, got ${String(v)}`);
  return v;
}

/** Fills in defaults and validates; throws EnoseError('bad-option') on misuse. */
export function resolveSimulationOptions(o: SimulationOptions): ResolvedSimulationOptions {
  if (!Number.isSafeInteger(o.seed)) throw new EnoseError('bad-option', `seed must be a safe integer, got ${String(o.seed)}`);
  const rateHz = positive('rateHz', o.rateHz ?? 10);
  const frames = (name: string, s: number, allowZero: boolean): number => {
    positive(name, s, allowZero);
    const n = s * rateHz;
    if (Math.abs(n - Math.round(n)) > 1e-9) throw new EnoseError('bad-option', `${name} * rateHz must be a whole number of frames`);
    return s;
  };
  let composition: Record<ContainerLabel, number> = { ...DEFAULT_COMPOSITION };
  if (o.composition) {
    composition = { clear: 0, cocaine: 0, cannabis: 0, heroin: 0, mdma: 0 };
    for (const [k, v] of Object.entries(o.composition)) {
      if (!CONTAINER_LABELS.includes(k as ContainerLabel)) throw new EnoseError('bad-option', `unknown label in composition: ${k}`);
      composition[k as ContainerLabel] = positive(`composition.${k}`, v ?? 0, true);
    }
    if (CONTAINER_LABELS.every((l) => composition[l] === 0)) throw new EnoseError('bad-option', 'composition must give some label a share');
  }
  const faults: FaultRates = { ...DEFAULT_FAULT_RATES, ...(o.faults ?? {}) };
  positive('faults.deadChannelPerCycle', faults.deadChannelPerCycle, true);
  positive('faults.spikesPerChannelHour', faults.spikesPerChannelHour, true);
  positive('faults.dropoutsPerChannelHour', faults.dropoutsPerChannelHour, true);
  if (faults.deadChannelPerCycle > 1) throw new EnoseError('bad-option', 'faults.deadChannelPerCycle is a probability');
  const rigSeed = o.rigSeed ?? o.seed;
  if (!Number.isSafeInteger(rigSeed)) throw new EnoseError('bad-option', `rigSeed must be a safe integer`);
  const adcBits = integer('adcBits', o.adcBits ?? 12, 0);
  if (adcBits > 24) throw new EnoseError('bad-option', 'adcBits must be at most 24');
  const rigId = o.rigId ?? 'SIM1';
  if (!/^[A-Za-z0-9_.-]{1,32}$/.test(rigId)) throw new EnoseError('bad-option', `rigId must be 1-32 of [A-Za-z0-9_.-], got ${JSON.stringify(rigId)}`);
  return Object.freeze({
    seed: o.seed,
    containers: integer('containers', o.containers, 0),
    startDay: integer('startDay', o.startDay ?? 1, 0),
    days: integer('days', o.days ?? 1, 1),
    rateHz,
    baselineS: frames('baselineS', o.baselineS ?? 30, false),
    exposureS: frames('exposureS', o.exposureS ?? 60, false),
    recoveryS: frames('recoveryS', o.recoveryS ?? 60, true),
    idleS: frames('idleS', o.idleS ?? 0, true),
    unitsPerModel: integer('unitsPerModel', o.unitsPerModel ?? 4, 1),
    rigId,
    rigSeed,
    unitSpread: positive('unitSpread', o.unitSpread ?? 1, true),
    composition: Object.freeze(composition),
    concentrationScale: positive('concentrationScale', o.concentrationScale ?? 1, true),
    preconcentrationFactor: positive('preconcentrationFactor', o.preconcentrationFactor ?? 1),
    noiseScale: positive('noiseScale', o.noiseScale ?? 1, true),
    driftScale: positive('driftScale', o.driftScale ?? 1, true),
    faults: Object.freeze(faults),
    adcBits,
    firstSeq: integer('firstSeq', o.firstSeq ?? 0, 0) % UINT32,
    startTMs: integer('startTMs', o.startTMs ?? 0, 0) % UINT32,
    fixed: Object.freeze({ ...(o.fixed ?? {}) }),
  });
}
