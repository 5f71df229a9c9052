/**
 * The per-frame renderer of one sampling cycle: the hot loop of the simulator. Everything that does not
 * change within a cycle is computed by the caller; each `next()` advances the sensor states by one frame
 * and writes one reading per channel. A hand-written iterator (not a generator) so that, with `reuse`, a
 * whole cycle allocates nothing per frame: the frame, its values and the iterator result are reused.
 */

import type { Frame, Phase } from '../types.js';
import { NORMAL_TABLE, type Rng } from './random.js';
import type { SensorUnit } from './sensors.js';

/** Voss-McCartney rows: 1/f noise from the frame rate down to rate / 2^8 (Gardner 1978; McCartney 1999). */
export const FLICKER_ROWS = 8;
/** Reference point of the temperature and humidity coefficients (the datasheets' standard test condition). */
const REF_RH_PCT = 65;
const REF_TEMP_C = 20;
const UINT32 = 4294967296;

/** What a cycle's frames depend on, all fixed for the cycle. */
export interface CycleRenderInput {
  readonly units: readonly SensorUnit[];
  /** Dynamic classes per channel. */
  readonly dyn: number;
  /** Frames of B, E, R, I. */
  readonly nB: number;
  readonly nE: number;
  readonly nR: number;
  readonly nI: number;
  /** Steady-state conductance increments during E, [channel * dyn + class]. */
  readonly targets: Float64Array;
  /** Sensor state at the first frame (carry-over from earlier cycles), same layout. */
  readonly initialState: Float64Array;
  /** Per-frame factors exp(-dt / tau), same layout. */
  readonly aRise: Float64Array;
  readonly aDecay: Float64Array;
  /** Clean-air R0 of each gas channel on this day, ohm. */
  readonly baselineOhm: readonly number[];
  readonly noiseScale: number;
  /** Per-frame factors of the chamber's humidity and temperature. */
  readonly aRh: number;
  readonly aTemp: number;
  readonly rhReadSd: number;
  readonly tempReadSd: number;
  readonly ambientRhPct: number;
  readonly ambientTempC: number;
  readonly containerRhPct: number;
  readonly containerTempC: number;
  readonly adcBits: number;
  /** Gas channels dead for the cycle: 0 no, 1 nan, 2 stuck at their first reading. */
  readonly deadMode: Int8Array;
  /** Point faults sorted by frame: spikes (factor) and dropouts (frames reading 0). */
  readonly events: readonly { readonly kind: 'spike' | 'dropout'; readonly channel: number; readonly frame: number; readonly frames: number; readonly factor: number }[];
  readonly firstSeq: number;
  /** Rig clock at the first frame before wrapping, ms, and the frame period, ms. */
  readonly startMs: number;
  readonly periodMs: number;
  /** The cycle's noise stream (consumed by this renderer only). */
  readonly noise: Rng;
  readonly reuse: boolean;
}

interface MutableFrame {
  seq: number;
  tMs: number;
  phase: Phase;
  values: Float64Array;
}

/** Iterator over the frames of one cycle. */
export class CycleFrames implements IterableIterator<Frame> {
  private readonly G: number;
  private readonly dyn: number;
  private readonly total: number;
  private readonly endB: number;
  private readonly endE: number;
  private readonly endR: number;
  private readonly state: Float64Array;
  private readonly targets: Float64Array;
  private readonly aRise: Float64Array;
  private readonly aDecay: Float64Array;
  private readonly r0: Float64Array;
  private readonly aH: Float64Array;
  private readonly aT: Float64Array;
  /** exp(aH dRH + aT dT) of each channel, advanced multiplicatively frame by frame. */
  private readonly env: Float64Array;
  private readonly white: Float64Array;
  private readonly flickerScale: Float64Array;
  private readonly load: Float64Array;
  private readonly rows: Float64Array;
  private readonly flick: Float64Array;
  private readonly deadMode: Int8Array;
  private readonly stuckValue: Float64Array;
  private readonly dropUntil: Int32Array;
  private readonly events: CycleRenderInput['events'];
  private readonly adcFull: number;
  private readonly input: CycleRenderInput;
  private readonly frameObj: MutableFrame;
  private readonly result: { done: false; value: Frame };
  private n = 0;
  private ev = 0;
  private rh: number;
  private tc: number;
  // Inlined sfc32 state of the noise stream (same algorithm as Rng.nextUint32).
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;

