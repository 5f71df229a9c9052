/** The extractor's settings (`ExtractorConfig`, `DEFAULT_EXTRACTOR`), what they imply, and the feature names they give (see src/signal/features.ts). */
import { isEnvironmentChannel } from '../types.js';

export type ResponseKind = 'fractional' | 'relative' | 'log';

export interface ExtractorConfig {
  readonly method: 'stream-v1';
  /** @default 'fractional' */
  readonly response: ResponseKind;
  /** Share of the exposure, at its end, averaged for the steady-state response. @default 1/3 */
  readonly steadyStateShare: number;
  /** A fixed length instead of the share (0: use the share). @default 0 */
  readonly steadyStateS: number;
  /** Longest exposure whose steady-state window is exact; beyond it the window is capped. @default 8192 */
  readonly maxExposureFrames: number;
  /** Window of the slope feature. @default 1 */
  readonly slopeWindowS: number;
  /** EMA smoothing constants as published, at `referenceRateHz`. @default [0.001, 0.01, 0.1] */
  readonly emaAlphas: readonly number[];
  /** @default 100 (the 100 Hz sampling of Vergara et al. 2012) */
  readonly referenceRateHz: number;
  /** Host-timed data without a phase column: baseline seconds at the start of each sample. @default 30 */
  readonly baselineS: number;
  /** Bounded baseline buffer for the median. @default 4096 */
  readonly maxBaselineFrames: number;
  /** Length of each exposure window of the `win<j>` features, s (0: no window features). @default 0 */
  readonly windowS?: number;
  /** Number of exposure windows. @default 6 */
  readonly windowCount?: number;
  /**
   * The verdict comes the moment the last exposure window completes (`windowCount` x `windowS` into the exposure:
   * the first frame at or past that), inside the exposure, instead of when the exposure ends (issue 22's
   * `in-exposure` checkpoint). Every feature is then of those windows or of the exposure so far, in training as
   * in operation; it needs windows and no summary features, recovery windows or whole-sample family (they span
   * the whole exposure or more). @default false
   */
  readonly decideInExposure?: boolean;
  /** Whether to compute ss, peak, area, slope and the EMA transients. @default true */
  readonly summaryFeatures?: boolean;
  /**
   * Length of each recovery window of the `rwin<j>` features, s (0: none; the verdict comes when the exposure
   * ends). With recovery windows the verdict comes when the recovery ends. @default 0
   */
  readonly recoveryWindowS?: number;
  /** Number of recovery windows. @default 6 */
  readonly recoveryWindowCount?: number;
  /**
   * The verdict comes the moment the last recovery window completes (`recoveryWindowCount` x `recoveryWindowS`
   * into the recovery: the first frame at or past that), inside the recovery, instead of when the recovery ends
   * (the `in-recovery` checkpoint). Every recovery feature is of those windows, in training as in operation; it
   * needs recovery windows and no whole-sample family (that reads every frame to the cycle's end). @default false
   */
  readonly decideInRecovery?: boolean;
  /**
   * Length of each baseline window of the `bwin<j>` features, s (0: none): the last `baselineWindowCount`
   * windows of the baseline before the exposure. @default 0
   */
  readonly baselineWindowS?: number;
  /** Number of baseline windows. @default 3 */
  readonly baselineWindowCount?: number;
  /** Add the whole-sample family (src/signal/wholeSample.ts) after the others. @default false */
  readonly wholeSample?: boolean;
  /** Whole-sample family: seconds of the `whole-first` window, and of the `whole-last` one. @default 30, 60 */
  readonly wholeFirstS?: number;
  readonly wholeLastS?: number;
  /** Channels left out of features and gates (dead in all of training; src/signal/extractor.ts). @default none */
  readonly dropChannels?: readonly string[];
}

export const DEFAULT_EXTRACTOR: ExtractorConfig = Object.freeze({
  method: 'stream-v1',
  response: 'fractional',
  steadyStateShare: 1 / 3,
  steadyStateS: 0,
  maxExposureFrames: 8192,
  slopeWindowS: 1,
  emaAlphas: Object.freeze([0.001, 0.01, 0.1]),
  referenceRateHz: 100,
  baselineS: 30,
  maxBaselineFrames: 4096,
  windowS: 0,
  windowCount: 6,
  summaryFeatures: true,
  // recoveryWindowS and recoveryWindowCount stay unset (0 and 6): a model without recovery windows keeps the
  // same extractor settings, so the same model id, as before they existed.
});

export function windowsOf(config: ExtractorConfig): number {
  return (config.windowS ?? 0) > 0 ? Math.max(1, Math.floor(config.windowCount ?? 6)) : 0;
}

