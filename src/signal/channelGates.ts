/**
 * Quality gates that fit the rig: what training learned about each channel (its resolution, normal range,
 * ordinary movement and how often it is flat) turned into the per-channel limits the streaming extractor
 * applies. A model without learned channels gets the fixed limits of `GateLimits` on every channel, exactly as
 * before; a model with them is judged live with the limits training used, by the same function.
 *
 * - Rails: a rail value inside the channel's normal range (a gas channel that reads 0 counts in clean air, an
 *   MQ board's 0) is a reading, not a dropout; a rail outside it still is.
 * - Spikes: an out-and-back jump must also exceed `SPIKE_STEPS` resolutions and `SPIKE_MOVES` times the
 *   channel's ordinary out-and-back movement, so an integer channel that moves by a few counts, or a channel
 *   that always jitters, is not spiking.
 * - Flat: a channel that was flat in at least `FLAT_NORMAL_SHARE` of the training cycles may be flat.
 * - A baseline below one resolution step (0 counts, or negative) is replaced by one step (`r0Floor`), so the
 *   responses stay finite and the cycle is judged instead of becoming `features-invalid`.
 */
import { isEnvironmentChannel } from '../types.js';
import type { GateLimits } from './gateLimits.js';

/** What training learned about one channel (stored in the model as `limits.channels[name]`). */
export interface LearnedChannel {
  /** Smallest nonzero step between consecutive readings of a cycle (1 for integer counts). */
  readonly resolution: number;
  /** 0.5 % and 99.5 % quantiles of the training readings: the channel's normal range. */
  readonly low: number;
  readonly high: number;
  /** 99 % quantile of the out-and-back movement (the smaller of two opposite consecutive steps). */
  readonly step: number;
  /** Share of the training cycles in which the channel did not move. */
  readonly flatShare: number;
}

/** The limits `CycleFeatures` applies to one channel. */
export interface ChannelGateLimits {
  /** A reading at or below / at or above is on a rail (failed reading). */
  readonly railLow: number;
  readonly railHigh: number;
  /** Smallest jump, out and back, that can count as a spike (besides the share of the level). */
  readonly spikeFloor: number;
  /** True when a flat channel is normal for this rig (no `dead` gate for flatness). */
  readonly flatIsNormal: boolean;
  /** A baseline R0 below this becomes this (0: no floor). */
  readonly r0Floor: number;
}

/** A spike's jump exceeds this many resolutions, and this many times the ordinary out-and-back movement. */
export const SPIKE_STEPS = 4;
export const SPIKE_MOVES = 2;
/** A channel flat in at least this share of the training cycles may be flat. */
export const FLAT_NORMAL_SHARE = 0.02;

/** Per-channel limits, in channel order: the fixed limits where nothing was learned. */
export function channelGates(channels: readonly string[], limits: GateLimits, learned: Readonly<Record<string, LearnedChannel>> | null | undefined): ChannelGateLimits[] {
  return channels.map((name) => {
    const l = learned?.[name];
    if (!l) return { railLow: limits.railLow, railHigh: limits.railHigh, spikeFloor: 0, flatIsNormal: false, r0Floor: 0 };
    const gas = !isEnvironmentChannel(name);
    return {
      railLow: gas && l.low <= limits.railLow ? -Infinity : limits.railLow,
      railHigh: gas && l.high >= limits.railHigh ? Infinity : limits.railHigh,
      spikeFloor: Math.max(SPIKE_STEPS * l.resolution, SPIKE_MOVES * l.step),
      flatIsNormal: l.flatShare >= FLAT_NORMAL_SHARE,
      r0Floor: gas ? l.resolution : 0,
    };
  });
}
