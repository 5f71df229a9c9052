import { describe, expect, it } from 'vitest';
import { EnoseError } from '../../src/errors.js';
import { Rng, createRng, hashKeys, inverseNormalCdf } from '../../src/sim/random.js';

function draws(rng: Rng, n: number): number[] {
  return Array.from({ length: n }, () => rng.nextUint32());
}

describe('seeded random streams', () => {
  it('gives the same sequence for the same seed and keys, and another for other keys', () => {
    const a = draws(createRng(7, 'container', 3, 'label'), 20);
    const b = draws(createRng(7, 'container', 3, 'label'), 20);
    expect(a).toEqual(b);
    expect(draws(createRng(8, 'container', 3, 'label'), 20)).not.toEqual(a);
    expect(draws(createRng(7, 'container', 4, 'label'), 20)).not.toEqual(a);
    expect(draws(createRng(7, 'container', 3, 'labels'), 20)).not.toEqual(a);
    // A number key and the string of the same digits are different streams.
    expect(hashKeys(7, [1])).not.toBe(hashKeys(7, ['1']));
    // Seeds above 2^32 use their high half too.
    expect(hashKeys(2 ** 32 + 5, [])).not.toBe(hashKeys(5, []));
  });

  it('rejects a seed that is not a safe integer', () => {
    expect(() => createRng(1.5)).toThrow(EnoseError);
    expect(() => createRng(Number.NaN)).toThrow(EnoseError);
  });

  it('draws uniform floats in [0, 1) with the right mean', () => {
    const rng = createRng(1, 'u');
    let sum = 0;
    let min = 1;
    let max = 0;
    const n = 100_000;
    for (let i = 0; i < n; i++) {
      const u = rng.float();
      sum += u;
      if (u < min) min = u;
      if (u > max) max = u;
    }
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    expect(Math.abs(sum / n - 0.5)).toBeLessThan(0.005);
  });

  it('draws normal deviates with mean 0 and sd 1 (Box-Muller and the fast table)', () => {
    for (const fast of [false, true]) {
      const rng = createRng(2, 'n', fast ? 'fast' : 'exact');
      const n = 200_000;
      let s = 0;
      let s2 = 0;
      let beyond2 = 0;
      for (let i = 0; i < n; i++) {
        const z = fast ? rng.fastNormal() : rng.normal();
        s += z;
        s2 += z * z;
        if (Math.abs(z) > 2) beyond2++;
      }
      const mean = s / n;
      const sd = Math.sqrt(s2 / n - mean * mean);
      expect(Math.abs(mean)).toBeLessThan(0.01);
      expect(Math.abs(sd - 1)).toBeLessThan(0.01);
      // P(|z| > 2) = 0.0455 for a normal.
      expect(Math.abs(beyond2 / n - 0.0455)).toBeLessThan(0.003);
    }
  });

  it('inverts the normal CDF at known quantiles', () => {
    expect(inverseNormalCdf(0.5)).toBeCloseTo(0, 9);
    expect(inverseNormalCdf(0.975)).toBeCloseTo(1.959963985, 7);
    expect(inverseNormalCdf(0.001)).toBeCloseTo(-3.090232306, 7);
  });

  it('draws log-normal values around the median and Poisson counts around the mean', () => {
    const rng = createRng(3, 'ln');
    const xs = Array.from({ length: 20_001 }, () => rng.logNormal(50, 3)).sort((p, q) => p - q);
    expect(xs[10_000]).toBeGreaterThan(46);
    expect(xs[10_000]).toBeLessThan(54);
    for (const mean of [0.3, 4, 80]) {
      let s = 0;
      const n = 20_000;
      for (let i = 0; i < n; i++) s += rng.poisson(mean);
      expect(Math.abs(s / n - mean)).toBeLessThan(0.05 * mean + 0.02);
    }
  });

  it('saves and restores its state', () => {
    const rng = createRng(4, 's');
    rng.nextUint32();
    const st = new Int32Array(4);
    rng.saveState(st);
    const ahead = draws(rng, 5);
    rng.loadState(st);
    expect(draws(rng, 5)).toEqual(ahead);
  });
});
