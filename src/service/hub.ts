/**
 * Where the service's events go: the open event streams (each with its own frame rate, cut when it stops
 * reading), and the requests waiting for a sample to finish (`GET /v1/samples/:id?waitS=`).
 */
import type { ServerResponse } from 'node:http';
import { FrameThinner, SSE_KEEPALIVE, sseMessage } from './sse.js';

const MAX_SSE_BUFFER = 4 * 1024 * 1024;
const SKIP_FRAMES_ABOVE = 256 * 1024;

interface Stream {
  readonly res: ServerResponse;
  readonly thinner: FrameThinner;
}

export class EventHub {
  private readonly streams = new Set<Stream>();
  private readonly waiters = new Map<string, Set<() => void>>();

  get streamCount(): number {
    return this.streams.size;
  }

  /** Adds an open stream (its head and snapshot already written); it leaves when the client goes. */
  addStream(res: ServerResponse, frameHz: number): void {
    const stream: Stream = { res, thinner: new FrameThinner(frameHz) };
    this.streams.add(stream);
    res.once('close', () => this.streams.delete(stream));
  }

  /** Writes an event to every stream; `data` is made only when some stream takes it (frames are thinned per stream). */
  broadcast(type: string, data: string | (() => string), frameAtMs?: number): void {
    let message: string | null = null;
    for (const stream of this.streams) {
      const res = stream.res;
      if (frameAtMs !== undefined && (!stream.thinner.accept(frameAtMs) || res.writableLength > SKIP_FRAMES_ABOVE)) continue;
      if (res.writableLength > MAX_SSE_BUFFER) {
        res.destroy(); // a client that does not read: cut it rather than buffer without bound
        this.streams.delete(stream);
        continue;
      }
      message ??= sseMessage(type, typeof data === 'string' ? data : data());
      res.write(message);
    }
  }

  keepAlive(): void {
    for (const stream of this.streams) stream.res.write(SSE_KEEPALIVE);
  }

  /** Resolves when `id` is notified, after `ms`, or when `res` closes, whichever is first. */
  waitFor(id: string, ms: number, res: ServerResponse): Promise<void> {
    return new Promise<void>((resolve) => {
      let set = this.waiters.get(id);
      if (!set) this.waiters.set(id, (set = new Set()));
      const wake = () => {
        clearTimeout(timer);
        set!.delete(wake);
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

  /** Ends every stream and wakes every waiter (the service is closing). */
  close(): void {
    for (const stream of this.streams) stream.res.end();
    this.streams.clear();
    for (const id of [...this.waiters.keys()]) this.notify(id);
  }
}
