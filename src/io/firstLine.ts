/**
 * The first ENL/1 line after a port opens may be the tail of a line the rig was writing before (socat and USB
 * adapters keep stale bytes, and a host can connect mid-line). It is collected whole (at most one line of
 * MAX_LINE_BYTES) and passed on only when it is a complete valid line: since no valid body holds a '$', a valid
 * line starts at the line's last '$', and the bytes before it are dropped as noise. Anything else (a tail with
 * or without a '$', a bad checksum, an over-long line) is dropped whole, without an issue: it is no reading.
 */
import { decodeLine } from './codec/lineParser.js';
import { MAX_LINE_BYTES } from './codec/enl1.js';

const DOLLAR = 0x24;
const NEWLINE = 0x0a;

export class FirstLineGate {
  /** Bytes of the first line so far (one line plus its '\r'). */
  private readonly buf = new Uint8Array(MAX_LINE_BYTES + 1);
  private len = 0;
  /** Past MAX_LINE_BYTES: the line is dropped up to its '\n'. */
  private tooLong = false;
  private open = false;
  /** Bytes dropped since the last `arm`. */
  dropped = 0;

  /** A new connection: the next bytes begin the first line. */
  arm(): void {
    this.open = true;
    this.len = 0;
    this.tooLong = false;
    this.dropped = 0;
  }

  /** True while the first line is still being collected. */
  get active(): boolean {
    return this.open;
  }

  /**
   * Takes a chunk; returns what goes on to the decoder (the valid first line and everything after it), or null
   * while the first line is not complete.
   */
  take(chunk: Buffer): Buffer | null {
    if (!this.open) return chunk;
    const nl = chunk.indexOf(NEWLINE);
    const end = nl < 0 ? chunk.length : nl;
    if (!this.tooLong) {
      if (this.len + end > this.buf.length) {
        this.tooLong = true;
        this.dropped += this.len;
        this.len = 0;
      } else {
        this.buf.set(chunk.subarray(0, end), this.len);
        this.len += end;
      }
    }
    if (this.tooLong) this.dropped += end;
    if (nl < 0) return null;
    this.open = false;
    const rest = chunk.subarray(nl + 1);
    const line = this.valid();
    this.dropped += this.tooLong ? 1 : this.len + 1 - (line === null ? 0 : line.length);
    return line === null ? rest : Buffer.concat([line, rest]);
  }

  /** The first line with its '\n' when it is valid whole, or from its last '$'; else null. */
  private valid(): Buffer | null {
    if (this.tooLong || this.len === 0) return null;
    const line = this.buf.subarray(0, this.len);
    if (decodeLine(line).ok) return Buffer.concat([line, Buffer.of(NEWLINE)]);
    const last = line.lastIndexOf(DOLLAR);
    if (last <= 0) return null;
    const tail = line.subarray(last);
    return decodeLine(tail).ok ? Buffer.concat([tail, Buffer.of(NEWLINE)]) : null;
  }
}
