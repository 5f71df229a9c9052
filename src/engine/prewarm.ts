/**
 * The model read back into the caches shortly before a verdict is due. Between two verdicts a rig sends some
 * 1,500 frames, and whatever else the process (or the machine) does meanwhile evicts the model's weights and its
 * novelty tree (about 1 MB for a shipped model) from the caches: the verdict then waits for main memory. Once a
 * cycle, on the first frame less than `leadS` before the verdict is due (the deciding phase's windows end), the
 * model runs once on the row of the previous predicted verdict, its results discarded; the verdict's own
 * prediction then overwrites every buffer it wrote. A model without windows (its verdict is due whenever the rig
 * ends the phase) is never warmed; nor is anything before the first predicted verdict, nor a cycle whose model
 * runs ahead on the frame that completes its windows (EngineCore's `predictAhead`: the verdict then needs no model).
 */
import { inExposureS, recoveryWindowsS, windowsOf, type ExtractorConfig } from '../signal/extractorConfig.js';
import type { CycleTracker } from '../signal/cycle.js';
import { noveltyOfLast, predictForVerdict, type CompiledModel } from '../model/runtime/pipeline.js';

/** How long before the verdict is due the model is read back: a few frames at a rig's 10 Hz. */
export const PREWARM_LEAD_S = 1;

export class ModelPrewarm {
  private readonly row: Float64Array;
  private readonly probs: Float64Array;
  /** Seconds into the deciding phase (the exposure, or the recovery) at which the verdict is due; 0: never warmed. */
  private readonly dueInPhaseS: number;
  private readonly inRecovery: boolean;
  private ready = false;
  /** Times the model was read back (one a cycle at most). */
  warmings = 0;
  private warmedCycle = -1;

  private readonly rateHz: number;

  constructor(config: ExtractorConfig, width: number, classes: number, rateHz: number) {
    this.rateHz = rateHz;
    this.row = new Float64Array(width);
    this.probs = new Float64Array(classes);
    const recoveryS = recoveryWindowsS(config);
    this.inRecovery = recoveryS > 0;
    this.dueInPhaseS = recoveryS > 0 ? recoveryS : inExposureS(config) > 0 ? inExposureS(config) : windowsOf(config) * (config.windowS ?? 0);
  }

  /** The row of a predicted verdict: the next cycle warms the model on it. */
  remember(row: Float64Array): void {
    this.row.set(row);
    this.ready = true;
  }

  /** After a frame was placed: runs the model once when this cycle's verdict is due within `PREWARM_LEAD_S`. */
  afterFrame(t: CycleTracker, model: CompiledModel): void {
    if (!this.ready || this.dueInPhaseS <= 0 || this.warmedCycle === t.firstSeq) return;
    const inPhaseS = this.inRecovery ? (t.role === 'recovery' ? t.framesR / this.rateHz : -1) : t.role === 'exposure' ? t.exposureS : -1;
    if (inPhaseS < this.dueInPhaseS - PREWARM_LEAD_S) return;
    this.warmedCycle = t.firstSeq;
    this.warmings++;
    predictForVerdict(model, this.row, 0, this.probs);
    noveltyOfLast(model);
  }
}
