/**
 * Streaming baseline correction and feature extraction for one sampling cycle, per channel, updated frame by
 * frame on preallocated typed arrays, so that the work left when the exposure ends is O(channels).
 *
 * Per gas channel:
 * - baseline R0: median of the baseline (B) readings, robust to spikes (bounded buffer of the last
 *   `maxBaselineFrames` readings; computed once when the exposure starts);
 * - response r(t) of a reading R: `fractional` (R - R0) / R0, `relative` R / R0 or `log` ln(R / R0)
 *   (Gardner & Bartlett, "Electronic Noses: Principles and Applications", 1999, ch. 5, baseline manipulation);
 * - `ss`: steady-state response, the mean of r over the last `steadyStateShare` of the exposure (or its last
 *   `steadyStateS` seconds when that is set), from running prefix sums, so it costs O(1) when the exposure ends
 *   (Vergara et al. 2012, Sens. Actuators B 166, the dR feature);
 * - `peak`: the response farthest from the neutral value over the exposure;
 * - `area`: the integral of (r - neutral) over the exposure, trapezoid rule, in seconds;
 * - `slope`: the largest rate of change of r over a `slopeWindowS` window during the exposure, per second;
 * - `ema<alpha>`: the exponential-moving-average transients of Vergara et al. 2012:
 *   y[k] = (1 - a) y[k-1] + a (r[k] - r[k-1]), the feature being the extreme of y over the exposure, with the
 *   paper's alphas (0.001, 0.01, 0.1 at 100 Hz) rescaled to the frame rate so the time constants stay the same:
 *   a' = 1 - (1 - a)^(100 / rateHz).
 * - `win<j>` (when `windowS` > 0): the mean response over the j-th window of `windowS` seconds of the exposure
 *   (j = 1 .. `windowCount`): the transient sampled at fixed times after the switch to sample air, a linear
 *   summary of its shape that keeps the kinetics (fast compounds reach steady state within the first windows,
 *   slow and sticky ones keep rising): the transient carries gas identity beyond the steady state (Llobet et
 *   al., Sens. Actuators B 41 (1997) 13-21, conductance rise times characteristic of each gas/sensor pair).
 * `summaryFeatures: false` leaves out ss, peak, area, slope and the EMAs (windows only).
 * Environment channels (`temp_c`, `rh_pct`): `mean` over the exposure, and `delta`, the exposure mean minus the
 * baseline mean (and with windows, `dwin<j>`, each window's mean minus the baseline mean): MOX baselines move with humidity and temperature (Figaro TGS26xx datasheets), and container
 * air often differs from the clean air of the baseline, so the model needs the step as well as the level.
 * - `rwin<j>` (when `recoveryWindowS` > 0): the mean response over the j-th window of `recoveryWindowS` seconds
 *   of the recovery (R) phase, against the same R0 (j = 1 .. `recoveryWindowCount`): the decay half of the
 *   transient (Vergara et al. 2012 use the decay EMAs too), where slow, sticky compounds (the drug markers)
 *   are told from fast ones (most confounders) by how long they take to leave the surface. A model with these
 *   features gives its verdict at the end of the recovery instead of the end of the exposure (one recovery
 *   phase later, 60 s at the default cycle): an opt-in, chosen at training time.
 * Environment channels (`temp_c`, `rh_pct`) with recovery windows: `drwin<j>`, each recovery window's mean
 * minus the baseline mean.
 * - `bwin<j>` (when `baselineWindowS` > 0, first among a gas channel's features): the mean response over the
 *   j-th of the last `baselineWindowCount` windows of `baselineWindowS` seconds of the baseline, oldest first,
 *   against R0. A sticky compound of an earlier cycle still leaving the sensor makes the baseline creep back
 *   towards clean air; these windows measure how much is left and how fast it goes, which the model needs to
 *   tell that tail, still decaying through the exposure and the recovery, from a marker of this container.
 *
 * Quality gates are computed alongside (see `CycleGates`).
 */
import { isEnvironmentChannel } from '../types.js';
import type { ChannelGateLimits } from './channelGates.js';
import { defaultGateLimits, type GateLimits } from './gateLimits.js';

export { defaultGateLimits, type GateLimits };
import { median } from './median.js';

export { median } from './median.js';

export type ResponseKind = 'fractional' | 'relative' | 'log';