export function recoveryWindowsOf(config: ExtractorConfig): number {
  return (config.recoveryWindowS ?? 0) > 0 ? Math.max(1, Math.floor(config.recoveryWindowCount ?? 6)) : 0;
}

export function baselineWindowsOf(config: ExtractorConfig): number {
  return (config.baselineWindowS ?? 0) > 0 ? Math.max(1, Math.floor(config.baselineWindowCount ?? 3)) : 0;
}

/** True when a model with these settings gives its verdict at the end of the recovery, not of the exposure. */
export function decidesAfterRecovery(config: ExtractorConfig): boolean {
  return recoveryWindowsOf(config) > 0;
}

/** Seconds into the exposure at which a `decideInExposure` model decides (its windows' end), or 0 for any other. */
export function inExposureS(config: ExtractorConfig): number {
  return config.decideInExposure === true ? windowsOf(config) * (config.windowS ?? 0) : 0;
}

/** Why `decideInExposure` cannot hold with these settings (a feature needs more than the windows), or null. */
export function inExposureIssue(config: Partial<ExtractorConfig>): string | null {
  if (config.decideInExposure !== true) return null;
  if (!((config.windowS ?? 0) > 0)) return 'decideInExposure needs exposure windows (windowS > 0)';
  if ((config.summaryFeatures ?? true) !== false) return 'decideInExposure needs summaryFeatures false (the summary features span the whole exposure)';
  if ((config.recoveryWindowS ?? 0) > 0) return 'decideInExposure cannot have recovery windows';
  if (config.wholeSample === true) return 'decideInExposure cannot have the whole-sample family';
  return null;
}

/** Seconds into the recovery at which a `decideInRecovery` model decides (its recovery windows' end), or 0 for any other. */
export function inRecoveryS(config: ExtractorConfig): number {
  return config.decideInRecovery === true ? recoveryWindowsS(config) : 0;
}

/** Why `decideInRecovery` cannot hold with these settings, or null. */
export function inRecoveryIssue(config: Partial<ExtractorConfig>): string | null {
  if (config.decideInRecovery !== true) return null;
  if (!((config.recoveryWindowS ?? 0) > 0)) return 'decideInRecovery needs recovery windows (recoveryWindowS > 0)';
  if (config.decideInExposure === true) return 'decideInRecovery and decideInExposure exclude each other';
  if (config.wholeSample === true) return 'decideInRecovery cannot have the whole-sample family';
  return null;
}

/** Seconds of recovery the recovery windows cover (0 without them). */
export function recoveryWindowsS(config: ExtractorConfig): number {
  return recoveryWindowsOf(config) * (config.recoveryWindowS ?? 0);
}

export const GAS_FEATURES = ['ss', 'peak', 'area', 'slope'] as const;

export const RESPONSE_FRACTIONAL = 0;
export const RESPONSE_RELATIVE = 1;
export const RESPONSE_LOG = 2;

/** The response of a reading `v` against its baseline `r0` (RESPONSE_FRACTIONAL, _RELATIVE or _LOG). */
export function responseOf(kind: number, v: number, r0: number): number {
  return kind === RESPONSE_FRACTIONAL ? (v - r0) / r0 : kind === RESPONSE_RELATIVE ? v / r0 : Math.log(v / r0);
}

/** Feature names in the order `extract` writes them: per gas channel, then per environment channel. */
export function featureNames(channels: readonly string[], config: ExtractorConfig): string[] {
  const names: string[] = [];
  const windows = windowsOf(config);
  const rWindows = recoveryWindowsOf(config);
  const bWindows = baselineWindowsOf(config);
  const summary = config.summaryFeatures ?? true;
  for (const ch of channels) {
    if (isEnvironmentChannel(ch)) continue;
    for (let j = 1; j <= bWindows; j++) names.push(`${ch}:bwin${j}`);
    if (summary) {
      for (const f of GAS_FEATURES) names.push(`${ch}:${f}`);
      for (const a of config.emaAlphas) names.push(`${ch}:ema${a}`);
    }
    for (let j = 1; j <= windows; j++) names.push(`${ch}:win${j}`);
    for (let j = 1; j <= rWindows; j++) names.push(`${ch}:rwin${j}`);
  }
  for (const ch of channels) {
    if (!isEnvironmentChannel(ch)) continue;
    names.push(`${ch}:mean`, `${ch}:delta`);
    for (let j = 1; j <= windows; j++) names.push(`${ch}:dwin${j}`);
    for (let j = 1; j <= rWindows; j++) names.push(`${ch}:drwin${j}`);
  }
  return names;
}
