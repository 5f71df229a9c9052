/**
 * The sample extractor the engine runs, in training and live alike: the per-cycle features of `CycleFeatures`
 * (phases, responses against the baseline, gates) and, when the settings ask for it, the whole-sample family
 * (`WholeSampleFeatures`), on the channels the model keeps (`dropChannels`: dead in all of training, left out
 * of features and gates), with the per-channel gate limits training learned (`channelGates`). Preallocated;
 * a frame costs no allocation.
 */
import { isEnvironmentChannel } from '../types.js';
import { channelGates, type LearnedChannel } from './channelGates.js';
import { CycleFeatures, featureNames, type ExtractorConfig, type GateLimits } from './features.js';
import { wholeSampleNames, WholeSampleFeatures } from './wholeSample.js';

/** The channels the extractor reads: the rig's, less `dropChannels`. */
export function keptChannels(channels: readonly string[], config: ExtractorConfig): string[] {
  const drop = config.dropChannels ?? [];
  return drop.length === 0 ? [...channels] : channels.filter((c) => !drop.includes(c));
}

/** Feature names in the order `SampleExtractor.finish` writes them. */
export function sampleFeatureNames(channels: readonly string[], config: ExtractorConfig): string[] {
  const kept = keptChannels(channels, config);
  const names = featureNames(kept, config);
  if (config.wholeSample === true) names.push(...wholeSampleNames(kept.filter((c) => !isEnvironmentChannel(c))));
  return names;
}

export class SampleExtractor {
  /** The channels read (the rig's less the dropped ones); `finish`'s gates are in this order. */
  readonly channels: readonly string[];
  readonly width: number;
  private readonly cycle: CycleFeatures;
  private readonly whole: WholeSampleFeatures | null;
  private readonly cycleWidth: number;
  /** Positions of the kept channels in a frame, and the buffer they are copied to (null: all kept). */
  private readonly keep: Int32Array | null;
  private readonly kept: Float64Array;
  /** Per rig channel: its position among the kept channels, or -1 for a dropped one. */
  private readonly keptIndex: Int32Array;
  private changeCount = 0;

  constructor(
    channels: readonly string[],
    rateHz: number,
    config: ExtractorConfig,
    limits: GateLimits,
    learned: Readonly<Record<string, LearnedChannel>> | null | undefined,
  ) {
    const kept = keptChannels(channels, config);
    this.channels = kept;
    this.keep = kept.length === channels.length ? null : Int32Array.from(kept, (c) => channels.indexOf(c));
    this.kept = new Float64Array(kept.length);
    this.keptIndex = Int32Array.from(channels, (c) => kept.indexOf(c));
    const gates = channelGates(kept, limits, learned);
    this.cycle = new CycleFeatures(kept, rateHz, config, limits, gates);
    this.cycleWidth = this.cycle.width;
    if (config.wholeSample === true) {
      const gas = kept.flatMap((c, i) => (isEnvironmentChannel(c) ? [] : [i]));
      this.whole = new WholeSampleFeatures(
        Int32Array.from(gas),
        rateHz,
        config.wholeFirstS ?? 30,
        config.wholeLastS ?? 60,
        Float64Array.from(gas, (i) => gates[i].railLow),
        Float64Array.from(gas, (i) => gates[i].railHigh),
      );
    } else {
      this.whole = null;
    }
    this.width = this.cycleWidth + (this.whole?.width ?? 0);
  }

  private select(values: Float64Array): Float64Array {
    const keep = this.keep;
    if (!keep) return values;
    for (let k = 0; k < keep.length; k++) this.kept[k] = values[keep[k]];
    return this.kept;
  }

  reset(): void {
    this.changeCount++;
    this.cycle.reset();
    this.whole?.reset();
  }

  baselineFrame(values: Float64Array, tS: number): void {
    this.changeCount++;
    const v = this.select(values);
    this.cycle.baselineFrame(v);
    this.whole?.frame(v, tS);
  }

  startExposure(tS: number): void {
    this.changeCount++;
    this.cycle.startExposure(tS);
  }

  exposureFrame(values: Float64Array, tS: number): void {
    this.changeCount++;
    const v = this.select(values);
    this.cycle.exposureFrame(v, tS);
    this.whole?.frame(v, tS);
  }

  recoveryFrame(values: Float64Array, tS: number): void {
    this.changeCount++;
    const v = this.select(values);
    this.cycle.recoveryFrame(v);
    this.whole?.frame(v, tS);
  }

  /**
   * How many times the state was changed (a frame taken, the exposure started, a reset): equal counts read the
   * same row from `finish`, so a row finished once need not be finished again while the count stays.
   */
  get changes(): number {
    return this.changeCount;
  }

  get recoveryComplete(): boolean {
    return this.cycle.recoveryComplete;
  }

  /**
   * True for settings whose feature row is usually complete a frame or more before the cycle ends: windows in the
   * phase that decides, and no whole-sample family (it reads every frame to the end).
   */
  get rowBeforeEnd(): boolean {
    return this.whole === null && this.cycle.decidingWindows > 0;
  }

  /**
   * True once the windows of the deciding phase are complete (`rowBeforeEnd` settings): the row then stays as it
   * is if that phase ends now, which the frame that ends it tells (the engine compares the rows then).
   */
  get windowsDone(): boolean {
    return this.whole === null && this.cycle.windowsDone;
  }

  get largestBaselineDrift(): number {
    return this.cycle.largestBaselineDrift;
  }

  /** The phase features of the kept channels: R0 and peaks by kept-channel index, read on the verdict path. */
  get levels(): CycleFeatures {
    return this.cycle;
  }

  /** Baseline R0 of the rig's channel `i` (its index in the rig's channel list); NaN for a dropped channel. */
  baselineOf(i: number): number {
    const k = this.keptIndex[i];
    return k < 0 ? NaN : this.cycle.baselineOf(k);
  }

  /** Peak response of the rig's channel `i`; NaN for a dropped channel. */
  peakOf(i: number): number {
    const k = this.keptIndex[i];
    return k < 0 ? NaN : this.cycle.peakOf(k);
  }

  /** The features into `out` from 0, and the gate bits of each kept channel into `gates` (see `CycleFeatures`). */
  finish(out: Float64Array, gates: Uint8Array): void {
    this.cycle.finish(out, 0, gates);
    this.whole?.finish(out, this.cycleWidth);
  }
}
