/** The fixed limits of the quality gates (per unit); a model may carry its own, or learned ones per channel. */
/** Limits of the quality gates; `defaultGateLimits` documents each. */
export interface GateLimits {
  /** A reading at or below this is on the lower rail (a dropout or short): ohm 0. */
  readonly railLow: number;
  /** A reading at or above this is on the upper rail (open circuit, ADC full scale). */
  readonly railHigh: number;
  /** Share of B+E readings on a rail above which a channel is saturated. @default 0.05 */
  readonly maxRailShare: number;
  /** Share of NaN readings above which a channel is dead. @default 0.2 */
  readonly maxNanShare: number;
  /** A one-frame jump larger than this share of R0, out and back, is a spike. @default 0.25 */
  readonly spikeShare: number;
  /** More spikes than this in a cycle and the channel is spiking. @default 2 */
  readonly maxSpikes: number;
  /** |mean of the last third of B - mean of the first third| / R0 above this: unstable baseline. @default 0.05 */
  readonly maxBaselineDrift: number;
}

export function defaultGateLimits(unit: 'ohm' | 'adc'): GateLimits {
  return {
    railLow: 0,
    // ADC counts: a 16-bit converter's full scale; resistance: 1 GOhm is an open circuit for a MOX sensor.
    railHigh: unit === 'adc' ? 65535 : 1e9,
    maxRailShare: 0.05,
    maxNanShare: 0.2,
    spikeShare: 0.25,
    maxSpikes: 2,
    maxBaselineDrift: 0.05,
  };
}
