/**
 * Bytes -> lines with bounded memory, shared by the ENL/1 and csv decoders: a line completed inside one
 * chunk is handed over where it lies; a partial one is copied into one buffer of MAX_LINE_BYTES + 1; a line
 * longer than that is counted, not kept (its head stays for the excerpt).
 */

import { MAX_LINE_BYTES } from './enl1.js';
import { EXCERPT_CHARS } from './text.js';

export interface LineSink {
  /** A complete line `buf[s..e)` without '\n' and '\r', at most MAX_LINE_BYTES long, not empty. */
  line(buf: Uint8Array, s: number, e: number): void;
  /** A line longer than MAX_LINE_BYTES, already discarded; `head[0..headLen)` are its first bytes. */
  tooLong(head: Uint8Array, headLen: number, totalBytes: number): void;
}

const STRING_SLICE = 65536;

export class LineSplitter {
  /** One line plus a '\r'. */
  private readonly buf = new Uint8Array(MAX_LINE_BYTES + 1);
  private len = 0;
  /** Inside a too-long line: bytes are counted, not kept (the first ones stay in `buf` for the excerpt). */
  private discarding = false;
  private discarded = 0;
  /** Last byte counted while discarding, so that a '\r' before the '\n' is not counted. */
  private lastByte = 0;
  private scratch: Uint8Array | null = null;

  constructor(private readonly sink: LineSink) {}

  get pendingBytes(): number {
    return this.discarding ? 0 : this.len;
  }

  reset(): void {
    this.len = 0;
    this.discarding = false;
    this.discarded = 0;
  }

  feed(chunk: Uint8Array | string): void {
    if (typeof chunk !== 'string') {
      this.feedBytes(chunk);
      return;
    }
    const scratch = (this.scratch ??= new Uint8Array(STRING_SLICE));
    for (let s = 0; s < chunk.length; s += STRING_SLICE) {
      const n = Math.min(STRING_SLICE, chunk.length - s);
      for (let i = 0; i < n; i++) {
        const c = chunk.charCodeAt(s + i);
        scratch[i] = c > 0xff ? 0x3f : c;
      }
      this.feedBytes(n === STRING_SLICE ? scratch : scratch.subarray(0, n));
    }
  }

  /** End of stream: a last line without '\n' counts as a line. */
  flush(): void {
    if (this.discarding) {
      this.discarding = false;
      this.sink.tooLong(this.buf, Math.min(this.len, EXCERPT_CHARS), this.discarded - (this.lastByte === 0x0d ? 1 : 0));
      this.len = 0;
    } else if (this.len > 0) {
      this.emit(this.buf, 0, this.len);
      this.len = 0;
    }
  }

  private emit(buf: Uint8Array, s: number, e: number): void {
    if (e > s && buf[e - 1] === 0x0d) e--;
    if (e === s) return;
    if (e - s > MAX_LINE_BYTES) this.sink.tooLong(buf.subarray(s, Math.min(e, s + EXCERPT_CHARS)), Math.min(e - s, EXCERPT_CHARS), e - s);
    else this.sink.line(buf, s, e);
  }

  private feedBytes(chunk: Uint8Array): void {
    const n = chunk.length;
    const cap = this.buf.length;
    let pos = 0;
    while (pos < n) {
      const nl = chunk.indexOf(0x0a, pos);
      const end = nl < 0 ? n : nl;
      if (this.discarding) {
        this.discarded += end - pos;
        if (end > pos) this.lastByte = chunk[end - 1];
        if (nl < 0) return;
        this.discarding = false;
        this.sink.tooLong(this.buf, Math.min(this.len, EXCERPT_CHARS), this.discarded - (this.lastByte === 0x0d ? 1 : 0));
        this.len = 0;
        pos = nl + 1;
        continue;
      }
      if (this.len === 0 && nl >= 0) {
        // The whole line is inside this chunk: parse it where it lies.
        this.emit(chunk, pos, end);
        pos = nl + 1;
        continue;
      }
      const take = end - pos;
      if (this.len + take > cap) {
        // Too long whatever follows: keep the head for the excerpt, count the rest.
        const room = Math.max(0, EXCERPT_CHARS - this.len);
        for (let k = 0, m = Math.min(room, take); k < m; k++) this.buf[this.len + k] = chunk[pos + k];
        const total = this.len + take;
        this.len = Math.min(EXCERPT_CHARS, total);
        this.lastByte = chunk[end - 1];
        if (nl >= 0) {
          this.sink.tooLong(this.buf, this.len, total - (this.lastByte === 0x0d ? 1 : 0));
          this.len = 0;
          pos = nl + 1;
        } else {
          this.discarding = true;
          this.discarded = total;
          return;
        }
        continue;
      }
      const line = this.buf;
      // A view plus memcpy beats a byte loop beyond a few dozen bytes.
      if (take > 48) line.set(nl < 0 && pos === 0 ? chunk : chunk.subarray(pos, end), this.len);
      else for (let k = 0, o = this.len; k < take; k++) line[o + k] = chunk[pos + k];
      this.len += take;
      if (nl < 0) return;
      const len = this.len;
      this.len = 0;
      this.emit(this.buf, 0, len);
      pos = nl + 1;
    }
  }
}
