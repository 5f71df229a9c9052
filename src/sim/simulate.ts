/**
 * The container simulator: a MOX array on a sniffing rig sampling container air, producing frames exactly
 * as a rig would (seq, tMs, phase, resistances in ohm in a fixed channel order), one sampling cycle
 * (baseline B, exposure E, recovery R, optional idle I) per container. Pure and seeded: no fs, no timers,
 * no Math.random; the same options give the same numbers, bit for bit.
 *
 * Streams are lazy: `cycles()` yields one cycle at a time and a cycle renders its frames only when they
 * are iterated, so a whole port day is never held in memory.
 */

import { EnoseError } from '../errors.js';
import type { Frame, Phase } from '../types.js';
import { COMPOUNDS, CONTAINER_LABELS, DEFAULT_COMPOSITION, type ContainerLabel } from './compounds.js';
import { concentrationVector, drawContainer, type ContainerTruth, type FixedConditions } from './container.js';
import { CycleFrames, type CycleRenderInput } from './frames.js';
import { createRng } from './random.js';
import {
  RESPONSE_CLASSES,
  SENSOR_DEFAULTS,
  SENSOR_MODELS,
  STICKINESS_TAU_MULTIPLIER,
  drawSensorUnit,
  type SensorUnit,
} from './sensors.js';

export type { ContainerTruth, FixedConditions } from './container.js';
export type { CompoundId, ContainerLabel, Substance } from './compounds.js';
export type { SensorModel, SensorUnit } from './sensors.js';

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

export type FaultKind = 'dead-nan' | 'stuck' | 'spike' | 'dropout';

/** A fault injected into a cycle: on `channel` (index into the channel list) from `frame` for `frames`. */
export interface FaultRecord {
  readonly kind: FaultKind;
  readonly channel: number;
  readonly channelName: string;
  /** Index of the first affected frame within the cycle. */
  readonly frame: number;
  readonly frames: number;
  /** For spikes: the factor applied to the reading. */
  readonly factor?: number;
}

/** One simulated container cycle: its ground truth, its faults, and its frames on demand. */
export interface SimCycle {
  /** Index of the cycle in this simulation (0-based). */
  readonly index: number;
  readonly truth: ContainerTruth;
  readonly faults: readonly FaultRecord[];
  /** Frames per phase and in total. */
  readonly phaseFrames: Readonly<Record<Phase, number>>;
  readonly frameCount: number;
  readonly firstSeq: number;
  /** Effective per-unit time constants of this cycle, s: [channel][dynamic class 0..2] (rise, decay). */
  readonly tauRiseS: readonly (readonly number[])[];
  readonly tauDecayS: readonly (readonly number[])[];
  /** Clean-air baseline resistance of each gas channel on this day at 20 degC / 65 %RH, ohm (drift included). */
  readonly baselineOhm: readonly number[];
  /**
   * The cycle's frames. By default each frame owns its values array; with `reuse: true` one frame object
   * and one values buffer are reused (valid only until the next iteration), which allocates nothing.
   */
  frames(options?: { readonly reuse?: boolean }): IterableIterator<Frame>;
}

/** One frame of a stream with the cycle it belongs to. */
export interface SimStreamItem {
  readonly cycle: SimCycle;
  /** Index of the frame within its cycle. */
  readonly frameIndex: number;
  readonly frame: Frame;
}

export interface RigDescription {
  readonly id: string;
  readonly rateHz: number;
  readonly unit: 'ohm';
  readonly channels: readonly string[];
  readonly units: readonly SensorUnit[];
  readonly unitSpread: number;
}

export interface Simulation {
  readonly options: ResolvedSimulationOptions;
  /** Gas channels (`tgs2600_1` ...) then `temp_c`, `rh_pct`: the order of every frame's values. */
  readonly channels: readonly string[];
  readonly rig: RigDescription;
  /** Cycles in order, lazily. */
  cycles(): IterableIterator<SimCycle>;
  /** The cycle of a given index (random access; equal to the one `cycles()` yields). */
  cycleAt(index: number): SimCycle;
  /** Every frame of every cycle, one at a time (the reuse option as in SimCycle.frames). */
  stream(options?: { readonly reuse?: boolean }): IterableIterator<SimStreamItem>;
}

