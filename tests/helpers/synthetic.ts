/** Seeded synthetic feature tables for unit tests (Gaussian clusters around random class centres). */
import type { FeatureTable } from '../../src/types.js';

import { mulberry32 } from '../../src/model/numeric/rng.js';

export { mulberry32 };

export function gaussian(rand: () => number): () => number {
  return () => {
    const u = 1 - rand();
    const v = rand();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
}

export interface ClusterOptions {
  readonly seed: number;
  readonly classes: readonly string[];
  readonly perClass: number;
  readonly width: number;
  /** Distance of class centres from the origin, in noise standard deviations. */
  readonly separation: number;
  /** Per-feature scale and offset, to exercise the scaler. */
  readonly scale?: number;
  readonly offset?: number;
}

export function makeClusters(o: ClusterOptions): FeatureTable {
  const rand = mulberry32(o.seed);
  const normal = gaussian(rand);
  const centres = o.classes.map(() => Array.from({ length: o.width }, () => normal() * o.separation));
  const count = o.classes.length * o.perClass;
  const x = new Float64Array(count * o.width);
  const labels: string[] = [];
  let row = 0;
  for (let i = 0; i < o.perClass; i++) {
    for (let c = 0; c < o.classes.length; c++) {
      for (let j = 0; j < o.width; j++) {
        x[row * o.width + j] = (centres[c]![j]! + normal()) * (o.scale ?? 1) * (j + 1) + (o.offset ?? 0) * j;
      }
      labels.push(o.classes[c]!);
      row++;
    }
  }
  return {
    source: 'synthetic',
    featureNames: Array.from({ length: o.width }, (_, j) => `x${j + 1}`),
    width: o.width,
    count,
    x,
    labels,
    samples: labels.map((_, i) => `s${i}`),
    groups: labels.map(() => 'synthetic'),
  };
}