export interface ExtractorConfig {
  readonly method: 'stream-v1';
  /** @default 'fractional' */
  readonly response: ResponseKind;
  /** Share of the exposure, at its end, averaged for the steady-state response. @default 1/3 */
  readonly steadyStateShare: number;
  /** A fixed length instead of the share (0: use the share). @default 0 */
  readonly steadyStateS: number;
  /** Longest exposure whose steady-state window is exact; beyond it the window is capped. @default 8192 */
  readonly maxExposureFrames: number;
  /** Window of the slope feature. @default 1 */
  readonly slopeWindowS: number;
  /** EMA smoothing constants as published, at `referenceRateHz`. @default [0.001, 0.01, 0.1] */
  readonly emaAlphas: readonly number[];
  /** @default 100 (the 100 Hz sampling of Vergara et al. 2012) */
  readonly referenceRateHz: number;
  /** Host-timed data without a phase column: baseline seconds at the start of each sample. @default 30 */
  readonly baselineS: number;
  /** Bounded baseline buffer for the median. @default 4096 */
  readonly maxBaselineFrames: number;
  /** Length of each exposure window of the `win<j>` features, s (0: no window features). @default 0 */
  readonly windowS?: number;
  /** Number of exposure windows. @default 6 */
  readonly windowCount?: number;
  /** Whether to compute ss, peak, area, slope and the EMA transients. @default true */
  readonly summaryFeatures?: boolean;
  /**
   * Length of each recovery window of the `rwin<j>` features, s (0: none; the verdict comes when the exposure
   * ends). With recovery windows the verdict comes when the recovery ends. @default 0
   */
  readonly recoveryWindowS?: number;
  /** Number of recovery windows. @default 6 */
  readonly recoveryWindowCount?: number;
  /**
   * Length of each baseline window of the `bwin<j>` features, s (0: none): the last `baselineWindowCount`
   * windows of the baseline before the exposure. @default 0
   */
  readonly baselineWindowS?: number;
  /** Number of baseline windows. @default 3 */
  readonly baselineWindowCount?: number;
  /** Add the whole-sample family (src/signal/wholeSample.ts) after the others. @default false */
  readonly wholeSample?: boolean;
  /** Whole-sample family: seconds of the `whole-first` window, and of the `whole-last` one. @default 30, 60 */
  readonly wholeFirstS?: number;
  readonly wholeLastS?: number;
  /** Channels left out of features and gates (dead in all of training; src/signal/extractor.ts). @default none */
  readonly dropChannels?: readonly string[];
}

export const DEFAULT_EXTRACTOR: ExtractorConfig = Object.freeze({
  method: 'stream-v1',
  response: 'fractional',
  steadyStateShare: 1 / 3,
  steadyStateS: 0,
  maxExposureFrames: 8192,
  slopeWindowS: 1,
  emaAlphas: Object.freeze([0.001, 0.01, 0.1]),
  referenceRateHz: 100,
  baselineS: 30,
  maxBaselineFrames: 4096,
  windowS: 0,
  windowCount: 6,
  summaryFeatures: true,
  // recoveryWindowS and recoveryWindowCount stay unset (0 and 6): a model without recovery windows keeps the
  // same extractor settings, so the same model id, as before they existed.
});

function windowsOf(config: ExtractorConfig): number {
  return (config.windowS ?? 0) > 0 ? Math.max(1, Math.floor(config.windowCount ?? 6)) : 0;
}

function recoveryWindowsOf(config: ExtractorConfig): number {
  return (config.recoveryWindowS ?? 0) > 0 ? Math.max(1, Math.floor(config.recoveryWindowCount ?? 6)) : 0;
}

function baselineWindowsOf(config: ExtractorConfig): number {
  return (config.baselineWindowS ?? 0) > 0 ? Math.max(1, Math.floor(config.baselineWindowCount ?? 3)) : 0;
}

/** True when a model with these settings gives its verdict at the end of the recovery, not of the exposure. */
export function decidesAfterRecovery(config: ExtractorConfig): boolean {
  return recoveryWindowsOf(config) > 0;
}

/** Seconds of recovery the recovery windows cover (0 without them). */
export function recoveryWindowsS(config: ExtractorConfig): number {
  return recoveryWindowsOf(config) * (config.recoveryWindowS ?? 0);
}

const GAS_FEATURES = ['ss', 'peak', 'area', 'slope'] as const;

const RESPONSE_FRACTIONAL = 0;
const RESPONSE_RELATIVE = 1;
const RESPONSE_LOG = 2;

