/**
 * A recording that behaves like a rig, for `enose serve --replay`: it sends the recording's info line, then
 * idle frames; each START plays the recording's next sampling cycle (its B, E and R frames, and the link
 * events recorded inside it) under the requested id, then one idle frame that ends it, then idle frames again.
 * After the last cycle it starts over with the first. STOP cuts the cycle in play.
 *
 * The cycle's frames keep their recorded seq, rig time, phase and values, and the engine segments and judges
 * them as `enose replay` does, so a cycle's verdict (class, probabilities, reasons, frames) is the one `enose
 * replay` gives for it. Only `sample` (the requested id) and the times differ.
 *
 * A cycle the live run ended early (the rig's `END,OK` ack inside it, from a recording's `cycle-end` line) plays
 * as recorded, ack included, and `endCycle` during it answers OK with where it was ended; during a cycle the
 * recording ran to its end it answers `unsupported`: the rig keeps full cycles, as a rig without END does.
 *
 * This is how a program tries its rig loop (`engine.startSample`, then the verdict) before the rig exists:
 * `openReplayRig(path)` in place of `createSerialSource({ path })`. A plain replay (`createReplaySource`) is
 * the other thing: it plays the whole recording as recorded and takes no commands.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { EnoseError, fail, ok, type DataIssue, type Result } from '../errors.js';
import { createReplaySource, type ReplaySpeed } from './replay.js';
import type { FrameSource, Phase, RigCommand, SourceEvent } from '../types.js';
import { endIssue, type CycleEnding, type CycleEndResult } from './cycleEnd.js';

type FrameEvent = Extract<SourceEvent, { type: 'frame' }>;

/** A recording cut into what a rig plays: the events before the first cycle, and each cycle's events. */
export interface RecordedCycles {
  readonly prelude: readonly SourceEvent[];
  readonly cycles: readonly (readonly SourceEvent[])[];
  /** The recorded sample id of each cycle (its first frame's `sample`, or '' ). */
  readonly samples: readonly string[];
}

/**
 * Cuts source events into cycles with the engine's rule (signal/cycle.ts): a cycle starts at a B frame after a
 * frame that was not B or had another sample id, or at an E frame after R or idle; it runs until an idle frame
 * or the next start. Link events between cycles go with the next cycle; events before the first cycle (the
 * info line) form the prelude. Idle frames are dropped: the rig makes its own while it waits.
 */
export function cutCycles(events: readonly SourceEvent[]): RecordedCycles {
  const prelude: SourceEvent[] = [];
  const cycles: SourceEvent[][] = [];
  const samples: string[] = [];
  let current: SourceEvent[] | null = null;
  let between: SourceEvent[] = [];
  let prevPhase: Phase = 'I';
  let prevSample: string | undefined;
  let inCycle = false;
  for (const event of events) {
    if (event.type !== 'frame') {
      if (inCycle) current!.push(event);
      else if (cycles.length === 0) prelude.push(event);
      else between.push(event);
      continue;
    }
    // A frame without an id (an exposure-end model's recovery frames, recorded after its verdict) is no other cycle.
    const changed = event.sample !== undefined && event.sample !== '' && prevSample !== undefined && event.sample !== prevSample;
    const starts =
      (event.phase === 'B' && (!inCycle || prevPhase !== 'B' || changed)) || (event.phase === 'E' && (!inCycle || prevPhase === 'R' || changed));
    if (starts) {
      current = [...between, event];
      between = [];
      cycles.push(current);
      samples.push(event.sample ?? '');
      inCycle = true;
    } else if (inCycle && (event.phase === 'I' || changed)) {
      inCycle = false;
    } else if (inCycle) {
      current!.push(event);
    }
    prevPhase = event.phase;
    if (event.sample !== '' || event.phase === 'I') prevSample = event.sample;
  }
  return { prelude, cycles, samples };
}

export interface ReplayRigOptions {
  /** Pace of a cycle: `max`, `realtime`, or a speed-up factor. @default 'realtime' */
  readonly speed?: ReplaySpeed;
  /** Milliseconds between idle frames while waiting for START (at least 50). @default 1000 / (rateHz x speed), 1000 at max */
  readonly idleEveryMs?: number;
  /** Longest pause between two frames of a cycle, in recorded time (a long gap is not waited out). @default 5000 */
  readonly maxStepMs?: number;
}

