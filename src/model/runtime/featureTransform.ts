/** The per-feature transform applied before the scaler, at fit time and at prediction time alike. */
import type { FeatureTable } from '../../types.js';

export type FeatureTransform = 'none' | 'signed-log';
export const TRANSFORMS: readonly FeatureTransform[] = ['none', 'signed-log'];

/** sign(x) ln(1 + |x|): compresses heavy-tailed features (resistance changes spanning decades). */
export function signedLog(x: number): number {
  return x < 0 ? -Math.log1p(-x) : Math.log1p(x);
}

/** `signedLog` of `n` values of `src` from `srcOffset` into `dst[0 .. n)`. */
export function signedLogInto(src: Float64Array, srcOffset: number, n: number, dst: Float64Array): void {
  for (let j = 0; j < n; j++) dst[j] = signedLog(src[srcOffset + j]);
}

export function transformTable(table: FeatureTable, transform: FeatureTransform): FeatureTable {
  if (transform === 'none') return table;
  return { ...table, x: table.x.map(signedLog) };
}