/** The response of a reading `v` against its baseline `r0` (RESPONSE_FRACTIONAL, _RELATIVE or _LOG). */
function responseOf(kind: number, v: number, r0: number): number {
  return kind === RESPONSE_FRACTIONAL ? (v - r0) / r0 : kind === RESPONSE_RELATIVE ? v / r0 : Math.log(v / r0);
}

/** Feature names in the order `extract` writes them: per gas channel, then per environment channel. */
export function featureNames(channels: readonly string[], config: ExtractorConfig): string[] {
  const names: string[] = [];
  const windows = windowsOf(config);
  const rWindows = recoveryWindowsOf(config);
  const bWindows = baselineWindowsOf(config);
  const summary = config.summaryFeatures ?? true;
  for (const ch of channels) {
    if (isEnvironmentChannel(ch)) continue;
    for (let j = 1; j <= bWindows; j++) names.push(`${ch}:bwin${j}`);
    if (summary) {
      for (const f of GAS_FEATURES) names.push(`${ch}:${f}`);
      for (const a of config.emaAlphas) names.push(`${ch}:ema${a}`);
    }
    for (let j = 1; j <= windows; j++) names.push(`${ch}:win${j}`);
    for (let j = 1; j <= rWindows; j++) names.push(`${ch}:rwin${j}`);
  }
  for (const ch of channels) {
    if (!isEnvironmentChannel(ch)) continue;
    names.push(`${ch}:mean`, `${ch}:delta`);
    for (let j = 1; j <= windows; j++) names.push(`${ch}:dwin${j}`);
    for (let j = 1; j <= rWindows; j++) names.push(`${ch}:drwin${j}`);
  }
  return names;
}

export type ChannelGate = 'saturated' | 'dead' | 'spiking' | 'baseline-unstable';

/**
 * The per-cycle extractor: allocate once per rig (channel count and rate), then `reset()` at each cycle start,
 * `baselineFrame` for every B frame, `startExposure()` once, `exposureFrame` for every E frame, `recoveryFrame` for every R frame when the settings have recovery
 * windows, and `finish()`.
 */
export class CycleFeatures {
  readonly channels: readonly string[];
  readonly width: number;
  private readonly config: ExtractorConfig;
  private readonly limits: GateLimits;
  private readonly gas: Int32Array;
  private readonly env: Int32Array;
  private readonly n: number;
  private readonly emaCount: number;
  private readonly emaAlpha: Float64Array;
  private readonly steadyCap: number;
  private readonly slopeLag: number;
  // Baseline ring buffer, frame-major: maxBaselineFrames x channels (one frame's readings are adjacent; a
  // channel-major layout strides 32 KiB between channels, so every frame's stores fight over one cache set).
  private readonly bBuf: Float64Array;
  private bCount = 0;
  private readonly scratch: Float64Array;
  private readonly r0: Float64Array;
  // Per channel running state.
  private readonly nanCount: Int32Array;
  private readonly railCount: Int32Array;
  private readonly total: Int32Array;
  private readonly spikes: Int32Array;
  private readonly prev: Float64Array;
  private readonly prev2: Float64Array;
  /** Environment sums: [channel * 2] for the baseline, [channel * 2 + 1] for the exposure. */
  private readonly envSum: Float64Array;
  private readonly envN: Int32Array;
  private readonly minV: Float64Array;
  private readonly maxV: Float64Array;
  private readonly peak: Float64Array;
  private readonly area: Float64Array;
  private readonly lastResp: Float64Array;
  private readonly lastT: Float64Array;
  private readonly slope: Float64Array;
  private readonly ema: Float64Array;
  private readonly emaExt: Float64Array;
  // Ring of prefix sums of the response and of the count of valid readings, frame-major: steadyCap x channels.
  private readonly steadySum: Float64Array;
  private readonly steadyN: Float64Array;
  private readonly steadyFixed: number;
  private readonly respHist: Float64Array; // ring, frame-major: (slopeLag + 1) x channels
  private readonly respHistT: Float64Array; // ring of times, shared by channels
  private readonly baselineDrift: Float64Array;
  private readonly summary: boolean;
  /** Exposure windows (0: none), frames per window, and per channel x window sums and counts of the response
   * (gas channels) or of the reading (environment channels). */
  private readonly windows: number;
  private readonly windowFrames: number;
  private readonly winSum: Float64Array;
  private readonly winN: Float64Array;
  /** Recovery windows (0: none), frames per window, per channel x window sums and counts, as for the exposure. */
  private readonly rWindows: number;
  private readonly rWindowFrames: number;
  private readonly rSum: Float64Array;
  private readonly rN: Float64Array;
  private rCount = 0;
  /** Baseline windows (0: none), frames per window, and per channel x window their mean response, set when the exposure starts. */
  private readonly bWindows: number;
  private readonly bWindowFrames: number;
  private readonly bWin: Float64Array;
  private eCount = 0;
  private neutral: number;
  /** The response kind and the gate limits read per reading, as plain fields. */
  private readonly responseKind: number;
  /** Per-channel rails, spike floor, flat-is-normal and R0 floor (`channelGates`; the fixed limits by default). */
  private readonly railLow: Float64Array;
  private readonly railHigh: Float64Array;
  private readonly spikeFloor: Float64Array;
  private readonly flatNormal: Uint8Array;
  private readonly r0Floor: Float64Array;
  private readonly spikeShare: number;
  /** 1 - alpha of each EMA, computed once (the same double as computing it per reading). */
  private readonly emaKeep: Float64Array;

