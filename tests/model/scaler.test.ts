import { describe, expect, it } from 'vitest';
import { applyScaler, fitScaler } from '../../src/model/runtime/scaler.js';
import { gaussian, mulberry32 } from '../helpers/synthetic.js';

describe('fitScaler', () => {
  it('gives the means and population deviations of the plain row-by-row loops bit for bit, for every remainder of rows (4)', () => {
    const normal = gaussian(mulberry32(17));
    for (const count of [1, 2, 3, 4, 5, 6, 7, 8, 9, 101]) {
      const width = 5;
      // Large offsets, as raw sensor resistances have: the two-pass variance must not lose them.
      const x = Float64Array.from({ length: count * width }, (_, i) => 4e4 * (i % width) + normal() * 10 ** (i % 3));
      const mean = new Float64Array(width);
      for (let i = 0; i < count; i++) for (let j = 0; j < width; j++) mean[j]! += x[i * width + j]!;
      for (let j = 0; j < width; j++) mean[j]! /= count;
      const variance = new Float64Array(width);
      for (let i = 0; i < count; i++) {
        for (let j = 0; j < width; j++) {
          const d = x[i * width + j]! - mean[j]!;
          variance[j]! += d * d;
        }
      }
      const s = fitScaler(x, count, width);
      expect(s.mean, `${count} rows`).toEqual(Array.from(mean));
      expect(s.scale, `${count} rows`).toEqual(Array.from(variance, (v) => (Math.sqrt(v / count) > 0 ? Math.sqrt(v / count) : 1)));
      const z = applyScaler(s, x, count, width);
      for (let i = 0; i < count * width; i++) expect(z[i]).toBe((x[i]! - s.mean[i % width]!) / s.scale[i % width]!);
    }
  });
});
