/**
 * The model pipeline: z-score scaler, PCA, a classifier in PCA space and the verdict policy. `fitModel` returns
 * a signed, frozen bundle; `compileModel` folds the scaler into the projection and lays every parameter out in
 * flat Float64Arrays, so that a prediction is a few loops with no allocation. For LDA and logistic regression it
 * also folds scaler, projection and classifier into one classes x features matrix (`predictFused`,
 * `predictClassesBatch`), for callers that need no PCA scores (the engine's novelty limit does).
 */
import type { VerdictKind } from '../../types.js';
import type { ModelBundle } from './bundle.js';
import { isSuspiciousLabel } from './policy.js';

export { TRANSFORMS, signedLog, type FeatureTransform } from './featureTransform.js';
export {
  compileModel,
  noveltyOfLast,
  predictClassesBatch,
  predictCompiled,
  predictForVerdict,
  predictFused,
  type CompiledModel,
} from './compiledModel.js';

/** The outcome of the policy for one prediction; `verdict` is null when the model has no policy. */
export interface PolicyOutcome {
  readonly verdict: VerdictKind | null;
  /** P(suspicious classes), or null without a policy. */
  readonly score: number | null;
  readonly reason:
    | 'suspicious-class'
    | 'clear-class'
    | 'suspicious-class-below-threshold'
    | 'suspicious-classes-outweigh-clear'
    | 'unknown-odour'
    | 'no-policy';
}

/** Precomputed policy: which class indices are suspicious and the threshold. */
export interface CompiledPolicy {
  readonly suspicious: Uint8Array;
  readonly threshold: number;
}

export function compilePolicy(bundle: ModelBundle): CompiledPolicy | null {
  const policy = bundle.policy;
  if (!policy) return null;
  return {
    suspicious: Uint8Array.from(bundle.classes, (c) => (isSuspiciousLabel(policy, c) ? 1 : 0)),
    threshold: policy.threshold,
  };
}

/** A `clear` verdict needs P(suspicious classes) below this: the clear classes must outweigh the suspicious ones together. */
export const CLEAR_MAX_SCORE = 0.5;

/**
 * Applies the policy. Fail-safe: a sample whose most probable class is suspicious but whose score does not pass
 * the threshold is `inconclusive`, never `clear`; so is a sample whose most probable class is clear while the
 * suspicious classes together are at least as probable (score >= CLEAR_MAX_SCORE: P(clear) 0.39 against
 * cannabis 0.48 minus a few lost frames must not become a clearance).
 */
export function decideVerdict(policy: CompiledPolicy | null, probabilities: Float64Array, best: number, novelty = NaN): PolicyOutcome {
  const novel = novelty > 1;
  if (!policy) return { verdict: null, score: null, reason: novel ? 'unknown-odour' : 'no-policy' };
  let score = 0;
  for (let c = 0; c < policy.suspicious.length; c++) if (policy.suspicious[c]) score += probabilities[c];
  // An unknown smell must lead to an inspection, not to a clearance.
  if (novel) return { verdict: 'suspicious', score, reason: 'unknown-odour' };
  if (score > policy.threshold) return { verdict: 'suspicious', score, reason: 'suspicious-class' };
  if (policy.suspicious[best]) return { verdict: 'inconclusive', score, reason: 'suspicious-class-below-threshold' };
  if (score >= CLEAR_MAX_SCORE) return { verdict: 'inconclusive', score, reason: 'suspicious-classes-outweigh-clear' };
  return { verdict: 'clear', score, reason: 'clear-class' };
}
