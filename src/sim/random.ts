/**
 * Seeded random numbers for the simulator: sfc32 (Chris Doty-Humphrey's Small Fast Counting generator, as
 * in PractRand) seeded by splitmix32 from a hash of a seed and a list of keys. Every part of the simulator
 * draws from its own named sub-stream (`createRng(seed, 'container', day, k)`), so adding a feature or a
 * draw in one stream never shifts the numbers of another.
 */

import { EnoseError } from '../errors.js';

/** A key of a sub-stream: a name or an integer index. */
export type StreamKey = string | number;

const TWO_POW_32 = 4294967296;

/** 32-bit finaliser of MurmurHash3 (Appleby): a bijective avalanche mix. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function mixWord(h: number, word: number): number {
  return fmix32((h ^ (word >>> 0)) + 0x9e3779b9 + ((h << 6) >>> 0) + (h >>> 2));
}

/** Hashes a seed and keys to 32 bits; strings by UTF-16 code units, numbers by their two 32-bit halves. */
export function hashKeys(seed: number, keys: readonly StreamKey[]): number {
  if (!Number.isSafeInteger(seed)) {
    throw new EnoseError('bad-option', `seed must be a safe integer, got ${String(seed)}`);
  }
  let h = 0x12345678;
  h = mixWord(h, seed >>> 0);
  h = mixWord(h, Math.floor(seed / TWO_POW_32) >>> 0);
  for (const key of keys) {
    if (typeof key === 'number') {
      if (!Number.isSafeInteger(key)) throw new EnoseError('bad-option', `stream key must be an integer, got ${key}`);
      h = mixWord(h, 0x6e756d00); // tag: number, so 1 and '1' differ
      h = mixWord(h, key >>> 0);
      h = mixWord(h, Math.floor(key / TWO_POW_32) >>> 0);
    } else {
      h = mixWord(h, 0x73747200 + (key.length & 0xff)); // tag: string
      for (let i = 0; i < key.length; i++) h = mixWord(h, key.charCodeAt(i));
    }
  }
  return h;
}

/** splitmix32 step (a 32-bit variant of Steele, Lea and Flood's SplitMix): used only to seed sfc32. */
function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) >>> 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** Inverse of the standard normal CDF (Acklam's rational approximation, relative error below 1.2e-9). */
export function inverseNormalCdf(p: number): number {
  if (!(p > 0 && p < 1)) throw new EnoseError('bad-option', `inverseNormalCdf needs 0 < p < 1, got ${p}`);
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const pLow = 0.02425;
  if (p < pLow) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - pLow) {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    return -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/**
 * Normal deviates for the per-frame noise: the inverse CDF at the midpoints of 65,536 equal-probability
 * bins, so one 32-bit draw gives two deviates by table look-up. Tails are cut at about +-4.3 sd, which is
 * harmless for sensor noise and keeps the hot loop free of log/sqrt/cos.
 */
export const NORMAL_TABLE: Float64Array = (() => {
  const n = 65536;
  const table = new Float64Array(n);
  for (let i = 0; i < n; i++) table[i] = inverseNormalCdf((i + 0.5) / n);
  // Rescale so the table's own variance is exactly 1 (the cut tails would otherwise shrink it slightly).
  let s2 = 0;
  for (let i = 0; i < n; i++) s2 += table[i] * table[i];
  const k = 1 / Math.sqrt(s2 / n);
  for (let i = 0; i < n; i++) table[i] *= k;
  return table;
})();

/** A seeded sfc32 generator. Not cryptographic; deterministic across platforms (32-bit integer arithmetic). */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare = 0;
  private hasSpare = false;

  constructor(seed32: number) {
    const st = { s: seed32 >>> 0 };
    this.a = splitmix32(st);
    this.b = splitmix32(st);
    this.c = splitmix32(st);
    this.d = 1; // the counter starts at 1 and 12 rounds are discarded, as PractRand seeds sfc32
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  /** Copies the generator state out (for hot loops that inline the generator; see simulate.ts). */
  saveState(out: Int32Array): void {
    out[0] = this.a;
    out[1] = this.b;
    out[2] = this.c;
    out[3] = this.d;
  }

  /** Restores a state written by saveState (and advanced by the same algorithm). */
  loadState(state: Int32Array): void {
    this.a = state[0];
    this.b = state[1];
    this.c = state[2];
    this.d = state[3];
    this.hasSpare = false;
  }

  /** Next uint32. */
  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1) with 32 bits of resolution. */
  float(): number {
    return this.nextUint32() / TWO_POW_32;
  }

  /** Uniform in (0, 1): never 0, safe for logarithms. */
  floatOpen(): number {
    return (this.nextUint32() + 0.5) / TWO_POW_32;
  }

  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.float();
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  /** Standard normal by Box-Muller (exact; for per-cycle draws, not the per-frame noise). */
  normal(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spare;
    }
    const u = this.floatOpen();
    const v = this.float();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    this.hasSpare = true;
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Log-normal with the given median and geometric standard deviation (gsd >= 1). */
  logNormal(median: number, gsd: number): number {
    return median * Math.exp(Math.log(gsd) * this.normal());
  }

  /** Poisson count (Knuth's product method for small means, normal approximation above 30). */
  poisson(mean: number): number {
    if (mean <= 0) return 0;
    if (mean > 30) return Math.max(0, Math.round(mean + Math.sqrt(mean) * this.normal()));
    const limit = Math.exp(-mean);
    let k = 0;
    let p = this.float();
    while (p > limit) {
      k++;
      p *= this.float();
    }
    return k;
  }

  /**
   * Two table normals from one draw, written to out[i0] and out[i1] multiplied by scales. The hot path of
   * the frame loop: no allocation, no transcendental functions.
   */
  normalPairInto(out: Float64Array, i0: number, i1: number): void {
    const u = this.nextUint32();
    out[i0] = NORMAL_TABLE[u >>> 16];
    out[i1] = NORMAL_TABLE[u & 0xffff];
  }

  /** One table normal (uses a whole 32-bit draw; prefer normalPairInto in loops). */
  fastNormal(): number {
    return NORMAL_TABLE[this.nextUint32() >>> 16];
  }
}

/** A generator for the named sub-stream `keys` of `seed`. */
export function createRng(seed: number, ...keys: StreamKey[]): Rng {
  return new Rng(hashKeys(seed, keys));
}