  constructor(channels: readonly string[], rateHz: number, config: ExtractorConfig, limits: GateLimits, perChannel?: readonly ChannelGateLimits[]) {
    this.channels = channels;
    this.config = config;
    this.limits = limits;
    this.n = channels.length;
    const gas: number[] = [];
    const env: number[] = [];
    channels.forEach((c, i) => (isEnvironmentChannel(c) ? env : gas).push(i));
    this.gas = Int32Array.from(gas);
    this.env = Int32Array.from(env);
    this.emaCount = config.emaAlphas.length;
    this.emaAlpha = Float64Array.from(config.emaAlphas, (a) => 1 - Math.pow(1 - a, config.referenceRateHz / rateHz));
    this.summary = config.summaryFeatures ?? true;
    this.windows = windowsOf(config);
    this.windowFrames = this.windows > 0 ? Math.max(1, Math.round((config.windowS ?? 0) * rateHz)) : 1;
    this.rWindows = recoveryWindowsOf(config);
    this.rWindowFrames = this.rWindows > 0 ? Math.max(1, Math.round((config.recoveryWindowS ?? 0) * rateHz)) : 1;
    this.bWindows = baselineWindowsOf(config);
    this.bWindowFrames = this.bWindows > 0 ? Math.max(1, Math.round((config.baselineWindowS ?? 0) * rateHz)) : 1;
    this.width =
      gas.length * (this.bWindows + (this.summary ? GAS_FEATURES.length + this.emaCount : 0) + this.windows + this.rWindows) +
      env.length * (2 + this.windows + this.rWindows);
    this.steadyCap = Math.max(2, config.maxExposureFrames + 1);
    this.steadyFixed = config.steadyStateS > 0 ? Math.max(1, Math.round(config.steadyStateS * rateHz)) : 0;
    this.slopeLag = Math.max(1, Math.round(config.slopeWindowS * rateHz));
    const n = this.n;
    this.bBuf = new Float64Array(n * config.maxBaselineFrames);
    this.scratch = new Float64Array(config.maxBaselineFrames);
    this.r0 = new Float64Array(n);
    this.nanCount = new Int32Array(n);
    this.railCount = new Int32Array(n);
    this.total = new Int32Array(n);
    this.spikes = new Int32Array(n);
    this.prev = new Float64Array(n);
    this.prev2 = new Float64Array(n);
    this.envSum = new Float64Array(2 * n);
    this.envN = new Int32Array(2 * n);
    this.minV = new Float64Array(n);
    this.maxV = new Float64Array(n);
    this.peak = new Float64Array(n);
    this.area = new Float64Array(n);
    this.lastResp = new Float64Array(n);
    this.lastT = new Float64Array(n);
    this.slope = new Float64Array(n);
    this.ema = new Float64Array(n * this.emaCount);
    this.emaExt = new Float64Array(n * this.emaCount);
    this.steadySum = new Float64Array(n * this.steadyCap);
    this.steadyN = new Float64Array(n * this.steadyCap);
    this.respHist = new Float64Array(n * (this.slopeLag + 1));
    this.respHistT = new Float64Array(this.slopeLag + 1);
    this.baselineDrift = new Float64Array(n);
    this.winSum = new Float64Array(n * this.windows);
    this.winN = new Float64Array(n * this.windows);
    this.rSum = new Float64Array(n * this.rWindows);
    this.rN = new Float64Array(n * this.rWindows);
    this.bWin = new Float64Array(n * this.bWindows);
    this.neutral = config.response === 'relative' ? 1 : 0;
    this.responseKind = config.response === 'relative' ? RESPONSE_RELATIVE : config.response === 'log' ? RESPONSE_LOG : RESPONSE_FRACTIONAL;
    const gate = (i: number): ChannelGateLimits | undefined => perChannel?.[i];
    this.railLow = Float64Array.from(channels, (_, i) => gate(i)?.railLow ?? limits.railLow);
    this.railHigh = Float64Array.from(channels, (_, i) => gate(i)?.railHigh ?? limits.railHigh);
    this.spikeFloor = Float64Array.from(channels, (_, i) => gate(i)?.spikeFloor ?? 0);
    this.flatNormal = Uint8Array.from(channels, (_, i) => (gate(i)?.flatIsNormal ? 1 : 0));
    this.r0Floor = Float64Array.from(channels, (_, i) => gate(i)?.r0Floor ?? 0);
    this.spikeShare = limits.spikeShare;
    this.emaKeep = this.emaAlpha.map((a) => 1 - a);
    this.reset();
  }