  constructor(input: CycleRenderInput) {
    this.input = input;
    const G = input.units.length;
    this.G = G;
    this.dyn = input.dyn;
    this.endB = input.nB;
    this.endE = input.nB + input.nE;
    this.endR = input.nB + input.nE + input.nR;
    this.total = this.endR + input.nI;
    this.state = Float64Array.from(input.initialState);
    this.targets = input.targets;
    this.aRise = input.aRise;
    this.aDecay = input.aDecay;
    this.r0 = Float64Array.from(input.baselineOhm);
    this.aH = new Float64Array(G);
    this.aT = new Float64Array(G);
    this.white = new Float64Array(G);
    this.flickerScale = new Float64Array(G);
    this.load = new Float64Array(G);
    for (let g = 0; g < G; g++) {
      const u = input.units[g];
      this.aH[g] = u.humidityLnPerPct;
      this.aT[g] = u.temperatureLnPerC;
      this.white[g] = u.whiteNoise * input.noiseScale;
      this.flickerScale[g] = (u.flickerNoise * input.noiseScale) / Math.sqrt(FLICKER_ROWS);
      this.load[g] = u.loadOhm;
    }
    // 1/f rows start from their stationary distribution.
    this.rows = new Float64Array(G * FLICKER_ROWS);
    this.flick = new Float64Array(G);
    for (let g = 0; g < G; g++) {
      let s = 0;
      for (let r = 0; r < FLICKER_ROWS; r++) {
        const z = input.noise.normal();
        this.rows[g * FLICKER_ROWS + r] = z;
        s += z;
      }
      this.flick[g] = s;
    }
    const st = new Int32Array(4);
    input.noise.saveState(st);
    this.s0 = st[0];
    this.s1 = st[1];
    this.s2 = st[2];
    this.s3 = st[3];
    this.deadMode = input.deadMode;
    this.stuckValue = new Float64Array(G);
    this.dropUntil = new Int32Array(G);
    this.events = input.events;
    this.adcFull = input.adcBits > 0 ? 2 ** input.adcBits - 1 : 0;
    this.rh = input.ambientRhPct;
    this.tc = input.ambientTempC;
    this.env = new Float64Array(G);
    for (let g = 0; g < G; g++) {
      this.env[g] = Math.exp(this.aH[g] * (this.rh - REF_RH_PCT) + this.aT[g] * (this.tc - REF_TEMP_C));
    }
    this.frameObj = { seq: 0, tMs: 0, phase: 'B', values: new Float64Array(G + 2) };
    this.result = { done: false, value: this.frameObj };
  }

  [Symbol.iterator](): IterableIterator<Frame> {
    return this;
  }

