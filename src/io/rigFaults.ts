/**
 * The rig emulator's faults: their options, the seeded draws, and the byte and line faults applied to frame lines.
 * Each is seeded and counted in the report; rates are probabilities:
 * `bitflip:p` (per byte of a frame line, its '\n' excepted; a flip never makes a '\n', so one corrupted line
 * stays one line), `drop-byte:p` (per byte, '\n' included), `truncate:p` (per frame line: cut at a random
 * byte, the '\n' kept), `garbage:p` (per frame line: 1 to 32 random bytes inserted at a random place),
 * `repeat-seq:p` (per frame: the line is sent twice), `skip-seq:p` (per frame: a seq number is skipped),
 * `reboot-at:<frame>` (the info line again, seq and t_ms back to 0, a cycle in progress aborted),
 * `disconnect-at:<frame>` (see emulator.ts), `clock-jump:<frame>:<ms>` (t_ms jumps by ms, may be negative),
 * `stall:<frame>:<ms>` (no bytes for ms). `<frame>` counts the frames produced since the start, from 0.
 * Byte and line faults touch frame lines only: info and ack lines go out clean, so that the command
 * round trip stays testable under any fault rate.
 */
import { EnoseError } from '../errors.js';
import { mulberry32 } from '../model/numeric/rng.js';

export const RATE_FAULTS = ['bitflip', 'drop-byte', 'truncate', 'garbage', 'repeat-seq', 'skip-seq'] as const;
export const EVENT_FAULTS = ['reboot-at', 'disconnect-at', 'clock-jump', 'stall'] as const;
export type RateFaultKind = (typeof RATE_FAULTS)[number];
export type EventFaultKind = (typeof EVENT_FAULTS)[number];
export type FaultKind = RateFaultKind | EventFaultKind;

export type FaultSpec =
  | { readonly kind: RateFaultKind; readonly rate: number }
  | { readonly kind: 'reboot-at' | 'disconnect-at'; readonly frame: number }
  | { readonly kind: 'clock-jump' | 'stall'; readonly frame: number; readonly ms: number };

const FAULT_USAGE =
  'bitflip:<p>, drop-byte:<p>, truncate:<p>, garbage:<p>, repeat-seq:<p>, skip-seq:<p>, reboot-at:<frame>, disconnect-at:<frame>, clock-jump:<frame>:<ms>, stall:<frame>:<ms>';

/** Parses fault options (each may hold several, comma-separated); throws `EnoseError('bad-option')`. */
export function parseFaultSpecs(texts: readonly string[]): FaultSpec[] {
  const out: FaultSpec[] = [];
  for (const text of texts) {
    for (const raw of text.split(',')) {
      const item = raw.trim();
      if (item === '') continue;
      const [kind, ...args] = item.split(':');
      const bad = (why: string): EnoseError => new EnoseError('bad-option', `--fault ${item}: ${why} (faults: ${FAULT_USAGE})`);
      const num = (s: string | undefined, what: string): number => {
        const v = Number(s);
        if (s === undefined || s.trim() === '' || !Number.isFinite(v)) throw bad(`${what} is not a number`);
        return v;
      };
      const frame = (s: string | undefined): number => {
        const v = num(s, 'the frame');
        if (!Number.isInteger(v) || v < 0) throw bad('the frame must be an integer >= 0');
        return v;
      };
      if ((RATE_FAULTS as readonly string[]).includes(kind)) {
        if (args.length !== 1) throw bad('give one rate');
        const rate = num(args[0], 'the rate');
        if (rate < 0 || rate > 1) throw bad('the rate is a probability between 0 and 1');
        out.push({ kind: kind as RateFaultKind, rate });
      } else if (kind === 'reboot-at' || kind === 'disconnect-at') {
        if (args.length !== 1) throw bad('give one frame index');
        out.push({ kind, frame: frame(args[0]) });
      } else if (kind === 'clock-jump' || kind === 'stall') {
        if (args.length !== 2) throw bad('give <frame>:<ms>');
        const ms = num(args[1], 'ms');
        if (!Number.isInteger(ms) || (kind === 'stall' && ms <= 0)) throw bad(kind === 'stall' ? 'ms must be a positive integer' : 'ms must be an integer');
        out.push({ kind, frame: frame(args[0]), ms });
      } else {
        throw bad('unknown fault');
      }
    }
  }
  return out;
}