  reset(): void {
    this.bCount = 0;
    this.eCount = 0;
    this.nanCount.fill(0);
    this.railCount.fill(0);
    this.total.fill(0);
    this.spikes.fill(0);
    this.prev.fill(NaN);
    this.prev2.fill(NaN);
    this.envSum.fill(0);
    this.envN.fill(0);
    this.minV.fill(Infinity);
    this.maxV.fill(-Infinity);
    this.r0.fill(NaN);
    this.baselineDrift.fill(0);
    this.winSum.fill(0);
    this.winN.fill(0);
    this.rSum.fill(0);
    this.rN.fill(0);
    this.bWin.fill(NaN);
    this.rCount = 0;
  }

  get baselineFrames(): number {
    return this.bCount;
  }

  get exposureFrames(): number {
    return this.eCount;
  }

  /** Recovery frames seen, and the number the recovery windows need (0 without recovery windows). */
  get recoveryFrames(): number {
    return this.rCount;
  }

  get recoveryFramesNeeded(): number {
    return this.rWindows * this.rWindowFrames;
  }

  /**
   * True when the recovery reached into the second half of its last window (always true without recovery
   * windows): enough for the features. A few frames lost on the link do not make it short; the loss and gap
   * limits judge those.
   */
  get recoveryComplete(): boolean {
    return this.rCount >= this.rWindows * this.rWindowFrames - Math.floor(this.rWindowFrames / 2);
  }

  /** Channel i's baseline R0 of this cycle (NaN before the exposure starts, and for environment channels): the rig check reads it. */
  baselineOf(i: number): number {
    return this.r0[i]!;
  }

  /** Channel i's response farthest from neutral over the exposure (the `peak` feature, kept with or without summary features). */
  peakOf(i: number): number {
    return this.peak[i]!;
  }

  /** The largest baseline drift of the gas channels (share of R0), known once the exposure has started. */
  get largestBaselineDrift(): number {
    let m = 0;
    for (let k = 0; k < this.gas.length; k++) m = Math.max(m, this.baselineDrift[this.gas[k]!]!);
    return m;
  }

