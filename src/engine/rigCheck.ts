/**
 * The rig check of the verdict path: is this cycle's data far outside the model's training data (its rig
 * fingerprint, `src/model/runtime/rigFingerprint.ts`)? Per gas channel, how far the cycle's ln R0 lies outside the
 * training range [q0.005, q0.995], in widths of that range (0 inside it); likewise the peak response. The
 * cycle's distance is the larger of the two medians over the channels, and over `RIG_MISMATCH_LIMIT` the verdict
 * carries `rig-mismatch` and is never clear. The median asks for most channels at once: one sensor aged or
 * poisoned is the quality gates' business, every sensor elsewhere is another rig.
 *
 * Measured with the shipped default model (fingerprint of 6,000 cycles of training days 1-20, rig seed 1): the
 * baseline median is at most 0.38 on 2,000 training-day cycles and 0.06 on the 200 evaluation cycles (days
 * 21-30), and at least 0.90, 1.32 and 1.45 on 200 cycles each of the simulated rigs of seeds 7, 2 and 3; the
 * limit 0.5 sits between. The per-cycle work is O(channels) on arrays allocated once.
 */
import { isEnvironmentChannel, type EngineEvent, type RigInfo } from '../types.js';
import { identityDifference, type ModelRig } from '../model/runtime/rigFingerprint.js';

/** What the rig check reads of a cycle: per rig channel (its index in the rig's list), R0 and the peak response. */
export interface ChannelLevels {
  baselineOf(i: number): number;
  peakOf(i: number): number;
}

/** A cycle whose median channel lies farther than this many training ranges outside them is `rig-mismatch`. */
export const RIG_MISMATCH_LIMIT = 0.5;
/** The data warning comes once `RIG_WARN_COUNT` of the last `RIG_WARN_WINDOW` judged cycles carried the reason. */
export const RIG_WARN_WINDOW = 10;
export const RIG_WARN_COUNT = 3;
/** Narrowest range widths (ln R0: 2 %; response: 0.02), so a channel that never moved in training is not infinitely strict. */
const MIN_BASELINE_WIDTH = 0.02;
const MIN_RESPONSE_WIDTH = 0.02;
/** Relative margin of the R0 range inside which the baseline excess is 0 without its logarithm (see `bInLow`). */
const IN_RANGE_MARGIN = 1e-9;

export type RigWarning = Extract<EngineEvent, { type: 'rig-mismatch' }>;

export class RigCheck {
  private readonly rig: ModelRig;
  /** Per fingerprint channel: its index in the model's channel list, and the ranges (NaN low: no range). */
  private readonly index: Int32Array;
  private readonly bLow: Float64Array;
  private readonly bHigh: Float64Array;
  private readonly bWidth: Float64Array;
  private readonly rLow: Float64Array;
  private readonly rHigh: Float64Array;
  private readonly rWidth: Float64Array;
  /** R0 strictly inside (bInLow, bInHigh) has ln R0 inside [bLow, bHigh]: no logarithm needed (NaN: always take it). */
  private readonly bInLow: Float64Array;
  private readonly bInHigh: Float64Array;
  private readonly scratch: Float64Array;
  /** The last cycle's baseline median, response median and distance (NaN where not measured). */
  private readonly result = new Float64Array(3).fill(NaN);
  /** The last RIG_WARN_WINDOW outcomes as bits (1: mismatch), newest in bit 0. */
  private recent = 0;
  private judged = 0;
  private warned = false;

  constructor(rig: ModelRig, channels: readonly string[]) {
    this.rig = rig;
    const chs = rig.fingerprint.channels.filter((c) => channels.includes(c.channel) && !isEnvironmentChannel(c.channel));
    const n = chs.length;
    this.index = Int32Array.from(chs, (c) => channels.indexOf(c.channel));
    this.bLow = Float64Array.from(chs, (c) => c.lnBaseline?.low ?? NaN);
    this.bHigh = Float64Array.from(chs, (c) => c.lnBaseline?.high ?? NaN);
    this.bWidth = Float64Array.from(chs, (c) => Math.max(MIN_BASELINE_WIDTH, (c.lnBaseline?.high ?? 0) - (c.lnBaseline?.low ?? 0)));
    this.rLow = Float64Array.from(chs, (c) => c.response?.low ?? NaN);
    this.rHigh = Float64Array.from(chs, (c) => c.response?.high ?? NaN);
    this.rWidth = Float64Array.from(chs, (c) => Math.max(MIN_RESPONSE_WIDTH, (c.response?.high ?? 0) - (c.response?.low ?? 0)));
    // exp(bound) widened by a relative 1e-9 inward: far beyond the rounding of exp and log (1e-16 relative), so an
    // R0 inside is inside by its logarithm too, which is then not taken (most channels of a cycle; same excess, 0).
    this.bInLow = this.bLow.map((lo) => normalExp(lo) * (1 + IN_RANGE_MARGIN));
    this.bInHigh = this.bHigh.map((hi) => normalExp(hi) * (1 - IN_RANGE_MARGIN));
    this.scratch = new Float64Array(Math.max(1, n));
  }

