/**
 * The plain csv mode (`--protocol csv`) for do-it-yourself rigs: `v1,...,vN` lines, an optional header, no
 * checksum; values only (the host's clock assigns phases elsewhere).
 */

import { EnoseError } from '../../errors.js';
import { MAX_LINE_BYTES, type IssueKind } from './enl1.js';
import { LineSplitter, type LineSink } from './lineSplitter.js';
import { NOT_A_NUMBER, NumberScanner } from './numbers.js';
import { excerpt, latin1 } from './text.js';

/** Issue kinds the csv mode can report (a subset of the protocol's). */
export type CsvIssueKind = Extract<IssueKind, 'too-long' | 'malformed' | 'wrong-channel-count'>;

export type CsvOutput =
  /** Channel names: from a header line (`named: true`), from options, or `ch1..chN` from the first data line. */
  | { readonly type: 'header'; readonly channels: readonly string[]; readonly named: boolean }
  /** One frame's values (NaN for `nan` or an empty field is malformed); phase and time come from the host. */
  | { readonly type: 'values'; readonly values: Float64Array }
  | { readonly type: 'issue'; readonly kind: CsvIssueKind; readonly line: string; readonly detail: string };

export interface CsvDecoderOptions {
  /** Channel names when the rig prints no header; a header line, when one comes, replaces them. */
  readonly channels?: readonly string[];
}

export interface CsvCounters {
  lines: number;
  frames: number;
  issues: Record<CsvIssueKind, number>;
}

export interface CsvDecoder {
  push(chunk: Uint8Array | string): CsvOutput[];
  /** End of stream: a last line without '\n' counts. */
  end(): CsvOutput[];
  readonly channels: readonly string[] | null;
  readonly pendingBytes: number;
  counters(): CsvCounters;
}

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x09;
}

/** Header names: a letter or '_' first, then letters, digits, `_ . -`. */
function isHeaderName(s: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_.-]*$/.test(s);
}

class CsvStreamDecoder implements CsvDecoder, LineSink {
  private readonly splitter = new LineSplitter(this);
  private readonly scratch = new Float64Array(MAX_LINE_BYTES >>> 1);
  private names: readonly string[] | null;
  private readonly stats: CsvCounters = { lines: 0, frames: 0, issues: { 'too-long': 0, malformed: 0, 'wrong-channel-count': 0 } };
  private out: CsvOutput[] = [];
  private readonly num = new NumberScanner();

  constructor(options: CsvDecoderOptions) {
    if (options.channels !== undefined) {
      if (options.channels.length === 0) throw new EnoseError('bad-option', 'csv channels must not be empty');
      this.names = Object.freeze([...options.channels]);
    } else {
      this.names = null;
    }
  }

  get channels(): readonly string[] | null {
    return this.names;
  }

  get pendingBytes(): number {
    return this.splitter.pendingBytes;
  }

  counters(): CsvCounters {
    return { ...this.stats, issues: { ...this.stats.issues } };
  }

  push(chunk: Uint8Array | string): CsvOutput[] {
    this.splitter.feed(chunk);
    const out = this.out;
    this.out = [];
    return out;
  }

  end(): CsvOutput[] {
    this.splitter.flush();
    const out = this.out;
    this.out = [];
    return out;
  }

  private issue(kind: CsvIssueKind, line: string, detail: string): void {
    this.stats.issues[kind]++;
    this.out.push({ type: 'issue', kind, line, detail });
  }

  tooLong(head: Uint8Array, headLen: number, totalBytes: number): void {
    this.stats.lines++;
    this.issue('too-long', excerpt(head, 0, headLen, totalBytes), `line of ${totalBytes} bytes is longer than ${MAX_LINE_BYTES}; discarded`);
  }

  line(buf: Uint8Array, s: number, e: number): void {
    this.stats.lines++;
    const values = this.scratch;
    let n = 0;
    let i = s;
    let bad = -1;
    for (;;) {
      let j = i;
      while (j < e && buf[j] !== 0x2c) j++;
      let a = i;
      let b = j;
      while (a < b && isSpace(buf[a])) a++;
      while (b > a && isSpace(buf[b - 1])) b--;
      const v = this.num.field(buf, a, b);
      if (v === NOT_A_NUMBER && bad < 0) bad = n;
      values[n++] = v;
      if (j >= e) break;
      i = j + 1;
    }
    if (bad >= 0) {
      const fields = latin1(buf, s, e)
        .split(',')
        .map((f) => f.trim());
      if (fields.every(isHeaderName) && new Set(fields).size === fields.length) {
        this.names = Object.freeze(fields);
        this.out.push({ type: 'header', channels: this.names, named: true });
        return;
      }
      this.issue('malformed', excerpt(buf, s, e), `field ${bad + 1} is not a number or nan`);
      return;
    }
    if (this.names === null) {
      this.names = Object.freeze(Array.from({ length: n }, (_, k) => `ch${k + 1}`));
      this.out.push({ type: 'header', channels: this.names, named: false });
    } else if (n !== this.names.length) {
      this.issue('wrong-channel-count', excerpt(buf, s, e), `${n} values where ${this.names.length} channels are known`);
      return;
    }
    this.stats.frames++;
    this.out.push({ type: 'values', values: values.slice(0, n) });
  }
}

/** A decoder for the plain csv mode: `v1,...,vN` lines, an optional header, no checksum. */
export function createCsvDecoder(options: CsvDecoderOptions = {}): CsvDecoder {
  return new CsvStreamDecoder(options);
}
