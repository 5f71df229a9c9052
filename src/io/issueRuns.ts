/**
 * Runs of identical link issues as one event: a rig that floods the host (a backlog read at once before its
 * info line, a baud-rate mismatch) makes the same issue hundreds of times in a row, and one line per copy buries
 * everything else. Identical means the same kind and detail; the run's first event is kept (its `line` is the
 * example) and carries `count`. A run ends, and is emitted before it, at the next event of another kind or
 * detail, or when `flushDue` finds it older than `maxHoldMs`, so no issue waits longer than that.
 */
import type { SourceEvent } from '../types.js';

type IssueEvent = Extract<SourceEvent, { type: 'issue' }>;

export class IssueRuns {
  private run: IssueEvent | null = null;
  private count = 0;

  /** @param maxHoldMs longest time an issue waits for copies of itself. */
  constructor(
    private readonly emit: (event: SourceEvent) => void,
    private readonly maxHoldMs = 1000,
  ) {}

  /** Passes an event on; an issue may wait (see the top of this file). */
  push(event: SourceEvent): void {
    if (event.type === 'issue') {
      const run = this.run;
      if (run !== null && run.kind === event.kind && run.detail === event.detail) {
        this.count += event.count ?? 1;
        return;
      }
      this.flush();
      this.run = event;
      this.count = event.count ?? 1;
      return;
    }
    if (this.run !== null) this.flush();
    this.emit(event);
  }

  /** Emits a run older than `maxHoldMs` at `nowMs` (call from a timer). */
  flushDue(nowMs: number): void {
    if (this.run !== null && nowMs - this.run.atMs >= this.maxHoldMs) this.flush();
  }

  /** Emits the run in progress, if any. */
  flush(): void {
    const run = this.run;
    if (run === null) return;
    this.run = null;
    this.emit(this.count === 1 ? run : { ...run, count: this.count });
  }
}