  /**
   * Gate bookkeeping common to B, E and (for recovery-window models) R frames. Rails and spikes concern gas
   * channels only: an environment reading of 0 (degC) is a value, not a rail. Every channel counts NaN and
   * constancy. `phase`: 0 baseline, 1 exposure, 2 recovery; `window`: the exposure or recovery window, or -1.
   */
  private observe(values: Float64Array, phase: 0 | 1 | 2, window: number): void {
    const n = this.n;
    const total = this.total;
    const nanCount = this.nanCount;
    const minV = this.minV;
    const maxV = this.maxV;
    for (let i = 0; i < n; i++) {
      const v = values[i]!;
      total[i]!++;
      if (v !== v) {
        nanCount[i]!++;
        continue;
      }
      if (v < minV[i]!) minV[i] = v;
      if (v > maxV[i]!) maxV[i] = v;
    }
    const gas = this.gas;
    const prev = this.prev;
    const prev2 = this.prev2;
    const railLow = this.railLow;
    const railHigh = this.railHigh;
    const spikeShare = this.spikeShare;
    for (let k = 0; k < gas.length; k++) {
      const i = gas[k]!;
      const v = values[i]!;
      if (v !== v) continue;
      if (v <= railLow[i]! || v >= railHigh[i]!) this.railCount[i]!++;
      // Spike: the previous reading jumped away from both its neighbours by more than spikeShare of the level.
      const p = prev[i]!;
      const pp = prev2[i]!;
      if (p === p && pp === pp) {
        const level = Math.abs(pp) > 0 ? Math.abs(pp) : 1;
        const up = p - pp;
        const back = p - v;
        const jump = Math.max(spikeShare * level, this.spikeFloor[i]!);
        if (Math.abs(up) > jump && Math.abs(back) > jump && up * back > 0) this.spikes[i]!++;
      }
      prev2[i] = p;
      prev[i] = v;
    }
    const env = this.env;
    for (let k = 0; k < env.length; k++) {
      const i = env[k]!;
      const v = values[i]!;
      if (v !== v) continue;
      if (phase === 2) {
        if (window >= 0) {
          this.rSum[i * this.rWindows + window]! += v;
          this.rN[i * this.rWindows + window]!++;
        }
      } else {
        this.envSum[2 * i + phase]! += v;
        this.envN[2 * i + phase]!++;
        if (window >= 0) {
          this.winSum[i * this.windows + window]! += v;
          this.winN[i * this.windows + window]!++;
        }
      }
    }
  }

  baselineFrame(values: Float64Array): void {
    this.observe(values, 0, -1);
    const row = (this.bCount % this.config.maxBaselineFrames) * this.n;
    const gas = this.gas;
    const bBuf = this.bBuf;
    const railLow = this.railLow;
    const railHigh = this.railHigh;
    for (let k = 0; k < gas.length; k++) {
      const i = gas[k]!;
      const v = values[i]!;
      // Not `cond ? v : NaN`: TurboFan boxes v into a new HeapNumber for that phi (one allocation a reading).
      let stored = NaN;
      if (v > railLow[i]! && v < railHigh[i]!) stored = v;
      bBuf[row + i] = stored;
    }
    this.bCount++;
  }

  /** Computes R0 (median of the baseline) and the baseline-drift gate; resets the exposure state. */
  startExposure(tS: number): void {
    const cap = this.config.maxBaselineFrames;
    const stored = Math.min(this.bCount, cap);
    const oldest = this.bCount > cap ? this.bCount % cap : 0;
    const n = this.n;
    for (let k = 0; k < this.gas.length; k++) {
      const i = this.gas[k]!;
      let m = 0;
      for (let j = 0; j < stored; j++) {
        const v = this.bBuf[j * n + i]!;
        if (v === v) this.scratch[m++] = v;
      }
      let r0 = m > 0 ? median(this.scratch, m) : NaN;
      // A baseline below one resolution step (0 counts) is one step: a defined response, not an infinite one.
      if (this.r0Floor[i]! > 0 && r0 < this.r0Floor[i]!) r0 = this.r0Floor[i]!;
      this.r0[i] = r0;
      // Drift over the baseline: mean of its last third against its first third, in chronological order.
      const third = Math.floor(stored / 3);
      if (third >= 1 && r0 === r0 && r0 !== 0) {
        let a = 0;
        let na = 0;
        let b = 0;
        let nb = 0;
        for (let j = 0; j < third; j++) {
          const first = this.bBuf[((oldest + j) % cap) * n + i]!;
          const last = this.bBuf[((oldest + stored - 1 - j) % cap) * n + i]!;
          if (first === first) {
            a += first;
            na++;
          }
          if (last === last) {
            b += last;
            nb++;
          }
        }
        this.baselineDrift[i] = na > 0 && nb > 0 ? Math.abs(b / nb - a / na) / Math.abs(r0) : 0;
      }
      // Baseline windows: the last bWindows x bWindowFrames readings before the exposure, in chronological
      // order, as responses against R0 (what is still leaving the sensor from earlier cycles shows here). A
      // window the baseline did not reach, or with no valid reading, stays NaN: the engine's gates decide.
      const BW = this.bWindows;
      for (let w = 0; w < BW; w++) {
        const back = (BW - w) * this.bWindowFrames; // readings from the window's start to the exposure
        if (back > stored) continue;
        let sum = 0;
        let count = 0;
        for (let j = stored - back; j < stored - back + this.bWindowFrames; j++) {
          const v = this.bBuf[((oldest + j) % cap) * n + i]!;
          if (v !== v) continue;
          const r = responseOf(this.responseKind, v, r0);
          if (!Number.isFinite(r)) continue;
          sum += r;
          count++;
        }
        if (count > 0) this.bWin[i * BW + w] = sum / count;
      }
      this.peak[i] = this.neutral;
      this.area[i] = 0;
      this.lastResp[i] = NaN;
      this.lastT[i] = tS;
      this.slope[i] = 0;
    }
    this.ema.fill(0);
    this.emaExt.fill(0);
    // Prefix sums start at 0 before the first exposure frame (slot 0).
    for (let k = 0; k < this.gas.length; k++) {
      const i = this.gas[k]!;
      this.steadySum[i] = 0;
      this.steadyN[i] = 0;
    }
    this.respHist.fill(NaN);
    this.respHistT.fill(NaN);
    this.eCount = 0;
  }

