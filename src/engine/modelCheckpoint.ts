/**
 * Where and when a model decides in the cycle its features were made for (issue 22): inside the exposure (a
 * `decideInExposure` model: when its last window completes), when the exposure ends, inside the recovery (a
 * `decideInRecovery` model: when its last recovery window completes), or when the recovery ends;
 * and the seconds into the cycle that is, from the baseline and the windows its extractor settings name, on the
 * cycle whose phases those windows fill (the default cycle for the shipped models: 30 s baseline, six 10 s windows
 * of the exposure, six of the recovery: 90 s and 150 s). Inside the exposure the time is exact whatever the
 * exposure's length (three 10 s windows: 60 s); at a phase's end it holds only where the windows fill the phase,
 * so an early plan checks exposure-end checkpoints against the exposure's end its final model says instead.
 */
import type { ModelBundle } from '../model/runtime/bundle.js';
import { decidesAfterRecovery, inExposureS, inRecoveryS, recoveryWindowsS } from '../signal/features.js';
import { windowsOf } from '../signal/extractorConfig.js';
import type { VerdictCheckpoint } from '../types.js';
import { extractorOf } from './modelExtractor.js';

export interface ModelCheckpoint {
  /** The checkpoint at which the model judges a cycle that runs its course. */
  readonly checkpoint: Extract<VerdictCheckpoint, 'in-exposure' | 'exposure-end' | 'in-recovery' | 'recovery-end'>;
  /** Seconds into the cycle of that checkpoint, or null where the settings do not say (no exposure windows). */
  readonly atS: number | null;
  /** Seconds into the exposure of an `in-exposure` checkpoint (null for the others). */
  readonly exposureS: number | null;
  /** Seconds of recovery the model's recovery windows cover (0 for a model that decides before the recovery). */
  readonly recoveryS: number;
}

/** The model's checkpoint; throws EnoseError('model-mismatch') for a model the engine cannot run (extractorOf). */
export function modelCheckpoint(model: ModelBundle): ModelCheckpoint {
  const e = extractorOf(model);
  const inside = inExposureS(e);
  if (inside > 0) return { checkpoint: 'in-exposure', atS: e.baselineS + inside, exposureS: inside, recoveryS: 0 };
  const exposure = windowsOf(e) * (e.windowS ?? 0);
  const after = decidesAfterRecovery(e);
  const recoveryS = after ? recoveryWindowsS(e) : 0;
  const atS = exposure > 0 ? e.baselineS + exposure + recoveryS : null;
  return { checkpoint: inRecoveryS(e) > 0 ? 'in-recovery' : after ? 'recovery-end' : 'exposure-end', atS, exposureS: null, recoveryS };
}
