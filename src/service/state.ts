/**
 * The service's state as engine events leave it: the rig and its link, the cycle on screen and its frames (as
 * the JSON lines a reconnecting page is sent), the time of the last frame, and the book of requested cycles.
 * A reducer: `apply` takes one engine event and says nothing of HTTP or streams, so tests drive it with events
 * alone; the server reads it for /v1/health and the event stream's snapshot.
 */
import { eventToJson } from '../io/eventJson.js';
import type { EngineEvent, LinkState, RigInfo } from '../types.js';
import { FrameLog } from './frameLog.js';
import { SampleBook, sampleJson } from './samples.js';
import { FrameThinner, sseMessage } from './sse.js';

/**
 * The first message of an event stream as pieces to write in order: `head` (the state without its frames, built
 * once per change of state), then `frames` (Buffers shared by every client), then `end`. `bytes` in all.
 */
export interface SnapshotParts {
  readonly head: string;
  readonly frames: readonly Buffer[];
  readonly end: string;
  readonly bytes: number;
}

/** The cycle the page shows: its id, phase, and whether its verdict came. */
export interface CycleView {
  sample: string;
  phase: string;
  verdict: boolean;
}

export interface ServiceStateOptions {
  /** Frames a second kept for the snapshot (the page's rate). @default 25 */
  readonly maxFrameHz?: number;
  /** Wall clock for the sample book, epoch ms. @default Date.now */
  readonly wallClock?: () => number;
}

export class ServiceState {
  readonly book: SampleBook;
  rig: RigInfo | null = null;
  link: LinkState | 'unknown' = 'unknown';
  /** Monotonic time of the last frame (NaN before the first). */
  lastFrameAt = NaN;
  cycle: CycleView | null = null;
  /** The cycle's frames as JSON lines, thinned (idle frames before a cycle: about the last 600). */
  readonly cycleFrames = new FrameLog();
  private readonly thinner: FrameThinner;
  /** Bumped by every event but a frame: the snapshot's head is built again only after a change. */
  private revision = 0;
  private head: { key: string; text: string } | null = null;

  constructor(options: ServiceStateOptions = {}) {
    this.thinner = new FrameThinner(options.maxFrameHz ?? 25);
    this.book = new SampleBook(options.wallClock ? { now: options.wallClock } : {});
  }

  /**
   * Follows one engine event. For a frame, `frameJson` gives its JSON line (made once, shared with the
   * streams); it is called only when the frame is kept.
   */
  apply(event: EngineEvent, frameJson?: () => string): void {
    this.book.onEvent(event);
    if (event.type !== 'frame') this.revision++;
    switch (event.type) {
      case 'frame':
        this.lastFrameAt = event.atMs;
        if (this.thinner.accept(event.atMs)) {
          this.cycleFrames.push(frameJson ? frameJson() : eventToJson(event));
          this.cycleFrames.trim(this.cycle === null ? 600 : 6000);
        }
        return;
      case 'info':
        this.rig = { proto: event.proto, rig: event.rig, fw: event.fw, rateHz: event.rateHz, unit: event.unit, channels: event.channels };
        if (this.link === 'unknown') this.link = 'connected';
        return;
      case 'state':
        this.link = event.state;
        return;
      case 'sample-started':
        this.cycle = { sample: event.sample, phase: 'B', verdict: false };
        this.cycleFrames.clear();
        return;
      case 'phase':
        // The rig going idle after a cycle comes with sample '' (the cycle is over): the cycle's phase is I then.
        if (this.cycle && (event.sample === this.cycle.sample || (event.sample === '' && event.phase === 'I'))) this.cycle.phase = event.phase;
        return;
      case 'verdict':
        if (this.cycle && this.cycle.sample === event.sample) this.cycle.verdict = true;
        return;
      default:
        return;
    }
  }

  rigConnected(): boolean {
    return this.rig !== null && this.link !== 'disconnected' && this.link !== 'reconnecting';
  }

  /** Seconds since the last frame at monotonic time `nowMs`, or null before the first. */
  lastFrameAgeS(nowMs: number): number | null {
    return Number.isNaN(this.lastFrameAt) ? null : (nowMs - this.lastFrameAt) / 1000;
  }

  /** The first message of an event stream (`event: snapshot`): everything a page needs to draw the present. */
  snapshotParts(modelId: string): SnapshotParts {
    const key = `${modelId}:${this.revision}:${this.book.revision}`;
    if (this.head?.key !== key) {
      const pending = this.book.busy();
      const pendingRecord = pending?.state === 'pending' ? this.book.get(pending.sample) : undefined;
      const json = JSON.stringify({
        type: 'snapshot',
        modelId,
        rig: this.rig,
        link: this.link,
        cycle: this.cycle,
        pending: pendingRecord ? sampleJson(pendingRecord) : null,
        verdicts: this.book.recent(20, (r) => r.state === 'done').map(sampleJson),
      });
      // `event: snapshot\ndata: {...,"frames":[` ... `]}\n\n`: one SSE message, cut around the frames.
      const message = sseMessage('snapshot', `${json.slice(0, -1)},"frames":[`);
      this.head = { key, text: message.slice(0, -2) };
    }
    const frames = this.cycleFrames.parts();
    const end = ']}\n\n';
    return { head: this.head.text, frames, end, bytes: Buffer.byteLength(this.head.text) + this.cycleFrames.bytes + end.length };
  }

  /** The snapshot's data line (the JSON alone), for tests. */
  snapshot(modelId: string): string {
    const { head, frames, end } = this.snapshotParts(modelId);
    const text = head + Buffer.concat(frames).toString('utf8') + end;
    return text.slice(text.indexOf('data: ') + 6, -2);
  }
}