  /** One exposure frame at time `tS` (seconds, rising). */
  exposureFrame(values: Float64Array, tS: number): void {
    const w = Math.floor(this.eCount / this.windowFrames);
    const window = w < this.windows ? w : -1;
    this.observe(values, 1, window);
    const e = this.eCount++;
    const n = this.n;
    const lag = this.slopeLag;
    const histRow = (e % (lag + 1)) * n;
    const oldRow = ((e + 1) % (lag + 1)) * n; // the readings lag frames ago, once the ring is full
    const oldT = this.respHistT[(e + 1) % (lag + 1)]!;
    this.respHistT[e % (lag + 1)] = tS;
    const cap = this.steadyCap;
    const prevRow = (e % cap) * n;
    const steadyRow = ((e + 1) % cap) * n;
    const neutral = this.neutral;
    const kind = this.responseKind;
    const railLow = this.railLow;
    const railHigh = this.railHigh;
    const gas = this.gas;
    const r0s = this.r0;
    const steadySum = this.steadySum;
    const steadyN = this.steadyN;
    const respHist = this.respHist;
    const peak = this.peak;
    const lastResp = this.lastResp;
    const lastT = this.lastT;
    const ema = this.ema;
    const emaExt = this.emaExt;
    const emaAlpha = this.emaAlpha;
    const emaKeep = this.emaKeep;
    const emaCount = this.emaCount;
    for (let k = 0; k < gas.length; k++) {
      const i = gas[k]!;
      const v = values[i]!;
      // A reading on a rail (a dropout to 0, an open circuit) is a failed reading, not a response.
      let r = NaN;
      if (v === v && v > railLow[i]! && v < railHigh[i]!) r = responseOf(kind, v, r0s[i]!);
      const valid = r === r && Number.isFinite(r);
      steadySum[steadyRow + i] = steadySum[prevRow + i]! + (valid ? r : 0);
      steadyN[steadyRow + i] = steadyN[prevRow + i]! + (valid ? 1 : 0);
      respHist[histRow + i] = r;
      if (!valid) continue;
      if (window >= 0) {
        this.winSum[i * this.windows + window]! += r;
        this.winN[i * this.windows + window]!++;
      }
      if (Math.abs(r - neutral) > Math.abs(peak[i]! - neutral)) peak[i] = r;
      const lr = lastResp[i]!;
      if (lr === lr) {
        const dt = tS - lastT[i]!;
        this.area[i]! += 0.5 * (r - neutral + (lr - neutral)) * dt;
        const base = i * emaCount;
        for (let a = 0; a < emaCount; a++) {
          const y = emaKeep[a]! * ema[base + a]! + emaAlpha[a]! * (r - lr);
          ema[base + a] = y;
          if (Math.abs(y) > Math.abs(emaExt[base + a]!)) emaExt[base + a] = y;
        }
      }
      if (e >= lag) {
        const old = respHist[oldRow + i]!;
        const dt = tS - oldT;
        if (old === old && dt > 0) {
          const s = (r - old) / dt;
          if (Math.abs(s) > Math.abs(this.slope[i]!)) this.slope[i] = s;
        }
      }
      lastResp[i] = r;
      lastT[i] = tS;
    }
  }

