/** The simulator as a stream of source events, as a rig and a labelled recording would deliver them. */
import type { RigInfo, SourceEvent } from '../types.js';
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
}

/**
 * Info, then every frame of every cycle, lazily (a port day is never held in memory). With hints, a cycle's
 * frames carry `sample` (the simulator's `d<day>-<k>`) and `label` (`clear` or the substance).
 */
export function* simulationEvents(sim: Simulation, options: SimulationEventOptions = {}): Generator<SourceEvent> {
  const hints = options.hints ?? true;
  yield { type: 'info', atMs: 0, ...simulatedRigInfo(sim) };
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
