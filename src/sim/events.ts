/** The simulator as a stream of source events, as a rig and a labelled recording would deliver them. */
import type { Phase, RigInfo, SourceEvent } from '../types.js';
import type { Simulation } from './simulate.js';

/**
 * A simulated rig's name. Its sensor units (and their drift) are drawn from the rig id and the rig seed, so the
 * name carries both and two different rigs never share one: the default id with rig seed s is `SIM<s>` (the
 * shipped models' training rig, seed 1, stays `SIM1`); another id X is `X-s<s>`.
 */
export function simulatedRigName(options: { readonly rigId: string; readonly rigSeed: number }): string {
  return options.rigId === 'SIM1' ? `SIM${options.rigSeed}` : `${options.rigId}-s${options.rigSeed}`;
}

/** The rig info line of a simulated rig. */
export function simulatedRigInfo(sim: Simulation): RigInfo {
  return { proto: 'ENL/1', rig: simulatedRigName(sim.options), fw: 'sim', rateHz: sim.rig.rateHz, unit: sim.rig.unit, channels: [...sim.rig.channels] };
}

export interface SimulationEventOptions {
  /** Attach each cycle's sample id and label to its frames, as a labelled recording does. @default true */
  readonly hints?: boolean;
  /**
   * One frame event and one values buffer reused for every frame (valid only until the next one): for a consumer
   * that reads each frame at once and keeps none of it, e.g. the engine core in feature-only mode (training).
   * A port day then allocates nothing per frame. @default false
   */
  readonly reuse?: boolean;
}

/**
 * Info, then every frame of every cycle, lazily (a port day is never held in memory). With hints, a cycle's
 * frames carry `sample` (the simulator's `d<day>-<k>`) and `label` (`clear` or the substance).
 */
export function* simulationEvents(sim: Simulation, options: SimulationEventOptions = {}): Generator<SourceEvent> {
  const hints = options.hints ?? true;
  yield { type: 'info', atMs: 0, ...simulatedRigInfo(sim) };
  if (options.reuse === true) return yield* reusedFrameEvents(sim, hints);
  for (const cycle of sim.cycles()) {
    const sample = cycle.truth.sample;
    const label = cycle.truth.label;
    for (const frame of cycle.frames()) {
      if (hints) {
        const inCycle = frame.phase !== 'I';
        yield { type: 'frame', atMs: 0, seq: frame.seq, tMs: frame.tMs, phase: frame.phase, values: frame.values, sample: inCycle ? sample : '', label: inCycle ? label : '' };
      } else {
        yield { type: 'frame', atMs: 0, seq: frame.seq, tMs: frame.tMs, phase: frame.phase, values: frame.values };
      }
    }
  }
}

interface MutableFrameEvent {
  type: 'frame';
  atMs: number;
  seq: number;
  tMs: number;
  phase: Phase;
  values: Float64Array;
  sample: string | undefined;
  label: string | undefined;
}

/** The frames of `simulationEvents` with `reuse`: one event object, updated in place, and the renderer's own buffer. */
function* reusedFrameEvents(sim: Simulation, hints: boolean): Generator<SourceEvent> {
  const event: MutableFrameEvent = { type: 'frame', atMs: 0, seq: 0, tMs: 0, phase: 'B', values: new Float64Array(0), sample: undefined, label: undefined };
  const out = event as SourceEvent;
  for (const cycle of sim.cycles()) {
    const sample = hints ? cycle.truth.sample : undefined;
    const label = hints ? cycle.truth.label : undefined;
    for (const frame of cycle.frames({ reuse: true })) {
      const inCycle = frame.phase !== 'I';
      event.seq = frame.seq;
      event.tMs = frame.tMs;
      event.phase = frame.phase;
      event.values = frame.values;
      if (hints) {
        event.sample = inCycle ? sample : '';
        event.label = inCycle ? label : '';
      }
      yield out;
    }
  }
}
