/**
 * Numbers read straight from bytes, without a string per number. A scanner reports where it stopped in its
 * own `end` field (a cursor the decoder owns and reuses), so a hot loop gets two results from one call
 * without allocating and without module-level state.
 */

import { latin1 } from './text.js';

/** Exact powers of ten for Clinger's fast path (10^22 is the largest a double holds exactly). */
export const POW10 = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];

/** What a scan returns for "no number here" (a valid reading is finite or NaN, never +Infinity). */
export const NOT_A_NUMBER = Infinity;

export class NumberScanner {
  /** Where the last `number` or `uint32` stopped (the first byte it did not take). */
  end = 0;

  /**
   * Reads `[+-]?(d+(.d*)?|.d+)([eE][+-]?d+)?` or `nan` from `buf[s..e)`, stopping at the first byte that
   * does not fit (the caller checks that a delimiter is there: `end`). Returns NOT_A_NUMBER when there
   * is no number or it overflows a double. Up to 15 significant digits and a decimal exponent within ±22
   * take Clinger's exact fast path (one correctly rounded multiply or divide; Clinger 1990, "How to read
   * floating point numbers accurately"); anything longer goes through Number(), so that the result is
   * always the double nearest to the text.
   */
  number(buf: Uint8Array, s: number, e: number): number {
    let i = s;
    let b = buf[i];
    if (b === 0x6e) {
      if (i + 2 < e && buf[i + 1] === 0x61 && buf[i + 2] === 0x6e) {
        this.end = i + 3;
        return NaN;
      }
      return NOT_A_NUMBER;
    }
    let neg = false;
    if (b === 0x2d) {
      neg = true;
      i++;
    } else if (b === 0x2b) i++;
    let mant = 0;
    let sig = 0;
    let digits = 0;
    let exp10 = 0;
    let d = 0;
    while (i < e) {
      d = buf[i] - 0x30;
      if (d < 0 || d > 9) break;
      if (sig > 0 || d !== 0) {
        mant = mant * 10 + d;
        sig++;
      }
      digits++;
      i++;
    }
    if (i < e && buf[i] === 0x2e) {
      i++;
      while (i < e) {
        d = buf[i] - 0x30;
        if (d < 0 || d > 9) break;
        if (sig > 0 || d !== 0) {
          mant = mant * 10 + d;
          sig++;
        }
        exp10--;
        digits++;
        i++;
      }
    }
    if (digits === 0) return NOT_A_NUMBER;
    if (i < e && (buf[i] === 0x65 || buf[i] === 0x45)) {
      i++;
      let eneg = false;
      if (i < e && (buf[i] === 0x2d || buf[i] === 0x2b)) {
        eneg = buf[i] === 0x2d;
        i++;
      }
      let ex = 0;
      let edigits = 0;
      while (i < e) {
        d = buf[i] - 0x30;
        if (d < 0 || d > 9) break;
        if (ex < 100000) ex = ex * 10 + d;
        edigits++;
        i++;
      }
      if (edigits === 0) return NOT_A_NUMBER;
      exp10 += eneg ? -ex : ex;
    }
    this.end = i;
    if (sig <= 15 && exp10 >= -22 && exp10 <= 22) {
      const v = exp10 < 0 ? mant / POW10[-exp10] : mant * POW10[exp10];
      return neg ? -v : v;
    }
    if (sig === 0) return neg ? -0 : 0;
    const v = Number(latin1(buf, s, i));
    // Beyond the range of a double is not a reading.
    return Number.isFinite(v) ? v : NOT_A_NUMBER;
  }

  /** A whole field `buf[s..e)` as a number, or NOT_A_NUMBER. */
  field(buf: Uint8Array, s: number, e: number): number {
    const v = this.number(buf, s, e);
    return v !== NOT_A_NUMBER && this.end === e ? v : NOT_A_NUMBER;
  }

  /** Decimal digits (1 to 10 of them, at most 4294967295) from `buf[s..e)`, stopping at a non-digit; -1 for none. */
  uint32(buf: Uint8Array, s: number, e: number): number {
    let v = 0;
    let i = s;
    while (i < e) {
      const d = buf[i] - 0x30;
      if (d < 0 || d > 9) break;
      v = v * 10 + d;
      i++;
    }
    this.end = i;
    return i === s || i - s > 10 || v > 0xffffffff ? -1 : v;
  }
}
