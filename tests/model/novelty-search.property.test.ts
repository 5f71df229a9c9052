/**
 * The novelty limit's early-stopping nearest-sample search (src/model/runtime/novelty.ts: the k-d tree of knn.ts, pruned
 * at twice the limit, or the scan with early exit) against brute force, under fast-check: any point count on
 * either side of the tree's threshold, any dimension, clustered and duplicated points, queries on a point, near
 * one, between clusters or far away, and limits set exactly at the nearest distance. The score (and so the
 * verdict's novelty reason and the reported `quality.novelty`) must be the brute-force value, bit for bit.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nearestDistance, NOVELTY_CEILING, noveltyOfDistance, noveltyScore, prepareNearest } from '../../src/model/runtime/novelty.js';
import { gaussian, mulberry32 } from '../helpers/synthetic.js';

function bruteDistance(points: Float64Array, count: number, k: number, q: Float64Array): number {
  let best = Infinity;
  for (let i = 0; i < count; i++) {
    let s = 0;
    for (let j = 0; j < k; j++) {
      const d = points[i * k + j]! - q[j]!;
      s += d * d;
    }
    if (s < best) best = s;
  }
  return Math.sqrt(best);
}

describe('novelty search: early stopping gives the brute-force answer (fast-check)', () => {
  it('score, bounded distance and decision equal a full scan for any points, query and limit', () => {
    fc.assert(
      fc.property(
        fc.record({
          count: fc.integer({ min: 1, max: 900 }),
          k: fc.integer({ min: 1, max: 24 }),
          clusters: fc.integer({ min: 1, max: 6 }),
          duplicates: fc.boolean(),
          seed: fc.integer({ min: 1, max: 1 << 30 }),
          queryKind: fc.constantFrom('on-point', 'near-point', 'random', 'far'),
          limitKind: fc.constantFrom('at-distance', 'half', 'double', 'random'),
        }),
        ({ count, k, clusters, duplicates, seed, queryKind, limitKind }) => {
          const rand = mulberry32(seed);
          const normal = gaussian(rand);
          const centres = Array.from({ length: clusters }, () => Array.from({ length: k }, () => 5 * normal()));
          const points = new Float64Array(count * k);
          for (let i = 0; i < count; i++) {
            const from = duplicates && i > 0 && rand() < 0.3 ? Math.floor(rand() * i) : -1;
            const c = centres[i % clusters]!;
            for (let j = 0; j < k; j++) points[i * k + j] = from >= 0 ? points[from * k + j]! : c[j]! + normal() * (j < 3 ? 1 : 0.2);
          }
          prepareNearest(points, count, k);
          const q = new Float64Array(k);
          const p = Math.floor(rand() * count);
          for (let j = 0; j < k; j++) {
            const base = points[p * k + j]!;
            q[j] = queryKind === 'on-point' ? base : queryKind === 'near-point' ? base + 0.05 * normal() : queryKind === 'random' ? 4 * normal() : base + 40 * normal();
          }
          const exact = bruteDistance(points, count, k, q);
          const threshold = limitKind === 'at-distance' ? exact : limitKind === 'half' ? exact / 2 : limitKind === 'double' ? 2 * exact : 3 * rand();
          const score = noveltyScore(points, count, k, q, threshold);
          const expected = threshold > 0 ? Math.min(exact / threshold, NOVELTY_CEILING) : exact === 0 ? 0 : NOVELTY_CEILING;
          if (!Object.is(score, expected) || score !== noveltyOfDistance(exact, threshold)) return false;
          if (score > 1 !== (threshold > 0 ? exact > threshold : exact > 0)) return false;
          if (nearestDistance(points, count, k, q) !== exact) return false;
          for (const within of [exact, exact / 3, threshold * NOVELTY_CEILING]) if (nearestDistance(points, count, k, q, within) !== Math.min(exact, within)) return false;
          return true;
        },
      ),
      { numRuns: 400 },
    );
  });

  it('a query exactly at the limit is not novel; one a hair beyond it is', () => {
    const rand = mulberry32(3);
    const points = Float64Array.from({ length: 2000 * 20 }, () => rand() * 10);
    expect(prepareNearest(points, 2000, 20)).not.toBeNull();
    const q = Float64Array.from({ length: 20 }, () => rand() * 10 + 3);
    const exact = bruteDistance(points, 2000, 20, q);
    expect(noveltyScore(points, 2000, 20, q, exact)).toBe(1);
    expect(noveltyScore(points, 2000, 20, q, exact * (1 - 1e-12))).toBeGreaterThan(1);
  });
});
