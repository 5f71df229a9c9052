/** What the engine core hands to `onFeatures` for each finished cycle (src/engine/core.ts). */
import type { CycleQuality, VerdictReason } from '../types.js';

/** A finished cycle in feature-only mode: what training collects. */
export interface CycleFeaturesRecord {
  readonly sample: string;
  readonly label: string | undefined;
  /** A copy of the feature vector (the core's buffer is reused). */
  readonly features: Float64Array;
  /** Quality problems: empty when the cycle is fit for training. */
  readonly reasons: readonly VerdictReason[];
  readonly quality: CycleQuality;
  readonly exposureS: number;
  /** The largest baseline drift of the gas channels over the B phase, share of R0 (the baseline-unstable gate's measure). */
  readonly baselineDrift: number;
  /** What a rig fingerprint is fitted on: ln R0 and the peak response per channel (src/engine/rigCheck.ts). */
  readonly rigValues: Float64Array;
}