  /**
   * The cycle's distance from the training data (see the file's comment), from the extractor's state once the
   * cycle is finished; NaN when fewer than half the channels have a value.
   */
  distance(features: ChannelLevels): number {
    this.measure(features);
    return this.result[2];
  }

  /**
   * Writes the baseline and response medians and the distance into `result` (0, 1, 2). Allocation-free: no
   * double crosses a call boundary (V8 boxes a returned double that is not inlined: a heap number per cycle).
   */
  private measure(features: ChannelLevels): void {
    this.medianExcess(features, true, 0);
    this.medianExcess(features, false, 1);
    const r = this.result;
    const baseline = r[0];
    const response = r[1];
    r[2] = baseline === baseline && response === response ? Math.max(baseline, response) : baseline === baseline ? baseline : response;
  }

  private medianExcess(features: ChannelLevels, baseline: boolean, slot: number): void {
    const low = baseline ? this.bLow : this.rLow;
    const high = baseline ? this.bHigh : this.rHigh;
    const width = baseline ? this.bWidth : this.rWidth;
    const s = this.scratch;
    let m = 0;
    for (let k = 0; k < this.index.length; k++) {
      const lo = low[k];
      if (lo !== lo) continue;
      const i = this.index[k];
      let x = NaN;
      if (baseline) {
        const r0 = features.baselineOf(i);
        if (r0 > this.bInLow[k] && r0 < this.bInHigh[k]) x = lo;
        else if (r0 > 0) x = Math.log(r0);
      } else {
        x = features.peakOf(i);
      }
      if (!(x - x === 0)) continue; // not finite
      const hi = high[k];
      let e = 0;
      if (x < lo) e = (lo - x) / width[k];
      else if (x > hi) e = (x - hi) / width[k];
      // Insertion into the sorted prefix: a rig has tens of channels at most.
      let j = m++;
      while (j > 0 && s[j - 1] > e) {
        s[j] = s[j - 1];
        j--;
      }
      s[j] = e;
    }
    let med = NaN;
    if (m > 0 && 2 * m >= this.index.length) med = m % 2 === 1 ? s[m >> 1] : 0.5 * (s[(m >> 1) - 1] + s[m >> 1]);
    this.result[slot] = med;
  }

  /** Measures a cycle whose features are complete before it ends (the engine's run ahead), for `check` to take. */
  measureAhead(features: ChannelLevels): void {
    this.measure(features);
  }

  /**
   * Checks a finished cycle and records the outcome for the warning: true when the verdict must carry
   * `rig-mismatch`. `measured`: the cycle was measured by `measureAhead` and has not changed since.
   */
  check(features: ChannelLevels, measured = false): boolean {
    if (!measured) this.measure(features);
    const mismatch = this.result[2] > RIG_MISMATCH_LIMIT;
    this.recent = ((this.recent << 1) | (mismatch ? 1 : 0)) & ((1 << RIG_WARN_WINDOW) - 1);
    this.judged++;
    return mismatch;
  }

  /** The one warning of the rig's identity (at its info line), or null when it matches or a warning was given. */
  identityWarning(info: RigInfo, atMs: number): RigWarning | null {
    if (this.warned) return null;
    const why = identityDifference(this.rig.identity, info);
    if (why === null) return null;
    this.warned = true;
    return {
      type: 'rig-mismatch',
      atMs,
      basis: 'identity',
      sample: '',
      message: `this rig is not the model's: ${why}; verdicts on data far outside its training data carry rig-mismatch and are never clear`,
    };
  }

  /** The one warning of the data, due after a cycle once enough of the last ones carried the reason; else null. */
  dataWarning(sample: string, atMs: number): RigWarning | null {
    if (this.warned) return null;
    let flagged = 0;
    for (let b = this.recent; b !== 0; b &= b - 1) flagged++;
    if (flagged < RIG_WARN_COUNT) return null;
    this.warned = true;
    const seen = Math.min(this.judged, RIG_WARN_WINDOW);
    const id = this.rig.identity;
    return {
      type: 'rig-mismatch',
      atMs,
      basis: 'data',
      sample,
      message:
        `${flagged} of the last ${seen} cycles are far outside the model's training data (rig ${id.rig}, ${this.rig.fingerprint.cycles} cycles): ` +
        `their baselines or responses lie over ${RIG_MISMATCH_LIMIT} training ranges beyond it on most channels; such verdicts carry rig-mismatch ` +
        `and are never clear: train or transfer a model on this rig`,
    };
  }
}

/** exp(x), or NaN where it is subnormal (it lost the relative precision the margin counts on) or not a number. */
function normalExp(x: number): number {
  const e = Math.exp(x);
  return e >= 2.2250738585072014e-308 ? e : NaN;
}

/** Per cycle, the values a rig fingerprint is fitted on (`rigValuesWidth`): ln R0, then the peak response, per channel. */
export function rigValuesOf(features: ChannelLevels, channels: readonly string[]): Float64Array {
  const n = channels.length;
  const out = new Float64Array(2 * n).fill(NaN);
  for (let i = 0; i < n; i++) {
    if (isEnvironmentChannel(channels[i])) continue;
    const r0 = features.baselineOf(i);
    out[i] = r0 > 0 ? Math.log(r0) : NaN;
    out[n + i] = features.peakOf(i);
  }
  return out;
}
