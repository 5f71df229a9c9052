/** Runs recorded frames through the engine core with a model: the verdicts a live engine would have given. */
import type { ModelBundle } from '../model/runtime/bundle.js';
import type { JudgedSample } from '../model/fitting/evaluation.js';
import type { VerdictEvent } from '../types.js';
import { EngineCore } from './core.js';
import type { TrainingRecording } from './training.js';

export interface JudgedRecordings {
  readonly samples: JudgedSample[];
  readonly verdicts: VerdictEvent[];
  /** Verdicts without a label (cycles outside the labelled samples): not scored. */
  readonly unlabelled: number;
  /** The rig warnings (`rig-mismatch` events) of the recordings, in order: at most one a recording. */
  readonly rigWarnings: string[];
}

export function judgeRecordings(bundle: ModelBundle, recordings: readonly TrainingRecording[]): JudgedRecordings {
  const samples: JudgedSample[] = [];
  const verdicts: VerdictEvent[] = [];
  let unlabelled = 0;
  const rigWarnings: string[] = [];
  for (const recording of recordings) {
    const core = new EngineCore(bundle, { emitFrames: false }, (e) => {
      if (e.type === 'rig-mismatch') rigWarnings.push(`${recording.group}: ${e.message}`);
      if (e.type !== 'verdict') return;
      verdicts.push(e);
      if (e.label === undefined) {
        unlabelled++;
        return;
      }
      samples.push({ sample: e.sample, label: e.label, group: recording.group, predicted: e.class, verdict: e.verdict, reasons: e.reasons });
    });
    for (const event of recording.events) core.push(event);
    core.end();
  }
  return { samples, verdicts, unlabelled, rigWarnings };
}
