/**
 * A `FrameSource` over events held in memory: the test double every engine test uses, and the way to feed
 * the engine frames that already sit in an array.
 *
 * Events are emitted synchronously in batches of `yieldEvery`, with a turn of the event loop
 * (`setImmediate`) between batches so that a consumer's async code (timers, promise chains) can run.
 * Commands sent to it are recorded in `sent`; an `onCommand` callback may answer them with events, which
 * lets a test simulate a rig that acknowledges `START` and runs a cycle.
 */
import { EnoseError } from '../errors.js';
import type { FrameSource, Phase, RigCommand, RigInfo, SourceEvent } from '../types.js';

export interface MemorySourceOptions {
  /** Events emitted between two turns of the event loop. @default 1000 */
  readonly yieldEvery?: number;
  /**
   * Keep each event's `atMs` as given. By default it is rewritten to `performance.now()` at emission, as a
   * live source stamps arrival, so that latencies measured from it are real.
   * @default false
   */
  readonly keepTimes?: boolean;
  /** The source's `description`. @default 'memory' */
  readonly description?: string;
  /**
   * Called by `send` (after the command is recorded in `sent`); `emit` queues events that the running source
   * delivers right after the event in progress (or first, if it has not started yet). If it throws, `send`
   * rejects with that error, as a failed write to a port would.
   */
  readonly onCommand?: (command: RigCommand, emit: (event: SourceEvent) => void) => void;
  /**
   * After the given events, keep running until the signal aborts, delivering whatever `onCommand` emits
   * (a rig that waits for commands). Otherwise `run` resolves once the given and queued events are out.
   * @default false
   */
  readonly stayOpen?: boolean;
}

/** A memory source: a `FrameSource` plus the commands sent to it. */
export interface MemorySource extends FrameSource {
  /** Every command passed to `send`, in order. */
  readonly sent: readonly RigCommand[];
}

/**
 * Creates a source that emits `events` in order. `events` is iterated anew by each `run` (a generator is
 * consumed by the first). A frame's `values` is handed over as given, not copied: the receiver owns it, so
 * a test that runs the same events twice relies on the receiver not writing into it.
 * Throws `EnoseError('bad-option')` for a `yieldEvery` that is not a positive integer.
 */
export function createMemorySource(events: Iterable<SourceEvent> | readonly SourceEvent[], options: MemorySourceOptions = {}): MemorySource {
  const yieldEvery = options.yieldEvery ?? 1000;
  if (!Number.isInteger(yieldEvery) || yieldEvery < 1) {
    throw new EnoseError('bad-option', `createMemorySource: yieldEvery ${String(yieldEvery)} is not a positive integer`);
  }
  const keepTimes = options.keepTimes === true;
  const stayOpen = options.stayOpen === true;
  const onCommand = options.onCommand;
  const sent: RigCommand[] = [];
  // Events emitted by onCommand, waiting for the run loop; `queueHead` avoids O(n) shifts.
  let queue: SourceEvent[] = [];
  let queueHead = 0;
  let wake: (() => void) | null = null;
  let running = false;

  const inject = (event: SourceEvent): void => {
    queue.push(event);
    if (wake !== null) wake();
  };

  async function run(emit: (event: SourceEvent) => void, signal: AbortSignal): Promise<void> {
    if (running) throw new EnoseError('bad-usage', 'createMemorySource: run() called while the source is already running');
    running = true;
    let sinceYield = 0;
    const deliver = (event: SourceEvent): void => {
      emit(keepTimes ? event : ({ ...event, atMs: performance.now() } as SourceEvent));
    };
    const drainQueue = (): void => {
      while (queueHead < queue.length && !signal.aborted) {
        const event = queue[queueHead++];
        deliver(event);
        sinceYield++;
      }
      if (queueHead === queue.length) {
        queue = [];
        queueHead = 0;
      }
    };
    try {
      for (const event of events) {
        if (signal.aborted) return;
        drainQueue();
        if (signal.aborted) return;
        deliver(event);
        if (++sinceYield >= yieldEvery) {
          sinceYield = 0;
          await turnOfEventLoop();
        }
      }
      drainQueue();
      if (!stayOpen) return;
      while (!signal.aborted) {
        await new Promise<void>((resolve) => {
          const done = (): void => {
            wake = null;
            signal.removeEventListener('abort', done);
            resolve();
          };
          wake = done;
          signal.addEventListener('abort', done);
          if (queueHead < queue.length || signal.aborted) done();
        });
        drainQueue();
        if (sinceYield >= yieldEvery) {
          sinceYield = 0;
          await turnOfEventLoop();
        }
      }
    } finally {
      running = false;
    }
  }

  async function send(command: RigCommand): Promise<void> {
    sent.push(command);
    if (onCommand !== undefined) onCommand(command, inject);
  }

  return { description: options.description ?? 'memory', sent, run, send };
}

function turnOfEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A frame for `framesToSourceEvents`: a `Frame` with an optional sample id and label. */
export interface MemoryFrame {
  readonly seq: number;
  readonly tMs: number;
  readonly phase: Phase;
  readonly values: ArrayLike<number>;
  readonly sample?: string;
  readonly label?: string;
}

/**
 * The events a rig would send for `frames`: one `info` event, then one `frame` event per frame. `atMs` is
 * 0 for the info and the frame's `tMs` for each frame (used with `keepTimes`). A `Float64Array` of values
 * is passed on as is, anything else copied into one. Throws `EnoseError('bad-usage')` when a frame does not
 * have one value per channel.
 */
export function framesToSourceEvents(info: RigInfo, frames: Iterable<MemoryFrame>): SourceEvent[] {
  const width = info.channels.length;
  const events: SourceEvent[] = [
    {
      type: 'info',
      atMs: 0,
      proto: info.proto,
      rig: info.rig,
      fw: info.fw,
      rateHz: info.rateHz,
      unit: info.unit,
      channels: info.channels,
    },
  ];
  for (const frame of frames) {
    if (frame.values.length !== width) {
      throw new EnoseError('bad-usage', `framesToSourceEvents: frame seq ${frame.seq} has ${frame.values.length} values for ${width} channels`);
    }
    const values = frame.values instanceof Float64Array ? frame.values : Float64Array.from(frame.values);
    events.push({
      type: 'frame',
      atMs: frame.tMs,
      seq: frame.seq,
      tMs: frame.tMs,
      phase: frame.phase,
      values,
      ...(frame.sample === undefined ? {} : { sample: frame.sample }),
      ...(frame.label === undefined ? {} : { label: frame.label }),
    });
  }
  return events;
}
