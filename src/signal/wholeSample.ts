/**
 * The whole-sample feature family: absolute levels and shape of each gas channel over the whole cycle (every
 * frame from its first to the verdict), for rigs without a clean-air baseline or without phases (low-cost MOX
 * or electrochemical boards, MQ arrays): there the first seconds already hold the substance, so responses
 * against them carry little, while the levels and the recording's shape do. Per gas channel, in this order:
 * - `whole-mean`, `whole-std` (population), `whole-min`, `whole-max` of the readings;
 * - `whole-first`: the mean of the readings in the first `wholeFirstS` seconds;
 * - `whole-last`: the mean of the last `wholeLastS` seconds' readings (a ring buffer, exact);
 * - `whole-slope`: the least-squares slope of the readings against time, per minute.
 * The seven plain statistics of the SmellNet offline reference (scikit-learn, research/smellnet_reference.py).
 * Readings on a rail (per channel, `channelGates`) or NaN are left out. Streaming (Welford's updates for the
 * moments and the slope), preallocated, O(channels) per frame.
 */

export const WHOLE_FEATURES = ['whole-mean', 'whole-std', 'whole-min', 'whole-max', 'whole-first', 'whole-last', 'whole-slope'] as const;

export function wholeSampleNames(gasChannels: readonly string[]): string[] {
  return gasChannels.flatMap((ch) => WHOLE_FEATURES.map((f) => `${ch}:${f}`));
}

export class WholeSampleFeatures {
  readonly width: number;
  /** Indices of the gas channels in a frame's values. */
  private readonly index: Int32Array;
  private readonly railLow: Float64Array;
  private readonly railHigh: Float64Array;
  private readonly firstS: number;
  private readonly lastFrames: number;
  private readonly count: Float64Array;
  private readonly mean: Float64Array;
  private readonly m2: Float64Array;
  private readonly min: Float64Array;
  private readonly max: Float64Array;
  private readonly firstSum: Float64Array;
  private readonly firstN: Float64Array;
  private readonly meanT: Float64Array;
  private readonly m2T: Float64Array;
  private readonly cTV: Float64Array;
  /** Ring of the last `lastFrames` readings, frame-major (NaN where a reading was left out). */
  private readonly ring: Float64Array;
  private frames = 0;

  /**
   * @param index the gas channels' positions in a frame's values
   * @param railLow per gas channel (same order as `index`): a reading at or below is left out
   */
  constructor(index: Int32Array, rateHz: number, firstS: number, lastS: number, railLow: Float64Array, railHigh: Float64Array) {
    const n = index.length;
    this.index = index;
    this.railLow = railLow;
    this.railHigh = railHigh;
    this.width = n * WHOLE_FEATURES.length;
    this.firstS = firstS;
    this.lastFrames = Math.max(1, Math.round(lastS * rateHz));
    this.count = new Float64Array(n);
    this.mean = new Float64Array(n);
    this.m2 = new Float64Array(n);
    this.min = new Float64Array(n);
    this.max = new Float64Array(n);
    this.firstSum = new Float64Array(n);
    this.firstN = new Float64Array(n);
    this.meanT = new Float64Array(n);
    this.m2T = new Float64Array(n);
    this.cTV = new Float64Array(n);
    this.ring = new Float64Array(n * this.lastFrames);
    this.reset();
  }

  reset(): void {
    this.frames = 0;
    this.count.fill(0);
    this.mean.fill(0);
    this.m2.fill(0);
    this.min.fill(Infinity);
    this.max.fill(-Infinity);
    this.firstSum.fill(0);
    this.firstN.fill(0);
    this.meanT.fill(0);
    this.m2T.fill(0);
    this.cTV.fill(0);
    this.ring.fill(NaN);
  }

  /** One frame of the cycle at `tS` seconds from its start. */
  frame(values: Float64Array, tS: number): void {
    const n = this.index.length;
    const row = (this.frames % this.lastFrames) * n;
    this.frames++;
    const first = tS < this.firstS;
    for (let k = 0; k < n; k++) {
      const v = values[this.index[k]];
      let kept = NaN;
      if (v === v && v > this.railLow[k] && v < this.railHigh[k]) kept = v;
      this.ring[row + k] = kept;
      if (kept !== kept) continue;
      const c = ++this.count[k];
      const dv = v - this.mean[k];
      this.mean[k] += dv / c;
      const dv2 = v - this.mean[k];
      this.m2[k] += dv * dv2;
      const dt = tS - this.meanT[k];
      this.meanT[k] += dt / c;
      this.m2T[k] += dt * (tS - this.meanT[k]);
      this.cTV[k] += dt * dv2;
      if (v < this.min[k]) this.min[k] = v;
      if (v > this.max[k]) this.max[k] = v;
      if (first) {
        this.firstSum[k] += v;
        this.firstN[k]++;
      }
    }
  }

  /** Writes the features at `offset` (NaN for a channel with no reading, or no first window); allocation-free. */
  finish(out: Float64Array, offset: number): void {
    const n = this.index.length;
    const stored = Math.min(this.frames, this.lastFrames);
    let o = offset;
    for (let k = 0; k < n; k++) {
      const c = this.count[k];
      let lastSum = 0;
      let lastN = 0;
      for (let j = 0; j < stored; j++) {
        const v = this.ring[j * n + k];
        if (v !== v) continue;
        lastSum += v;
        lastN++;
      }
      out[o++] = c > 0 ? this.mean[k] : NaN;
      out[o++] = c > 0 ? Math.sqrt(this.m2[k] / c) : NaN;
      out[o++] = c > 0 ? this.min[k] : NaN;
      out[o++] = c > 0 ? this.max[k] : NaN;
      out[o++] = this.firstN[k] > 0 ? this.firstSum[k] / this.firstN[k] : NaN;
      out[o++] = lastN > 0 ? lastSum / lastN : NaN;
      // One reading, or all at one time: no trend, slope 0.
      out[o++] = c > 0 ? (this.m2T[k] > 0 ? (60 * this.cTV[k]) / this.m2T[k] : 0) : NaN;
    }
  }
}
