/**
 * A verdict's `wallTime` (ISO 8601, as `Date.prototype.toISOString` writes it) without building a Date and its
 * string for every verdict: the text up to the seconds is kept for the last second seen, and only the
 * milliseconds are written anew (about 1 us of the shipped models' verdict path went to `toISOString`), from a table.
 */
export class IsoTimeFormatter {
  private second = Number.NaN;
  /** `YYYY-MM-DDTHH:mm:ss.` of `second` (a longer year where toISOString writes one). */
  private prefix = '';

  /** `new Date(ms).toISOString()`, the same string (and the same RangeError for a time a Date cannot hold). */
  format(ms: number): string {
    const t = Math.trunc(ms);
    if (!(Math.abs(t) <= 8.64e15)) return new Date(ms).toISOString();
    const second = Math.floor(t / 1000);
    if (second !== this.second) {
      const iso = new Date(t).toISOString();
      this.prefix = iso.slice(0, iso.length - 4);
      this.second = second;
    }
    return this.prefix + MILLIS[t - second * 1000];
  }
}

/** `000Z` to `999Z`, built once: a verdict's time is then one concatenation (no number written as text, no padding). */
const MILLIS: readonly string[] = Array.from({ length: 1000 }, (_, m) => `${String(m).padStart(3, '0')}Z`);