/** FNV-1a (32 bit) of a line's latin1 bytes, as 8 hex digits: the frames log's fingerprint of a clean line. */
export function lineHash(line: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < line.length; i++) {
    h ^= line.charCodeAt(i) & 0xff;
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

/**
 * The model layer's mulberry32 with one stream per fault kind (seeded from a hash of the kind and the seed), so that
 * adding a fault changes no other's draws.
 */
export class Rng {
  readonly next: () => number;
  constructor(seed: number, stream: string) {
    this.next = mulberry32(Number.parseInt(lineHash(`${stream}:${seed}`), 16) >>> 0);
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return p > 0 && this.next() < p;
  }
  /** Failures before the next success of probability p (geometric): bytes to skip to the next faulty one. */
  skip(p: number): number {
    if (p >= 1) return 0;
    if (p <= 0) return Infinity;
    return Math.floor(Math.log(1 - this.next()) / Math.log1p(-p));
  }
}

/** Every fault kind at zero: the report's `injected` before the run. */
export function noFaultsInjected(): Record<FaultKind, number> {
  return {
    bitflip: 0,
    'drop-byte': 0,
    truncate: 0,
    garbage: 0,
    'repeat-seq': 0,
    'skip-seq': 0,
    'reboot-at': 0,
    'disconnect-at': 0,
    'clock-jump': 0,
    stall: 0,
  };
}

/** What the byte and line faults count: the emulator's report fields, updated in place. */
export interface LineFaultCounts {
  corruptedLines: number;
  bitsFlipped: number;
  bytesDropped: number;
  garbageBytes: number;
}

/** The rate faults of one emulator run: their rates, one seeded stream per kind, and where the next flipped and dropped bytes fall. */
export class LineFaults {
  readonly rates: Record<RateFaultKind, number> = { bitflip: 0, 'drop-byte': 0, truncate: 0, garbage: 0, 'repeat-seq': 0, 'skip-seq': 0 };
  readonly rng: Record<RateFaultKind, Rng>;
  private flipSkip: number;
  private dropSkip: number;

  constructor(
    faults: readonly FaultSpec[],
    seed: number,
    private readonly injected: Record<FaultKind, number>,
    private readonly counts: LineFaultCounts,
  ) {
    this.rng = Object.fromEntries(RATE_FAULTS.map((k) => [k, new Rng(seed, k)])) as Record<RateFaultKind, Rng>;
    for (const f of faults) if ('rate' in f) this.rates[f.kind] = f.rate;
    this.flipSkip = this.rng.bitflip.skip(this.rates.bitflip);
    this.dropSkip = this.rng['drop-byte'].skip(this.rates['drop-byte']);
  }

  /** Applies the byte and line faults to one frame line; `kinds` collects the faults that changed it. */
  corrupt(line: string, kinds: string[]): Buffer {
    const rates = this.rates;
    let buf = Buffer.from(line, 'latin1');
    let hit = false;
    if (this.rng.truncate.chance(rates.truncate) && buf.length > 2) {
      const cut = 1 + this.rng.truncate.int(buf.length - 2);
      const cutBuf = Buffer.alloc(cut + 1);
      buf.copy(cutBuf, 0, 0, cut);
      cutBuf[cut] = 0x0a;
      buf = cutBuf;
      this.injected.truncate++;
      kinds.push('truncate');
      hit = true;
    }
    if (rates.bitflip > 0) {
      const body = buf.length - 1; // the '\n' is never flipped
      let pos = this.flipSkip;
      let flipped = false;
      while (pos < body) {
        const r = this.rng.bitflip;
        const b = buf[pos];
        let bit = r.int(8);
        if ((b ^ (1 << bit)) === 0x0a) bit = (bit + 1 + r.int(7)) & 7; // never make a '\n'
        buf[pos] = b ^ (1 << bit);
        this.counts.bitsFlipped++;
        flipped = true;
        pos += 1 + r.skip(rates.bitflip);
      }
      this.flipSkip = pos - body;
      if (flipped) {
        this.injected.bitflip++;
        kinds.push('bitflip');
        hit = true;
      }
    }
    if (rates['drop-byte'] > 0) {
      let pos = this.dropSkip;
      if (pos < buf.length) {
        let from = 0;
        const parts: Buffer[] = [];
        while (pos < buf.length) {
          parts.push(buf.subarray(from, pos));
          from = pos + 1;
          this.counts.bytesDropped++;
          pos += 1 + this.rng['drop-byte'].skip(rates['drop-byte']);
        }
        parts.push(buf.subarray(from));
        this.dropSkip = pos - buf.length;
        buf = Buffer.concat(parts);
        this.injected['drop-byte']++;
        kinds.push('drop-byte');
        hit = true;
      } else {
        this.dropSkip = pos - buf.length;
      }
    }
    if (this.rng.garbage.chance(rates.garbage)) {
      const r = this.rng.garbage;
      const n = 1 + r.int(32);
      const junk = Buffer.alloc(n);
      for (let i = 0; i < n; i++) junk[i] = r.int(256);
      const at = r.int(buf.length);
      buf = Buffer.concat([buf.subarray(0, at), junk, buf.subarray(at)]);
      this.counts.garbageBytes += n;
      this.injected.garbage++;
      kinds.push('garbage');
      hit = true;
    }
    if (hit) this.counts.corruptedLines++;
    return buf;
  }
}
