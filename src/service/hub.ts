/**
 * Where the service's events go: the open event streams (each with its own frame rate), and the requests
 * waiting for a sample to finish (`GET /v1/samples/:id?waitS=`).
 *
 * The engine never waits for a client: `broadcast` only appends the message to each stream's queue (frames are
 * thinned per stream, and skipped for a stream that is behind), and the queues go to the sockets after the
 * engine's turn (setImmediate), one write per stream. Snapshots go out a few at a time (at most
 * SNAPSHOT_BYTES_PER_TURN a turn of the event loop), so that a burst of new clients leaves room between turns
 * for the other requests and the rig's data; a stream's events wait in its queue until its snapshot is out. The number of streams is capped (`admit`), and a stream
 * that falls behind and does not catch up within `stallMs`, or whose unsent bytes pass its bound, is cut: a
 * client that does not read costs a bounded amount of memory and no engine time.
 */
import type { ServerResponse } from 'node:http';
import { FrameThinner, SSE_KEEPALIVE, sseMessage } from './sse.js';

/** Unsent bytes above which a stream gets no frames (only the other events) until it has caught up. */
export const SKIP_FRAMES_ABOVE = 256 * 1024;

/** Snapshot bytes written in one turn of the event loop at most (at least one snapshot a turn). */
export const SNAPSHOT_BYTES_PER_TURN = 1024 * 1024;

/** A snapshot to write: pieces in order (strings and shared Buffers), and their size. */
export interface PendingSnapshot {
  readonly parts: readonly (string | Buffer)[];
  readonly bytes: number;
}

export type StreamCut = 'slow' | 'buffer';

export interface EventHubOptions {
  /** Open streams at most; past it `admit` says no (the route answers 503). @default 100 */
  readonly maxClients?: number;
  /** A stream behind by more than SKIP_FRAMES_ABOVE that takes nothing for this long is cut. @default 10000 */
  readonly stallMs?: number;
  /** Unsent bytes a stream may hold beyond its snapshot; past it, it is cut at once. @default 4 MiB */
  readonly maxBufferBytes?: number;
  /** A stream was cut (for the metrics). */
  readonly onCut?: (reason: StreamCut) => void;
  /** Monotonic clock, ms. @default performance.now */
  readonly now?: () => number;
}

interface Stream {
  readonly res: ServerResponse;
  readonly thinner: FrameThinner;
  /** Unsent bytes allowed: the snapshot plus `maxBufferBytes`. */
  readonly allowance: number;
  /** Messages not yet written (flushed after the engine's turn). */
  queue: string[];
  queuedChars: number;
  /** The snapshot not yet written (the stream's queue waits for it). */
  snapshot: PendingSnapshot | null;
  /** Unsent bytes at the last sweep, and since when the stream has been behind without catching up. */
  lastLength: number;
  stalledSince: number;
}

export class EventHub {
  private readonly streams = new Set<Stream>();
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly maxClients: number;
  private readonly stallMs: number;
  private readonly maxBufferBytes: number;
  private readonly onCut: ((reason: StreamCut) => void) | undefined;
  private readonly now: () => number;
  private flushScheduled = false;
  private readonly snapshots: Stream[] = [];
  private pumpScheduled = false;
  private readonly sweepTimer: NodeJS.Timeout;

  constructor(options: EventHubOptions = {}) {
    this.maxClients = options.maxClients ?? 100;
    this.stallMs = options.stallMs ?? 10_000;
    this.maxBufferBytes = options.maxBufferBytes ?? 4 * 1024 * 1024;
    this.onCut = options.onCut;
    this.now = options.now ?? (() => performance.now());
    this.sweepTimer = setInterval(() => this.sweep(), Math.max(50, Math.min(1000, this.stallMs / 4)));
    this.sweepTimer.unref();
  }

  get streamCount(): number {
    return this.streams.size;
  }

  /** Whether one more stream may open (below the cap). */
  admit(): boolean {
    return this.streams.size < this.maxClients;
  }

  /**
   * Adds an open stream (its head written): its snapshot goes out in a coming turn, then its events. It leaves
   * when the client goes or is cut.
   */
  addStream(res: ServerResponse, frameHz: number, snapshot: PendingSnapshot | null = null): void {
    const stream: Stream = {
      res,
      thinner: new FrameThinner(frameHz),
      allowance: (snapshot?.bytes ?? 0) + this.maxBufferBytes,
      queue: [],
      queuedChars: 0,
      snapshot,
      lastLength: 0,
      stalledSince: NaN,
    };
    this.streams.add(stream);
    res.once('close', () => this.streams.delete(stream));
    if (snapshot) {
      this.snapshots.push(stream);
      if (!this.pumpScheduled) {
        this.pumpScheduled = true;
        setImmediate(() => this.pump());
      }
    }
  }

