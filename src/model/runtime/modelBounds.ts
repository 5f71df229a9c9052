/**
 * A model's settings checked for meaning, not only shape: every extractor, policy and quality-gate setting within
 * stated bounds, so that a file whose hash was recomputed cannot ask the engine for gigabytes, crash it, or
 * judge with settings no training run makes. The bounds are generous: the shipped models and every model
 * `enose train` makes lie well inside them (docs/signed-models.md lists them).
 */
/** Sizes no model comes near; the zod schema (src/model/runtime/bundle.ts) bounds every array with them. */
export const MODEL_BOUNDS = Object.freeze({
  /** Features of one sample (the shipped models: 220 and 112). */
  maxFeatures: 65_536,
  /** Numbers in one array (points of a kNN or novelty limit, PCA axes, MLP weights): 128 MB as doubles. */
  maxNumbers: 16 * 1024 * 1024,
  maxChannels: 1024,
  maxClasses: 1024,
  maxNeighbours: 10_000,
  maxNetworks: 64,
  maxLayers: 16,
  maxSources: 100_000,
  /** A class, channel or feature name. */
  maxNameLength: 1000,
  maxTextLength: 100_000,
});

/** Bounds of the stream-v1 extractor's settings (src/signal/extractorConfig.ts documents what each does). */
export const EXTRACTOR_BOUNDS = Object.freeze({
  /** Any duration setting, s (an hour: exposures last seconds to minutes). */
  maxDurationS: 3600,
  /** A window shorter than this holds no frame at any rig rate the engine takes. */
  minWindowS: 0.1,
  maxWindowCount: 64,
  /** Frame buffers: 262,144 frames are 44 minutes at 100 Hz, 2 MB a channel. */
  maxFrames: 262_144,
  minSlopeWindowS: 0.01,
  maxSlopeWindowS: 600,
  maxEmaAlphas: 16,
  maxReferenceRateHz: 100_000,
});

/** The parts of a model bundle the meaning check reads (structural, so that bundle.ts can call it). */
export interface MeaningInput {
  readonly input: { readonly kind: string; readonly channels?: readonly string[]; readonly extractor?: Readonly<Record<string, unknown>> };
  readonly classes: readonly string[];
  readonly policy: { readonly rule: string; readonly labels: readonly string[] } | null;
  readonly limits: {
    readonly environment: Readonly<Record<string, { readonly min: number; readonly max: number }>>;
    readonly exposureS: { readonly min: number; readonly max: number } | null;
    readonly gates: Readonly<Record<string, number>> | null;
    readonly cycle: Readonly<Record<string, number>> | null;
    readonly channels?: Readonly<Record<string, { readonly low: number; readonly high: number }>> | undefined;
  } | null;
}

type Check = (value: unknown) => boolean;
const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const within = (lo: number, hi: number): Check => (v) => num(v) && v >= lo && v <= hi;
const above = (lo: number, hi: number): Check => (v) => num(v) && v > lo && v <= hi;
const integer = (lo: number, hi: number): Check => (v) => num(v) && Number.isInteger(v) && v >= lo && v <= hi;
/** 0 (off) or a window length. */
const windowS: Check = (v) => v === 0 || within(EXTRACTOR_BOUNDS.minWindowS, EXTRACTOR_BOUNDS.maxDurationS)(v);
const E = EXTRACTOR_BOUNDS;

/** Each stream-v1 setting: its check and the bound as the refusal states it. */
const EXTRACTOR_SETTINGS: Readonly<Record<string, readonly [Check, string]>> = {
  method: [(v) => v === 'stream-v1', '"stream-v1"'],
  response: [(v) => v === 'fractional' || v === 'relative' || v === 'log', 'fractional, relative or log'],
  steadyStateShare: [above(0, 1), 'in (0, 1]'],
  steadyStateS: [within(0, E.maxDurationS), `in [0, ${E.maxDurationS}] s`],
  maxExposureFrames: [integer(1, E.maxFrames), `an integer in [1, ${E.maxFrames}]`],
  slopeWindowS: [within(E.minSlopeWindowS, E.maxSlopeWindowS), `in [${E.minSlopeWindowS}, ${E.maxSlopeWindowS}] s`],
  emaAlphas: [(v) => Array.isArray(v) && v.length <= E.maxEmaAlphas && v.every(above(0, 1)), `at most ${E.maxEmaAlphas} numbers in (0, 1]`],
  referenceRateHz: [above(0, E.maxReferenceRateHz), `in (0, ${E.maxReferenceRateHz}] Hz`],
  baselineS: [within(0, E.maxDurationS), `in [0, ${E.maxDurationS}] s`],
  maxBaselineFrames: [integer(1, E.maxFrames), `an integer in [1, ${E.maxFrames}]`],
  windowS: [windowS, `0 or in [${E.minWindowS}, ${E.maxDurationS}] s`],
  windowCount: [integer(1, E.maxWindowCount), `an integer in [1, ${E.maxWindowCount}]`],
  summaryFeatures: [(v) => typeof v === 'boolean', 'true or false'],
  decideInExposure: [(v) => typeof v === 'boolean', 'true or false'],
  decideInRecovery: [(v) => typeof v === 'boolean', 'true or false'],
  recoveryWindowS: [windowS, `0 or in [${E.minWindowS}, ${E.maxDurationS}] s`],
  recoveryWindowCount: [integer(1, E.maxWindowCount), `an integer in [1, ${E.maxWindowCount}]`],
  baselineWindowS: [windowS, `0 or in [${E.minWindowS}, ${E.maxDurationS}] s`],
  baselineWindowCount: [integer(1, E.maxWindowCount), `an integer in [1, ${E.maxWindowCount}]`],
  wholeSample: [(v) => typeof v === 'boolean', 'true or false'],
  wholeFirstS: [above(0, E.maxDurationS), `in (0, ${E.maxDurationS}] s`],
  wholeLastS: [above(0, E.maxDurationS), `in (0, ${E.maxDurationS}] s`],
  dropChannels: [(v) => Array.isArray(v) && v.every((c) => typeof c === 'string'), 'a list of channel names'],
};