  /** One recovery frame (only for settings with recovery windows): the gates, and the recovery windows. */
  recoveryFrame(values: Float64Array): void {
    const w = Math.floor(this.rCount / this.rWindowFrames);
    const window = w < this.rWindows ? w : -1;
    this.observe(values, 2, window);
    this.rCount++;
    if (window < 0) return;
    const kind = this.responseKind;
    const railLow = this.railLow;
    const railHigh = this.railHigh;
    const gas = this.gas;
    const r0s = this.r0;
    const rSum = this.rSum;
    const rN = this.rN;
    const rW = this.rWindows;
    for (let k = 0; k < gas.length; k++) {
      const i = gas[k]!;
      const v = values[i]!;
      if (!(v === v && v > railLow[i]! && v < railHigh[i]!)) continue;
      const r = responseOf(kind, v, r0s[i]!);
      if (!Number.isFinite(r)) continue;
      rSum[i * rW + window]! += r;
      rN[i * rW + window]!++;
    }
  }

  /**
   * Writes the feature vector into `out` at `offset` and returns the gates that failed as a bit mask per
   * channel in `gates` (1 saturated, 2 dead, 4 spiking, 8 baseline-unstable). Allocation-free.
   */
  finish(out: Float64Array, offset: number, gates: Uint8Array): void {
    const { limits } = this;
    let o = offset;
    const emaN = this.emaCount;
    const cap = this.steadyCap;
    const n = this.eCount;
    const wanted = this.steadyFixed > 0 ? this.steadyFixed : Math.round(n * this.config.steadyStateShare);
    const window = Math.min(Math.max(1, wanted), n, cap - 1);
    const end = n % cap;
    const start = (n - window) % cap;
    const W = this.windows;
    const RW = this.rWindows;
    const nc = this.n;
    const BW = this.bWindows;
    for (let k = 0; k < this.gas.length; k++) {
      const i = this.gas[k]!;
      for (let j = 0; j < BW; j++) out[o++] = this.bWin[i * BW + j]!;
      if (this.summary) {
        const m = this.steadyN[end * nc + i]! - this.steadyN[start * nc + i]!;
        out[o++] = m > 0 ? (this.steadySum[end * nc + i]! - this.steadySum[start * nc + i]!) / m : NaN;
        out[o++] = this.peak[i]!;
        out[o++] = this.area[i]!;
        out[o++] = this.slope[i]!;
        for (let a = 0; a < emaN; a++) out[o++] = this.emaExt[i * emaN + a]!;
      }
      // A window with no valid reading (a short exposure, a dead channel) is NaN: the engine's gates decide.
      for (let j = 0; j < W; j++) out[o++] = this.winN[i * W + j]! > 0 ? this.winSum[i * W + j]! / this.winN[i * W + j]! : NaN;
      for (let j = 0; j < RW; j++) out[o++] = this.rN[i * RW + j]! > 0 ? this.rSum[i * RW + j]! / this.rN[i * RW + j]! : NaN;
    }
    for (let k = 0; k < this.env.length; k++) {
      const i = this.env[k]!;
      const meanB = this.envN[2 * i]! > 0 ? this.envSum[2 * i]! / this.envN[2 * i]! : NaN;
      const meanE = this.envN[2 * i + 1]! > 0 ? this.envSum[2 * i + 1]! / this.envN[2 * i + 1]! : NaN;
      out[o++] = meanE;
      out[o++] = meanE - meanB;
      for (let j = 0; j < W; j++) out[o++] = this.winN[i * W + j]! > 0 ? this.winSum[i * W + j]! / this.winN[i * W + j]! - meanB : NaN;
      for (let j = 0; j < RW; j++) out[o++] = this.rN[i * RW + j]! > 0 ? this.rSum[i * RW + j]! / this.rN[i * RW + j]! - meanB : NaN;
    }
    for (let i = 0; i < this.n; i++) {
      const total = this.total[i]!;
      let g = 0;
      if (total > 0 && this.railCount[i]! / total > limits.maxRailShare) g |= 1;
      const valid = total - this.nanCount[i]!;
      if (total === 0 || this.nanCount[i]! / total > limits.maxNanShare || (valid > 1 && this.maxV[i] === this.minV[i] && this.flatNormal[i] === 0)) g |= 2;
      if (this.spikes[i]! > limits.maxSpikes) g |= 4;
      if (!isEnvironmentChannel(this.channels[i]!)) {
        const r0 = this.r0[i]!;
        if (r0 !== r0 || r0 === 0) g |= 2;
        if (this.baselineDrift[i]! > limits.maxBaselineDrift) g |= 8;
      }
      gates[i] = g;
    }
  }
}

export const GATE_BITS: readonly [number, ChannelGate][] = [
  [1, 'saturated'],
  [2, 'dead'],
  [4, 'spiking'],
  [8, 'baseline-unstable'],
];
