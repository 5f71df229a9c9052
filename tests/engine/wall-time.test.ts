/** The verdict's wall-time formatter writes what `Date.prototype.toISOString` writes, for any time a Date holds. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IsoTimeFormatter } from '../../src/engine/wallTime.js';

describe('IsoTimeFormatter', () => {
  it('equals toISOString on any time, in any order (fast-check)', () => {
    const f = new IsoTimeFormatter();
    fc.assert(
      fc.property(
        fc.oneof(fc.double({ min: -8.64e15, max: 8.64e15, noNaN: true }), fc.integer({ min: 1.7e12, max: 1.9e12 }), fc.constantFrom(0, -0, -1, 999, 1000, -999.5, 8.64e15, -8.64e15, 253402300799999, 253402300800000, -62167219200001)),
        (ms) => {
          expect(f.format(ms)).toBe(new Date(ms).toISOString());
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('follows a clock within one second and across seconds', () => {
    const f = new IsoTimeFormatter();
    for (let ms = 1_765_000_000_000 - 1500; ms < 1_765_000_000_000 + 2500; ms += 7.3) expect(f.format(ms)).toBe(new Date(ms).toISOString());
  });

  it('throws as toISOString does for a time a Date cannot hold', () => {
    const f = new IsoTimeFormatter();
    for (const bad of [Number.NaN, Infinity, -Infinity, 8.64e15 + 1]) expect(() => f.format(bad)).toThrow(RangeError);
  });
});
