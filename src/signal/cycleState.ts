/**
 * The per-cycle state behind `CycleFeatures` (src/signal/features.ts): every buffer, allocated once per rig
 * (channel count and rate), its reset at each cycle start, and the gate bookkeeping every frame shares (`observe`).
 */
import { isEnvironmentChannel } from '../types.js';
import type { ChannelGateLimits } from './channelGates.js';
import type { GateLimits } from './gateLimits.js';
import { GAS_FEATURES, RESPONSE_FRACTIONAL, RESPONSE_LOG, RESPONSE_RELATIVE, baselineWindowsOf, recoveryWindowsOf, windowsOf, type ExtractorConfig } from './extractorConfig.js';

export class CycleState {
  readonly channels: readonly string[];
  readonly width: number;
  protected readonly config: ExtractorConfig;
  protected readonly limits: GateLimits;
  protected readonly gas: Int32Array;
  protected readonly env: Int32Array;
  protected readonly n: number;
  protected readonly emaCount: number;
  protected readonly emaAlpha: Float64Array;
  protected readonly steadyCap: number;
  protected readonly slopeLag: number;
  // Baseline ring buffer, frame-major: maxBaselineFrames x channels (one frame's readings are adjacent; a
  // channel-major layout strides 32 KiB between channels, so every frame's stores fight over one cache set).
  protected readonly bBuf: Float64Array;
  protected bCount = 0;
  protected readonly scratch: Float64Array;
  protected readonly r0: Float64Array;
  // Per channel running state.
  protected readonly nanCount: Int32Array;
  protected readonly railCount: Int32Array;
  protected readonly total: Int32Array;
  protected readonly spikes: Int32Array;
  private readonly prev: Float64Array;
  private readonly prev2: Float64Array;
  /** Environment sums: [channel * 2] for the baseline, [channel * 2 + 1] for the exposure. */
  protected readonly envSum: Float64Array;
  protected readonly envN: Int32Array;
  protected readonly minV: Float64Array;
  protected readonly maxV: Float64Array;
  protected readonly peak: Float64Array;
  protected readonly area: Float64Array;
  protected readonly lastResp: Float64Array;
  protected readonly lastT: Float64Array;
  protected readonly slope: Float64Array;
  protected readonly ema: Float64Array;
  protected readonly emaExt: Float64Array;
  // Ring of prefix sums of the response and of the count of valid readings, frame-major: steadyCap x channels.
  protected readonly steadySum: Float64Array;
  protected readonly steadyN: Float64Array;
  protected readonly steadyFixed: number;
  protected readonly respHist: Float64Array; // ring, frame-major: (slopeLag + 1) x channels
  protected readonly respHistT: Float64Array; // ring of times, shared by channels
  protected readonly baselineDrift: Float64Array;
  protected readonly summary: boolean;
  /** Exposure windows (0: none), frames per window, and per channel x window sums and counts of the response
   * (gas channels) or of the reading (environment channels). */
  protected readonly windows: number;
  protected readonly windowFrames: number;
  protected readonly winSum: Float64Array;
  protected readonly winN: Float64Array;
  /** Recovery windows (0: none), frames per window, per channel x window sums and counts, as for the exposure. */
  protected readonly rWindows: number;
  protected readonly rWindowFrames: number;
  protected readonly rSum: Float64Array;
  protected readonly rN: Float64Array;
  protected rCount = 0;
  /** Baseline windows (0: none), frames per window, and per channel x window their mean response, set when the exposure starts. */
  protected readonly bWindows: number;
  protected readonly bWindowFrames: number;
  protected readonly bWin: Float64Array;
  protected eCount = 0;
  protected neutral: number;
  /** The response kind and the gate limits read per reading, as plain fields. */
  protected readonly responseKind: number;
  /** Per-channel rails, spike floor, flat-is-normal and R0 floor (`channelGates`; the fixed limits by default). */
  protected readonly railLow: Float64Array;
  protected readonly railHigh: Float64Array;
  private readonly spikeFloor: Float64Array;
  protected readonly flatNormal: Uint8Array;
  protected readonly r0Floor: Float64Array;
  private readonly spikeShare: number;
  /** 1 - alpha of each EMA, computed once (the same double as computing it per reading). */
  protected readonly emaKeep: Float64Array;
  /** The blocks the per-cycle state above is carved from, by the value `reset` gives them (see the constructor). */
  private readonly counts: Int32Array;
  private readonly zeros: Float64Array;
  private readonly nans: Float64Array;

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
    // What `reset` clears at each cycle start lies in one block per starting value (counts, 0, NaN; minV and maxV
    // side by side): five fills instead of seventeen, and the state the verdict reads sits together in memory.
    const W = this.windows;
    const RW = this.rWindows;
    const [nanCount, railCount, total, spikes, envN] = carve((this.counts = new Int32Array(6 * n)), [n, n, n, n, 2 * n]);
    const [envSum, baselineDrift, winSum, winN, rSum, rN] = carve((this.zeros = new Float64Array(3 * n + 2 * n * W + 2 * n * RW)), [2 * n, n, n * W, n * W, n * RW, n * RW]);
    const [prev, prev2, r0, bWin] = carve((this.nans = new Float64Array(3 * n + n * this.bWindows)), [n, n, n, n * this.bWindows]);
    const [minV, maxV] = carve(new Float64Array(2 * n), [n, n]);
    this.r0 = r0;
    this.nanCount = nanCount;
    this.railCount = railCount;
    this.total = total;
    this.spikes = spikes;
    this.prev = prev;
    this.prev2 = prev2;
    this.envSum = envSum;
    this.envN = envN;
    this.minV = minV;
    this.maxV = maxV;
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
    this.baselineDrift = baselineDrift;
    this.winSum = winSum;
    this.winN = winN;
    this.rSum = rSum;
    this.rN = rN;
    this.bWin = bWin;
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
    // nanCount, railCount, total, spikes, envN; envSum, baselineDrift and the window sums; prev, prev2, r0, bWin.
    this.counts.fill(0);
    this.zeros.fill(0);
    this.nans.fill(NaN);
    this.minV.fill(Infinity);
    this.maxV.fill(-Infinity);
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

