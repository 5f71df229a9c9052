/** The extractor settings a frames model was trained with, checked against the features it was fitted on. */
import { EnoseError } from '../errors.js';
import type { ModelBundle } from '../model/runtime/bundle.js';
import { sampleFeatureNames } from '../signal/extractor.js';
import { decidesAfterRecovery, DEFAULT_EXTRACTOR, inExposureIssue, inExposureS, inRecoveryIssue, inRecoveryS, type ExtractorConfig } from '../signal/features.js';

/** The extractor settings a bundle was trained with, or an error naming what is wrong. */
export function extractorOf(bundle: ModelBundle): ExtractorConfig {
  if (bundle.input.kind !== 'frames') {
    throw new EnoseError('model-mismatch', 'this model was trained on feature files; the streaming engine needs a model trained on frames (enose train <frames.csv>)');
  }
  const e = bundle.input.extractor as Partial<ExtractorConfig> & { method: string };
  if (e.method !== 'stream-v1') throw new EnoseError('model-mismatch', `the model's feature extractor "${e.method}" is not this engine's (stream-v1): retrain it`);
  const config = { ...DEFAULT_EXTRACTOR, ...e } as ExtractorConfig;
  for (const key of ['windowS', 'windowCount', 'recoveryWindowS', 'recoveryWindowCount', 'baselineWindowS', 'baselineWindowCount', 'wholeFirstS', 'wholeLastS'] as const) {
    const v = config[key];
    if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && v >= 0)) {
      throw new EnoseError('model-mismatch', `the model's extractor setting ${key} is ${JSON.stringify(v)}, not a number >= 0`);
    }
  }
  const inside = inExposureIssue(config) ?? inRecoveryIssue(config);
  if (inside !== null) throw new EnoseError('model-mismatch', `the model's extractor settings: ${inside}`);
  const drop = config.dropChannels;
  if (drop !== undefined && !(Array.isArray(drop) && drop.every((c) => typeof c === 'string'))) {
    throw new EnoseError('model-mismatch', `the model's extractor setting dropChannels is ${JSON.stringify(drop)}, not a list of channel names`);
  }
  // The features the settings make must be the ones the model was fitted on, name for name.
  const names = sampleFeatureNames(bundle.input.channels, config);
  const fitted = bundle.input.featureNames;
  const at = names.findIndex((n, i) => n !== fitted[i]);
  if (names.length !== fitted.length || at >= 0) {
    throw new EnoseError(
      'model-mismatch',
      `the model's extractor settings make ${names.length} features, it was fitted on ${fitted.length}` +
        (at >= 0 ? ` (feature ${at + 1}: "${names[at]}" against "${fitted[at] ?? ''}")` : ''),
    );
  }
  return config;
}

/**
 * Seconds into the exposure at which settings with `decideInExposure` decide (0 for any other); settings that
 * cannot decide there (inExposureIssue) throw EnoseError('bad-option'): feature-only mode (training) as with a model.
 */
export function inExposureOf(config: ExtractorConfig): number {
  const issue = inExposureIssue(config);
  if (issue !== null) throw new EnoseError('bad-option', `extractor settings: ${issue}`);
  return inExposureS(config);
}

/** Where in the cycle settings decide, as the cycle tracker takes it (inExposureOf and inRecoveryOf throw as they do). */
export function decisionPointsOf(config: ExtractorConfig): { throughRecovery: boolean; inExposureS: number; inRecoveryS: number } {
  return { throughRecovery: decidesAfterRecovery(config), inExposureS: inExposureOf(config), inRecoveryS: inRecoveryOf(config) };
}

/**
 * Seconds into the recovery at which settings with `decideInRecovery` decide (0 for any other); settings that
 * cannot decide there (inRecoveryIssue) throw EnoseError('bad-option'), as inExposureOf.
 */
export function inRecoveryOf(config: ExtractorConfig): number {
  const issue = inRecoveryIssue(config);
  if (issue !== null) throw new EnoseError('bad-option', `extractor settings: ${issue}`);
  return inRecoveryS(config);
}
