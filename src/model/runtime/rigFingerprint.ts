/**
 * What a model knows of the rig it was trained on: the rig's identity (its info line) and a fingerprint of its
 * training data, per gas channel the robust range of the baseline (ln R0) and of the response (the `peak`
 * response, in the model's response kind) over the training cycles. A sensor unit's R0 is its own (MOX units of
 * one type differ by tens of percent, Figaro TGS26xx datasheets), so another rig's baselines fall outside the
 * training ranges on most channels at once, where the same rig's stay inside them (see `src/engine/rigCheck.ts`
 * for the rule and its measurement). Pure data: fitted here, validated by the bundle's zod schema, optional so
 * that older model files load.
 */
import { z } from 'zod';
import type { RigInfo } from '../../types.js';
import { isEnvironmentChannel } from '../../types.js';
import { sortedQuantile } from '../numeric/quantile.js';

/** The low and high quantiles of each range: the 0.5 % tails of the training cycles are left out. */
export const FINGERPRINT_QUANTILE = 0.005;

const finite = z.number().finite();
const rangeSchema = z.object({ low: finite, median: finite, high: finite }).nullable();

export const rigIdentitySchema = z.object({
  /** Protocol of the info line; `file` and `csv` rigs are named after their file, not their hardware. */
  proto: z.string(),
  rig: z.string(),
  fw: z.string(),
  rateHz: finite,
  unit: z.enum(['ohm', 'adc']),
});

export const rigFingerprintSchema = z.object({
  method: z.literal('quantile-range-v1'),
  /** Training cycles the ranges were measured on. */
  cycles: z.number().int().positive(),
  /** Each range spans these quantiles: [quantile, 1 - quantile]. */
  quantile: z.number().min(0).max(0.5),
  /** Where the cycles came from (e.g. the shipped models' sample of their training days). */
  source: z.string(),
  channels: z
    .array(
      z.object({
        channel: z.string(),
        /** ln R0 of the cycles (R0: median of the baseline phase); null when no cycle had a baseline. */
        lnBaseline: rangeSchema,
        /** The response farthest from neutral over the exposure; null when none was finite. */
        response: rangeSchema,
      }),
    )
    .min(1),
});

export const modelRigSchema = z.object({ identity: rigIdentitySchema, fingerprint: rigFingerprintSchema });

export type RigIdentity = z.infer<typeof rigIdentitySchema>;
export type RigFingerprint = z.infer<typeof rigFingerprintSchema>;
export type ModelRig = z.infer<typeof modelRigSchema>;
export type FingerprintRange = NonNullable<RigFingerprint['channels'][number]['lnBaseline']>;

/**
 * Per cycle, the values the fingerprint measures, channel by channel as in `channels`: [ln R0 of each channel,
 * then the peak response of each channel] (NaN for environment channels and missing values). Written by the
 * engine core beside each cycle's features.
 */
export function rigValuesWidth(channels: readonly string[]): number {
  return 2 * channels.length;
}

function rangeOf(values: number[]): FingerprintRange | null {
  const finiteValues = Float64Array.from(values.filter((v) => Number.isFinite(v))).sort();
  if (finiteValues.length === 0) return null;
  return {
    low: sortedQuantile(finiteValues, FINGERPRINT_QUANTILE),
    median: sortedQuantile(finiteValues, 0.5),
    high: sortedQuantile(finiteValues, 1 - FINGERPRINT_QUANTILE),
  };
}

/** The fingerprint of training cycles' rig values (see `rigValuesWidth`), or null without any cycle. */
export function fitRigFingerprint(channels: readonly string[], cycles: readonly ArrayLike<number>[], source: string): RigFingerprint | null {
  if (cycles.length === 0) return null;
  const n = channels.length;
  const out: RigFingerprint['channels'][number][] = [];
  channels.forEach((channel, i) => {
    if (isEnvironmentChannel(channel)) return;
    out.push({ channel, lnBaseline: rangeOf(cycles.map((c) => c[i])), response: rangeOf(cycles.map((c) => c[n + i])) });
  });
  if (out.length === 0) return null;
  return { method: 'quantile-range-v1', cycles: cycles.length, quantile: FINGERPRINT_QUANTILE, source, channels: out };
}

/** The identity a model keeps of a rig's info line. */
export function identityOf(info: RigInfo): RigIdentity {
  return { proto: info.proto, rig: info.rig, fw: info.fw, rateHz: info.rateHz, unit: info.unit };
}

/** A rig named after a file (a replayed CSV, a plain-CSV serial rig) has no name of its own to compare. */
function named(proto: string): boolean {
  return proto !== 'file' && proto !== 'csv';
}

/**
 * Why the rig of `info` is not the model's rig by its identity, or null when nothing says so: another unit or
 * frame rate, or another name where both rigs are named (not files). Firmware may differ (an update).
 */
export function identityDifference(model: RigIdentity, info: RigInfo): string | null {
  if (model.unit !== info.unit) return `it reads ${info.unit}, the model's rig ${model.unit}`;
  if (model.rateHz !== info.rateHz) return `it runs at ${info.rateHz} Hz, the model's rig at ${model.rateHz} Hz`;
  if (named(model.proto) && named(info.proto) && model.rig !== info.rig) return `it is rig ${info.rig}, the model was trained on rig ${model.rig}`;
  return null;
}
