/**
 * The steps of a verdict that need no engine state (src/engine/core.ts `judge()` calls them in order): the cycle's
 * quality gates, the channel gates, the finiteness and environment checks of the features, the quality record,
 * and the policy that turns the model's outcome and the quality reasons into the verdict. Pure; each appends to
 * the cycle's `reasons` in the order the verdict lists them.
 */
import type { PolicyOutcome } from '../model/runtime/pipeline.js';
import type { CycleLimits, CycleTracker } from '../signal/cycle.js';
import { GATE_BITS } from '../signal/features.js';
import type { CycleQuality, VerdictKind, VerdictReason } from '../types.js';

const GATE_REASON: Record<string, VerdictReason> = {
  saturated: 'channel-saturated',
  dead: 'channel-dead',
  spiking: 'channel-spiking',
  'baseline-unstable': 'baseline-unstable',
};

type GatedChannel = CycleQuality['channels'][number];

/** A cycle the model can judge at all: an exposure of two frames or more after a baseline. */
export function isExposed(t: CycleTracker): boolean {
  return t.framesE > 1 && t.framesB > 0;
}

/** The reasons `cycleReasons` gives: a cycle beyond the data limits, inconclusive whatever the model says. */
export const CYCLE_LIMIT_REASONS: ReadonlySet<VerdictReason> = new Set<VerdictReason>(['cut-disconnect', 'cut-reboot', 'cut-stopped', 'too-short', 'lost-frames', 'gap-too-long']);

/**
 * Quality gates of the cycle as the tracker saw it: cut (disconnect, reboot, STOP), too short (no exposure, a
 * baseline or exposure under the limits, or, through recovery, a recovery that did not reach into the second
 * half of its last window), lost frames, a gap too long. Returns the cycle's reasons so far.
 */
export function cycleReasons(t: CycleTracker, limits: CycleLimits, recoveryComplete: boolean): VerdictReason[] {
  const reasons: VerdictReason[] = [];
  if (t.cut) reasons.push(t.cut === 'disconnect' ? 'cut-disconnect' : t.cut === 'reboot' ? 'cut-reboot' : 'cut-stopped');
  const recoveryShort = t.throughRecovery && !recoveryComplete;
  if (!isExposed(t) || t.baselineS < limits.minBaselineS || t.exposureS < limits.minExposureS || recoveryShort) reasons.push('too-short');
  if (t.lostShare > limits.maxLostShare) reasons.push('lost-frames');
  if (t.maxGapS > limits.maxGapS) reasons.push('gap-too-long');
  return reasons;
}

/**
 * The channels whose gates tripped (`gates[i]`: GATE_BITS of channel `names[i]`), each gate once; its reason joins
 * `reasons` once, unless the model ignores it.
 */
export function channelGateReasons(gates: Uint8Array, names: readonly string[], ignore: ReadonlySet<string>, reasons: VerdictReason[]): GatedChannel[] {
  const channels: GatedChannel[] = [];
  for (let i = 0; i < names.length; i++) {
    const g = gates[i];
    if (g === 0) continue;
    for (const [bit, gate] of GATE_BITS) {
      if (g & bit) {
        channels.push({ channel: names[i], gate });
        const reason = GATE_REASON[gate];
        if (!reasons.includes(reason) && !ignore.has(reason)) reasons.push(reason);
      }
    }
  }
  return channels;
}

/**
 * True when every feature is finite. Otherwise `features-invalid` joins the reasons, unless a dead channel
 * already explains it.
 */
export function finiteFeatures(features: Float64Array, reasons: VerdictReason[]): boolean {
  let finite = true;
  for (let j = 0; j < features.length; j++) if (!Number.isFinite(features[j])) finite = false;
  if (!finite && !reasons.includes('channel-dead')) reasons.push('features-invalid');
  return finite;
}

/** Where the environment channels' mean features sit in the feature row. */
export interface EnvironmentFeature {
  readonly channel: string;
  readonly feature: number;
}

/** A humidity or temperature reason for each environment mean outside the model's training range. */
export function environmentReasons(
  features: Float64Array,
  index: readonly EnvironmentFeature[],
  ranges: Readonly<Record<string, { readonly min: number; readonly max: number }>>,
  reasons: VerdictReason[],
): void {
  for (const { channel, feature } of index) {
    const range = ranges[channel];
    if (range && (features[feature] < range.min || features[feature] > range.max)) {
      reasons.push(channel === 'rh_pct' ? 'humidity-out-of-range' : 'temperature-out-of-range');
    }
  }
}

/**
 * The quality record of the verdict: frames, losses, the cut, the gated channels, the novelty (NaN: none). Two
 * literals, with and without `framesR` (an object spread for it copied through a runtime call on every verdict).
 */
export function cycleQuality(t: CycleTracker, channels: readonly GatedChannel[], novelty: number): CycleQuality {
  const nov = Number.isNaN(novelty) ? null : novelty;
  if (t.throughRecovery) {
    return { framesB: t.framesB, framesE: t.framesE, framesR: t.framesR, lostFrames: t.lost, lostShare: t.lostShare, maxGapS: t.maxGapS, cut: t.cut, channels, novelty: nov };
  }
  return { framesB: t.framesB, framesE: t.framesE, lostFrames: t.lost, lostShare: t.lostShare, maxGapS: t.maxGapS, cut: t.cut, channels, novelty: nov };
}

/**
 * The verdict of a predicted cycle from the policy's `outcome`, which joins the reasons. Quality problems (reasons
 * already there) make it inconclusive, never clear; an unknown odour stays a reason. Adaptation may not clear on
 * its own what the parent model flags (`adaptation-disagrees`), and data far outside the training rig's is never
 * clear (`rig-mismatch`; a suspicious verdict stays, with the reason).
 */
export function policyVerdict(
  outcome: PolicyOutcome,
  hasPolicy: boolean,
  parentVerdict: VerdictKind | null,
  rigMismatch: boolean,
  reasons: VerdictReason[],
): VerdictKind | null {
  let verdict = reasons.length > 0 ? (hasPolicy ? 'inconclusive' : null) : outcome.verdict;
  reasons.push(outcome.reason);
  if (verdict === 'clear' && parentVerdict === 'suspicious') {
    verdict = 'inconclusive';
    reasons.push('adaptation-disagrees');
  }
  if (rigMismatch) {
    reasons.push('rig-mismatch');
    if (verdict === 'clear') verdict = 'inconclusive';
  }
  return verdict;
}

/** The verdict of a cycle without a prediction: inconclusive (with a policy), and never without a reason. */
export function unpredictedVerdict(hasPolicy: boolean, reasons: VerdictReason[]): VerdictKind | null {
  if (reasons.length === 0) reasons.push('features-invalid');
  return hasPolicy ? 'inconclusive' : null;
}

/**
 * Class probabilities by class name, in the model's class order. The object is a copy of one made once per class
 * list with every name in place, then filled: built up from `{}`, each verdict walked the names' map transitions
 * and grew the object's property store again.
 */
export function probabilitiesOf(classes: readonly string[], probs: Float64Array): Record<string, number> {
  let shape = probabilityShapes.get(classes);
  if (shape === undefined) {
    shape = {};
    for (let c = 0; c < classes.length; c++) shape[classes[c]] = 0;
    probabilityShapes.set(classes, shape);
  }
  const out: Record<string, number> = { ...shape };
  for (let c = 0; c < classes.length; c++) out[classes[c]] = probs[c];
  return out;
}

/** The object each class list's probabilities are copied from (`probabilitiesOf`), by the list. */
const probabilityShapes = new WeakMap<readonly string[], Record<string, number>>();