  /**
   * True once the windows of the phase that decides are all complete: the recovery's for settings with recovery
   * windows (no later frame then changes a feature), else the exposure's (later exposure frames still move the
   * environment channels' exposure means). `decidingWindows`: how many there are (0: none).
   */
  get decidingWindows(): number {
    return this.rWindows > 0 ? this.rWindows : this.windows;
  }

  get windowsDone(): boolean {
    return this.rWindows > 0 ? this.rCount >= this.rWindows * this.rWindowFrames : this.windows > 0 && this.eCount >= this.windows * this.windowFrames;
  }

  /** Channel i's baseline R0 of this cycle (NaN before the exposure starts, and for environment channels): the rig check reads it. */
  baselineOf(i: number): number {
    return this.r0[i];
  }

  /** Channel i's response farthest from neutral over the exposure (the `peak` feature, kept with or without summary features). */
  peakOf(i: number): number {
    return this.peak[i];
  }

  /** The largest baseline drift of the gas channels (share of R0), known once the exposure has started. */
  get largestBaselineDrift(): number {
    let m = 0;
    for (let k = 0; k < this.gas.length; k++) m = Math.max(m, this.baselineDrift[this.gas[k]]);
    return m;
  }

  /**
   * Gate bookkeeping common to B, E and (for recovery-window models) R frames. Rails and spikes concern gas
   * channels only: an environment reading of 0 (degC) is a value, not a rail. Every channel counts NaN and
   * constancy. `phase`: 0 baseline, 1 exposure, 2 recovery; `window`: the exposure or recovery window, or -1.
   */
  protected observe(values: Float64Array, phase: 0 | 1 | 2, window: number): void {
    const n = this.n;
    const total = this.total;
    const nanCount = this.nanCount;
    const minV = this.minV;
    const maxV = this.maxV;
    for (let i = 0; i < n; i++) {
      const v = values[i];
      total[i]++;
      if (v !== v) {
        nanCount[i]++;
        continue;
      }
      if (v < minV[i]) minV[i] = v;
      if (v > maxV[i]) maxV[i] = v;
    }
    const gas = this.gas;
    const prev = this.prev;
    const prev2 = this.prev2;
    const railLow = this.railLow;
    const railHigh = this.railHigh;
    const spikeShare = this.spikeShare;
    for (let k = 0; k < gas.length; k++) {
      const i = gas[k];
      const v = values[i];
      if (v !== v) continue;
      if (v <= railLow[i] || v >= railHigh[i]) this.railCount[i]++;
      // Spike: the previous reading jumped away from both its neighbours by more than spikeShare of the level.
      const p = prev[i];
      const pp = prev2[i];
      if (p === p && pp === pp) {
        const level = Math.abs(pp) > 0 ? Math.abs(pp) : 1;
        const up = p - pp;
        const back = p - v;
        const jump = Math.max(spikeShare * level, this.spikeFloor[i]);
        if (Math.abs(up) > jump && Math.abs(back) > jump && up * back > 0) this.spikes[i]++;
      }
      prev2[i] = p;
      prev[i] = v;
    }
    const env = this.env;
    for (let k = 0; k < env.length; k++) {
      const i = env[k];
      const v = values[i];
      if (v !== v) continue;
      if (phase === 2) {
        if (window >= 0) {
          this.rSum[i * this.rWindows + window] += v;
          this.rN[i * this.rWindows + window]++;
        }
      } else {
        this.envSum[2 * i + phase] += v;
        this.envN[2 * i + phase]++;
        if (window >= 0) {
          this.winSum[i * this.windows + window] += v;
          this.winN[i * this.windows + window]++;
        }
      }
    }
  }
}

/** Consecutive views of `block`, of the given lengths (together its whole length). */
function carve<T extends Int32Array | Float64Array>(block: T, lengths: readonly number[]): T[] {
  const out: T[] = [];
  let at = 0;
  for (const length of lengths) {
    out.push(block.subarray(at, at + length) as T);
    at += length;
  }
  return out;
}
