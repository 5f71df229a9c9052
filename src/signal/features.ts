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
 * Quality gates are computed alongside (`observe` in src/signal/cycleState.ts, the mask in `finish`).
 */
import { CycleState } from './cycleState.js';
import { responseOf } from './extractorConfig.js';
import { defaultGateLimits, type GateLimits } from './gateLimits.js';
import { median } from './median.js';

export { defaultGateLimits, type GateLimits };
export { median } from './median.js';
export {
  DEFAULT_EXTRACTOR,
  decidesAfterRecovery,
  inExposureIssue,
  inExposureS,
  inRecoveryIssue,
  inRecoveryS,
  featureNames,
  recoveryWindowsS,
  type ExtractorConfig,
  type ResponseKind,
} from './extractorConfig.js';

export type ChannelGate = 'saturated' | 'dead' | 'spiking' | 'baseline-unstable';

/**
 * The per-cycle extractor: allocate once per rig (channel count and rate), then `reset()` at each cycle start,
 * `baselineFrame` for every B frame, `startExposure()` once, `exposureFrame` for every E frame, `recoveryFrame` for every R frame when the settings have recovery
 * windows, and `finish()`.
 */
export class CycleFeatures extends CycleState {
  baselineFrame(values: Float64Array): void {
    this.observe(values, 0, -1);
    const row = (this.bCount % this.config.maxBaselineFrames) * this.n;
    const gas = this.gas;
    const bBuf = this.bBuf;
    const railLow = this.railLow;
    const railHigh = this.railHigh;
    for (let k = 0; k < gas.length; k++) {
      const i = gas[k];
      const v = values[i];
      // Not `cond ? v : NaN`: TurboFan boxes v into a new HeapNumber for that phi (one allocation a reading).
      let stored = NaN;
      if (v > railLow[i] && v < railHigh[i]) stored = v;
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
      const i = this.gas[k];
      let m = 0;
      for (let j = 0; j < stored; j++) {
        const v = this.bBuf[j * n + i];
        if (v === v) this.scratch[m++] = v;
      }
      let r0 = m > 0 ? median(this.scratch, m) : NaN;
      // A baseline below one resolution step (0 counts) is one step: a defined response, not an infinite one.
      if (this.r0Floor[i] > 0 && r0 < this.r0Floor[i]) r0 = this.r0Floor[i];
      this.r0[i] = r0;
      // Drift over the baseline: mean of its last third against its first third, in chronological order.
      const third = Math.floor(stored / 3);
      if (third >= 1 && r0 === r0 && r0 !== 0) {
        let a = 0;
        let na = 0;
        let b = 0;
        let nb = 0;
        for (let j = 0; j < third; j++) {
          const first = this.bBuf[((oldest + j) % cap) * n + i];
          const last = this.bBuf[((oldest + stored - 1 - j) % cap) * n + i];
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
          const v = this.bBuf[((oldest + j) % cap) * n + i];
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
      const i = this.gas[k];
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
    const oldT = this.respHistT[(e + 1) % (lag + 1)];
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
      const i = gas[k];
      const v = values[i];
      // A reading on a rail (a dropout to 0, an open circuit) is a failed reading, not a response.
      let r = NaN;
      if (v === v && v > railLow[i] && v < railHigh[i]) r = responseOf(kind, v, r0s[i]);
      const valid = r === r && Number.isFinite(r);
      steadySum[steadyRow + i] = steadySum[prevRow + i] + (valid ? r : 0);
      steadyN[steadyRow + i] = steadyN[prevRow + i] + (valid ? 1 : 0);
      respHist[histRow + i] = r;
      if (!valid) continue;
      if (window >= 0) {
        this.winSum[i * this.windows + window] += r;
        this.winN[i * this.windows + window]++;
      }
      if (Math.abs(r - neutral) > Math.abs(peak[i] - neutral)) peak[i] = r;
      const lr = lastResp[i];
      if (lr === lr) {
        const dt = tS - lastT[i];
        this.area[i] += 0.5 * (r - neutral + (lr - neutral)) * dt;
        const base = i * emaCount;
        for (let a = 0; a < emaCount; a++) {
          const y = emaKeep[a] * ema[base + a] + emaAlpha[a] * (r - lr);
          ema[base + a] = y;
          if (Math.abs(y) > Math.abs(emaExt[base + a])) emaExt[base + a] = y;
        }
      }
      if (e >= lag) {
        const old = respHist[oldRow + i];
        const dt = tS - oldT;
        if (old === old && dt > 0) {
          const s = (r - old) / dt;
          if (Math.abs(s) > Math.abs(this.slope[i])) this.slope[i] = s;
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
      const i = gas[k];
      const v = values[i];
      if (!(v === v && v > railLow[i] && v < railHigh[i])) continue;
      const r = responseOf(kind, v, r0s[i]);
      if (!Number.isFinite(r)) continue;
      rSum[i * rW + window] += r;
      rN[i * rW + window]++;
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
      const i = this.gas[k];
      for (let j = 0; j < BW; j++) out[o++] = this.bWin[i * BW + j];
      if (this.summary) {
        const m = this.steadyN[end * nc + i] - this.steadyN[start * nc + i];
        out[o++] = m > 0 ? (this.steadySum[end * nc + i] - this.steadySum[start * nc + i]) / m : NaN;
        out[o++] = this.peak[i];
        out[o++] = this.area[i];
        out[o++] = this.slope[i];
        for (let a = 0; a < emaN; a++) out[o++] = this.emaExt[i * emaN + a];
      }
      // A window with no valid reading (a short exposure, a dead channel) is NaN: the engine's gates decide.
      for (let j = 0; j < W; j++) out[o++] = this.winN[i * W + j] > 0 ? this.winSum[i * W + j] / this.winN[i * W + j] : NaN;
      for (let j = 0; j < RW; j++) out[o++] = this.rN[i * RW + j] > 0 ? this.rSum[i * RW + j] / this.rN[i * RW + j] : NaN;
    }
    for (let k = 0; k < this.env.length; k++) {
      const i = this.env[k];
      const meanB = this.envN[2 * i] > 0 ? this.envSum[2 * i] / this.envN[2 * i] : NaN;
      const meanE = this.envN[2 * i + 1] > 0 ? this.envSum[2 * i + 1] / this.envN[2 * i + 1] : NaN;
      out[o++] = meanE;
      out[o++] = meanE - meanB;
      for (let j = 0; j < W; j++) out[o++] = this.winN[i * W + j] > 0 ? this.winSum[i * W + j] / this.winN[i * W + j] - meanB : NaN;
      for (let j = 0; j < RW; j++) out[o++] = this.rN[i * RW + j] > 0 ? this.rSum[i * RW + j] / this.rN[i * RW + j] - meanB : NaN;
    }
    for (let i = 0; i < this.n; i++) {
      const total = this.total[i];
      let g = 0;
      if (total > 0 && this.railCount[i] / total > limits.maxRailShare) g |= 1;
      const valid = total - this.nanCount[i];
      if (total === 0 || this.nanCount[i] / total > limits.maxNanShare || (valid > 1 && this.maxV[i] === this.minV[i] && this.flatNormal[i] === 0)) g |= 2;
      if (this.spikes[i] > limits.maxSpikes) g |= 4;
      gates[i] = g;
    }
    // The gas channels' own gates (the environment channels are the others): a dead R0, a drifting baseline.
    for (let k = 0; k < this.gas.length; k++) {
      const i = this.gas[k];
      const r0 = this.r0[i];
      if (r0 !== r0 || r0 === 0) gates[i] |= 2;
      if (this.baselineDrift[i] > limits.maxBaselineDrift) gates[i] |= 8;
    }
  }
}

export const GATE_BITS: readonly [number, ChannelGate][] = [
  [1, 'saturated'],
  [2, 'dead'],
  [4, 'spiking'],
  [8, 'baseline-unstable'],
];