const DYN = STICKINESS_TAU_MULTIPLIER.length; // dynamic classes per channel
const RH_TAU_S = 8; // Sensirion SHT3x datasheet: RH response time tau63 = 8 s
const T_TAU_S = 5; // assumption
const RH_READ_SD = 0.1; // assumption (reading noise of the RH sensor), %RH
const T_READ_SD = 0.02; // assumption, degC
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
interface RigModel {
  readonly units: readonly SensorUnit[];
  readonly walks: readonly Float64Array[];
  /** Per compound: class index, dynamic class, relative response, trapped. */
  readonly compoundClass: Int32Array;
  readonly compoundDyn: Int32Array;
  readonly compoundFactor: Float64Array;
  readonly compoundTrapped: Uint8Array;
}

function buildRig(opts: ResolvedSimulationOptions): RigModel {
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
function classTargets(rig: RigModel, opts: ResolvedSimulationOptions, truth: ContainerTruth, out: Float64Array): void {
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

interface CycleShape {
  readonly nB: number;
  readonly nE: number;
  readonly nR: number;
  readonly nI: number;
  readonly total: number;
}

function cycleShape(o: ResolvedSimulationOptions): CycleShape {
  const nB = Math.round(o.baselineS * o.rateHz);
  const nE = Math.round(o.exposureS * o.rateHz);
  const nR = Math.round(o.recoveryS * o.rateHz);
  const nI = Math.round(o.idleS * o.rateHz);
  return { nB, nE, nR, nI, total: nB + nE + nR + nI };
}

/** Carry-over from the previous cycles of the same day: sticky compounds do not fully recover in R. */
const CARRY_LOOKBACK = 4;

class SimulationImpl implements Simulation {
  readonly options: ResolvedSimulationOptions;
  readonly channels: readonly string[];
  readonly rig: RigDescription;
  private readonly model: RigModel;
  private readonly shape: CycleShape;
  private readonly dtS: number;
  /** Per channel and dynamic class: per-frame factors exp(-dt/tau). */
  private readonly aRise: Float64Array;
  private readonly aDecay: Float64Array;
  /** Per channel and dynamic class: decay of a carried state over one whole cycle. */
  private readonly cycleDecay: Float64Array;
  /** End-of-cycle state left by a target of 1 starting from 0. */
  private readonly endFromUnit: Float64Array;
  private readonly dayStarts: Int32Array;

  constructor(options: SimulationOptions) {
    this.options = resolveSimulationOptions(options);
    const o = this.options;
    this.model = buildRig(o);
    this.shape = cycleShape(o);
    this.dtS = 1 / o.rateHz;
    const gasChannels = this.model.units.map((u) => u.channel);
    this.channels = Object.freeze([...gasChannels, 'temp_c', 'rh_pct']);
    this.rig = Object.freeze({
      id: o.rigId,
      rateHz: o.rateHz,
      unit: 'ohm' as const,
      channels: this.channels,
      units: this.model.units,
      unitSpread: o.unitSpread,
    });
    const G = this.model.units.length;
    this.aRise = new Float64Array(G * DYN);
    this.aDecay = new Float64Array(G * DYN);
    this.cycleDecay = new Float64Array(G * DYN);
    this.endFromUnit = new Float64Array(G * DYN);
    const { nB, nE, nR, nI } = this.shape;
    for (let g = 0; g < G; g++) {
      const u = this.model.units[g];
      for (let d = 0; d < DYN; d++) {
        const ar = Math.exp(-this.dtS / (u.tauRiseS * STICKINESS_TAU_MULTIPLIER[d]));
        const ad = Math.exp(-this.dtS / (u.tauDecayS * STICKINESS_TAU_MULTIPLIER[d]));
        this.aRise[g * DYN + d] = ar;
        this.aDecay[g * DYN + d] = ad;
        this.cycleDecay[g * DYN + d] = Math.pow(ad, nB + nR + nI) * Math.pow(ar, nE);
        this.endFromUnit[g * DYN + d] = (1 - Math.pow(ar, nE)) * Math.pow(ad, nR + nI);
      }
    }
    // Containers are spread evenly over the days: day of cycle i = startDay + floor(i * days / containers).
    this.dayStarts = new Int32Array(o.days + 1);
    for (let d = 0; d <= o.days; d++) this.dayStarts[d] = Math.ceil((d * o.containers) / o.days);
  }

  private dayOf(index: number): { day: number; indexInDay: number } {
    const o = this.options;
    const dOff = Math.floor((index * o.days) / o.containers);
    return { day: o.startDay + dOff, indexInDay: index - this.dayStarts[dOff] };
  }

  private truthOf(day: number, indexInDay: number): ContainerTruth {
    const o = this.options;
    return drawContainer(day, indexInDay, {
      seed: o.seed,
      composition: o.composition,
      concentrationScale: o.concentrationScale,
      fixed: o.fixed,
    });
  }

  *cycles(): IterableIterator<SimCycle> {
    for (let i = 0; i < this.options.containers; i++) yield this.cycleAt(i);
  }

  cycleAt(index: number): SimCycle {
    const o = this.options;
    if (!Number.isInteger(index) || index < 0 || index >= o.containers) {
      throw new EnoseError('bad-option', `cycle index ${index} is outside 0..${o.containers - 1}`);
    }
    const { day, indexInDay } = this.dayOf(index);
    const truth = this.truthOf(day, indexInDay);
    const G = this.model.units.length;
    const targets = new Float64Array(G * DYN);
    classTargets(this.model, o, truth, targets);
    // Carry-over: the linear state left by earlier cycles of the same day, decayed through the cycles since.
    const carry = new Float64Array(G * DYN);
    const prev = new Float64Array(G * DYN);
    for (let back = 1; back <= CARRY_LOOKBACK && indexInDay - back >= 0; back++) {
      classTargets(this.model, o, this.truthOf(day, indexInDay - back), prev);
      for (let j = 0; j < G * DYN; j++) {
        carry[j] += prev[j] * this.endFromUnit[j] * Math.pow(this.cycleDecay[j], back - 1);
      }
    }
    const baselineOhm = this.model.units.map((u, g) => {
      const drift = o.driftScale * (u.baselineTrendLnPerDay * day + this.model.walks[g][Math.min(day, this.model.walks[g].length - 1)]);
      return u.r0Ohm * Math.exp(drift);
    });
    const faults = this.drawFaults(day, indexInDay);
    const firstSeq = (o.firstSeq + index * this.shape.total) % UINT32;
    const { nB, nE, nR, nI, total } = this.shape;
    const tauRiseS = this.model.units.map((u) => STICKINESS_TAU_MULTIPLIER.map((m) => u.tauRiseS * m));
    const tauDecayS = this.model.units.map((u) => STICKINESS_TAU_MULTIPLIER.map((m) => u.tauDecayS * m));
    const render = (reuse: boolean): IterableIterator<Frame> =>
      this.renderCycle(index, truth, targets, carry, baselineOhm, faults, firstSeq, reuse);
    return Object.freeze({
      index,
      truth,
      faults,
      phaseFrames: Object.freeze({ I: nI, B: nB, E: nE, R: nR }),
      frameCount: total,
      firstSeq,
      tauRiseS,
      tauDecayS,
      baselineOhm: Object.freeze(baselineOhm),
      frames: (opts?: { readonly reuse?: boolean }) => render(opts?.reuse ?? false),
    });
  }

  *stream(options?: { readonly reuse?: boolean }): IterableIterator<SimStreamItem> {
    const reuse = options?.reuse ?? false;
    const item = { cycle: undefined as unknown as SimCycle, frameIndex: 0, frame: undefined as unknown as Frame };
    for (const cycle of this.cycles()) {
      let i = 0;
      for (const frame of cycle.frames({ reuse })) {
        if (reuse) {
          item.cycle = cycle;
          item.frameIndex = i++;
          item.frame = frame;
          yield item;
        } else {
          yield { cycle, frameIndex: i++, frame };
        }
      }
    }
  }

  private drawFaults(day: number, indexInDay: number): FaultRecord[] {
    const o = this.options;
    const f = o.faults;
    const G = this.model.units.length;
    const total = this.shape.total;
    const hours = total / o.rateHz / 3600;
    const faults: FaultRecord[] = [];
    const dead = createRng(o.seed, 'faults', o.rigId, day, indexInDay, 'dead');
    const spikes = createRng(o.seed, 'faults', o.rigId, day, indexInDay, 'spikes');
    const drops = createRng(o.seed, 'faults', o.rigId, day, indexInDay, 'dropouts');
    for (let g = 0; g < G; g++) {
      const name = this.model.units[g].channel;
      const isDead = dead.chance(f.deadChannelPerCycle);
      const mode = dead.chance(0.5);
      if (isDead) faults.push({ kind: mode ? 'dead-nan' : 'stuck', channel: g, channelName: name, frame: 0, frames: total });
      const nSpikes = spikes.poisson(f.spikesPerChannelHour * hours);
      for (let s = 0; s < nSpikes; s++) {
        const frame = spikes.int(total);
        const up = spikes.chance(0.5);
        const factor = Math.exp((up ? 1 : -1) * spikes.uniform(0.3, 1.5));
        faults.push({ kind: 'spike', channel: g, channelName: name, frame, frames: 1, factor });
      }
      const nDrops = drops.poisson(f.dropoutsPerChannelHour * hours);
      for (let s = 0; s < nDrops; s++) {
        const frame = drops.int(total);
        const frames = Math.min(1 + drops.int(3), total - frame);
        faults.push({ kind: 'dropout', channel: g, channelName: name, frame, frames });
      }
    }
    faults.sort((a, b) => a.frame - b.frame || a.channel - b.channel);
    return Object.freeze(faults.map((x) => Object.freeze(x))) as FaultRecord[];
  }

  /** The frame iterator of one cycle; all per-cycle constants are computed here, before the first frame. */
  private renderCycle(
    index: number,
    truth: ContainerTruth,
    targets: Float64Array,
    carry: Float64Array,
    baselineOhm: readonly number[],
    faults: readonly FaultRecord[],
    firstSeq: number,
    reuse: boolean,
  ): IterableIterator<Frame> {
    const o = this.options;
    const G = this.model.units.length;
    const deadMode = new Int8Array(G);
    const events: CycleRenderInput['events'][number][] = [];
    for (const f of faults) {
      if (f.kind === 'dead-nan') deadMode[f.channel] = 1;
      else if (f.kind === 'stuck') deadMode[f.channel] = 2;
      else events.push({ kind: f.kind, channel: f.channel, frame: f.frame, frames: f.frames, factor: f.factor ?? 1 });
    }
    return new CycleFrames({
      units: this.model.units,
      dyn: DYN,
      nB: this.shape.nB,
      nE: this.shape.nE,
      nR: this.shape.nR,
      nI: this.shape.nI,
      targets,
      initialState: carry,
      aRise: this.aRise,
      aDecay: this.aDecay,
      baselineOhm,
      noiseScale: o.noiseScale,
      aRh: Math.exp(-this.dtS / RH_TAU_S),
      aTemp: Math.exp(-this.dtS / T_TAU_S),
      rhReadSd: RH_READ_SD * o.noiseScale,
      tempReadSd: T_READ_SD * o.noiseScale,
      ambientRhPct: truth.ambientRhPct,
      ambientTempC: truth.ambientTempC,
      containerRhPct: truth.containerRhPct,
      containerTempC: truth.containerTempC,
      adcBits: o.adcBits,
      deadMode,
      events,
      firstSeq,
      startMs: o.startTMs + (index * this.shape.total * 1000) / o.rateHz,
      periodMs: 1000 / o.rateHz,
      noise: createRng(o.seed, 'noise', o.rigId, truth.day, truth.indexInDay),
      reuse,
    });
  }
}

/** Creates a simulation (validates the options and draws the rig; no frames are computed yet). */
export function createSimulation(options: SimulationOptions): Simulation {
  return new SimulationImpl(options);
}

/** The cycles of a simulation, lazily: shorthand for `createSimulation(options).cycles()`. */
export function simulateContainers(options: SimulationOptions): IterableIterator<SimCycle> {
  return createSimulation(options).cycles();
}