  next(): IteratorResult<Frame> {
    const n = this.n;
    if (n >= this.total) return { done: true, value: undefined };
    this.n = n + 1;
    const inp = this.input;
    const G = this.G;
    const dyn = this.dyn;
    const inE = n >= this.endB && n < this.endE;
    const phase: Phase = n < this.endB ? 'B' : inE ? 'E' : n < this.endR ? 'R' : 'I';

    // Humidity and temperature of the chamber air relax towards the air let in by the valve.
    const rhTarget = inE ? inp.containerRhPct : inp.ambientRhPct;
    const tTarget = inE ? inp.containerTempC : inp.ambientTempC;
    const rh = rhTarget + (this.rh - rhTarget) * inp.aRh;
    const tc = tTarget + (this.tc - tTarget) * inp.aTemp;
    const stepRh = rh - this.rh;
    const stepT = tc - this.tc;
    this.rh = rh;
    this.tc = tc;
    const envMoves = stepRh !== 0 || stepT !== 0;

    // Voss-McCartney: frame n + 1 renews the row given by its count of trailing zeros.
    const m = n + 1;
    const row = 31 - Math.clz32(m & -m);
    const renew = row < FLICKER_ROWS;

    const values = inp.reuse ? this.frameObj.values : new Float64Array(G + 2);
    const state = this.state;
    const targets = this.targets;
    const aRise = this.aRise;
    const aDecay = this.aDecay;
    const rows = this.rows;
    const flick = this.flick;
    const table = NORMAL_TABLE;
    const adcFull = this.adcFull;
    let a = this.s0;
    let b = this.s1;
    let c = this.s2;
    let d = this.s3;
    for (let g = 0; g < G; g++) {
      const base = g * dyn;
      let y = 0;
      if (inE) {
        for (let k = 0; k < dyn; k++) {
          const tgt = targets[base + k];
          const s = tgt + (state[base + k] - tgt) * aRise[base + k];
          state[base + k] = s;
          y += s;
        }
      } else {
        for (let k = 0; k < dyn; k++) {
          const s = state[base + k] * aDecay[base + k];
          state[base + k] = s;
          y += s;
        }
      }
      // One sfc32 draw gives the white deviate (high half) and the new 1/f row (low half).
      const t = (((a + b) | 0) + d) | 0;
      d = (d + 1) | 0;
      a = b ^ (b >>> 9);
      b = (c + (c << 3)) | 0;
      c = (c << 21) | (c >>> 11);
      c = (c + t) | 0;
      const u = t >>> 0;
      const zWhite = table[u >>> 16];
      if (renew) {
        const zNew = table[u & 0xffff];
        const kk = g * FLICKER_ROWS + row;
        flick[g] += zNew - rows[kk];
        rows[kk] = zNew;
      }
      if (envMoves) {
        // exp(aH dRH + aT dT) advanced by exp(step): a 4th-order series for the small steps of a frame
        // (relative error below 1e-12 per frame), the exact value otherwise.
        const dl = this.aH[g] * stepRh + this.aT[g] * stepT;
        if (dl > -0.01 && dl < 0.01) this.env[g] *= 1 + dl * (1 + dl * (0.5 + dl * (1 / 6 + dl * (1 / 24))));
        else this.env[g] = Math.exp(this.aH[g] * (rh - REF_RH_PCT) + this.aT[g] * (tc - REF_TEMP_C));
      }
      let rs = (this.r0[g] * this.env[g] * (1 + this.white[g] * zWhite + this.flickerScale[g] * flick[g])) / (1 + y);
      if (adcFull > 0) {
        // The rig reads Vout/Vc = RL / (Rs + RL) with an adcBits converter and computes Rs back.
        const rl = this.load[g];
        let code = Math.round((adcFull * rl) / (rs + rl));
        if (code < 1) code = 1;
        else if (code > adcFull - 1) code = adcFull - 1;
        rs = rl * (adcFull / code - 1);
      }
      values[g] = rs;
    }
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    this.s0 = a;
    this.s1 = b;
    this.s2 = c;
    this.s3 = d;
    const u = t >>> 0;

    // Faults on gas channels.
    const events = this.events;
    while (this.ev < events.length && events[this.ev].frame === n) {
      const f = events[this.ev++];
      if (f.kind === 'spike') values[f.channel] *= f.factor;
      else this.dropUntil[f.channel] = n + f.frames;
    }
    const dropUntil = this.dropUntil;
    const deadMode = this.deadMode;
    for (let g = 0; g < G; g++) {
      if (dropUntil[g] > n) values[g] = 0;
      const dm = deadMode[g];
      if (dm !== 0) {
        if (dm === 1) values[g] = NaN;
        else {
          if (n === 0) this.stuckValue[g] = values[g];
          values[g] = this.stuckValue[g];
        }
      }
    }
    // Environment channels at the 0.01 resolution of an SHT3x-class sensor.
    values[G] = Math.round((tc + inp.tempReadSd * table[u >>> 16]) * 100) / 100;
    const rhRead = rh + inp.rhReadSd * table[u & 0xffff];
    values[G + 1] = Math.round((rhRead < 0 ? 0 : rhRead > 100 ? 100 : rhRead) * 100) / 100;

    const seq = (inp.firstSeq + n) % UINT32;
    const tMs = Math.round(inp.startMs + n * inp.periodMs) % UINT32;
    if (inp.reuse) {
      const f = this.frameObj;
      f.seq = seq;
      f.tMs = tMs;
      f.phase = phase;
      return this.result;
    }
    return { done: false, value: { seq, tMs, phase, values } };
  }
}
