/** Seeded synthetic rig streams for engine tests: info, then sampling cycles with class-dependent responses. */
import type { Phase, RigInfo, SourceEvent } from '../../src/types.js';
import { gaussian, mulberry32 } from './synthetic.js';

export const TEST_RIG: RigInfo = {
  proto: 'ENL/1',
  rig: 'T1',
  fw: 'test',
  rateHz: 10,
  unit: 'ohm',
  channels: ['g1', 'g2', 'g3', 'g4', 'temp_c', 'rh_pct'],
};

/** Relative drop of each gas channel's resistance at steady state, per class. */
export const PATTERNS: Record<string, readonly number[]> = {
  clear: [0.02, 0.01, 0.02, 0.01],
  cocaine: [0.3, 0.1, 0.05, 0.2],
  cannabis: [0.05, 0.25, 0.3, 0.05],
};

/**
 * A class whose exposure response is cocaine's, but whose vapour leaves the sensors slowly: recovery time
 * constant 80 frames against 5 for every other class. Only the recovery phase tells the two apart.
 */
export const STICKY_TWIN = 'cocaine-sticky';
const RECOVERY_TAU_FRAMES: Record<string, number> = { [STICKY_TWIN]: 80 };

export interface CycleSpec {
  readonly label: string;
  /** Frames per phase at 10 Hz. */
  readonly idle?: number;
  readonly baseline?: number;
  readonly exposure?: number;
  readonly recovery?: number;
  /** Faults: 'nan' (g2 all nan), 'stuck' (g3 constant), 'drift' (baseline rising 10%), 'disconnect' (cut mid-E),
   * 'disconnect-r' (cut 10 frames into the recovery). */
  readonly fault?: 'nan' | 'stuck' | 'drift' | 'disconnect' | 'disconnect-r' | 'humid';
}

export interface StreamOptions {
  readonly seed: number;
  readonly rig?: RigInfo;
  /** Sample ids written as hints (as a replayed recording would); otherwise none. */
  readonly withHints?: boolean;
}

/** Builds the events of a rig running the given cycles back to back. */
export function rigStream(cycles: readonly CycleSpec[], options: StreamOptions): SourceEvent[] {
  const rig = options.rig ?? TEST_RIG;
  const rand = mulberry32(options.seed);
  const normal = gaussian(rand);
  const events: SourceEvent[] = [{ type: 'info', atMs: 0, ...rig }];
  let seq = 0;
  let tMs = 1000;
  const r0 = [20000, 35000, 50000, 15000];
  cycles.forEach((spec, index) => {
    const pattern = PATTERNS[spec.label === STICKY_TWIN ? 'cocaine' : spec.label] ?? PATTERNS['clear']!;
    const tauR = RECOVERY_TAU_FRAMES[spec.label] ?? 5;
    const strength = 0.8 + 0.4 * rand();
    const phases: [Phase, number][] = [
      ['I', spec.idle ?? 5],
      ['B', spec.baseline ?? 50],
      ['E', spec.exposure ?? 100],
      ['R', spec.recovery ?? 20],
    ];
    let eFrame = 0;
    let bFrame = 0;
    let rFrame = 0;
    const sample = `cyc${index}`;
    for (const [phase, n] of phases) {
      for (let f = 0; f < n; f++) {
        if ((spec.fault === 'disconnect' && phase === 'E' && f === 40) || (spec.fault === 'disconnect-r' && phase === 'R' && f === 10)) {
          events.push({ type: 'state', atMs: 0, state: 'disconnected', detail: 'test unplug' });
          return;
        }
        const values = new Float64Array(rig.channels.length);
        for (let c = 0; c < 4; c++) {
          let base = r0[c]! * (1 + 0.002 * normal());
          if (spec.fault === 'drift' && phase === 'B') base *= 1 + (0.1 * bFrame) / (spec.baseline ?? 50);
          let v = base;
          if (phase === 'E') v = base * (1 - pattern[c]! * strength * (1 - Math.exp(-eFrame / 15)));
          // Recovery: the drop reached at the end of the exposure decays back to the baseline.
          if (phase === 'R') v = base * (1 - pattern[c]! * strength * (1 - Math.exp(-eFrame / 15)) * Math.exp(-rFrame / tauR));
          values[c] = v;
        }
        if (spec.fault === 'nan') values[1] = NaN;
        if (spec.fault === 'stuck') values[2] = 42000;
        values[4] = 21 + 0.05 * normal();
        values[5] = (spec.fault === 'humid' ? 95 : 50) + 0.2 * normal();
        const hint = options.withHints ? { sample: phase === 'I' ? '' : sample, label: phase === 'I' ? '' : spec.label } : {};
        events.push({ type: 'frame', atMs: 0, seq, tMs, phase, values, ...hint });
        seq++;
        tMs += 100;
        if (phase === 'E') eFrame++;
        if (phase === 'B') bFrame++;
        if (phase === 'R') rFrame++;
      }
    }
  });
  return events;
}

/** Labelled training recording: the labels travel as hints, as in a recorded frames CSV. */
export function trainingStream(perClass: number, seed: number): SourceEvent[] {
  const labels = Object.keys(PATTERNS);
  const cycles: CycleSpec[] = [];
  for (let i = 0; i < perClass; i++) for (const label of labels) cycles.push({ label });
  return rigStream(cycles, { seed, withHints: true });
}
