/**
 * The service's state as engine events leave it: the rig and its link, the cycle on screen and its frames (as
 * the JSON lines a reconnecting page is sent), the time of the last frame, and the book of requested cycles.
 * A reducer: `apply` takes one engine event and says nothing of HTTP or streams, so tests drive it with events
 * alone; the server reads it for /v1/health and the event stream's snapshot.
 */
import { eventToJson } from '../io/eventJson.js';
import type { EngineEvent, LinkState, RigInfo } from '../types.js';
import { SampleBook, sampleJson } from './samples.js';
import { FrameThinner } from './sse.js';

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
  /** The cycle's frames as JSON lines, thinned (idle frames before a cycle: the last 600). */
  cycleFrames: string[] = [];
  private readonly thinner: FrameThinner;

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
    switch (event.type) {
      case 'frame':
        this.lastFrameAt = event.atMs;
        if (this.thinner.accept(event.atMs)) {
          this.cycleFrames.push(frameJson ? frameJson() : eventToJson(event));
          const cap = this.cycle === null ? 600 : 6000;
          if (this.cycleFrames.length > cap) this.cycleFrames.splice(0, this.cycleFrames.length - cap);
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
        this.cycleFrames = [];
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

  /** The first message of an event stream: everything a page needs to draw the present. */
  snapshot(modelId: string): string {
    const pending = this.book.busy();
    const pendingRecord = pending?.state === 'pending' ? this.book.get(pending.sample) : undefined;
    const head = JSON.stringify({
      type: 'snapshot',
      modelId,
      rig: this.rig,
      link: this.link,
      cycle: this.cycle,
      pending: pendingRecord ? sampleJson(pendingRecord) : null,
      verdicts: this.book.recent(20, (r) => r.state === 'done').map(sampleJson),
    });
    return `${head.slice(0, -1)},"frames":[${this.cycleFrames.join(',')}]}`;
  }
}