const show = (v: unknown) => {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
};

function extractorIssue(extractor: Readonly<Record<string, unknown>>, channels: readonly string[]): string | null {
  for (const [key, value] of Object.entries(extractor)) {
    const setting = EXTRACTOR_SETTINGS[key];
    if (!setting) return `unknown extractor setting ${show(key)}`;
    if (value !== undefined && !setting[0](value)) return `extractor setting ${key} is ${show(value)}, expected ${setting[1]}`;
  }
  for (const [s, count, fallback] of [
    ['windowS', 'windowCount', 6],
    ['recoveryWindowS', 'recoveryWindowCount', 6],
    ['baselineWindowS', 'baselineWindowCount', 3],
  ] as const) {
    const total = ((extractor[s] as number | undefined) ?? 0) * ((extractor[count] as number | undefined) ?? fallback);
    if (total > E.maxDurationS) return `extractor windows ${s} x ${count} cover ${total} s, more than ${E.maxDurationS} s`;
  }
  // Whether decideInExposure and decideInRecovery fit the other settings is the extractor's rule
  // (signal/extractorConfig.ts inExposureIssue, inRecoveryIssue), which the engine applies to every model it is
  // given (engine/modelExtractor.ts).
  const unknown = ((extractor['dropChannels'] as string[] | undefined) ?? []).find((c) => !channels.includes(c));
  return unknown === undefined ? null : `extractor setting dropChannels names ${show(unknown)}, not one of the model's channels`;
}

/** Which classes a policy makes suspicious (src/model/runtime/policy.ts isSuspiciousLabel, read on the data). */
function suspiciousClasses(policy: NonNullable<MeaningInput['policy']>, classes: readonly string[]): string[] {
  return classes.filter((c) => policy.labels.includes(c) === (policy.rule === 'suspicious-listed'));
}

function policyIssue(b: MeaningInput, allowNoSuspiciousClass: boolean): string | null {
  const policy = b.policy;
  if (!policy) return null;
  const unknown = policy.labels.find((l) => !b.classes.includes(l));
  if (unknown !== undefined) return `policy label ${show(unknown)} is not one of the model's classes (${b.classes.join(', ')})`;
  if (new Set(policy.labels).size !== policy.labels.length) return 'policy labels are not unique';
  if (suspiciousClasses(policy, b.classes).length === 0 && !allowNoSuspiciousClass) {
    return 'its policy makes no class suspicious, so it would clear every container (accepted only with --allow-no-suspicious-class)';
  }
  return null;
}

const range = (r: { min: number; max: number } | { low: number; high: number }) => ('min' in r ? r.min <= r.max : r.low <= r.high);
const SHARES = ['maxRailShare', 'maxNanShare', 'spikeShare', 'maxLostShare'];

function limitsIssue(limits: NonNullable<MeaningInput['limits']>): string | null {
  for (const [ch, r] of Object.entries(limits.environment)) if (!range(r)) return `limits: the environment range of ${show(ch)} has min above max`;
  if (limits.exposureS && (!range(limits.exposureS) || limits.exposureS.min < 0)) return 'limits: the exposure range is not a range of durations';
  for (const [ch, r] of Object.entries(limits.channels ?? {})) if (!range(r)) return `limits: channel ${show(ch)} has its low limit above its high one`;
  for (const [key, v] of [...Object.entries(limits.gates ?? {}), ...Object.entries(limits.cycle ?? {})]) {
    if (key === 'railLow' || key === 'railHigh') continue;
    if (SHARES.includes(key) ? !within(0, 1)(v) : !(num(v) && v >= 0)) return `limits: ${key} is ${show(v)}, expected ${SHARES.includes(key) ? 'a share in [0, 1]' : 'a number >= 0'}`;
  }
  if (limits.gates && !(limits.gates['railLow'] < limits.gates['railHigh'])) return 'limits: railLow is not below railHigh';
  return null;
}

/** The first setting of `b` outside its bounds, as one line; null when all are within them. */
export function checkMeaning(b: MeaningInput, options: { readonly allowNoSuspiciousClass?: boolean } = {}): string | null {
  if (b.input.kind === 'frames' && b.input.extractor) {
    const issue = extractorIssue(b.input.extractor, b.input.channels ?? []);
    if (issue) return issue;
  }
  return policyIssue(b, options.allowNoSuspiciousClass === true) ?? (b.limits ? limitsIssue(b.limits) : null);
}
