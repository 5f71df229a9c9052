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
import { drawContainer, type ContainerTruth } from './container.js';
import { CycleFrames, type CycleRenderInput } from './frames.js';
import { resolveSimulationOptions, type ResolvedSimulationOptions, type SimulationOptions } from './options.js';
import { createRng } from './random.js';
import { DYN, buildRig, classTargets, cycleShape, type CycleShape, type RigModel } from './rig.js';
import { STICKINESS_TAU_MULTIPLIER, type SensorUnit } from './sensors.js';

export type { ContainerTruth, FixedConditions } from './container.js';
export type { CompoundId, ContainerLabel, Substance } from './compounds.js';
export type { SensorModel, SensorUnit } from './sensors.js';
export { DEFAULT_FAULT_RATES, NO_FAULTS, resolveSimulationOptions, type FaultRates, type ResolvedSimulationOptions, type SimulationOptions } from './options.js';

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

const RH_TAU_S = 8; // Sensirion SHT3x datasheet: RH response time tau63 = 8 s
const T_TAU_S = 5; // assumption
const RH_READ_SD = 0.1; // assumption (reading noise of the RH sensor), %RH
const T_READ_SD = 0.02; // assumption, degC
const UINT32 = 4294967296;

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
