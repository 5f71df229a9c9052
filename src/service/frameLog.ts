/**
 * The frames of the cycle on screen as the event stream's snapshot sends them: JSON lines kept in sealed chunks
 * (one Buffer of comma-joined lines per `CHUNK_FRAMES` frames) plus an open tail. A new client is sent the same
 * Buffers as every other client (no copy, no join per client), and only the tail (fewer than `CHUNK_FRAMES`
 * lines) is joined again, once per frame that arrives, not once per client. Bounded by a frame count and by
 * bytes: past either, the oldest chunks go.
 */

/** Frames per sealed chunk: the most a snapshot joins afresh. */
export const CHUNK_FRAMES = 128;

/** Bytes of frame JSON a snapshot holds at most. @default 2 MiB */
export const MAX_SNAPSHOT_FRAME_BYTES = 2 * 1024 * 1024;

export class FrameLog {
  /** Sealed chunks, each `f1,f2,...,f128,` (with its trailing comma). */
  private readonly chunks: Buffer[] = [];
  private chunkBytes = 0;
  /** The sealed chunks as one Buffer, made when a snapshot needs it after they changed (every CHUNK_FRAMES). */
  private sealed: Buffer | null = null;
  private tail: string[] = [];
  private tailBytes = 0;
  private tailJoined: Buffer | null = null;

  constructor(private readonly maxBytes = MAX_SNAPSHOT_FRAME_BYTES) {}

  get length(): number {
    return this.chunks.length * CHUNK_FRAMES + this.tail.length;
  }

  /** Bytes of the frames' JSON with their commas. */
  get bytes(): number {
    return this.chunkBytes + this.tailBytes;
  }

  push(json: string): void {
    this.tail.push(json);
    this.tailBytes += Buffer.byteLength(json) + 1;
    this.tailJoined = null;
    if (this.tail.length >= CHUNK_FRAMES) {
      this.tail.push('');
      const chunk = Buffer.from(this.tail.join(','));
      this.chunks.push(chunk);
      this.chunkBytes += chunk.length;
      this.sealed = null;
      this.tail = [];
      this.tailBytes = 0;
    }
  }

  /** Keeps about `maxFrames` frames at most (whole chunks go, oldest first), and at most the byte bound. */
  trim(maxFrames: number): void {
    while (this.chunks.length > 0 && (this.length - CHUNK_FRAMES >= maxFrames || this.bytes > this.maxBytes)) {
      this.chunkBytes -= this.chunks.shift()!.length;
      this.sealed = null;
    }
    if (this.chunks.length === 0 && this.tail.length > maxFrames) {
      this.tail.splice(0, this.tail.length - maxFrames);
      this.tailBytes = this.tail.reduce((n, line) => n + Buffer.byteLength(line) + 1, 0);
      this.tailJoined = null;
    }
  }

  clear(): void {
    this.chunks.length = 0;
    this.chunkBytes = 0;
    this.sealed = null;
    this.tail = [];
    this.tailBytes = 0;
    this.tailJoined = null;
  }

  /** The frames as the inside of a JSON array, in at most two Buffers shared by every caller until a frame comes. */
  parts(): Buffer[] {
    this.sealed ??= Buffer.concat(this.chunks, this.chunkBytes);
    if (this.tail.length > 0) {
      this.tailJoined ??= Buffer.from(this.tail.join(','));
      return this.sealed.length > 0 ? [this.sealed, this.tailJoined] : [this.tailJoined];
    }
    return this.sealed.length > 0 ? [this.sealed.subarray(0, this.sealed.length - 1)] : [];
  }
}