  /** Writes waiting snapshots, up to SNAPSHOT_BYTES_PER_TURN this turn; the rest in the next turns. */
  private pump(): void {
    this.pumpScheduled = false;
    let bytes = 0;
    while (this.snapshots.length > 0 && bytes < SNAPSHOT_BYTES_PER_TURN) {
      const stream = this.snapshots.shift()!;
      const snapshot = stream.snapshot;
      stream.snapshot = null;
      if (!snapshot || !this.streams.has(stream)) continue;
      const res = stream.res;
      res.cork();
      for (const part of snapshot.parts) res.write(part);
      res.uncork();
      bytes += snapshot.bytes;
      if (stream.queue.length > 0) this.scheduleFlush();
    }
    if (this.snapshots.length > 0) {
      this.pumpScheduled = true;
      setImmediate(() => this.pump());
    }
  }

  /**
   * Queues an event for every stream; `data` is made only when some stream takes it (frames are thinned per
   * stream, and not sent to a stream that is behind). Writes nothing now: see `flush`.
   */
  broadcast(type: string, data: string | (() => string), frameAtMs?: number): void {
    let message: string | null = null;
    for (const stream of this.streams) {
      if (frameAtMs !== undefined && (!stream.thinner.accept(frameAtMs) || stream.snapshot !== null || stream.res.writableLength + stream.queuedChars > SKIP_FRAMES_ABOVE)) continue;
      message ??= sseMessage(type, typeof data === 'string' ? data : data());
      this.enqueue(stream, message);
    }
  }

  keepAlive(): void {
    for (const stream of this.streams) this.enqueue(stream, SSE_KEEPALIVE);
  }

  private enqueue(stream: Stream, message: string): void {
    stream.queue.push(message);
    stream.queuedChars += message.length;
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Writes each stream's queue as one chunk; cuts a stream whose unsent bytes pass its allowance. */
  flush(): void {
    this.flushScheduled = false;
    for (const stream of this.streams) {
      if (stream.queue.length === 0 || stream.snapshot !== null) continue;
      const text = stream.queue.length === 1 ? stream.queue[0] : stream.queue.join('');
      stream.queue = [];
      stream.queuedChars = 0;
      if (stream.res.writableLength + text.length > stream.allowance) {
        this.cut(stream, 'buffer');
        continue;
      }
      stream.res.write(text);
    }
  }

  /** Cuts the streams that are behind and have not caught up for `stallMs`. */
  private sweep(): void {
    const now = this.now();
    for (const stream of this.streams) {
      const length = stream.res.writableLength;
      const behind = length > SKIP_FRAMES_ABOVE && length >= stream.lastLength;
      stream.lastLength = length;
      if (!behind) {
        stream.stalledSince = NaN;
        continue;
      }
      if (Number.isNaN(stream.stalledSince)) stream.stalledSince = now;
      else if (now - stream.stalledSince >= this.stallMs) this.cut(stream, 'slow');
    }
  }

  private cut(stream: Stream, reason: StreamCut): void {
    this.streams.delete(stream);
    stream.res.destroy(); // a client that does not read: cut it rather than buffer without bound
    this.onCut?.(reason);
  }

  /** Resolves when `id` is notified, after `ms`, or when `res` closes, whichever is first. */
  waitFor(id: string, ms: number, res: ServerResponse): Promise<void> {
    return new Promise<void>((resolve) => {
      let set = this.waiters.get(id);
      if (!set) this.waiters.set(id, (set = new Set()));
      const wake = () => {
        clearTimeout(timer);
        set.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      set.add(wake);
      res.once('close', wake);
    });
  }

  notify(id: string): void {
    const set = this.waiters.get(id);
    if (!set) return;
    this.waiters.delete(id);
    for (const wake of set) wake();
  }

  /** Ends every stream (after what is queued) and wakes every waiter (the service is closing). */
  close(): void {
    clearInterval(this.sweepTimer);
    while (this.snapshots.length > 0) this.pump();
    this.flush();
    for (const stream of this.streams) stream.res.end();
    this.streams.clear();
    for (const id of [...this.waiters.keys()]) this.notify(id);
  }
}
