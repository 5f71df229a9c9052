/** What the emulated rig plays (`enose emulate-rig`): its channels and its cycles, from the simulator or a recording. */
import type { Phase } from '../types.js';

/** One frame's content; seq and t_ms are the emulator's. */
export interface ScriptFrame {
  readonly phase: Phase;
  readonly values: Float64Array;
}

/** One sampling cycle the rig can run. */
export interface ScriptCycle {
  readonly sample: string;
  readonly label: string;
  frames(): Iterator<ScriptFrame>;
}

/** Where the rig's readings come from (the simulator, a recording): its channels and its cycles in order. */
export interface RigScript {
  readonly channels: readonly string[];
  readonly unit: 'ohm' | 'adc';
  /** Values of idle frames before the first cycle (afterwards the last frame's values are held). */
  readonly idleValues: Float64Array;
  /** The next cycle, or null when there is none left. */
  nextCycle(): ScriptCycle | null;
}