export interface ReplayRig extends FrameSource, CycleEnding {
  /** Cycles in the recording. */
  readonly cycleCount: number;
  /** Index of the cycle the next START plays. */
  readonly nextCycle: number;
  /** Recorded sample id of each cycle. */
  readonly samples: readonly string[];
}

const UINT32 = 4294967296;

/** A rig made of recorded source events (a replay source's output, info first). */
export function createReplayRig(events: readonly SourceEvent[], description: string, options: ReplayRigOptions = {}): ReplayRig {
  const speed = options.speed ?? 'realtime';
  const factor = speed === 'max' ? Infinity : speed === 'realtime' ? 1 : speed;
  if (!(factor > 0)) throw new EnoseError('bad-option', `replay speed ${String(speed)} is not max, realtime or a positive number`);
  const { prelude, cycles, samples } = cutCycles(events);
  const found = prelude.find((e): e is Extract<SourceEvent, { type: 'info' }> => e.type === 'info');
  if (!found) throw new EnoseError('bad-data', `${description}: the recording has no rig info before its first cycle`);
  const info = found;
  const rateHz = info.rateHz > 0 ? info.rateHz : 10;
  const idleEveryMs = Math.max(50, options.idleEveryMs ?? (factor === Infinity ? 1000 : 1000 / (rateHz * factor)));
  const maxStepMs = options.maxStepMs ?? 5000;

  // Where each recorded cycle was ended: the last frame before its END ack, or null for a full cycle.
  const endOf = cycles.map((cycle) => {
    let last: FrameEvent | null = null;
    for (const e of cycle) {
      if (e.type === 'frame') last = e;
      else if (e.type === 'ack' && e.command === 'END' && e.ok) return { phase: last?.phase ?? null, seq: last?.seq ?? null };
    }
    return null;
  });
  let next = 0;
  let inPlay = -1;
  let running = false;
  let startRequested = false;
  let stopRequested = false;
  let playing = false;
  let wake: (() => void) | null = null;
  const poke = () => {
    const w = wake;
    wake = null;
    w?.();
  };

  async function run(emit: (event: SourceEvent) => void, signal: AbortSignal): Promise<void> {
    if (running) throw new EnoseError('bad-usage', `${description}: run() called while it is already running`);
    running = true;
    const onAbort = () => poke();
    signal.addEventListener('abort', onAbort);
    let lastFrame: FrameEvent | null = null;
    const idle = () => {
      const values = lastFrame?.values ?? firstValues(cycles, info.channels.length);
      const seq = lastFrame ? (lastFrame.seq + 1) % UINT32 : 0;
      const tMs = lastFrame ? (lastFrame.tMs + Math.round(1000 / rateHz)) % UINT32 : 0;
      const frame: FrameEvent = { type: 'frame', atMs: performance.now(), seq, tMs, phase: 'I', values, sample: '' };
      lastFrame = frame;
      emit(frame);
    };
    try {
      for (const event of prelude) emit({ ...event, atMs: performance.now() } as SourceEvent);
      while (!signal.aborted) {
        if (startRequested) {
          startRequested = false;
          emit({ type: 'ack', atMs: performance.now(), command: 'START', ok: true, detail: '' });
          playing = true;
          const cycle = cycles[next];
          inPlay = next;
          next = (next + 1) % cycles.length;
          lastFrame = (await play(cycle, emit, signal)) ?? lastFrame;
          playing = false;
          inPlay = -1;
          if (stopRequested) {
            stopRequested = false;
            emit({ type: 'ack', atMs: performance.now(), command: 'STOP', ok: true, detail: '' });
          }
          if (signal.aborted) break;
          idle(); // ends the cycle: its verdict is due now, as after the recording's own next frame
          continue;
        }
        idle();
        await new Promise<void>((resolve) => {
          wake = resolve;
          const timer = setTimeout(poke, idleEveryMs);
          timer.unref?.();
        });
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      running = false;
      playing = false;
    }
  }

  /** Plays one cycle paced by its rig times; returns its last frame. */
  async function play(cycle: readonly SourceEvent[], emit: (event: SourceEvent) => void, signal: AbortSignal): Promise<FrameEvent | null> {
    let last: FrameEvent | null = null;
    let dueMs = performance.now();
    let sinceYield = 0;
    for (const event of cycle) {
      if (signal.aborted || stopRequested) return last;
      if (event.type === 'frame') {
        if (last && factor !== Infinity) {
          const stepMs = Math.min(maxStepMs, (event.tMs - last.tMs + UINT32) % UINT32);
          dueMs += stepMs / factor;
          const waitMs = dueMs - performance.now();
          if (waitMs >= 1) {
            try {
              await sleep(waitMs, undefined, { signal });
            } catch {
              return last;
            }
            if (stopRequested) return last;
          }
        } else if (++sinceYield >= 1000) {
          sinceYield = 0;
          await new Promise((resolve) => setImmediate(resolve));
        }
        last = { ...event, atMs: performance.now() };
        emit(last);
      } else {
        emit({ ...event, atMs: performance.now() } as SourceEvent);
      }
    }
    return last;
  }

  async function send(command: RigCommand): Promise<void> {
    switch (command.command) {
      case 'START':
        if (cycles.length === 0) throw new EnoseError('bad-data', `${description}: the recording holds no sampling cycle to play`);
        if (!running) throw new EnoseError('bad-usage', `${description}: the replay rig is not running`);
        if (playing || startRequested) throw new EnoseError('bad-usage', `${description}: a cycle is playing (the rig is busy)`);
        startRequested = true;
        poke();
        return;
      case 'STOP':
        if (playing) stopRequested = true;
        return;
      case 'INFO':
        return; // a second info line would look like a reboot to the engine
    }
  }

  function endCycle(reason: string): Promise<CycleEndResult> {
    const end = inPlay >= 0 ? endOf[inPlay] : null;
    if (inPlay < 0) return Promise.resolve(endIssue('refused', 'no cycle in play'));
    if (end === null || end === undefined) return Promise.resolve(endIssue('unsupported', `the recording ran cycle ${samples[inPlay] || inPlay} to its end: it plays as recorded`));
    return Promise.resolve({ ok: true, value: { reason, phase: end.phase, seq: end.seq, atMs: performance.now() } });
  }

  return {
    description,
    run,
    send,
    endCycle,
    get endSupported() {
      return endOf.some((end) => end !== null) ? true : null;
    },
    get cycleCount() {
      return cycles.length;
    },
    get nextCycle() {
      return next;
    },
    samples,
  };
}

function firstValues(cycles: readonly (readonly SourceEvent[])[], channels: number): Float64Array {
  for (const cycle of cycles) for (const e of cycle) if (e.type === 'frame') return e.values;
  return new Float64Array(channels);
}

export interface OpenReplayRigOptions extends ReplayRigOptions {
  /** Host-timed phases of a frames CSV without a `phase` column: seconds of baseline per sample. @default 30 */
  readonly baselineS?: number;
}

/** A replay rig read from a recording folder or frames CSV, and what was tolerated while reading it. */
export interface OpenedReplayRig {
  readonly rig: ReplayRig;
  readonly warnings: readonly DataIssue[];
}

/**
 * Reads a recording (a `watch --record` or `simulate` folder, or a frames CSV) into a replay rig: a FrameSource
 * that answers START with the recording's next cycle. A file that cannot be read, or holds no cycle, is an
 * `{ ok: false }` value.
 */
export async function openReplayRig(path: string, options: OpenReplayRigOptions = {}): Promise<Result<OpenedReplayRig>> {
  const replay = await createReplaySource(path, { speed: 'max', ...(options.baselineS !== undefined && { baselineS: options.baselineS }) });
  if (!replay.ok) return replay;
  const events: SourceEvent[] = [];
  await replay.value.run((e) => events.push(e), new AbortController().signal);
  const description = `replay:${path}`;
  if (cutCycles(events).cycles.length === 0) return fail({ file: path, line: 0, reason: 'no sampling cycle in the recording' });
  return ok({ rig: createReplayRig(events, description, options), warnings: replay.value.warnings });
}
